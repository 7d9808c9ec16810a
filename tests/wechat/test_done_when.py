"""Issue "Done when": a script of signed callbacks, a manager set in between with the command,
then the followers export — its 推荐人OpenID and 渠道经理OpenID columns follow SPEC §4.1."""

import csv

import pytest
from django.core.management import call_command

from accounts.models import Follower
from tests.wechat.callbacks import fixture, post_callback

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def promo(openid: str) -> str:
    return Follower.objects.values_list("promo_code", flat=True).get(openid=openid)


def follow(client, openid, via=None):
    if via is None:
        response = post_callback(client, fixture("subscribe", openid=openid))
    else:
        response = post_callback(client, fixture("subscribe_scan", openid=openid, scene=f"u:{promo(via)}"))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("aes", [False, True], ids=["plain", "aes"])
def test_it_exports_the_attribution_a_callback_script_produced(client, settings, tmp_path, aes):
    settings.WECHAT_AES_KEY = AES_KEY if aes else ""
    follow(client, "oBOSS")  # search: nobody
    follow(client, "oAMY", via="oBOSS")  # referrer without a manager
    follow(client, "oBEN", via="oAMY")  # referrer without a manager
    call_command("channel_manager", "set", "oBOSS")
    follow(client, "oCAT", via="oBOSS")  # referrer is a manager
    follow(client, "oDAN", via="oCAT")  # referrer has a manager
    follow(client, "oEVE", via="oDAN")  # transitively
    follow(client, "oFAY", via="oAMY")  # referrer referred before BOSS was a manager: none
    post_callback(client, fixture("unsubscribe", openid="oAMY"))
    follow(client, "oAMY", via="oCAT")  # refollow never rebinds
    post_callback(client, fixture("scan", openid="oBEN", scene=f"u:{promo('oCAT')}"))  # SCAN never rebinds
    follow(client, "oGUS")  # search

    out = tmp_path / "followers.csv"
    call_command("export", "followers", "--format", "csv", "--out", str(out))
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["OpenID"]: (r["推荐人OpenID"], r["渠道经理OpenID"]) for r in csv.DictReader(fh)}

    assert rows == {
        "oBOSS": ("", ""),
        "oAMY": ("oBOSS", ""),
        "oBEN": ("oAMY", ""),
        "oCAT": ("oBOSS", "oBOSS"),
        "oDAN": ("oCAT", "oBOSS"),
        "oEVE": ("oDAN", "oBOSS"),
        "oFAY": ("oAMY", ""),
        "oGUS": ("", ""),
    }
