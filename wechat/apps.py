from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WechatConfig(AppConfig):
    name = "wechat"
    verbose_name = "微信"

    def ready(self):
        # The account's replies (welcome, keywords, menu clicks) join the callback's handler registry.
        from wechat import handlers, selectors
        from wechat.models import WelcomeMessage

        handlers.register()
        # Cache invalidation only (no workflow): the welcome text is cached for the follow hot path.
        post_save.connect(selectors.forget_welcome_text, sender=WelcomeMessage, dispatch_uid="welcome-saved")
        post_delete.connect(selectors.forget_welcome_text, sender=WelcomeMessage, dispatch_uid="welcome-deleted")
