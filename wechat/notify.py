"""What the rest of the platform calls to message a follower through WeChat.

Each function only *enqueues* a Celery task, on commit of the current transaction, so no
WeChat call ever runs inside an open transaction. `idempotency_key` makes the send happen
at most once however many times the task runs (e.g. "booking:42:new:manager:17"): the
OutboundMessage row with that unique key is created here, and the task claims it before
sending. Calling again with the same key does not send again.
"""

from __future__ import annotations

from django.db import transaction

from wechat.models import OutboundMessage

Kind = OutboundMessage.Kind


def _enqueue(*, kind: str, openid: str, payload: dict, idempotency_key: str) -> OutboundMessage:
    from wechat.tasks import deliver_outbound

    message, _ = OutboundMessage.objects.get_or_create(
        idempotency_key=idempotency_key[:200], defaults={"kind": kind, "openid": openid, "payload": payload}
    )
    if message.status == OutboundMessage.Status.PENDING:
        # A row still pending (its task lost, or never run) may be enqueued again: the claim
        # inside the task makes the second run a no-op if the first one did send.
        transaction.on_commit(lambda: deliver_outbound.delay(message.pk))
    return message


def send_template_on_commit(*, openid: str, template: str, data: dict, url: str = "", idempotency_key: str) -> None:
    """Template message. `template` is a template id; `data` maps keyword names to values."""
    _enqueue(
        kind=Kind.TEMPLATE,
        openid=openid,
        payload={"template": template, "data": data, "url": url},
        idempotency_key=idempotency_key,
    )


def send_text_on_commit(*, openid: str, text: str, idempotency_key: str) -> None:
    """Customer-service text message (48-hour window rules apply)."""
    _enqueue(kind=Kind.TEXT, openid=openid, payload={"text": text}, idempotency_key=idempotency_key)


def send_image_on_commit(*, openid: str, media_id: str, idempotency_key: str) -> None:
    """Customer-service image; `media_id` from `wechat.gateway.upload_media` (kept 3 days)."""
    _enqueue(kind=Kind.IMAGE, openid=openid, payload={"media_id": media_id}, idempotency_key=idempotency_key)


def mass_send_text_on_commit(*, text: str, idempotency_key: str, openids: list[str] | None = None) -> None:
    """Mass send through WeChat's mass API (all followers when `openids` is None)."""
    payload = {"text": text, "openids": list(openids) if openids is not None else None}
    _enqueue(kind=Kind.MASS_TEXT, openid="", payload=payload, idempotency_key=idempotency_key)


def mass_send_articles_on_commit(
    *, articles: list[dict], idempotency_key: str, openids: list[str] | None = None
) -> None:
    """Articles (draft/add, then an mpnews mass send). Each article: title, content, thumb_media_id…"""
    payload = {"articles": articles, "openids": list(openids) if openids is not None else None}
    _enqueue(kind=Kind.MASS_NEWS, openid="", payload=payload, idempotency_key=idempotency_key)


def send_template_to_many(
    *, openids: list[str], template: str, data: dict, url: str = "", campaign_key: str, batch_size: int = 1000
) -> int:
    """One template notification to many followers (a campaign): a row per follower keyed
    `<campaign_key>:<openid>`, written in batches; each batch enqueued as it commits, as
    `deliver_batch` tasks of a hundred sends.

    Safe to call again with the same campaign key (after a crash, say): rows that exist are
    not duplicated and only those still pending are enqueued. Returns how many were enqueued.
    """
    from wechat.tasks import BATCH_SIZE, deliver_batch

    payload = {"template": template, "data": data, "url": url}
    enqueued = 0
    for start in range(0, len(openids), batch_size):
        batch = openids[start : start + batch_size]
        keys = [f"{campaign_key}:{openid}"[:200] for openid in batch]
        with transaction.atomic():
            OutboundMessage.objects.bulk_create(
                [
                    OutboundMessage(idempotency_key=key, kind=Kind.TEMPLATE, openid=openid, payload=payload)
                    for key, openid in zip(keys, batch, strict=True)
                ],
                ignore_conflicts=True,
            )
            ids = list(
                OutboundMessage.objects.filter(
                    idempotency_key__in=keys, status=OutboundMessage.Status.PENDING
                ).values_list("id", flat=True)
            )
            transaction.on_commit(
                lambda ids=ids: [deliver_batch.delay(ids[i : i + BATCH_SIZE]) for i in range(0, len(ids), BATCH_SIZE)]
            )
        enqueued += len(ids)
    return enqueued
