"""Back office: grant and claim lists with totals, void and manual payout actions, exports."""

import csv

import pytest
from django.core.management import call_command
from django.test import Client

from redpackets.models import Claim, Grant, LedgerEntry
from redpackets.services import claim
from tests.redpackets.conftest import accept, reject, staff_client, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _manual(settings):
    settings.PAYOUT_PROVIDER = "manual"


@pytest.fixture
def boss(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def records(customer, manager, package):
    """A booking with both grants; ¥10 claimed (paid), ¥5 of the ¥30 claimed (pending)."""
    booking = submit(customer, package)
    accept(booking, manager)
    submitted = Grant.objects.get(booking=booking, trigger="submitted")
    accepted = Grant.objects.get(booking=booking, trigger="accepted")
    paid = claim(grant=submitted, follower=customer, amount_fen=1000)
    Claim.objects.filter(pk=paid.pk).update(status="paid")
    pending = claim(grant=accepted, follower=customer, amount_fen=500)
    return booking, paid, pending


def test_it_shows_grant_totals_for_the_filtered_list(boss, records):
    response = boss.get("/admin/redpackets/grant/")

    assert response.status_code == 200
    assert response.context["totals"] == {
        "count": 2,
        "amount_fen": 4000,
        "claimed_fen": 1500,
        "remaining_fen": 2500,
        "voided_fen": 0,
    }
    body = response.content.decode()
    assert '<span id="rp-total-amount">40.00</span>' in body

    filtered = boss.get("/admin/redpackets/grant/?trigger__exact=accepted")
    assert filtered.context["totals"]["amount_fen"] == 3000


def test_it_shows_claim_totals(boss, records):
    response = boss.get("/admin/redpackets/claim/")

    assert response.context["totals"] == {"count": 2, "paid_fen": 1000, "open_fen": 500, "failed_fen": 0}
    assert boss.get("/admin/redpackets/claim/?status__exact=paid").context["totals"]["count"] == 1


def test_it_refuses_staff_without_permission(records):
    client, _ = staff_client()

    assert client.get("/admin/redpackets/grant/").status_code == 403
    assert client.get("/admin/redpackets/claim/").status_code == 403


def test_it_voids_through_the_action_after_confirmation(customer, manager, package, superuser, boss):
    booking = submit(customer, package)
    grant = Grant.objects.get(booking=booking)
    reject(booking, manager)
    form = {"action": "void_selected", "_selected_action": [grant.pk]}

    confirm = boss.post("/admin/redpackets/grant/", form)
    assert confirm.status_code == 200
    assert "作废原因" in confirm.content.decode()
    grant.refresh_from_db()
    assert grant.status == "active"

    done = boss.post("/admin/redpackets/grant/", {**form, "confirm": "yes", "reason": "虚假预约"})
    assert done.status_code == 302
    grant.refresh_from_db()
    assert (grant.status, grant.voided_by, grant.void_reason) == ("voided", superuser, "虚假预约")
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.get(object_id=str(grant.pk), user=superuser).change_message == "作废红包：虚假预约"


def test_it_marks_manual_claims_paid_and_failed(boss, superuser, records):
    _, _, pending = records

    boss.post(
        "/admin/redpackets/claim/",
        {"action": "mark_paid", "_selected_action": [pending.pk], "confirm": "yes", "reason": "BP20260101"},
    )

    pending.refresh_from_db()
    assert (pending.status, pending.provider_ref) == ("paid", "BP20260101")
    assert LedgerEntry.objects.get(claim=pending, kind="paid").actor == superuser


def test_it_exports_the_manual_payout_batch(boss, records):
    _, _, pending = records

    response = boss.post(
        "/admin/redpackets/claim/", {"action": "export_manual_batch", "_selected_action": [pending.pk]}
    )

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(body.splitlines()))
    assert rows[0] == ["领取单号", "用户OpenID", "姓名", "手机号", "金额(元)", "预约编号", "申请时间"]
    assert rows[1][:5] == [pending.bill_no, pending.follower.openid, "张三", "13800138000", "5.00"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_exports_grants_and_claims_together(records, tmp_path, fmt):
    booking, _, _ = records
    out = tmp_path / f"redpackets.{fmt}"

    call_command("export", "redpackets", "--format", fmt, "--out", str(out))

    if fmt == "csv":
        rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    else:
        from openpyxl import load_workbook

        rows = [[c or "" for c in r] for r in load_workbook(out).active.iter_rows(values_only=True)]
    assert rows[0] == ["记录类型", "用户OpenID", "金额(元)", "原因", "预约编号", "状态", "时间"]
    body = [r[:6] for r in rows[1:]]
    openid = booking.follower.openid
    assert body == [
        ["发放", openid, "10.00", "提交预约", booking.number, "有效"],
        ["发放", openid, "30.00", "受理成功", booking.number, "有效"],
        ["领取", openid, "10.00", "提交预约", booking.number, "已到账"],
        ["领取", openid, "5.00", "受理成功", booking.number, "待发放"],
    ]


def test_it_lets_only_finance_mark_payouts(records):
    _, _, pending = records
    viewer, _ = staff_client("view_claim")
    finance, finance_user = staff_client("view_claim", "change_claim")
    form = {"action": "mark_paid", "_selected_action": [pending.pk], "confirm": "yes", "reason": "BP1"}

    listing = viewer.get("/admin/redpackets/claim/")
    assert listing.status_code == 200
    assert "mark_paid" not in listing.content.decode()
    viewer.post("/admin/redpackets/claim/", form)
    pending.refresh_from_db()
    assert pending.status == "pending"

    finance.post("/admin/redpackets/claim/", form)
    pending.refresh_from_db()
    assert pending.status == "paid"
    # The rows themselves are never edited through a form.
    assert finance.post(f"/admin/redpackets/claim/{pending.pk}/change/", {}).status_code == 403


def test_it_edits_amounts_and_limits_in_yuan(boss):
    from redpackets.models import RedPacketSettings, RewardRule

    rule = RewardRule.objects.get(trigger="accepted")
    page = boss.get(f"/admin/redpackets/rewardrule/{rule.pk}/change/")
    assert 'value="30.00"' in page.content.decode()

    response = boss.post(
        f"/admin/redpackets/rewardrule/{rule.pk}/change/",
        {"trigger": "accepted", "amount_yuan": "25.5", "is_active": "on"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.amount_fen == 2550

    bad = boss.post(f"/admin/redpackets/rewardrule/{rule.pk}/change/", {"trigger": "accepted", "amount_yuan": "0.001"})
    assert bad.status_code == 200
    rule.refresh_from_db()
    assert rule.amount_fen == 2550

    response = boss.post(
        "/admin/redpackets/redpacketsettings/1/change/",
        {
            "total_budget_yuan": "100000",
            "duplicate_window_hours": "48",
            "daily_cap_yuan": "50",
            "lifetime_cap_yuan": "0",
        },
    )
    assert response.status_code == 302
    rp = RedPacketSettings.objects.get(pk=1)
    assert (rp.total_budget_fen, rp.duplicate_window_hours, rp.daily_cap_fen, rp.lifetime_cap_fen) == (
        10000000,
        48,
        5000,
        0,
    )


def test_it_exports_only_records_since_a_date(records, tmp_path):
    import datetime as dt

    from django.utils import timezone

    out = tmp_path / "since.csv"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    call_command("export", "redpackets", "--format", "csv", "--out", str(out), "--since", tomorrow)

    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [["记录类型", "用户OpenID", "金额(元)", "原因", "预约编号", "状态", "时间"]]


def test_it_exports_the_filtered_claim_list(boss, records):
    _, paid, _ = records

    page = boss.get("/admin/redpackets/claim/?status__exact=paid")
    assert "/admin/redpackets/claim/export/?status__exact=paid&amp;format=csv" in page.content.decode()
    response = boss.get("/admin/redpackets/claim/export/?status__exact=paid&format=csv")

    assert response.status_code == 200
    rows = list(csv.reader(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()))
    assert [r[:3] + r[4:6] for r in rows[1:]] == [
        ["领取", paid.follower.openid, "10.00", paid.grant.booking.number, "已到账"]
    ]


def test_it_refuses_the_export_without_view_permission(records):
    client, _ = staff_client()

    assert client.get("/admin/redpackets/grant/export/?format=csv").status_code == 403
