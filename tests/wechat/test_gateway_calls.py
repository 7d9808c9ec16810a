"""The other gateway calls against the sandbox: menu, QR codes, follower sync, media, OAuth, JS-SDK."""

import hashlib
import io

import pytest
from django.utils import timezone
from PIL import Image

from accounts import services as accounts
from accounts.models import AttributionChange, Follower, QRCode
from tests.factories import FollowerFactory
from tests.wechat.sandbox_support import calls, following_user
from wechat import demo, gateway
from wechat import services as wechat_services
from wechat.sandbox import api as sandbox_api
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxMedia, SandboxQRCode

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_publishes_the_menu_from_the_back_office_rows(wechat_sandbox):
    demo.seed(io.StringIO())

    buttons = wechat_services.publish_menu()

    assert [b["name"] for b in buttons] == ["业务预约", "商城", "我的"]
    published = gateway.get_menu()["menu"]["button"]
    assert published == buttons
    first = published[0]["sub_button"][0]
    assert first == {"type": "view", "name": "套餐预约", "url": f"{wechat_sandbox.url}/h5/bookings/"}


def test_it_reads_no_menu_as_none(wechat_sandbox):
    assert gateway.get_menu() is None


def test_it_writes_the_sandbox_menu_directly_when_the_sandbox_is_not_up(settings, db):
    settings.WECHAT_SANDBOX = True
    settings.WECHAT_SANDBOX_BASE_URL = "http://127.0.0.1:9"  # what `make run` sees before runserver
    out = io.StringIO()
    demo.seed(out)

    demo.after_commit(out)

    assert [b["name"] for b in sandbox_services.published_menu()] == ["业务预约", "商城", "我的"]
    assert "直接写入" in out.getvalue()


def test_it_caches_a_followers_promo_qr_on_the_qrcode_row(wechat_sandbox):
    follower = FollowerFactory()

    first = wechat_services.promo_qr_image_url(follower=follower)
    second = wechat_services.promo_qr_image_url(follower=follower)

    assert first == second
    assert calls("qrcode/create") == 1
    qr = QRCode.objects.get(follower=follower)
    assert qr.ticket and qr.url.startswith("http://weixin.qq.com/q/")
    assert qr.ticket_expires_at > timezone.now() + timezone.timedelta(days=29)
    sandbox_qr = SandboxQRCode.objects.get(ticket=qr.ticket)
    assert (sandbox_qr.action_name, sandbox_qr.scene_str) == ("QR_STR_SCENE", f"u:{follower.promo_code}")


def test_it_renews_a_promo_qr_about_to_expire(wechat_sandbox):
    follower = FollowerFactory()
    wechat_services.promo_qr_image_url(follower=follower)
    QRCode.objects.filter(follower=follower).update(ticket_expires_at=timezone.now() + timezone.timedelta(hours=2))

    wechat_services.promo_qr_image_url(follower=follower)

    assert calls("qrcode/create") == 2


def test_it_creates_permanent_codes_for_stores_and_campaigns(wechat_sandbox):
    qr = accounts.ensure_qr_code(kind=QRCode.Kind.CAMPAIGN, code="SPRING", name="春季活动")

    wechat_services.ensure_qr_ticket(qr_code=qr)

    qr.refresh_from_db()
    assert qr.ticket_expires_at is None
    assert SandboxQRCode.objects.get(ticket=qr.ticket).action_name == "QR_LIMIT_STR_SCENE"


def test_it_serves_a_real_qr_image_for_a_ticket(wechat_sandbox, client):
    ticket = gateway.create_qr(scene="c:SPRING", permanent=True)

    response = client.get(gateway.qr_image_url(ticket.ticket))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size[0] >= 200


