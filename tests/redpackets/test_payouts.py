"""Payouts through the WeChat Pay client against the sandbox imitation, over HTTP: paid once,
pending / failed / timeout outcomes and their recovery, and the manual provider."""

import pytest
import requests

from redpackets import tasks
from redpackets.models import Claim, Grant, LedgerEntry, SandboxRedPack
from redpackets.services import PayoutMarkError, claim, mark_claim_failed, mark_claim_paid
from tests.factories import UserFactory
from tests.redpackets.conftest import submit
from wechat.sandbox.pay import set_fault

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def grant(customer, package):
    return Grant.objects.get(booking=submit(customer, package))


def test_it_pays_a_claim_through_the_sandbox(sandbox_pay, customer, grant):
    c = claim(grant=grant, follower=customer, amount_fen=1000)

    c.refresh_from_db()
    assert (c.status, c.attempts) == ("paid", 1)
    packet = SandboxRedPack.objects.get()
    assert (packet.mch_billno, packet.re_openid, packet.total_amount) == (c.bill_no, customer.openid, 1000)
    assert packet.status == "SENT"
    assert c.provider_ref == packet.detail_id
    assert list(LedgerEntry.objects.filter(claim=c).values_list("kind", flat=True).order_by("id")) == [
        "claimed",
        "paid",
    ]


def test_it_pays_once_when_the_task_runs_twice(sandbox_pay, customer, grant):
    c = claim(grant=grant, follower=customer, amount_fen=600)

    assert tasks.pay_claim.apply(args=[c.pk]).result == "skipped"
    assert tasks.pay_claim.apply(args=[c.pk]).result == "skipped"

    c.refresh_from_db()
    assert (c.status, c.attempts) == ("paid", 1)
    packet = SandboxRedPack.objects.get()
    assert packet.send_calls == 1
    assert LedgerEntry.objects.filter(claim=c, kind="paid").count() == 1


def test_it_pays_once_when_the_same_claim_is_reset_and_sent_again(sandbox_pay, customer, grant):
    """Even a lost answer followed by a resend (same bill number) makes one packet."""
    c = claim(grant=grant, follower=customer, amount_fen=600)
    Claim.objects.filter(pk=c.pk).update(status="paying", lease_until=None)

    assert tasks.pay_claim.apply(args=[c.pk]).result == "paid"

    assert SandboxRedPack.objects.count() == 1
    c.refresh_from_db()
    assert c.attempts == 2


def test_it_keeps_a_pending_payout_and_recovers_it(sandbox_pay, customer, grant):
    set_fault("pending")
    c = claim(grant=grant, follower=customer, amount_fen=1000)

    c.refresh_from_db()
    assert c.status == "paying"
    assert "SYSTEMERROR" in c.last_error
    assert SandboxRedPack.objects.get().status == "SENDING"
    assert tasks.pay_claim.apply(args=[c.pk]).result == "pending"
    grant.refresh_from_db()
    assert grant.claimed_fen == 1000  # still owed: the customer cannot claim it twice

    set_fault("")
    Claim.objects.filter(pk=c.pk).update(updated_at=c.updated_at.replace(year=2020))
    assert tasks.recheck_payouts.apply().result == 1

    c.refresh_from_db()
    assert (c.status, c.attempts) == ("paid", 3)
    packet = SandboxRedPack.objects.get()
    assert packet.status == "SENT"
    assert LedgerEntry.objects.filter(claim=c, kind="attempt").count() == 2


def test_it_gives_the_money_back_when_wechat_refuses(sandbox_pay, customer, grant):
    set_fault("failed")
    c = claim(grant=grant, follower=customer, amount_fen=1000)

    c.refresh_from_db()
    assert c.status == "failed"
    assert "NO_AUTH" in c.last_error
    grant.refresh_from_db()
    assert grant.claimed_fen == 0
    assert LedgerEntry.objects.get(claim=c, kind="failed").amount_fen == -1000

    set_fault("")
    again = claim(grant=grant, follower=customer, amount_fen=1000)
    again.refresh_from_db()
    assert again.status == "paid"
    assert again.bill_no != c.bill_no
    assert SandboxRedPack.objects.filter(status="SENT").count() == 1


def test_it_recovers_from_a_timeout_without_paying_twice(sandbox_pay, customer, grant):
    set_fault("timeout")
    c = claim(grant=grant, follower=customer, amount_fen=1000)

    c.refresh_from_db()
    assert c.status == "paying"
    assert "网络错误" in c.last_error
    set_fault("")
    assert tasks.pay_claim.apply(args=[c.pk]).result == "paid"

    packet = SandboxRedPack.objects.get()
    assert (packet.status, packet.send_calls) == ("SENT", 1)  # found by gethbinfo, not sent again


