"""`manage.py channel_manager {set|unset} OPENID…`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AttributionChange

pytestmark = pytest.mark.django_db


def test_it_sets_and_unsets_managers(outsider, customer):
    out = StringIO()
    call_command("channel_manager", "set", outsider.openid, customer.openid, stdout=out)
    outsider.refresh_from_db()
    customer.refresh_from_db()
    assert outsider.is_channel_manager and customer.is_channel_manager
    assert "已设为渠道经理" in out.getvalue()
    row = AttributionChange.objects.get(follower=outsider, kind=AttributionChange.Kind.MANAGER_SET)
    assert row.actor is None and row.actor_label == "命令行"

    out = StringIO()
    call_command("channel_manager", "unset", outsider.openid, "--reason", "离职", stdout=out)
    outsider.refresh_from_db()
    assert not outsider.is_channel_manager
    assert "已取消渠道经理" in out.getvalue()
    assert AttributionChange.objects.get(follower=outsider, kind="manager_unset").reason == "离职"


def test_it_reports_unchanged_followers(manager):
    out = StringIO()
    call_command("channel_manager", "set", manager.openid, stdout=out)
    assert "已是渠道经理" in out.getvalue()
    assert not AttributionChange.objects.exists()


def test_it_reports_unknown_openids_and_fails(outsider):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("channel_manager", "set", "oNOBODY", outsider.openid, stdout=out, stderr=err)
    assert "oNOBODY：未找到该粉丝" in err.getvalue()
    outsider.refresh_from_db()
    assert outsider.is_channel_manager  # the known one is still done
