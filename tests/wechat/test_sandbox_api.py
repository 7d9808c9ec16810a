"""The imitation answers with WeChat's JSON shapes and error codes (HTTP 200 + errcode)."""

import json

import pytest
from django.utils import timezone

from tests.wechat.sandbox_support import following_user
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxApiCall, SandboxOAuthCode, SandboxToken

pytestmark = pytest.mark.django_db

APPID, SECRET = "wxsandbox0000000001", "sandbox-secret"


def post(client, path, data, token=None):
    url = f"/sandbox/cgi-bin/{path}" + (f"?access_token={token}" if token else "")
    return client.post(url, json.dumps(data, ensure_ascii=False), content_type="application/json")


def stable_token(client, **extra):
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **extra}
    return post(client, "stable_token", body).json()


def test_it_reuses_the_stable_token_until_a_forced_refresh(client):
    first = stable_token(client)
    second = stable_token(client)
    forced = stable_token(client, force_refresh=True)

    assert first["access_token"] == second["access_token"] != forced["access_token"]
    assert 7000 < first["expires_in"] <= 7200


def test_it_rejects_a_wrong_secret_or_appid(client):
    assert stable_token(client, secret="nope")["errcode"] == 40125
    assert stable_token(client, appid="wxother")["errcode"] == 40013


def test_it_checks_the_access_token(client):
    user = following_user()
    missing = post(client, "message/custom/send", {"touser": user.openid})
    unknown = post(client, "message/custom/send", {"touser": user.openid}, token="nope")
    token = stable_token(client)["access_token"]
    SandboxToken.objects.filter(token=token).update(expires_at=timezone.now())
    expired = post(client, "message/custom/send", {"touser": user.openid}, token=token)

    assert (missing.status_code, missing.json()["errcode"]) == (200, 41001)
    assert unknown.json()["errcode"] == 40001
    assert expired.json()["errcode"] == 42001
    assert "rid:" in expired.json()["errmsg"]


def test_it_validates_a_menu_like_wechat(client):
    token = stable_token(client)["access_token"]
    four = [{"type": "click", "name": f"m{i}", "key": f"k{i}"} for i in range(4)]
    long_name = [{"type": "click", "name": "一二三四五六", "key": "k"}]  # 18 bytes > 16
    no_url = [{"type": "view", "name": "主页"}]
    ok = [{"name": "我的", "sub_button": [{"type": "view", "name": "个人中心", "url": "http://a.com/h5/"}]}]

    assert post(client, "menu/get", {}, token=token).json()["errcode"] == 46003
    assert post(client, "menu/create", {"button": four}, token=token).json()["errcode"] == 40016
    assert post(client, "menu/create", {"button": long_name}, token=token).json()["errcode"] == 40018
    assert post(client, "menu/create", {"button": no_url}, token=token).json()["errcode"] == 40054
    assert post(client, "menu/create", {"button": ok}, token=token).json() == {"errcode": 0, "errmsg": "ok"}
    got = client.get("/sandbox/cgi-bin/menu/get", {"access_token": token}).json()
    assert got == {"menu": {"button": ok}}


def test_it_pages_the_follower_list(client):
    users = [following_user(f"u{i}") for i in range(3)]
    token = stable_token(client)["access_token"]

    page = client.get("/sandbox/cgi-bin/user/get", {"access_token": token, "next_openid": ""}).json()
    last = client.get("/sandbox/cgi-bin/user/get", {"access_token": token, "next_openid": page["next_openid"]}).json()

    assert page == {
        "total": 3,
        "count": 3,
        "data": {"openid": [u.openid for u in users]},
        "next_openid": users[-1].openid,
    }
    assert last == {"total": 3, "count": 0, "next_openid": ""}


def test_it_hides_nicknames_in_user_info_like_wechat_since_2021(client):
    user = following_user("小明")
    token = stable_token(client)["access_token"]

    info = client.get("/sandbox/cgi-bin/user/info", {"access_token": token, "openid": user.openid}).json()

    assert info["subscribe"] == 1 and info["nickname"] == "" and info["subscribe_scene"] == "ADD_SCENE_SEARCH"


def test_it_answers_5xx_and_busy_when_asked_to(client):
    token = stable_token(client)["access_token"]
    sandbox_services.arm_fault(kind="http_5xx")
    sandbox_services.arm_fault(kind="busy")

    first = client.get("/sandbox/cgi-bin/menu/get", {"access_token": token})
    second = client.get("/sandbox/cgi-bin/menu/get", {"access_token": token})

    assert first.status_code == 502
    assert second.json()["errcode"] == -1
    assert list(SandboxApiCall.objects.filter(endpoint="menu/get").values_list("http_status", "errcode")) == [
        (502, -502),
        (200, -1),
    ]


def test_it_refuses_an_expired_oauth_code(client):
    code = sandbox_services.issue_oauth_code(openid="oX")
    SandboxOAuthCode.objects.filter(code=code).update(created_at=timezone.now() - timezone.timedelta(minutes=6))

    answer = client.get(
        "/sandbox/sns/oauth2/access_token",
        {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"},
    ).json()

    assert answer["errcode"] == 42003


def test_it_refuses_a_duplicate_mass_send(client):
    following_user()
    token = stable_token(client)["access_token"]
    body = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "hi"}, "clientmsgid": "m1"}

    assert post(client, "message/mass/sendall", body, token=token).json()["errcode"] == 0
    assert post(client, "message/mass/sendall", body, token=token).json()["errcode"] == 45065