def test_it_pays_with_the_wechatpay_provider_against_the_sandbox(sandbox_pay, customer, grant, settings):
    settings.PAYOUT_PROVIDER = "wechatpay"
    settings.WECHAT_SANDBOX = True

    c = claim(grant=grant, follower=customer, amount_fen=1000)

    c.refresh_from_db()
    assert (c.provider, c.status) == ("wechatpay", "paid")
    assert SandboxRedPack.objects.get().mch_billno == c.bill_no


def test_it_refuses_a_bad_signature_in_the_sandbox(sandbox_pay):
    body = "<xml><mch_billno>RP1</mch_billno><mch_id>1900000109</mch_id><sign>BAD</sign></xml>"

    response = requests.post(f"{sandbox_pay.url}/sandbox/pay/mmpaymkttransfers/sendredpack", data=body, timeout=5)

    assert "<return_code><![CDATA[FAIL]]></return_code>" in response.text
    assert "签名错误" in response.text
    assert not SandboxRedPack.objects.exists()


def test_it_leaves_manual_claims_to_finance(customer, grant, settings):
    settings.PAYOUT_PROVIDER = "manual"
    finance = UserFactory()
    paid = claim(grant=grant, follower=customer, amount_fen=400)
    failed = claim(grant=grant, follower=customer, amount_fen=600)

    assert tasks.pay_claim.apply(args=[paid.pk]).result == "skipped"
    paid.refresh_from_db()
    assert paid.status == "pending"

    mark_claim_paid(claim=paid, actor=finance, reference="BESTPAY-0001")
    with pytest.raises(PayoutMarkError):
        mark_claim_paid(claim=paid, actor=finance)
    with pytest.raises(PayoutMarkError):
        mark_claim_failed(claim=failed, actor=finance, reason="")
    mark_claim_failed(claim=failed, actor=finance, reason="翼支付账户不存在")

    paid.refresh_from_db()
    failed.refresh_from_db()
    grant.refresh_from_db()
    assert (paid.status, paid.provider_ref) == ("paid", "BESTPAY-0001")
    assert failed.status == "failed"
    assert grant.claimed_fen == 400
    assert LedgerEntry.objects.get(claim=paid, kind="paid").actor == finance
    assert LedgerEntry.objects.get(claim=failed, kind="failed").note == "翼支付账户不存在"


def test_it_shows_the_received_packet_in_the_phone_emulator(sandbox_pay, customer, grant):
    from wechat.sandbox.models import SandboxMessage
    from wechat.sandbox.services import create_user

    user = create_user(nickname="张三", openid=customer.openid)

    claim(grant=grant, follower=customer, amount_fen=1000)

    message = SandboxMessage.objects.get(user=user, msgtype="hongbao")
    assert message.direction == "to_user"
    assert "¥10.00" in message.text
    assert message.payload["total_amount"] == 1000


def test_it_rechecks_owed_payouts_from_the_command(sandbox_pay, customer, grant):
    from io import StringIO

    from django.core.management import call_command

    set_fault("pending")
    c = claim(grant=grant, follower=customer, amount_fen=1000)
    set_fault("")
    out = StringIO()

    call_command("recheck_payouts", "--min-age", "0", stdout=out)

    c.refresh_from_db()
    assert c.status == "paid"
    assert "paid 1" in out.getvalue()


def test_it_lets_only_one_of_two_simultaneous_runs_pay(sandbox_pay, customer, grant, settings):
    import threading
    import time

    from django.db import connection

    settings.PAYOUT_PROVIDER = "manual"
    c = claim(grant=grant, follower=customer, amount_fen=1000)
    # Turn the manual claim into a sandbox one that no run has taken yet.
    Claim.objects.filter(pk=c.pk).update(provider="sandbox")
    set_fault("timeout")  # the first run holds the claim for about a second
    outcomes = []

    def run():
        try:
            outcomes.append(tasks.pay_claim.apply(args=[c.pk]).result)
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    time.sleep(0.3)
    run()
    first.join(timeout=30)

    assert sorted(outcomes) == ["pending", "skipped"]
    set_fault("")
    assert tasks.pay_claim.apply(args=[c.pk]).result == "paid"
    packet = SandboxRedPack.objects.get()
    assert packet.send_calls == 1
