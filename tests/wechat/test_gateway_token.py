"""Access token: one fetch for many callers, a rejected token refreshed and the call retried once."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.db import connection

from tests.wechat.sandbox_support import calls, following_user
from wechat import gateway
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxFault, SandboxMessage, SandboxToken

pytestmark = pytest.mark.django_db(transaction=True)


def send(user):
    return gateway.send_template(openid=user.openid, template_id="tpl", data={"thing1": "测试"})


def test_it_fetches_the_token_once_for_ten_concurrent_callers(wechat_sandbox):
    user = following_user()
    barrier = threading.Barrier(10)
    errors = []

    def caller():
        try:
            barrier.wait()
            send(user)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            gateway.close_http()
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert calls("stable_token") == 1
    assert calls("message/template/send", errcode=0) == 10
    assert SandboxMessage.objects.filter(user=user, kind="template").count() == 10


def test_it_keeps_the_token_in_the_shared_cache(wechat_sandbox):
    user = following_user()
    send(user)
    token = SandboxToken.objects.get(kind="api").token
    assert cache.get(f"wechat:{gateway.settings.WECHAT_APP_ID}_access_token") == token
    send(user)
    assert calls("stable_token") == 1


@pytest.mark.parametrize(("kind", "code"), [("token_expired", 42001), ("token_revoked", 40001)])
def test_it_refreshes_a_rejected_token_and_retries_exactly_once(wechat_sandbox, kind, code):
    user = following_user()
    send(user)  # a token is cached
    sandbox_services.arm_fault(kind=kind, times=5)

    msgid = send(user)

    assert msgid
    assert calls("message/template/send", errcode=code) == 1
    assert calls("message/template/send", errcode=0) == 2
    assert calls("stable_token") == 2
    assert SandboxToken.objects.filter(kind="api", revoked_code=code).count() == 1
    # The fault only hits tokens issued before it was armed: the fresh token keeps working.
    send(user)
    assert calls("message/template/send", errcode=code) == 1
    assert SandboxFault.objects.get(kind=kind).remaining == 4


class _AlwaysExpired(BaseHTTPRequestHandler):
    """A misbehaving WeChat: hands out tokens, then rejects every one of them with 42001."""

    hits: list[str] = []

    def _answer(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.hits.append(self.path.split("?")[0])
        if self.path.startswith("/sandbox/cgi-bin/stable_token"):
            token = f"tok{len(self.hits)}"
            self._answer(json.dumps({"access_token": token, "expires_in": 7200}).encode())
        else:
            self._answer(b'{"errcode": 42001, "errmsg": "access_token expired"}')

    def log_message(self, *args):
        pass


def test_it_gives_up_after_one_retry_when_wechat_keeps_rejecting_tokens(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysExpired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _AlwaysExpired.hits = []
    settings.WECHAT_SANDBOX = True
    settings.WECHAT_SANDBOX_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(gateway.GatewayError) as caught:
            gateway.send_text(openid="oSomeone", text="hi")
    finally:
        server.shutdown()
        server.server_close()

    assert caught.value.errcode == 42001
    assert caught.value.permanent is False
    assert _AlwaysExpired.hits.count("/sandbox/cgi-bin/message/custom/send") == 2
    assert _AlwaysExpired.hits.count("/sandbox/cgi-bin/stable_token") == 2


class _StaleUntilForced(BaseHTTPRequestHandler):
    """A WeChat whose stable endpoint keeps handing out a token its API already refuses."""

    hits: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        path = self.path.split("?")[0]
        self.hits.append(path + (" force" if '"force_refresh": true' in body else ""))
        if path.endswith("stable_token"):
            token = "fresh" if '"force_refresh": true' in body else "stale"
            answer = json.dumps({"access_token": token, "expires_in": 7200})
        elif "access_token=fresh" in self.path:
            answer = '{"errcode": 0, "errmsg": "ok"}'
        else:
            answer = '{"errcode": 40001, "errmsg": "invalid credential"}'
        data = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_it_forces_a_refresh_when_wechat_hands_back_the_token_it_rejected(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StaleUntilForced)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _StaleUntilForced.hits = []
    settings.WECHAT_SANDBOX = True
    settings.WECHAT_SANDBOX_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        gateway.send_text(openid="oSomeone", text="hi")
    finally:
        server.shutdown()
        server.server_close()

    assert _StaleUntilForced.hits == [
        "/sandbox/cgi-bin/stable_token",
        "/sandbox/cgi-bin/message/custom/send",
        "/sandbox/cgi-bin/stable_token",
        "/sandbox/cgi-bin/stable_token force",
        "/sandbox/cgi-bin/message/custom/send",
    ]
