"""Every attribution rule and decision of SPEC §4.1, as one table of scenarios.

Each scenario is a list of steps run through the services, then the expected
(referrer, channel manager, source) of the named followers. Names stand for OpenIDs
`o<name>`; `u:{X}` in a scene is X's personal promo code.
"""

import datetime as dt

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AttributionChange, Follower, OrgUnit, QRCode, QRScan

S = Follower.Source

CASES = {
    "search follow: no referrer, no manager": (
        [("follow", "A", None)],
        {"A": (None, None, S.SEARCH)},
    ),
    "referrer is a manager: he is referrer and manager": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", "u:{M}")],
        {"A": ("M", "M", S.PERSONAL_QR)},
    ),
    "referrer has a manager: that manager is inherited": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", "u:{M}"), ("follow", "B", "u:{A}")],
        {"B": ("A", "M", S.PERSONAL_QR)},
    ),
    "manager inherited transitively down a chain": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "A", "u:{M}"),
            ("follow", "B", "u:{A}"),
            ("follow", "C", "u:{B}"),
        ],
        {"C": ("B", "M", S.PERSONAL_QR)},
    ),
    "referrer has no manager: referrer only": (
        [("follow", "A", None), ("follow", "B", "u:{A}")],
        {"B": ("A", None, S.PERSONAL_QR)},
    ),
    "referrer becomes a manager later: earlier referrals keep, later ones get him": (
        [("follow", "A", None), ("follow", "B", "u:{A}"), ("set_manager", "A"), ("follow", "C", "u:{A}")],
        {"B": ("A", None, S.PERSONAL_QR), "C": ("A", "A", S.PERSONAL_QR)},
    ),
    "a manager's own manager does not change when he becomes one": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "A", "u:{M}"),
            ("set_manager", "A"),
            ("follow", "B", "u:{A}"),
        ],
        {"A": ("M", "M", S.PERSONAL_QR), "B": ("A", "A", S.PERSONAL_QR)},
    ),
    "unfollow and refollow through another code never rebinds": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "X", None),
            ("follow", "A", "u:{X}"),
            ("unfollow", "A"),
            ("follow", "A", "u:{M}"),
        ],
        {"A": ("X", None, S.PERSONAL_QR)},
    ),
    "search follower refollowing through a code stays a search follower": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "A", None),
            ("unfollow", "A"),
            ("follow", "A", "u:{M}"),
        ],
        {"A": (None, None, S.SEARCH)},
    ),
    "SCAN while following never rebinds": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", None), ("scan", "A", "u:{M}")],
        {"A": (None, None, S.SEARCH)},
    ),
    "self-scan binds nothing": (
        [("visit", "A"), ("follow", "A", "u:{A}")],
        {"A": (None, None, S.SEARCH)},
    ),
    "self-scan while following binds nothing": (
        [("follow", "A", None), ("scan", "A", "u:{A}")],
        {"A": (None, None, S.SEARCH)},
    ),
    "no cycles: a follower seen before cannot be referred by his own referral": (
        [("visit", "A"), ("follow", "B", "u:{A}"), ("follow", "A", "u:{B}")],
        {"B": ("A", None, S.PERSONAL_QR), "A": (None, None, S.SEARCH)},
    ),
    "unknown personal code: like a search, source unknown": (
        [("follow", "A", "u:NOSUCHCODE")],
        {"A": (None, None, S.UNKNOWN_QR)},
    ),
    "garbled scene: like a search, source unknown": (
        [("follow", "A", "12345"), ("follow", "B", "x:weird"), ("follow", "C", ""), ("follow", "D", "u:")],
        {
            "A": (None, None, S.UNKNOWN_QR),
            "B": (None, None, S.UNKNOWN_QR),
            "C": (None, None, S.UNKNOWN_QR),
            "D": (None, None, S.UNKNOWN_QR),
        },
    ),
    "store code: store set, manager is the code's manager": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", "s:STORE1")],
        {"A": (None, "M", S.STORE_QR)},
    ),
    "store code whose person is not a manager (any more): no manager": (
        [("follow", "M", None), ("follow", "A", "s:STORE1")],
        {"A": (None, None, S.STORE_QR)},
    ),
    "campaign code: manager is the code's manager": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", "c:CAMP1")],
        {"A": (None, "M", S.CAMPAIGN_QR)},
    ),
    "campaign code without a manager": (
        [("follow", "A", "c:CAMP2")],
        {"A": (None, None, S.CAMPAIGN_QR)},
    ),
    "transfer of customers moves every customer, keeps referrers": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "N", None),
            ("set_manager", "N"),
            ("follow", "A", "u:{M}"),
            ("follow", "B", "u:{A}"),
            ("transfer", "M", "N"),
            ("follow", "C", "u:{B}"),
        ],
        {
            "A": ("M", "N", S.PERSONAL_QR),
            "B": ("A", "N", S.PERSONAL_QR),
            "C": ("B", "N", S.PERSONAL_QR),
            "M": (None, None, S.SEARCH),
        },
    ),
    "reassign one follower's manager": (
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "N", None),
            ("set_manager", "N"),
            ("follow", "A", "u:{M}"),
            ("follow", "B", "u:{M}"),
            ("reassign", "A", "N"),
        ],
        {"A": ("M", "N", S.PERSONAL_QR), "B": ("M", "M", S.PERSONAL_QR)},
    ),
    "unsetting a manager keeps his customers until they are reassigned": (
        [("follow", "M", None), ("set_manager", "M"), ("follow", "A", "u:{M}"), ("unset_manager", "M")],
        {"A": ("M", "M", S.PERSONAL_QR)},
    ),
    "imported follower has no referrer and is never rebound": (
        [("follow", "M", None), ("set_manager", "M"), ("import", "A"), ("follow", "A", "u:{M}")],
        {"A": (None, None, S.IMPORT)},
    ),
}


