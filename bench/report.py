"""`python -m bench.report`: the latest figures (bench/out/results.json) as the Markdown tables of
docs/PERFORMANCE.md."""

import json

from bench.env import OUT


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def callback(r: dict) -> list[str]:
    lines = [
        "### 1. Callback burst",
        "",
        "Signed subscribe-with-scene callbacks, each a distinct new follower through one of 100 personal",
        "codes (managers, their customers, followers without a manager): dedupe row, follower, attribution,",
        "scan statistics, welcome reply. Reference: `/bench/noop` in the same gunicorn, same run.",
        "",
        "| connections | no-op req/s | no-op p99 | callback req/s | p50 | p99 | errors | ratio | attributed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in r["rows"]:
        n, c, chk = row["noop"], row["callback"], row["check"]
        lines.append(
            f"| {row['connections']} | {n['rps']:,.0f} | {n['p99_ms']:.1f} ms | {c['rps']:,.0f} | {c['p50_ms']:.1f} ms "
            f"| {c['p99_ms']:.1f} ms | {c['errors']} | {c['rps'] / n['rps']:.1%} "
            f"| {chk['attributed_correctly']:,} / {chk['followers']:,} {'✓' if chk['ok'] else '✗'} |"
        )
    at64 = next(row for row in r["rows"] if row["connections"] == 64)
    ratio = at64["callback"]["rps"] / at64["noop"]["rps"]
    lines += [
        "",
        f"Targets at 64 connections: ≥ 30 % of the no-op — {ratio:.1%}, {verdict(ratio >= 0.3)}; "
        f"p99 ≤ 80 ms — {at64['callback']['p99_ms']:.1f} ms, {verdict(at64['callback']['p99_ms'] <= 80)}; "
        f"0 errors — {verdict(at64['callback']['errors'] == 0)}; every follower attributed correctly — "
        f"{verdict(all(row['check']['ok'] for row in r['rows']))}.",
        "",
        "![callback throughput and latency](callback-throughput.png)",
    ]
    return lines


def pages(r: dict) -> list[str]:
    noop = r["noop"]
    lines = [
        "### 2. H5 pages under load",
        "",
        f"{r['bookings']:,} bookings, {r['customers']:,} customers; 64 connections; queries counted for an account",
        "with one booking and for one with hundreds.",
        "",
        "| page | queries (small / large) | req/s | p50 | p99 | p99 ÷ no-op p99 |",
        "|---|---:|---:|---:|---:|---:|",
        f"| no-op view | — | {noop['rps']:,.0f} | {noop['p50_ms']:.1f} ms | {noop['p99_ms']:.1f} ms | 1 |",
    ]
    for row in r["pages"].values():
        load = row["load"]
        lines.append(
            f"| `{row['path']}` | {row['queries_small']} / {row['queries_large']} | {load['rps']:,.0f} "
            f"| {load['p50_ms']:.1f} ms | {load['p99_ms']:.1f} ms | {row['p99_vs_noop']:.1f}× |"
        )
    constant = all(row["queries_small"] == row["queries_large"] for row in r["pages"].values())
    worst = max(row["p99_vs_noop"] for row in r["pages"].values())
    lines += [
        "",
        f"Targets: constant queries per page — {verdict(constant)}; p99 within 3× the no-op's — "
        f"worst {worst:.1f}×, {verdict(worst <= 3)}.",
    ]
    return lines


def exports(r: dict) -> list[str]:
    rows = [
        ("PostgreSQL `COPY … CSV` (reference)", r["copy_csv"]),
        ("`manage.py export bookings --format csv`", r["project_csv"]),
        ("openpyxl write-only (reference)", r["openpyxl_xlsx"]),
        ("`manage.py export bookings --format xlsx`", r["project_xlsx"]),
    ]
    lines = [
        "### 3. Exports",
        "",
        f"{r['rows']:,} bookings, the SPEC §3 columns; each program in a fresh process (peak RSS is its own).",
        "",
        "| program | seconds | peak RSS |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {x['seconds']:.2f} | {x['peak_rss_mib']:.0f} MiB |" for label, x in rows]
    rss = max(r["project_csv"]["peak_rss_mib"], r["project_xlsx"]["peak_rss_mib"])
    lines += [
        "",
        f"Targets: CSV ≤ 3× COPY — {r['csv_vs_copy']:.2f}×, {verdict(r['csv_vs_copy'] <= 3)}; XLSX ≥ 2× faster than "
        f"openpyxl — {r['xlsx_speedup_vs_openpyxl']:.2f}×, {verdict(r['xlsx_speedup_vs_openpyxl'] >= 2)}; "
        f"peak RSS ≤ 150 MB — {rss:.0f} MiB, {verdict(rss <= 150)}.",
    ]
    return lines


def fanout(r: dict) -> list[str]:
    return [
        "### 4. Outbound fan-out",
        "",
        f"One template notification to {r['followers']:,} followers, Celery workers {r['workers']}, the sandbox",
        f"limiting sends to {r['configured_rate']}/s (45011 beyond) and our throttle set to the same rate. Worker",
        f"`fanA` was killed with SIGKILL (its whole process group) at {r['killed_at_sent']:,} sent and restarted.",
        "",
        "| sent | seconds | msg/s | of the configured rate | received by WeChat | duplicates | lost |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['statuses'].get('sent', 0):,} | {r['seconds']:,.0f} | {r['throughput']:.1f} "
        f"| {r['of_configured_rate']:.1%} | {r['messages']:,} | {r['duplicates']} | {r['lost']} |",
        "",
        f"Targets: ≥ 90 % of the configured rate — {verdict(r['of_configured_rate'] >= 0.9)}; 0 duplicates — "
        f"{verdict(r['duplicates'] == 0)}; 0 lost — {verdict(r['lost'] == 0)}.",
    ]


def main() -> None:
    r = json.loads((OUT / "results.json").read_text())
    parts = []
    for key, render in (("callback", callback), ("pages", pages), ("exports", exports), ("fanout", fanout)):
        if key in r:
            parts += [*render(r[key]), ""]
    print("\n".join(parts).rstrip())


if __name__ == "__main__":
    main()
