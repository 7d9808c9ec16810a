"""Small display helpers for the booking pages."""

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

register = template.Library()


@register.filter
def mask_phone(value: str) -> str:
    value = value or ""
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value


@register.filter
def mask_id(value: str) -> str:
    value = value or ""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else value


@register.simple_tag(takes_context=True)
def include_if_exists(context, template_name: str):
    """Render `template_name` with the current context, or nothing when no app provides it yet."""
    try:
        tpl = get_template(template_name)
    except TemplateDoesNotExist:
        return ""
    return tpl.render(context.flatten(), context.get("request"))


STATUS_CLASSES = {
    "pending": "h5-status_pending",
    "accepted": "h5-status_accepted",
    "completed": "h5-status_done",
    "rejected": "h5-status_failed",
    "cancelled": "h5-status_muted",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "")


ACTION_LABELS = {
    "submit": "提交预约",
    "accept": "受理成功",
    "reject": "受理失败",
    "unreachable": "联系不上",
    "complete": "已办结",
    "cancel": "取消预约",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@register.filter
def status_label(status: str) -> str:
    from bookings.models import Booking

    try:
        return Booking.Status(status).label
    except ValueError:
        return status


@register.filter
def clean_html(value: str) -> str:
    """Introductions are sanitised when saved; cleaning again on display also covers rows written
    by other paths (imports, the shell) before they reach a customer's browser."""
    from django.utils.safestring import mark_safe

    from bookings.services import sanitize_intro_html

    return mark_safe(sanitize_intro_html(value))  # noqa: S308 - nh3 output is safe markup
