"""Where the benchmarks run: a database and Redis db of their own, production settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
DB_NAME = os.environ.get("BENCH_DB", "pan_channel_bench")
PG_DSN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = f"{PG_DSN}/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
WECHAT_TOKEN = "bench-token"


def server_env(**extra) -> dict[str, str]:
    """Production-like settings: DEBUG off, PostgreSQL, Redis, persistent connections."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="pan_channel.settings",
        DEBUG="0",
        SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CONN_MAX_AGE="600",
        WECHAT_TOKEN=WECHAT_TOKEN,
        WECHAT_AES_KEY="",
        BENCH_ENDPOINTS="1",
        LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(*args: str, env: dict | None = None, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env or server_env(),
        check=True,
        capture_output=capture,
        text=True,
    )


def psql(sql: str, db: str = DB_NAME) -> str:
    import psycopg2

    conn = psycopg2.connect(f"{PG_DSN}/{db}")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def fresh_database() -> None:
    """Drop and recreate the benchmark database, then migrate it."""
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)', db="postgres")
    psql(f'CREATE DATABASE "{DB_NAME}"', db="postgres")
    manage("migrate", "--noinput", "-v0")
