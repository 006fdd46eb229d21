"""Settings for the real-time project.

Every value that differs between a laptop and production is read from the
environment here, in one place; the README lists each with its default.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


# Off unless asked for: debug pages and the fixed development key are for a
# laptop (`make run` sets DEBUG=1), never the default of a public server.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (DEBUG is off unless set to 1; `make run` sets it)"
        )
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "dev-insecure-only-for-local-development-change-me"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# --- HTTPS (docs/SECURITY.md) ----------------------------------------------
# Off by default so `make run` works over plain HTTP on loopback; a public
# site behind TLS sets HTTPS=true (and may tune HSTS).
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Load balancers and Prometheus talk plain HTTP to each process on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = int(env_number("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
X_FRAME_OPTIONS = "DENY"

# --- Who the client is (realtime/middleware/client_address.py) -------------------------
# Addresses or networks of the reverse proxies in front of this process
# (nginx's, in the deploy layout). Only a request whose TCP peer is one of
# them may name the client in X-Forwarded-For / X-Forwarded-Proto; for any
# other, the client is the TCP peer. Empty: nobody is trusted.
REALTIME_TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's with an ASGI one.
    "daphne",
    # The stock admin with its sign-in rate-limited (admin_site.py).
    "realtime_project.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "realtime_project",
    "realtime_project.realtime",
    "accounts",
    "feed",
    "engagement",
    "notifications",
    "trending",
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

ROOT_URLCONF = "realtime_project.urls"
ASGI_APPLICATION = "realtime_project.asgi.application"

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
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default so `make run` works on a bare machine; DATABASE_URL
# (postgres://...) switches to PostgreSQL for several processes.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # 0 under ASGI (Django's docs): each HTTP request runs in a thread of
        # its own, and a connection kept past it is left behind with the
        # thread. The streams' one database thread keeps its connection
        # (REALTIME_STREAM_DB_CONN_MAX_AGE, realtime/stream_database.py).
        conn_max_age=int(env_number("DATABASE_CONN_MAX_AGE", 0)),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Daphne runs sync views in threads: wait for the write lock instead of
        # failing with "database is locked", and take it at BEGIN so two
        # writers never deadlock upgrading a read lock.
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests on a file, not in memory: concurrent writers then wait for the
    # lock as in production, instead of failing at once ("table is locked").
    # TEST_DB_SUFFIX: a file of its own for a second test run at the same time.
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / f".test-db{os.environ.get('TEST_DB_SUFFIX', '')}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------
# Unset REDIS_URL = one process with the in-memory layer. With REDIS_URL,
# every Daphne process and every management command share channels-redis.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Redis pub/sub, not the list-based RedisChannelLayer: measured on this
    # machine it delivers 7-8x more targeted messages and broadcasts per
    # second at 2,000 receivers (docs/SCALING.md, bench/channel_layers.py).
    # What it gives up is covered elsewhere: it has no per-channel capacity
    # (Daphne's queue per client is bounded in realtime/server/limits.py), and
    # what it drops while Redis is away is recovered by resume (?since=).
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis' pub/sub layer, delivering in one pass (layers/redis_pubsub.py).
            "BACKEND": "realtime_project.realtime.layers.redis_pubsub.FanOutRedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Fail a handshake or a broadcast fast while Redis is
                        # down, rather than hold a request or a client.
                        "socket_connect_timeout": 3,
                        "socket_timeout": 10,
                        # PING an idle connection, so one Redis dropped (a
                        # restart) is noticed and replaced before it is used.
                        "health_check_interval": 10,
                    }
                ],
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            # Channels' in-memory layer without its O(N) walk per message.
            "BACKEND": "realtime_project.realtime.layers.inmemory.FanOutInMemoryChannelLayer",
            "CONFIG": {
                "capacity": 1000,
                "expiry": 60,
                # Memberships end when a connection closes (group_discard);
                # the stock one-day expiry would silently drop older ones.
                "group_expiry": 10 * 365 * 86400,
            },
        }
    }

# --- Auth, i18n, static ---------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [d for d in [BASE_DIR / "static"] if d.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' folders when collectstatic has not run (tests).
WHITENOISE_USE_FINDERS = True

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "realtime_project.api_errors.json_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "realtime_project.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["realtime_project.throttles.WriteRateThrottle"],
    # Throttles count by the client address of realtime/middleware/client_address.py,
    # never by a raw X-Forwarded-For a client may write itself.
    "NUM_PROXIES": 0,
    # 429 with Retry-After past these. Counted per process (Django's cache).
    "DEFAULT_THROTTLE_RATES": {
        "writes": os.environ.get("API_WRITE_RATE", "120/minute"),
        "credentials": os.environ.get("API_CREDENTIALS_RATE", "30/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Real-time social API",
    "DESCRIPTION": "REST actions that cause the live WebSocket events (see the README).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Real-time behaviour --------------------------------------------------
# Seconds without a typing message after which a typist is reported stopped.
REALTIME_TYPING_TIMEOUT_SECONDS = env_number("REALTIME_TYPING_TIMEOUT_SECONDS", 6)
# At most one engagement_update per tweet per this many seconds.
REALTIME_ENGAGEMENT_COALESCE_SECONDS = env_number("REALTIME_ENGAGEMENT_COALESCE_SECONDS", 1)
# Most rows a reconnecting client gets replayed (`?since=`); past it, it is told to reload.
REALTIME_REPLAY_LIMIT = int(env_number("REALTIME_REPLAY_LIMIT", 500))
# Seconds a single-use WebSocket ticket (POST /api/auth/ws-ticket/) stays valid.
REALTIME_TICKET_SECONDS = int(env_number("REALTIME_TICKET_SECONDS", 30))
# Seconds the streams' database thread reuses its connection (checked before
# each reuse): one per handshake read halved the handshake rate.
REALTIME_STREAM_DB_CONN_MAX_AGE = int(env_number("REALTIME_STREAM_DB_CONN_MAX_AGE", 60))
# The server process's garbage-collector thresholds (realtime/server/collector.py):
# with CPython's defaults (700,10,10) a server holding 10,000 connections
# paused 0.6-1 s for a full collection about every 40 s.
try:
    REALTIME_GC_THRESHOLDS = [int(n) for n in env_list("REALTIME_GC_THRESHOLDS", "10000,10,10")]
except ValueError:
    REALTIME_GC_THRESHOLDS = []
if len(REALTIME_GC_THRESHOLDS) != 3 or min(REALTIME_GC_THRESHOLDS) < 1:
    raise ImproperlyConfigured("REALTIME_GC_THRESHOLDS must be three positive integers, e.g. 10000,10,10")

# Limits (PROTOCOL.md close codes 4429 and 1009).
# Notifications and feed connections per user and process.
REALTIME_MAX_CONNECTIONS_PER_USER = int(env_number("REALTIME_MAX_CONNECTIONS_PER_USER", 20))
# Inbound messages per connection: the rate, and the burst allowed above it.
REALTIME_MESSAGES_PER_SECOND = env_number("REALTIME_MESSAGES_PER_SECOND", 10)
REALTIME_MESSAGES_BURST = int(env_number("REALTIME_MESSAGES_BURST", 20))
# Largest inbound message; clients send pings and typing flags only.
# A /ws/ connection's subscriptions (PROTOCOL.md, second round), and their
# own budget of subscribes and unsubscribes: a page subscribes to a dozen
# streams at once, and scrolling quickly through a feed subscribes to the
# counters of each tweet passing by and ends them as it leaves.
REALTIME_MAX_SUBSCRIPTIONS = int(env_number("REALTIME_MAX_SUBSCRIPTIONS", 100))
REALTIME_SUBSCRIBES_PER_SECOND = env_number("REALTIME_SUBSCRIBES_PER_SECOND", 50)
REALTIME_SUBSCRIBES_BURST = int(env_number("REALTIME_SUBSCRIBES_BURST", 200))
REALTIME_MAX_MESSAGE_BYTES = int(env_number("REALTIME_MAX_MESSAGE_BYTES", 16384))
# Typing on/off changes per connection per second (each reaches every watcher).
REALTIME_TYPING_CHANGES_PER_SECOND = env_number("REALTIME_TYPING_CHANGES_PER_SECOND", 2)
# Unsent bytes a WebSocket may hold before its client is closed with 4429 as
# too slow (Centrifugo's default client queue is 1 MB too); the kernel's send
# buffer is fixed to a quarter of it (realtime/server/limits.py).
REALTIME_MAX_QUEUED_BYTES = int(env_number("REALTIME_MAX_QUEUED_BYTES", 1024 * 1024))

# Hostile clients (docs/SECURITY.md).
# Open WebSockets per client address and process: an office behind one NAT
# with a tab per person fits; one address holding the server's descriptors
# does not.
REALTIME_MAX_SOCKETS_PER_ADDRESS = int(env_number("REALTIME_MAX_SOCKETS_PER_ADDRESS", 256))
# WebSocket handshakes per client address and process: the rate, and the
# burst above it (a NAT'd office reconnecting after a restart).
REALTIME_HANDSHAKES_PER_SECOND = env_number("REALTIME_HANDSHAKES_PER_SECOND", 20)
REALTIME_HANDSHAKES_BURST = int(env_number("REALTIME_HANDSHAKES_BURST", 100))
# Descriptors kept free for REST, health checks, the database and Redis:
# past (limit - reserve) open WebSockets, new ones are refused with 1013.
REALTIME_DESCRIPTOR_RESERVE = int(env_number("REALTIME_DESCRIPTOR_RESERVE", 256))
# The waiting room (realtime/middleware/connection_guard.py, docs/SCALING.md):
# new WebSockets per process and second, and the burst above it; past them
# a client is told to come back (`reconnect` with `after_ms`, close 1013)
# at a slot of its own, at most the wait below away. The rate sits under
# what one process sets up for a tab subscribing to a page's streams, so
# that a reconnect storm is paced rather than collapsing; the burst lets a
# normal wave of reconnects in at once and still sets up in a few seconds.
# 0 turns it off (to measure a process's own limit with bench/).
REALTIME_ADMISSIONS_PER_SECOND = env_number("REALTIME_ADMISSIONS_PER_SECOND", 100)
REALTIME_ADMISSIONS_BURST = int(env_number("REALTIME_ADMISSIONS_BURST", 500))
REALTIME_ADMISSION_MAX_WAIT_SECONDS = env_number("REALTIME_ADMISSION_MAX_WAIT_SECONDS", 60)
# Seconds a client has to send a request's headers, from the connection (or the
# first byte of a kept-alive request): slowloris. A 408 past it.
REALTIME_HEADER_TIMEOUT_SECONDS = env_number("REALTIME_HEADER_TIMEOUT_SECONDS", 10)
# Largest request body the server takes; a larger Content-Length is a 413 at once,
# a chunked body is cut off with 413 when it grows past it.
REALTIME_MAX_REQUEST_BYTES = int(env_number("REALTIME_MAX_REQUEST_BYTES", 1024 * 1024))
# Seconds a stopping server process takes to send its WebSockets away
# (realtime/server/drain.py): their closes, and so their reconnections to the
# other processes, are spread over it, so that the survivors take a
# restarted process's clients at clients / seconds handshakes a second
# rather than all at once. 10 s: 5,000 clients land at 500 a second, and a
# rolling restart of a few processes still takes well under a minute.
# deploy/daphne@.service's TimeoutStopSec leaves room above it.
REALTIME_DRAIN_SECONDS = env_number("REALTIME_DRAIN_SECONDS", 10)
# /metrics: the networks that may read it, and/or a bearer token that may.
REALTIME_METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
REALTIME_METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
for _name, _networks in (
    ("TRUSTED_PROXIES", REALTIME_TRUSTED_PROXIES),
    ("METRICS_ALLOWED_NETWORKS", REALTIME_METRICS_ALLOWED_NETWORKS),
):
    for _network in _networks:
        try:
            ipaddress.ip_network(_network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{_name} must list IP addresses or networks (e.g. 127.0.0.1,10.0.0.0/8), got {_network!r}"
            ) from None

# Trending (docs/TRENDING.md): the window, and the size of the published list.
TRENDING_WINDOW_MINUTES = int(env_number("TRENDING_WINDOW_MINUTES", 60))
TRENDING_LIMIT = int(env_number("TRENDING_LIMIT", 10))
# Minimum support: tweets a topic needs in the window to be ranked, so one
# tweet with a burst of likes never trends.
TRENDING_MIN_TWEETS = int(env_number("TRENDING_MIN_TWEETS", 2))
# Width of a counter bucket: the window slides by this step.
TRENDING_BUCKET_SECONDS = int(env_number("TRENDING_BUCKET_SECONDS", 60))
# Counters and snapshots older than this are pruned (two windows are always kept).
TRENDING_RETENTION_HOURS = env_number("TRENDING_RETENTION_HOURS", 24)
# The periodic recompute, in each server process unless turned off (with
# REDIS_URL, `recompute_trending --loop` may run it instead): it broadcasts
# only a changed result, at most once per interval.
TRENDING_RECOMPUTE_SECONDS = env_number("TRENDING_RECOMPUTE_SECONDS", 60)
TRENDING_RECOMPUTE_IN_SERVER = env_bool("TRENDING_RECOMPUTE_IN_SERVER", True)
# Longest tweet accepted by the API.
TWEET_MAX_LENGTH = 280

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No credential in any log line at any verbosity (?token=, ?ticket=).
    "filters": {"credentials": {"()": "realtime_project.realtime.ops.log_redaction.RedactCredentials"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["credentials"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
