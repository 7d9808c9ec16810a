"""The booking journey in the phone emulator, in Chromium at 375 px:

a customer books a package with a photo (after one validation error), his channel manager
receives the template message in his emulator chat, opens it and presses 受理成功, and the
customer then sees 受理成功 on his booking page and receives a notification.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from bookings.models import Booking, Category, Package
from tests.factories import FollowerFactory
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxMessage

SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _phone_user(nickname: str):
    user = sandbox_services.create_user(nickname=nickname)
    sandbox_services.set_following(user=user, following=True)
    return user


def _open_in_emulator(page, base: str, openid: str, path: str) -> None:
    """Open a site page from the emulated phone, as WeChat would (silent OAuth as this user)."""
    page.goto(f"{base}/sandbox/phone/{openid}/")
    page.evaluate(
        """([path]) => {
            const input = document.querySelector('[data-testid=open-h5]').form.querySelector('input[name=url]');
            input.value = path;
        }""",
        [path],
    )
    page.get_by_test_id("open-h5").click()


def _shot(page, name: str) -> None:
    """Full-page screenshot; the bottom tab bar (fixed on a phone) is drawn once, at the page's end."""
    page.add_style_tag(content=".h5-tabbar { position: static !important; }")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def _short_lived_connections():
    """The live server's request threads close their database connections after each request,
    so no session outlives the test (persistent connections would block dropping the test database)."""
    from django.db import connection

    old = connection.settings_dict["CONN_MAX_AGE"]
    # The settings dict is shared by every thread's connection to this alias.
    connection.settings_dict["CONN_MAX_AGE"] = 0
    yield
    connection.settings_dict["CONN_MAX_AGE"] = old


@pytest.fixture
def browser_page(_short_lived_connections):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15000)
        # The manager's and customer's buttons ask for confirmation.
        page.on("dialog", lambda dialog: dialog.accept())
        yield page
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_books_with_a_photo_and_the_manager_accepts_from_his_chat(wechat_sandbox, browser_page, tmp_path):
    base = wechat_sandbox.url
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)

    manager_phone = _phone_user("王经理")
    customer_phone = _phone_user("张三")
    manager = FollowerFactory(openid=manager_phone.openid, nickname="王经理", is_channel_manager=True)
    FollowerFactory(openid=customer_phone.openid, nickname="张三", channel_manager=manager)
    category = Category.objects.create(name="宽带安装")
    package = Package.objects.create(
        category=category,
        name="300M光宽带",
        summary="300M极速光纤入户，含光猫及上门安装",
        price_text="¥99/月起",
        form_fields=["name", "phone", "id_number", "address", "preferred_time", "remarks"],
        max_photos=2,
        photo_hint="可上传身份证照片，加快办理",
        intro_html="<p><strong>300M光纤宽带</strong>，适合2–3口之家。</p><ul><li>免费上门安装</li><li>包年9折</li></ul>",
    )
    photo = tmp_path / "id-card.jpg"
    Image.new("RGB", (640, 400), (40, 120, 200)).save(photo, format="JPEG")

    # --- the customer opens the package from his phone and books it -------------------------
    _open_in_emulator(page, base, customer_phone.openid, f"/h5/bookings/packages/{package.pk}/")
    expect(page.locator("h1.bk-title")).to_have_text("300M光宽带")
    _shot(page, "bookings-package")
    page.get_by_role("link", name="立即预约").click()

    page.fill("#id_name", "张三")
    page.fill("#id_phone", "1380013800")  # one digit short
    page.fill("#id_id_number", "11010519491231002X")
    page.fill("#id_address", "北京市朝阳区建国路1号")
    page.fill("#id_preferred_time", "周六上午")
    page.fill("#id_remarks", "请先电话联系")
    page.click("#submit-booking")
    expect(page.locator("#phone-error")).to_contain_text("请输入正确的11位手机号码")
    # Nothing typed is lost.
    expect(page.locator("#id_address")).to_have_value("北京市朝阳区建国路1号")
    expect(page.locator("#id_remarks")).to_have_value("请先电话联系")
    _shot(page, "bookings-form-error")

    page.fill("#id_phone", "13800138000")
    page.set_input_files("#id_photos", str(photo))
    page.click("#submit-booking")
    expect(page.locator("#booking-status")).to_contain_text("待受理")
    booking = Booking.objects.get()
    assert page.url.endswith(f"/h5/bookings/{booking.pk}/")
    expect(page.locator("img.bk-photo")).to_have_count(1)
    _shot(page, "bookings-query")

    # --- the manager gets the template message in his chat and opens it --------------------
    page.goto(f"{base}/sandbox/phone/{manager_phone.openid}/")
    card = page.locator("[data-kind=template]").last
    expect(card).to_contain_text(booking.number)
    _shot(page, "bookings-manager-chat")
    card.get_by_role("button", name=re.compile("查看详情")).click()
    expect(page.locator("#call-customer")).to_have_attribute("href", "tel:13800138000")
    expect(page.locator("img.bk-photo")).to_have_count(1)
    _shot(page, "bookings-manager")
    page.click("#action-accept")
    expect(page.locator("#booking-status")).to_contain_text("受理成功")
    _shot(page, "bookings-manager-accepted")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ACCEPTED
    page.goto(f"{base}/h5/bookings/manage/?tab=open")
    expect(page.locator(".bk-item")).to_have_count(1)
    _shot(page, "bookings-manager-list")

    # --- the customer is notified and sees 受理成功 ------------------------------------------
    assert SandboxMessage.objects.filter(user=customer_phone, kind="template", text__contains="受理成功").exists()
    page.goto(f"{base}/sandbox/phone/{customer_phone.openid}/")
    notice = page.locator("[data-kind=template]").last
    expect(notice).to_contain_text("受理成功")
    _shot(page, "bookings-customer-notified")
    notice.get_by_role("button", name=re.compile("查看详情")).click()
    expect(page.locator("#booking-status")).to_contain_text("受理成功")
    _shot(page, "bookings-customer-accepted")
