"""Writes on followers: subscription state and referral attribution (SPEC §4.1).

The rules, in one place:

* Attribution (source, referrer, channel manager, store) is decided once, at the follower's
  first subscription (`attributed_at` is set then) and never again by WeChat events:
  unfollow + refollow and SCAN while following only update subscription state and count
  the scan. After that only staff change the manager, through `reassign_manager` and
  `transfer_customers`, each writing an `AttributionChange` row.
* Scenes are typed strings: `u:<promo code>` (a follower's personal code), `s:<code>` (a
  store code), `c:<code>` (a campaign code). Anything else is an unknown code: the follower
  is treated like a search follow, with source `unknown_qr`.
* Personal code: referrer = the code's owner; manager = the owner if he is a manager, else
  the owner's manager, else none. (An owner's manager whose role was taken away is still
  "his manager" until staff transfer the customers, so the newcomer moves with them then.)
* Store / campaign code: no referrer; store = the code's org unit; manager = the code's
  channel manager if that person is (still) a manager.
* Scanning one's own code binds nothing, and a referral chain never forms a cycle.
* Making someone a manager is forward-looking: existing attributions stay as they are.

Every function here runs in one transaction (joining the caller's, e.g. the WeChat callback's,
without a savepoint) so a delivery is recorded entirely or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import AttributionChange, Follower, OrgUnit, QRCode, QRScan, new_promo_code

SYSTEM_LABEL = "微信关注事件"


class AttributionError(Exception):
    """A requested attribution change breaks a rule; `str(exc)` is shown to staff as is."""


@dataclass(frozen=True)
class SubscribeOutcome:
    """What `record_subscribe` did, for the callback handler (e.g. to choose a welcome text)."""

    follower_id: int
    created: bool  # a new Follower row
    attributed_now: bool  # this was the first subscription: attribution decided now
    source: str
    referrer_id: int | None
    channel_manager_id: int | None


@dataclass(frozen=True)
class _Target:
    """Where a scene points: the QR code row to count and the attribution it implies."""

    qr_id: int | None
    source: str
    referrer_id: int | None = None
    manager_id: int | None = None
    store_id: int | None = None
    owner_id: int | None = None  # owner of a personal code (to detect self-scans)
    owner_code: str = ""
    owner_name: str = ""


UNKNOWN = _Target(qr_id=None, source=Follower.Source.UNKNOWN_QR)


# --- scenes ---------------------------------------------------------------------------------


def parse_scene(scene: str | None) -> tuple[str, str] | None:
    """`"u:ABC"` → `("u", "ABC")`; None for anything that is not a well-formed typed scene."""
    if not scene or ":" not in scene:
        return None
    kind, _, code = scene.partition(":")
    if kind not in QRCode.Kind.values or not code or len(code) > 32 or not code.isascii():
        return None
    return kind, code


def _resolve_scene(scene: str | None) -> _Target | None:
    """None when there is no scene (a search follow); UNKNOWN for a scene we cannot use."""
    if scene is None:
        return None
    parsed = parse_scene(scene)
    if parsed is None:
        return UNKNOWN
    kind, code = parsed
    # Plain SQL (PostgreSQL and SQLite alike): this runs on every QR follow, and the ORM's
    # query building costs more than the indexed lookup itself.
    with connection.cursor() as cursor:
        if kind == QRCode.Kind.PERSONAL:
            cursor.execute(
                "SELECT f.id, f.openid, f.nickname, f.is_channel_manager, f.channel_manager_id, q.id"
                " FROM accounts_follower f LEFT JOIN accounts_qrcode q ON q.kind = %s AND q.code = f.promo_code"
                " WHERE f.promo_code = %s",
                [QRCode.Kind.PERSONAL, code],
            )
            owner = cursor.fetchone()
            if owner is None:
                return UNKNOWN
            owner_id, owner_openid, owner_nickname, owner_is_manager, owner_manager_id, qr_id = owner
            # A personal QR row is created on first use (_count_scan / _personal_qr_id).
            return _Target(
                qr_id=qr_id,
                source=Follower.Source.PERSONAL_QR,
                referrer_id=owner_id,
                manager_id=owner_id if owner_is_manager else owner_manager_id,
                owner_id=owner_id,
                owner_code=code,
                owner_name=owner_nickname or owner_openid,
            )
        cursor.execute(
            "SELECT q.id, q.org_unit_id, q.channel_manager_id, f.is_channel_manager"
            " FROM accounts_qrcode q LEFT JOIN accounts_follower f ON f.id = q.channel_manager_id"
            " WHERE q.kind = %s AND q.code = %s AND q.is_active",
            [kind, code],
        )
        qr = cursor.fetchone()
    if qr is None:
        return UNKNOWN
    qr_id, org_unit_id, qr_manager_id, qr_manager_is_manager = qr
    source = Follower.Source.STORE_QR if kind == QRCode.Kind.STORE else Follower.Source.CAMPAIGN_QR
    return _Target(
        qr_id=qr_id, source=source, manager_id=qr_manager_id if qr_manager_is_manager else None, store_id=org_unit_id
    )


def personal_qr(follower: Follower) -> QRCode:
    """The follower's personal code (kind "u", code = promo code), created on first need."""
    qr, _ = QRCode.objects.get_or_create(
        kind=QRCode.Kind.PERSONAL,
        code=follower.promo_code,
        defaults={"follower": follower, "name": f"{follower.display_name}的推广码"},
    )
    return qr


