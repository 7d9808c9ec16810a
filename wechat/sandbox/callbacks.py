"""Deliver what a simulated user does to `/wechat/callback`, signed exactly as WeChat signs it.

Plaintext mode: query `signature, timestamp, nonce, openid`, XML body. Safe mode (WECHAT_AES_KEY
set): also `encrypt_type=aes, msg_signature`, body `<xml><ToUserName/><Encrypt/></xml>`. The
passive reply is decrypted when needed and returned so the emulator can show it in the chat.
With "repeat deliveries" switched on every delivery is sent three times with the same body,
as WeChat does when an answer is late.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

import requests
from defusedxml import ElementTree
from django.conf import settings
from wechatpy.crypto import WeChatCrypto

from wechat.sandbox import services

TIMEOUT_SECONDS = 5  # WeChat gives up after five seconds


@dataclass
class Delivery:
    status: int | None
    body: str
    reply: dict | None  # parsed passive reply ({"MsgType": "text", "Content": …}) or None
    attempts: int
    error: str = ""


def account_original_id() -> str:
    return "gh_" + hashlib.sha1(settings.WECHAT_APP_ID.encode()).hexdigest()[:12]


def _cdata(value: str) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(*, openid: str, msg_type: str, fields: dict, create_time: int | None = None) -> str:
    parts = [
        f"<ToUserName>{_cdata(account_original_id())}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        if isinstance(value, int):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}>{_cdata(value)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _signature(*items: str) -> str:
    return hashlib.sha1("".join(sorted(items)).encode()).hexdigest()


def _crypto() -> WeChatCrypto | None:
    if not settings.WECHAT_AES_KEY:
        return None
    return WeChatCrypto(settings.WECHAT_TOKEN, settings.WECHAT_AES_KEY, settings.WECHAT_APP_ID)


def _post_once(xml: str, openid: str, session: requests.Session) -> requests.Response:
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(5)
    params = {"signature": _signature(settings.WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp}
    params.update({"nonce": nonce, "openid": openid})
    body = xml
    crypto = _crypto()
    if crypto is not None:
        encrypted = ElementTree.fromstring(crypto.encrypt_message(xml, nonce, timestamp))
        encrypt = encrypted.findtext("Encrypt")
        params.update(
            {"encrypt_type": "aes", "msg_signature": _signature(settings.WECHAT_TOKEN, timestamp, nonce, encrypt)}
        )
        body = (
            f"<xml><ToUserName>{_cdata(account_original_id())}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        )
    return session.post(
        settings.SITE_URL + "/wechat/callback",
        params=params,
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "Mozilla/4.0 (sandbox WeChat server)"},
        timeout=TIMEOUT_SECONDS,
    )


def parse_reply(text: str) -> dict | None:
    """The passive reply as a dict of its XML fields; None for '', 'success' or an invalid reply."""
    text = (text or "").strip()
    if not text or text == "success":
        return None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return {"invalid": text[:200]}
    crypto = _crypto()
    if root.find("Encrypt") is not None and crypto is not None:
        plain = crypto.decrypt_message(
            text, root.findtext("MsgSignature"), root.findtext("TimeStamp"), root.findtext("Nonce")
        )
        root = ElementTree.fromstring(plain)
    reply = {child.tag: (child.text or "") for child in root}
    articles = root.find("Articles")
    if articles is not None:
        reply["Articles"] = [{c.tag: (c.text or "") for c in item} for item in articles]
    return reply


def deliver(*, openid: str, msg_type: str, fields: dict, repeat: bool | None = None) -> Delivery:
    """Send one message/event (and its repeats, if switched on). Never raises for HTTP trouble.

    `repeat=None` reads the emulator's switch; background senders pass it explicitly so that
    they never touch the database.
    """
    xml = build_xml(openid=openid, msg_type=msg_type, fields=fields)
    if repeat is None:
        repeat = services.repeat_deliveries()
    attempts = 3 if repeat else 1
    first = None
    with requests.Session() as session:
        for _ in range(attempts):
            try:
                response = _post_once(xml, openid, session)
            except requests.RequestException as exc:
                result = Delivery(status=None, body="", reply=None, attempts=attempts, error=exc.__class__.__name__)
            else:
                result = Delivery(
                    status=response.status_code,
                    body=response.text,
                    reply=parse_reply(response.text) if response.status_code == 200 else None,
                    attempts=attempts,
                )
            first = first or result
    return first


def deliver_event(*, openid: str, event: str, extra: dict | None = None, repeat: bool | None = None) -> Delivery:
    fields = {"Event": event}
    fields.update(extra or {})
    return deliver(openid=openid, msg_type="event", fields=fields, repeat=repeat)


def describe_reply(reply: dict | None) -> str:
    if not reply:
        return ""
    if "invalid" in reply:
        return "该公众号暂时无法提供服务，请稍后再试"
    kind = reply.get("MsgType")
    if kind == "text":
        return reply.get("Content", "")
    if kind == "news":
        return "\n".join(f"【图文】{a.get('Title', '')}" for a in reply.get("Articles", []))
    if kind == "image":
        return "[图片]"
    return f"[{escape(kind or '消息')}]"
