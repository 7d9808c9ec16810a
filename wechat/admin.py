from django.contrib import admin

from wechat.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """Every delivery WeChat made to the callback, read-only (the record of what followers sent)."""

    list_display = ("received_at", "openid", "msg_type", "event", "event_key", "short_content")
    list_filter = ("msg_type", "event")
    search_fields = ("openid", "content", "dedupe_key")
    date_hierarchy = "received_at"
    show_full_result_count = False

    @admin.display(description="内容")
    def short_content(self, obj):
        return (obj.content[:40] + "…") if len(obj.content) > 40 else obj.content

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- The account's behaviour and outbound messages ---------------------------------------------

from django.contrib import messages as admin_messages  # noqa: E402

from wechat import services as wechat_services  # noqa: E402
from wechat.gateway import GatewayError  # noqa: E402
from wechat.models import AutoReply, MenuButton, OutboundMessage, WelcomeMessage  # noqa: E402


@admin.register(WelcomeMessage)
class WelcomeMessageAdmin(admin.ModelAdmin):
    list_display = ("text", "is_active", "updated_at")
    list_filter = ("is_active",)


@admin.register(AutoReply)
class AutoReplyAdmin(admin.ModelAdmin):
    list_display = ("keyword", "match", "reply", "priority", "is_active")
    list_editable = ("priority", "is_active")
    list_filter = ("match", "is_active")
    search_fields = ("keyword", "reply")


class MenuChildInline(admin.TabularInline):
    model = MenuButton
    fk_name = "parent"
    fields = ("position", "name", "kind", "url", "key", "reply")
    extra = 0
    max_num = 5
    verbose_name = "子菜单"
    verbose_name_plural = "子菜单（最多5个）"


@admin.register(MenuButton)
class MenuButtonAdmin(admin.ModelAdmin):
    """The custom menu: top-level buttons with their sub-buttons inline; published by an action."""

    list_display = ("name", "kind", "url", "key", "position", "children_names")
    ordering = ("position", "id")
    inlines = [MenuChildInline]
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(parent__isnull=True).prefetch_related("children")

    def get_exclude(self, request, obj=None):
        return ("parent",)

    @admin.display(description="子菜单")
    def children_names(self, obj):
        return " / ".join(child.name for child in obj.children.all())

    @admin.action(description="发布菜单到微信（发布全部菜单，与所选无关）")
    def publish(self, request, queryset):
        try:
            buttons = wechat_services.publish_menu()
        except GatewayError as exc:
            self.message_user(request, f"发布失败：{exc}", level=admin_messages.ERROR)
            return
        self.message_user(request, f"已发布 {len(buttons)} 个一级菜单", level=admin_messages.SUCCESS)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """What the platform sent through WeChat, with WeChat's delivery verdict (read-only)."""

    list_display = ("created_at", "kind", "openid", "status", "delivery_status", "attempts", "error")
    list_filter = ("kind", "status")
    search_fields = ("openid", "idempotency_key", "wechat_msgid")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
