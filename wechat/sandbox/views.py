"""The phone emulator at /sandbox/ and the imitation's browser pages (OAuth authorize).

Every emulator action changes WeChat's side of the state (SandboxUser, SandboxMessage) and then
sends the platform the signed callback WeChat would send; the passive reply is shown in the chat.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from PIL import Image, UnidentifiedImageError

from accounts import services as accounts_services
from accounts.h5auth import logout_follower
from accounts.models import Follower, QRCode
from wechat.sandbox import callbacks, services
from wechat.sandbox.models import SandboxFault, SandboxMedia, SandboxMessage, SandboxUser

SESSION_OPENID = "sandbox_openid"
Direction = SandboxMessage.Direction
MsgKind = SandboxMessage.Kind
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def _note(user: SandboxUser, text: str) -> None:
    """A grey system line in the chat ("你关注了公众号")."""
    services.record_message(user=user, direction=Direction.FROM_USER, kind=MsgKind.EVENT, text=text)


def _show_reply(user: SandboxUser, delivery: callbacks.Delivery) -> None:
    if delivery.status != 200 or (delivery.reply and "invalid" in delivery.reply):
        # What a WeChat user sees when the account's server fails or is too slow.
        services.record_message(
            user=user,
            direction=Direction.TO_USER,
            kind=MsgKind.REPLY,
            text="该公众号暂时无法提供服务，请稍后再试",
            payload={"status": delivery.status, "error": delivery.error},
        )
        return
    text = callbacks.describe_reply(delivery.reply)
    if text:
        services.record_message(
            user=user,
            direction=Direction.TO_USER,
            kind=MsgKind.REPLY,
            msgtype=delivery.reply.get("MsgType", ""),
            text=text,
            payload=delivery.reply,
        )


def _sandbox_menu() -> list[dict]:
    return services.published_menu() or []


# --- pages -----------------------------------------------------------------------------------------


def index(request):
    users = SandboxUser.objects.order_by("-is_following", "id")
    return render(
        request,
        "sandbox/index.html",
        {"users": users, "faults": _fault_rows(), "repeat": services.repeat_deliveries()},
    )


@require_POST
def create_user(request):
    nickname = request.POST.get("nickname", "").strip()
    if not nickname:
        messages.error(request, "请输入昵称")
        return redirect("sandbox:index")
    user = services.create_user(nickname=nickname)
    return redirect("sandbox:phone", openid=user.openid)


def _qr_label(code: QRCode, nicknames: dict[str, str]) -> str:
    owner = code.follower.openid if code.follower_id else ""
    if owner and owner in nicknames:
        return f"{nicknames[owner]}的推广码"
    return code.name or code.scene


QR_CHOICES_LIMIT = 200


def _qr_choices(user: SandboxUser) -> list[dict]:
    """Every code a user could scan: the QRCode rows, plus the personal code of every follower
    who has none yet (it is created when scanned, as his personal center would create it).
    Labelled with the owner's WeChat nickname where the sandbox knows him."""
    codes = list(
        QRCode.objects.filter(is_active=True).select_related("follower").order_by("kind", "id")[:QR_CHOICES_LIMIT]
    )
    without_code = list(
        Follower.objects.filter(is_subscribed=True)
        .exclude(promo_code__in=QRCode.objects.filter(kind=QRCode.Kind.PERSONAL).values("code"))
        .order_by("-id")[:QR_CHOICES_LIMIT]
    )
    openids = [code.follower.openid for code in codes if code.follower_id] + [f.openid for f in without_code]
    nicknames = dict(SandboxUser.objects.filter(openid__in=openids).values_list("openid", "nickname"))
    rows = [
        {
            "field": "qr_id",
            "value": code.pk,
            "scene": code.scene,
            "kind": code.get_kind_display(),
            "label": _qr_label(code, nicknames),
            "own": code.follower_id is not None and code.follower.openid == user.openid,
        }
        for code in codes
    ]
    for follower in without_code:
        rows.append(
            {
                "field": "follower_id",
                "value": follower.pk,
                "scene": f"{QRCode.Kind.PERSONAL}:{follower.promo_code}",
                "kind": QRCode.Kind.PERSONAL.label,
                "label": f"{nicknames.get(follower.openid) or follower.display_name}的推广码",
                "own": follower.openid == user.openid,
            }
        )
    return rows


