"""The WeChat server callback: verify, decrypt, parse, dedupe, dispatch, answer.

`wechat.views.callback` is a thin wrapper around `handle_request()`.

Handlers
--------
`HANDLERS` maps a dispatch key to a function `handler(msg) -> str | BaseReply | None`:

* the key is the message type for messages (`"text"`, `"image"`, `"voice"`, …) and
  `"event:<event>"` for events, with wechatpy's lower-case event names:
  `"event:subscribe"` (search follow), `"event:subscribe_scan"` (follow through a QR code —
  wechatpy gives it its own class), `"event:scan"`, `"event:unsubscribe"`, `"event:click"`,
  `"event:view"`, `"event:templatesendjobfinish"`, `"event:masssendjobfinish"`, …
  (see `dispatch_key()`);
* `msg` is the parsed wechatpy message (`msg.source` is the sender's OpenID);
* the handler runs inside the delivery's transaction, after the `InboundMessage` row was
  inserted, and only for the first copy of a delivery (retries are answered without
  running it). It must not call WeChat: use `wechat.notify.*_on_commit` for that;
* an exception rolls the whole delivery back (the InboundMessage row too) and answers 500,
  so WeChat's retry processes it afresh;
* returning a string sends it back as a passive text reply (encrypted in safe mode);
  returning a wechatpy reply object (e.g. `ArticlesReply(message=msg, …)`) sends that;
  returning None answers `success` (no reply).

Add a handler with `HANDLERS["event:click"] = my_handler` (or the `@handles(...)` decorator);
to add a reply to an existing event (e.g. the welcome text on subscribe), wrap the existing
handler and return its text.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import BaseReply, TextReply
from wechatpy.utils import check_signature

from accounts import services as accounts

log = logging.getLogger(__name__)

# WeChat messages are a few hundred bytes (a text message's content ≤ 2048 bytes; the AES
# envelope adds a third). Anything much larger is not from WeChat: refuse before parsing.
DEFAULT_MAX_BODY_BYTES = 16 * 1024

Reply = str | BaseReply | None
Handler = Callable[[BaseMessage], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more dispatch keys (see the module docstring)."""

    def register(func: Handler) -> Handler:
        for key in keys:
            HANDLERS[key] = func
        return func

    return register


class BadRequest(Exception):
    """The body is not a WeChat message we can read: answered 400, nothing stored."""


class Forbidden(Exception):
    """The signature is wrong: answered 403, nothing stored."""


@dataclass(frozen=True)
class Envelope:
    """How the request came: needed to encrypt the reply in safe mode."""

    crypto: WeChatCrypto | None
    nonce: str
    timestamp: str


# --- reading the request ----------------------------------------------------------------------

REQUIRED_LEAVES = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
OPTIONAL_LEAVES = ("Event", "EventKey", "MsgId", "Content", "MediaId", "PicUrl", "Ticket", "Encrypt")


def _check_xml(body: bytes | str, *, required: tuple[str, ...]) -> None:
    """Reject hostile or malformed XML before xmltodict (inside wechatpy) ever sees it.

    defusedxml with `forbid_dtd` refuses any DOCTYPE, so entity expansion (billion laughs) and
    external entities cannot happen; then the fields we read must be single text elements,
    so that wechatpy's field converters get strings and never crash on lists or dicts.
    """
    try:
        root = safe_fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, TypeError) as exc:
        raise BadRequest(f"not acceptable XML: {exc.__class__.__name__}") from exc
    if root.tag != "xml":
        raise BadRequest("root element is not <xml>")
    for name in (*required, *OPTIONAL_LEAVES):
        found = root.findall(name)
        if len(found) > 1 or (found and len(found[0])):
            raise BadRequest(f"<{name}> must be a single text element")
        if name in required and (not found or not (found[0].text or "").strip()):
            raise BadRequest(f"<{name}> is missing")
    openid = root.findtext("FromUserName")
    if openid is not None and len(openid.strip()) > 64:
        raise BadRequest("<FromUserName> is too long for an OpenID")
    create_time = root.findtext("CreateTime")
    if create_time is not None and not (create_time.strip().isdigit() and len(create_time.strip()) <= 12):
        raise BadRequest("<CreateTime> is not a timestamp")
    msg_id = root.findtext("MsgId")
    if msg_id is not None and not (msg_id.strip().isdigit() and len(msg_id.strip()) <= 24):
        raise BadRequest("<MsgId> is not a number")


