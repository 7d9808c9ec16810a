"""H5 pages of red packets (我的红包, claim): parse, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.h5auth import follower_required
from backoffice.templatetags.money import fen_to_yuan_text

from . import selectors, services
from .forms import ClaimForm
from .models import Claim, Grant

# Claims per follower per window; a person tapping 领取 a few times is fine, a script is not.
CLAIM_RATE = (5, 60)


def _claim_allowed(follower) -> bool:
    limit, window = CLAIM_RATE
    key = f"rp:claim-rate:{follower.pk}"
    cache.add(key, 0, window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, window)
        return True


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


@follower_required
def mine(request):
    follower = request.follower
    return render(
        request,
        "redpackets/mine.html",
        {
            "totals": selectors.totals_for(follower=follower),
            "grants": selectors.grants_for(follower=follower)[:100],
            "claims": selectors.claims_for(follower=follower)[:100],
            "nav": "mine",
        },
    )


@follower_required
def claim(request, pk: int):
    grant = get_object_or_404(Grant.objects.select_related("booking__package"), pk=pk, follower=request.follower)
    next_url = _safe_next(request)
    status = 200
    if request.method == "POST":
        form = ClaimForm(request.POST, remaining_fen=grant.remaining_fen)
        if form.is_valid():
            if not _claim_allowed(request.follower):
                form.add_error(None, "操作太频繁，请稍后再试")
            else:
                try:
                    new_claim = services.claim(
                        grant=grant, follower=request.follower, amount_fen=form.cleaned_data["amount"]
                    )
                except services.ClaimError as exc:
                    form.add_error("amount", exc.message)
                else:
                    new_claim.refresh_from_db()
                    yuan = fen_to_yuan_text(new_claim.amount_fen)
                    if new_claim.status == Claim.Status.PAID:
                        messages.success(request, f"已领取 {yuan} 元，红包已发到您的微信")
                    elif new_claim.status == Claim.Status.FAILED:
                        messages.error(request, f"{yuan} 元发放失败，金额已退回，可重新领取")
                    else:
                        messages.success(request, f"已申请领取 {yuan} 元，正在发放")
                    return redirect(next_url or reverse("redpackets:mine"))
        grant.refresh_from_db()
        status = 400
    else:
        form = ClaimForm(initial={"amount": fen_to_yuan_text(grant.remaining_fen)}, remaining_fen=grant.remaining_fen)
    return render(request, "redpackets/claim.html", {"grant": grant, "form": form, "next": next_url}, status=status)
