"""The H5 home: entries and the personal center (promo code, referrer, manager, people brought in)."""

import pytest
from django.utils import timezone

from accounts import services as accounts
from accounts.h5auth import SESSION_KEY
from accounts.models import Follower, QRCode
from tests.factories import FollowerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(client, follower):
    session = client.session
    session[SESSION_KEY] = follower.pk
    session.save()


def test_it_shows_the_personal_center(wechat_sandbox, client, manager):
    me = FollowerFactory(nickname="张三")
    accounts.record_subscribe(openid="oFRIEND1", scene=f"u:{me.promo_code}", at=timezone.now())
    accounts.record_subscribe(openid="oFRIEND2", scene=f"u:{me.promo_code}", at=timezone.now())
    Follower.objects.filter(pk=me.pk).update(channel_manager=manager)
    sign_in(client, me)

    response = client.get("/h5/")

    assert response.status_code == 200
    content = response.content.decode()
    for entry in ("/h5/bookings/", "/h5/bookings/mine/", "/h5/redpackets/", "/h5/shop/"):
        assert f'href="{entry}"' in content
    assert me.promo_code in content
    assert 'data-testid="referral-count">2<' in content
    assert 'data-testid="manager">王经理<' in content
    assert 'data-testid="referrer">无<' in content
    qr = QRCode.objects.get(follower=me)
    assert f"/sandbox/cgi-bin/showqrcode?ticket={qr.ticket}" in content


def test_it_does_not_create_a_new_qr_code_on_every_view(wechat_sandbox, client, customer):
    sign_in(client, customer)
    client.get("/h5/")
    ticket = QRCode.objects.get(follower=customer).ticket

    client.get("/h5/")

    assert QRCode.objects.get(follower=customer).ticket == ticket


def test_it_still_shows_the_page_when_wechat_is_down(settings, client, customer):
    settings.WECHAT_SANDBOX_BASE_URL = "http://127.0.0.1:9"
    sign_in(client, customer)

    response = client.get("/h5/")

    assert response.status_code == 200
    assert "二维码暂时无法生成" in response.content.decode()


def test_it_sends_an_unfollowed_visitor_to_the_follow_page(client, db):
    gone = FollowerFactory(is_subscribed=False)
    sign_in(client, gone)

    assert client.get("/h5/")["Location"] == "/h5/follow/"
