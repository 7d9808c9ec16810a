"""Sandbox imitation of WeChat Pay's cash red packets (mmpaymkttransfers/sendredpack, gethbinfo).

Speaks WeChat's wire format — XML bodies, MD5 signature with the merchant key, return_code /
result_code / err_code — so `wechat.pay` runs unchanged against it. Idempotent by mch_billno
like the real thing: a bill number is paid at most once however often it is sent.

Fault switches (`set_fault`) imitate the outcomes a payout must survive:
- "pending": sendredpack answers SYSTEMERROR and the packet stays SENDING until the switch is
  cleared, after which gethbinfo (or a resend with the same bill number) reports SENT;
- "failed": WeChat refuses the packet for good (NO_AUTH) and gethbinfo reports FAILED;
- "timeout": the packet is sent, but the answer comes later than the client waits.
"""

from __future__ import annotations

import re
import secrets
import time
from xml.etree.ElementTree import ParseError

from defusedxml.ElementTree import fromstring
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from wechatpy.pay.utils import calculate_signature

from redpackets.models import SandboxRedPack
from wechat.pay import sandbox_credentials

FAULT_KEY = "sandbox:pay:fault"
FAULTS = {"": "正常", "pending": "处理中（SYSTEMERROR）", "failed": "发放失败（NO_AUTH）", "timeout": "应答超时"}
BILLNO_RE = re.compile(r"^[0-9A-Za-z]{1,28}$")


def get_fault() -> str:
    return cache.get(FAULT_KEY) or ""


def set_fault(mode: str) -> None:
    if mode not in FAULTS:
        raise ValueError(f"unknown sandbox pay fault {mode!r}")
    cache.set(FAULT_KEY, mode, None)


def _xml_response(fields: dict) -> HttpResponse:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return HttpResponse(f"<xml>{body}</xml>", content_type="text/xml; charset=utf-8")


def _fail(return_msg: str) -> HttpResponse:
    return _xml_response({"return_code": "FAIL", "return_msg": return_msg})


def _biz_fail(err_code: str, err_code_des: str, **extra) -> HttpResponse:
    return _xml_response(
        {
            "return_code": "SUCCESS",
            "return_msg": err_code_des,
            "result_code": "FAIL",
            "err_code": err_code,
            "err_code_des": err_code_des,
            **extra,
        }
    )


def _parse_signed(request) -> dict | HttpResponse:
    """Parse the XML body and check its MD5 signature; an HttpResponse means refuse."""
    try:
        root = fromstring(request.body)
    except ParseError:
        return _fail("XML格式错误")
    params = {child.tag: (child.text or "") for child in root}
    mch_id, api_key = sandbox_credentials()
    sign = params.pop("sign", "")
    if not sign or sign != calculate_signature(params, api_key):
        return _fail("签名错误")
    if params.get("mch_id") != mch_id:
        return _fail("商户号mch_id与appid不匹配")
    return params


def _record_in_emulator(packet: SandboxRedPack) -> None:
    """Put the packet in the user's chat in the phone emulator, as WeChat shows a red packet."""
    from wechat.sandbox.models import SandboxMessage, SandboxUser
    from wechat.sandbox.services import record_message

    user = SandboxUser.objects.filter(openid=packet.re_openid).first()
    if user is None:
        return
    yuan = f"{packet.total_amount // 100}.{packet.total_amount % 100:02d}"
    record_message(
        user=user,
        direction=SandboxMessage.Direction.TO_USER,
        kind=SandboxMessage.Kind.CUSTOM,
        msgtype="hongbao",
        text=f"[微信红包] {packet.send_name}：{packet.wishing or '恭喜发财，大吉大利'} ¥{yuan}",
        payload={"mch_billno": packet.mch_billno, "total_amount": packet.total_amount, "detail_id": packet.detail_id},
    )


