"""Celery tasks that talk to WeChat. Enqueued on commit by `wechat.notify`; safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from wechat import delivery

logger = logging.getLogger(__name__)

MAX_RETRIES = 6


def backoff_seconds(retries: int) -> int:
    """10 s, 20 s, 40 s … capped at 10 minutes: WeChat's busy spells and per-minute limits pass."""
    return min(10 * 2**retries, 600)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES, ignore_result=True)
def deliver_outbound(self, message_id: int) -> str:
    """Send one OutboundMessage; retried with back-off on a retryable GatewayError only."""
    wait = delivery.wait_for_send_slot()
    if wait and not self.request.is_eager:
        # The shared rate is used up for longer than we want to block a worker: come back later,
        # as a new task so that waiting does not use up the retry budget. (In-process mode has
        # no workers to protect, so it just sends.)
        deliver_outbound.apply_async(args=[message_id], countdown=wait)
        return "throttled"
    outcome = delivery.deliver(message_id=message_id, final_attempt=self.request.retries >= self.max_retries)
    if outcome.retry:
        raise self.retry(countdown=backoff_seconds(self.request.retries), exc=outcome.error)
    return outcome.status


@shared_task(ignore_result=True)
def recover_outbound() -> int:
    """Beat, every minute: resend what a killed worker or a lost task left behind."""
    return delivery.recover_stale()


BATCH_SIZE = 100


@shared_task(acks_late=True, ignore_result=True)
def deliver_batch(message_ids: list[int]) -> int:
    """Send a campaign's messages one after another within the shared rate: one Celery message per
    hundred sends instead of one per send. Safe to run twice (each row is claimed before it is
    sent); what cannot go now is handed back with a countdown. Returns how many were handled."""
    for index, message_id in enumerate(message_ids):
        wait = delivery.wait_for_send_slot()
        if wait:
            deliver_batch.apply_async((message_ids[index:],), countdown=wait)
            return index
        outcome = delivery.deliver(message_id=message_id)
        if outcome.retry:
            deliver_outbound.apply_async((message_id,), countdown=backoff_seconds(0))
    return len(message_ids)
