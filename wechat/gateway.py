"""The one door between the platform and WeChat's HTTP API, built on wechatpy.

Nothing outside `wechat/` imports wechatpy; everything else calls the functions below and
handles a single exception, `GatewayError`, whose `permanent` flag says whether trying again
later can help.

Three things wechatpy 1.8.18 does not do the way we need (WECHAT.md, "three traps"):

* Access token. We take it from `cgi-bin/stable_token` (several servers never invalidate each
  other's token), keep it in the Django cache (Redis in production) so every process shares it,
  and let exactly one process fetch it under a cache lock. wechatpy's own retry on 40001/40014/42001
  recurses without limit, so the client runs with `auto_retry=False` and `_call()` retries once.
* Hosts. In sandbox mode a `requests` adapter mounted on the client's (and WeChatOAuth's) session
  rewrites scheme and host of every WeChat URL to `settings.WECHAT_SANDBOX_BASE_URL` + `/sandbox`,
  so the very same client code talks to our imitation. Settings are read at call time so tests can
  point the gateway at a live server.
* Browser-facing URLs (OAuth authorize, showqrcode) are built here, not by wechatpy.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.oauth import WeChatOAuth
from wechatpy.session import SessionStorage

logger = logging.getLogger(__name__)

API_HOST = "https://api.weixin.qq.com"
STABLE_TOKEN_URL = f"{API_HOST}/cgi-bin/stable_token"
OPEN_AUTHORIZE_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
SHOWQRCODE_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode"

# Hosts the sandbox imitates, and where under our site each one lives. Pay is reserved for the
# red-packet payout imitation (`/sandbox/pay/`).
SANDBOX_PREFIXES = {
    "api.weixin.qq.com": "/sandbox",
    "mp.weixin.qq.com": "/sandbox",
    "open.weixin.qq.com": "/sandbox",
    "api.mch.weixin.qq.com": "/sandbox/pay",
}

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# Trying again cannot help: the user must act (follow, write to us) or the request is wrong.
PERMANENT_ERRCODES = frozenset(
    {40003, 40007, 40013, 40029, 40037, 40163, 42003, 43004, 43101, 45015, 45047, 45065, 45103, 46004, 47003}
)
# WeChat is busy or a quota is used up for now: a later attempt can succeed.
RETRYABLE_ERRCODES = frozenset({-1, 45009, 45011}) | TOKEN_ERRCODES

PERSONAL_QR_SECONDS = 30 * 24 * 3600  # WeChat's maximum for temporary codes
QR_RENEW_MARGIN = timedelta(days=1)
TOKEN_SAFETY_SECONDS = 300  # stop using a token five minutes before WeChat says it expires
LOCK_SECONDS = 30


class GatewayError(Exception):
    """A WeChat call failed. `permanent=True`: do not retry (unfollowed, outside 48 h, bad openid…)."""

    def __init__(self, message: str, *, permanent: bool, errcode: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.errcode = errcode


# --- HTTP plumbing ---------------------------------------------------------------------------


def _timeout() -> float:
    return float(settings.WECHAT_HTTP_TIMEOUT)


class WeChatHTTPAdapter(HTTPAdapter):
    """Gives every WeChat request a timeout and, in sandbox mode, sends it to our imitation.

    Mounted on `https://` of a wechatpy session; hosts that are not WeChat's pass unchanged.
    """

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = _timeout()
        if settings.WECHAT_SANDBOX:
            request.url = sandbox_url(request.url)
            kwargs.pop("cert", None)  # WeChat Pay's client certificate means nothing to the sandbox
        return super().send(request, **kwargs)


def sandbox_url(url: str) -> str:
    parts = urlsplit(url)
    prefix = SANDBOX_PREFIXES.get(parts.hostname or "")
    if prefix is None:
        return url
    base = urlsplit(settings.WECHAT_SANDBOX_BASE_URL)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + prefix + parts.path, parts.query, ""))


def mount_wechat_adapter(session: requests.Session) -> requests.Session:
    """Route a wechatpy session (client, OAuth, pay) through `WeChatHTTPAdapter`."""
    adapter = WeChatHTTPAdapter(pool_connections=4, pool_maxsize=16)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# --- Access token ------------------------------------------------------------------------------


class CacheStorage(SessionStorage):
    """wechatpy session storage on the Django cache: Redis in production, shared by all processes."""

    prefix = "wechat"

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def get(self, key, default=None):
        value = cache.get(self._key(key))
        return default if value is None else value

    def set(self, key, value, ttl=None):
        if value is not None:
            cache.set(self._key(key), value, ttl)

    def delete(self, key):
        cache.delete(self._key(key))


class _Client(WeChatClient):
    """wechatpy's client with a shared, locked, stable access token and no unbounded retry."""

    def __init__(self):
        super().__init__(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, session=CacheStorage(), auto_retry=False)
        mount_wechat_adapter(self._http)
        # The token this thread's client sent last, so a rejection invalidates exactly that one.
        self.used_token: str | None = None

    @property
    def lock_key(self) -> str:
        return f"wechat:{self.appid}_access_token_lock"

    def fetch_access_token(self, force_refresh: bool = False):
        """Ask `cgi-bin/stable_token` (not in wechatpy 1.8.18) and store the answer in the cache."""
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.secret,
            "force_refresh": force_refresh,
        }
        res = self._http.post(STABLE_TOKEN_URL, json=body, timeout=_timeout())
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request, response=exc.response) from exc
        try:
            result = res.json()
        except ValueError as exc:
            raise GatewayError("微信 stable_token 返回了非 JSON 内容", permanent=False) from exc
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
        expires_in = int(result.get("expires_in", 7200))
        ttl = max(expires_in - TOKEN_SAFETY_SECONDS, 30)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        self.expires_at = int(time.time()) + ttl
        return result

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key) or self.obtain_token()
        self.used_token = token
        return token

    def obtain_token(self, rejected: str | None = None) -> str:
        """Return a usable token, fetching it if needed; only the process holding the lock fetches.

        `rejected` is a token WeChat just refused: it does not count as usable.
        """
        deadline = time.monotonic() + _timeout() + 5
        owner = uuid.uuid4().hex
        while True:
            token = self.session.get(self.access_token_key)
            if token and token != rejected:
                return token
            if cache.add(self.lock_key, owner, LOCK_SECONDS):
                try:
                    token = self.session.get(self.access_token_key)
                    if token and token != rejected:
                        return token
                    token = self.fetch_access_token()["access_token"]
                    if token == rejected:
                        # WeChat handed back the very token it refused: only a forced refresh helps.
                        token = self.fetch_access_token(force_refresh=True)["access_token"]
                    return token
                finally:
                    if cache.get(self.lock_key) == owner:
                        cache.delete(self.lock_key)
            if time.monotonic() > deadline:
                raise GatewayError("等待 access_token 超时", permanent=False)
            time.sleep(0.05)


