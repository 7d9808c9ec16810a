"""Back office for the catalog and bookings. Status changes go through bookings.services only."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html_join

from backoffice.admin_exports import export_response
from bookings import services
from bookings.models import Booking, BookingEvent, Category, NotificationRecipient, Package
from bookings.services import Action


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name",)


class PackageAdminForm(forms.ModelForm):
    form_fields = forms.MultipleChoiceField(
        label="表单字段",
        choices=Package.Field.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="客户预约时需要填写的信息；手机号必选（渠道经理需电话联系客户），备注为选填",
    )

    class Meta:
        model = Package
        fields = (
            "category", "name", "cover", "summary", "price_text", "intro_html", "form_fields",
            "photos_required", "max_photos", "photo_hint", "is_active", "sort_order",
        )  # fmt: skip
        widgets = {"intro_html": forms.Textarea(attrs={"rows": 12, "cols": 80})}

    def clean_form_fields(self) -> list[str]:
        chosen = set(self.cleaned_data["form_fields"])
        if Package.Field.PHONE not in chosen:
            raise forms.ValidationError("必须包含手机号：渠道经理需要电话联系客户")
        return [name for name in Package.Field.values if name in chosen]

    def clean_intro_html(self) -> str:
        return services.sanitize_intro_html(self.cleaned_data.get("intro_html", ""))

    def clean_max_photos(self) -> int:
        value = self.cleaned_data["max_photos"]
        if value > settings.BOOKING_PHOTO_MAX_COUNT:
            raise forms.ValidationError(f"照片数量上限不能超过系统上限 {settings.BOOKING_PHOTO_MAX_COUNT} 张")
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("photos_required") and not cleaned.get("max_photos"):
            self.add_error("max_photos", "要求上传照片时，照片数量上限至少为 1")
        return cleaned


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    form = PackageAdminForm
    list_display = ("name", "category", "price_text", "photos_required", "max_photos", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("category", "is_active", "photos_required")
    list_select_related = ("category",)
    search_fields = ("name", "summary")
    fieldsets = (
        (None, {"fields": ("category", "name", "cover", "summary", "price_text", "intro_html")}),
        ("预约表单", {"fields": ("form_fields", "photos_required", "max_photos", "photo_hint")}),
        ("上架", {"fields": ("is_active", "sort_order")}),
    )


@admin.register(NotificationRecipient)
class NotificationRecipientAdmin(admin.ModelAdmin):
    list_display = ("follower", "follower_openid", "is_active", "note")
    list_editable = ("is_active",)
    list_select_related = ("follower",)
    raw_id_fields = ("follower",)

    @admin.display(description="OpenID")
    def follower_openid(self, obj):
        return obj.follower.openid


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action_label", "from_label", "to_label", "note", "actor")
    readonly_fields = fields
    verbose_name = "进度"
    verbose_name_plural = "办理进度"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor_follower", "actor_user")

    @admin.display(description="动作")
    def action_label(self, obj):
        return Action(obj.action).label if obj.action in Action.values else "提交预约"

    @admin.display(description="原状态")
    def from_label(self, obj):
        return Booking.Status(obj.from_status).label if obj.from_status in Booking.Status.values else "—"

    @admin.display(description="新状态")
    def to_label(self, obj):
        return Booking.Status(obj.to_status).label if obj.to_status in Booking.Status.values else obj.to_status

    @admin.display(description="操作人")
    def actor(self, obj):
        if obj.actor_user_id:
            return f"后台：{obj.actor_user.get_username()}"
        if obj.actor_follower_id:
            return f"微信：{obj.actor_follower.display_name}"
        return "系统"


class BookingActionForm(ActionForm):
    note = forms.CharField(label="备注/失败原因", required=False, max_length=200)


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "package",
        "name",
        "phone",
        "status",
        "channel_manager",
        "store",
        "contact_attempts",
        "submitted_at",
        "accepted_at",
    )
    list_filter = (
        "status",
        "package",
        ("channel_manager", admin.RelatedOnlyFieldListFilter),
        ("store", admin.RelatedOnlyFieldListFilter),
        ("submitted_at", admin.DateFieldListFilter),
        ("accepted_at", admin.DateFieldListFilter),
    )
    date_hierarchy = "submitted_at"
    search_fields = ("number", "name", "phone", "follower__openid", "channel_manager__openid")
    list_select_related = ("package", "channel_manager", "store", "follower")
    list_per_page = 50
    inlines = [BookingEventInline]
    action_form = BookingActionForm
    actions = ["accept_selected", "reject_selected", "unreachable_selected", "complete_selected", "export_csv"]
    fieldsets = (
        ("预约", {"fields": ("number", "status", "package", "submitted_at", "accepted_at", "closed_at")}),
        ("客户", {"fields": ("follower", "name", "phone", "id_number", "address", "preferred_time", "remarks")}),
        ("归属", {"fields": ("channel_manager", "store")}),
        ("处理", {"fields": ("contact_attempts", "reject_reason", "photo_gallery")}),
    )
    readonly_fields = (
        "number",
        "status",
        "package",
        "submitted_at",
        "accepted_at",
        "closed_at",
        "follower",
        "name",
        "phone",
        "id_number",
        "address",
        "preferred_time",
        "remarks",
        "channel_manager",
        "store",
        "contact_attempts",
        "reject_reason",
        "photo_gallery",
    )

    def has_add_permission(self, request):
        # Bookings come from customers; the back office only processes them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="照片")
    def photo_gallery(self, obj):
        photos = list(obj.photos.all())
        if not photos:
            return "无"
        return format_html_join(
            "",
            '<a href="{0}" target="_blank"><img src="{0}" alt="" class="booking-photo"'
            ' style="height:120px;margin:0 8px 8px 0;border-radius:4px"></a>',
            ((reverse("bookings:photo", args=[p.token]),) for p in photos),
        )

    # --- status actions (all through bookings.services.change_booking_status) ---

    def _apply(self, request, queryset, action: str):
        if not request.user.has_perm("bookings.change_booking"):
            raise PermissionDenied
        note = request.POST.get("note", "")
        done, failed = 0, []
        for booking_id, number in queryset.values_list("pk", "number"):
            try:
                services.change_booking_status(booking_id=booking_id, action=action, actor_user=request.user, note=note)
                done += 1
            except services.BookingError as exc:
                failed.append(f"{number}：{exc}")
        label = Action(action).label
        if done:
            self.message_user(request, f"已对 {done} 条预约执行「{label}」", messages.SUCCESS)
        for line in failed[:20]:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="受理成功", permissions=["change"])
    def accept_selected(self, request, queryset):
        self._apply(request, queryset, Action.ACCEPT)

    @admin.action(description="受理失败（在“备注/失败原因”中填写原因）", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._apply(request, queryset, Action.REJECT)

    @admin.action(description="联系不上", permissions=["change"])
    def unreachable_selected(self, request, queryset):
        self._apply(request, queryset, Action.UNREACHABLE)

    @admin.action(description="已办结", permissions=["change"])
    def complete_selected(self, request, queryset):
        self._apply(request, queryset, Action.COMPLETE)

    @admin.action(description="导出所选预约（CSV）", permissions=["view"])
    def export_csv(self, request, queryset):
        return export_response(request, name="bookings", fmt="csv", queryset=queryset, label="业务预约")

    # --- buttons on the detail page ---

    def get_urls(self):
        urls = super().get_urls()
        extra = [
            path(
                "<int:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="bookings_booking_transition",
            )
        ]
        return extra + urls

    def transition_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        booking = get_object_or_404(Booking, pk=object_id)
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        action = request.POST.get("action", "")
        try:
            services.change_booking_status(
                booking_id=booking.pk, action=action, actor_user=request.user, note=request.POST.get("note", "")
            )
        except services.BookingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"已执行「{Action(action).label}」", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[booking.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from bookings import selectors

        extra_context = extra_context or {}
        booking = self.get_object(request, object_id)
        if booking is not None:
            extra_context["booking_actions"] = [
                (a, Action(a).label) for a in selectors.allowed_actions(booking, user=request.user)
            ]
        extra_context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context)