def _openid(name: str) -> str:
    return f"o{name}"


def _run(steps, staff):
    clock = timezone.now() - dt.timedelta(days=1)
    store = OrgUnit.objects.create(kind=OrgUnit.Kind.STORE, code="STORE1", name="一号店")
    for step in steps:
        clock += dt.timedelta(minutes=1)
        action, name, *rest = step
        if action in ("follow", "scan"):
            scene = rest[0]
            if scene is not None and "{" in scene:
                promo = {n: f.promo_code for n, f in ((f.openid[1:], f) for f in Follower.objects.all())}
                scene = scene.format(**promo)
            func = services.record_subscribe if action == "follow" else services.record_scan
            func(openid=_openid(name), scene=scene, at=clock)
        elif action == "unfollow":
            services.record_unsubscribe(openid=_openid(name), at=clock)
        elif action == "visit":  # known from an H5 link, never subscribed
            Follower.objects.create(openid=_openid(name))
        elif action == "import":
            services.import_follower(openid=_openid(name), subscribed_at=clock)
        elif action in ("set_manager", "unset_manager"):
            func = services.set_channel_manager if action == "set_manager" else services.unset_channel_manager
            func(follower=Follower.objects.get(openid=_openid(name)), actor=staff, reason="测试")
            if action == "set_manager" and name == "M":
                # The store and campaign codes belong to M (created once M exists).
                _codes_for(store, Follower.objects.get(openid=_openid(name)))
        elif action == "transfer":
            services.transfer_customers(
                from_manager=Follower.objects.get(openid=_openid(name)),
                to_manager=Follower.objects.get(openid=_openid(rest[0])),
                actor=staff,
                reason="人员调动",
            )
        elif action == "reassign":
            services.reassign_manager(
                follower=Follower.objects.get(openid=_openid(name)),
                new_manager=Follower.objects.get(openid=_openid(rest[0])),
                actor=staff,
                reason="客户要求",
            )
        else:  # pragma: no cover
            raise AssertionError(action)
        if action == "follow" and name == "M":
            _codes_for(store, Follower.objects.get(openid=_openid(name)))
    return store


def _codes_for(store, manager):
    services.ensure_qr_code(kind="s", code="STORE1", name="一号店门店码", org_unit=store, channel_manager=manager)
    services.ensure_qr_code(kind="c", code="CAMP1", name="国庆活动", channel_manager=manager)


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_it_attributes_followers_as_spec_4_1_says(case, superuser):
    steps, expected = CASES[case]
    services.ensure_qr_code(kind="c", code="CAMP2", name="无经理活动")
    store = _run(steps, superuser)
    for name, (referrer, manager, source) in expected.items():
        follower = Follower.objects.select_related("referrer", "channel_manager").get(openid=_openid(name))
        assert (follower.referrer.openid if follower.referrer else None) == (referrer and _openid(referrer)), name
        assert (follower.channel_manager.openid if follower.channel_manager else None) == (
            manager and _openid(manager)
        ), name
        assert follower.source == source, name
        assert follower.attributed_at is not None, name
        if source == S.STORE_QR:
            assert follower.store == store
        # The first attribution is always on record, with its reason.
        assert follower.attribution_changes.filter(kind=AttributionChange.Kind.ATTRIBUTED).count() == 1


