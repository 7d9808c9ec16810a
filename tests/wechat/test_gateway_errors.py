"""Every failure the sandbox can inject ends in the right GatewayError (permanent or retryable)."""

import time

import pytest
from django.utils import timezone

from tests.wechat.sandbox_support import calls, following_user
from wechat import gateway
from wechat.sandbox import services as sandbox_services
from wechat.sandbox.models import SandboxMessage, SandboxUser

pytestmark = pytest.mark.django_db(transaction=True)


def template(user):
    return gateway.send_template(openid=user.openid, template_id="tpl", data={"thing1": "x"})


def text(user):
    return gateway.send_text(openid=user.openid, text="你好")


@pytest.mark.parametrize(
    ("fault", "send", "errcode", "permanent"),
    [
        ("quota", template, 45009, False),
        ("busy", template, -1, False),
        ("not_following", template, 43004, True),
        ("outside_window", text, 45015, True),
        ("http_5xx", template, None, False),
    ],
)
def test_it_maps_each_injected_fault_to_a_gateway_error(wechat_sandbox, fault, send, errcode, permanent):
    user = following_user()
    gateway.follower_info(openid=user.openid)  # token fetched before the fault is armed
    sandbox_services.arm_fault(kind=fault)

    with pytest.raises(gateway.GatewayError) as caught:
        send(user)

    assert caught.value.errcode == errcode
    assert caught.value.permanent is permanent
    assert SandboxMessage.objects.filter(user=user, direction="to_user").count() == 0
    # Injected once: the next call goes through.
    send(user)
    assert SandboxMessage.objects.filter(user=user, direction="to_user").count() == 1


def test_it_reports_a_slow_wechat_as_a_retryable_timeout(wechat_sandbox, settings):
    user = following_user()
    gateway.follower_info(openid=user.openid)
    settings.WECHAT_HTTP_TIMEOUT = 0.5
    sandbox_services.arm_fault(kind="slow", delay_seconds=1.5)

    with pytest.raises(gateway.GatewayError) as caught:
        template(user)

    assert caught.value.permanent is False
    assert caught.value.errcode is None
    assert "超时" in str(caught.value)
    # Let the imitation finish the abandoned request before the database is flushed.
    deadline = time.monotonic() + 5
    while not calls("message/template/send") and time.monotonic() < deadline:
        time.sleep(0.1)


def test_it_refuses_a_template_to_someone_who_unfollowed_permanently(wechat_sandbox):
    user = following_user()
    sandbox_services.set_following(user=user, following=False)

    with pytest.raises(gateway.GatewayError) as caught:
        template(user)

    assert (caught.value.errcode, caught.value.permanent) == (43004, True)


def test_it_refuses_a_custom_message_outside_the_48_hour_window(wechat_sandbox):
    user = following_user()
    SandboxUser.objects.filter(pk=user.pk).update(last_interaction_at=timezone.now() - timezone.timedelta(hours=49))

    with pytest.raises(gateway.GatewayError) as caught:
        text(user)

    assert (caught.value.errcode, caught.value.permanent) == (45015, True)


def test_it_refuses_an_unknown_openid_permanently(wechat_sandbox):
    with pytest.raises(gateway.GatewayError) as caught:
        gateway.send_text(openid="oNOBODY", text="hi")

    assert (caught.value.errcode, caught.value.permanent) == (40003, True)


def test_it_does_not_retry_a_permanent_error(wechat_sandbox):
    user = following_user()
    sandbox_services.arm_fault(kind="not_following")

    with pytest.raises(gateway.GatewayError):
        template(user)

    assert calls("message/template/send") == 1


def test_it_reports_an_unreachable_wechat_as_retryable(settings):
    settings.WECHAT_SANDBOX = True
    settings.WECHAT_SANDBOX_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens

    with pytest.raises(gateway.GatewayError) as caught:
        gateway.get_menu()

    assert caught.value.permanent is False