def _count_scan(target: _Target, follower_id: int, *, is_follow: bool) -> int | None:
    """Add one scan (and maybe one follow) to the code's statistics and a QRScan row; return the QR id.

    A personal code's row is created here on its first scan. On PostgreSQL the counter
    update and the scan row are one statement (a data-modifying CTE).
    """
    follows = 1 if is_follow else 0
    now = timezone.now()
    if target.owner_id is None and target.qr_id is None:
        return None
    if connection.vendor == "postgresql":
        if target.owner_id is not None:
            counted = """
                INSERT INTO accounts_qrcode
                    (kind, code, name, follower_id, scan_count, follow_count, ticket, url, is_active, created_at)
                VALUES (%s, %s, %s, %s, 1, %s, '', '', true, %s)
                ON CONFLICT (kind, code) DO UPDATE
                    SET scan_count = accounts_qrcode.scan_count + 1,
                        follow_count = accounts_qrcode.follow_count + EXCLUDED.follow_count
                RETURNING id"""
            params = [QRCode.Kind.PERSONAL, target.owner_code, f"{target.owner_name}的推广码"[:100]]
            params += [target.owner_id, follows, now]
        else:
            counted = """
                UPDATE accounts_qrcode SET scan_count = scan_count + 1, follow_count = follow_count + %s
                WHERE id = %s RETURNING id"""
            params = [follows, target.qr_id]
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH q AS ({counted}) "  # noqa: S608 - constant SQL, values are parameters
                "INSERT INTO accounts_qrscan (qr_code_id, follower_id, is_follow, created_at) "
                "SELECT id, %s, %s, %s FROM q RETURNING qr_code_id",
                [*params, follower_id, is_follow, now],
            )
            return cursor.fetchone()[0]
    if target.owner_id is not None:
        qr, created = QRCode.objects.get_or_create(
            kind=QRCode.Kind.PERSONAL,
            code=target.owner_code,
            defaults={
                "follower_id": target.owner_id,
                "name": f"{target.owner_name}的推广码"[:100],
                "scan_count": 1,
                "follow_count": follows,
            },
        )
        qr_id = qr.pk
    else:
        qr_id, created = target.qr_id, False
    if not created:
        QRCode.objects.filter(pk=qr_id).update(scan_count=F("scan_count") + 1, follow_count=F("follow_count") + follows)
    QRScan.objects.create(qr_code_id=qr_id, follower_id=follower_id, is_follow=is_follow)
    return qr_id


