"""Claiming from the booking page: pre-filled with what remains, lower allowed, never more."""

import pytest

from redpackets.models import Claim, Grant, LedgerEntry
from redpackets.services import ClaimError, claim
from tests.redpackets.conftest import h5_client, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _manual(settings):
    # Claims stay "pending" with the manual provider: these tests are about the claim itself.
    settings.PAYOUT_PROVIDER = "manual"


@pytest.fixture
def grant(customer, package):
    return Grant.objects.get(booking=submit(customer, package))


def claim_url(grant):
    return f"/h5/redpackets/grants/{grant.pk}/claim/"


def test_it_prefills_the_form_with_what_remains(customer, grant):
    claim(grant=grant, follower=customer, amount_fen=250)

    response = h5_client(customer).get(claim_url(grant))

    assert response.status_code == 200
    assert 'value="7.50"' in response.content.decode()


def test_it_claims_less_and_keeps_the_rest_claimable(customer, grant):
    client = h5_client(customer)
    booking_page = f"/h5/bookings/{grant.booking_id}/"

    response = client.post(claim_url(grant), {"amount": "4", "next": booking_page})

    assert response.status_code == 302
    assert response["Location"] == booking_page
    grant.refresh_from_db()
    assert (grant.claimed_fen, grant.remaining_fen) == (400, 600)
    first = Claim.objects.get(grant=grant)
    assert (first.amount_fen, first.status, first.provider) == (400, "pending", "manual")
    assert len(first.bill_no) <= 28 and first.bill_no.isalnum()

    response = client.post(claim_url(grant), {"amount": "6.00"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.remaining_fen == 0
    assert sorted(Claim.objects.filter(grant=grant).values_list("amount_fen", flat=True)) == [400, 600]
    assert LedgerEntry.objects.filter(grant=grant, kind="claimed").count() == 2

    response = client.get(claim_url(grant))
    assert "该红包已全部领取" in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "金额不能为负数"),
        ("0", "领取金额必须大于 0"),
        ("0.00", "领取金额必须大于 0"),
        ("10.01", "最多可领取 10.00 元"),
        ("100", "最多可领取 10.00 元"),
        ("abc", "请输入正确的金额"),
        ("1e3", "请输入正确的金额"),
        ("NaN", "请输入正确的金额"),
        ("", "请输入领取金额"),
        ("1.234", "金额最多保留两位小数"),
    ],
)
def test_it_rejects_a_bad_amount_and_keeps_what_was_typed(customer, grant, typed, message):
    response = h5_client(customer).post(claim_url(grant), {"amount": typed})

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'value="{typed}"' in body
    assert not Claim.objects.exists()
    grant.refresh_from_db()
    assert grant.claimed_fen == 0


def test_it_accepts_yuan_with_symbols_and_two_decimals(customer, grant):
    response = h5_client(customer).post(claim_url(grant), {"amount": "¥9.99"})

    assert response.status_code == 302
    assert Claim.objects.get().amount_fen == 999


def test_it_refuses_a_non_integer_or_non_positive_amount_in_the_service(customer, grant):
    for bad in (1.5, "100", -100, 0, True):
        with pytest.raises(ClaimError):
            claim(grant=grant, follower=customer, amount_fen=bad)
    with pytest.raises(ClaimError, match="最多可领取"):
        claim(grant=grant, follower=customer, amount_fen=1001)
    assert not Claim.objects.exists()


def test_it_refuses_a_claim_on_a_voided_grant(customer, grant):
    Grant.objects.filter(pk=grant.pk).update(status="voided")

    with pytest.raises(ClaimError, match="已作废"):
        claim(grant=grant, follower=customer, amount_fen=100)


def test_it_rate_limits_claims_per_follower(customer, grant):
    client = h5_client(customer)
    for _ in range(5):
        assert client.post(claim_url(grant), {"amount": "1"}).status_code == 302

    response = client.post(claim_url(grant), {"amount": "1"})

    assert response.status_code == 400
    assert "操作太频繁" in response.content.decode()
    assert Claim.objects.count() == 5


def test_it_keeps_the_wechat_minimum_for_wechat_payouts(customer, grant, settings):
    settings.PAYOUT_PROVIDER = "sandbox"

    with pytest.raises(ClaimError, match="不能低于 1.00 元"):
        claim(grant=grant, follower=customer, amount_fen=50)
    with pytest.raises(ClaimError, match="剩余 0.50 元"):
        claim(grant=grant, follower=customer, amount_fen=950)
    grant.refresh_from_db()
    assert grant.claimed_fen == 0


def test_it_shows_my_red_packets_with_totals(customer, outsider, grant):
    claim(grant=grant, follower=customer, amount_fen=300)
    Claim.objects.filter(grant=grant).update(status="paid")

    body = h5_client(customer).get("/h5/redpackets/").content.decode()

    assert '<div class="rp-hero__amount" id="rp-received">3.00</div>' in body
    assert '<b id="rp-remaining">7.00</b>' in body
    assert grant.booking.number in body

    empty = h5_client(outsider).get("/h5/redpackets/").content.decode()
    assert "还没有红包" in empty
    assert grant.booking.number not in empty


def test_it_sends_an_anonymous_visitor_through_oauth(client, grant):
    response = client.get("/h5/redpackets/")

    assert response.status_code == 302
    assert "next=" in response["Location"]
