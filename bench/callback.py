"""Callback burst: signed subscribe-with-scene callbacks for distinct new followers.

Each request is a first follow through one of 100 personal promo codes (managers, customers
of managers, followers without a manager), so attribution, dedupe and scan statistics all
run. The reference is /bench/noop served by the same gunicorn in the same run.
"""

import hashlib
import time
import uuid

from bench import wrk
from bench.env import OUT, WECHAT_TOKEN

LUA = r"""
local codes = {%(codes)s}
local path = "%(path)s"
local run = "%(run)s"
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  tid = wrk.thread:get("tid")
end
request = function()
  counter = counter + 1
  local openid = string.format("oBURST%%s%%02d%%08d", run, tid, counter)
  local code = codes[(counter + tid) %% #codes + 1]
  local body = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>" ..
    "<FromUserName><![CDATA[" .. openid .. "]]></FromUserName>" ..
    "<CreateTime>%(now)s</CreateTime><MsgType><![CDATA[event]]></MsgType>" ..
    "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_u:" .. code .. "]]></EventKey>" ..
    "<Ticket><![CDATA[bench]]></Ticket></xml>"
  return wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
end
"""


def signed_query() -> str:
    timestamp, nonce = str(int(time.time())), "benchnonce"
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"


def prepare_referrers() -> list[str]:
    """20 managers, 40 of their customers, 40 followers with no manager; return their promo codes."""
    from django.utils import timezone

    from accounts import services
    from accounts.models import Follower

    now = timezone.now()
    codes = []
    for i in range(20):
        services.record_subscribe(openid=f"oBMGR{i:04d}", scene=None, at=now)
        manager = Follower.objects.get(openid=f"oBMGR{i:04d}")
        services.set_channel_manager(follower=manager, actor_label="bench", reason="bench")
        codes.append(manager.promo_code)
    for i in range(40):
        services.record_subscribe(openid=f"oBCUS{i:04d}", scene=f"u:{codes[i % 20]}", at=now)
        services.record_subscribe(openid=f"oBSOLO{i:04d}", scene=None, at=now)
    codes += list(Follower.objects.filter(openid__startswith="oBCUS").values_list("promo_code", flat=True)) + list(
        Follower.objects.filter(openid__startswith="oBSOLO").values_list("promo_code", flat=True)
    )
    # Personal QR rows exist for every referrer before the burst (as they would for real posters).
    for follower in Follower.objects.filter(openid__regex=r"^oB(MGR|CUS|SOLO)"):
        services.personal_qr(follower)
    return codes


def write_script(codes: list[str], run: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"callback-{run}.lua"
    path.write_text(
        LUA
        % {
            "codes": ",".join(f'"{c}"' for c in codes),
            "path": "/wechat/callback?" + signed_query(),
            "run": run,
            "now": int(time.time()),
        }
    )
    return str(path)


def verify(run: str) -> dict:
    """Every follower of this run attributed exactly as SPEC §4.1 says, counted once."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   count(*) FILTER (
                       WHERE f.referrer_id = q.follower_id
                         AND f.channel_manager_id IS NOT DISTINCT FROM
                             (CASE WHEN r.is_channel_manager THEN r.id ELSE r.channel_manager_id END)
                         AND f.source = 'personal_qr'
                   ),
                   count(DISTINCT f.openid)
            FROM accounts_follower f
            LEFT JOIN accounts_qrcode q ON q.id = f.source_qr_id
            LEFT JOIN accounts_follower r ON r.id = f.referrer_id
            WHERE f.openid LIKE %s
            """,
            [f"oBURST{run}%"],
        )
        total, correct, distinct = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM wechat_inboundmessage WHERE openid LIKE %s", [f"oBURST{run}%"])
        (deliveries,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM accounts_attributionchange a JOIN accounts_follower f ON f.id = a.follower_id "
            "WHERE f.openid LIKE %s",
            [f"oBURST{run}%"],
        )
        (attributions,) = cursor.fetchone()
    return {
        "followers": total,
        "attributed_correctly": correct,
        "deliveries": deliveries,
        "attribution_rows": attributions,
        "ok": total == correct == deliveries == attributions == distinct,
    }


def run(base: str, *, connections: list[int], seconds: int) -> dict:
    codes = prepare_referrers()
    rows = []
    for conns in connections:
        noop = wrk.run(base + "/bench/noop", connections=conns, seconds=seconds)
        tag = uuid.uuid4().hex[:6]
        script = write_script(codes, tag)
        callback = wrk.run(base + "/wechat/callback", connections=conns, seconds=seconds, script=script)
        time.sleep(2)  # requests still in flight when wrk stops commit after it returns
        check = verify(tag)
        rows.append({"connections": conns, "noop": noop.as_dict(), "callback": callback.as_dict(), "check": check})
        print(
            f"  c={conns:<4} noop {noop.rps:8.0f} req/s p99 {noop.p99_ms:6.1f} ms | "
            f"callback {callback.rps:7.0f} req/s p50 {callback.p50_ms:6.1f} ms p99 {callback.p99_ms:6.1f} ms "
            f"errors {callback.errors} | ratio {callback.rps / noop.rps:5.1%} | "
            f"attributed {check['attributed_correctly']}/{check['followers']} {'OK' if check['ok'] else 'MISMATCH'}",
            flush=True,
        )
    return {"rows": rows}
