"""Grants are created by the booking services, once per booking and trigger, within the rules."""

import datetime as dt

import pytest
from django.utils import timezone

from bookings.models import Booking, Package
from redpackets.models import Grant, GrantRefusal, LedgerEntry, RewardRule
from redpackets.services import (
    VoidError,
    claim,
    create_grant_for_booking,
    get_redpacket_settings,
    void_grants_for_booking,
)
from tests.factories import FollowerFactory, UserFactory
from tests.redpackets.conftest import accept, h5_client, reject, submit

pytestmark = pytest.mark.django_db


def test_it_grants_the_submit_reward_once(customer, package):
    booking = submit(customer, package)

    grant = Grant.objects.get(booking=booking)
    assert (grant.trigger, grant.amount_fen, grant.follower_id) == ("submitted", 1000, customer.pk)
    assert create_grant_for_booking(booking=booking, trigger="submitted") == grant
    assert Grant.objects.filter(booking=booking).count() == 1
    assert LedgerEntry.objects.filter(grant=grant, kind="granted").count() == 1


def test_it_grants_the_accept_reward_when_the_manager_accepts(customer, manager, package):
    booking = submit(customer, package)
    accept(booking, manager)

    amounts = dict(Grant.objects.filter(booking=booking).values_list("trigger", "amount_fen"))
    assert amounts == {"submitted": 1000, "accepted": 3000}


def test_it_uses_the_amounts_staff_set(customer, package):
    RewardRule.objects.filter(trigger="submitted").update(amount_fen=1234)

    booking = submit(customer, package)

    assert Grant.objects.get(booking=booking).amount_fen == 1234


def test_it_gives_nothing_when_the_rule_is_off_and_says_so(customer, package):
    RewardRule.objects.filter(trigger="submitted").update(is_active=False)

    booking = submit(customer, package)

    assert not Grant.objects.filter(booking=booking).exists()
    assert GrantRefusal.objects.get(booking=booking).reason == "inactive"


def test_it_refuses_the_submit_reward_for_a_duplicate_booking(customer, manager, package, other_package):
    first = submit(customer, package)
    second = submit(customer, package)
    other = submit(customer, other_package)

    assert Grant.objects.filter(booking=first).exists()
    assert not Grant.objects.filter(booking=second).exists()
    refusal = GrantRefusal.objects.get(booking=second)
    assert refusal.reason == "duplicate"
    assert "已预约过该套餐" in refusal.message
    # Another package is not a duplicate.
    assert Grant.objects.filter(booking=other).exists()
    # The duplicate still earns the accept reward: a real business was done.
    accept(second, manager)
    assert Grant.objects.filter(booking=second, trigger="accepted").exists()

    response = h5_client(customer).get(f"/h5/bookings/{second.pk}/")
    assert response.status_code == 200
    assert "已预约过该套餐" in response.content.decode()


def test_it_counts_the_same_phone_from_another_follower_as_a_duplicate(customer, outsider, package):
    submit(customer, package, phone="13900001111")
    second = submit(outsider, package, phone="13900001111")

    assert GrantRefusal.objects.get(booking=second).reason == "duplicate"


def test_it_grants_again_once_the_window_has_passed(customer, package):
    rp = get_redpacket_settings()
    rp.duplicate_window_hours = 24
    rp.save(update_fields=["duplicate_window_hours"])
    first = submit(customer, package)
    Booking.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - dt.timedelta(hours=25))

    second = submit(customer, package)

    assert Grant.objects.filter(booking=second).exists()


def test_it_stops_at_the_daily_cap(customer, package, other_package):
    rp = get_redpacket_settings()
    rp.daily_cap_fen = 1500
    rp.save(update_fields=["daily_cap_fen"])

    first = submit(customer, package)
    second = submit(customer, other_package)

    assert Grant.objects.filter(booking=first).exists()
    refusal = GrantRefusal.objects.get(booking=second)
    assert refusal.reason == "daily_cap"
    assert "今天" in refusal.message
    # Yesterday's grants do not count towards today's cap.
    Grant.objects.filter(booking=first).update(created_at=timezone.now() - dt.timedelta(days=1))
    third_package = Package.objects.create(category=package.category, name="新装固话", form_fields=["phone"])
    third = submit(customer, third_package)
    assert Grant.objects.filter(booking=third).exists()


