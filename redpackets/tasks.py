"""Payout tasks: take ids, call one service. Safe to run twice (the service guarantees it)."""

from celery import shared_task

from . import services

MAX_RETRIES = 8


def backoff_seconds(retries: int) -> int:
    """30 s, 60 s, 2 min … capped at one hour."""
    return min(30 * 2**retries, 3600)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, ignore_result=True)
def pay_claim(self, claim_id: int) -> str:
    outcome = services.process_payout(claim_id=claim_id)
    # Eagerly run tasks (embedded mode, tests) would retry at once in a loop; there the sweeper
    # (`recheck_payouts`) picks pending claims up later instead.
    if outcome == "pending" and not self.request.is_eager and self.request.retries < MAX_RETRIES:
        raise self.retry(countdown=backoff_seconds(self.request.retries))
    return outcome


@shared_task(ignore_result=True)
def recheck_payouts() -> int:
    """Periodic sweep: re-run payouts still owed (lost tasks, retries exhausted, pending answers)."""
    ids = services.open_automatic_claim_ids()
    for claim_id in ids:
        pay_claim.delay(claim_id)
    return len(ids)
