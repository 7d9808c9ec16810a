"""Streaming exports shared by the back office and `manage.py export`.

An export is a list of columns over a queryset. Each column has a *format* that exists twice:
as a database expression (so PostgreSQL formats dates, labels and money in C while it reads
the rows) and as a Python function (for tests and documentation). With all columns declared
this way:

- CSV on PostgreSQL is a single `COPY (SELECT …) TO STDOUT` — about as fast as the database
  can read the rows;
- XLSX and CSV elsewhere iterate a server-side cursor in chunks, receive ready-made text and
  stream it to disk (`backoffice.xlsx`), so memory stays bounded whatever the row count.

A column may also take a plain Python callable as its format; the export then formats in
Python (slower, still streaming). Each app registers its exports in its `exports.py`
(imported by `BackofficeConfig.ready`). See docs/PERFORMANCE.md for the measurements.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.db.models.lookups import Regex
from django.utils import timezone

from backoffice.xlsx import write_text_xlsx

CHUNK_SIZE = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_REGEX = r"^[-=+@\t\r]"


def neutralise(value: Any) -> Any:
    """Keep spreadsheet apps from running a cell as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _as_text(path: str):
    return Cast(F(path), output_field=TextField())


class Format:
    """How a column's value becomes text, in Python and in SQL (the two must agree)."""

    def __call__(self, value: Any) -> str:
        raise NotImplementedError

    def expression(self, path: str):
        raise NotImplementedError


class Text(Format):
    """Text as stored; NULL becomes empty; formula-like cells are neutralised."""

    def __call__(self, value):
        return "" if value is None else neutralise(str(value))

    def expression(self, path):
        text = _as_text(path)
        return Coalesce(
            Case(
                When(Regex(text, FORMULA_REGEX), then=Concat(Value("'"), text, output_field=TextField())),
                default=text,
                output_field=TextField(),
            ),
            Value(""),
            output_field=TextField(),
        )


