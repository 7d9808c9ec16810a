"""Reads shared by the H5 pages, the booking page block and the back office."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Sum

from .models import Claim, Grant, GrantRefusal


@dataclass(frozen=True)
class Totals:
    granted_fen: int
    received_fen: int
    processing_fen: int
    remaining_fen: int


def totals_for(*, follower) -> Totals:
    """What the follower was granted, has received, has on the way, and may still claim."""
    g = Grant.objects.filter(follower=follower, status=Grant.Status.ACTIVE).aggregate(
        granted=Sum("amount_fen"), claimed=Sum("claimed_fen")
    )
    c = Claim.objects.filter(follower=follower).aggregate(
        received=Sum("amount_fen", filter=Q(status=Claim.Status.PAID)),
        processing=Sum("amount_fen", filter=Q(status__in=(Claim.Status.PENDING, Claim.Status.PAYING))),
    )
    granted = g["granted"] or 0
    return Totals(
        granted_fen=granted,
        received_fen=c["received"] or 0,
        processing_fen=c["processing"] or 0,
        remaining_fen=granted - (g["claimed"] or 0),
    )


def grants_for(*, follower) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(follower=follower)
        .select_related("booking__package")
        .annotate(left_fen=F("amount_fen") - F("claimed_fen"))
        .order_by("-id")
    )


def claims_for(*, follower) -> QuerySet[Claim]:
    return Claim.objects.filter(follower=follower).select_related("grant__booking__package").order_by("-id")


def booking_redpackets(*, booking) -> tuple[list[Grant], list[GrantRefusal]]:
    grants = list(Grant.objects.filter(booking=booking).order_by("id"))
    refusals = list(GrantRefusal.objects.filter(booking=booking).order_by("id"))
    return grants, refusals


def grant_totals(queryset: QuerySet[Grant]) -> dict:
    t = queryset.aggregate(
        amount=Sum("amount_fen", filter=Q(status=Grant.Status.ACTIVE)),
        claimed=Sum("claimed_fen", filter=Q(status=Grant.Status.ACTIVE)),
        voided=Sum("amount_fen", filter=Q(status=Grant.Status.VOIDED)),
    )
    amount = t["amount"] or 0
    claimed = t["claimed"] or 0
    return {
        "count": queryset.count(),
        "amount_fen": amount,
        "claimed_fen": claimed,
        "remaining_fen": amount - claimed,
        "voided_fen": t["voided"] or 0,
    }


def claim_totals(queryset: QuerySet[Claim]) -> dict:
    t = queryset.aggregate(
        paid=Sum("amount_fen", filter=Q(status=Claim.Status.PAID)),
        open=Sum("amount_fen", filter=Q(status__in=(Claim.Status.PENDING, Claim.Status.PAYING))),
        failed=Sum("amount_fen", filter=Q(status=Claim.Status.FAILED)),
    )
    return {
        "count": queryset.count(),
        "paid_fen": t["paid"] or 0,
        "open_fen": t["open"] or 0,
        "failed_fen": t["failed"] or 0,
    }


def manual_claims_awaiting_payment() -> QuerySet[Claim]:
    return Claim.objects.filter(provider=Claim.Provider.MANUAL, status=Claim.Status.PENDING)
