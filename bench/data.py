"""Volume data for the benchmarks, generated inside PostgreSQL (generate_series) so a million
rows take seconds. Columns not named explicitly get the model field's default, so the
generator keeps working when models gain fields."""

from django.db import connection, models


def _insert_series(
    model: type[models.Model], n: int, exprs: dict[str, str], start: int = 1, source: str | None = None
) -> None:
    """INSERT n rows into `model`; `exprs` maps column names to SQL over the series value `g`
    (or over the rows of `source`, a FROM clause, when given)."""
    columns, selects, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        columns.append(f'"{column}"')
        if column in exprs:
            selects.append(exprs[column].replace("%", "%%"))  # literal % beside %s params
        else:
            default = field.get_default()
            selects.append("%s")
            params.append(field.get_db_prep_save(default, connection))
    if source is None:
        source = f"generate_series({int(start)}, {int(start) + int(n) - 1}) AS g"
    source = source.replace("%", "%%")
    sql = f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) SELECT {", ".join(selects)} FROM {source}'

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Fresh statistics, as autovacuum would have them on a live system: without them the
        # planner guesses one row and picks plans no production database would use.
        cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def make_followers(*, prefix: str, n: int, start: int = 1, manager_sql: str = "NULL", is_manager: bool = False) -> None:
    from accounts.models import Follower

    _insert_series(
        Follower,
        n,
        {
            "openid": f"'{prefix}' || lpad(g::text, 9, '0')",
            "nickname": "'用户' || g",
            "real_name": "'客户' || g",
            "phone": "'139' || lpad(g::text, 8, '0')",
            "is_subscribed": "true",
            "first_subscribed_at": "now() - (g || ' minutes')::interval",
            "subscribed_at": "now() - (g || ' minutes')::interval",
            "promo_code": f"upper(substr(md5('{prefix}' || g), 1, 12))",
            "channel_manager_id": manager_sql,
            "is_channel_manager": "true" if is_manager else "false",
            "attributed_at": "now()",
            "created_at": "now()",
            "updated_at": "now()",
        },
        start=start,
    )


def make_catalog() -> list[int]:
    from bookings.models import Category, Package

    category, _ = Category.objects.get_or_create(name="宽带")
    ids = []
    for i, name in enumerate(["300M宽带", "1000M宽带", "5G畅享套餐", "融合套餐", "新号码办理"]):
        package, _ = Package.objects.get_or_create(
            category=category, name=name, defaults={"form_fields": ["name", "phone"], "sort_order": i}
        )
        ids.append(package.id)
    return ids


def make_bookings(
    *, n: int, customer_prefix: str, n_customers: int, manager_prefix: str, n_managers: int, number_prefix: str = "B"
) -> None:
    """n bookings spread over the customers; each customer belongs to manager (g % n_managers)."""
    from bookings.models import Booking

    package_ids = make_catalog()
    pkg_array = "ARRAY[" + ",".join(str(i) for i in package_ids) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM accounts_follower WHERE openid LIKE %s", [customer_prefix + "%"])
        first_customer = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM accounts_follower WHERE openid LIKE %s", [manager_prefix + "%"])
        first_manager = cursor.fetchone()[0]
    customer = f"({first_customer} + (g % {n_customers}))"
    _insert_series(
        Booking,
        n,
        {
            "number": f"'{number_prefix}' || lpad(g::text, 11, '0')",
            "follower_id": customer,
            "package_id": f"({pkg_array})[1 + g % {len(package_ids)}]",
            "channel_manager_id": f"({first_manager} + (({customer} - {first_customer}) % {n_managers}))",
            "name": "'客户' || (g % 10000)",
            "phone": "'139' || lpad((g % 100000000)::text, 8, '0')",
            "address": "'测试路' || (g % 500) || '号'",
            "status": "(ARRAY['pending','accepted','rejected','completed','cancelled'])[1 + g % 5]",
            "remarks": "CASE WHEN g % 97 = 0 THEN '=HYPERLINK(\"x\")' ELSE '' END",
            "submitted_at": "now() - (g || ' seconds')::interval",
            "accepted_at": "CASE WHEN g % 5 IN (1, 3) THEN now() - (g || ' seconds')::interval + interval '1 hour' END",
            "updated_at": "now()",
        },
    )


def make_grants(*, follower_prefix: str) -> None:
    """A ¥10 submit grant for every booking of these followers; a third of them claimed and paid."""
    from redpackets.models import Claim, Grant

    _insert_series(
        Grant,
        0,
        {
            "follower_id": "b.follower_id",
            "booking_id": "b.id",
            "trigger": "'submitted'",
            "amount_fen": "1000",
            "claimed_fen": "CASE WHEN b.id % 3 = 0 THEN 1000 ELSE 0 END",
            "status": "'active'",
            "created_at": "b.submitted_at",
        },
        source=(
            "bookings_booking b JOIN accounts_follower f ON f.id = b.follower_id "
            f"WHERE f.openid LIKE '{follower_prefix}%'"
        ),
    )
    _insert_series(
        Claim,
        0,
        {
            "grant_id": "gr.id",
            "follower_id": "gr.follower_id",
            "amount_fen": "1000",
            "status": "'paid'",
            "provider": "'sandbox'",
            "bill_no": "'BENCH' || lpad(gr.id::text, 20, '0')",
            "created_at": "gr.created_at",
            "updated_at": "gr.created_at",
            "paid_at": "gr.created_at",
        },
        source=(
            "redpackets_grant gr JOIN accounts_follower f ON f.id = gr.follower_id "
            f"WHERE gr.claimed_fen > 0 AND f.openid LIKE '{follower_prefix}%'"
        ),
    )