_local = threading.local()


def _client() -> _Client:
    key = (settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET)
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "key", None) != key:
        client = _Client()
        _local.client, _local.key = client, key
    client.timeout = _timeout()
    return client


def close_http() -> None:
    """Close this thread's pooled connections to WeChat (worker shutdown, tests)."""
    client = getattr(_local, "client", None)
    if client is not None:
        client._http.close()
        _local.client = None


def _translate(exc: Exception) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, requests.Timeout):
        return GatewayError("微信接口超时", permanent=False)
    if isinstance(exc, requests.RequestException):
        return GatewayError(f"无法连接微信接口：{exc.__class__.__name__}", permanent=False)
    if isinstance(exc, WeChatClientException):
        if exc.errcode is None:
            status = getattr(exc.response, "status_code", None)
            return GatewayError(f"微信接口 HTTP {status}", permanent=bool(status and status < 500))
        code = int(exc.errcode)
        message = f"微信接口错误 {code}: {exc.errmsg}"
        if code in RETRYABLE_ERRCODES:
            return GatewayError(message, permanent=False, errcode=code)
        # Unknown codes are treated as permanent: a malformed request does not heal by itself.
        return GatewayError(message, permanent=True, errcode=code)
    raise exc


def _call(fn):
    """Run `fn(client)`; on a rejected token refresh it and retry exactly once."""
    client = _client()
    for attempt in (1, 2):
        try:
            result = fn(client)
        except WeChatClientException as exc:
            if attempt == 1 and exc.errcode is not None and int(exc.errcode) in TOKEN_ERRCODES:
                logger.info("WeChat rejected the access token (%s); refreshing once", exc.errcode)
                try:
                    client.obtain_token(rejected=client.used_token)
                except (WeChatClientException, requests.RequestException) as fetch_exc:
                    raise _translate(fetch_exc) from fetch_exc
                continue
            raise _translate(exc) from exc
        except requests.RequestException as exc:
            raise _translate(exc) from exc
        if isinstance(result, requests.Response):
            # wechatpy hands back the raw response when the body is not JSON.
            raise GatewayError(f"微信接口返回了非 JSON 内容 (HTTP {result.status_code})", permanent=False)
        return result
    raise AssertionError("unreachable")


