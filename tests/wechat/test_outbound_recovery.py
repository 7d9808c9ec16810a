"""A worker killed mid-send loses nothing and sends nothing twice: template sends carry WeChat's
client_msg_id, so resending what a dead worker left in `sending` is de-duplicated by WeChat
(here, by the sandbox's imitation of it). The sandbox's send limit answers 45011."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests.wechat.sandbox_support import following_user
from wechat import delivery, gateway, notify
from wechat.gateway import GatewayError
from wechat.models import OutboundMessage
from wechat.sandbox.models import SandboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

Status = OutboundMessage.Status


def notify_template(user, key):
    with transaction.atomic():
        notify.send_template_on_commit(
            openid=user.openid, template="tpl_booking_new", data={"thing1": "宽带预约"}, idempotency_key=key
        )
    return OutboundMessage.objects.get(idempotency_key=key)


def left_by_a_dead_worker(message):
    """As if the worker was killed after claiming the row, long enough ago."""
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, updated_at=timezone.now() - dt.timedelta(minutes=5)
    )


def test_it_resends_a_template_the_dead_worker_had_sent_without_a_duplicate(wechat_sandbox):
    user = following_user()
    message = notify_template(user, "fanout:1")
    first_msgid = message.wechat_msgid
    left_by_a_dead_worker(message)

    assert delivery.recover_stale() == 1

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.wechat_msgid == first_msgid  # WeChat answered with the first send's msgid
    assert SandboxMessage.objects.filter(user=user, kind="template").count() == 1


def test_it_sends_a_template_the_dead_worker_never_sent(wechat_sandbox):
    user = following_user()
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            idempotency_key="fanout:2",
            kind=OutboundMessage.Kind.TEMPLATE,
            openid=user.openid,
            payload={"template": "tpl", "data": {"thing1": "x"}, "url": ""},
        )
    left_by_a_dead_worker(message)

    assert delivery.recover_stale() == 1

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert SandboxMessage.objects.filter(user=user, kind="template").count() == 1


def test_it_resends_a_pending_row_whose_task_was_lost_long_ago(wechat_sandbox):
    user = following_user()
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            idempotency_key="fanout:4",
            kind=OutboundMessage.Kind.TEMPLATE,
            openid=user.openid,
            payload={"template": "tpl", "data": {"thing1": "x"}, "url": ""},
        )
    OutboundMessage.objects.filter(pk=message.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    assert delivery.recover_stale() == 0  # may still be waiting in the queue behind a fan-out

    OutboundMessage.objects.filter(pk=message.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))
    assert delivery.recover_stale() == 1
    assert OutboundMessage.objects.get(pk=message.pk).status == Status.SENT


def test_it_leaves_recent_and_unresendable_rows_alone(wechat_sandbox):
    user = following_user()
    recent = notify_template(user, "fanout:3")
    OutboundMessage.objects.filter(pk=recent.pk).update(status=Status.SENDING)
    with transaction.atomic():
        text = OutboundMessage.objects.create(
            idempotency_key="cs:1", kind=OutboundMessage.Kind.TEXT, openid=user.openid, payload={"text": "hi"}
        )
    left_by_a_dead_worker(text)

    assert delivery.recover_stale() == 0
    assert OutboundMessage.objects.get(pk=text.pk).status == Status.SENDING  # at most once, for staff


def test_it_answers_45011_past_the_sandbox_send_limit(wechat_sandbox, settings):
    settings.WECHAT_SANDBOX_SEND_LIMIT = "2/h"
    user = following_user()
    gateway.send_template(openid=user.openid, template_id="t", data={"k": "1"})
    gateway.send_template(openid=user.openid, template_id="t", data={"k": "2"})

    with pytest.raises(GatewayError) as caught:
        gateway.send_template(openid=user.openid, template_id="t", data={"k": "3"})

    assert "45011" in str(caught.value)
    assert caught.value.permanent is False


def test_it_notifies_many_followers_once_each_even_when_called_twice(wechat_sandbox):
    users = [following_user() for _ in range(5)]
    openids = [u.openid for u in users]

    assert (
        notify.send_template_to_many(
            openids=openids, template="tpl", data={"thing1": "活动"}, campaign_key="campaign:1", batch_size=2
        )
        == 5
    )
    assert (
        notify.send_template_to_many(
            openids=openids, template="tpl", data={"thing1": "活动"}, campaign_key="campaign:1", batch_size=2
        )
        == 0
    )

    assert OutboundMessage.objects.filter(status=Status.SENT).count() == 5
    assert SandboxMessage.objects.filter(kind="template").count() == 5


def test_it_sends_a_batch_once_when_the_batch_task_runs_twice(wechat_sandbox):
    from wechat.tasks import deliver_batch

    users = [following_user() for _ in range(3)]
    with transaction.atomic():
        ids = [
            OutboundMessage.objects.create(
                idempotency_key=f"batch:{u.openid}",
                kind=OutboundMessage.Kind.TEMPLATE,
                openid=u.openid,
                payload={"template": "tpl", "data": {"thing1": "x"}, "url": ""},
            ).pk
            for u in users
        ]

    assert deliver_batch(ids) == 3
    assert deliver_batch(ids) == 3  # every row already claimed: nothing sent again

    assert OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == 3
    assert SandboxMessage.objects.filter(kind="template").count() == 3
