"""Followers, their QR codes, org units and the audit trail of attribution changes.

Attribution (who referred whom, which channel manager owns whom) is written only by
`accounts.services`; see SPEC §4.1 for the rules.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

# Promo codes are short but unguessable: 10 characters from a 31-letter alphabet without
# look-alikes (0/O, 1/I/L) gives ~49 bits.
PROMO_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PROMO_CODE_LENGTH = 10


def new_promo_code() -> str:
    return "".join(secrets.choice(PROMO_ALPHABET) for _ in range(PROMO_CODE_LENGTH))


class OrgUnit(models.Model):
    """A grid (网格) or a store (门店/体验店); managers, staff and stores belong to one."""

    class Kind(models.TextChoices):
        GRID = "grid", "网格"
        STORE = "store", "门店"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "组织单元"
        verbose_name_plural = "组织单元（网格/门店）"
        ordering = ["kind", "code"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.name}"


class Follower(models.Model):
    """A WeChat user of the service account (粉丝)."""

    class Source(models.TextChoices):
        SEARCH = "search", "搜索关注"
        PERSONAL_QR = "personal_qr", "个人推广码"
        STORE_QR = "store_qr", "门店码"
        CAMPAIGN_QR = "campaign_qr", "活动码"
        IMPORT = "import", "历史导入"
        UNKNOWN_QR = "unknown_qr", "无效二维码"

    openid = models.CharField("OpenID", max_length=64, unique=True)
    unionid = models.CharField("UnionID", max_length=64, blank=True, db_index=True)
    nickname = models.CharField("昵称", max_length=64, blank=True)
    avatar_url = models.URLField("头像", max_length=500, blank=True)
    real_name = models.CharField("姓名", max_length=32, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)

    is_subscribed = models.BooleanField("关注中", default=False)
    first_subscribed_at = models.DateTimeField("首次关注时间", null=True, blank=True)
    subscribed_at = models.DateTimeField("关注时间", null=True, blank=True)
    unsubscribed_at = models.DateTimeField("取消关注时间", null=True, blank=True)

    promo_code = models.CharField("推广码", max_length=16, unique=True, default=new_promo_code)
    # Attribution, fixed at the first subscription (attributed_at set) and changed afterwards
    # only by staff through the services, which write an AttributionChange row.
    source = models.CharField("来源", max_length=20, choices=Source.choices, blank=True)
    # referrer/channel_manager lookups use the composite indexes in Meta; the single-column
    # indexes Django would add cost every insert on the follow hot path and serve nothing.
    source_qr = models.ForeignKey(
        "QRCode",
        verbose_name="来源二维码",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    referrer = models.ForeignKey(
        "self",
        verbose_name="推荐人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        db_index=False,
    )
    channel_manager = models.ForeignKey(
        "self",
        verbose_name="渠道经理",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,
    )
    store = models.ForeignKey(
        OrgUnit, verbose_name="归属门店", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers"
    )
    attributed_at = models.DateTimeField("归属确定时间", null=True, blank=True)

    is_channel_manager = models.BooleanField("是否渠道经理", default=False)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name="所属网格/门店",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="渠道经理或门店人员所属的组织单元",
    )

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "粉丝"
        verbose_name_plural = "粉丝"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["channel_manager", "-id"], name="follower_manager_idx"),
            models.Index(fields=["referrer", "-id"], name="follower_referrer_idx"),
            # Managers are a handful among many followers: pickers and filters list them cheaply.
            models.Index(
                fields=["nickname", "id"], condition=Q(is_channel_manager=True), name="follower_is_manager_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("id")), name="follower_not_own_referrer"),
        ]

    def __str__(self):
        return self.nickname or self.real_name or self.openid

    @property
    def display_name(self) -> str:
        return self.nickname or self.real_name or f"用户{self.openid[-6:]}"


class QRCode(models.Model):
    """A parametric QR code. Its WeChat scene string is `<kind prefix>:<code>` (SPEC §4.1)."""

    class Kind(models.TextChoices):
        PERSONAL = "u", "个人推广码"
        STORE = "s", "门店码"
        CAMPAIGN = "c", "活动码"

    kind = models.CharField("类型", max_length=1, choices=Kind.choices)
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=100, blank=True)
    follower = models.OneToOneField(
        Follower, verbose_name="所属粉丝", null=True, blank=True, on_delete=models.CASCADE, related_name="qr_code"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="门店", null=True, blank=True, on_delete=models.CASCADE, related_name="qr_codes"
    )
    channel_manager = models.ForeignKey(
        Follower,
        verbose_name="归属渠道经理",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_qr_codes",
        help_text="门店码/活动码带来的新粉丝归属此渠道经理（可空）",
    )
    scan_count = models.PositiveIntegerField("扫码次数", default=0)
    follow_count = models.PositiveIntegerField("带来关注数", default=0)
    # WeChat's answer to qrcode/create, cached so a poster view does not create a new code.
    ticket = models.CharField("ticket", max_length=200, blank=True)
    url = models.CharField("二维码内容", max_length=300, blank=True)
    ticket_expires_at = models.DateTimeField("ticket过期时间", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "二维码"
        verbose_name_plural = "二维码"
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="qrcode_kind_code_unique")]

    def __str__(self):
        return self.name or self.scene

    @property
    def scene(self) -> str:
        return f"{self.kind}:{self.code}"


class QRScan(models.Model):
    """One scan of a code (subscribe through it or SCAN while following), for statistics."""

    qr_code = models.ForeignKey(QRCode, verbose_name="二维码", on_delete=models.CASCADE, related_name="scans")
    follower = models.ForeignKey(
        Follower, verbose_name="粉丝", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    is_follow = models.BooleanField("带来关注", default=False)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "扫码记录"
        verbose_name_plural = "扫码记录"


class AttributionChange(models.Model):
    """Audit row for every change of referrer / channel manager / manager role."""

    class Kind(models.TextChoices):
        ATTRIBUTED = "attributed", "首次关注归属"
        MANAGER_SET = "manager_set", "设为渠道经理"
        MANAGER_UNSET = "manager_unset", "取消渠道经理"
        REASSIGNED = "reassigned", "调整渠道经理"
        TRANSFERRED = "transferred", "客户整体移交"

    follower = models.ForeignKey(
        Follower, verbose_name="粉丝", on_delete=models.CASCADE, related_name="attribution_changes"
    )
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    # Shown beside the follower, never searched by: no indexes (they cost on every follow).
    old_manager = models.ForeignKey(
        Follower,
        verbose_name="原渠道经理",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    new_manager = models.ForeignKey(
        Follower,
        verbose_name="新渠道经理",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    referrer = models.ForeignKey(
        Follower,
        verbose_name="推荐人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    actor_label = models.CharField("操作来源", max_length=64, blank=True, help_text="系统/命令行等非后台操作的来源")
    reason = models.CharField("原因", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "归属变更记录"
        verbose_name_plural = "归属变更记录"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"
