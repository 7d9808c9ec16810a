"""Outbound fan-out: one template notification to 100,000 followers through Celery workers,
against the sandbox configured with a WeChat-like send limit equal to our configured rate.

Half-way through, one of the two workers is killed (SIGKILL, its whole process group) and
started again. Afterwards every follower must have exactly one message in the sandbox.
"""

import os
import signal
import subprocess
import time
import uuid

from bench import data
from bench.env import OUT, PYTHON, ROOT, server_env
from bench.server import free_port, gunicorn


def start_celery(args: list[str], env: dict, name: str) -> subprocess.Popen:
    log = open(OUT / f"celery-{name}.log", "a")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "pan_channel", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group, so a kill takes the pool children too
    )


def start_worker(env: dict, name: str, concurrency: int) -> subprocess.Popen:
    return start_celery(
        [
            "worker",
            "-n",
            f"{name}@%h",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env,
        name,
    )


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def prepare(n: int) -> list[str]:
    from accounts.models import Follower
    from wechat.sandbox.models import SandboxUser

    data.make_followers(prefix="oFAN", n=n)
    data._insert_series(
        SandboxUser,
        n,
        {
            "openid": "'oFAN' || lpad(g::text, 9, '0')",
            "nickname": "'粉丝' || g",
            "is_following": "true",
            "subscribed_at": "now()",
            "created_at": "now()",
        },
    )
    return list(Follower.objects.filter(openid__startswith="oFAN").order_by("id").values_list("openid", flat=True))


def counts(campaign: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*), min(sent_at), max(sent_at) FROM wechat_outboundmessage "
            "WHERE idempotency_key LIKE %s GROUP BY status",
            [campaign + ":%"],
        )
        rows = {status: (count, first, last) for status, count, first, last in cursor.fetchall()}
    return rows


def delivered(campaign_cmids_prefix: str) -> dict:
    """What the sandbox (WeChat) received: messages per follower."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(DISTINCT m.user_id),
                   count(*) - count(DISTINCT (m.user_id, m.payload->>'client_msg_id'))
            FROM wechat_sandboxmessage m JOIN wechat_sandboxuser u ON u.id = m.user_id
            WHERE m.kind = 'template' AND u.openid LIKE 'oFAN%%' AND m.payload->>'template_id' = %s
            """,
            [campaign_cmids_prefix],
        )
        total, users, duplicates = cursor.fetchone()
    return {"messages": total, "followers_reached": users, "duplicates": duplicates}


def run(*, quick: bool) -> dict:
    from django.core.cache import cache

    from wechat import notify

    n = 3_000 if quick else 100_000
    rate = int(os.environ.get("BENCH_FANOUT_RATE", "90"))
    concurrency = int(os.environ.get("BENCH_FANOUT_CONCURRENCY", "6"))
    openids = prepare(n)
    cache.clear()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(
        WECHAT_SANDBOX="1",
        WECHAT_SANDBOX_BASE_URL=base,
        SITE_URL=base,
        WECHAT_SEND_RATE=f"{rate}/s",
        WECHAT_SANDBOX_SEND_LIMIT=f"{rate}/s",
        CELERY_VISIBILITY_TIMEOUT="60",
        WECHAT_HTTP_TIMEOUT="10",
    )
    campaign = f"bench:{uuid.uuid4().hex[:8]}"
    template = f"tpl_{campaign[6:]}"
    result = {"followers": n, "configured_rate": rate, "workers": f"2 × prefork {concurrency}"}
    with gunicorn(port=port, extra_env=env):
        workers = {name: start_worker(env, name, concurrency) for name in ("fanA", "fanB")}
        beat = start_celery(["beat", "-s", str(OUT / "celerybeat-schedule"), "--loglevel=WARNING"], env, "beat")
        try:
            t0 = time.time()
            notify.send_template_to_many(
                openids=openids,
                template=template,
                data={"thing1": "宽带提速活动", "time2": "12月"},
                campaign_key=campaign,
            )
            print(f"  enqueued {n:,} notifications in {time.time() - t0:.1f} s", flush=True)
            killed_at = None
            deadline = time.time() + n / rate * 2 + 600
            while time.time() < deadline:
                sent = counts(campaign).get("sent", (0,))[0]
                if killed_at is None and sent >= n * 0.4:
                    stop(workers["fanA"], signal.SIGKILL)
                    killed_at = sent
                    print(f"  killed worker fanA (SIGKILL) at {sent:,} sent; restarting it", flush=True)
                    time.sleep(3)
                    workers["fanA"] = start_worker(env, "fanA", concurrency)
                if sent >= n:
                    break
                time.sleep(2)
        finally:
            for proc in (*workers.values(), beat):
                stop(proc)
    rows = counts(campaign)
    sent, first, last = rows.get("sent", (0, None, None))
    elapsed = (last - first).total_seconds() if first and last else float("nan")
    throughput = (sent - 1) / elapsed if elapsed and elapsed == elapsed and elapsed > 0 else 0.0
    received = delivered(template)
    result.update(
        {
            "statuses": {status: count for status, (count, _, _) in rows.items()},
            "seconds": round(elapsed, 1),
            "throughput": round(throughput, 1),
            "of_configured_rate": round(throughput / rate, 3),
            "killed_at_sent": killed_at,
            **received,
            "lost": n - received["followers_reached"],
        }
    )
    print(
        f"  {sent:,}/{n:,} sent in {elapsed:.0f} s: {throughput:.1f} msg/s = {throughput / rate:.0%} of the configured "
        f"{rate}/s (target ≥ 90 %); WeChat received {received['messages']:,} for {received['followers_reached']:,} "
        f"followers: duplicates {received['duplicates']}, lost {result['lost']}",
        flush=True,
    )
    return result