def test_it_imports_followers_page_by_page_without_a_referrer(wechat_sandbox, monkeypatch):
    monkeypatch.setattr(sandbox_api, "PAGE_SIZE", 3)
    monkeypatch.setattr(wechat_services, "SYNC_BATCH", 2)
    users = [following_user(f"老粉{i}") for i in range(5)]
    left = following_user("已取关")
    sandbox_services.set_following(user=left, following=False)
    referrer = FollowerFactory()
    accounts.record_subscribe(openid=users[0].openid, scene=f"u:{referrer.promo_code}", at=timezone.now())

    result = wechat_services.sync_followers()

    assert (result.pages, result.imported) == (3, 5)  # 3 + 2 OpenIDs, then the empty last page
    assert calls("user/info/batchget") == 3
    imported = Follower.objects.filter(openid__in=[u.openid for u in users[1:]])
    assert imported.count() == 4
    assert set(imported.values_list("source", "referrer", "channel_manager")) == {("import", None, None)}
    assert not Follower.objects.filter(openid=left.openid).exists()
    # A follower already attributed keeps his referrer.
    assert Follower.objects.get(openid=users[0].openid).referrer == referrer
    assert AttributionChange.objects.filter(actor_label="粉丝同步").count() == 4
    # Running again changes nothing.
    wechat_services.sync_followers()
    assert Follower.objects.count() == 6


def test_it_uploads_media_and_sends_it_as_an_image(wechat_sandbox):
    user = following_user()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")

    media_id = gateway.upload_media(media_type="image", filename="poster.png", content=buffer.getvalue())
    gateway.send_image(openid=user.openid, media_id=media_id)

    media = SandboxMedia.objects.get(media_id=media_id)
    assert bytes(media.content) == buffer.getvalue()
    assert user.messages.get().payload["image"] == {"media_id": media_id}


def test_it_exchanges_an_oauth_code_once(wechat_sandbox):
    user = following_user()
    code = sandbox_services.issue_oauth_code(openid=user.openid)

    assert gateway.exchange_oauth_code(code=code) == user.openid
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.exchange_oauth_code(code=code)
    assert (caught.value.errcode, caught.value.permanent) == (40163, True)


def test_it_signs_the_jssdk_config_for_the_page_url(wechat_sandbox):
    config = gateway.jssdk_config(url="http://example.com/h5/?a=1#share")
    again = gateway.jssdk_config(url="http://example.com/h5/?a=1")

    assert calls("ticket/getticket") == 1  # the ticket is cached like the token
    from django.core.cache import cache

    ticket = cache.get(f"wechat:{config['appId']}_jsapi_ticket")
    raw = f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}&url=http://example.com/h5/?a=1"
    assert config["signature"] == hashlib.sha1(raw.encode()).hexdigest()
    assert again["nonceStr"] != config["nonceStr"]


def test_it_rewrites_only_wechat_hosts_and_only_in_sandbox_mode(settings):
    settings.WECHAT_SANDBOX_BASE_URL = "http://sandbox.local:8000"

    assert gateway.sandbox_url("https://api.weixin.qq.com/cgi-bin/token?x=1") == (
        "http://sandbox.local:8000/sandbox/cgi-bin/token?x=1"
    )
    assert gateway.sandbox_url("https://api.mch.weixin.qq.com/mmpaymkttransfers/sendredpack") == (
        "http://sandbox.local:8000/sandbox/pay/mmpaymkttransfers/sendredpack"
    )
    assert gateway.sandbox_url("https://example.com/a") == "https://example.com/a"


def test_it_builds_browser_urls_for_real_wechat_when_the_sandbox_is_off(settings):
    settings.WECHAT_SANDBOX = False

    authorize = gateway.oauth_authorize_url(redirect_uri="https://wx.example.com/wechat/oauth/callback", state="s1")

    assert authorize.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=")
    assert "redirect_uri=https%3A%2F%2Fwx.example.com%2Fwechat%2Foauth%2Fcallback" in authorize
    assert "scope=snsapi_base" in authorize and authorize.endswith("&state=s1#wechat_redirect")
    assert gateway.qr_image_url("t/1") == "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=t%2F1"
