"""Streaming exports shared by the back office and `manage.py export`.

An export is a list of columns over a `values_list()` queryset, iterated in chunks so memory
stays bounded whatever the row count. Each app registers its exports in its `exports.py`
(imported by `BackofficeConfig.ready`).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

CHUNK_SIZE = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Keep spreadsheet apps from running a cell as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def yuan(amount_fen: int | None) -> str:
    from backoffice.templatetags.money import fen_to_yuan_text

    return fen_to_yuan_text(amount_fen)


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # a values_list() path, e.g. "referrer__openid"
    format: Callable[[Any], Any] | None = None


@dataclass
class ExportSpec:
    name: str
    title: str
    columns: list[Column]
    base_queryset: Callable[[], QuerySet]
    since_field: str = "created_at"
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def queryset(self, *, since: dt.date | None = None, queryset: QuerySet | None = None) -> QuerySet:
        qs = queryset if queryset is not None else self.base_queryset()
        if since is not None:
            start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            qs = qs.filter(**{f"{self.since_field}__gte": start})
        return qs

    def rows(self, qs: QuerySet) -> Iterator[list[Any]]:
        formats = [c.format for c in self.columns]
        paths = [c.path for c in self.columns]
        for raw in qs.order_by("pk").values_list(*paths).iterator(chunk_size=CHUNK_SIZE):
            yield [neutralise(f(v) if f else ("" if v is None else v)) for f, v in zip(formats, raw, strict=True)]


REGISTRY: dict[str, ExportSpec] = {}


def register(spec: ExportSpec) -> ExportSpec:
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> ExportSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"未知的导出类型：{name}") from None


def write_csv(headers: list[str], rows: Iterable[list[Any]], out: IO[str], progress=None) -> int:
    writer = csv.writer(out)
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
        if progress and count % CHUNK_SIZE == 0:
            progress(count)
    return count


def write_xlsx(headers: list[str], rows: Iterable[list[Any]], path: str, title: str = "Sheet1", progress=None) -> int:
    """XlsxWriter in constant_memory mode writes each row to disk as it goes."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet(title[:31])
    bold = workbook.add_format({"bold": True})
    sheet.write_row(0, 0, headers, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.write_row(count, 0, row)
        if progress and count % CHUNK_SIZE == 0:
            progress(count)
    workbook.close()
    return count


def export_to_file(
    name: str, fmt: str, path: str, *, since: dt.date | None = None, queryset: QuerySet | None = None, progress=None
) -> int:
    """Write export `name` to `path` as csv or xlsx; return the number of data rows."""
    spec = get_spec(name)
    rows = spec.rows(spec.queryset(since=since, queryset=queryset))
    if fmt == "csv":
        # utf-8-sig: Excel opens Chinese CSV correctly only with the BOM.
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            return write_csv(spec.headers, rows, out, progress)
    if fmt == "xlsx":
        return write_xlsx(spec.headers, rows, path, spec.title, progress)
    raise ValueError(f"不支持的导出格式：{fmt}")
