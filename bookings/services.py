"""Writes of the booking workflow (SPEC §4.2).

`submit_booking()` creates a booking; `change_booking_status()` is the only writer of
`Booking.status`, driven by the TRANSITIONS table below. Both run in one transaction, call
the red-packet service inside it and message people through WeChat only after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import nh3
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Follower, OrgUnit
from bookings import selectors
from bookings.models import Booking, BookingEvent, BookingPhoto, Package
from bookings.photos import ProcessedPhoto, delete_photo, new_token, write_photo
from redpackets.services import create_grant_for_booking
from wechat.notify import send_template_on_commit

Status = Booking.Status

# Rate limit of submissions per follower: at most LIMIT bookings per WINDOW seconds (overridable
# in settings as BOOKING_SUBMIT_LIMIT / BOOKING_SUBMIT_WINDOW).
SUBMIT_LIMIT = 5
SUBMIT_WINDOW = 600
# WeChat shows at most 20 characters of a template keyword (one line); longer is cut by WeChat.
KEYWORD_MAX = 20


class BookingError(Exception):
    """Base of what the booking services refuse; `str(exc)` is a Chinese message for the user."""


class BookingTransitionError(BookingError):
    """The action is not allowed from the booking's current status (or someone changed it first)."""


class BookingPermissionError(BookingError):
    """The actor may not take this action on this booking."""


class BookingValidationError(BookingError):
    """The input is incomplete (e.g. a rejection without a reason)."""


class BookingRateLimited(BookingError):
    """Too many submissions by one follower in a short time."""


class Action(models.TextChoices):
    ACCEPT = "accept", "受理成功"
    REJECT = "reject", "受理失败"
    UNREACHABLE = "unreachable", "联系不上"
    COMPLETE = "complete", "已办结"
    CANCEL = "cancel", "取消预约"


SUBMIT_ACTION = "submit"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    Action.ACCEPT: Transition(frozenset({Status.PENDING}), Status.ACCEPTED),
    Action.REJECT: Transition(frozenset({Status.PENDING}), Status.REJECTED),
    # The manager could not reach the customer: the booking stays pending, the attempt is counted.
    Action.UNREACHABLE: Transition(frozenset({Status.PENDING}), Status.PENDING),
    Action.COMPLETE: Transition(frozenset({Status.ACCEPTED}), Status.COMPLETED),
    Action.CANCEL: Transition(frozenset({Status.PENDING}), Status.CANCELLED),
}

DEFAULT_NOTES = {
    Action.ACCEPT: "渠道经理已受理，请留意后续办理",
    Action.REJECT: "",
    Action.UNREACHABLE: "未能联系上您，请留意来电",
    Action.COMPLETE: "业务已办结，感谢您的支持",
    Action.CANCEL: "您已取消本次预约",
}

# --- catalog ------------------------------------------------------------------------------

INTRO_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "span", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
INTRO_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"}}


def sanitize_intro_html(html: str) -> str:
    """Package introductions are typed by staff but shown to every customer: keep only harmless markup."""
    return nh3.clean(
        html or "",
        tags=INTRO_TAGS,
        attributes=INTRO_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    ).strip()


# --- submission ---------------------------------------------------------------------------


def submit_limit() -> tuple[int, int]:
    return (
        getattr(settings, "BOOKING_SUBMIT_LIMIT", SUBMIT_LIMIT),
        getattr(settings, "BOOKING_SUBMIT_WINDOW", SUBMIT_WINDOW),
    )


def _consume_submit_quota(follower: Follower) -> None:
    limit, window = submit_limit()
    key = f"bookings:submit-rate:{follower.pk}"
    # add() only sets the key when absent, so the window starts at the first submission.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        minutes = max(1, window // 60)
        raise BookingRateLimited(f"提交过于频繁：{minutes}分钟内最多提交{limit}次预约，请稍后再试")


