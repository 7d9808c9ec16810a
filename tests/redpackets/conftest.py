"""Helpers of the red-packet tests: a catalog, bookings made through the booking services,
the default reward rules, H5 and staff clients, and the sandbox pointed at the live server."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.h5auth import SESSION_KEY
from bookings import services as booking_services
from bookings.models import Category, Package
from redpackets.services import ensure_default_rules, get_redpacket_settings
from tests.factories import UserFactory

VALID = {"name": "张三", "phone": "13800138000", "address": "北京市朝阳区建国路1号"}


@pytest.fixture(autouse=True)
def _rules(db):
    ensure_default_rules()


@pytest.fixture(autouse=True)
def _no_caps_by_default(db):
    # Most tests make several bookings for one customer; the cap tests set their own limits.
    rp = get_redpacket_settings()
    rp.daily_cap_fen = 0
    rp.lifetime_cap_fen = 0
    rp.total_budget_fen = 0
    rp.save(update_fields=["daily_cap_fen", "lifetime_cap_fen", "total_budget_fen"])


@pytest.fixture
def package(db):
    category = Category.objects.create(name="宽带安装")
    return Package.objects.create(category=category, name="300M光宽带", form_fields=["name", "phone", "address"])


@pytest.fixture
def other_package(package):
    return Package.objects.create(category=package.category, name="5G畅享套餐", form_fields=["name", "phone"])


def submit(follower, package, **data):
    booking, _ = booking_services.submit_booking(follower=follower, package=package, data={**VALID, **data})
    return booking


def accept(booking, manager):
    return booking_services.change_booking_status(booking_id=booking.pk, action="accept", actor_follower=manager)


def reject(booking, manager, note="客户不在服务区"):
    return booking_services.change_booking_status(
        booking_id=booking.pk, action="reject", actor_follower=manager, note=note
    )


def h5_client(follower) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = follower.pk
    session.save()
    return client


def staff_client(*perms: str):
    from django.contrib.auth.models import Permission

    user = UserFactory()
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="redpackets", codename=codename))
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def sandbox_pay(live_server, settings):
    """Point the WeChat Pay client at the sandbox imitation served by the live server."""
    settings.WECHAT_SANDBOX_BASE_URL = live_server.url
    settings.PAYOUT_PROVIDER = "sandbox"
    settings.WECHATPAY_TIMEOUT = 1
    from wechat.sandbox.pay import set_fault

    set_fault("")
    yield live_server
    set_fault("")
