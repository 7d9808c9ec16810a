"""WeChat Pay v2 cash red packets (现金红包) through wechatpy's WeChatPay.

The only module that talks to WeChat Pay. It answers in plain values (`RedPackOutcome`), never
wechatpy types, so `redpackets.payouts` does not import wechatpy.

With the sandbox (`sandbox=True`, or WECHAT_SANDBOX=1) the very same client is used; a
`requests` adapter mounted on `WeChatPay._http` rewrites https://api.mch.weixin.qq.com/… to
`{WECHAT_SANDBOX_BASE_URL}/sandbox/pay/…` (wechatpy hard-codes the Pay host). Settings are read
at call time so tests can point it at their live server.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay

from wechat.gateway import mount_wechat_adapter

# Credentials of the imitation merchant account; the sandbox signs and checks with the same key.
SANDBOX_MCH_ID = "1900000109"
SANDBOX_API_KEY = "sandboxPayKey0123456789abcdefABCD"

# Answers WeChat documents as "not finished, retry with the same mch_billno".
PENDING_ERRORS = {"SYSTEMERROR", "PROCESSING", "NOTENOUGH", "FREQ_LIMIT", "CA_ERROR"}
RECEIVED_STATES = {"SENT", "RECEIVED"}


@dataclass(frozen=True)
class RedPackOutcome:
    """state: "paid" | "pending" | "failed" | "not_found" (query only)."""

    state: str
    reference: str = ""
    message: str = ""


def sandbox_credentials() -> tuple[str, str]:
    """(mch_id, api_key) of the imitation merchant account; the sandbox verifies signatures with it."""
    return (
        getattr(settings, "WECHATPAY_MCH_ID", "") or SANDBOX_MCH_ID,
        getattr(settings, "WECHATPAY_API_KEY", "") or SANDBOX_API_KEY,
    )


def _client(*, sandbox: bool) -> WeChatPay:
    timeout = float(getattr(settings, "WECHATPAY_TIMEOUT", 10))
    use_sandbox = sandbox or settings.WECHAT_SANDBOX
    if use_sandbox:
        mch_id, api_key = sandbox_credentials()
        client = WeChatPay(appid=settings.WECHAT_APP_ID, api_key=api_key, mch_id=mch_id, timeout=timeout)
        # The gateway's adapter sends api.mch.weixin.qq.com to the sandbox's /sandbox/pay/ imitation.
        mount_wechat_adapter(client._http)
        return client
    return WeChatPay(
        appid=settings.WECHAT_APP_ID,
        api_key=settings.WECHATPAY_API_KEY,
        mch_id=settings.WECHATPAY_MCH_ID,
        mch_cert=settings.WECHATPAY_CERT_PATH or None,
        mch_key=settings.WECHATPAY_KEY_PATH or None,
        timeout=timeout,
    )


def _client_ip() -> str:
    # Passing it avoids wechatpy's DNS lookup of the Pay host on every call.
    return getattr(settings, "WECHATPAY_CLIENT_IP", "") or "127.0.0.1"


def _error_text(exc: WeChatPayException) -> str:
    return f"{exc.errcode or exc.return_code or 'HTTP'} {exc.errmsg or exc.return_msg or ''}".strip()


def send_cash_redpack(*, bill_no: str, openid: str, amount_fen: int, sandbox: bool = False) -> RedPackOutcome:
    """Send one cash red packet. `bill_no` is our idempotency key: a retry must reuse it.

    "paid" once WeChat accepted it (SENT), "pending" when the outcome is unknown (timeout,
    SYSTEMERROR, PROCESSING …: query or resend with the same bill number), "failed" when WeChat
    refused it for good.
    """
    client = _client(sandbox=sandbox)
    try:
        return _send(client, bill_no=bill_no, openid=openid, amount_fen=amount_fen)
    finally:
        # One short-lived session per call: nothing kept alive between payouts.
        client._http.close()


def _send(client: WeChatPay, *, bill_no: str, openid: str, amount_fen: int) -> RedPackOutcome:
    try:
        data = client.redpack.send(
            user_id=openid,
            total_amount=amount_fen,
            send_name=getattr(settings, "REDPACKET_SEND_NAME", "泛渠道平台"),
            act_name="预约有礼",
            wishing="感谢您的预约",
            remark="预约业务红包",
            client_ip=_client_ip(),
            out_trade_no=bill_no,
        )
    except WeChatPayException as exc:
        if exc.return_code is None or exc.errcode in PENDING_ERRORS:
            return RedPackOutcome("pending", message=_error_text(exc))
        return RedPackOutcome("failed", message=_error_text(exc))
    except requests.RequestException as exc:
        # The request may have reached WeChat: only a query can tell.
        return RedPackOutcome("pending", message=f"网络错误：{exc.__class__.__name__}")
    if not isinstance(data, dict):
        return RedPackOutcome("pending", message="无法解析的应答")
    return RedPackOutcome("paid", reference=str(data.get("send_listid") or ""))


def query_cash_redpack(*, bill_no: str, sandbox: bool = False) -> RedPackOutcome:
    """Ask WeChat (gethbinfo) what became of `bill_no`; "not_found" when it never arrived."""
    client = _client(sandbox=sandbox)
    try:
        return _query(client, bill_no=bill_no)
    finally:
        client._http.close()


def _query(client: WeChatPay, *, bill_no: str) -> RedPackOutcome:
    try:
        data = client.redpack.query(bill_no)
    except WeChatPayException as exc:
        if exc.errcode == "NOT_FOUND":
            return RedPackOutcome("not_found", message=_error_text(exc))
        return RedPackOutcome("pending", message=_error_text(exc))
    except requests.RequestException as exc:
        return RedPackOutcome("pending", message=f"网络错误：{exc.__class__.__name__}")
    if not isinstance(data, dict):
        return RedPackOutcome("pending", message="无法解析的应答")
    status = data.get("status", "")
    reference = str(data.get("detail_id") or "")
    if status in RECEIVED_STATES:
        return RedPackOutcome("paid", reference=reference)
    if status in ("FAILED", "REFUND", "RFUND_ING"):
        return RedPackOutcome("failed", reference=reference, message=f"{status} {data.get('reason', '')}".strip())
    return RedPackOutcome("pending", reference=reference, message=f"微信处理中（{status}）")