def _keyword(value: str) -> str:
    value = (value or "").replace("\n", " ").strip()
    return value if len(value) <= KEYWORD_MAX else value[: KEYWORD_MAX - 1] + "…"


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _notify_new_booking(booking: Booking) -> list[str]:
    """Template message to whoever handles the booking; its link opens the manager's booking page."""
    openids = selectors.notification_openids(booking)
    url = settings.SITE_URL + reverse("bookings:manage", args=[booking.pk])
    data = {
        "character_string1": _keyword(booking.number),
        "thing2": _keyword(booking.package.name),
        "thing3": _keyword(booking.name or booking.follower.display_name),
        "time4": _local(booking.submitted_at),
    }
    for openid in openids:
        send_template_on_commit(
            openid=openid,
            template=settings.WECHAT_TEMPLATE_BOOKING_NEW,
            data=data,
            url=url,
            idempotency_key=f"booking:{booking.pk}:new:{openid}",
        )
    return openids


def _store_for(follower: Follower, manager: Follower | None) -> OrgUnit | None:
    if follower.store_id:
        return follower.store
    if manager is not None and manager.org_unit is not None and manager.org_unit.kind == OrgUnit.Kind.STORE:
        return manager.org_unit
    return None


def submit_booking(
    *,
    follower: Follower,
    package: Package,
    data: dict[str, str],
    photos: Sequence[ProcessedPhoto] = (),
    submit_token: str = "",
) -> tuple[Booking, bool]:
    """Create a booking for `follower`; return (booking, created).

    A repeated `submit_token` (double tap, resubmitted form) returns the existing booking
    with created=False. The booking goes to the follower's channel manager at this moment,
    if he still is one; otherwise it is unassigned and the fallback recipients are told.
    Raises BookingValidationError (inactive package, photo count) and BookingRateLimited.
    """
    submit_token = (submit_token or "")[:64]
    if submit_token:
        existing = Booking.objects.filter(follower=follower, submit_token=submit_token).first()
        if existing is not None:
            return existing, False
    if not package.is_active:
        raise BookingValidationError("该套餐已下架，暂不能预约")
    max_photos = min(package.max_photos, settings.BOOKING_PHOTO_MAX_COUNT)
    if len(photos) > max_photos:
        raise BookingValidationError(f"最多上传{max_photos}张照片")
    if package.photos_required and not photos:
        raise BookingValidationError("请上传照片")
    _consume_submit_quota(follower)

    fields = {name: (data.get(name) or "").strip() for name in Package.Field.values}
    written: list[str] = []
    try:
        with transaction.atomic():
            # Lock the follower so a concurrent reassignment is either before or after us.
            locked = Follower.objects.select_for_update().get(pk=follower.pk)
            manager = None
            if locked.channel_manager_id:
                manager = Follower.objects.select_related("org_unit").get(pk=locked.channel_manager_id)
                if not manager.is_channel_manager:
                    manager = None
            try:
                with transaction.atomic():
                    booking = Booking.objects.create(
                        follower=locked,
                        package=package,
                        channel_manager=manager,
                        store=_store_for(locked, manager),
                        submit_token=submit_token,
                        **fields,
                    )
            except IntegrityError:
                if not submit_token:
                    raise
                # The other tap won the race on the unique constraint.
                return Booking.objects.get(follower=follower, submit_token=submit_token), False
            for photo in photos:
                token = new_token()
                write_photo(token, photo.data)
                written.append(token)
                BookingPhoto.objects.create(
                    booking=booking,
                    token=token,
                    content_type=photo.content_type,
                    width=photo.width,
                    height=photo.height,
                    size=len(photo.data),
                )
            BookingEvent.objects.create(
                booking=booking,
                from_status="",
                to_status=Status.PENDING,
                action=SUBMIT_ACTION,
                actor_follower=locked,
            )
            create_grant_for_booking(booking=booking, trigger="submitted")
            _notify_new_booking(booking)
    except BaseException:
        for token in written:
            delete_photo(token)
        raise
    return booking, True


# --- status changes -----------------------------------------------------------------------


