"""Back office for followers, QR codes, org units and the attribution history.

Attribution (referrer, channel manager, manager role) is read-only in the forms: it changes
only through `accounts.services` — the actions and the reassign / transfer views below.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import selectors, services
from accounts.models import AttributionChange, Follower, OrgUnit, QRCode
from backoffice.admin_exports import export_response

# --- forms ---------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, required=False, widget=forms.TextInput(attrs={"size": 60}))


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        flag = "" if obj.is_channel_manager else "（已取消经理）"
        return f"{obj.display_name} · {obj.openid}{flag}"


class ReassignForm(forms.Form):
    new_manager = ManagerChoiceField(
        label="新渠道经理", queryset=Follower.objects.none(), required=False, empty_label="（无渠道经理）"
    )
    reason = forms.CharField(label="调整原因", max_length=200, widget=forms.TextInput(attrs={"size": 60}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_manager"].queryset = selectors.channel_managers()


class TransferForm(forms.Form):
    from_manager = ManagerChoiceField(label="移出的渠道经理", queryset=Follower.objects.none())
    to_manager = ManagerChoiceField(label="接收的渠道经理", queryset=Follower.objects.none())
    reason = forms.CharField(label="移交原因", max_length=200, widget=forms.TextInput(attrs={"size": 60}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Former managers still own customers until they are transferred, so they are offered too.
        owners = Follower.objects.filter(channel_manager__isnull=False).values("channel_manager_id")
        self.fields["from_manager"].queryset = Follower.objects.filter(
            Q(is_channel_manager=True) | Q(pk__in=owners)
        ).order_by("nickname", "id")
        self.fields["to_manager"].queryset = selectors.channel_managers()

    def clean(self):
        data = super().clean()
        if data.get("from_manager") and data.get("from_manager") == data.get("to_manager"):
            raise forms.ValidationError("移出与接收的渠道经理不能是同一人")
        return data


# --- inlines and filters -------------------------------------------------------------------------


class AttributionChangeInline(admin.TabularInline):
    model = AttributionChange
    fk_name = "follower"
    extra = 0
    can_delete = False
    verbose_name_plural = "归属变更记录"
    fields = ("created_at", "kind", "referrer", "old_manager", "new_manager", "actor", "actor_label", "reason")
    readonly_fields = fields
    ordering = ("-id",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("referrer", "old_manager", "new_manager", "actor")


class ManagerFilter(admin.SimpleListFilter):
    """Current managers (partial index follower_is_manager_idx); any owner works via ?manager=<id>,
    which the follower page links to, so a former manager's customers stay reachable."""

    title = "渠道经理"
    parameter_name = "manager"

    def lookups(self, request, model_admin):
        managers = selectors.channel_managers().only("id", "nickname", "real_name", "openid")[:200]
        return [("none", "（无渠道经理）"), *((str(m.pk), m.display_name) for m in managers)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(channel_manager__isnull=True)
        if value and value.isdigit():
            return queryset.filter(channel_manager_id=int(value))
        return queryset


class StoreFilter(admin.SimpleListFilter):
    title = "归属门店"
    parameter_name = "store"

    def lookups(self, request, model_admin):
        stores = OrgUnit.objects.filter(kind=OrgUnit.Kind.STORE).order_by("code")[:200]
        return [("none", "（无）"), *((str(u.pk), u.name) for u in stores)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(store__isnull=True)
        if value and value.isdigit():
            return queryset.filter(store_id=int(value))
        return queryset


def _link(obj: Follower | None):
    if obj is None:
        return "-"
    url = reverse("admin:accounts_follower_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj.display_name)


# --- followers ------------------------------------------------------------------------------------


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = (
        "openid",
        "nickname",
        "phone",
        "promo_code",
        "is_subscribed",
        "is_channel_manager",
        "source",
        "referrer_link",
        "manager_link",
        "store",
        "subscribed_at",
    )
    list_display_links = ("openid", "nickname")
    # Neither the store filter nor a date hierarchy may scan the follower table on every page view:
    # stores come from the (small) org unit table, dates are fixed ranges.
    list_filter = (
        "is_subscribed",
        "is_channel_manager",
        "source",
        StoreFilter,
        ManagerFilter,
        "subscribed_at",
    )
    search_fields = ("openid", "nickname", "phone", "promo_code", "real_name")
    list_select_related = ("referrer", "channel_manager", "store")
    list_per_page = 50
    show_full_result_count = False  # COUNT(*) over a million followers on every page view is wasted work
    actions = ("make_managers", "unmake_managers", "export_csv", "export_xlsx")
    inlines = (AttributionChangeInline,)
    change_form_template = "admin/accounts/follower/change_form.html"
    change_list_template = "admin/accounts/follower/change_list.html"
    readonly_fields = (
        "openid",
        "unionid",
        "promo_code",
        "is_subscribed",
        "first_subscribed_at",
        "subscribed_at",
        "unsubscribed_at",
        "source",
        "source_qr",
        "referrer_link",
        "manager_link",
        "store",
        "attributed_at",
        "is_channel_manager",
        "downline",
        "upline_links",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        ("微信身份", {"fields": ("openid", "unionid", "nickname", "avatar_url", "promo_code")}),
        ("资料", {"fields": ("real_name", "phone", "address", "org_unit")}),
        ("关注", {"fields": ("is_subscribed", "first_subscribed_at", "subscribed_at", "unsubscribed_at")}),
        (
            "归属（只能通过“调整渠道经理”“移交客户”和设置/取消渠道经理修改）",
            {
                "fields": (
                    "source",
                    "source_qr",
                    "referrer_link",
                    "manager_link",
                    "store",
                    "attributed_at",
                    "is_channel_manager",
                    "upline_links",
                    "downline",
                )
            },
        ),
        ("记录", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="推荐人", ordering="referrer__nickname")
    def referrer_link(self, obj):
        return _link(obj.referrer)

    @admin.display(description="渠道经理", ordering="channel_manager__nickname")
    def manager_link(self, obj):
        return _link(obj.channel_manager)

    @admin.display(description="上线（推荐链）")
    def upline_links(self, obj):
        chain = selectors.upline(obj)
        if not chain:
            return "-"
        return format_html(" ← ".join(["{}"] * len(chain)), *(_link(f) for f in chain))

    @admin.display(description="下线")
    def downline(self, obj):
        counts = selectors.downline_counts(obj)
        referrals = reverse("admin:accounts_follower_changelist") + f"?referrer__id__exact={obj.pk}"
        customers = reverse("admin:accounts_follower_changelist") + f"?manager={obj.pk}"
        return format_html(
            '直接推荐 <a href="{}">{} 人</a>（关注中 {}）；名下客户 <a href="{}">{} 人</a>（关注中 {}）',
            referrals,
            counts.referrals,
            counts.subscribed_referrals,
            customers,
            counts.customers,
            counts.subscribed_customers,
        )

    def has_add_permission(self, request):
        return False  # followers come from WeChat (subscribe events, follower sync)

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would orphan referral history; unfollowers stay as records

    def lookup_allowed(self, lookup, value, request=None):
        if lookup == "referrer__id__exact":
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_urls(self):
        urls = [
            path("transfer/", self.admin_site.admin_view(self.transfer_view), name="accounts_follower_transfer"),
            path("export/", self.admin_site.admin_view(self.export_view), name="accounts_follower_export"),
            path(
                "<int:pk>/reassign/",
                self.admin_site.admin_view(self.reassign_view),
                name="accounts_follower_reassign",
            ),
        ]
        return urls + super().get_urls()

    # -- set / unset manager (actions with a confirmation page) --

    def _manager_action(self, request, queryset, *, make: bool):
        verb = "设为渠道经理" if make else "取消渠道经理"
        action = "make_managers" if make else "unmake_managers"
        if not self.has_change_permission(request):
            raise PermissionDenied
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                func = services.set_channel_manager if make else services.unset_channel_manager
                changed = sum(
                    func(follower=f, actor=request.user, reason=form.cleaned_data["reason"]) for f in queryset
                )
                unchanged = queryset.count() - changed
                self.message_user(
                    request, f"已{verb} {changed} 人" + (f"，{unchanged} 人无需改动" if unchanged else "")
                )
                return None
        else:
            form = ReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": f"确认{verb}",
            "opts": self.model._meta,
            "queryset": queryset.select_related("channel_manager"),
            "form": form,
            "action": action,
            "verb": verb,
            "make": make,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/follower/confirm_manager.html", context)

    @admin.action(description="设为渠道经理", permissions=["change"])
    def make_managers(self, request, queryset):
        return self._manager_action(request, queryset, make=True)

    @admin.action(description="取消渠道经理", permissions=["change"])
    def unmake_managers(self, request, queryset):
        return self._manager_action(request, queryset, make=False)

    # -- export --

    def _export(self, request, queryset, fmt: str):
        return export_response(request, name="followers", fmt=fmt, queryset=queryset, label="粉丝")

    @admin.action(description="导出所选粉丝（CSV）", permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description="导出所选粉丝（Excel）", permissions=["view"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    def export_view(self, request):
        """Export everything the change list currently shows (its filters and search)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("format", "xlsx")
        if fmt not in ("csv", "xlsx"):
            fmt = "xlsx"
        params = request.GET.copy()
        params.pop("format", None)
        request.GET = params
        changelist = self.get_changelist_instance(request)
        return self._export(request, changelist.get_queryset(request), fmt)

    # -- reassign one follower / transfer all customers --

    def reassign_view(self, request, pk):
        follower = get_object_or_404(Follower.objects.select_related("channel_manager", "referrer"), pk=pk)
        if not self.has_change_permission(request, follower):
            raise PermissionDenied
        form = ReassignForm(request.POST or None, initial={"new_manager": follower.channel_manager_id})
        confirming = False
        if request.method == "POST" and form.is_valid():
            new_manager = form.cleaned_data["new_manager"]
            if "confirm" in request.POST:
                try:
                    changed = services.reassign_manager(
                        follower=follower,
                        new_manager=new_manager,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except services.AttributionError as exc:
                    form.add_error(None, str(exc))
                else:
                    if changed:
                        target = new_manager.display_name if new_manager else "无"
                        self.message_user(request, f"已将 {follower.display_name} 的渠道经理调整为：{target}")
                    else:
                        self.message_user(request, "渠道经理没有变化，未做改动", messages.WARNING)
                    return HttpResponseRedirect(reverse("admin:accounts_follower_change", args=[follower.pk]))
            else:
                confirming = True
        context = {
            **self.admin_site.each_context(request),
            "title": f"调整渠道经理：{follower.display_name}",
            "opts": self.model._meta,
            "original": follower,
            "follower": follower,
            "form": form,
            "confirming": confirming,
        }
        return TemplateResponse(request, "admin/accounts/follower/reassign.html", context)

    def transfer_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        initial = {}
        if request.GET.get("from", "").isdigit():
            initial["from_manager"] = int(request.GET["from"])
        form = TransferForm(request.POST or None, initial=initial)
        confirming, count = False, 0
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if "confirm" in request.POST:
                try:
                    moved = services.transfer_customers(
                        from_manager=data["from_manager"],
                        to_manager=data["to_manager"],
                        actor=request.user,
                        reason=data["reason"],
                    )
                except services.AttributionError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.message_user(
                        request,
                        f"已将 {data['from_manager'].display_name} 名下 {moved} 位客户"
                        f"移交给 {data['to_manager'].display_name}",
                    )
                    return HttpResponseRedirect(
                        reverse("admin:accounts_follower_changelist") + f"?manager={data['to_manager'].pk}"
                    )
            else:
                confirming = True
                count = selectors.customers_of(data["from_manager"]).exclude(pk=data["to_manager"].pk).count()
        context = {
            **self.admin_site.each_context(request),
            "title": "移交客户（整体转给另一位渠道经理）",
            "opts": self.model._meta,
            "form": form,
            "confirming": confirming,
            "count": count,
        }
        return TemplateResponse(request, "admin/accounts/follower/transfer.html", context)


# --- QR codes, org units, history ------------------------------------------------------------------


@admin.register(QRCode)
class QRCodeAdmin(admin.ModelAdmin):
    list_display = ("scene", "kind", "name", "org_unit", "channel_manager", "scan_count", "follow_count", "is_active")
    list_filter = ("kind", "is_active", ("org_unit", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "follower__openid", "follower__nickname")
    list_select_related = ("org_unit", "channel_manager")
    autocomplete_fields = ("channel_manager",)
    readonly_fields = (
        "scene",
        "follower",
        "scan_count",
        "follow_count",
        "ticket",
        "url",
        "ticket_expires_at",
        "created_at",
    )
    fields = (
        "kind",
        "code",
        "scene",
        "name",
        "org_unit",
        "channel_manager",
        "is_active",
        "follower",
        "scan_count",
        "follow_count",
        "ticket",
        "url",
        "ticket_expires_at",
        "created_at",
    )
    show_full_result_count = False

    @admin.display(description="场景值")
    def scene(self, obj):
        return obj.scene

    def get_readonly_fields(self, request, obj=None):
        # Kind and code make the scene printed on posters: fixed once the code exists.
        if obj is not None:
            return ("kind", "code", *self.readonly_fields)
        return self.readonly_fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            # Personal codes belong to followers and are created with them.
            kwargs["choices"] = [c for c in QRCode.Kind.choices if c[0] != QRCode.Kind.PERSONAL]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # followers' source_qr points here; deactivate instead


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "created_at")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)


@admin.register(AttributionChange)
class AttributionChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "follower", "kind", "referrer", "old_manager", "new_manager", "actor", "reason")
    list_filter = ("kind", "created_at")
    search_fields = ("follower__openid", "follower__nickname", "reason")
    list_select_related = ("follower", "referrer", "old_manager", "new_manager", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
