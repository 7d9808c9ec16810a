"""Reads on followers shared by the H5 pages, the back office and notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from accounts.models import Follower, QRCode


def follower_by_openid(openid: str) -> Follower | None:
    return Follower.objects.filter(openid=openid).first()


def channel_managers() -> QuerySet[Follower]:
    """Current channel managers, for pickers and notifications."""
    return Follower.objects.filter(is_channel_manager=True).order_by("nickname", "id")


def customers_of(manager: Follower) -> QuerySet[Follower]:
    """Followers whose channel manager is `manager` (newest first; uses follower_manager_idx)."""
    return Follower.objects.filter(channel_manager=manager).order_by("-id")


def referrals_of(follower: Follower) -> QuerySet[Follower]:
    """Followers who came in through `follower`'s personal code (his direct downline)."""
    return Follower.objects.filter(referrer=follower).order_by("-id")


@dataclass(frozen=True)
class DownlineCounts:
    referrals: int  # direct referrals
    subscribed_referrals: int
    customers: int  # followers he is the channel manager of
    subscribed_customers: int


def downline_counts(follower: Follower) -> DownlineCounts:
    """Two aggregate queries, whatever the size of the downline."""
    ref = referrals_of(follower).aggregate(n=Count("id"), sub=Count("id", filter=Q(is_subscribed=True)))
    cus = customers_of(follower).aggregate(n=Count("id"), sub=Count("id", filter=Q(is_subscribed=True)))
    return DownlineCounts(ref["n"], ref["sub"], cus["n"], cus["sub"])


def upline(follower: Follower, *, max_depth: int = 20) -> list[Follower]:
    """The referrer chain above `follower`, nearest first (bounded: chains are acyclic but long ones exist)."""
    chain: list[Follower] = []
    seen = {follower.pk}
    current_id = follower.referrer_id
    while current_id and current_id not in seen and len(chain) < max_depth:
        parent = Follower.objects.filter(pk=current_id).first()
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.pk)
        current_id = parent.referrer_id
    return chain


def personal_qr_of(follower: Follower) -> QRCode | None:
    return QRCode.objects.filter(kind=QRCode.Kind.PERSONAL, code=follower.promo_code).first()
