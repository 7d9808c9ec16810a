"""Exports of red packets (SPEC §3): one "redpackets" export over grants and claims together,
and the batch list of manual payouts for finance (Bestpay 翼支付 or another wallet)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet, TextField, Value
from django.utils import timezone

from backoffice.exports import Column, ExportSpec, Format, choices, local_time, register, yuan

from .models import Claim, Grant, Trigger

RECORD_GRANT = "发放"
RECORD_CLAIM = "领取"


class Constant(Format):
    """The same text on every row (the record type of a grant or claim)."""

    def __init__(self, text: str):
        self.text = text

    def __call__(self, value: Any) -> str:
        return self.text

    def expression(self, path: str):
        return Value(self.text, output_field=TextField())


GRANT_COLUMNS = [
    Column("记录类型", "id", Constant(RECORD_GRANT)),
    Column("用户OpenID", "follower__openid"),
    Column("金额(元)", "amount_fen", yuan),
    Column("原因", "trigger", choices(Trigger)),
    Column("预约编号", "booking__number"),
    Column("状态", "status", choices(Grant.Status)),
    Column("时间", "created_at", local_time),
]
CLAIM_COLUMNS = [
    Column("记录类型", "id", Constant(RECORD_CLAIM)),
    Column("用户OpenID", "follower__openid"),
    Column("金额(元)", "amount_fen", yuan),
    Column("原因", "grant__trigger", choices(Trigger)),
    Column("预约编号", "grant__booking__number"),
    Column("状态", "status", choices(Claim.Status)),
    Column("时间", "created_at", local_time),
]


class RedPacketRecordsSpec(ExportSpec):
    """Grants then claims, each streamed in chunks. `queryset` may narrow it to one of the two
    (the back office passes its filtered changelist); without one both are exported."""

    def queryset(self, *, since: dt.date | None = None, queryset: QuerySet | None = None):
        if queryset is not None:
            parts = [queryset]
        else:
            parts = [Grant.objects.all(), Claim.objects.all()]
        if since is not None:
            start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            parts = [qs.filter(created_at__gte=start) for qs in parts]
        return parts

    @property
    def declarative(self) -> bool:
        # Two querysets, not one: the single-query COPY path does not apply; each part is still
        # formatted by the database through its own spec.
        return False

    def rows(self, qs) -> Iterator[list[Any]]:
        for part in qs:
            columns = CLAIM_COLUMNS if part.model is Claim else GRANT_COLUMNS
            yield from ExportSpec(self.name, self.title, columns, self.base_queryset).rows(part)


REDPACKETS_SPEC = register(
    RedPacketRecordsSpec(
        name="redpackets",
        title="红包记录",
        columns=GRANT_COLUMNS,
        base_queryset=Grant.objects.all,
    )
)

MANUAL_PAYOUT_SPEC = register(
    ExportSpec(
        name="redpacket_payouts",
        title="待人工打款",
        columns=[
            Column("领取单号", "bill_no"),
            Column("用户OpenID", "follower__openid"),
            Column("姓名", "grant__booking__name"),
            Column("手机号", "grant__booking__phone"),
            Column("金额(元)", "amount_fen", yuan),
            Column("预约编号", "grant__booking__number"),
            Column("申请时间", "created_at", local_time),
        ],
        base_queryset=lambda: Claim.objects.filter(provider=Claim.Provider.MANUAL, status=Claim.Status.PENDING),
    )
)
