"""HTTP imitation of the WeChat API endpoints the gateway uses.

Same paths as `api.weixin.qq.com` / `mp.weixin.qq.com` under `/sandbox/`, WeChat's JSON shapes,
HTTP 200 with an `errcode` for errors, and switchable faults (`SandboxFault`). The gateway reaches
it with the unchanged wechatpy client through a host-rewriting adapter.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import threading
import time
from datetime import timedelta
from functools import wraps

import qrcode
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from wechat.sandbox import services
from wechat.sandbox.models import (
    SandboxApiCall,
    SandboxFault,
    SandboxMedia,
    SandboxMessage,
    SandboxOAuthCode,
    SandboxQRCode,
    SandboxToken,
    SandboxUser,
)

logger = logging.getLogger(__name__)

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40004: "invalid media type",
    40007: "invalid media_id",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40029: "invalid code",
    40037: "invalid template_id",
    40054: "invalid sub button url domain",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    42003: "code expired",
    43004: "require subscribe",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45065: "clientmsgid exist",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
}


def _rid() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def error(code: int, extra: str = "") -> JsonResponse:
    message = ERRMSG.get(code, "error") + (f" {extra}" if extra else "")
    return JsonResponse(
        {"errcode": code, "errmsg": f"{message} rid: {_rid()}"}, json_dumps_params={"ensure_ascii": False}
    )


def ok(**data) -> JsonResponse:
    return JsonResponse({"errcode": 0, "errmsg": "ok", **data}, json_dumps_params={"ensure_ascii": False})


class ApiError(Exception):
    def __init__(self, code: int):
        self.code = code


def _body(request) -> dict:
    if not request.body:
        raise ApiError(44002)
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(47001) from exc
    if not isinstance(data, dict):
        raise ApiError(47001)
    return data


def _user(openid: str) -> SandboxUser:
    user = SandboxUser.objects.filter(openid=openid or "").first()
    if user is None:
        raise ApiError(40003)
    return user


def endpoint(name: str, *, token: bool = True, message: bool = False):
    """Record the call, inject faults, check the access token, turn ApiError into errcode JSON.

    `message=True` marks endpoints that deliver to a user, where 43004/45015 faults apply.
    """

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            call = SandboxApiCall(
                endpoint=name, method=request.method, access_token=request.GET.get("access_token", "")
            )
            response = _dispatch(request, view, call, token, message, *args, **kwargs)
            call.http_status = response.status_code
            call.save()
            return response

        return wrapper

    return decorate


def _dispatch(request, view, call, token_required, message, *args, **kwargs):
    armed = services.armed_fault_kinds()
    slow = services.consume_fault(SandboxFault.Kind.SLOW, armed=armed)
    if slow:
        time.sleep(slow.delay_seconds)
    if services.consume_fault(SandboxFault.Kind.HTTP_5XX, armed=armed):
        call.errcode = -502
        return HttpResponse("<html><body>502 Bad Gateway</body></html>", status=502)
    try:
        if token_required:
            _check_token(call.access_token, armed=armed)
        if services.consume_fault(SandboxFault.Kind.BUSY, armed=armed):
            raise ApiError(-1)
        if services.consume_fault(SandboxFault.Kind.QUOTA, armed=armed):
            raise ApiError(45009)
        if message:
            if not _within_rate_limit():
                raise ApiError(45011)
            if services.consume_fault(SandboxFault.Kind.NOT_FOLLOWING, armed=armed):
                raise ApiError(43004)
            if services.consume_fault(SandboxFault.Kind.OUTSIDE_WINDOW, armed=armed):
                raise ApiError(45015)
        return view(request, *args, **kwargs)
    except ApiError as exc:
        call.errcode = exc.code
        return error(exc.code)


def _within_rate_limit() -> bool:
    """WeChat-like send limit (WECHAT_SANDBOX_SEND_LIMIT, e.g. "200/s"; empty = none): a fixed
    window counter in the cache, answered 45011 (per-period quota) once used up."""
    limit_text = getattr(settings, "WECHAT_SANDBOX_SEND_LIMIT", "")
    if not limit_text:
        return True
    count, _, unit = limit_text.partition("/")
    period = {"s": 1, "m": 60, "h": 3600}[(unit or "s").strip().lower()[:1]]
    key = f"sandbox:send-limit:{period}:{int(time.time() // period)}"
    cache.add(key, 0, period + 5)
    try:
        return cache.incr(key) <= int(count)
    except ValueError:  # expired between add and incr: a new window has begun
        return True


def _check_token(value: str, armed: set[str] | None = None) -> None:
    if not value:
        raise ApiError(41001)
    token = SandboxToken.objects.filter(token=value, kind=SandboxToken.Kind.API).first()
    if token is None:
        raise ApiError(40001)
    if token.revoked_code:
        raise ApiError(token.revoked_code)
    if token.expires_at <= timezone.now():
        raise ApiError(42001)
    for kind, code in ((SandboxFault.Kind.TOKEN_EXPIRED, 42001), (SandboxFault.Kind.TOKEN_REVOKED, 40001)):
        # Only tokens issued before the fault was armed fail, so a fresh token always works.
        if services.consume_fault(kind, token_issued_before=token.issued_at, armed=armed):
            SandboxToken.objects.filter(pk=token.pk).update(revoked_code=code)
            raise ApiError(code)


def _check_app(appid: str, secret: str) -> None:
    if appid != settings.WECHAT_APP_ID:
        raise ApiError(40013)
    if secret != settings.WECHAT_APP_SECRET:
        raise ApiError(40125)


# --- Access tokens ---------------------------------------------------------------------------------


@endpoint("stable_token", token=False)
def stable_token(request):
    data = _body(request)
    _check_app(data.get("appid", ""), data.get("secret", ""))
    current = None if data.get("force_refresh") else services.current_stable_token()
    if current is None:
        current = services.issue_token()
    expires_in = int((current.expires_at - timezone.now()).total_seconds())
    return JsonResponse({"access_token": current.token, "expires_in": expires_in})


@endpoint("token", token=False)
def token(request):
    _check_app(request.GET.get("appid", ""), request.GET.get("secret", ""))
    # The classic endpoint invalidates earlier tokens (after a short grace period).
    grace = timezone.now() + timezone.timedelta(minutes=5)
    SandboxToken.objects.filter(kind=SandboxToken.Kind.API, expires_at__gt=grace).update(expires_at=grace)
    issued = services.issue_token()
    return JsonResponse({"access_token": issued.token, "expires_in": services.TOKEN_SECONDS})


# --- Messages ------------------------------------------------------------------------------------


def _template_text(data: dict) -> str:
    lines = []
    for key, value in data.items():
        text = str(value.get("value", "")) if isinstance(value, dict) else str(value)
        # Since 2023 every keyword shows on one line, at most 20 characters.
        lines.append(f"{key}: {text[:20]}")
    return "\n".join(lines)


@endpoint("message/template/send", message=True)
def template_send(request):
    data = _body(request)
    user = _user(data.get("touser", ""))
    if not data.get("template_id"):
        raise ApiError(40037)
    if not isinstance(data.get("data"), dict):
        raise ApiError(47003)
    if not user.is_following:
        raise ApiError(43004)
    client_msg_id = str(data.get("client_msg_id") or "")[:64]
    with transaction.atomic():
        if client_msg_id:
            # 防重入: one message per openid + client_msg_id within 10 minutes, like WeChat.
            SandboxUser.objects.select_for_update().filter(pk=user.pk).first()
            earlier = (
                SandboxMessage.objects.filter(
                    user=user,
                    kind=SandboxMessage.Kind.TEMPLATE,
                    payload__client_msg_id=client_msg_id,
                    created_at__gte=timezone.now() - timedelta(minutes=10),
                )
                .values_list("msgid", flat=True)
                .first()
            )
            if earlier:
                return ok(msgid=earlier)
        msgid = services.new_msgid()
        services.record_message(
            user=user,
            direction=SandboxMessage.Direction.TO_USER,
            kind=SandboxMessage.Kind.TEMPLATE,
            msgtype="template",
            text=_template_text(data["data"]),
            payload=data,
            msgid=msgid,
        )
    _report_later(user.openid, "TEMPLATESENDJOBFINISH", {"MsgID": str(msgid), "Status": "success"})
    return ok(msgid=msgid)


def _report_later(openid: str, event: str, extra: dict) -> None:
    """WeChat reports template and mass deliveries with an event (TEMPLATESENDJOBFINISH,
    MASSSENDJOBFINISH) a moment after answering the API call.

    The sender thread never touches the database (the repeat switch is read here), so it
    leaves no connection behind.
    """
    from wechat.sandbox import callbacks

    repeat = services.repeat_deliveries()

    def deliver():
        time.sleep(0.3)
        try:
            callbacks.deliver_event(openid=openid, event=event, extra=extra, repeat=repeat)
        except Exception:  # noqa: BLE001 - the site may not be listening (e.g. during tests)
            logger.info("sandbox: %s %s not delivered", event, extra, exc_info=True)

    thread = threading.Thread(target=deliver, daemon=True)
    _receipts.add(thread)
    thread.start()


_receipts: set[threading.Thread] = set()


def drain_receipts(timeout: float = 5.0) -> None:
    """Wait for delivery reports still on their way (tests call this before the database is reset)."""
    for thread in list(_receipts):
        thread.join(timeout)
        _receipts.discard(thread)


@endpoint("message/custom/send", message=True)
def custom_send(request):
    data = _body(request)
    user = _user(data.get("touser", ""))
    msgtype = data.get("msgtype")
    if not user.is_following or not user.within_service_window():
        raise ApiError(45015)
    if msgtype == "text":
        text = (data.get("text") or {}).get("content", "")
        if not text:
            raise ApiError(47003)
    elif msgtype == "image":
        media_id = (data.get("image") or {}).get("media_id", "")
        if not SandboxMedia.objects.filter(media_id=media_id).exists():
            raise ApiError(40007)
        text = "[图片]"
    else:
        raise ApiError(47003)
    services.record_message(
        user=user,
        direction=SandboxMessage.Direction.TO_USER,
        kind=SandboxMessage.Kind.CUSTOM,
        msgtype=msgtype,
        text=text,
        payload=data,
        msgid=services.new_msgid(),
    )
    return ok()


# MASSSENDJOBFINISH comes from a WeChat system account, not from a follower.
MASS_REPORT_SENDER = "oSBXmasssendreport0000000000"


def _mass(request, recipients_from):
    data = _body(request)
    client_msg_id = data.get("clientmsgid")
    if client_msg_id:
        seen = services.get_state("mass_clientmsgids", {"ids": []})
        if client_msg_id in seen["ids"]:
            raise ApiError(45065)
        services.set_state("mass_clientmsgids", {"ids": [*seen["ids"][-500:], client_msg_id]})
    msgtype = data.get("msgtype")
    if msgtype == "text":
        text = (data.get("text") or {}).get("content", "")
        if not text:
            raise ApiError(47003)
    elif msgtype == "mpnews":
        draft = SandboxMedia.objects.filter(media_id=(data.get("mpnews") or {}).get("media_id", "")).first()
        if draft is None or not draft.articles:
            raise ApiError(40007)
        text = "\n".join(f"【图文】{a.get('title', '')}" for a in draft.articles)
    else:
        raise ApiError(47003)
    msg_id = services.new_msgid() % 10**10
    recipients = list(recipients_from(data))
    for user in recipients:
        services.record_message(
            user=user,
            direction=SandboxMessage.Direction.TO_USER,
            kind=SandboxMessage.Kind.MASS,
            msgtype=msgtype,
            text=text,
            payload=data,
            msgid=msg_id,
        )
    count = len(recipients)
    report = {"MsgID": str(msg_id), "Status": "send success", "TotalCount": count, "FilterCount": count}
    report.update({"SentCount": count, "ErrorCount": 0})
    _report_later(MASS_REPORT_SENDER, "MASSSENDJOBFINISH", report)
    return JsonResponse(
        {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id, "msg_data_id": msg_id // 10}
    )


@endpoint("message/mass/sendall")
def mass_sendall(request):
    # Tags are not imitated: a tag filter reaches every follower too.
    return _mass(request, lambda data: SandboxUser.objects.filter(is_following=True))


@endpoint("message/mass/send")
def mass_send(request):
    def recipients(data):
        openids = data.get("touser")
        if not isinstance(openids, list) or not 2 <= len(openids) <= 10000:
            raise ApiError(47003)
        return SandboxUser.objects.filter(openid__in=openids, is_following=True)

    return _mass(request, recipients)


@endpoint("draft/add")
def draft_add(request):
    data = _body(request)
    articles = data.get("articles")
    if not isinstance(articles, list) or not articles:
        raise ApiError(47003)
    if any(not a.get("title") or not a.get("content") for a in articles):
        raise ApiError(47003)
    media_id = secrets.token_urlsafe(32)
    SandboxMedia.objects.create(media_id=media_id, media_type="news", articles=articles)
    return JsonResponse({"media_id": media_id})


# --- Menu ---------------------------------------------------------------------------------------


def _check_button(button: dict, *, sub: bool) -> None:
    name = button.get("name", "")
    if not name or len(name.encode()) > (60 if sub else 16):
        raise ApiError(40018)
    kind = button.get("type")
    if kind == "view":
        url = button.get("url", "")
        if not url.startswith(("http://", "https://")) or len(url) > 1024:
            raise ApiError(40054)
    elif kind == "click":
        if not button.get("key") or len(button["key"].encode()) > 128:
            raise ApiError(40019)
    elif kind is None and not sub:
        subs = button.get("sub_button")
        if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
            raise ApiError(40023)
        for child in subs:
            _check_button(child, sub=True)
    else:
        raise ApiError(40017)


@endpoint("menu/create")
def menu_create(request):
    data = _body(request)
    buttons = data.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise ApiError(40016)
    for button in buttons:
        _check_button(button, sub=False)
    services.store_menu(buttons=buttons)
    return ok()


@endpoint("menu/get")
def menu_get(request):
    buttons = services.published_menu()
    if not buttons:
        raise ApiError(46003)
    return JsonResponse({"menu": {"button": buttons}}, json_dumps_params={"ensure_ascii": False})


# --- QR codes -------------------------------------------------------------------------------------


@endpoint("qrcode/create")
def qrcode_create(request):
    data = _body(request)
    action = data.get("action_name")
    scene = (data.get("action_info") or {}).get("scene") or {}
    if action in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
        scene_str = str(scene.get("scene_str", ""))
        if not 1 <= len(scene_str) <= 64:
            raise ApiError(47003)
    elif action in ("QR_SCENE", "QR_LIMIT_SCENE"):
        scene_id = scene.get("scene_id")
        if not isinstance(scene_id, int) or scene_id <= 0 or (action == "QR_LIMIT_SCENE" and scene_id > 100000):
            raise ApiError(47003)
        scene_str = str(scene_id)
    else:
        raise ApiError(47003)
    expire = None
    if action in ("QR_STR_SCENE", "QR_SCENE"):
        expire = min(max(int(data.get("expire_seconds") or 60), 60), 2592000)
    code = services.create_qr(action_name=action, scene_str=scene_str, expire_seconds=expire)
    body = {"ticket": code.ticket, "url": code.url}
    if expire:
        body["expire_seconds"] = expire
    return JsonResponse(body)


def showqrcode(request):
    """The QR image for a ticket (no token, like mp.weixin.qq.com/cgi-bin/showqrcode)."""
    code = SandboxQRCode.objects.filter(ticket=request.GET.get("ticket", "")).first()
    if code is None:
        return HttpResponse(status=404)
    image = qrcode.make(code.url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- Users --------------------------------------------------------------------------------------


def _user_info(user: SandboxUser) -> dict:
    if not user.is_following:
        return {"subscribe": 0, "openid": user.openid}
    # Since 2021-12-27 WeChat no longer returns nickname or avatar here.
    return {
        "subscribe": 1,
        "openid": user.openid,
        "nickname": "",
        "sex": 0,
        "language": "zh_CN",
        "city": "",
        "province": "",
        "country": "",
        "headimgurl": "",
        "subscribe_time": int(user.subscribed_at.timestamp()) if user.subscribed_at else 0,
        "remark": "",
        "groupid": 0,
        "tagid_list": [],
        "subscribe_scene": user.subscribe_scene or "ADD_SCENE_SEARCH",
        "qr_scene": 0,
        "qr_scene_str": user.qr_scene_str,
    }


PAGE_SIZE = 10000


@endpoint("user/get")
def user_get(request):
    qs = SandboxUser.objects.filter(is_following=True).order_by("id")
    total = qs.count()
    after = request.GET.get("next_openid", "")
    if after:
        anchor = SandboxUser.objects.filter(openid=after).first()
        if anchor is None:
            raise ApiError(40003)
        qs = qs.filter(id__gt=anchor.id)
    page = list(qs.values_list("openid", flat=True)[:PAGE_SIZE])
    if not page:
        return JsonResponse({"total": total, "count": 0, "next_openid": ""})
    return JsonResponse({"total": total, "count": len(page), "data": {"openid": page}, "next_openid": page[-1]})


@endpoint("user/info")
def user_info(request):
    return JsonResponse(_user_info(_user(request.GET.get("openid", ""))))


@endpoint("user/info/batchget")
def user_info_batch(request):
    items = _body(request).get("user_list")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise ApiError(47003)
    return JsonResponse({"user_info_list": [_user_info(_user((item or {}).get("openid", ""))) for item in items]})


# --- Media, JS-SDK, OAuth ---------------------------------------------------------------------------


@endpoint("media/upload")
def media_upload(request):
    upload = request.FILES.get("media")
    media_type = request.GET.get("type", "")
    if upload is None:
        raise ApiError(41005)
    if media_type not in ("image", "voice", "video", "thumb"):
        raise ApiError(40004)
    media = SandboxMedia.objects.create(
        media_id=secrets.token_urlsafe(32),
        media_type=media_type,
        content_type=upload.content_type or "",
        content=upload.read(),
    )
    return JsonResponse({"type": media_type, "media_id": media.media_id, "created_at": int(time.time())})


def media_get(request):
    media = SandboxMedia.objects.filter(media_id=request.GET.get("media_id", "")).exclude(media_type="news").first()
    if media is None:
        return error(40007)
    return HttpResponse(bytes(media.content), content_type=media.content_type or "application/octet-stream")


@endpoint("ticket/getticket")
def getticket(request):
    return ok(ticket=secrets.token_urlsafe(40), expires_in=7200)


@endpoint("sns/oauth2/access_token", token=False)
def oauth_access_token(request):
    _check_app(request.GET.get("appid", ""), request.GET.get("secret", ""))
    code = SandboxOAuthCode.objects.filter(code=request.GET.get("code", "")).first()
    if code is None:
        raise ApiError(40029)
    if code.used_at is not None:
        raise ApiError(40163)
    if timezone.now() - code.created_at > timezone.timedelta(minutes=5):
        raise ApiError(42003)
    if not SandboxOAuthCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise ApiError(40163)
    issued = services.issue_token(kind=SandboxToken.Kind.OAUTH, openid=code.openid)
    return JsonResponse(
        {
            "access_token": issued.token,
            "expires_in": services.TOKEN_SECONDS,
            "refresh_token": secrets.token_urlsafe(48),
            "openid": code.openid,
            "scope": "snsapi_base",
        }
    )
