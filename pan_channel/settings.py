"""Settings for the Pan-Channel Platform.

Everything comes from the environment (12-factor). The defaults give the embedded
mode that `make run` starts: SQLite, in-memory cache, Celery tasks in-process and the
built-in WeChat sandbox. Production sets DATABASE_URL, REDIS_URL and the WeChat
credentials (see `.env.example`).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "0") -> bool:
    """Read a boolean; reject anything that is not clearly yes or no, so typos fail loudly."""
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "0")
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG and not envbool("ALLOW_INSECURE_SECRET", "1"):
        raise ImproperlyConfigured("SECRET_KEY is required in production")
    SECRET_KEY = "insecure-local-only-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Absolute base URL of this site, used in links sent through WeChat (template messages,
# OAuth redirect URIs, QR posters).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "backoffice.apps.BackofficeConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "accounts.apps.AccountsConfig",
    "wechat.apps.WechatConfig",
    "bookings.apps.BookingsConfig",
    "redpackets.apps.RedpacketsConfig",
    "shop.apps.ShopConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pan_channel.urls"
WSGI_APPLICATION = "pan_channel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["backoffice.templatetags.money"],
        },
    }
]

# Database: SQLite by default, PostgreSQL (or anything dj-database-url knows) with DATABASE_URL.
# Persistent connections matter on the callback hot path: a new PostgreSQL connection per
# request costs more than the whole callback.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "pc"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# Celery: Redis broker in production; without REDIS_URL tasks run in-process (eagerly).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "0" if REDIS_URL else "1")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
# A task reserved by a worker that dies comes back to the queue after this many seconds
# (acks_late). It must exceed the longest retry countdown (10 minutes, wechat.tasks).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 900)}
# Periodic work for `celery beat`.
CELERY_BEAT_SCHEDULE = {
    # Payouts still owed (a pending answer, a lost task): re-query / resend with the same bill number.
    "redpackets-recheck-payouts": {"task": "redpackets.tasks.recheck_payouts", "schedule": 300.0},
    # Outbound messages a killed worker left in `sending` (or whose task was lost): resend them.
    "wechat-recover-outbound": {"task": "wechat.tasks.recover_outbound", "schedule": 30.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Private uploads (booking photos) are never served as static files; views check access.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT", BASE_DIR / "var" / "exports"))
# Back-office exports larger than this run as background jobs with progress.
EXPORT_INLINE_LIMIT = envint("EXPORT_INLINE_LIMIT", 20_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or envbool("WHITENOISE_USE_FINDERS", "1")

LOGIN_URL = "/admin/login/"
# `make bench` only: exposes /bench/noop, the reference the benchmarks measure against.
BENCH_ENDPOINTS = envbool("BENCH_ENDPOINTS", "0")

# --- WeChat -----------------------------------------------------------------------------
WECHAT_SANDBOX = envbool("WECHAT_SANDBOX", "1")
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "wxsandbox0000000001")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "sandbox-secret")
WECHAT_TOKEN = os.environ.get("WECHAT_TOKEN", "sandbox-token")
# 43 characters when set: safe (AES) mode. Empty: plaintext mode.
WECHAT_AES_KEY = os.environ.get("WECHAT_AES_KEY", "")
# Where the gateway sends API calls. In sandbox mode this is our own /sandbox/ imitation.
WECHAT_SANDBOX_BASE_URL = os.environ.get("WECHAT_SANDBOX_BASE_URL", SITE_URL).rstrip("/")
# Outbound rate per WeChat quota (messages per second, per process pool).
WECHAT_SEND_RATE = os.environ.get("WECHAT_SEND_RATE", "50/s")
# The sandbox's imitation of WeChat's send limit (45011 beyond it); empty = unlimited.
WECHAT_SANDBOX_SEND_LIMIT = os.environ.get("WECHAT_SANDBOX_SEND_LIMIT", "")
# Seconds before a WeChat API call is abandoned (and retried later by the send task).
WECHAT_HTTP_TIMEOUT = envint("WECHAT_HTTP_TIMEOUT", 10)
WECHAT_TEMPLATE_BOOKING_NEW = os.environ.get("WECHAT_TEMPLATE_BOOKING_NEW", "tpl_booking_new")
WECHAT_TEMPLATE_BOOKING_STATUS = os.environ.get("WECHAT_TEMPLATE_BOOKING_STATUS", "tpl_booking_status")

# --- Payouts ----------------------------------------------------------------------------
PAYOUT_PROVIDER = os.environ.get("PAYOUT_PROVIDER", "sandbox")
if PAYOUT_PROVIDER not in ("sandbox", "manual", "wechatpay"):
    raise ImproperlyConfigured("PAYOUT_PROVIDER must be sandbox, manual or wechatpay")
WECHATPAY_MCH_ID = os.environ.get("WECHATPAY_MCH_ID", "")
WECHATPAY_API_KEY = os.environ.get("WECHATPAY_API_KEY", "")
WECHATPAY_CERT_PATH = os.environ.get("WECHATPAY_CERT_PATH", "")
WECHATPAY_KEY_PATH = os.environ.get("WECHATPAY_KEY_PATH", "")
# Seconds to wait for WeChat Pay; an unanswered payout stays pending and is re-queried.
WECHATPAY_TIMEOUT = envint("WECHATPAY_TIMEOUT", 10)
# Our server's IP as WeChat Pay wants it (client_ip); given so wechatpy does not look it up.
WECHATPAY_CLIENT_IP = os.environ.get("WECHATPAY_CLIENT_IP", "127.0.0.1")

# --- Uploads ----------------------------------------------------------------------------
BOOKING_PHOTO_MAX_BYTES = envint("BOOKING_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
BOOKING_PHOTO_MAX_COUNT = envint("BOOKING_PHOTO_MAX_COUNT", 6)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG and SITE_URL.startswith("https://"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
