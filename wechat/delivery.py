"""Outbound messages: the idempotent claim-send-record cycle and the shared send rate.

`wechat.notify` creates the OutboundMessage row (inside the caller's transaction) and enqueues
`wechat.tasks.deliver_outbound` on commit; the task calls `deliver()` here.

The row is claimed (pending → sending, a conditional UPDATE) before the call, so a second
run of the task finds nothing to do. A worker killed mid-call leaves the row in `sending`:
we cannot know whether WeChat got the message. For template and mass messages WeChat
de-duplicates by our client message id (derived from the idempotency key, 10 minutes for
templates), so `recover_stale()` puts such rows back to pending and sends them again —
nothing lost, nothing twice. Customer-service messages have no such id: they stay at
*at most once*, left in `sending` for staff rather than risk a duplicate to a customer.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from wechat import gateway
from wechat.gateway import GatewayError
from wechat.models import OutboundMessage

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
Kind = OutboundMessage.Kind

PERIODS = {"s": 1, "m": 60, "h": 3600}
MAX_INLINE_WAIT = 2.0


def parse_rate(value: str) -> tuple[int, int]:
    """`"50/s"` → (50, 1); `"1000/m"` → (1000, 60)."""
    count, _, unit = (value or "").partition("/")
    try:
        return max(int(count), 1), PERIODS[(unit or "s").strip().lower()[:1]]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"WECHAT_SEND_RATE must look like 50/s or 1000/m, not {value!r}") from exc


def wait_for_send_slot() -> float:
    """Take one send from the shared per-period budget (a fixed window counter in the cache).

    Short waits are slept here; a longer one is returned so the task can be retried later
    instead of blocking a worker. Returns 0 once a slot was taken.
    """
    limit, period = parse_rate(settings.WECHAT_SEND_RATE)
    while True:
        now = time.time()
        window = int(now // period)
        key = f"wechat:send-rate:{period}:{window}"
        cache.add(key, 0, period + 5)
        try:
            used = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            continue
        if used <= limit:
            return 0
        wait = (window + 1) * period - now
        if wait > MAX_INLINE_WAIT:
            return wait
        time.sleep(wait + 0.001)


def client_msg_id(key: str) -> str:
    """WeChat's mass-send `clientmsgid` (≤64 bytes) from our idempotency key: a second layer of dedupe."""
    return hashlib.sha1(key.encode()).hexdigest()


def _send(message: OutboundMessage) -> str:
    payload = message.payload
    if message.kind == Kind.TEMPLATE:
        return gateway.send_template(
            openid=message.openid,
            template_id=payload["template"],
            data=payload["data"],
            url=payload.get("url", ""),
            client_msg_id=client_msg_id(message.idempotency_key),
        )
    if message.kind == Kind.TEXT:
        gateway.send_text(openid=message.openid, text=payload["text"])
        return ""
    if message.kind == Kind.IMAGE:
        gateway.send_image(openid=message.openid, media_id=payload["media_id"])
        return ""
    if message.kind == Kind.MASS_TEXT:
        return gateway.mass_send_text(
            text=payload["text"], openids=payload.get("openids"), client_msg_id=client_msg_id(message.idempotency_key)
        )
    if message.kind == Kind.MASS_NEWS:
        _, msg_id = gateway.mass_send_articles(
            articles=payload["articles"],
            openids=payload.get("openids"),
            client_msg_id=client_msg_id(message.idempotency_key),
        )
        return msg_id
    raise GatewayError(f"unknown outbound kind {message.kind}", permanent=True)


@dataclass
class Outcome:
    status: str
    retry: bool = False
    error: GatewayError | None = None


def claim(*, message_id: int) -> bool:
    """pending → sending; False when another run already claimed (or finished) the row."""
    return bool(
        OutboundMessage.objects.filter(pk=message_id, status=Status.PENDING).update(
            status=Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
    )


def deliver(*, message_id: int, final_attempt: bool = False) -> Outcome:
    """Claim, send, record. A retryable failure puts the row back to pending and asks for a retry
    (unless this was the final attempt); a permanent one marks it failed. Never raises GatewayError."""
    if not claim(message_id=message_id):
        current = OutboundMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
        return Outcome(status=current or "missing")
    message = OutboundMessage.objects.get(pk=message_id)
    try:
        msgid = _send(message)
    except GatewayError as exc:
        error = str(exc)[:300]
        if exc.permanent or final_attempt:
            OutboundMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
                status=Status.FAILED, error=error, updated_at=timezone.now()
            )
            logger.info("outbound %s failed (%s): %s", message_id, "permanent" if exc.permanent else "gave up", error)
            return Outcome(status=Status.FAILED, error=exc)
        OutboundMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.PENDING, error=error, updated_at=timezone.now()
        )
        return Outcome(status=Status.PENDING, retry=True, error=exc)
    OutboundMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
        status=Status.SENT, wechat_msgid=msgid or "", error="", sent_at=timezone.now(), updated_at=timezone.now()
    )
    return Outcome(status=Status.SENT)


# Kinds whose resend WeChat de-duplicates by our client message id (see the module docstring).
RESENDABLE = (Kind.TEMPLATE, Kind.MASS_TEXT, Kind.MASS_NEWS)
# A live worker finishes a claimed send within its HTTP timeout; well past that, the worker is
# gone. Well inside WeChat's 10-minute de-duplication window, so the resend stays a no-op.
SENDING_STALE_SECONDS = 60
# A pending row may legitimately wait in the queue behind a large fan-out; only after an hour
# do we assume its task was lost (a flushed broker). A killed worker's reserved tasks come back
# through the broker (acks_late + the visibility timeout), not through here.
PENDING_STALE_SECONDS = 3600


def _stale_filter(now):
    return Q(
        status=Status.SENDING, kind__in=RESENDABLE, updated_at__lt=now - timedelta(seconds=SENDING_STALE_SECONDS)
    ) | Q(status=Status.PENDING, updated_at__lt=now - timedelta(seconds=PENDING_STALE_SECONDS))


def recover_stale(*, limit: int = 5000) -> int:
    """Re-enqueue messages whose task was lost: `sending` rows a killed worker left (resendable
    kinds only) and `pending` rows nobody picked up for an hour. Returns how many.

    One locked batch (rows a live worker is updating are skipped), reset in one UPDATE, enqueued
    after commit.
    """
    from wechat.tasks import deliver_outbound

    now = timezone.now()
    with transaction.atomic():
        ids = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(_stale_filter(now))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        OutboundMessage.objects.filter(pk__in=ids).update(status=Status.PENDING, updated_at=timezone.now())
        transaction.on_commit(lambda: [deliver_outbound.delay(message_id) for message_id in ids])
    if ids:
        logger.warning("re-enqueued %s outbound messages whose task was lost", len(ids))
    return len(ids)
