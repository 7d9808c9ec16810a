"""The bookings export: SPEC §3 columns, spreadsheet formulas neutralised, CLI and back office."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from bookings import services
from tests.bookings.conftest import admin_client_for, submit

HEADERS = ["预约编号", "用户OpenID", "姓名", "手机号", "套餐", "状态", "渠道经理OpenID", "提交时间", "受理时间"]


@pytest.mark.django_db
def test_it_exports_the_spec_columns_with_formulas_neutralised(customer, manager, package, tmp_path):
    booking = submit(customer, package, name='=HYPERLINK("http://evil")')
    services.change_booking_status(booking_id=booking.pk, action="accept", actor_follower=manager)
    package.name = "@SUM(A1)"
    package.save(update_fields=["name"])
    other = submit(customer, package, name="+李四", token="t2")
    out = tmp_path / "bookings.csv"

    call_command("export", "bookings", "--format", "csv", "--out", str(out))

    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == HEADERS
    first = dict(zip(HEADERS, rows[1], strict=True))
    assert first["预约编号"] == booking.number
    assert first["用户OpenID"] == customer.openid
    assert first["姓名"] == '\'=HYPERLINK("http://evil")'
    assert first["手机号"] == "13800138000"
    assert first["套餐"] == "'@SUM(A1)"
    assert first["状态"] == "受理成功"
    assert first["渠道经理OpenID"] == manager.openid
    assert first["提交时间"] and first["受理时间"]
    second = dict(zip(HEADERS, rows[2], strict=True))
    assert (second["预约编号"], second["姓名"], second["状态"], second["受理时间"]) == (
        other.number,
        "'+李四",
        "待受理",
        "",
    )


@pytest.mark.django_db
def test_it_exports_xlsx(customer, package, tmp_path):
    from openpyxl import load_workbook

    submit(customer, package, name="-1+1")
    out = tmp_path / "bookings.xlsx"
    call_command("export", "bookings", "--format", "xlsx", "--out", str(out))
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert rows[1][2] == "'-1+1"


@pytest.mark.django_db
def test_it_exports_selected_bookings_from_the_back_office(customer, package, staff_with_perm):
    kept = submit(customer, package, name="=1+1", token="a")
    submit(customer, package, token="b")
    response = admin_client_for(staff_with_perm).post(
        reverse("admin:bookings_booking_changelist"), {"action": "export_csv", "_selected_action": [kept.pk]}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == HEADERS
    assert len(rows) == 2
    assert rows[1][0] == kept.number and rows[1][2] == "'=1+1"