# --- Messages ----------------------------------------------------------------------------------


def _template_data(data: dict) -> dict:
    """Category-template format: `{keyword: {"value": text}}`; first/remark and colours are gone."""
    out = {}
    for key, value in data.items():
        if key in ("first", "remark"):
            continue
        text = value.get("value", "") if isinstance(value, dict) else value
        out[key] = {"value": str(text)}
    return out


def send_template(*, openid: str, template_id: str, data: dict, url: str = "", client_msg_id: str = "") -> str:
    """Send a template message; returns WeChat's msgid. Raises GatewayError.

    `client_msg_id` is WeChat's de-duplication id (防重入id): for the same openid and id WeChat
    sends one message within 10 minutes, so a send retried after a crash is not a duplicate.
    """
    payload = {"touser": openid, "template_id": template_id, "data": _template_data(data)}
    if url:
        payload["url"] = url
    if client_msg_id:
        payload["client_msg_id"] = client_msg_id[:64]
    result = _call(lambda c: c.post("message/template/send", data=payload))
    return str(result.get("msgid", ""))


def send_text(*, openid: str, text: str) -> None:
    """Customer-service text (48-hour window). Raises GatewayError (45015 outside the window: permanent)."""
    _call(lambda c: c.message.send_text(openid, text))


def send_image(*, openid: str, media_id: str) -> None:
    """Customer-service image by media_id (see `upload_media`). Raises GatewayError."""
    _call(lambda c: c.message.send_image(openid, media_id))


def mass_send_text(*, text: str, openids: list[str] | None = None, client_msg_id: str | None = None) -> str:
    """Mass send to all followers (`openids=None`) or a list; returns msg_id. Raises GatewayError."""
    if openids is None:
        result = _call(lambda c: c.message.send_mass_text(None, text, is_to_all=True, client_msg_id=client_msg_id))
    else:
        result = _call(lambda c: c.message.send_mass_text(list(openids), text, client_msg_id=client_msg_id))
    return str(result.get("msg_id", ""))


def add_draft(*, articles: list[dict]) -> str:
    """`draft/add` (material/add_news is retired); returns the draft's media_id. Raises GatewayError.

    Each article: title, content (HTML), thumb_media_id, and optionally author, digest,
    content_source_url.
    """
    result = _call(lambda c: c.post("draft/add", data={"articles": articles}))
    return result["media_id"]


def mass_send_articles(*, articles: list[dict], openids: list[str] | None = None, client_msg_id: str | None = None):
    """Articles to all followers: a draft, then an `mpnews` mass send. Returns (media_id, msg_id)."""
    media_id = add_draft(articles=articles)
    if openids is None:
        result = _call(
            lambda c: c.message.send_mass_article(
                None, media_id, is_to_all=True, send_ignore_reprint=1, client_msg_id=client_msg_id
            )
        )
    else:
        result = _call(
            lambda c: c.message.send_mass_article(
                list(openids), media_id, send_ignore_reprint=1, client_msg_id=client_msg_id
            )
        )
    return media_id, str(result.get("msg_id", ""))


# --- Menu, QR codes, media ---------------------------------------------------------------------


def publish_menu(*, buttons: list[dict]) -> None:
    """Replace the account's custom menu (`menu/create`). Raises GatewayError."""
    _call(lambda c: c.menu.create({"button": buttons}))


def get_menu() -> dict | None:
    """The published menu (`{"menu": {"button": […]}}`), or None when there is none (46003)."""
    return _call(lambda c: c.menu.get())


@dataclass(frozen=True)
class QRTicket:
    ticket: str
    url: str
    expires_at: datetime | None


