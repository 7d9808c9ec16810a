"""Red packets (红包): reward rules, grants (应发), claims (领取) and their append-only ledger.

Money is integer fen. A grant's `claimed_fen` is the running total of its live claims (pending,
paying, paid); the database refuses `claimed_fen > amount_fen` and `redpackets.services` only
moves it with conditional UPDATEs, so concurrent claims can never over-claim. Every change also
writes a `LedgerEntry` row, so nothing that happened is ever lost.

Writes go through `redpackets.services`; nothing here has business logic.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Trigger(models.TextChoices):
    SUBMITTED = "submitted", "提交预约"
    ACCEPTED = "accepted", "受理成功"


class RewardRule(models.Model):
    """How much a booking earns for each trigger; edited in the back office."""

    trigger = models.CharField("触发条件", max_length=20, choices=Trigger.choices, unique=True)
    amount_fen = models.PositiveIntegerField("金额（分）", help_text="以分为单位，1000 = 10 元")
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "红包规则"
        verbose_name_plural = "红包规则"
        ordering = ["trigger"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="rule_amount_positive")]

    def __str__(self):
        return f"{self.get_trigger_display()} · {self.amount_fen / 100:.2f} 元"


class RedPacketSettings(models.Model):
    """Singleton (pk=1): budget and anti-abuse parameters. 0 means "no limit" for budget and caps.

    `redpackets.services` also locks this row while deciding on a grant, which serialises the
    budget and cap checks across processes.
    """

    total_budget_fen = models.PositiveBigIntegerField(
        "总预算（分）", default=0, help_text="所有有效发放的总额上限；0 表示不限"
    )
    duplicate_window_hours = models.PositiveIntegerField(
        "重复预约判定窗口（小时）",
        default=72,
        help_text="同一手机号（或同一用户）在此时间内重复预约同一套餐，不发提交红包；0 表示不判定",
    )
    daily_cap_fen = models.PositiveIntegerField(
        "每人每日上限（分）", default=10000, help_text="每位用户每天（北京时间）获得的红包总额上限；0 表示不限"
    )
    lifetime_cap_fen = models.PositiveIntegerField(
        "每人累计上限（分）", default=50000, help_text="每位用户累计获得的红包总额上限；0 表示不限"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "红包参数"
        verbose_name_plural = "红包参数（预算与防刷）"

    def __str__(self):
        return "红包参数"


class Grant(models.Model):
    """应发: what a booking earned for one trigger. Created once per (booking, trigger)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        VOIDED = "voided", "已作废"

    follower = models.ForeignKey(
        "accounts.Follower", verbose_name="用户", on_delete=models.PROTECT, related_name="redpacket_grants"
    )
    booking = models.ForeignKey(
        "bookings.Booking", verbose_name="预约", on_delete=models.PROTECT, related_name="redpacket_grants"
    )
    trigger = models.CharField("触发条件", max_length=20, choices=Trigger.choices)
    amount_fen = models.PositiveIntegerField("应发金额（分）")
    claimed_fen = models.PositiveIntegerField("已领取金额（分）", default=0, help_text="处理中与已到账的领取合计")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    created_at = models.DateTimeField("发放时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "红包发放"
        verbose_name_plural = "红包发放（应发）"
        ordering = ["-id"]
        indexes = [models.Index(fields=["follower", "-id"], name="grant_follower_idx")]
        constraints = [
            models.UniqueConstraint(fields=["booking", "trigger"], name="grant_once_per_booking_trigger"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="grant_amount_positive"),
            models.CheckConstraint(condition=Q(claimed_fen__lte=F("amount_fen")), name="grant_not_overclaimed"),
        ]

    def __str__(self):
        return f"{self.booking_id}/{self.trigger} {self.amount_fen / 100:.2f} 元"

    @property
    def remaining_fen(self) -> int:
        if self.status != self.Status.ACTIVE:
            return 0
        return self.amount_fen - self.claimed_fen


class GrantRefusal(models.Model):
    """Why a booking got no grant for a trigger, so the booking page can tell the customer."""

    class Reason(models.TextChoices):
        INACTIVE = "inactive", "活动未开启"
        DUPLICATE = "duplicate", "重复预约"
        DAILY_CAP = "daily_cap", "超过每日上限"
        LIFETIME_CAP = "lifetime_cap", "超过累计上限"
        BUDGET = "budget", "预算已用完"

    follower = models.ForeignKey("accounts.Follower", verbose_name="用户", on_delete=models.PROTECT, related_name="+")
    booking = models.ForeignKey(
        "bookings.Booking", verbose_name="预约", on_delete=models.PROTECT, related_name="redpacket_refusals"
    )
    trigger = models.CharField("触发条件", max_length=20, choices=Trigger.choices)
    reason = models.CharField("原因", max_length=20, choices=Reason.choices)
    message = models.CharField("提示", max_length=200)
    amount_fen = models.PositiveIntegerField("本应发放（分）", default=0)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "未发放记录"
        verbose_name_plural = "未发放记录（防刷/预算）"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["booking", "trigger"], name="refusal_once_per_booking_trigger")]

    def __str__(self):
        return f"{self.booking_id}/{self.trigger}: {self.get_reason_display()}"