def _notify_customer(booking: Booking, event: BookingEvent) -> None:
    url = settings.SITE_URL + reverse("bookings:detail", args=[booking.pk])
    status_text = Booking.Status(event.to_status).label
    if event.action == Action.UNREACHABLE:
        status_text = "联系不上"
    send_template_on_commit(
        openid=booking.follower.openid,
        template=settings.WECHAT_TEMPLATE_BOOKING_STATUS,
        data={
            "character_string1": _keyword(booking.number),
            "thing2": _keyword(booking.package.name),
            "phrase3": _keyword(status_text),
            "thing4": _keyword(event.note or DEFAULT_NOTES.get(event.action, "") or status_text),
            "time5": _local(event.created_at),
        },
        url=url,
        idempotency_key=f"booking:{booking.pk}:event:{event.pk}:customer",
    )


def _notify_handlers_of_cancel(booking: Booking, event: BookingEvent) -> None:
    """The manager (or the fallback recipients) must not phone a customer who has cancelled."""
    url = settings.SITE_URL + reverse("bookings:manage", args=[booking.pk])
    for openid in selectors.notification_openids(booking):
        send_template_on_commit(
            openid=openid,
            template=settings.WECHAT_TEMPLATE_BOOKING_STATUS,
            data={
                "character_string1": _keyword(booking.number),
                "thing2": _keyword(booking.package.name),
                "phrase3": "客户已取消",
                "thing4": _keyword(f"{booking.name or booking.follower.display_name}已取消预约，无需再联系"),
                "time5": _local(event.created_at),
            },
            url=url,
            idempotency_key=f"booking:{booking.pk}:event:{event.pk}:handler:{openid}",
        )


def change_booking_status(
    *,
    booking_id: int,
    action: str,
    actor_follower: Follower | None = None,
    actor_user=None,
    note: str = "",
) -> Booking:
    """Apply `action` (an Action value) to the booking and return it refreshed.

    Checks who may act (bookings.selectors), that the action is allowed from the current
    status, writes the status with a conditional update (so of two concurrent changes exactly
    one wins), a timeline row, the accepted-booking grant, and notifies the customer on commit.
    Raises Booking.DoesNotExist, BookingPermissionError, BookingTransitionError,
    BookingValidationError.
    """
    if action not in TRANSITIONS:
        raise BookingValidationError("未知的操作")
    if actor_follower is None and actor_user is None:
        raise BookingPermissionError("缺少操作人")
    action = Action(action)
    note = (note or "").strip()
    if action == Action.REJECT and not note:
        raise BookingValidationError("请填写受理失败的原因")
    if len(note) > 200:
        raise BookingValidationError("备注请不超过200字")
    rule = TRANSITIONS[action]

    with transaction.atomic():
        # The row lock makes a concurrent change wait, then see the status it left behind.
        booking = Booking.objects.select_for_update(of=("self",)).select_related("channel_manager").get(pk=booking_id)
        if not selectors.can_act(booking, action, follower=actor_follower, user=actor_user):
            raise BookingPermissionError("您无权对该预约执行此操作")
        old = booking.status
        if old not in rule.sources:
            raise BookingTransitionError(
                f"该预约当前为「{booking.get_status_display()}」，不能执行「{action.label}」，请刷新页面查看最新状态"
            )
        now = timezone.now()
        changes: dict = {"status": rule.target, "updated_at": now}
        if action == Action.ACCEPT:
            changes["accepted_at"] = now
        elif action == Action.REJECT:
            changes["reject_reason"] = note
            changes["closed_at"] = now
        elif action in (Action.COMPLETE, Action.CANCEL):
            changes["closed_at"] = now
        elif action == Action.UNREACHABLE:
            changes["contact_attempts"] = F("contact_attempts") + 1
        # Conditional on the old status: belt and braces with the lock above.
        if Booking.objects.filter(pk=booking.pk, status=old).update(**changes) != 1:
            raise BookingTransitionError("该预约刚刚已被其他人处理，请刷新页面查看最新状态")
        event = BookingEvent.objects.create(
            booking=booking,
            from_status=old,
            to_status=rule.target,
            action=action,
            note=note,
            actor_follower=actor_follower,
            actor_user=actor_user,
        )
        booking = Booking.objects.select_related("package", "follower", "channel_manager").get(pk=booking.pk)
        if action == Action.ACCEPT:
            create_grant_for_booking(booking=booking, trigger="accepted")
        _notify_customer(booking, event)
        if action == Action.CANCEL:
            _notify_handlers_of_cancel(booking, event)
    return booking
