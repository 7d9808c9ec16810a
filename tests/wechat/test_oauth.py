"""H5 sign-in: OAuth through the sandbox's authorize page, state checked against the session."""

from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.h5auth import SESSION_KEY
from accounts.models import Follower
from tests.factories import FollowerFactory
from tests.wechat.sandbox_support import following_user
from wechat.sandbox import services as sandbox_services

pytestmark = pytest.mark.django_db(transaction=True)


def authorize_as(client, user, next_url="/h5/"):
    """Go through oauth_start and the sandbox's picker; return the callback URL WeChat redirects to."""
    start = client.get("/wechat/oauth/start", {"next": next_url})
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith("/sandbox/connect/oauth2/authorize?")
    assert authorize_url.endswith("#wechat_redirect")
    picker = client.get(authorize_url.split("#")[0])
    assert picker.status_code == 200
    assert user.nickname in picker.content.decode()
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url.split("#")[0]).query).items()}
    chosen = client.post("/sandbox/connect/oauth2/authorize", {**params, "openid": user.openid})
    assert chosen.status_code == 302
    return chosen["Location"]


def test_it_sends_an_anonymous_visitor_through_oauth(client, db):
    response = client.get("/h5/")

    assert response.status_code == 302
    assert response["Location"] == "/wechat/oauth/start?next=%2Fh5%2F"


def test_it_signs_a_follower_in_and_returns_to_the_page(wechat_sandbox, client):
    user = following_user("小明")
    follower = FollowerFactory(openid=user.openid, nickname="小明")

    callback = authorize_as(client, user, next_url="/h5/?tab=me")
    assert callback.startswith("http://testserver/wechat/oauth/callback?")
    response = client.get(callback)

    assert response.status_code == 302
    assert response["Location"] == "/h5/?tab=me"
    assert client.session[SESSION_KEY] == follower.pk
    home = client.get("/h5/")
    assert home.status_code == 200
    assert "小明" in home.content.decode()


def test_it_is_silent_when_the_emulator_says_who_is_browsing(wechat_sandbox, client):
    user = following_user("小红")
    follower = FollowerFactory(openid=user.openid)
    opened = client.post(f"/sandbox/phone/{user.openid}/open", {"url": "/h5/"})
    assert opened["Location"] == "/h5/"

    response = client.get("/h5/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/h5/"
    assert client.session[SESSION_KEY] == follower.pk


@pytest.mark.parametrize("tamper", ["wrong", "missing"])
def test_it_refuses_a_wrong_or_missing_state(wechat_sandbox, client, tamper):
    user = following_user()
    FollowerFactory(openid=user.openid)
    callback = authorize_as(client, user)
    query = parse_qs(urlsplit(callback).query)
    params = {"code": query["code"][0]}
    if tamper == "wrong":
        params["state"] = "forged-state"

    response = client.get("/wechat/oauth/callback", params)

    assert response.status_code == 403
    assert "登录请求已失效" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_it_refuses_a_replayed_callback(wechat_sandbox, client):
    user = following_user()
    FollowerFactory(openid=user.openid)
    callback = authorize_as(client, user)
    assert client.get(callback).status_code == 302
    client.session.flush()

    assert client.get(callback).status_code == 403


def test_it_refuses_a_callback_without_a_session(wechat_sandbox, client):
    response = client.get("/wechat/oauth/callback", {"code": "x", "state": "y"})

    assert response.status_code == 403


def test_it_shows_a_non_follower_how_to_follow(wechat_sandbox, client):
    user = sandbox_services.create_user(nickname="路人")  # not following on WeChat either

    response = client.get(authorize_as(client, user))

    assert response.status_code == 302
    assert response["Location"] == "/h5/follow/"
    page = client.get("/h5/follow/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "请先关注公众号" in content
    assert "/sandbox/cgi-bin/showqrcode?ticket=" in content
    assert SESSION_KEY not in client.session


def test_it_shows_an_unfollowed_follower_how_to_follow(wechat_sandbox, client):
    user = sandbox_services.create_user(nickname="已取关")
    FollowerFactory(openid=user.openid, is_subscribed=False)

    assert client.get(authorize_as(client, user))["Location"] == "/h5/follow/"


def test_it_signs_in_a_follower_the_platform_had_not_imported_yet(wechat_sandbox, client):
    user = following_user("老粉")  # followed before the platform; no sync has run

    response = client.get(authorize_as(client, user))

    assert response["Location"] == "/h5/"
    follower = Follower.objects.get(openid=user.openid)
    assert (follower.source, follower.referrer, follower.is_subscribed) == ("import", None, True)
    assert client.session[SESSION_KEY] == follower.pk


def test_it_ignores_an_offsite_next(wechat_sandbox, client):
    user = following_user()
    FollowerFactory(openid=user.openid)

    response = client.get(authorize_as(client, user, next_url="https://evil.example.com/"))

    assert response["Location"] == "/h5/"


def test_it_refuses_an_authorize_request_for_another_site(wechat_sandbox, client):
    response = client.get(
        "/sandbox/connect/oauth2/authorize",
        {"appid": "wxsandbox0000000001", "redirect_uri": "https://evil.example.com/cb", "state": "s"},
    )

    assert response.status_code == 400


def test_it_gives_a_signed_in_follower_the_jssdk_config_for_a_page_of_this_site(wechat_sandbox, client):
    user = following_user()
    FollowerFactory(openid=user.openid)
    assert client.get("/wechat/jssdk", {"url": "http://testserver/h5/"}).status_code == 403
    client.get(authorize_as(client, user))

    config = client.get("/wechat/jssdk", {"url": "http://testserver/h5/#share"}).json()
    offsite = client.get("/wechat/jssdk", {"url": "https://evil.example.com/"})

    assert config["appId"] == "wxsandbox0000000001" and len(config["signature"]) == 40
    assert offsite.status_code == 400
