"""Settings for the test suite: PostgreSQL and Redis on localhost, as in production.

Each value can still be overridden from the environment (e.g. a different database
name so that two suites can run side by side).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pan_channel")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("WECHAT_SANDBOX", "1")
os.environ.setdefault("CACHE_KEY_PREFIX", "pctest")
# The live server answers each request in a new thread; persistent connections would outlive
# those threads and keep the test database busy at teardown.
os.environ.setdefault("CONN_MAX_AGE", "0")
# Playwright's sync API runs an event loop in the test thread; the ORM calls around it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / "test-private"  # noqa: F405
EXPORT_ROOT = BASE_DIR / "var" / "test-exports"  # noqa: F405
