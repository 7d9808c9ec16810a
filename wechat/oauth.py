"""H5 sign-in through WeChat OAuth (silent `snsapi_base`).

`accounts.h5auth.follower_required` sends an anonymous visitor to `wechat:oauth_start?next=…`;
we store a random state in the session, send the browser to WeChat's authorize page, and on the
way back check the state, exchange the code through the gateway and sign the follower in.
"""

from __future__ import annotations

import logging
import secrets

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from accounts.h5auth import login_follower
from wechat import gateway, services
from wechat.gateway import GatewayError

logger = logging.getLogger(__name__)

SESSION_KEY = "wechat_oauth"
DEFAULT_NEXT = "/h5/"


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return DEFAULT_NEXT


@never_cache
def oauth_start(request):
    state = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = {"state": state, "next": _safe_next(request, request.GET.get("next"))}
    redirect_uri = request.build_absolute_uri(reverse("wechat:oauth_callback"))
    return redirect(gateway.oauth_authorize_url(redirect_uri=redirect_uri, state=state))


def _refuse(request, message: str, status: int = 403):
    return render(request, "wechat/oauth_error.html", {"message": message}, status=status)


@never_cache
def oauth_callback(request):
    pending = request.session.pop(SESSION_KEY, None) or {}
    state = request.GET.get("state", "")
    if not state or not pending.get("state") or not constant_time_compare(state, pending["state"]):
        # A forged or replayed callback (or a link opened in another browser): never sign in.
        return _refuse(request, "登录请求已失效或来源不明，请返回重新打开页面。")
    code = request.GET.get("code", "")
    if not code:
        return _refuse(request, "你没有同意授权，无法继续。")
    try:
        openid = gateway.exchange_oauth_code(code=code)
    except GatewayError as exc:
        logger.warning("OAuth code exchange failed: %s", exc)
        return _refuse(request, "微信授权失败，请稍后重试。", status=502 if not exc.permanent else 403)
    follower = services.follower_for_sign_in(openid=openid)
    if follower is None:
        return redirect("accounts:follow_first")
    login_follower(request, follower)
    return redirect(pending.get("next") or DEFAULT_NEXT)