def _write_attribution(
    follower_id: int,
    *,
    at: dt.datetime,
    source: str,
    qr_id: int | None,
    referrer_id: int | None,
    manager_id: int | None,
    store_id: int | None,
    reason: str,
) -> None:
    """Fix the attribution and write its AttributionChange row (one statement on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH f AS (
                    UPDATE accounts_follower
                    SET source = %s, source_qr_id = %s, referrer_id = %s, channel_manager_id = %s,
                        store_id = %s, attributed_at = %s
                    WHERE id = %s
                    RETURNING id
                )
                INSERT INTO accounts_attributionchange
                    (follower_id, kind, referrer_id, new_manager_id, actor_label, reason, created_at)
                SELECT id, %s, %s, %s, %s, %s, %s FROM f
                """,
                [source, qr_id, referrer_id, manager_id, store_id, at, follower_id]
                + [AttributionChange.Kind.ATTRIBUTED, referrer_id, manager_id, SYSTEM_LABEL, reason[:200]]
                + [timezone.now()],
            )
        return
    Follower.objects.filter(pk=follower_id).update(
        source=source,
        source_qr_id=qr_id,
        referrer_id=referrer_id,
        channel_manager_id=manager_id,
        store_id=store_id,
        attributed_at=at,
    )
    AttributionChange.objects.create(
        follower_id=follower_id,
        kind=AttributionChange.Kind.ATTRIBUTED,
        referrer_id=referrer_id,
        new_manager_id=manager_id,
        actor_label=SYSTEM_LABEL,
        reason=reason[:200],
    )


# --- subscription ----------------------------------------------------------------------------


def _upsert_subscribed(openid: str, at: dt.datetime) -> tuple[int, bool, bool]:
    """Create or re-subscribe the follower row, locking it; return (id, created, needs_attribution).

    On PostgreSQL one `INSERT … ON CONFLICT (openid) DO UPDATE … RETURNING` does it (the row
    stays locked until commit, so a concurrent event for the same person waits). Elsewhere
    the ORM does the same in three statements.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO accounts_follower
                    (openid, unionid, nickname, avatar_url, real_name, phone, address, is_subscribed,
                     first_subscribed_at, subscribed_at, promo_code, source, is_channel_manager,
                     created_at, updated_at)
                VALUES (%s, '', '', '', '', '', '', true, %s, %s, %s, '', false, %s, %s)
                ON CONFLICT (openid) DO UPDATE
                    SET is_subscribed = true,
                        subscribed_at = EXCLUDED.subscribed_at,
                        first_subscribed_at = COALESCE(
                            accounts_follower.first_subscribed_at, EXCLUDED.first_subscribed_at
                        ),
                        updated_at = EXCLUDED.updated_at
                RETURNING id, (xmax = 0), attributed_at IS NULL
                """,
                [openid, at, at, new_promo_code(), now, now],
            )
            follower_id, created, needs_attribution = cursor.fetchone()
            return follower_id, created, needs_attribution
    created = False
    row = Follower.objects.select_for_update().filter(openid=openid).values("id", "attributed_at").first()
    if row is None:
        try:
            with transaction.atomic():
                follower = Follower.objects.create(
                    openid=openid, is_subscribed=True, first_subscribed_at=at, subscribed_at=at
                )
            return follower.pk, True, True
        except IntegrityError:
            row = Follower.objects.select_for_update().filter(openid=openid).values("id", "attributed_at").get()
    Follower.objects.filter(pk=row["id"], first_subscribed_at__isnull=True).update(first_subscribed_at=at)
    Follower.objects.filter(pk=row["id"]).update(is_subscribed=True, subscribed_at=at, updated_at=now)
    return row["id"], created, row["attributed_at"] is None


def _would_cycle(follower_id: int, referrer_id: int) -> bool:
    """True if `follower_id` is already an ancestor of (or is) `referrer_id` in the referral tree."""
    if follower_id == referrer_id:
        return True
    with connection.cursor() as cursor:
        # A bounded recursive walk up the referrer chain (depth guard against bad legacy data).
        cursor.execute(
            """
            WITH RECURSIVE chain(id, referrer_id, depth) AS (
                SELECT id, referrer_id, 0 FROM accounts_follower WHERE id = %s
                UNION ALL
                SELECT f.id, f.referrer_id, chain.depth + 1
                FROM accounts_follower f JOIN chain ON f.id = chain.referrer_id
                WHERE chain.depth < 10000
            )
            SELECT 1 FROM chain WHERE id = %s LIMIT 1
            """,
            [referrer_id, follower_id],
        )
        return cursor.fetchone() is not None


