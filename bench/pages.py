"""H5 pages under load: the manager's booking list and the customer's 我的红包, with 100,000
bookings and 10,000 customers in the database.

Queries per page are counted in-process for a small account and for a large one (they must be
the same: no query per row); latency is measured with wrk against gunicorn, beside the no-op
view of the same server.
"""

import time

from bench import data, wrk
from bench.server import gunicorn

PAGES = {
    "manager_bookings_open": "/h5/bookings/manage/",
    "manager_bookings_done": "/h5/bookings/manage/?tab=done",
    "customer_redpackets": "/h5/redpackets/",
    "customer_bookings": "/h5/bookings/mine/",
}


def prepare(n_bookings: int, n_customers: int) -> dict:
    from django.utils import timezone

    from accounts import services
    from accounts.models import Follower

    t = time.perf_counter()
    data.make_followers(prefix="oPMGR", n=200, is_manager=True)
    data.make_followers(prefix="oPCUS", n=n_customers)
    data.make_bookings(
        n=n_bookings,
        customer_prefix="oPCUS",
        n_customers=n_customers,
        manager_prefix="oPMGR",
        n_managers=200,
        number_prefix="P",
    )
    data.make_grants(follower_prefix="oPCUS")
    # A small account beside the large ones: same pages, few rows.
    now = timezone.now()
    services.record_subscribe(openid="oPSMALLMGR", scene=None, at=now)
    small_manager = Follower.objects.get(openid="oPSMALLMGR")
    services.set_channel_manager(follower=small_manager, actor_label="bench", reason="bench")
    services.record_subscribe(openid="oPSMALLCUS", scene=f"u:{small_manager.promo_code}", at=now)
    small_customer = Follower.objects.get(openid="oPSMALLCUS")
    from bookings.models import Booking

    Booking.objects.create(
        follower=small_customer,
        package_id=data.make_catalog()[0],
        channel_manager=small_manager,
        name="小",
        phone="13900000000",
    )
    data.make_grants(follower_prefix="oPSMALLCUS")
    big_manager = Follower.objects.filter(openid__startswith="oPMGR").order_by("id").first()
    big_customer = Follower.objects.filter(openid__startswith="oPCUS").order_by("id").first()
    print(f"  generated {n_bookings:,} bookings for {n_customers:,} customers in {time.perf_counter() - t:.1f} s")
    return {
        "manager": {"small": small_manager, "large": big_manager},
        "customer": {"small": small_customer, "large": big_customer},
    }


def session_cookie(follower) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.sessions.backends.cache import SessionStore as _unused  # noqa: F401

    from accounts.h5auth import SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = follower.pk
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def count_queries(path: str, follower) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=session_cookie(follower))
    client.get(path)  # warm caches (session, settings rows) as a real visitor would have them
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response.status_code, len(ctx.captured_queries)


def run(*, quick: bool) -> dict:
    n_bookings, n_customers = (5_000, 500) if quick else (100_000, 10_000)
    actors = prepare(n_bookings, n_customers)
    results = {"bookings": n_bookings, "customers": n_customers, "pages": {}}
    seconds = 3 if quick else 15
    with gunicorn() as base:
        noop = wrk.run(base + "/bench/noop", connections=64, seconds=seconds)
        results["noop"] = noop.as_dict()
        print(
            f"  noop view                 p50 {noop.p50_ms:6.1f} ms  p99 {noop.p99_ms:6.1f} ms  {noop.rps:7.0f} req/s"
        )
        for name, path in PAGES.items():
            who = "manager" if name.startswith("manager") else "customer"
            small_status, small_q = count_queries(path, actors[who]["small"])
            large_status, large_q = count_queries(path, actors[who]["large"])
            cookie = session_cookie(actors[who]["large"])
            load = wrk.run(base + path, connections=64, seconds=seconds, headers={"Cookie": cookie})
            row = {
                "path": path,
                "queries_small": small_q,
                "queries_large": large_q,
                "status": [small_status, large_status],
                "load": load.as_dict(),
                "p99_vs_noop": round(load.p99_ms / noop.p99_ms, 2),
            }
            results["pages"][name] = row
            print(
                f"  {name:<25} p50 {load.p50_ms:6.1f} ms  p99 {load.p99_ms:6.1f} ms  {load.rps:7.0f} req/s  "
                f"errors {load.errors}  queries {small_q} (small) / {large_q} (large)  "
                f"p99 = {row['p99_vs_noop']:.2f}× no-op (target ≤ 3×)",
                flush=True,
            )
    return results
