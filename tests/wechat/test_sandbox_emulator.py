"""The phone emulator: each action sends WeChat's signed callback over HTTP and shows the reply."""

import io

import pytest
from django.db import transaction
from PIL import Image

from accounts.models import Follower, QRCode, QRScan
from tests.factories import FollowerFactory
from tests.wechat.sandbox_support import following_user
from wechat import demo, notify
from wechat.models import AutoReply, InboundMessage, OutboundMessage, WelcomeMessage
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.api import drain_receipts
from wechat.sandbox.models import SandboxMessage, SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def replies(user):
    return list(SandboxMessage.objects.filter(user=user, kind="reply").values_list("text", flat=True))


def new_user(client, nickname):
    response = client.post("/sandbox/users/new", {"nickname": nickname})
    assert response.status_code == 302
    return SandboxUser.objects.get(nickname=nickname)


def test_it_lists_users_and_creates_one(wechat_sandbox, client):
    user = new_user(client, "小明")

    page = client.get("/sandbox/")
    phone = client.get(f"/sandbox/phone/{user.openid}/")

    assert "小明" in page.content.decode()
    assert phone.status_code == 200
    assert "搜索公众号并关注" in phone.content.decode()
    assert len(user.openid) == 28


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_it_follows_by_search_and_shows_the_welcome_reply(wechat_sandbox, client, settings, aes):
    settings.WECHAT_AES_KEY = AES_KEY if aes else ""
    WelcomeMessage.objects.create(text="欢迎关注！")
    user = new_user(client, "小明")

    response = client.post(f"/sandbox/phone/{user.openid}/follow")

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_following
    follower = Follower.objects.get(openid=user.openid)
    assert follower.is_subscribed
    assert follower.source == Follower.Source.SEARCH
    assert follower.referrer is None
    assert replies(user) == ["欢迎关注！"]
    assert InboundMessage.objects.get(openid=user.openid).event == "subscribe"


def test_it_scans_a_promo_code_and_follows_with_the_referrer(wechat_sandbox, client):
    WelcomeMessage.objects.create(text="欢迎！")
    alice = new_user(client, "阿丽")
    client.post(f"/sandbox/phone/{alice.openid}/follow")
    alice_follower = Follower.objects.get(openid=alice.openid)
    code = QRCode.objects.create(kind=QRCode.Kind.PERSONAL, code=alice_follower.promo_code, follower=alice_follower)
    bob = new_user(client, "阿博")

    phone = client.get(f"/sandbox/phone/{bob.openid}/")
    assert f'data-scene="u:{alice_follower.promo_code}"' in phone.content.decode()
    client.post(f"/sandbox/phone/{bob.openid}/scan", {"qr_id": code.pk})

    bob_follower = Follower.objects.get(openid=bob.openid)
    assert bob_follower.referrer == alice_follower
    assert bob_follower.source == Follower.Source.PERSONAL_QR
    assert replies(bob) == ["欢迎！"]
    inbound = InboundMessage.objects.get(openid=bob.openid)
    # Stored as wechatpy parses it: the QR subscribe class, the scene without its qrscene_ prefix.
    assert (inbound.event, inbound.event_key) == ("subscribe_scan", f"u:{alice_follower.promo_code}")

    # Scanning again while following is a SCAN: counted, never rebinds.
    other = QRCode.objects.create(kind=QRCode.Kind.CAMPAIGN, code="SPRING", name="春季活动")
    client.post(f"/sandbox/phone/{bob.openid}/scan", {"qr_id": other.pk})
    bob_follower.refresh_from_db()
    assert bob_follower.referrer == alice_follower
    assert InboundMessage.objects.filter(openid=bob.openid, event="scan", event_key="c:SPRING").exists()
    assert QRScan.objects.filter(qr_code=other, follower=bob_follower, is_follow=False).exists()


def test_it_lets_a_user_scan_a_follower_who_never_opened_his_personal_center(wechat_sandbox, client):
    alice = new_user(client, "阿丽")
    client.post(f"/sandbox/phone/{alice.openid}/follow")
    alice_follower = Follower.objects.get(openid=alice.openid)
    assert not QRCode.objects.filter(follower=alice_follower).exists()
    bob = new_user(client, "阿博")

    phone = client.get(f"/sandbox/phone/{bob.openid}/").content.decode()
    assert "个人推广码 · 阿丽的推广码" in phone
    client.post(f"/sandbox/phone/{bob.openid}/scan", {"follower_id": alice_follower.pk})

    assert Follower.objects.get(openid=bob.openid).referrer == alice_follower
    assert QRCode.objects.get(follower=alice_follower).follow_count == 1


def test_it_repeats_deliveries_like_wechat_and_the_platform_handles_them_once(wechat_sandbox, client):
    WelcomeMessage.objects.create(text="欢迎！")
    sandbox_services.set_repeat_deliveries(True)
    user = new_user(client, "重复")

    client.post(f"/sandbox/phone/{user.openid}/follow")

    assert InboundMessage.objects.filter(openid=user.openid).count() == 1
    assert Follower.objects.filter(openid=user.openid).count() == 1
    assert replies(user) == ["欢迎！"]


