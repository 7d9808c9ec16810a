"""The red-packet journey in the phone emulator: a customer books and claims ¥10, his manager
accepts from the template message, the customer claims ¥30, 我的红包 shows ¥40 received, and
the back office totals agree."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect, sync_playwright

from accounts.models import Follower
from bookings.models import Booking, Category, Package
from redpackets.models import Claim, SandboxRedPack
from redpackets.services import ensure_default_rules
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.pay import set_fault

SHOTS = Path(django_settings.BASE_DIR) / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_books_claims_twice_and_the_totals_agree(wechat_sandbox, settings, superuser):
    url = wechat_sandbox.url
    settings.PAYOUT_PROVIDER = "sandbox"
    set_fault("")
    ensure_default_rules()
    package = Package.objects.create(
        category=Category.objects.create(name="宽带安装"),
        name="300M光宽带",
        price_text="¥99/月起",
        form_fields=["name", "phone"],
    )
    customer_user = sandbox_services.create_user(nickname="张三")
    manager_user = sandbox_services.create_user(nickname="王经理")
    SHOTS.mkdir(parents=True, exist_ok=True)

    def phone(user):
        return f"{url}/sandbox/phone/{user.openid}/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 812})
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            # Both follow the account in the emulator; the callbacks create the followers.
            for user in (manager_user, customer_user):
                page.goto(phone(user))
                page.get_by_test_id("follow").click()
                page.wait_for_load_state()
            manager = Follower.objects.get(openid=manager_user.openid)
            Follower.objects.filter(pk=manager.pk).update(is_channel_manager=True)
            Follower.objects.filter(openid=customer_user.openid).update(channel_manager=manager)

            # The customer books and claims the ¥10 of the submitted booking.
            page.goto(phone(customer_user))
            page.get_by_test_id("open-h5").click()
            page.wait_for_load_state()
            page.goto(f"{url}/h5/bookings/packages/{package.pk}/book/")
            page.fill("#id_name", "张三")
            page.fill("#id_phone", "13800138000")
            page.click("#submit-booking")
            page.wait_for_url("**/h5/bookings/*/")
            booking = Booking.objects.get(follower__openid=customer_user.openid)
            claim_form = page.locator("form.rp-claim")
            expect(claim_form.locator("input[name=amount]")).to_have_value("10.00")
            page.screenshot(path=str(SHOTS / "redpackets-booking-grant.png"), full_page=True)
            claim_form.get_by_role("button", name="领取").click()
            page.wait_for_url(f"**/h5/bookings/{booking.pk}/")
            expect(page.locator(".h5-toptips").first).to_contain_text("已领取 10.00 元")
            expect(page.locator(".rp-grant[data-trigger=submitted]")).to_contain_text("已全部领取")
            page.screenshot(path=str(SHOTS / "redpackets-booking-claimed.png"), full_page=True)

            # The manager opens the template message and accepts.
            page.goto(phone(manager_user))
            page.get_by_role("button", name="查看详情 ›").last.click()
            # The OAuth round trip may leave WeChat's "#wechat_redirect" on the URL.
            page.wait_for_url(re.compile(rf"/h5/bookings/manage/{booking.pk}/"))
            page.click("#action-accept")
            page.wait_for_load_state()
            booking.refresh_from_db()
            assert booking.status == "accepted"

            # The customer sees the first packet in his chat, then claims the ¥30.
            page.goto(phone(customer_user))
            expect(page.locator("#chat")).to_contain_text("[微信红包]")
            expect(page.locator("#chat")).to_contain_text("¥10.00")
            page.screenshot(path=str(SHOTS / "redpackets-emulator-chat.png"), full_page=True)
            page.goto(f"{url}/sandbox/pay/?openid={customer_user.openid}")
            expect(page.locator("#sandbox-packets")).to_contain_text("¥10.00")
            page.screenshot(path=str(SHOTS / "redpackets-sandbox-pay.png"), full_page=True)
            page.goto(phone(customer_user))
            page.get_by_test_id("open-h5").click()
            page.wait_for_load_state()
            page.goto(f"{url}/h5/bookings/{booking.pk}/")
            accepted_form = page.locator("form.rp-claim")
            expect(accepted_form.locator("input[name=amount]")).to_have_value("30.00")
            accepted_form.get_by_role("button", name="领取").click()
            page.wait_for_url(f"**/h5/bookings/{booking.pk}/")
            expect(page.locator(".h5-toptips").first).to_contain_text("已领取 30.00 元")

            page.goto(f"{url}/h5/redpackets/")
            expect(page.locator("#rp-received")).to_have_text("40.00")
            expect(page.locator("#rp-remaining")).to_have_text("0.00")
            page.screenshot(path=str(SHOTS / "redpackets-mine.png"), full_page=True)

            # The back office agrees.
            page.goto(f"{url}/admin/login/?next=/admin/redpackets/claim/")
            page.fill("#id_username", superuser.username)
            page.fill("#id_password", "pass12345")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/redpackets/claim/")
            expect(page.locator("#rp-total-paid")).to_have_text("40.00")
            expect(page.locator("#rp-total-count")).to_have_text("2")
            page.set_viewport_size({"width": 1440, "height": 800})
            page.screenshot(path=str(SHOTS / "redpackets-admin-claims.png"), full_page=True)
            page.goto(f"{url}/admin/redpackets/grant/")
            expect(page.locator("#rp-total-amount")).to_have_text("40.00")
            expect(page.locator("#rp-total-claimed")).to_have_text("40.00")
            page.screenshot(path=str(SHOTS / "redpackets-admin-grants.png"), full_page=True)
        finally:
            browser.close()

    assert sorted(Claim.objects.values_list("amount_fen", "status")) == [(1000, "paid"), (3000, "paid")]
    assert sorted(SandboxRedPack.objects.values_list("total_amount", flat=True)) == [1000, 3000]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_lets_finance_pay_a_manual_claim(wechat_sandbox, settings, superuser):
    from bookings.services import submit_booking
    from tests.factories import FollowerFactory

    url = wechat_sandbox.url
    settings.PAYOUT_PROVIDER = "manual"
    ensure_default_rules()
    package = Package.objects.create(
        category=Category.objects.create(name="号卡业务"), name="5G畅享套餐", form_fields=["name", "phone"]
    )
    sandbox_user = sandbox_services.create_user(nickname="李四")
    sandbox_services.set_following(user=sandbox_user, following=True)
    customer = FollowerFactory(openid=sandbox_user.openid, nickname="李四")
    booking, _ = submit_booking(follower=customer, package=package, data={"name": "李四", "phone": "13600001111"})
    SHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 812})
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            page.goto(f"{url}/sandbox/phone/{sandbox_user.openid}/")
            page.get_by_test_id("open-h5").click()
            page.wait_for_load_state()
            page.goto(f"{url}/h5/bookings/{booking.pk}/")
            page.locator("form.rp-claim input[name=amount]").fill("10.5")
            page.locator("form.rp-claim").get_by_role("button", name="领取").click()
            expect(page.locator("#rp-amount-error")).to_have_text("最多可领取 10.00 元")
            expect(page.locator("#id_amount")).to_have_value("10.5")
            page.screenshot(path=str(SHOTS / "redpackets-claim-error.png"), full_page=True)
            page.fill("#id_amount", "10")
            page.get_by_role("button", name="领取").click()
            page.wait_for_url(f"**/h5/bookings/{booking.pk}/")
            expect(page.locator(".h5-toptips").first).to_contain_text("已申请领取 10.00 元")

            page.set_viewport_size({"width": 1440, "height": 800})
            page.goto(f"{url}/admin/login/?next=/admin/redpackets/claim/%3Fprovider__exact%3Dmanual")
            page.fill("#id_username", superuser.username)
            page.fill("#id_password", "pass12345")
            page.click("input[type=submit]")
            expect(page.locator("#rp-total-open")).to_have_text("10.00")
            page.locator("input[name=_selected_action]").first.check()
            page.select_option("select[name=action]", "mark_paid")
            page.click("button[name=index]")
            expect(page.locator("#rp-confirm")).to_contain_text("合计 ¥10.00")
            page.fill("#id_reason", "BESTPAY-0001")
            page.screenshot(path=str(SHOTS / "redpackets-admin-mark-paid.png"), full_page=True)
            page.click("#rp-confirm input[type=submit]")
            expect(page.locator("ul.messagelist")).to_contain_text("已标记 1 笔为已打款")
            expect(page.locator("#rp-total-paid")).to_have_text("10.00")

            page.set_viewport_size({"width": 375, "height": 812})
            page.goto(f"{url}/h5/redpackets/")
            expect(page.locator("#rp-received")).to_have_text("10.00")

            # Booking the same package again with the same phone earns no submit reward; he is told why.
            again, _ = submit_booking(follower=customer, package=package, data={"name": "李四", "phone": "13600001111"})
            page.goto(f"{url}/h5/bookings/{again.pk}/")
            expect(page.locator(".rp-refusal")).to_contain_text("内已预约过该套餐，本次预约不发红包")
            expect(page.locator("form.rp-claim")).to_have_count(0)
            page.locator("#booking-redpackets").scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "redpackets-booking-refused.png"))
        finally:
            browser.close()

    claim = Claim.objects.get()
    assert (claim.provider, claim.status, claim.provider_ref) == ("manual", "paid", "BESTPAY-0001")
    assert not SandboxRedPack.objects.exists()