def phone(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    chat = list(user.messages.order_by("id"))
    return render(
        request,
        "sandbox/phone.html",
        {
            "user": user,
            "chat": chat,
            "last_id": chat[-1].id if chat else 0,
            "menu": _sandbox_menu(),
            "qr_codes": _qr_choices(user),
            "site_url": settings.SITE_URL,
        },
    )


def chat_since(request, openid):
    """New chat lines after `after` (the phone page polls this to show messages as they arrive)."""
    user = get_object_or_404(SandboxUser, openid=openid)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        return HttpResponseBadRequest("after")
    chat = list(user.messages.filter(id__gt=after).order_by("id"))
    response = render(request, "sandbox/_chat.html", {"chat": chat, "user": user})
    response["X-Last-Id"] = str(chat[-1].id if chat else after)
    return response


# --- actions ---------------------------------------------------------------------------------------


@require_POST
def follow(request, openid):
    """Follow by searching the account: a subscribe event without a scene."""
    user = get_object_or_404(SandboxUser, openid=openid)
    if user.is_following:
        messages.info(request, "已经关注了")
        return redirect("sandbox:phone", openid=openid)
    services.set_following(user=user, following=True)
    _note(user, "你通过搜索关注了公众号")
    _show_reply(user, callbacks.deliver_event(openid=openid, event="subscribe", extra={"EventKey": ""}))
    return redirect("sandbox:phone", openid=openid)


@require_POST
def unfollow(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    if not user.is_following:
        return redirect("sandbox:phone", openid=openid)
    services.set_following(user=user, following=False)
    _note(user, "你取消关注了公众号")
    callbacks.deliver_event(openid=openid, event="unsubscribe", extra={"EventKey": ""})
    return redirect("sandbox:phone", openid=openid)


@require_POST
def scan(request, openid):
    """Scan a personal / store / campaign code: subscribe with qrscene_<scene>, or SCAN if following."""
    user = get_object_or_404(SandboxUser, openid=openid)
    if request.POST.get("follower_id"):
        owner = get_object_or_404(Follower, pk=request.POST["follower_id"])
        code = accounts_services.personal_qr(owner)
    else:
        code = get_object_or_404(QRCode, pk=request.POST.get("qr_id"))
    sandbox_qr = services.qr_for_scene(scene_str=code.scene, ticket=code.ticket)
    owner = code.follower.openid if code.follower_id else ""
    nicknames = dict(SandboxUser.objects.filter(openid=owner).values_list("openid", "nickname"))
    label = _qr_label(code, nicknames)
    if user.is_following:
        _note(user, f"你扫描了「{label}」")
        services.touch(user=user)
        delivery = callbacks.deliver_event(
            openid=openid, event="SCAN", extra={"EventKey": code.scene, "Ticket": sandbox_qr.ticket}
        )
    else:
        services.set_following(user=user, following=True, scene_str=code.scene)
        _note(user, f"你扫描「{label}」关注了公众号")
        delivery = callbacks.deliver_event(
            openid=openid, event="subscribe", extra={"EventKey": f"qrscene_{code.scene}", "Ticket": sandbox_qr.ticket}
        )
    _show_reply(user, delivery)
    return redirect("sandbox:phone", openid=openid)


def _menu_button(key: str = "", url: str = "") -> dict | None:
    for button in _sandbox_menu():
        for item in [button, *button.get("sub_button", [])]:
            if key and item.get("key") == key:
                return item
            if url and item.get("url") == url:
                return item
    return None


@require_POST
def click(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    key = request.POST.get("key", "")
    button = _menu_button(key=key)
    if not user.is_following or button is None:
        return HttpResponseBadRequest("菜单项不存在或未关注")
    services.touch(user=user)
    _note(user, f"你点击了菜单「{button['name']}」")
    _show_reply(user, callbacks.deliver_event(openid=openid, event="CLICK", extra={"EventKey": key}))
    return redirect("sandbox:phone", openid=openid)


@require_POST
def view(request, openid):
    """A VIEW menu button: the VIEW event, then the page opens in the user's in-WeChat browser."""
    user = get_object_or_404(SandboxUser, openid=openid)
    url = request.POST.get("url", "")
    if not user.is_following or _menu_button(url=url) is None:
        return HttpResponseBadRequest("菜单项不存在或未关注")
    services.touch(user=user)
    callbacks.deliver_event(openid=openid, event="VIEW", extra={"EventKey": url})
    return _open_as(request, user, url)


@require_POST
def send_text(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    text = request.POST.get("text", "").strip()[:600]
    if not text:
        return redirect("sandbox:phone", openid=openid)
    if not user.is_following:
        messages.error(request, "关注公众号后才能发消息")
        return redirect("sandbox:phone", openid=openid)
    msgid = services.new_msgid()
    services.touch(user=user)
    services.record_message(
        user=user, direction=Direction.FROM_USER, kind=MsgKind.TEXT, msgtype="text", text=text, msgid=msgid
    )
    _show_reply(user, callbacks.deliver(openid=openid, msg_type="text", fields={"Content": text, "MsgId": msgid}))
    return redirect("sandbox:phone", openid=openid)


@require_POST
def send_image(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    upload = request.FILES.get("image")
    if not user.is_following or upload is None or upload.size > IMAGE_MAX_BYTES:
        messages.error(request, "请选择不超过5MB的图片（需已关注）")
        return redirect("sandbox:phone", openid=openid)
    try:
        image = Image.open(upload)
        image.load()
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=85)
    except (UnidentifiedImageError, OSError):
        messages.error(request, "无法识别的图片")
        return redirect("sandbox:phone", openid=openid)
    media = SandboxMedia.objects.create(
        media_id=services.new_media_id(), media_type="image", content_type="image/jpeg", content=buffer.getvalue()
    )
    msgid = services.new_msgid()
    pic_url = settings.SITE_URL + reverse("sandbox:picture", args=[media.media_id])
    services.touch(user=user)
    services.record_message(
        user=user,
        direction=Direction.FROM_USER,
        kind=MsgKind.IMAGE,
        msgtype="image",
        text="[图片]",
        payload={"media_id": media.media_id},
        msgid=msgid,
    )
    delivery = callbacks.deliver(
        openid=openid, msg_type="image", fields={"PicUrl": pic_url, "MsgId": msgid, "MediaId": media.media_id}
    )
    _show_reply(user, delivery)
    return redirect("sandbox:phone", openid=openid)


def picture(request, media_id):
    """The image a user sent (WeChat serves these from mmbiz.qpic.cn without a token)."""
    media = get_object_or_404(SandboxMedia, media_id=media_id, media_type="image")
    return HttpResponse(bytes(media.content), content_type=media.content_type or "image/jpeg")


def _local_path(request, url: str) -> str | None:
    """The site path of `url` if it points at this site (relative, or absolute on SITE_URL / this host)."""
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=False):
        return None
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _open_as(request, user: SandboxUser, url: str):
    path = _local_path(request, url)
    if path is None:
        return HttpResponseBadRequest("只能打开本站的页面")
    # One browser plays every simulated user: forget the H5 sign-in of the previous one, and let
    # the imitation's silent snsapi_base authorize answer for this user.
    logout_follower(request)
    request.session[SESSION_OPENID] = user.openid
    return redirect(path)


@require_POST
def open_page(request, openid):
    user = get_object_or_404(SandboxUser, openid=openid)
    return _open_as(request, user, request.POST.get("url", "/h5/"))


# --- faults -----------------------------------------------------------------------------------------


def _fault_rows():
    armed = {f.kind: f for f in SandboxFault.objects.all()}
    return [{"kind": kind, "label": label, "fault": armed.get(kind)} for kind, label in SandboxFault.Kind.choices]


@require_POST
def faults(request):
    action = request.POST.get("action")
    if action == "disarm":
        services.disarm_faults()
        messages.success(request, "已清除全部故障")
    elif action == "repeat":
        services.set_repeat_deliveries(request.POST.get("on") == "1")
        messages.success(request, "已切换重复推送")
    else:
        try:
            times = int(request.POST.get("times", "1"))
            delay = float(request.POST.get("delay", "3"))
            services.arm_fault(kind=request.POST.get("kind", ""), times=times, delay_seconds=delay)
        except ValueError:
            return HttpResponseBadRequest("参数错误")
        messages.success(request, "故障已启用")
    return redirect(
        request.POST.get("back") if request.POST.get("back", "").startswith("/sandbox/") else "sandbox:index"
    )


# --- OAuth authorize (open.weixin.qq.com/connect/oauth2/authorize) ------------------------------------


def authorize(request):
    """Pick which simulated user you are; silent when the emulator already said who is browsing."""
    params = request.GET if request.method == "GET" else request.POST
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state", "")
    if params.get("appid") != settings.WECHAT_APP_ID:
        return render(request, "sandbox/authorize_error.html", {"message": "appid 无效 (40013)"}, status=400)
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if not redirect_uri or not url_has_allowed_host_and_scheme(redirect_uri, allowed_hosts=hosts):
        return render(
            request, "sandbox/authorize_error.html", {"message": "redirect_uri 域名与后台配置不一致"}, status=400
        )
    openid = ""
    if request.method == "POST":
        openid = request.POST.get("openid", "")
        request.session[SESSION_OPENID] = openid
    else:
        openid = request.session.get(SESSION_OPENID, "")
    user = SandboxUser.objects.filter(openid=openid).first() if openid else None
    if user is None:
        return render(
            request,
            "sandbox/authorize.html",
            {"users": SandboxUser.objects.order_by("-is_following", "id"), "params": params},
        )
    code = services.issue_oauth_code(openid=user.openid)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}")
