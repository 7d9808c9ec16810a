"""State of the offline WeChat imitation (only used when WECHAT_SANDBOX=1).

These models live in the `wechat` app (imported from `wechat/models.py`) so their migrations sit
with the rest of the app. They describe *WeChat's* side of the world: who follows the account on
WeChat's servers, which tokens WeChat issued, what WeChat delivered to each user's phone. The
platform's own view of the same people is `accounts.Follower`, kept in sync only through the
callbacks the emulator sends, exactly as in production.
"""

import secrets

from django.db import models
from django.utils import timezone


def new_sandbox_openid() -> str:
    # Real OpenIDs are 28 characters starting with "o"; wechatpy's preview regex relies on that.
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    return "oSBX" + "".join(secrets.choice(alphabet) for _ in range(24))


class SandboxUser(models.Model):
    """A simulated WeChat user, as WeChat's servers know him."""

    openid = models.CharField("OpenID", max_length=64, unique=True, default=new_sandbox_openid)
    nickname = models.CharField("昵称", max_length=64)
    is_following = models.BooleanField("关注中", default=False)
    subscribed_at = models.DateTimeField("关注时间", null=True, blank=True)
    subscribe_scene = models.CharField("关注渠道", max_length=32, blank=True)
    qr_scene_str = models.CharField("二维码场景", max_length=64, blank=True)
    # Last message / event from the user: opens WeChat's 48-hour customer-service window.
    last_interaction_at = models.DateTimeField("最近互动时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "模拟微信用户"
        verbose_name_plural = "沙箱·模拟微信用户"
        ordering = ["id"]

    def __str__(self):
        return self.nickname

    def within_service_window(self) -> bool:
        if self.last_interaction_at is None:
            return False
        return timezone.now() - self.last_interaction_at < timezone.timedelta(hours=48)


class SandboxToken(models.Model):
    """An access token the imitation issued (API or OAuth)."""

    class Kind(models.TextChoices):
        API = "api", "接口调用凭据"
        OAUTH = "oauth", "网页授权凭据"

    token = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.API)
    openid = models.CharField(max_length=64, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Set when a fault expired or revoked the token early.
    revoked_code = models.IntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "沙箱凭据"
        verbose_name_plural = "沙箱·凭据"
        ordering = ["-id"]


class SandboxOAuthCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    openid = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)


class SandboxMessage(models.Model):
    """Everything that appeared in a simulated user's chat with the account."""

    class Direction(models.TextChoices):
        TO_USER = "to_user", "公众号发给用户"
        FROM_USER = "from_user", "用户发给公众号"

    class Kind(models.TextChoices):
        TEMPLATE = "template", "模板消息"
        CUSTOM = "custom", "客服消息"
        MASS = "mass", "群发消息"
        REPLY = "reply", "被动回复"
        TEXT = "text", "文本"
        IMAGE = "image", "图片"
        EVENT = "event", "事件"

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    msgtype = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    msgid = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "沙箱消息"
        verbose_name_plural = "沙箱·消息记录"
        ordering = ["id"]


class SandboxQRCode(models.Model):
    ticket = models.CharField(max_length=200, unique=True)
    action_name = models.CharField(max_length=32)
    scene_str = models.CharField(max_length=64)
    url = models.CharField(max_length=300)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class SandboxMedia(models.Model):
    media_id = models.CharField(max_length=128, unique=True)
    media_type = models.CharField(max_length=16)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(blank=True)
    articles = models.JSONField(default=list, blank=True)  # drafts (draft/add)
    created_at = models.DateTimeField(default=timezone.now)


class SandboxState(models.Model):
    """Small named pieces of imitation state: the published menu, delivery switches."""

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class SandboxFault(models.Model):
    """A switchable failure. `remaining` > 0 means armed; each injected failure uses one."""

    class Kind(models.TextChoices):
        TOKEN_EXPIRED = "token_expired", "access_token 过期 (42001)"
        TOKEN_REVOKED = "token_revoked", "access_token 失效 (40001)"
        QUOTA = "quota", "调用次数超限 (45009)"
        OUTSIDE_WINDOW = "outside_window", "超出48小时客服窗口 (45015)"
        NOT_FOLLOWING = "not_following", "用户未关注 (43004)"
        BUSY = "busy", "系统繁忙 (-1)"
        SLOW = "slow", "响应缓慢"
        HTTP_5XX = "http_5xx", "HTTP 502"

    kind = models.CharField("故障", max_length=20, choices=Kind.choices, unique=True)
    remaining = models.PositiveIntegerField("剩余次数", default=0)
    delay_seconds = models.FloatField("延迟秒数", default=3.0)
    armed_at = models.DateTimeField("启用时间", null=True, blank=True)

    class Meta:
        verbose_name = "沙箱故障注入"
        verbose_name_plural = "沙箱·故障注入"


class SandboxApiCall(models.Model):
    """One request the imitation answered, so testers (and tests) can see what the gateway did."""

    endpoint = models.CharField(max_length=64, db_index=True)
    method = models.CharField(max_length=8)
    access_token = models.CharField(max_length=128, blank=True)
    errcode = models.IntegerField(default=0)
    http_status = models.IntegerField(default=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