@csrf_exempt
@require_POST
def sendredpack(request):
    params = _parse_signed(request)
    if isinstance(params, HttpResponse):
        return params
    billno = params.get("mch_billno", "")
    if not BILLNO_RE.match(billno):
        return _biz_fail("PARAM_ERROR", "商户订单号格式错误")
    if params.get("wxappid") != settings.WECHAT_APP_ID:
        return _biz_fail("APPID_MCHID_NOT_MATCH", "商户号和wxappid不匹配")
    if not params.get("client_ip"):
        return _biz_fail("PARAM_ERROR", "client_ip 不能为空")
    try:
        amount = int(params.get("total_amount", ""))
    except ValueError:
        return _biz_fail("PARAM_ERROR", "total_amount 格式错误")
    if not 100 <= amount <= 20000:
        return _biz_fail("MONEY_LIMIT", "每个红包的金额必须在1元到200元之间")
    openid = params.get("re_openid", "")
    if not openid:
        return _biz_fail("OPENID_ERROR", "openid字段必填")

    fault = get_fault()
    with transaction.atomic():
        packet = SandboxRedPack.objects.select_for_update().filter(mch_billno=billno).first()
        if packet is not None:
            if packet.re_openid != openid or packet.total_amount != amount:
                return _biz_fail("PARAM_ERROR", "该商户订单号已使用，请更换单号")
            packet.send_calls += 1
            if packet.status == SandboxRedPack.Status.SENDING and fault != "pending":
                packet.status = SandboxRedPack.Status.SENT
            packet.save(update_fields=["send_calls", "status", "updated_at"])
        else:
            status = {
                "pending": SandboxRedPack.Status.SENDING,
                "failed": SandboxRedPack.Status.FAILED,
            }.get(fault, SandboxRedPack.Status.SENT)
            packet = SandboxRedPack.objects.create(
                mch_billno=billno,
                detail_id="1000041701" + timezone.localtime().strftime("%Y%m%d") + secrets.token_hex(6),
                mch_id=params.get("mch_id", ""),
                wxappid=params.get("wxappid", ""),
                re_openid=openid,
                total_amount=amount,
                send_name=params.get("send_name", "")[:32],
                act_name=params.get("act_name", "")[:32],
                wishing=params.get("wishing", "")[:128],
                remark=params.get("remark", "")[:256],
                status=status,
                reason="此请求可能存在风险，已被微信拦截" if fault == "failed" else "",
            )
            if status == SandboxRedPack.Status.SENT:
                transaction.on_commit(lambda: _record_in_emulator(packet))

    if packet.status == SandboxRedPack.Status.SENDING:
        return _biz_fail("SYSTEMERROR", "系统繁忙，请稍后再试", mch_billno=billno)
    if packet.status == SandboxRedPack.Status.FAILED:
        return _biz_fail("NO_AUTH", "发放失败，此请求可能存在风险，已被微信拦截", mch_billno=billno)
    if fault == "timeout":
        # The packet is sent; the answer arrives after the client has given up waiting.
        time.sleep(float(getattr(settings, "WECHATPAY_TIMEOUT", 10)) + 1)
    return _xml_response(
        {
            "return_code": "SUCCESS",
            "return_msg": "发放成功",
            "result_code": "SUCCESS",
            "mch_billno": billno,
            "mch_id": packet.mch_id,
            "wxappid": packet.wxappid,
            "re_openid": openid,
            "total_amount": str(amount),
            "send_listid": packet.detail_id,
        }
    )


@csrf_exempt
@require_POST
def gethbinfo(request):
    params = _parse_signed(request)
    if isinstance(params, HttpResponse):
        return params
    billno = params.get("mch_billno", "")
    with transaction.atomic():
        packet = SandboxRedPack.objects.select_for_update().filter(mch_billno=billno).first()
        if packet is None:
            return _biz_fail("NOT_FOUND", "指定单号数据不存在")
        if packet.status == SandboxRedPack.Status.SENDING and get_fault() != "pending":
            packet.status = SandboxRedPack.Status.SENT
            packet.save(update_fields=["status", "updated_at"])
            transaction.on_commit(lambda: _record_in_emulator(packet))
    return _xml_response(
        {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "result_code": "SUCCESS",
            "mch_billno": packet.mch_billno,
            "mch_id": packet.mch_id,
            "detail_id": packet.detail_id,
            "status": packet.status,
            "send_type": "API",
            "hb_type": "NORMAL",
            "total_num": "1",
            "total_amount": str(packet.total_amount),
            "reason": packet.reason,
            "send_time": timezone.localtime(packet.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            "wishing": packet.wishing,
            "act_name": packet.act_name,
            "openid": packet.re_openid,
        }
    )


def index(request):
    """The sandbox merchant account: packets sent (optionally one user's) and the fault switch."""
    packets = SandboxRedPack.objects.all()
    openid = request.GET.get("openid", "")
    if openid:
        packets = packets.filter(re_openid=openid)
    return render(
        request,
        "redpackets/sandbox_pay.html",
        {"packets": packets[:100], "openid": openid, "fault": get_fault(), "faults": FAULTS},
    )


@require_POST
def fault(request):
    try:
        set_fault(request.POST.get("mode", ""))
    except ValueError:
        messages.error(request, "未知的故障类型")
    return redirect("sandbox:pay:index")


@require_POST
def open_packet(request, billno: str):
    """The user taps 开 in the emulator: SENT → RECEIVED, as WeChat reports it afterwards."""
    packet = get_object_or_404(SandboxRedPack, mch_billno=billno)
    SandboxRedPack.objects.filter(pk=packet.pk, status=SandboxRedPack.Status.SENT).update(
        status=SandboxRedPack.Status.RECEIVED, updated_at=timezone.now()
    )
    target = request.POST.get("next", "")
    if target.startswith("/sandbox/"):
        return redirect(target)
    return redirect(f"{request.path.rsplit('/open/', 1)[0]}/?openid={packet.re_openid}")