def test_it_stops_at_the_lifetime_cap(customer, package, other_package):
    rp = get_redpacket_settings()
    rp.lifetime_cap_fen = 1000
    rp.save(update_fields=["lifetime_cap_fen"])
    submit(customer, package)

    second = submit(customer, other_package)

    assert GrantRefusal.objects.get(booking=second).reason == "lifetime_cap"


def test_it_stops_at_the_budget(customer, outsider, package):
    rp = get_redpacket_settings()
    rp.total_budget_fen = 1500
    rp.save(update_fields=["total_budget_fen"])
    submit(customer, package)

    second = submit(outsider, package, phone="13700000000")

    assert GrantRefusal.objects.get(booking=second).reason == "budget"
    assert Grant.objects.count() == 1


def test_it_voids_the_unclaimed_grants_of_a_rejected_booking(customer, manager, package, settings):
    settings.PAYOUT_PROVIDER = "manual"
    staff = UserFactory()
    booking = submit(customer, package)
    grant = Grant.objects.get(booking=booking)

    with pytest.raises(VoidError):
        void_grants_for_booking(booking=booking, actor=staff, reason="客户资料不实")
    reject(booking, manager)
    with pytest.raises(VoidError):
        void_grants_for_booking(booking=booking, actor=staff, reason="  ")
    voided = void_grants_for_booking(booking=booking, actor=staff, reason="客户资料不实")

    grant.refresh_from_db()
    assert voided == [grant]
    assert (grant.status, grant.voided_by, grant.void_reason) == ("voided", staff, "客户资料不实")
    entry = LedgerEntry.objects.get(grant=grant, kind="voided")
    assert (entry.actor, entry.amount_fen) == (staff, -1000)


def test_it_leaves_a_claimed_grant_alone_when_voiding(customer, manager, package, settings):
    settings.PAYOUT_PROVIDER = "manual"
    booking = submit(customer, package)
    grant = Grant.objects.get(booking=booking)
    claim(grant=grant, follower=customer, amount_fen=500)
    reject(booking, manager)

    assert void_grants_for_booking(booking=booking, actor=UserFactory(), reason="资料不实") == []
    grant.refresh_from_db()
    assert grant.status == "active"


def test_it_shows_grants_and_the_claim_form_only_to_the_customer(customer, manager, package):
    booking = submit(customer, package)
    grant = Grant.objects.get(booking=booking)

    mine = h5_client(customer).get(f"/h5/bookings/{booking.pk}/").content.decode()
    assert "提交预约红包" in mine
    assert f'action="/h5/redpackets/grants/{grant.pk}/claim/"' in mine
    assert 'value="10.00"' in mine

    managers = h5_client(manager).get(f"/h5/bookings/{booking.pk}/")
    if managers.status_code == 200:
        assert "/claim/" not in managers.content.decode()


def test_it_refuses_another_followers_grant(customer, package):
    booking = submit(customer, package)
    grant = Grant.objects.get(booking=booking)
    stranger = FollowerFactory()

    response = h5_client(stranger).post(f"/h5/redpackets/grants/{grant.pk}/claim/", {"amount": "10"})

    assert response.status_code == 404
    grant.refresh_from_db()
    assert grant.claimed_fen == 0


def test_it_pays_the_default_amounts_on_a_fresh_installation(customer, manager, package):
    RewardRule.objects.all().delete()

    booking = submit(customer, package)
    accept(booking, manager)

    amounts = dict(Grant.objects.filter(booking=booking).values_list("trigger", "amount_fen"))
    assert amounts == {"submitted": 1000, "accepted": 3000}
    assert RewardRule.objects.count() == 2
