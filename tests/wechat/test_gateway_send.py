"""Sending through Celery: enqueued on commit, idempotent, retried only when it can help, throttled."""

import threading

import pytest
from django.db import connection, transaction

from tests.wechat.sandbox_support import calls, following_user
from wechat import delivery, gateway, notify
from wechat.models import OutboundMessage
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxMessage
from wechat.tasks import MAX_RETRIES, deliver_outbound

pytestmark = pytest.mark.django_db(transaction=True)


def notify_template(user, key="booking:1:new"):
    with transaction.atomic():
        notify.send_template_on_commit(
            openid=user.openid,
            template="tpl_booking_new",
            data={"thing1": "宽带预约", "time2": "2026-12-04 10:00"},
            url="http://example.com/h5/bookings/1/",
            idempotency_key=key,
        )


def received(user, kind="template"):
    return SandboxMessage.objects.filter(user=user, kind=kind).count()


def test_it_sends_a_template_after_commit(wechat_sandbox):
    user = following_user()

    notify_template(user)

    message = OutboundMessage.objects.get(idempotency_key="booking:1:new")
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 1
    assert message.wechat_msgid
    assert received(user) == 1
    sent = SandboxMessage.objects.get(user=user, kind="template")
    assert sent.payload["data"] == {"thing1": {"value": "宽带预约"}, "time2": {"value": "2026-12-04 10:00"}}
    assert sent.payload["template_id"] == "tpl_booking_new"


def test_it_sends_nothing_when_the_transaction_rolls_back(wechat_sandbox):
    user = following_user()

    with pytest.raises(RuntimeError), transaction.atomic():
        notify.send_text_on_commit(openid=user.openid, text="不会发出", idempotency_key="rollback:1")
        raise RuntimeError("booking failed")

    assert not OutboundMessage.objects.exists()
    assert calls("message/custom/send") == 0


def test_it_sends_once_when_the_task_runs_twice(wechat_sandbox):
    user = following_user()
    notify_template(user)
    message = OutboundMessage.objects.get()

    deliver_outbound.apply(args=[message.pk])
    deliver_outbound.apply(args=[message.pk])

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 1
    assert received(user) == 1
    assert calls("message/template/send") == 1


def test_it_sends_once_when_two_workers_run_the_task_at_the_same_time(wechat_sandbox):
    user = following_user()
    message = OutboundMessage.objects.create(
        idempotency_key="race:1", kind=OutboundMessage.Kind.TEXT, openid=user.openid, payload={"text": "只发一次"}
    )
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            deliver_outbound.apply(args=[message.pk])
        finally:
            gateway.close_http()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert received(user, "custom") == 1


def test_it_enqueues_a_key_only_once(wechat_sandbox):
    user = following_user()

    notify_template(user, key="same")
    notify_template(user, key="same")

    assert OutboundMessage.objects.count() == 1
    assert received(user) == 1


def test_it_retries_a_retryable_error_and_then_sends(wechat_sandbox):
    user = following_user()
    gateway.follower_info(openid=user.openid)
    sandbox_services.arm_fault(kind="busy")

    notify_template(user)

    message = OutboundMessage.objects.get()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    assert calls("message/template/send", errcode=-1) == 1
    assert received(user) == 1


def test_it_does_not_retry_a_permanent_error(wechat_sandbox):
    user = following_user()
    sandbox_services.set_following(user=user, following=False)

    notify_template(user)

    message = OutboundMessage.objects.get()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.attempts == 1
    assert "43004" in message.error
    assert calls("message/template/send") == 1


def test_it_gives_up_after_the_last_retry(wechat_sandbox):
    user = following_user()
    gateway.follower_info(openid=user.openid)
    sandbox_services.arm_fault(kind="quota", times=50)

    notify_template(user)

    message = OutboundMessage.objects.get()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.attempts == MAX_RETRIES + 1
    assert calls("message/template/send", errcode=45009) == MAX_RETRIES + 1


def test_it_mass_sends_text_and_articles_to_followers(wechat_sandbox):
    alice, bob = following_user("甲"), following_user("乙")
    gone = following_user("丙")
    sandbox_services.set_following(user=gone, following=False)

    with transaction.atomic():
        notify.mass_send_text_on_commit(text="本周活动", idempotency_key="mass:1")
        notify.mass_send_articles_on_commit(
            articles=[{"title": "宽带提速", "content": "<p>全城提速</p>", "thumb_media_id": "x"}],
            idempotency_key="mass:2",
        )

    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert received(alice, "mass") == received(bob, "mass") == 2
    assert received(gone, "mass") == 0
    assert calls("draft/add") == 1
    texts = set(SandboxMessage.objects.filter(user=alice, kind="mass").values_list("text", flat=True))
    assert texts == {"本周活动", "【图文】宽带提速"}


def test_it_holds_sends_to_the_configured_rate(settings):
    settings.WECHAT_SEND_RATE = "2/h"

    assert delivery.wait_for_send_slot() == 0
    assert delivery.wait_for_send_slot() == 0
    assert delivery.wait_for_send_slot() > 2  # the budget is used up: come back later


def test_it_rejects_a_malformed_rate(settings):
    settings.WECHAT_SEND_RATE = "fast"

    with pytest.raises(ValueError):
        delivery.wait_for_send_slot()


def test_it_comes_back_later_instead_of_blocking_a_worker_when_the_rate_is_used_up(wechat_sandbox, settings):
    settings.WECHAT_SEND_RATE = "1/h"
    user = following_user()
    message = OutboundMessage.objects.create(
        idempotency_key="throttle:1", kind=OutboundMessage.Kind.TEXT, openid=user.openid, payload={"text": "稍后发"}
    )
    assert delivery.wait_for_send_slot() == 0  # the hour's budget is used up

    # As a worker runs it (not in-process): the send is handed to a new, delayed task. Here the
    # suite's eager Celery runs that one at once, in-process, which sends.
    deliver_outbound.push_request(is_eager=False, retries=0)
    try:
        outcome = deliver_outbound.run(message.pk)
    finally:
        deliver_outbound.pop_request()

    assert outcome == "throttled"
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 1