def test_it_unfollows(wechat_sandbox, client):
    user = new_user(client, "小明")
    client.post(f"/sandbox/phone/{user.openid}/follow")

    client.post(f"/sandbox/phone/{user.openid}/unfollow")

    user.refresh_from_db()
    assert not user.is_following
    assert not Follower.objects.get(openid=user.openid).is_subscribed


def test_it_answers_a_keyword_and_a_menu_click(wechat_sandbox, client):
    demo.seed(io.StringIO())
    demo.after_commit(io.StringIO())
    AutoReply.objects.create(keyword="宽带", reply="宽带请点菜单「业务预约」")
    user = new_user(client, "小明")
    client.post(f"/sandbox/phone/{user.openid}/follow")

    client.post(f"/sandbox/phone/{user.openid}/text", {"text": "我想办宽带"})
    client.post(f"/sandbox/phone/{user.openid}/click", {"key": "CONTACT"})

    assert replies(user)[1:] == ["宽带请点菜单「业务预约」", demo.CONTACT_REPLY]
    text = InboundMessage.objects.get(openid=user.openid, msg_type="text")
    assert text.content == "我想办宽带"
    assert InboundMessage.objects.filter(openid=user.openid, event="click", event_key="CONTACT").exists()


def test_it_opens_a_view_button_as_the_user(wechat_sandbox, client):
    demo.seed(io.StringIO())
    demo.after_commit(io.StringIO())
    user = new_user(client, "小明")
    client.post(f"/sandbox/phone/{user.openid}/follow")
    phone = client.get(f"/sandbox/phone/{user.openid}/").content.decode()
    assert "套餐预约" in phone

    response = client.post(f"/sandbox/phone/{user.openid}/view", {"url": f"{wechat_sandbox.url}/h5/"})

    assert response["Location"] == "/h5/"
    assert InboundMessage.objects.filter(openid=user.openid, event="view").exists()
    home = client.get("/h5/", follow=True)
    assert home.status_code == 200
    assert home.redirect_chain[-1][0] == "/h5/"


def test_it_sends_an_image(wechat_sandbox, client):
    user = new_user(client, "小明")
    client.post(f"/sandbox/phone/{user.openid}/follow")
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buffer, format="PNG")
    buffer.name = "photo.png"
    buffer.seek(0)

    client.post(f"/sandbox/phone/{user.openid}/image", {"image": buffer})

    inbound = InboundMessage.objects.get(openid=user.openid, msg_type="image")
    assert inbound.pic_url.startswith(f"{wechat_sandbox.url}/sandbox/mmbiz/")
    picture = client.get(inbound.pic_url.replace(wechat_sandbox.url, ""))
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"


def test_it_shows_what_the_account_sent_and_reports_template_delivery(wechat_sandbox, client):
    user = following_user("小明")
    FollowerFactory(openid=user.openid)
    sandbox_services.touch(user=user)
    with transaction.atomic():
        notify.send_template_on_commit(
            openid=user.openid, template="tpl", data={"thing1": "预约已受理"}, idempotency_key="t:1"
        )
        notify.send_text_on_commit(openid=user.openid, text="您好，这里是客服", idempotency_key="c:1")
    drain_receipts()

    page = client.get(f"/sandbox/phone/{user.openid}/").content.decode()
    assert "thing1: 预约已受理" in page
    assert "您好，这里是客服" in page
    assert OutboundMessage.objects.get(idempotency_key="t:1").delivery_status == "success"
    newer = client.get(f"/sandbox/phone/{user.openid}/chat", {"after": 0})
    assert newer["X-Last-Id"] == str(SandboxMessage.objects.filter(user=user).latest("id").id)


def test_it_reports_a_mass_send_back_to_the_platform(wechat_sandbox, client):
    following_user("甲")
    following_user("乙")
    with transaction.atomic():
        notify.mass_send_text_on_commit(text="周末活动", idempotency_key="mass:report")
    drain_receipts()

    message = OutboundMessage.objects.get(idempotency_key="mass:report")
    assert (message.status, message.delivery_status) == ("sent", "send success")
    report = InboundMessage.objects.get(event="masssendjobfinish")
    assert report.openid.startswith("oSBX")


def test_it_shows_the_service_unavailable_notice_when_the_site_does_not_answer(wechat_sandbox, client, settings):
    user = new_user(client, "小明")
    settings.SITE_URL = "http://127.0.0.1:9"

    client.post(f"/sandbox/phone/{user.openid}/follow")

    assert replies(user) == ["该公众号暂时无法提供服务，请稍后再试"]


def test_it_arms_and_clears_faults_from_the_page(client, db):
    client.post("/sandbox/faults", {"kind": "quota", "times": "2"})
    assert "剩余 2 次" in client.get("/sandbox/").content.decode()

    client.post("/sandbox/faults", {"action": "disarm"})

    assert "剩余" not in client.get("/sandbox/").content.decode()
