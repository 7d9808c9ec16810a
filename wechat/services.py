"""Writes of the wechat app that involve WeChat: cached QR tickets, follower sync, the menu.

None of these runs a WeChat call inside an open transaction: the gateway call happens first,
then a short write.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from accounts import services as accounts
from accounts.models import Follower, QRCode
from wechat import gateway
from wechat.gateway import GatewayError
from wechat.models import MenuButton, OutboundMessage

logger = logging.getLogger(__name__)

SYNC_BATCH = 100  # user/info/batchget takes at most 100 OpenIDs


# --- QR codes ---------------------------------------------------------------------------------


def ensure_qr_ticket(*, qr_code: QRCode) -> QRCode:
    """Give `qr_code` a valid WeChat ticket, creating one only when missing or about to expire.

    Personal codes are temporary (30 days, renewed on view): permanent codes are capped at
    100,000 per account, far fewer than followers. Store and campaign codes are permanent
    (they end up printed on posters). Raises GatewayError.
    """
    if not gateway.qr_needs_renewal(ticket=qr_code.ticket, expires_at=qr_code.ticket_expires_at):
        return qr_code
    permanent = qr_code.kind != QRCode.Kind.PERSONAL
    ticket = gateway.create_qr(scene=qr_code.scene, permanent=permanent)
    qr_code.ticket, qr_code.url, qr_code.ticket_expires_at = ticket.ticket, ticket.url, ticket.expires_at
    qr_code.save(update_fields=["ticket", "url", "ticket_expires_at"])
    return qr_code


def promo_qr_image_url(*, follower: Follower) -> str:
    """URL of the follower's promo QR image ('' when WeChat cannot be reached right now)."""
    qr_code = accounts.personal_qr(follower)
    try:
        qr_code = ensure_qr_ticket(qr_code=qr_code)
    except GatewayError:
        logger.warning("promo QR for follower %s unavailable", follower.pk, exc_info=True)
        if not qr_code.ticket:
            return ""
    return gateway.qr_image_url(qr_code.ticket)


def campaign_qr_image_url(*, code: str, name: str) -> str:
    """A permanent campaign code's image (e.g. the "follow us first" page), '' if unavailable."""
    qr_code = accounts.ensure_qr_code(kind=QRCode.Kind.CAMPAIGN, code=code, name=name)
    try:
        qr_code = ensure_qr_ticket(qr_code=qr_code)
    except GatewayError:
        logger.warning("campaign QR %s unavailable", code, exc_info=True)
        if not qr_code.ticket:
            return ""
    return gateway.qr_image_url(qr_code.ticket)


# --- follower sync --------------------------------------------------------------------------------


def follower_for_sign_in(*, openid: str) -> Follower | None:
    """The follower an H5 sign-in belongs to, or None if he does not follow the account.

    Our record is trusted when it says "following". Otherwise WeChat is asked (`user/info`): a
    follower from before the platform that no sync imported yet, or one whose subscribe callback
    was lost, is imported (no referrer) instead of being told to follow an account he follows.
    WeChat being unreachable leaves our record as it is.
    """
    follower = Follower.objects.filter(openid=openid).first()
    if follower is not None and follower.is_subscribed:
        return follower
    try:
        info = gateway.follower_info(openid=openid)
    except GatewayError:
        logger.warning("user/info for sign-in failed", exc_info=True)
        return None
    if not info.get("subscribe"):
        return None
    subscribed_at = None
    if info.get("subscribe_time"):
        subscribed_at = datetime.fromtimestamp(int(info["subscribe_time"]), tz=UTC)
    return accounts.import_follower(
        openid=openid, subscribed_at=subscribed_at, unionid=info.get("unionid", "") or "", reason="H5登录时补录"
    )


@dataclass
class SyncResult:
    seen: int = 0
    imported: int = 0
    pages: int = 0


def sync_followers(*, stdout=None) -> SyncResult:
    """Import WeChat's follower list (10,000 OpenIDs a page, details 100 at a time), no referrer.

    Idempotent through `accounts.services.import_follower`. Raises GatewayError.
    """
    result = SyncResult()
    next_openid = ""
    while True:
        openids, next_openid = gateway.follower_page(next_openid=next_openid)
        result.pages += 1
        for start in range(0, len(openids), SYNC_BATCH):
            chunk = openids[start : start + SYNC_BATCH]
            infos = gateway.followers_info(openids=chunk)
            for info in infos:
                result.seen += 1
                if not info.get("subscribe"):
                    continue
                subscribed_at = None
                if info.get("subscribe_time"):
                    subscribed_at = datetime.fromtimestamp(int(info["subscribe_time"]), tz=UTC)
                accounts.import_follower(
                    openid=info["openid"],
                    subscribed_at=subscribed_at,
                    unionid=info.get("unionid", "") or "",
                    nickname=info.get("nickname", "") or "",
                )
                result.imported += 1
        if stdout is not None:
            stdout.write(f"已同步 {result.seen} 位粉丝（第 {result.pages} 页）")
        if not next_openid:
            return result


# --- custom menu -------------------------------------------------------------------------------------


def absolute_url(url: str) -> str:
    return settings.SITE_URL + url if url.startswith("/") else url


def menu_buttons() -> list[dict]:
    """The menu as WeChat's `menu/create` expects it, built from the MenuButton rows."""
    rows = list(MenuButton.objects.select_related("parent").order_by("position", "id"))
    children: dict[int, list[MenuButton]] = {}
    for row in rows:
        if row.parent_id:
            children.setdefault(row.parent_id, []).append(row)

    def leaf(row: MenuButton) -> dict:
        if row.kind == MenuButton.Kind.CLICK:
            return {"type": "click", "name": row.name, "key": row.key}
        return {"type": "view", "name": row.name, "url": absolute_url(row.url)}

    buttons = []
    for row in rows:
        if row.parent_id:
            continue
        subs = children.get(row.pk, [])
        if subs:
            buttons.append({"name": row.name, "sub_button": [leaf(child) for child in subs[:5]]})
        elif row.kind != MenuButton.Kind.PARENT:
            buttons.append(leaf(row))
    return buttons[:3]


def publish_menu() -> list[dict]:
    """Publish the MenuButton rows as the account's menu. Raises GatewayError."""
    buttons = menu_buttons()
    if not buttons:
        raise GatewayError("菜单为空，请先添加菜单项", permanent=True)
    gateway.publish_menu(buttons=buttons)
    return buttons


# --- delivery receipts ----------------------------------------------------------------------------


def record_delivery_status(*, msgid: str, status: str) -> int:
    """TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH: store WeChat's verdict on our OutboundMessage."""
    with transaction.atomic():
        return OutboundMessage.objects.filter(wechat_msgid=str(msgid)).update(delivery_status=status[:64])
