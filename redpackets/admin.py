"""Back office for red packets: rules, settings, grants, claims, refusals and the ledger.

Actions parse the staff input, ask for confirmation and call one service each.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from backoffice.admin_exports import export_response
from backoffice.templatetags.money import fen_to_yuan_text

from . import selectors, services
from .forms import RedPacketSettingsForm, RewardRuleForm
from .models import Claim, Grant, GrantRefusal, LedgerEntry, RedPacketSettings, RewardRule, SandboxRedPack


def _confirm(modeladmin, request, queryset, *, action: str, title: str, need_reason: bool, reason_label: str = ""):
    """Render the confirmation page of an action (with an optional reason field)."""
    return TemplateResponse(
        request,
        "admin/redpackets/confirm_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": [(obj.pk, modeladmin.describe(obj)) for obj in queryset],
            "total_yuan": fen_to_yuan_text(sum(obj.amount_fen for obj in queryset)),
            "action": action,
            "need_reason": need_reason,
            "reason_label": reason_label,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(RewardRule)
class RewardRuleAdmin(admin.ModelAdmin):
    form = RewardRuleForm
    list_display = ("trigger", "amount_yuan", "is_active", "updated_at")
    list_editable = ("is_active",)

    @admin.display(description="金额（元）")
    def amount_yuan(self, obj):
        return fen_to_yuan_text(obj.amount_fen)


@admin.register(RedPacketSettings)
class RedPacketSettingsAdmin(admin.ModelAdmin):
    form = RedPacketSettingsForm
    fields = ("total_budget_yuan", "duplicate_window_hours", "daily_cap_yuan", "lifetime_cap_yuan")
    list_display = ("__str__", "budget_yuan", "duplicate_window_hours", "daily_cap_yuan", "lifetime_cap_yuan")

    def has_add_permission(self, request):
        return not RedPacketSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="总预算（元）")
    def budget_yuan(self, obj):
        return fen_to_yuan_text(obj.total_budget_fen) if obj.total_budget_fen else "不限"

    @admin.display(description="每人每日上限（元）")
    def daily_cap_yuan(self, obj):
        return fen_to_yuan_text(obj.daily_cap_fen) if obj.daily_cap_fen else "不限"

    @admin.display(description="每人累计上限（元）")
    def lifetime_cap_yuan(self, obj):
        return fen_to_yuan_text(obj.lifetime_cap_fen) if obj.lifetime_cap_fen else "不限"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: staff look, they do not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TotalsMixin:
    """Show the totals of the filtered changelist above the results, and export what it shows."""

    change_list_template = "admin/redpackets/change_list_totals.html"
    totals_function = None

    def get_urls(self):
        name = f"redpackets_{self.model._meta.model_name}_export"
        return [path("export/", self.admin_site.admin_view(self.export_view), name=name), *super().get_urls()]

    def export_view(self, request):
        """Export everything the change list currently shows (its filters and search), SPEC §3 columns."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("format", "xlsx")
        if fmt not in ("csv", "xlsx"):
            fmt = "xlsx"
        params = request.GET.copy()
        params.pop("format", None)
        request.GET = params
        changelist = self.get_changelist_instance(request)
        label = f"{self.model._meta.verbose_name}"
        return export_response(
            request, name="redpackets", fmt=fmt, queryset=changelist.get_queryset(request), label=label
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if cl is not None:
            response.context_data["totals"] = type(self).totals_function(cl.queryset)
            response.context_data["totals_kind"] = self.model._meta.model_name
        return response


@admin.register(Grant)
class GrantAdmin(TotalsMixin, ReadOnlyAdmin):
    totals_function = staticmethod(selectors.grant_totals)
    list_display = (
        "id",
        "follower",
        "booking",
        "trigger",
        "amount_yuan",
        "claimed_yuan",
        "status",
        "created_at",
    )
    list_filter = ("status", "trigger", ("created_at", admin.DateFieldListFilter))
    search_fields = ("follower__openid", "follower__nickname", "booking__number", "booking__phone")
    list_select_related = ("follower", "booking")
    date_hierarchy = "created_at"
    actions = ["void_selected", "export_selected"]
    readonly_fields = [f.name for f in Grant._meta.fields]

    @admin.display(description="金额（元）", ordering="amount_fen")
    def amount_yuan(self, obj):
        return fen_to_yuan_text(obj.amount_fen)

    def describe(self, obj) -> str:
        return (
            f"#{obj.pk} · 预约 {obj.booking.number} · {obj.get_trigger_display()} · ¥{fen_to_yuan_text(obj.amount_fen)}"
            f" · 已领 ¥{fen_to_yuan_text(obj.claimed_fen)} · {obj.follower}"
        )

    @admin.display(description="已领（元）", ordering="claimed_fen")
    def claimed_yuan(self, obj):
        return fen_to_yuan_text(obj.claimed_fen)

    def has_void_permission(self, request):
        # The rows are never edited in a form (a full save could overwrite claimed_fen); staff
        # with the change permission may only run the action, which goes through the service.
        return request.user.has_perm("redpackets.change_grant")

    @admin.action(description="作废所选红包（仅限未领取、预约已拒绝或取消）", permissions=["void"])
    def void_selected(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return _confirm(
                self,
                request,
                queryset,
                action="void_selected",
                title="作废红包",
                need_reason=True,
                reason_label="作废原因",
            )
        reason = request.POST.get("reason", "")
        done = 0
        for grant in queryset:
            try:
                services.void_grant(grant=grant, actor=request.user, reason=reason)
                self.log_change(request, grant, f"作废红包：{reason.strip()}")
                done += 1
            except services.VoidError as exc:
                self.message_user(request, f"红包 #{grant.pk}：{exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"已作废 {done} 个红包", messages.SUCCESS)
        return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="导出所选（发放记录）")
    def export_selected(self, request, queryset):
        return export_response(request, name="redpackets", fmt="csv", queryset=queryset, label="红包发放记录")


@admin.register(Claim)
class ClaimAdmin(TotalsMixin, ReadOnlyAdmin):
    totals_function = staticmethod(selectors.claim_totals)
    list_display = (
        "bill_no",
        "follower",
        "booking_number",
        "amount_yuan",
        "provider",
        "status",
        "attempts",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "provider", ("created_at", admin.DateFieldListFilter))
    search_fields = ("bill_no", "provider_ref", "follower__openid", "follower__nickname", "grant__booking__number")
    list_select_related = ("follower", "grant__booking")
    date_hierarchy = "created_at"
    actions = ["mark_paid", "mark_failed", "export_manual_batch", "export_selected"]
    readonly_fields = [f.name for f in Claim._meta.fields]

    def describe(self, obj) -> str:
        return (
            f"{obj.bill_no} · {obj.follower} · ¥{fen_to_yuan_text(obj.amount_fen)}"
            f" · {obj.get_provider_display()} · {obj.get_status_display()}"
        )

    @admin.display(description="预约编号", ordering="grant__booking__number")
    def booking_number(self, obj):
        return obj.grant.booking.number

    @admin.display(description="金额（元）", ordering="amount_fen")
    def amount_yuan(self, obj):
        return fen_to_yuan_text(obj.amount_fen)

    def has_mark_permission(self, request):
        # Finance marks payouts through the service only; the rows themselves stay read-only.
        return request.user.has_perm("redpackets.change_claim")

    @admin.action(description="标记为已打款（人工打款）", permissions=["mark"])
    def mark_paid(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return _confirm(
                self,
                request,
                queryset,
                action="mark_paid",
                title="确认已打款",
                need_reason=False,
                reason_label="打款流水号（选填，如翼支付交易号）",
            )
        reference = request.POST.get("reason", "")
        done = 0
        for c in queryset:
            try:
                services.mark_claim_paid(claim=c, actor=request.user, reference=reference)
                self.log_change(request, c, f"标记已打款：{reference.strip() or '人工打款'}")
                done += 1
            except services.PayoutMarkError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if done:
            self.message_user(request, f"已标记 {done} 笔为已打款", messages.SUCCESS)
        return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="标记为打款失败（金额退回用户可重新领取）", permissions=["mark"])
    def mark_failed(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            return _confirm(
                self,
                request,
                queryset,
                action="mark_failed",
                title="确认打款失败",
                need_reason=True,
                reason_label="失败原因",
            )
        reason = request.POST.get("reason", "")
        done = 0
        for c in queryset:
            try:
                services.mark_claim_failed(claim=c, actor=request.user, reason=reason)
                self.log_change(request, c, f"标记打款失败：{reason.strip()}")
                done += 1
            except services.PayoutMarkError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if done:
            self.message_user(request, f"已标记 {done} 笔为打款失败", messages.SUCCESS)
        return HttpResponseRedirect(request.get_full_path())

    @admin.action(description="导出待人工打款名单（翼支付等）")
    def export_manual_batch(self, request, queryset):
        awaiting = queryset.filter(provider=Claim.Provider.MANUAL, status=Claim.Status.PENDING)
        return export_response(request, name="redpacket_payouts", fmt="csv", queryset=awaiting, label="待人工打款名单")

    @admin.action(description="导出所选（领取记录）")
    def export_selected(self, request, queryset):
        return export_response(request, name="redpackets", fmt="csv", queryset=queryset, label="红包领取记录")


@admin.register(GrantRefusal)
class GrantRefusalAdmin(ReadOnlyAdmin):
    list_display = ("booking", "follower", "trigger", "reason", "message", "amount_fen", "created_at")
    list_filter = ("reason", "trigger")
    search_fields = ("booking__number", "follower__openid")
    list_select_related = ("booking", "follower")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "follower",
        "grant",
        "claim",
        "amount_fen",
        "note",
        "actor",
        "actor_label",
        "created_at",
    )
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("follower__openid", "claim__bill_no", "note")
    list_select_related = ("follower", "grant", "claim", "actor")


@admin.register(SandboxRedPack)
class SandboxRedPackAdmin(ReadOnlyAdmin):
    list_display = ("mch_billno", "re_openid", "total_amount", "status", "send_calls", "created_at")
    list_filter = ("status",)
    search_fields = ("mch_billno", "re_openid")
