"""What WeChat sent us. One row per delivery; the unique dedupe key makes retries no-ops."""

from django.db import models


class InboundMessage(models.Model):
    """A message or event a follower sent to the account, as delivered to /wechat/callback.

    `dedupe_key` is `m:<MsgId>` for messages and `e:<FromUserName>:<CreateTime>:<Event>` for
    events: WeChat retries a delivery up to three times, and each copy must be processed once.
    """

    dedupe_key = models.CharField("去重键", max_length=160, unique=True)
    openid = models.CharField("OpenID", max_length=64, db_index=True)
    msg_type = models.CharField("消息类型", max_length=32)
    event = models.CharField("事件", max_length=32, blank=True)
    event_key = models.CharField("事件参数", max_length=300, blank=True)
    content = models.TextField("内容", blank=True)
    media_id = models.CharField("媒体ID", max_length=200, blank=True)
    pic_url = models.CharField("图片地址", max_length=500, blank=True)
    sent_at = models.DateTimeField("发送时间")
    received_at = models.DateTimeField("接收时间", auto_now_add=True)

    class Meta:
        verbose_name = "收到的消息"
        verbose_name_plural = "收到的消息"
        ordering = ["-id"]
        indexes = [models.Index(fields=["openid", "-id"], name="inbound_openid_idx")]

    def __str__(self):
        return f"{self.openid} {self.msg_type} {self.event}".strip()


class OutboundMessage(models.Model):
    """One message the platform asked WeChat to deliver; the row is the idempotency record.

    A send task claims the row with a conditional UPDATE (pending → sending) before calling
    WeChat, so a task that runs twice (broker redelivery, a retry racing a slow worker) sends once.
    """

    class Kind(models.TextChoices):
        TEMPLATE = "template", "模板消息"
        TEXT = "text", "客服文本"
        IMAGE = "image", "客服图片"
        MASS_TEXT = "mass_text", "群发文本"
        MASS_NEWS = "mass_news", "群发图文"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    idempotency_key = models.CharField("幂等键", max_length=200, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    openid = models.CharField("OpenID", max_length=64, blank=True, db_index=True, help_text="群发时为空")
    payload = models.JSONField("内容", default=dict)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    wechat_msgid = models.CharField("微信消息ID", max_length=64, blank=True, db_index=True)
    # WeChat's own delivery verdict, reported later by TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH.
    delivery_status = models.CharField("送达结果", max_length=64, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "发出的消息"
        verbose_name_plural = "发出的消息"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.openid or '全部粉丝'}"


class WelcomeMessage(models.Model):
    """The passive reply to a new follower; the newest active row is used."""

    text = models.TextField("欢迎语", max_length=600)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "关注欢迎语"
        verbose_name_plural = "关注欢迎语"
        ordering = ["-id"]

    def __str__(self):
        return self.text[:30]


class AutoReply(models.Model):
    """A keyword auto-reply to a follower's text message."""

    class Match(models.TextChoices):
        EXACT = "exact", "完全匹配"
        CONTAINS = "contains", "包含关键词"

    keyword = models.CharField("关键词", max_length=60)
    match = models.CharField("匹配方式", max_length=10, choices=Match.choices, default=Match.CONTAINS)
    reply = models.TextField("回复内容", max_length=600)
    priority = models.IntegerField("优先级", default=0, help_text="数字大的优先匹配")
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "关键词自动回复"
        verbose_name_plural = "关键词自动回复"
        ordering = ["-priority", "id"]

    def __str__(self):
        return self.keyword


class MenuButton(models.Model):
    """One button of the account's custom menu: up to 3 top-level buttons with up to 5 children."""

    class Kind(models.TextChoices):
        VIEW = "view", "打开网页"
        CLICK = "click", "点击回复"
        PARENT = "parent", "子菜单（仅作分组）"

    parent = models.ForeignKey(
        "self", verbose_name="上级菜单", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField("名称", max_length=20, help_text="一级菜单最多4个汉字，子菜单最多8个汉字")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.VIEW)
    url = models.CharField("网址", max_length=500, blank=True, help_text="以 / 开头的站内地址或完整网址")
    key = models.CharField("事件KEY", max_length=64, blank=True)
    reply = models.TextField("点击后回复", max_length=600, blank=True)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "微信菜单"
        verbose_name_plural = "微信菜单"
        ordering = ["parent_id", "position", "id"]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name


# The sandbox's tables belong to this app so that its migrations live here.
from wechat.sandbox.models import (  # noqa: E402,F401
    SandboxApiCall,
    SandboxFault,
    SandboxMedia,
    SandboxMessage,
    SandboxOAuthCode,
    SandboxQRCode,
    SandboxState,
    SandboxToken,
    SandboxUser,
)
