"""Who is told about a new booking (its manager, or the fallback recipients) and that the
customer hears of every status change."""

import pytest

from bookings import selectors, services
from bookings.models import NotificationRecipient
from tests.bookings.conftest import submit
from tests.factories import FollowerFactory


@pytest.mark.django_db
def test_it_notifies_the_customers_manager(customer, manager, fallback, package):
    booking = submit(customer, package)
    assert booking.channel_manager == manager
    assert selectors.notification_openids(booking) == [manager.openid]


@pytest.mark.django_db
def test_it_notifies_every_active_fallback_recipient_without_a_manager(outsider, fallback, package):
    second = FollowerFactory(nickname="值班2")
    NotificationRecipient.objects.create(follower=second)
    inactive = FollowerFactory(nickname="休假")
    NotificationRecipient.objects.create(follower=inactive, is_active=False)
    booking = submit(outsider, package)
    assert booking.channel_manager is None
    assert selectors.notification_openids(booking) == [fallback.openid, second.openid]


@pytest.mark.django_db
def test_it_sends_an_unset_managers_customers_to_the_fallback(customer, manager, fallback, package):
    manager.is_channel_manager = False
    manager.save(update_fields=["is_channel_manager"])
    booking = submit(customer, package)
    assert booking.channel_manager is None
    assert selectors.notification_openids(booking) == [fallback.openid]


@pytest.mark.django_db
def test_it_assigns_the_manager_of_the_moment(customer, manager, other_manager, package):
    first = submit(customer, package, token="1")
    customer.channel_manager = other_manager
    customer.save(update_fields=["channel_manager"])
    second = submit(customer, package, token="2")
    first.refresh_from_db()
    assert (first.channel_manager, second.channel_manager) == (manager, other_manager)


@pytest.mark.django_db
def test_it_keeps_template_keywords_within_twenty_characters():
    assert services._keyword("一" * 30) == "一" * 19 + "…"
    assert services._keyword("短") == "短"


# --- what was handed to wechat.notify (the OutboundMessage record) -----------------------------


@pytest.mark.django_db
def test_it_enqueues_the_new_booking_notice_for_the_manager_only(customer, manager, fallback, package, settings):
    from wechat.models import OutboundMessage

    settings.SITE_URL = "https://pc.example.com"
    booking = submit(customer, package)
    sent = list(OutboundMessage.objects.filter(kind="template"))
    assert [m.openid for m in sent] == [manager.openid]
    payload = sent[0].payload
    assert payload["template"] == settings.WECHAT_TEMPLATE_BOOKING_NEW
    assert payload["url"] == f"https://pc.example.com/h5/bookings/manage/{booking.pk}/"
    assert all(len(v) <= 20 for v in payload["data"].values())
    assert payload["data"]["thing2"] == package.name


@pytest.mark.django_db
def test_it_enqueues_the_notice_for_every_fallback_recipient(outsider, fallback, package):
    from wechat.models import OutboundMessage

    second = FollowerFactory(nickname="值班2")
    NotificationRecipient.objects.create(follower=second)
    submit(outsider, package)
    assert sorted(OutboundMessage.objects.values_list("openid", flat=True)) == sorted([fallback.openid, second.openid])


@pytest.mark.django_db
def test_it_tells_the_customer_of_every_status_change(booking, customer, manager):
    from wechat.models import OutboundMessage

    services.change_booking_status(booking_id=booking.pk, action="unreachable", actor_follower=manager)
    services.change_booking_status(booking_id=booking.pk, action="accept", actor_follower=manager)
    to_customer = list(OutboundMessage.objects.filter(openid=customer.openid).order_by("id"))
    assert [m.payload["data"]["phrase3"] for m in to_customer] == ["联系不上", "受理成功"]
    assert all(m.payload["template"] == "tpl_booking_status" for m in to_customer)
    assert to_customer[0].payload["url"].endswith(f"/h5/bookings/{booking.pk}/")


# --- delivered through the WeChat sandbox (real wechatpy client over HTTP) ---------------------


@pytest.mark.django_db(transaction=True)
def test_it_delivers_the_notices_through_the_sandbox(wechat_sandbox, package):
    from tests.wechat.sandbox_support import following_user
    from wechat.sandbox.models import SandboxMessage

    manager_phone = following_user("王经理")
    customer_phone = following_user("张三")
    duty_phone = following_user("值班")
    manager = FollowerFactory(openid=manager_phone.openid, is_channel_manager=True)
    customer = FollowerFactory(openid=customer_phone.openid, channel_manager=manager)
    NotificationRecipient.objects.create(follower=FollowerFactory(openid=duty_phone.openid))

    booking = submit(customer, package)

    received = SandboxMessage.objects.filter(kind="template", user=manager_phone)
    assert received.count() == 1
    assert received.get().payload["url"] == f"{wechat_sandbox.url}/h5/bookings/manage/{booking.pk}/"
    assert not SandboxMessage.objects.filter(kind="template", user=duty_phone).exists()

    services.change_booking_status(booking_id=booking.pk, action="accept", actor_follower=manager)
    told = SandboxMessage.objects.get(kind="template", user=customer_phone)
    assert "受理成功" in told.text


@pytest.mark.django_db(transaction=True)
def test_it_delivers_to_the_fallback_through_the_sandbox(wechat_sandbox, package):
    from tests.wechat.sandbox_support import following_user
    from wechat.sandbox.models import SandboxMessage

    duty_phone = following_user("值班")
    NotificationRecipient.objects.create(follower=FollowerFactory(openid=duty_phone.openid))
    loner = FollowerFactory(openid=following_user("路人").openid)

    booking = submit(loner, package)

    message = SandboxMessage.objects.get(kind="template", user=duty_phone)
    assert booking.number in message.text


@pytest.mark.django_db
def test_it_tells_the_manager_when_the_customer_cancels(booking, customer, manager):
    from wechat.models import OutboundMessage

    services.change_booking_status(booking_id=booking.pk, action="cancel", actor_follower=customer)
    to_manager = OutboundMessage.objects.filter(openid=manager.openid).order_by("-id").first()
    assert to_manager.payload["data"]["phrase3"] == "客户已取消"
    assert to_manager.payload["url"].endswith(f"/h5/bookings/manage/{booking.pk}/")
    assert all(len(v) <= 20 for v in to_manager.payload["data"].values())
