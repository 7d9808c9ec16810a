"""Fifty concurrent claims against one grant on PostgreSQL: never more than the grant, and
exactly one payout (one sandbox red packet) per successful claim."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from redpackets.models import Claim, Grant, LedgerEntry, SandboxRedPack
from redpackets.services import ClaimError, claim
from tests.redpackets.conftest import submit

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50


def test_it_never_overclaims_under_fifty_concurrent_claims(sandbox_pay, customer, package):
    grant = Grant.objects.get(booking=submit(customer, package))
    assert grant.amount_fen == 1000
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int):
        try:
            barrier.wait(timeout=30)
            claim(grant=grant, follower=customer, amount_fen=100)
            result = "ok"
        except ClaimError:
            result = "refused"
        except Exception as exc:  # noqa: BLE001 - any other error must fail the test below
            result = f"error {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert len(outcomes) == THREADS
    assert [o for o in outcomes if o not in ("ok", "refused")] == []
    grant.refresh_from_db()
    claims = Claim.objects.filter(grant=grant)
    claimed = claims.aggregate(s=Sum("amount_fen"))["s"]
    # Ten ¥1 claims fit in the ¥10 grant; the other forty are refused.
    assert outcomes.count("ok") == claims.count() == 10
    assert claimed == grant.claimed_fen == grant.amount_fen
    # One payout per successful claim, each paid, none twice.
    assert set(claims.values_list("status", flat=True)) == {"paid"}
    packets = SandboxRedPack.objects.all()
    assert sorted(packets.values_list("mch_billno", flat=True)) == sorted(claims.values_list("bill_no", flat=True))
    assert set(packets.values_list("send_calls", flat=True)) == {1}
    assert LedgerEntry.objects.filter(grant=grant, kind="paid").count() == claims.count()


def test_it_has_the_database_refuse_an_overclaim(customer, package):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    grant = Grant.objects.get(booking=submit(customer, package))

    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(claimed_fen=F("amount_fen") + 1)
    grant.refresh_from_db()
    assert grant.claimed_fen == 0


def test_it_keeps_the_ledger_append_only(customer, package):
    from django.db import DatabaseError, transaction

    entry = LedgerEntry.objects.get(grant__booking=submit(customer, package))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_fen=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.amount_fen == 1000
