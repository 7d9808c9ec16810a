"""Writes to the sandbox's imitation state (WeChat's side of the world).

Used by the HTTP imitation (`api.py`), the phone emulator (`views.py`), `wechat/demo.py` and
tests that arrange a failure ("arm a fault") before calling the gateway.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from wechat.sandbox.models import (
    SandboxFault,
    SandboxMessage,
    SandboxOAuthCode,
    SandboxQRCode,
    SandboxState,
    SandboxToken,
    SandboxUser,
)

MENU_STATE = "menu"
REPEAT_STATE = "repeat_deliveries"
TOKEN_SECONDS = 7200


def create_user(*, nickname: str, openid: str | None = None) -> SandboxUser:
    """A new simulated WeChat user (not following yet)."""
    kwargs = {"nickname": nickname.strip()[:64] or "微信用户"}
    if openid:
        kwargs["openid"] = openid
    return SandboxUser.objects.create(**kwargs)


def set_following(*, user: SandboxUser, following: bool, scene_str: str = "") -> None:
    """WeChat's own record of the follow (the callback to the platform is sent separately)."""
    now = timezone.now()
    user.is_following = following
    user.last_interaction_at = now
    if following:
        user.subscribed_at = now
        user.subscribe_scene = "ADD_SCENE_QR_CODE" if scene_str else "ADD_SCENE_SEARCH"
        user.qr_scene_str = scene_str
    user.save(update_fields=["is_following", "last_interaction_at", "subscribed_at", "subscribe_scene", "qr_scene_str"])


def touch(*, user: SandboxUser) -> None:
    """The user wrote or tapped something: WeChat's 48-hour customer-service window reopens."""
    user.last_interaction_at = timezone.now()
    user.save(update_fields=["last_interaction_at"])


def record_message(
    *, user: SandboxUser, direction: str, kind: str, text: str = "", msgtype: str = "", payload=None, msgid=None
) -> SandboxMessage:
    return SandboxMessage.objects.create(
        user=user, direction=direction, kind=kind, text=text, msgtype=msgtype, payload=payload or {}, msgid=msgid
    )


def new_msgid() -> int:
    # WeChat's msgids are large positive 64-bit integers.
    return secrets.randbelow(2**62) + 2**40


# --- Tokens and OAuth codes ----------------------------------------------------------------------


def issue_token(*, kind: str = SandboxToken.Kind.API, openid: str = "") -> SandboxToken:
    now = timezone.now()
    return SandboxToken.objects.create(
        token=secrets.token_urlsafe(48),
        kind=kind,
        openid=openid,
        issued_at=now,
        expires_at=now + timedelta(seconds=TOKEN_SECONDS),
    )


def current_stable_token() -> SandboxToken | None:
    return (
        SandboxToken.objects.filter(
            kind=SandboxToken.Kind.API, revoked_code__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-id")
        .first()
    )


def issue_oauth_code(*, openid: str) -> str:
    code = secrets.token_urlsafe(24)
    SandboxOAuthCode.objects.create(code=code, openid=openid)
    return code


# --- Faults --------------------------------------------------------------------------------------


def arm_fault(*, kind: str, times: int = 1, delay_seconds: float = 3.0) -> SandboxFault:
    """Make the next `times` matching calls fail with `kind`. Token faults only hit tokens issued
    before this moment, so a freshly fetched token always works (a client retrying once recovers)."""
    if kind not in SandboxFault.Kind.values:
        raise ValueError(f"unknown fault {kind!r}")
    fault, _ = SandboxFault.objects.update_or_create(
        kind=kind,
        defaults={"remaining": max(times, 0), "delay_seconds": delay_seconds, "armed_at": timezone.now()},
    )
    return fault


def disarm_faults() -> None:
    SandboxFault.objects.update(remaining=0)


def armed_fault_kinds() -> set[str]:
    """The kinds with injections left: one query per API call instead of one per kind."""
    return set(SandboxFault.objects.filter(remaining__gt=0).values_list("kind", flat=True))


def consume_fault(kind: str, *, token_issued_before=None, armed: set[str] | None = None) -> SandboxFault | None:
    """Use one injection of `kind` if armed (atomically: two concurrent calls cannot both use the last)."""
    if armed is not None and kind not in armed:
        return None
    qs = SandboxFault.objects.filter(kind=kind, remaining__gt=0)
    if token_issued_before is not None:
        qs = qs.filter(armed_at__gt=token_issued_before)
    fault = qs.first()
    if fault is None:
        return None
    taken = SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1)
    return fault if taken else None


# --- Named state ------------------------------------------------------------------------------


def get_state(key: str, default=None):
    row = SandboxState.objects.filter(key=key).first()
    return default if row is None else row.value


def set_state(key: str, value) -> None:
    SandboxState.objects.update_or_create(key=key, defaults={"value": value})


def published_menu() -> list[dict] | None:
    value = get_state(MENU_STATE)
    return value.get("button") if value else None


def store_menu(*, buttons: list[dict]) -> None:
    """WeChat's copy of the published menu (menu/create writes it; so does the offline seed)."""
    set_state(MENU_STATE, {"button": buttons})


def repeat_deliveries() -> bool:
    return bool(get_state(REPEAT_STATE, {}).get("on"))


def set_repeat_deliveries(on: bool) -> None:
    set_state(REPEAT_STATE, {"on": bool(on)})


# --- QR codes ---------------------------------------------------------------------------------


def create_qr(*, action_name: str, scene_str: str, expire_seconds: int | None) -> SandboxQRCode:
    expires_at = timezone.now() + timedelta(seconds=expire_seconds) if expire_seconds else None
    return SandboxQRCode.objects.create(
        ticket="gQ" + secrets.token_urlsafe(36),
        action_name=action_name,
        scene_str=scene_str,
        url=f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}",
        expires_at=expires_at,
    )


def qr_for_scene(*, scene_str: str, ticket: str = "") -> SandboxQRCode:
    """The imitation's QR code for a scene: the platform's cached ticket if WeChat issued it,
    else a fresh permanent one (what printing a poster from WeChat's own console would do)."""
    if ticket:
        found = SandboxQRCode.objects.filter(ticket=ticket, scene_str=scene_str).first()
        if found:
            return found
    found = SandboxQRCode.objects.filter(scene_str=scene_str, expires_at__isnull=True).order_by("-id").first()
    return found or create_qr(action_name="QR_LIMIT_STR_SCENE", scene_str=scene_str, expire_seconds=None)


def new_media_id() -> str:
    return secrets.token_urlsafe(32)
