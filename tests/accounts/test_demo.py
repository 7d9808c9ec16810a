"""`seed_demo`'s followers are built through the services, follow SPEC §4.1, and seed once."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import AttributionChange, Follower, QRCode


@pytest.mark.django_db
def test_it_seeds_consistent_demo_followers_idempotently():
    call_command("seed_demo", stdout=StringIO())
    counts = (Follower.objects.count(), AttributionChange.objects.count(), QRCode.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Follower.objects.count(), AttributionChange.objects.count(), QRCode.objects.count()) == counts

    tree = {
        f.openid: (f.referrer.openid if f.referrer else None, f.channel_manager.openid if f.channel_manager else None)
        for f in Follower.objects.filter(openid__startswith="oDEMO_").select_related("referrer", "channel_manager")
    }
    assert tree["oDEMO_ZHANG"] == ("oDEMO_MGR_WANG", "oDEMO_MGR_WANG")
    assert tree["oDEMO_LI"] == ("oDEMO_ZHANG", "oDEMO_MGR_WANG")
    assert tree["oDEMO_QIAN"] == ("oDEMO_ZHAO", None)
    assert tree["oDEMO_SUN"] == (None, "oDEMO_MGR_WANG")
    assert tree["oDEMO_ZHENG"] == ("oDEMO_MGR_LIU", "oDEMO_MGR_LIU")
    assert set(Follower.objects.filter(is_channel_manager=True).values_list("openid", flat=True)) >= {
        "oDEMO_MGR_WANG",
        "oDEMO_MGR_LIU",
    }
    assert Follower.objects.get(openid="oDEMO_SUN").store.code == "S001"
    # Every demo follower has a personal code whose scene resolves.
    for follower in Follower.objects.filter(openid__startswith="oDEMO_").exclude(openid="oDEMO_FALLBACK_DUTY"):
        assert QRCode.objects.filter(kind="u", code=follower.promo_code, follower=follower).exists()
