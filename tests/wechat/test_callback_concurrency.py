"""Three copies of one delivery arriving at the same time are processed once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import AttributionChange, Follower, QRCode
from tests.factories import FollowerFactory
from tests.wechat.callbacks import fixture, post_callback
from wechat.models import InboundMessage


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("aes", [False, True])
def test_it_processes_concurrent_copies_of_a_subscribe_once(settings, aes):
    settings.WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" if aes else ""
    manager = FollowerFactory(nickname="并发经理", is_channel_manager=True)
    xml = fixture("subscribe_scan", openid="oCONCURRENT1", scene=f"u:{manager.promo_code}", create_time=1761000000)
    barrier = threading.Barrier(3)
    statuses, errors = [], []

    def deliver():
        try:
            client = Client()
            barrier.wait()
            statuses.append(post_callback(client, xml).status_code)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert statuses == [200, 200, 200]
    follower = Follower.objects.get(openid="oCONCURRENT1")
    assert follower.referrer == manager and follower.channel_manager == manager
    assert AttributionChange.objects.filter(follower=follower).count() == 1
    qr = QRCode.objects.get(kind="u", code=manager.promo_code)
    assert (qr.scan_count, qr.follow_count) == (1, 1)
    assert InboundMessage.objects.count() == 1