class _LocalTimeText(Func):
    """Timestamp → 'YYYY-MM-DD HH:MM:SS' in the site's time zone, formatted by the database."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template=f"to_char(timezone('{_pg_tz_name()}', %(expressions)s), 'YYYY-MM-DD HH24:MI:SS')",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite stores UTC text; Asia/Shanghai has had no DST since 1991, a fixed offset is exact.
        offset = int(timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE)).utcoffset().total_seconds() // 60)
        return self.as_sql(
            compiler,
            connection,
            template=f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %(expressions)s, '{offset:+d} minutes')",
            **extra,
        )


def _pg_tz_name() -> str:
    name = settings.TIME_ZONE
    if not all(ch.isalnum() or ch in "/_+-" for ch in name):
        raise ValueError(f"unexpected TIME_ZONE {name!r}")
    return name


class LocalTime(Format):
    def __call__(self, value):
        if value is None:
            return ""
        return value.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")

    def expression(self, path):
        return Coalesce(_LocalTimeText(F(path)), Value(""), output_field=TextField())


class Boolean(Format):
    def __init__(self, yes: str = "是", no: str = "否"):
        self.yes, self.no = yes, no

    def __call__(self, value):
        return self.yes if value else self.no

    def expression(self, path):
        return Case(When(**{path: True}, then=Value(self.yes)), default=Value(self.no), output_field=TextField())


class Choices(Format):
    """Stored value → its label (e.g. a TextChoices class); unknown values pass through."""

    def __init__(self, choices):
        self.labels = dict(choices.choices if hasattr(choices, "choices") else choices)

    def __call__(self, value):
        if value is None:
            return ""
        return self.labels.get(value, neutralise(str(value)))

    def expression(self, path):
        return Case(
            *[When(**{path: key}, then=Value(label)) for key, label in self.labels.items()],
            default=Text().expression(path),
            output_field=TextField(),
        )


class _YuanText(Func):
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s / 100.0, 'FM999999999990.00')", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="printf('%%.2f', %(expressions)s / 100.0)", **extra)


class Yuan(Format):
    """Integer fen → yuan text with two decimals."""

    def __call__(self, value):
        from backoffice.templatetags.money import fen_to_yuan_text

        return fen_to_yuan_text(value)

    def expression(self, path):
        return Coalesce(_YuanText(F(path)), Value(""), output_field=TextField())


TEXT = Text()
local_time = LocalTime()
yes_no = Boolean()
yuan = Yuan()


def boolean(yes: str, no: str) -> Boolean:
    return Boolean(yes, no)


def choices(choices_class) -> Choices:
    return Choices(choices_class)


@dataclass(frozen=True)
class Column:
    header: str
    path: str  # a queryset path, e.g. "referrer__openid"
    format: Format | Callable[[Any], Any] | None = None

    @property
    def fmt(self):
        return self.format if self.format is not None else TEXT


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

    @property
    def declarative(self) -> bool:
        """True when every column can be formatted by the database."""
        return all(isinstance(c.fmt, Format) for c in self.columns)

    def queryset(self, *, since: dt.date | None = None, queryset: QuerySet | None = None) -> QuerySet:
        qs = queryset if queryset is not None else self.base_queryset()
        if since is not None:
            start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            qs = qs.filter(**{f"{self.since_field}__gte": start})
        return qs

    def text_values(self, qs: QuerySet) -> QuerySet:
        """The queryset as rows of ready-made text, one column per export column."""
        names = {f"_x{i}": c.fmt.expression(c.path) for i, c in enumerate(self.columns)}
        return qs.order_by("pk").annotate(**names).values_list(*names)

    def rows(self, qs: QuerySet) -> Iterator[list[Any]]:
        if self.declarative:
            yield from self.text_values(qs).iterator(chunk_size=CHUNK_SIZE)
            return
        formats = [c.fmt for c in self.columns]
        paths = [c.path for c in self.columns]
        for raw in qs.order_by("pk").values_list(*paths).iterator(chunk_size=CHUNK_SIZE):
            yield [neutralise(f(v)) for f, v in zip(formats, raw, strict=True)]


REGISTRY: dict[str, ExportSpec] = {}


def register(spec: ExportSpec) -> ExportSpec:
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> ExportSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"未知的导出类型：{name}") from None


def _copy_csv(spec: ExportSpec, qs: QuerySet, path: str) -> int:
    """CSV straight from PostgreSQL's COPY; the header row is ours (with the BOM Excel needs)."""
    values = spec.text_values(qs)
    connection = connections[values.db]
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor, open(path, "wb") as out:
        bound = cursor.cursor.mogrify(sql, params).decode()
        header = _csv_line(spec.headers)
        out.write(("\ufeff" + header).encode("utf-8"))
        cursor.cursor.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv)", out)
        return cursor.cursor.rowcount


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def export_to_file(
    name: str, fmt: str, path: str, *, since: dt.date | None = None, queryset: QuerySet | None = None, progress=None
) -> int:
    """Write export `name` to `path` as csv or xlsx; return the number of data rows."""
    spec = get_spec(name)
    qs = spec.queryset(since=since, queryset=queryset)
    if fmt == "csv":
        if spec.declarative and connections[qs.db].vendor == "postgresql":
            count = _copy_csv(spec, qs, path)
            if progress:
                progress(count)
            return count
        # utf-8-sig: Excel opens Chinese CSV correctly only with the BOM.
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(spec.headers)
            count = 0
            for count, row in enumerate(spec.rows(qs), start=1):
                writer.writerow(row)
                if progress and count % CHUNK_SIZE == 0:
                    progress(count)
            return count
    if fmt == "xlsx":
        return write_text_xlsx(path, spec.headers, spec.rows(qs), title=spec.title, progress=progress)
    raise ValueError(f"不支持的导出格式：{fmt}")