def create_qr(*, scene: str, permanent: bool, expire_seconds: int = PERSONAL_QR_SECONDS) -> QRTicket:
    """Create a string-scene QR code (QR_LIMIT_STR_SCENE or QR_STR_SCENE). Raises GatewayError."""
    if not 1 <= len(scene) <= 64:
        raise GatewayError("二维码场景值长度须为1-64", permanent=True)
    data = {"action_info": {"scene": {"scene_str": scene}}}
    if permanent:
        data["action_name"] = "QR_LIMIT_STR_SCENE"
    else:
        data["action_name"] = "QR_STR_SCENE"
        data["expire_seconds"] = min(expire_seconds, PERSONAL_QR_SECONDS)
    result = _call(lambda c: c.qrcode.create(data))
    expires_at = None
    if result.get("expire_seconds"):
        expires_at = timezone.now() + timedelta(seconds=int(result["expire_seconds"]))
    return QRTicket(ticket=result["ticket"], url=result.get("url", ""), expires_at=expires_at)


def qr_needs_renewal(*, ticket: str, expires_at: datetime | None) -> bool:
    return not ticket or (expires_at is not None and expires_at - timezone.now() < QR_RENEW_MARGIN)


def qr_image_url(ticket: str) -> str:
    """Where a browser loads the QR image. In sandbox mode: our imitation, on the page's own origin."""
    query = urlencode({"ticket": ticket})
    if settings.WECHAT_SANDBOX:
        return f"/sandbox/cgi-bin/showqrcode?{query}"
    return f"{SHOWQRCODE_URL}?{query}"


def upload_media(*, media_type: str, filename: str, content: bytes) -> str:
    """Temporary media (kept 3 days by WeChat); returns media_id. Raises GatewayError."""
    result = _call(lambda c: c.media.upload(media_type, (filename, content)))
    return result["media_id"]


# --- Followers ----------------------------------------------------------------------------------


def follower_page(*, next_openid: str = "") -> tuple[list[str], str]:
    """One page of `user/get` (≤10,000 OpenIDs) and the next_openid ('' when done)."""
    result = _call(lambda c: c.get("user/get", params={"next_openid": next_openid}))
    openids = (result.get("data") or {}).get("openid", [])
    following = result.get("next_openid", "")
    # WeChat repeats the last OpenID as next_openid on the final page; an empty page ends too.
    if not openids or result.get("count", len(openids)) == 0:
        following = ""
    return openids, following


def followers_info(*, openids: list[str]) -> list[dict]:
    """`user/info/batchget` for at most 100 OpenIDs. Raises GatewayError."""
    if len(openids) > 100:
        raise ValueError("user/info/batchget takes at most 100 OpenIDs")
    return _call(lambda c: c.user.get_batch(list(openids)))


def follower_info(*, openid: str) -> dict:
    """`user/info` for one follower. Raises GatewayError (40003 invalid openid: permanent)."""
    return _call(lambda c: c.user.get(openid))


# --- OAuth and JS-SDK ------------------------------------------------------------------------------


def oauth_authorize_url(*, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
    """The browser-facing authorize URL. In sandbox mode it is our imitation on the same origin."""
    query = urlencode(
        {
            "appid": settings.WECHAT_APP_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }
    )
    base = "/sandbox/connect/oauth2/authorize" if settings.WECHAT_SANDBOX else OPEN_AUTHORIZE_URL
    return f"{base}?{query}#wechat_redirect"


def exchange_oauth_code(*, code: str) -> str:
    """Exchange an OAuth code (single-use, ~5 min) for the user's OpenID. Raises GatewayError."""
    oauth = WeChatOAuth(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri="")
    mount_wechat_adapter(oauth._http)
    try:
        result = oauth.fetch_access_token(code)
    except (WeChatClientException, requests.RequestException) as exc:
        raise _translate(exc) from exc
    except ValueError as exc:  # not JSON (an error page from a proxy, say)
        raise GatewayError("微信网页授权接口返回了非 JSON 内容", permanent=False) from exc
    return result["openid"]


def jssdk_config(*, url: str, api_list: list[str] | None = None) -> dict:
    """`wx.config(...)` arguments for the page at `url` (fragment removed). Raises GatewayError."""
    url = url.split("#", 1)[0]
    ticket = _call(lambda c: c.jsapi.get_jsapi_ticket())
    nonce = secrets.token_hex(8)
    timestamp = int(time.time())
    raw = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return {
        "appId": settings.WECHAT_APP_ID,
        "timestamp": timestamp,
        "nonceStr": nonce,
        "signature": hashlib.sha1(raw.encode()).hexdigest(),
        "jsApiList": api_list or ["updateAppMessageShareData", "updateTimelineShareData"],
    }
