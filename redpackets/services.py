"""Red-packet grants, claims and payouts (SPEC §4.3). The only writer of the red-packet tables.

Invariants kept here (and backed by database constraints):
- one grant, or one refusal, per (booking, trigger);
- a grant's live claims never exceed it: `claimed_fen` moves only by conditional UPDATEs and the
  table has CHECK (claimed_fen <= amount_fen);
- a payout is taken by one worker at a time (conditional UPDATE on status and lease) and only
  ever sends the claim's own bill number, so running a payout twice pays once;
- every change writes a `LedgerEntry` row.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from backoffice.templatetags.money import fen_to_yuan_text
from bookings.models import Booking

from .models import Claim, Grant, GrantRefusal, LedgerEntry, RedPacketSettings, RewardRule, Trigger

logger = logging.getLogger(__name__)

DEFAULT_RULES = {Trigger.SUBMITTED: 1000, Trigger.ACCEPTED: 3000}
# How long a payout worker may hold a claim before another run may take it over.
PAYOUT_LEASE = dt.timedelta(minutes=5)
# Bookings in these states may have their unclaimed grants voided by staff.
VOIDABLE_BOOKING_STATUSES = (Booking.Status.REJECTED, Booking.Status.CANCELLED)


class RedPacketError(Exception):
    """A refusal whose message can be shown as is (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ClaimError(RedPacketError):
    pass


class VoidError(RedPacketError):
    pass


class PayoutMarkError(RedPacketError):
    pass


# --- settings and rules ----------------------------------------------------------------------


def get_redpacket_settings(*, lock: bool = False) -> RedPacketSettings:
    """The singleton settings row (created with defaults on first use).

    With `lock=True` (inside a transaction) the row is locked FOR UPDATE: grant decisions hold it
    so budget and caps are checked against totals no concurrent grant can change.
    """
    row, _ = RedPacketSettings.objects.get_or_create(pk=1)
    if lock:
        row = RedPacketSettings.objects.select_for_update().get(pk=1)
    return row


def ensure_default_rules() -> None:
    """Create the default rules (submitted ¥10, accepted ¥30) and settings if missing; never overwrite."""
    for trigger, amount_fen in DEFAULT_RULES.items():
        RewardRule.objects.get_or_create(trigger=trigger, defaults={"amount_fen": amount_fen, "is_active": True})
    get_redpacket_settings()


# --- grants ----------------------------------------------------------------------------------


def _window_text(hours: int) -> str:
    if hours % 24 == 0:
        return f"{hours // 24}天"
    return f"{hours}小时"


def _refusal_for(*, booking: Booking, trigger: str, amount_fen: int, rp: RedPacketSettings):
    """Return (reason, message) when anti-abuse rules or the budget forbid this grant, else None."""
    if trigger == Trigger.SUBMITTED and rp.duplicate_window_hours:
        since = booking.submitted_at - dt.timedelta(hours=rp.duplicate_window_hours)
        same_person = Q(follower_id=booking.follower_id)
        if booking.phone:
            same_person |= Q(phone=booking.phone)
        duplicate = (
            Booking.objects.filter(same_person, package_id=booking.package_id, submitted_at__gte=since)
            .filter(pk__lt=booking.pk)
            .exists()
        )
        if duplicate:
            return (
                GrantRefusal.Reason.DUPLICATE,
                f"同一手机号或同一用户{_window_text(rp.duplicate_window_hours)}内已预约过该套餐，本次预约不发红包",
            )

    active = Grant.objects.filter(status=Grant.Status.ACTIVE)
    mine = active.filter(follower_id=booking.follower_id)
    if rp.daily_cap_fen:
        day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        today = mine.filter(created_at__gte=day_start).aggregate(s=Sum("amount_fen"))["s"] or 0
        if today + amount_fen > rp.daily_cap_fen:
            return (
                GrantRefusal.Reason.DAILY_CAP,
                f"您今天获得的红包已达上限（{fen_to_yuan_text(rp.daily_cap_fen)}元），本次不再发放红包",
            )
    if rp.lifetime_cap_fen:
        total = mine.aggregate(s=Sum("amount_fen"))["s"] or 0
        if total + amount_fen > rp.lifetime_cap_fen:
            return (
                GrantRefusal.Reason.LIFETIME_CAP,
                f"您累计获得的红包已达上限（{fen_to_yuan_text(rp.lifetime_cap_fen)}元），本次不再发放红包",
            )
    if rp.total_budget_fen:
        spent = active.aggregate(s=Sum("amount_fen"))["s"] or 0
        if spent + amount_fen > rp.total_budget_fen:
            return GrantRefusal.Reason.BUDGET, "本期红包预算已发完，本次不再发放红包"
    return None


def create_grant_for_booking(*, booking: Booking, trigger: str) -> Grant | None:
    """Create the grant for `booking` and `trigger` ("submitted" | "accepted"), at most once.

    Called by the booking services inside their transaction. Returns the grant, or None when
    no grant is due (rule inactive, duplicate booking, cap or budget reached); the reason is then
    kept as a `GrantRefusal` the booking page shows. Calling it again returns the first answer.
    Raises ValueError for an unknown trigger.
    """
    if trigger not in Trigger.values:
        raise ValueError(f"unknown red-packet trigger {trigger!r}")
    with transaction.atomic():
        # The lock serialises grant decisions, so two bookings cannot both slip under a cap.
        rp = get_redpacket_settings(lock=True)
        existing = Grant.objects.filter(booking=booking, trigger=trigger).first()
        if existing is not None:
            return existing
        if GrantRefusal.objects.filter(booking=booking, trigger=trigger).exists():
            return None

        # A fresh installation pays the documented defaults; staff switch a reward off with 启用.
        rule, _ = RewardRule.objects.get_or_create(
            trigger=trigger, defaults={"amount_fen": DEFAULT_RULES[trigger], "is_active": True}
        )
        if not rule.is_active:
            GrantRefusal.objects.create(
                follower_id=booking.follower_id,
                booking=booking,
                trigger=trigger,
                reason=GrantRefusal.Reason.INACTIVE,
                message="当前没有进行中的红包活动",
            )
            return None

        refusal = _refusal_for(booking=booking, trigger=trigger, amount_fen=rule.amount_fen, rp=rp)
        if refusal is not None:
            reason, message = refusal
            GrantRefusal.objects.create(
                follower_id=booking.follower_id,
                booking=booking,
                trigger=trigger,
                reason=reason,
                message=message,
                amount_fen=rule.amount_fen,
            )
            return None

        try:
            with transaction.atomic():
                grant = Grant.objects.create(
                    follower_id=booking.follower_id, booking=booking, trigger=trigger, amount_fen=rule.amount_fen
                )
        except IntegrityError:
            # Another transaction granted it first; the unique constraint keeps it single.
            return Grant.objects.get(booking=booking, trigger=trigger)
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.GRANTED,
            grant=grant,
            follower_id=booking.follower_id,
            amount_fen=grant.amount_fen,
            note=f"预约 {booking.number} {grant.get_trigger_display()}",
            actor_label="system",
        )
        return grant


