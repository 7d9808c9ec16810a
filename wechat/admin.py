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
