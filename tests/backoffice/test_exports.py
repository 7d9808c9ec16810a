"""The export machinery: the database and Python formats agree, CSV (COPY) and XLSX carry the same
cells, formula-like cells are neutralised, and the XLSX is a workbook spreadsheet apps can read."""

import csv
import datetime as dt

import openpyxl
import pytest
from django.utils import timezone

from accounts.models import Follower
from backoffice import exports
from backoffice.exports import Column, ExportSpec, boolean, choices, local_time, yuan
from tests.factories import FollowerFactory

SPEC = ExportSpec(
    name="test-followers",
    title="测试",
    columns=[
        Column("OpenID", "openid"),
        Column("昵称", "nickname"),
        Column("推荐人OpenID", "referrer__openid"),
        Column("是否渠道经理", "is_channel_manager", boolean("是", "否")),
        Column("来源", "source", choices(Follower.Source)),
        Column("关注时间", "subscribed_at", local_time),
        Column("金额", "id", yuan),
    ],
    base_queryset=lambda: Follower.objects.filter(openid__startswith="oEXP"),
)


@pytest.fixture
def registered():
    exports.register(SPEC)
    yield SPEC
    exports.REGISTRY.pop(SPEC.name, None)


@pytest.fixture
def rows(db):
    at = dt.datetime(2026, 3, 1, 16, 30, 5, tzinfo=dt.UTC)
    referrer = FollowerFactory(openid="oEXP1", nickname="=cmd|' /C calc'!A0", is_channel_manager=True)
    referrer.subscribed_at = at
    referrer.source = Follower.Source.SEARCH
    referrer.save()
    FollowerFactory(openid="oEXP2", nickname="张三 <b>&", referrer=referrer, source=Follower.Source.PERSONAL_QR)
    FollowerFactory(openid="oEXP3", nickname="-1+1", source="legacy")
    return referrer


def expected_rows():
    out = []
    for f in Follower.objects.filter(openid__startswith="oEXP").select_related("referrer").order_by("pk"):
        values = [f.openid, f.nickname, f.referrer.openid if f.referrer else None]
        values += [f.is_channel_manager, f.source, f.subscribed_at, f.id]
        out.append([column.fmt(v) for column, v in zip(SPEC.columns, values, strict=True)])
    return out


def test_it_formats_in_the_database_exactly_as_in_python(rows):
    assert SPEC.declarative
    from_db = [list(r) for r in SPEC.text_values(SPEC.queryset())]
    assert from_db == expected_rows()
    first = from_db[0]
    assert first[1] == "'=cmd|' /C calc'!A0"
    assert first[3] == "是" and first[4] == "搜索关注"
    assert first[5] == "2026-03-02 00:30:05"  # Asia/Shanghai
    assert from_db[2][1] == "'-1+1" and from_db[2][4] == "legacy"


def test_it_writes_the_same_cells_to_csv_and_xlsx(registered, rows, tmp_path):
    csv_path, xlsx_path = tmp_path / "f.csv", tmp_path / "f.xlsx"
    assert exports.export_to_file(SPEC.name, "csv", str(csv_path)) == 3
    assert exports.export_to_file(SPEC.name, "xlsx", str(xlsx_path)) == 3
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        from_csv = list(csv.reader(fh))
    sheet = openpyxl.load_workbook(xlsx_path).active
    from_xlsx = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert from_csv[0] == SPEC.headers == from_xlsx[0]
    assert from_csv[1:] == expected_rows() == from_xlsx[1:]
    assert sheet.title == "测试"
    assert from_xlsx[2][1] == "张三 <b>&"


def test_it_filters_by_since_date(registered, rows, tmp_path):
    Follower.objects.filter(openid="oEXP1").update(created_at=timezone.now() - dt.timedelta(days=10))
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    out = tmp_path / "f.csv"
    count = exports.export_to_file(SPEC.name, "csv", str(out), since=dt.date.fromisoformat(since))
    assert count == 2


def test_it_formats_in_python_when_a_column_has_a_plain_function(rows, tmp_path):
    spec = ExportSpec(
        name="plain",
        title="plain",
        columns=[Column("OpenID", "openid"), Column("昵称", "nickname", lambda v: v.upper())],
        base_queryset=lambda: Follower.objects.filter(openid__startswith="oEXP"),
    )
    assert not spec.declarative
    assert [r[1] for r in spec.rows(spec.queryset())][0] == "'=CMD|' /C CALC'!A0"