@pytest.mark.django_db
def test_it_counts_scans_and_follows_per_code(superuser):
    _run(
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "A", "u:{M}"),
            ("follow", "B", "u:{M}"),
            ("scan", "B", "u:{M}"),
            ("unfollow", "A"),
            ("follow", "A", "u:{M}"),
            ("follow", "C", "s:STORE1"),
            ("scan", "C", "s:STORE1"),
        ],
        superuser,
    )
    manager = Follower.objects.get(openid="oM")
    personal = QRCode.objects.get(kind="u", code=manager.promo_code)
    # Two new followers; one SCAN and one refollow add scans only.
    assert (personal.scan_count, personal.follow_count) == (4, 2)
    assert personal.follower == manager
    store_qr = QRCode.objects.get(kind="s", code="STORE1")
    assert (store_qr.scan_count, store_qr.follow_count) == (2, 1)
    assert QRScan.objects.filter(qr_code=personal, is_follow=True).count() == 2


@pytest.mark.django_db
def test_it_records_who_when_and_why_for_staff_changes(superuser):
    _run(
        [
            ("follow", "M", None),
            ("set_manager", "M"),
            ("follow", "N", None),
            ("set_manager", "N"),
            ("follow", "A", "u:{M}"),
            ("transfer", "M", "N"),
        ],
        superuser,
    )
    change = AttributionChange.objects.get(kind=AttributionChange.Kind.TRANSFERRED)
    assert change.follower.openid == "oA"
    assert (change.old_manager.openid, change.new_manager.openid) == ("oM", "oN")
    assert change.actor == superuser and change.reason == "人员调动" and change.created_at
    set_row = AttributionChange.objects.filter(kind=AttributionChange.Kind.MANAGER_SET, follower__openid="oM").get()
    assert set_row.actor == superuser


@pytest.mark.django_db
def test_it_refuses_invalid_staff_changes(manager, customer, outsider, superuser):
    with pytest.raises(services.AttributionError):
        services.reassign_manager(follower=customer, new_manager=outsider, actor=superuser, reason="x")
    with pytest.raises(services.AttributionError):
        services.reassign_manager(follower=customer, new_manager=manager, actor=superuser, reason=" ")
    with pytest.raises(services.AttributionError):
        services.transfer_customers(from_manager=manager, to_manager=outsider, actor=superuser, reason="x")
    with pytest.raises(services.AttributionError):
        services.transfer_customers(from_manager=manager, to_manager=manager, actor=superuser, reason="x")
    with pytest.raises(services.AttributionError):
        services.reassign_manager(follower=manager, new_manager=manager, actor=superuser, reason="x")
    customer.refresh_from_db()
    assert customer.channel_manager == manager
    assert not AttributionChange.objects.exists()


@pytest.mark.django_db
def test_it_records_a_set_only_once(manager, superuser):
    assert services.set_channel_manager(follower=manager, actor=superuser) is False
    assert services.unset_channel_manager(follower=manager, actor=superuser, reason="离职") is True
    assert services.unset_channel_manager(follower=manager, actor=superuser) is False
    manager.refresh_from_db()
    assert not manager.is_channel_manager
    assert AttributionChange.objects.filter(follower=manager).count() == 1


@pytest.mark.django_db
def test_it_imports_followers_without_referrer_idempotently():
    at = timezone.now()
    first = services.import_follower(openid="oOLD", subscribed_at=at, unionid="uOLD")
    again = services.import_follower(openid="oOLD", subscribed_at=at, unionid="uOLD", is_subscribed=False)
    assert first.pk == again.pk
    again.refresh_from_db()
    assert (again.source, again.referrer, again.channel_manager, again.unionid) == (S.IMPORT, None, None, "uOLD")
    assert not again.is_subscribed
    assert again.attribution_changes.count() == 1


@pytest.mark.django_db
def test_it_records_a_scan_from_an_unseen_follower_as_imported(manager):
    services.record_scan(openid="oPREEXISTING", scene=f"u:{manager.promo_code}", at=timezone.now())
    follower = Follower.objects.get(openid="oPREEXISTING")
    assert (follower.source, follower.referrer, follower.channel_manager) == (S.IMPORT, None, None)
    assert follower.is_subscribed
    qr = QRCode.objects.get(kind="u", code=manager.promo_code)
    assert (qr.scan_count, qr.follow_count) == (1, 0)