def _read_body(request: HttpRequest) -> bytes:
    limit = getattr(settings, "WECHAT_CALLBACK_MAX_BYTES", DEFAULT_MAX_BODY_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise BadRequest("bad Content-Length") from exc
    if declared > limit:
        raise BadRequest("body too large")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BadRequest("body too large")
    if not body.strip():
        raise BadRequest("empty body")
    return body


def _verify(request: HttpRequest) -> tuple[str, str]:
    """Check the URL signature (every request, both modes); return (timestamp, nonce)."""
    signature = request.GET.get("signature", "")
    timestamp = request.GET.get("timestamp", "")
    nonce = request.GET.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise Forbidden("missing signature")
    try:
        check_signature(settings.WECHAT_TOKEN, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise Forbidden("bad signature") from exc
    return timestamp, nonce


def read_message(request: HttpRequest) -> tuple[BaseMessage, Envelope]:
    """Verify and decode a POSTed delivery. Raises Forbidden or BadRequest."""
    timestamp, nonce = _verify(request)
    body = _read_body(request)
    aes_key = settings.WECHAT_AES_KEY  # read per request: tests and admins switch modes
    crypto = None
    if aes_key:
        if request.GET.get("encrypt_type", "").lower() != "aes" or not request.GET.get("msg_signature"):
            raise BadRequest("safe mode expects an encrypted message")
        _check_xml(body, required=("Encrypt",))
        crypto = WeChatCrypto(settings.WECHAT_TOKEN, aes_key, settings.WECHAT_APP_ID)
        try:
            body = crypto.decrypt_message(body, request.GET["msg_signature"], timestamp, nonce)
        except InvalidSignatureException as exc:
            raise Forbidden("bad msg_signature") from exc
        except (InvalidAppIdException, ValueError, TypeError, KeyError, IndexError, struct.error) as exc:
            raise BadRequest("cannot decrypt") from exc
    _check_xml(body, required=REQUIRED_LEAVES)
    try:
        msg = parse_message(body)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadRequest("cannot parse message") from exc
    if msg is None:
        raise BadRequest("empty message")
    return msg, Envelope(crypto, nonce, timestamp)


# --- dedupe and dispatch ----------------------------------------------------------------------


def _raw(msg: BaseMessage, name: str) -> str:
    # wechatpy keeps the parsed fields in `_data`; UnknownMessage has no typed fields at all.
    value = msg._data.get(name)  # noqa: SLF001
    return value if isinstance(value, str) else ""


def dispatch_key(msg: BaseMessage) -> str:
    msg_type = _raw(msg, "MsgType").lower()
    if msg_type == "event":
        return f"event:{_raw(msg, 'Event').lower()}"
    return msg_type


def dedupe_key(msg: BaseMessage) -> str:
    """`m:<MsgId>` for messages; `e:<FromUserName>:<CreateTime>:<Event>` for events (WECHAT.md)."""
    msg_id = _raw(msg, "MsgId")
    if msg_id and _raw(msg, "MsgType").lower() != "event":
        return f"m:{msg_id}"
    kind = _raw(msg, "Event").lower() or _raw(msg, "MsgType").lower()
    return f"e:{msg.source}:{msg.time}:{kind}"[:160]


def _claim(msg: BaseMessage) -> bool:
    """Insert the InboundMessage row; False if another copy of this delivery already has it.

    `ON CONFLICT DO NOTHING` makes a concurrent copy wait for the first one's transaction: if
    that commits, the copy inserts nothing and returns False; if it rolls back, the copy wins.
    """
    event = _raw(msg, "Event").lower() if _raw(msg, "MsgType").lower() == "event" else ""
    values = [
        dedupe_key(msg),
        (msg.source or "")[:64],
        _raw(msg, "MsgType").lower()[:32],
        event[:32],
        _raw(msg, "EventKey")[:300],
        _raw(msg, "Content"),
        _raw(msg, "MediaId")[:200],
        _raw(msg, "PicUrl")[:500],
        msg.create_time,
        timezone.now(),
    ]
    with connection.cursor() as cursor:
        # PostgreSQL and SQLite (≥ 3.35) both speak this dialect.
        cursor.execute(
            """
            INSERT INTO wechat_inboundmessage
                (dedupe_key, openid, msg_type, event, event_key, content, media_id, pic_url, sent_at, received_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
            """,
            values,
        )
        return cursor.fetchone() is not None


def process(msg: BaseMessage) -> Reply:
    """One short transaction per delivery: claim it, then run its handler (first copy only)."""
    with transaction.atomic():
        if not _claim(msg):
            return None
        handler = HANDLERS.get(dispatch_key(msg))
        return handler(msg) if handler else None


def render_reply(msg: BaseMessage, reply: Reply, envelope: Envelope) -> HttpResponse:
    """Passive reply XML (plain or encrypted), or `success` when there is nothing to say."""
    if reply is None or reply == "":
        return HttpResponse("success", content_type="text/plain")
    if isinstance(reply, str):
        reply = TextReply(message=msg, content=reply)
    xml = reply.render()
    if envelope.crypto is not None:
        xml = envelope.crypto.encrypt_message(xml, envelope.nonce, envelope.timestamp)
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")


def reply_text(msg: BaseMessage, text: str, envelope: Envelope) -> HttpResponse:
    """A passive text reply to `msg`, encrypted when the request was."""
    return render_reply(msg, text, envelope)


def handle_request(request: HttpRequest) -> HttpResponse:
    """Entry point for GET (URL verification) and POST (deliveries)."""
    try:
        if request.method == "GET":
            _verify(request)
            return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
        msg, envelope = read_message(request)
    except Forbidden as exc:
        log.warning("wechat callback refused: %s", exc)
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    except BadRequest as exc:
        log.warning("wechat callback rejected: %s", exc)
        return HttpResponse("bad request", status=400, content_type="text/plain")
    return render_reply(msg, process(msg), envelope)


# --- the handlers of this module: follows and scans --------------------------------------------


@handles("event:subscribe")
def on_subscribe(msg) -> Reply:
    """Follow by search (no scene): recorded, attribution decided on the first time."""
    # A search follow carries an empty EventKey; anything else there is a garbled scene.
    scene = _raw(msg, "EventKey") or None
    accounts.record_subscribe(openid=msg.source, scene=scene, at=msg.create_time)
    return None


@handles("event:subscribe_scan")
def on_subscribe_scan(msg) -> Reply:
    """Follow through a QR code; wechatpy strips the `qrscene_` prefix into `scene_id`."""
    accounts.record_subscribe(openid=msg.source, scene=msg.scene_id or "", at=msg.create_time)  # "" = garbled
    return None


@handles("event:scan")
def on_scan(msg) -> Reply:
    """An already-following user scanned a code: counted, never rebinds."""
    accounts.record_scan(openid=msg.source, scene=msg.scene_id or "", at=msg.create_time)
    return None


@handles("event:unsubscribe")
def on_unsubscribe(msg) -> Reply:
    accounts.record_unsubscribe(openid=msg.source, at=msg.create_time)
    return None
