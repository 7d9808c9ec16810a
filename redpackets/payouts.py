"""Payout providers behind one small interface, chosen by settings.PAYOUT_PROVIDER.

- `sandbox`: WeChat Pay cash red packets against the built-in sandbox imitation
  (/sandbox/pay/), so the whole path — wechatpy, XML, MD5 signature, HTTP — runs offline;
- `wechatpay`: the same client against WeChat Pay (or the sandbox when WECHAT_SANDBOX=1);
- `manual`: nothing is sent; finance pays (e.g. through Bestpay 翼支付) and marks claims paid
  or failed in the back office.

A provider's `pay(claim)` is called by `redpackets.services.process_payout` with the claim held
by that run. It must be safe to call again for the same claim: the claim's bill number is the
idempotency key, and after the first attempt we query before sending again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Claim


@dataclass(frozen=True)
class PayoutResult:
    state: str  # "paid" | "pending" | "failed"
    reference: str = ""
    message: str = ""

    @classmethod
    def pending(cls, message: str) -> PayoutResult:
        return cls("pending", message=message)


class ManualProvider:
    name = Claim.Provider.MANUAL
    automatic = False
    min_amount_fen = 1

    def pay(self, claim: Claim) -> PayoutResult:  # pragma: no cover - never called for manual claims
        return PayoutResult.pending("等待财务人工打款")


class WeChatRedPackProvider:
    """WeChat Pay v2 cash red packet (1–200 yuan each)."""

    automatic = True
    min_amount_fen = 100
    max_amount_fen = 20000

    def __init__(self, *, name: str, sandbox: bool):
        self.name = name
        self.sandbox = sandbox

    def pay(self, claim: Claim) -> PayoutResult:
        from wechat.pay import query_cash_redpack, send_cash_redpack

        if claim.attempts > 1:
            # An earlier attempt may have reached WeChat: ask before sending again.
            found = query_cash_redpack(bill_no=claim.bill_no, sandbox=self.sandbox)
            if found.state != "not_found":
                return PayoutResult(found.state, found.reference, found.message)
        sent = send_cash_redpack(
            bill_no=claim.bill_no, openid=claim.follower.openid, amount_fen=claim.amount_fen, sandbox=self.sandbox
        )
        return PayoutResult(sent.state, sent.reference, sent.message)


def get_provider(name: str):
    """The provider for `name` (a Claim.Provider value). Raises ValueError for an unknown name."""
    if name == Claim.Provider.MANUAL:
        return ManualProvider()
    if name == Claim.Provider.SANDBOX:
        return WeChatRedPackProvider(name=name, sandbox=True)
    if name == Claim.Provider.WECHATPAY:
        return WeChatRedPackProvider(name=name, sandbox=False)
    raise ValueError(f"unknown payout provider {name!r}")
