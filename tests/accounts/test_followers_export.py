"""The followers export (SPEC §3): header row and values, csv and xlsx, through `manage.py export`."""

import csv

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services
from accounts.models import Follower

HEADERS = [
    "OpenID",
    "昵称",
    "手机号",
    "推荐人OpenID",
    "渠道经理OpenID",
    "是否渠道经理",
    "关注状态",
    "关注时间",
    "推广码",
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    at = timezone.now()
    services.record_subscribe(openid="oMGR", scene=None, at=at)
    manager = Follower.objects.get(openid="oMGR")
    services.update_profile(follower=manager, nickname="王经理", phone="13800000001")
    services.set_channel_manager(follower=manager, actor_label="测试")
    services.record_subscribe(openid="oCUST", scene=f"u:{manager.promo_code}", at=at)
    customer = Follower.objects.get(openid="oCUST")
    # A nickname that a spreadsheet would run as a formula must come out neutralised.
    services.update_profile(follower=customer, nickname="=HYPERLINK(1)")
    services.record_unsubscribe(openid="oCUST", at=at)
    return manager, customer


def _by_openid(rows):
    header, *data = rows
    return header, {row[0]: dict(zip(header, row, strict=True)) for row in data}


def test_it_exports_followers_as_csv(tree, tmp_path):
    manager, customer = tree
    out = tmp_path / "followers.csv"
    call_command("export", "followers", "--format", "csv", "--out", str(out))
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header, rows = _by_openid(list(csv.reader(fh)))
    assert header[: len(HEADERS)] == HEADERS
    assert {"来源", "归属门店", "UnionID"} <= set(header)
    mgr, cust = rows["oMGR"], rows["oCUST"]
    assert (mgr["昵称"], mgr["手机号"]) == ("王经理", "13800000001")
    assert (mgr["是否渠道经理"], mgr["关注状态"]) == ("是", "关注中")
    assert mgr["推广码"] == manager.promo_code
    assert mgr["推荐人OpenID"] == "" and mgr["渠道经理OpenID"] == ""
    assert (cust["推荐人OpenID"], cust["渠道经理OpenID"]) == ("oMGR", "oMGR")
    assert (cust["是否渠道经理"], cust["关注状态"], cust["来源"]) == ("否", "已取消关注", "个人推广码")
    assert cust["昵称"] == "'=HYPERLINK(1)"
    assert cust["关注时间"] == timezone.localtime(customer.subscribed_at).strftime("%Y-%m-%d %H:%M:%S")


def test_it_exports_followers_as_xlsx(tree, tmp_path):
    manager, _ = tree
    out = tmp_path / "followers.xlsx"
    call_command("export", "followers", "--format", "xlsx", "--out", str(out))
    sheet = openpyxl.load_workbook(out, read_only=True).active
    raw = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    # Trailing empty cells may be left out of a row: pad every row to the header's width.
    rows = [(row + [""] * len(raw[0]))[: len(raw[0])] for row in raw]
    header, data = _by_openid(rows)
    assert header[: len(HEADERS)] == HEADERS
    assert (data["oCUST"]["推荐人OpenID"], data["oCUST"]["渠道经理OpenID"]) == ("oMGR", "oMGR")
    assert data["oMGR"]["推广码"] == manager.promo_code
    assert data["oMGR"]["是否渠道经理"] == "是"
