"""Exports of a million bookings: the project's `manage.py export` beside two references run in
the same job — PostgreSQL's own `COPY … CSV` and openpyxl's write-only streaming — each in a
fresh process so that peak RSS is its own."""

import json
import subprocess
import sys
import time

from bench import data
from bench.env import DATABASE_URL, OUT, PYTHON, ROOT, server_env

COPY_SQL = """
COPY (
  SELECT b.number, f.openid, b.name, b.phone, p.name, b.status, m.openid, b.submitted_at, b.accepted_at
  FROM bookings_booking b
  JOIN accounts_follower f ON f.id = b.follower_id
  JOIN bookings_package p ON p.id = b.package_id
  LEFT JOIN accounts_follower m ON m.id = b.channel_manager_id
  ORDER BY b.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""

# The two references, as standalone programs (psycopg2 + openpyxl only, no Django).
COPY_PROGRAM = f"""
import psycopg2, sys
conn = psycopg2.connect({DATABASE_URL!r})
with conn.cursor() as cur, open(sys.argv[1], "w") as out:
    cur.copy_expert({COPY_SQL!r}, out)
"""
OPENPYXL_PROGRAM = f"""
import psycopg2, sys, openpyxl
conn = psycopg2.connect({DATABASE_URL!r})
cur = conn.cursor(name="export")
cur.itersize = 5000
cur.execute({COPY_SQL.split("COPY (")[1].rsplit(") TO STDOUT", 1)[0]!r})
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("bookings")
ws.append(["预约编号", "用户OpenID", "姓名", "手机号", "套餐", "状态", "渠道经理OpenID", "提交时间", "受理时间"])
for row in cur:
    row = list(row)
    row[7] = row[7].replace(tzinfo=None) if row[7] else None
    row[8] = row[8].replace(tzinfo=None) if row[8] else None
    ws.append(row)
wb.save(sys.argv[1])
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time and peak RSS (MiB) of one child process (see bench/rss.py)."""
    done = subprocess.run([sys.executable, "-m", "bench.rss", *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{cmd} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(*, rows: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking")
        existing = cursor.fetchone()[0]
    if existing < rows:
        t = time.perf_counter()
        data.make_followers(prefix="oXMGR", n=200, is_manager=True)
        data.make_followers(prefix="oXCUS", n=10_000)
        data.make_bookings(
            n=rows - existing,
            customer_prefix="oXCUS",
            n_customers=10_000,
            manager_prefix="oXMGR",
            n_managers=200,
            number_prefix="X",
        )
        print(f"  generated {rows - existing:,} bookings in {time.perf_counter() - t:.1f} s", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    env = server_env()
    results = {"rows": rows}
    results["copy_csv"] = measure([sys.executable, "-c", COPY_PROGRAM, str(OUT / "ref-copy.csv")])
    results["project_csv"] = measure(
        [PYTHON, "manage.py", "export", "bookings", "--format", "csv", "--out", str(OUT / "bookings.csv")], env
    )
    results["openpyxl_xlsx"] = measure([sys.executable, "-c", OPENPYXL_PROGRAM, str(OUT / "ref-openpyxl.xlsx")])
    results["project_xlsx"] = measure(
        [PYTHON, "manage.py", "export", "bookings", "--format", "xlsx", "--out", str(OUT / "bookings.xlsx")], env
    )
    csv_ratio = results["project_csv"]["seconds"] / results["copy_csv"]["seconds"]
    xlsx_speedup = results["openpyxl_xlsx"]["seconds"] / results["project_xlsx"]["seconds"]
    results["csv_vs_copy"] = round(csv_ratio, 2)
    results["xlsx_speedup_vs_openpyxl"] = round(xlsx_speedup, 2)
    for key in ("copy_csv", "project_csv", "openpyxl_xlsx", "project_xlsx"):
        r = results[key]
        print(f"  {key:<14} {r['seconds']:7.2f} s   peak RSS {r['peak_rss_mib']:6.1f} MiB", flush=True)
    print(
        f"  CSV = {csv_ratio:.2f}× COPY (target ≤ 3×); XLSX {xlsx_speedup:.2f}× faster than openpyxl write-only "
        "(target ≥ 2×); peak RSS target ≤ 150 MiB",
        flush=True,
    )
    return results
