"""The phone emulator in Chromium at 375×812: user A follows by search, user B scans A's promo
code and follows, B receives the welcome message and opens the H5 home signed in as B."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from accounts.models import Follower
from wechat import demo
from wechat import services as wechat_services
from wechat.models import WelcomeMessage
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxUser

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def new_user(page, base: str, nickname: str) -> SandboxUser:
    page.goto(f"{base}/sandbox/")
    page.get_by_label("昵称").fill(nickname)
    page.get_by_role("button", name="新建并进入手机").click()
    expect(page.get_by_test_id("who")).to_have_text(nickname)
    return SandboxUser.objects.get(nickname=nickname)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_follows_scans_a_promo_code_and_opens_the_h5_home(wechat_sandbox, page):
    base = wechat_sandbox.url
    demo.seed(io.StringIO())
    sandbox_services.store_menu(buttons=wechat_services.menu_buttons())
    welcome = WelcomeMessage.objects.get().text.splitlines()[0]

    # A follows by searching the account.
    alice = new_user(page, base, "用户A")
    shot(page, "emulator-new-user")
    page.get_by_test_id("follow").click()
    expect(page.locator(".sbx-line[data-kind=reply]").first).to_contain_text(welcome)
    shot(page, "emulator-follow")
    alice_follower = Follower.objects.get(openid=alice.openid)
    assert alice_follower.source == Follower.Source.SEARCH

    # B scans A's code and follows.
    bob = new_user(page, base, "用户B")
    page.get_by_role("button", name="扫一扫").click()
    shot(page, "emulator-scan")
    page.get_by_role("button", name="个人推广码 · 用户A的推广码").click()
    expect(page.locator(".sbx-line[data-kind=reply]").first).to_contain_text(welcome)
    expect(page.locator(".sbx-note").first).to_contain_text("用户A的推广码")
    shot(page, "emulator-welcome")
    bob_follower = Follower.objects.get(openid=bob.openid)
    assert bob_follower.referrer == alice_follower
    assert bob_follower.source == Follower.Source.PERSONAL_QR

    # B opens the H5 home: signed in as B, A shown as his referrer.
    page.get_by_test_id("open-h5").click()
    expect(page.get_by_test_id("profile")).to_contain_text(bob.openid[-6:])
    expect(page.get_by_test_id("referrer")).to_have_text(alice_follower.display_name)
    expect(page.get_by_text("业务预约")).to_be_visible()
    expect(page.locator("[data-testid=promo] img")).to_be_visible()
    assert page.url.split("#")[0] == f"{base}/h5/"  # the browser keeps #wechat_redirect across redirects
    shot(page, "h5-home")

    # Back on A's phone: his personal center shows his promo code and one person brought in.
    page.goto(f"{base}/sandbox/phone/{alice.openid}/")
    page.get_by_test_id("open-h5").click()
    expect(page.get_by_test_id("promo")).to_contain_text(alice_follower.promo_code)
    expect(page.get_by_test_id("referral-count")).to_have_text("1")
    page.goto(f"{base}/sandbox/")
    expect(page.get_by_test_id("users")).to_contain_text("用户B")
    shot(page, "emulator-index")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_lets_the_tester_pick_a_user_and_shows_non_followers_how_to_follow(wechat_sandbox, page):
    base = wechat_sandbox.url
    stranger = sandbox_services.create_user(nickname="路人甲")
    fan = sandbox_services.create_user(nickname="老粉丝")
    sandbox_services.set_following(user=fan, following=True)

    # An H5 link opened outside the emulator: the sandbox's authorize page asks who you are.
    page.goto(f"{base}/h5/")
    expect(page.get_by_text("你是哪个微信用户？")).to_be_visible()
    shot(page, "sandbox-authorize")
    page.get_by_role("button", name="路人甲").click()
    expect(page.get_by_text("请先关注公众号")).to_be_visible()
    expect(page.locator("img[alt=公众号二维码]")).to_be_visible()
    shot(page, "h5-follow-first")
    assert not Follower.objects.filter(openid=stranger.openid).exists()

    # A follower from before the platform is recognised (imported, no referrer) and signed in.
    page.goto(f"{base}/sandbox/phone/{fan.openid}/")
    page.get_by_test_id("open-h5").click()
    expect(page.get_by_test_id("referrer")).to_have_text("无")
    assert Follower.objects.get(openid=fan.openid).source == Follower.Source.IMPORT