def _check_voidable(*, booking: Booking, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise VoidError("请填写作废原因")
    if booking.status not in VOIDABLE_BOOKING_STATUSES:
        raise VoidError(f"预约 {booking.number} 未被拒绝或取消，红包不能作废")
    return reason


def _void_one(*, grant: Grant, actor, reason: str) -> bool:
    with transaction.atomic():
        # Only a grant nothing was claimed from: a claim in flight holds claimed_fen > 0.
        updated = Grant.objects.filter(pk=grant.pk, status=Grant.Status.ACTIVE, claimed_fen=0).update(
            status=Grant.Status.VOIDED, void_reason=reason[:200], voided_by=actor, voided_at=timezone.now()
        )
        grant.refresh_from_db()
        if updated:
            LedgerEntry.objects.create(
                kind=LedgerEntry.Kind.VOIDED,
                grant=grant,
                follower_id=grant.follower_id,
                amount_fen=-grant.amount_fen,
                note=reason[:300],
                actor=actor,
            )
    return bool(updated)


def void_grant(*, grant: Grant, actor, reason: str) -> Grant:
    """Void one grant of a rejected or cancelled booking that nothing has been claimed from.

    Raises VoidError when the reason is empty, the booking is not rejected or cancelled, or the
    grant is already voided or (partly) claimed. The grant keeps who voided it and why, and a
    ledger row records it.
    """
    booking = Booking.objects.only("status", "number").get(pk=grant.booking_id)
    reason = _check_voidable(booking=booking, reason=reason)
    if not _void_one(grant=grant, actor=actor, reason=reason):
        if grant.status == Grant.Status.VOIDED:
            raise VoidError("该红包已作废")
        raise VoidError("该红包已被领取，不能作废")
    return grant


def void_grants_for_booking(*, booking: Booking, actor, reason: str) -> list[Grant]:
    """Void every unclaimed grant of a rejected (or cancelled) booking; returns those voided.

    Grants already claimed from are left as they are. Raises VoidError for an empty reason or a
    booking that is not rejected or cancelled.
    """
    # The caller's instance may predate the rejection: decide on the stored status.
    current = Booking.objects.only("status", "number").get(pk=booking.pk)
    reason = _check_voidable(booking=current, reason=reason)
    voided = []
    for grant in Grant.objects.filter(booking=booking, status=Grant.Status.ACTIVE, claimed_fen=0):
        if _void_one(grant=grant, actor=actor, reason=reason):
            voided.append(grant)
    return voided


# --- claims ----------------------------------------------------------------------------------


def min_claim_fen(provider: str | None = None) -> int:
    """WeChat's cash red packet pays 1–200 yuan; manual payouts accept any positive amount."""
    from .payouts import get_provider

    return get_provider(provider or django_settings.PAYOUT_PROVIDER).min_amount_fen


def claim(*, grant: Grant, follower, amount_fen: int) -> Claim:
    """Claim `amount_fen` of `grant` for `follower`; the payout is enqueued after commit.

    The claim gets its bill number before any provider call. Raises ClaimError (message in
    Chinese) for a non-integer or non-positive amount, someone else's or a voided grant, an amount
    above what remains, or one the payout channel cannot pay.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ClaimError("金额格式不正确")
    if amount_fen <= 0:
        raise ClaimError("领取金额必须大于 0")
    if grant.follower_id != follower.pk:
        raise ClaimError("这个红包不属于您")
    provider = django_settings.PAYOUT_PROVIDER
    minimum = min_claim_fen(provider)
    if amount_fen < minimum:
        raise ClaimError(f"单次领取金额不能低于 {fen_to_yuan_text(minimum)} 元")

    with transaction.atomic():
        # The WHERE clause is the over-claim guard: concurrent claims each add their amount only
        # if it still fits; the CHECK constraint backs it up.
        updated = Grant.objects.filter(
            pk=grant.pk,
            follower_id=follower.pk,
            status=Grant.Status.ACTIVE,
            claimed_fen__lte=F("amount_fen") - amount_fen,
        ).update(claimed_fen=F("claimed_fen") + amount_fen)
        if not updated:
            grant.refresh_from_db()
            if grant.status != Grant.Status.ACTIVE:
                raise ClaimError("该红包已作废，不能领取")
            if grant.remaining_fen <= 0:
                raise ClaimError("该红包已领完")
            raise ClaimError(f"最多可领取 {fen_to_yuan_text(grant.remaining_fen)} 元")
        grant.refresh_from_db()
        left = grant.remaining_fen
        if 0 < left < minimum:
            # Raising rolls back the UPDATE above.
            raise ClaimError(
                f"领取后剩余 {fen_to_yuan_text(left)} 元将低于单次最低 {fen_to_yuan_text(minimum)} 元，"
                f"请全部领取或少领一些"
            )
        new_claim = Claim.objects.create(grant=grant, follower=follower, amount_fen=amount_fen, provider=provider)
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.CLAIMED,
            grant=grant,
            claim=new_claim,
            follower=follower,
            amount_fen=amount_fen,
            note=f"领取单号 {new_claim.bill_no}",
            actor_label="customer",
        )
        claim_id = new_claim.pk
        transaction.on_commit(lambda: enqueue_payout(claim_id=claim_id))
    return new_claim


def enqueue_payout(*, claim_id: int) -> None:
    from .tasks import pay_claim

    pay_claim.delay(claim_id)


# --- payouts ---------------------------------------------------------------------------------


def _finish_paid(*, claim_id: int, reference: str, actor=None, actor_label: str = "", from_statuses) -> bool:
    with transaction.atomic():
        updated = Claim.objects.filter(pk=claim_id, status__in=from_statuses).update(
            status=Claim.Status.PAID,
            provider_ref=reference[:64],
            paid_at=timezone.now(),
            lease_until=None,
            last_error="",
            updated_at=timezone.now(),
        )
        if not updated:
            return False
        c = Claim.objects.get(pk=claim_id)
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.PAID,
            grant_id=c.grant_id,
            claim=c,
            follower_id=c.follower_id,
            amount_fen=c.amount_fen,
            note=f"{c.get_provider_display()} {reference}".strip()[:300],
            actor=actor,
            actor_label=actor_label,
        )
    return True


def _finish_failed(*, claim_id: int, message: str, actor=None, actor_label: str = "", from_statuses) -> bool:
    """Mark failed and give the amount back to the grant, so the customer can claim it again."""
    with transaction.atomic():
        updated = Claim.objects.filter(pk=claim_id, status__in=from_statuses).update(
            status=Claim.Status.FAILED, lease_until=None, last_error=message[:300], updated_at=timezone.now()
        )
        if not updated:
            return False
        c = Claim.objects.get(pk=claim_id)
        Grant.objects.filter(pk=c.grant_id).update(claimed_fen=F("claimed_fen") - c.amount_fen)
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.FAILED,
            grant_id=c.grant_id,
            claim=c,
            follower_id=c.follower_id,
            amount_fen=-c.amount_fen,
            note=message[:300],
            actor=actor,
            actor_label=actor_label,
        )
    return True


def process_payout(*, claim_id: int) -> str:
    """Run one payout attempt for a claim; returns "paid", "pending", "failed" or "skipped".

    Safe to run any number of times, concurrently too: the claim is taken with a conditional UPDATE
    (status still open, no live lease), so only one run talks to the provider at a time, and every
    run sends the same bill number. "skipped" means there was nothing to do (already finished,
    held by another run, or a manual claim waiting for finance). Never raises for provider errors.
    """
    from .payouts import PayoutResult, get_provider

    c = Claim.objects.filter(pk=claim_id).only("provider", "status").first()
    if c is None or not c.is_open:
        return "skipped"
    provider = get_provider(c.provider)
    if not provider.automatic:
        return "skipped"
    now = timezone.now()
    taken = (
        Claim.objects.filter(pk=claim_id, status__in=(Claim.Status.PENDING, Claim.Status.PAYING))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            status=Claim.Status.PAYING,
            attempts=F("attempts") + 1,
            lease_until=now + PAYOUT_LEASE,
            updated_at=now,
        )
    )
    if not taken:
        return "skipped"
    c = Claim.objects.select_related("follower").get(pk=claim_id)
    try:
        result = provider.pay(c)
    except Exception as exc:  # noqa: BLE001 - an unknown error may have moved money: stay pending
        logger.exception("payout of claim %s raised", claim_id)
        result = PayoutResult.pending(f"{exc.__class__.__name__}: {exc}")

    if result.state == "paid":
        _finish_paid(claim_id=claim_id, reference=result.reference, from_statuses=(Claim.Status.PAYING,))
        return "paid"
    if result.state == "failed":
        _finish_failed(claim_id=claim_id, message=result.message, from_statuses=(Claim.Status.PAYING,))
        return "failed"
    with transaction.atomic():
        # Release the lease so the next retry (or the sweeper) can re-query with the same bill number.
        Claim.objects.filter(pk=claim_id, status=Claim.Status.PAYING).update(
            lease_until=None, last_error=result.message[:300], updated_at=timezone.now()
        )
        LedgerEntry.objects.create(
            kind=LedgerEntry.Kind.ATTEMPT,
            grant_id=c.grant_id,
            claim=c,
            follower_id=c.follower_id,
            amount_fen=0,
            note=f"第{c.attempts}次发放未完成：{result.message}"[:300],
            actor_label="payout",
        )
    return "pending"


def open_automatic_claim_ids(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> list[int]:
    """Claims an automatic provider still owes (pending or paying, no live lease), for the sweeper."""
    now = timezone.now()
    return list(
        Claim.objects.filter(status__in=(Claim.Status.PENDING, Claim.Status.PAYING))
        .exclude(provider=Claim.Provider.MANUAL)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(updated_at__lt=now - older_than)
        .values_list("pk", flat=True)[:1000]
    )


def mark_claim_paid(*, claim: Claim, actor, reference: str = "") -> Claim:
    """Finance paid a manual claim (e.g. through Bestpay). Raises PayoutMarkError if it is not a
    manual claim waiting for payment."""
    if claim.provider != Claim.Provider.MANUAL:
        raise PayoutMarkError(f"{claim.bill_no} 不是人工打款的领取，不能手工标记")
    if not _finish_paid(
        claim_id=claim.pk,
        reference=(reference or "").strip() or "人工打款",
        actor=actor,
        from_statuses=(Claim.Status.PENDING,),
    ):
        raise PayoutMarkError(f"{claim.bill_no} 已处理过（{claim.get_status_display()}）")
    claim.refresh_from_db()
    return claim


def mark_claim_failed(*, claim: Claim, actor, reason: str) -> Claim:
    """Finance could not pay a manual claim; the amount goes back to the grant. Raises
    PayoutMarkError for an empty reason, a non-manual claim, or one already finished."""
    reason = (reason or "").strip()
    if not reason:
        raise PayoutMarkError("请填写失败原因")
    if claim.provider != Claim.Provider.MANUAL:
        raise PayoutMarkError(f"{claim.bill_no} 不是人工打款的领取，不能手工标记")
    if not _finish_failed(claim_id=claim.pk, message=reason, actor=actor, from_statuses=(Claim.Status.PENDING,)):
        raise PayoutMarkError(f"{claim.bill_no} 已处理过（{claim.get_status_display()}）")
    claim.refresh_from_db()
    return claim
