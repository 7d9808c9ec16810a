"""Named actors shared by the suite: a customer, his channel manager, an outsider and staff."""

import pytest
from django.core.cache import cache

from tests.factories import FollowerFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def manager(db):
    return FollowerFactory(nickname="王经理", is_channel_manager=True)


@pytest.fixture
def customer(db, manager):
    return FollowerFactory(nickname="张三", channel_manager=manager)


@pytest.fixture
def outsider(db):
    return FollowerFactory(nickname="路人")


@pytest.fixture
def superuser(db):
    return UserFactory(username="boss", is_superuser=True)


@pytest.fixture
def wechat_sandbox(live_server, settings):
    """Point the WeChat gateway and the emulator's callbacks at the sandbox on the live server.

    The gateway reads WECHAT_SANDBOX_BASE_URL at call time, so the real wechatpy client reaches
    the imitation (in this test's database) over real HTTP.
    """
    settings.WECHAT_SANDBOX = True
    settings.WECHAT_SANDBOX_BASE_URL = live_server.url
    settings.SITE_URL = live_server.url
    settings.WECHAT_HTTP_TIMEOUT = 5
    yield live_server
    from wechat import gateway
    from wechat.sandbox.api import drain_receipts

    # Delivery reports still in flight would land in the next test's database; kept-alive
    # connections would pin a live-server thread (and its database session).
    drain_receipts()
    gateway.close_http()
