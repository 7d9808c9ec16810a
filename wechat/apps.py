from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "wechat"
    verbose_name = "微信"

    def ready(self):
        # The account's replies (welcome, keywords, menu clicks) join the callback's handler registry.
        from wechat import handlers

        handlers.register()