Attribution = tuple[str, int | None, int | None, int | None, str]


def _new_follower_attribution(target: _Target | None, scene: str | None) -> Attribution:
    """(source, referrer_id, manager_id, store_id, reason) for a follower seen for the first time.

    A brand-new follower cannot have scanned his own code nor close a cycle: nobody can be
    below someone who did not exist until now.
    """
    if target is None:
        return Follower.Source.SEARCH, None, None, None, "搜索关注"
    reason = {
        Follower.Source.PERSONAL_QR: "扫描个人推广码关注",
        Follower.Source.STORE_QR: "扫描门店码关注",
        Follower.Source.CAMPAIGN_QR: "扫描活动码关注",
        Follower.Source.UNKNOWN_QR: f"扫描无法识别的二维码关注（{(scene or '')[:60]}）",
    }[target.source]
    return target.source, target.referrer_id, target.manager_id, target.store_id, reason


def _subscribe_new_follower(*, openid: str, scene: str | None, target: _Target | None, at: dt.datetime):
    """The campaign-burst hot path on PostgreSQL: a follower we have never seen.

    The row is inserted with its attribution already decided (no second version of the row,
    no second round of index updates); then one statement counts the scan, writes the QRScan
    and the AttributionChange. Returns None when the OpenID exists already (a refollow, or
    someone recorded by an earlier event): the general path handles those.
    """
    source, referrer_id, manager_id, store_id, reason = _new_follower_attribution(target, scene)
    qr_id = None
    if target is not None and target.source != Follower.Source.UNKNOWN_QR:
        qr_id = target.qr_id or _personal_qr_id(target)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_follower
                (openid, unionid, nickname, avatar_url, real_name, phone, address, is_subscribed,
                 first_subscribed_at, subscribed_at, promo_code, source, source_qr_id, referrer_id,
                 channel_manager_id, store_id, attributed_at, is_channel_manager, created_at, updated_at)
            VALUES (%s, '', '', '', '', '', '', true, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, %s, %s)
            ON CONFLICT (openid) DO NOTHING
            RETURNING id
            """,
            [openid, at, at, new_promo_code(), source, qr_id, referrer_id, manager_id, store_id, at, now, now],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        follower_id = row[0]
        change = (
            "INSERT INTO accounts_attributionchange"
            " (follower_id, kind, referrer_id, new_manager_id, actor_label, reason, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        )
        change_params = [follower_id, AttributionChange.Kind.ATTRIBUTED, referrer_id, manager_id]
        change_params += [SYSTEM_LABEL, reason[:200], now]
        if qr_id is None:
            cursor.execute(change, change_params)
        else:
            counted = (
                "WITH q AS (UPDATE accounts_qrcode SET scan_count = scan_count + 1, follow_count = follow_count + 1"
                " WHERE id = %s RETURNING id),"
                " s AS (INSERT INTO accounts_qrscan (qr_code_id, follower_id, is_follow, created_at)"
                " SELECT id, %s, true, %s FROM q) "
            )
            cursor.execute(counted + change, [qr_id, follower_id, now, *change_params])
    return SubscribeOutcome(follower_id, True, True, source, referrer_id, manager_id)


def _personal_qr_id(target: _Target) -> int:
    """The id of a personal code's QR row, creating the row (no counts yet) on its first use."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_qrcode
                (kind, code, name, follower_id, scan_count, follow_count, ticket, url, is_active, created_at)
            VALUES (%s, %s, %s, %s, 0, 0, '', '', true, %s)
            ON CONFLICT (kind, code) DO UPDATE SET kind = EXCLUDED.kind
            RETURNING id
            """,
            [QRCode.Kind.PERSONAL, target.owner_code, f"{target.owner_name}的推广码"[:100], target.owner_id]
            + [timezone.now()],
        )
        return cursor.fetchone()[0]


@transaction.atomic(savepoint=False)
def record_subscribe(*, openid: str, scene: str | None, at: dt.datetime) -> SubscribeOutcome:
    """A WeChat user followed the account, by search (`scene` None) or through a QR scene.

    Creates the follower on first sight. At the first subscription decides the attribution
    (SPEC §4.1) and writes an `AttributionChange`; later subscriptions (refollow) only flip
    the subscription state and count the scan. Never raises for a bad scene: an unusable
    scene makes the follow count as one from an unknown code.
    """
    target = _resolve_scene(scene)
    if connection.vendor == "postgresql":
        outcome = _subscribe_new_follower(openid=openid, scene=scene, target=target, at=at)
        if outcome is not None:
            return outcome
    follower_id, created, needs_attribution = _upsert_subscribed(openid, at)
    if not needs_attribution:
        # Refollow: attribution is fixed; the code still gets its scan (not a new follow).
        if target is not None:
            _count_scan(target, follower_id, is_follow=False)
        row = Follower.objects.filter(pk=follower_id).values("source", "referrer_id", "channel_manager_id").get()
        return SubscribeOutcome(
            follower_id, created, False, row["source"], row["referrer_id"], row["channel_manager_id"]
        )

    source, referrer_id, manager_id, store_id, qr_id = Follower.Source.SEARCH, None, None, None, None
    reason = "搜索关注"
    if target is not None:
        self_or_cycle = target.referrer_id is not None and (
            target.owner_id == follower_id or (not created and _would_cycle(follower_id, target.referrer_id))
        )
        if self_or_cycle:
            # Scanning one's own code (or a code down one's own referral tree) binds nothing;
            # the follow counts like a search, the scan is still recorded.
            qr_id = _count_scan(target, follower_id, is_follow=False)
            reason = "扫描自己（或下线）的推广码，不建立推荐关系"
        else:
            qr_id = _count_scan(target, follower_id, is_follow=True)
            source, referrer_id, store_id = target.source, target.referrer_id, target.store_id
            manager_id = target.manager_id if target.manager_id != follower_id else None
            reason = {
                Follower.Source.PERSONAL_QR: "扫描个人推广码关注",
                Follower.Source.STORE_QR: "扫描门店码关注",
                Follower.Source.CAMPAIGN_QR: "扫描活动码关注",
                Follower.Source.UNKNOWN_QR: f"扫描无法识别的二维码关注（{(scene or '')[:60]}）",
            }[source]
            if source == Follower.Source.UNKNOWN_QR:
                qr_id = None
    _write_attribution(
        follower_id,
        at=at,
        source=source,
        qr_id=qr_id,
        referrer_id=referrer_id,
        manager_id=manager_id,
        store_id=store_id,
        reason=reason,
    )
    return SubscribeOutcome(follower_id, created, True, source, referrer_id, manager_id)


@transaction.atomic(savepoint=False)
def record_scan(*, openid: str, scene: str | None, at: dt.datetime) -> int:
    """A follower scanned a code while already following (`SCAN`): count it, change nothing else.

    A SCAN from an OpenID we have never seen is someone who followed before the platform
    existed: he is recorded like an imported follower (no referrer). Returns the follower id.
    """
    follower_id = Follower.objects.filter(openid=openid).values_list("id", flat=True).first()
    if follower_id is None:
        follower_id = import_follower(openid=openid, subscribed_at=at, reason="扫码时发现的既有关注用户").pk
    target = _resolve_scene(scene)
    if target is not None:
        _count_scan(target, follower_id, is_follow=False)
    return follower_id


@transaction.atomic(savepoint=False)
def record_unsubscribe(*, openid: str, at: dt.datetime) -> bool:
    """The user unfollowed. Attribution stays (a refollow will not rebind). False if unknown."""
    return bool(
        Follower.objects.filter(openid=openid).update(
            is_subscribed=False, unsubscribed_at=at, updated_at=timezone.now()
        )
    )


@transaction.atomic
def import_follower(
    *,
    openid: str,
    subscribed_at: dt.datetime | None = None,
    unionid: str = "",
    nickname: str = "",
    is_subscribed: bool = True,
    reason: str = "从微信粉丝列表导入",
) -> Follower:
    """Record a follower who followed before the platform (follower sync): never a referrer.

    Idempotent: an existing follower only gets his subscription state / unionid refreshed;
    his attribution (if any) is left as it is.
    """
    now = timezone.now()
    follower, created = Follower.objects.select_for_update().get_or_create(
        openid=openid,
        defaults={
            "unionid": unionid,
            "nickname": nickname,
            "is_subscribed": is_subscribed,
            "first_subscribed_at": subscribed_at,
            "subscribed_at": subscribed_at,
            "source": Follower.Source.IMPORT,
            "attributed_at": subscribed_at or now,
        },
    )
    if created:
        AttributionChange.objects.create(
            follower=follower, kind=AttributionChange.Kind.ATTRIBUTED, actor_label="粉丝同步", reason=reason[:200]
        )
        return follower
    changed = []
    if follower.is_subscribed != is_subscribed:
        follower.is_subscribed = is_subscribed
        changed.append("is_subscribed")
    if unionid and follower.unionid != unionid:
        follower.unionid = unionid
        changed.append("unionid")
    if nickname and not follower.nickname:
        follower.nickname = nickname
        changed.append("nickname")
    if subscribed_at and follower.subscribed_at is None:
        follower.subscribed_at = subscribed_at
        changed.append("subscribed_at")
    if follower.attributed_at is None:
        # Seen before (e.g. via an H5 link) but never subscribed through us: fix it as imported.
        follower.source, follower.attributed_at = Follower.Source.IMPORT, subscribed_at or now
        changed += ["source", "attributed_at"]
        AttributionChange.objects.create(
            follower=follower, kind=AttributionChange.Kind.ATTRIBUTED, actor_label="粉丝同步", reason=reason[:200]
        )
    if changed:
        follower.save(update_fields=[*changed, "updated_at"])
    return follower


# --- staff actions ----------------------------------------------------------------------------


def _lock(follower: Follower | int) -> Follower:
    pk = follower if isinstance(follower, int) else follower.pk
    return Follower.objects.select_for_update().get(pk=pk)


def _change_manager_role(*, follower: Follower, make: bool, actor, actor_label: str, reason: str) -> bool:
    locked = _lock(follower)
    if locked.is_channel_manager == make:
        return False
    locked.is_channel_manager = make
    locked.save(update_fields=["is_channel_manager", "updated_at"])
    AttributionChange.objects.create(
        follower=locked,
        kind=AttributionChange.Kind.MANAGER_SET if make else AttributionChange.Kind.MANAGER_UNSET,
        actor=actor,
        actor_label=actor_label[:64],
        reason=reason[:200],
    )
    follower.is_channel_manager = make
    return True


@transaction.atomic
def set_channel_manager(*, follower: Follower, actor=None, actor_label: str = "", reason: str = "") -> bool:
    """Make `follower` a channel manager. Forward-looking: nobody's existing manager changes.

    Returns False (and records nothing) when he already is one.
    """
    return _change_manager_role(follower=follower, make=True, actor=actor, actor_label=actor_label, reason=reason)


@transaction.atomic
def unset_channel_manager(*, follower: Follower, actor=None, actor_label: str = "", reason: str = "") -> bool:
    """Take the manager role away. His customers keep him as their (inactive) manager until
    staff reassign or transfer them; meanwhile their notifications go to the fallback
    recipients (SPEC §4.1). Returns False when he was not a manager.
    """
    return _change_manager_role(follower=follower, make=False, actor=actor, actor_label=actor_label, reason=reason)


def _check_new_manager(follower_id: int, new_manager: Follower | None) -> None:
    if new_manager is None:
        return
    if not new_manager.is_channel_manager:
        raise AttributionError(f"{new_manager.display_name} 不是渠道经理")
    if new_manager.pk == follower_id:
        raise AttributionError("不能把粉丝设为他自己的渠道经理")


@transaction.atomic
def reassign_manager(*, follower: Follower, new_manager: Follower | None, actor, reason: str) -> bool:
    """Give one follower another channel manager (or none). Returns False if nothing changed.

    Raises AttributionError when the reason is empty, the new manager is not a manager, or
    is the follower himself.
    """
    if not reason.strip():
        raise AttributionError("请填写调整原因")
    locked = _lock(follower)
    if new_manager is not None:
        new_manager = _lock(new_manager)
    _check_new_manager(locked.pk, new_manager)
    new_id = new_manager.pk if new_manager else None
    if locked.channel_manager_id == new_id:
        return False
    old_id = locked.channel_manager_id
    locked.channel_manager_id = new_id
    locked.save(update_fields=["channel_manager", "updated_at"])
    AttributionChange.objects.create(
        follower=locked,
        kind=AttributionChange.Kind.REASSIGNED,
        old_manager_id=old_id,
        new_manager_id=new_id,
        actor=actor,
        reason=reason.strip()[:200],
    )
    follower.channel_manager_id = new_id
    return True


@transaction.atomic
def transfer_customers(*, from_manager: Follower, to_manager: Follower, actor, reason: str) -> int:
    """Move every customer of `from_manager` to `to_manager` (staff turnover); return how many.

    One AttributionChange per moved customer. `to_manager` himself, if he was a customer of
    `from_manager`, keeps his old manager (nobody manages himself). Raises AttributionError
    when the reason is empty, both are the same person, or `to_manager` is not a manager.
    """
    if not reason.strip():
        raise AttributionError("请填写移交原因")
    if from_manager.pk == to_manager.pk:
        raise AttributionError("移出与接收的渠道经理不能是同一人")
    to_manager = _lock(to_manager)
    if not to_manager.is_channel_manager:
        raise AttributionError(f"{to_manager.display_name} 不是渠道经理")
    ids = list(
        Follower.objects.select_for_update()
        .filter(channel_manager_id=from_manager.pk)
        .exclude(pk=to_manager.pk)
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    Follower.objects.filter(pk__in=ids).update(channel_manager_id=to_manager.pk, updated_at=timezone.now())
    AttributionChange.objects.bulk_create(
        [
            AttributionChange(
                follower_id=pk,
                kind=AttributionChange.Kind.TRANSFERRED,
                old_manager_id=from_manager.pk,
                new_manager_id=to_manager.pk,
                actor=actor,
                reason=reason.strip()[:200],
            )
            for pk in ids
        ],
        batch_size=1000,
    )
    return len(ids)


# --- org units and codes (back office / demo) -------------------------------------------------


@transaction.atomic
def ensure_org_unit(*, kind: str, code: str, name: str, parent: OrgUnit | None = None) -> OrgUnit:
    """Idempotent: the org unit with this code, created if missing."""
    unit, _ = OrgUnit.objects.get_or_create(code=code, defaults={"kind": kind, "name": name, "parent": parent})
    return unit


@transaction.atomic
def ensure_qr_code(
    *, kind: str, code: str, name: str, org_unit: OrgUnit | None = None, channel_manager: Follower | None = None
) -> QRCode:
    """Idempotent: a store or campaign code (personal codes come from `personal_qr`)."""
    if kind == QRCode.Kind.PERSONAL:
        raise AttributionError("个人推广码随粉丝自动生成")
    qr, _ = QRCode.objects.get_or_create(
        kind=kind, code=code, defaults={"name": name, "org_unit": org_unit, "channel_manager": channel_manager}
    )
    return qr


@transaction.atomic
def update_profile(
    *, follower: Follower, nickname: str | None = None, real_name: str | None = None, phone: str | None = None
) -> Follower:
    """Profile fields a follower fills in (H5 forms) or staff correct; never attribution."""
    changed = []
    for name, value in (("nickname", nickname), ("real_name", real_name), ("phone", phone)):
        if value is not None and getattr(follower, name) != value:
            setattr(follower, name, value)
            changed.append(name)
    if changed:
        follower.save(update_fields=[*changed, "updated_at"])
    return follower


@transaction.atomic
def assign_org_unit(*, follower: Follower, org_unit: OrgUnit | None) -> bool:
    """Put a manager or store staff member into a grid/store (staff scoping, rankings)."""
    if follower.org_unit_id == (org_unit.pk if org_unit else None):
        return False
    follower.org_unit = org_unit
    follower.save(update_fields=["org_unit", "updated_at"])
    return True
