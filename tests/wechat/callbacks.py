"""Build signed WeChat callback requests (plaintext or AES safe mode) from stored XML fixtures.

    from tests.wechat.callbacks import fixture, post_callback
    response = post_callback(client, fixture("subscribe_scan", openid="oA", scene="u:ABC"))

`post_callback` signs with settings.WECHAT_TOKEN and, when settings.WECHAT_AES_KEY is set,
encrypts the body exactly as WeChat's safe mode does (so use `override_settings`/`settings`
to switch modes). `decode_reply` turns a passive reply (plain or encrypted) back into a dict.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from pathlib import Path
from urllib.parse import urlencode

import xmltodict
from django.conf import settings
from django.test import Client
from wechatpy.crypto import WeChatCrypto

FIXTURES = Path(__file__).parent / "fixtures"
CALLBACK_URL = "/wechat/callback"
_counter = itertools.count(1)


def fixture(name: str, **values) -> str:
    """The stored XML `fixtures/<name>.xml` with its `{placeholders}` filled in.

    Defaults: a fresh unique CreateTime and MsgId for each call (so two calls are two
    deliveries); pass create_time/msg_id explicitly to build retries of the same delivery.
    """
    n = next(_counter)
    defaults = {
        "openid": "oTESTopenid0000000000000001",
        "create_time": int(time.time()) + n,
        "msg_id": 6_000_000_000_000_000_000 + n,
        "scene": "",
        "content": "你好",
        "key": "MENU_KEY",
    }
    return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8").format(**{**defaults, **values})


def sign(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def signed_query(*, token: str | None = None, timestamp: str | None = None, nonce: str = "nonce123", **extra) -> dict:
    token = token if token is not None else settings.WECHAT_TOKEN
    timestamp = timestamp or str(int(time.time()))
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}


def build_request(xml: str, *, token: str | None = None, aes_key: str | None = None, nonce: str = "nonce123"):
    """(query string, body) of a delivery as WeChat would send it."""
    token = token if token is not None else settings.WECHAT_TOKEN
    aes_key = settings.WECHAT_AES_KEY if aes_key is None else aes_key
    timestamp = str(int(time.time()))
    query = signed_query(token=token, timestamp=timestamp, nonce=nonce)
    body = xml
    if aes_key:
        crypto = WeChatCrypto(token, aes_key, settings.WECHAT_APP_ID)
        envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[gh_sandbox000001]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    return urlencode(query), body


def post_callback(client: Client, xml: str, **kwargs):
    query, body = build_request(xml, **kwargs)
    return client.post(f"{CALLBACK_URL}?{query}", data=body, content_type="text/xml")


def decode_reply(response, *, nonce: str = "nonce123") -> dict | None:
    """The passive reply as a dict (decrypted in safe mode); None for `success`."""
    text = response.content.decode()
    if text in ("success", ""):
        return None
    data = xmltodict.parse(text)["xml"]
    if "Encrypt" in data:
        crypto = WeChatCrypto(settings.WECHAT_TOKEN, settings.WECHAT_AES_KEY, settings.WECHAT_APP_ID)
        plain = crypto.decrypt_message(text, data["MsgSignature"], data["TimeStamp"], data["Nonce"])
        data = xmltodict.parse(plain)["xml"]
    return data