def new_bill_no() -> str:
    """Our own bill number (WeChat's mch_billno: ≤28 of [0-9A-Za-z]); the payout idempotency key."""
    return "RP" + timezone.localdate().strftime("%Y%m%d") + secrets.token_hex(8).upper()


class Claim(models.Model):
    """领取: part or all of a grant, paid out once through the provider recorded on it.

    pending → paying → paid | failed. `paying` means a provider call was (or may have been) made:
    from then on only the same bill number is ever sent again, or queried.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待发放"
        PAYING = "paying", "发放中"
        PAID = "paid", "已到账"
        FAILED = "failed", "发放失败"

    class Provider(models.TextChoices):
        SANDBOX = "sandbox", "沙箱"
        MANUAL = "manual", "人工打款"
        WECHATPAY = "wechatpay", "微信支付"

    grant = models.ForeignKey(Grant, verbose_name="红包", on_delete=models.PROTECT, related_name="claims")
    follower = models.ForeignKey(
        "accounts.Follower", verbose_name="用户", on_delete=models.PROTECT, related_name="redpacket_claims"
    )
    amount_fen = models.PositiveIntegerField("金额（分）")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    provider = models.CharField("发放渠道", max_length=20, choices=Provider.choices)
    bill_no = models.CharField("领取单号", max_length=28, unique=True, default=new_bill_no)
    provider_ref = models.CharField("渠道流水号", max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField("发放尝试次数", default=0)
    # A payout task holds the claim until this time; a crashed worker's hold simply expires.
    lease_until = models.DateTimeField("处理锁到期", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    paid_at = models.DateTimeField("到账时间", null=True, blank=True)

    class Meta:
        verbose_name = "红包领取"
        verbose_name_plural = "红包领取（发放记录）"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["follower", "-id"], name="claim_follower_idx"),
            models.Index(fields=["status", "provider"], name="claim_status_provider_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="claim_amount_positive")]

    def __str__(self):
        return self.bill_no

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.PAYING)


class LedgerEntry(models.Model):
    """Append-only history: one row per grant, void, claim and payout outcome. Never updated."""

    class Kind(models.TextChoices):
        GRANTED = "granted", "发放"
        VOIDED = "voided", "作废"
        CLAIMED = "claimed", "领取"
        ATTEMPT = "attempt", "发放尝试"
        PAID = "paid", "到账"
        FAILED = "failed", "发放失败（退回可领）"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    grant = models.ForeignKey(Grant, verbose_name="红包", on_delete=models.PROTECT, related_name="ledger")
    claim = models.ForeignKey(
        Claim, verbose_name="领取", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    follower = models.ForeignKey("accounts.Follower", verbose_name="用户", on_delete=models.PROTECT, related_name="+")
    amount_fen = models.IntegerField("金额（分）", default=0)
    note = models.CharField("说明", max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField("操作来源", max_length=64, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "红包流水"
        verbose_name_plural = "红包流水（只增不改）"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount_fen / 100:.2f}"


class SandboxRedPack(models.Model):
    """The sandbox's imitation of WeChat Pay's own record of a cash red packet (by mch_billno).

    Only `wechat.sandbox.pay` writes it; it stands for the merchant account on WeChat's side.
    """

    class Status(models.TextChoices):
        SENDING = "SENDING", "发放中"
        SENT = "SENT", "已发放待领取"
        FAILED = "FAILED", "发放失败"
        RECEIVED = "RECEIVED", "已领取"
        REFUND = "REFUND", "已退款"

    mch_billno = models.CharField("商户订单号", max_length=28, unique=True)
    detail_id = models.CharField("红包单号", max_length=32, unique=True)
    mch_id = models.CharField("商户号", max_length=32)
    wxappid = models.CharField("公众号", max_length=32)
    re_openid = models.CharField("OpenID", max_length=64, db_index=True)
    total_amount = models.PositiveIntegerField("金额（分）")
    send_name = models.CharField("商户名称", max_length=32, blank=True)
    act_name = models.CharField("活动名称", max_length=32, blank=True)
    wishing = models.CharField("祝福语", max_length=128, blank=True)
    remark = models.CharField("备注", max_length=256, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    reason = models.CharField("失败原因", max_length=200, blank=True)
    send_calls = models.PositiveIntegerField("发放请求次数", default=1)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "沙箱红包"
        verbose_name_plural = "沙箱红包（模拟微信支付）"
        ordering = ["-id"]

    def __str__(self):
        return self.mch_billno
