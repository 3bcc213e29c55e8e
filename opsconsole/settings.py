"""OpsConsole settings: every value comes from the environment through env.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from opsconsole.api.schema_settings import API_SCHEMA_SETTINGS
from opsconsole.env import (
    BASE_DIR,
    VAR_DIR,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_sources,
    env_str,
    restrict_new_files,
    secret_key,
    source_databases,
    var_path,
)
from opsconsole.logs import logging_config

# First, before anything under var/ is created: web, worker, beat and manage.py all import
# these settings, so every file they write is private (0600 files, 0700 folders by default).
UMASK = restrict_new_files()
SECRET_KEY = secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)
OPSCONSOLE_ADMIN_PASSWORD = env_str("OPSCONSOLE_ADMIN_PASSWORD", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Before rest_framework.authtoken: its `drf_create_token` command replaces DRF's, for
    # hashed keys. DRF's app stays installed only so that the migration moving its keys
    # into api_tokens can run on an older database; nothing reads its table any more.
    "apitokens",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_object_actions",
    "axes",
    "opsconsole",
    "maintenance",
    "notifications",
    "exports",
    "retention",
    "sources",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID and every log line of the request its id.
    "opsconsole.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's, the API docs' and the dashboard's static files without a CDN or a
    # separate web server, under runserver (DEBUG off) and gunicorn alike.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "maintenance.middleware.ReadOnlyShieldMiddleware",
    "opsconsole.api.middleware.NoQueryOnWritesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsconsole.urls"
WSGI_APPLICATION = "opsconsole.wsgi.application"
ASGI_APPLICATION = "opsconsole.asgi.application"
# /system paths match with and without a trailing slash themselves (and a JSON 404 catches
# the rest), so the redirect that would lose a POST body never happens there; it only turns
# /admin into /admin/.
APPEND_SLASH = True
# Admin messages (one carries a new webhook secret) stay server-side, not in a signed cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

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

# --- Database ---------------------------------------------------------------
# Measured: WAL + IMMEDIATE + a 20 s timeout avoid "database is locked" with web,
# worker and beat writing at once.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    # Health checks: a kept connection that the server closed (a restart, pg_terminate_backend)
    # is noticed and replaced at the start of the next request instead of failing it.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": var_path("db.sqlite3")}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # A file, not :memory:, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(var_path("test-db.sqlite3"))}
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # An unreachable server is an error within seconds (for /health too), not a hang for the OS's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
# The service's own databases (sources/): one alias each, never migrated (sources.router).
SOURCES = {"CONNECTIONS": env_sources(), "RELAY_SECONDS": env_float("OPSCONSOLE_SOURCE_RELAY_SECONDS", 1.0)}
DATABASES.update(source_databases(SOURCES["CONNECTIONS"]))
DATABASE_ROUTERS = ["sources.router.SourceRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# Shared between processes (the maintenance mode lives here): a file cache under var/
# locally, Redis at scale.
CACHE_URL = env_str("CACHE_URL", "")
# Bounded, so a lost Redis fails the request (and /health's check) quickly instead of hanging it.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            # OPSCONSOLE_CACHE_DIR lets another process (a test's subprocess) share it.
            "LOCATION": env_str("OPSCONSOLE_CACHE_DIR", str(VAR_DIR / "cache")),
        }
    }

# --- Auth, i18n, static -----------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise warns on every start when the folder is missing (before the first collectstatic).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "opsconsole" / "static"]
MEDIA_ROOT = VAR_DIR / "media"
# Django's default chmods every stored file to 0644: export files hold the rows of the database.
FILE_UPLOAD_PERMISSIONS = 0o666 & ~UMASK
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o777 & ~UMASK
MEDIA_URL = "media/"
LOGIN_URL = "admin:login"

# --- Admin login lockout (django-axes) ----------------------------------------------------
# After OPSCONSOLE_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused (even with the right password) for the cool-off. Attempts are rows in
# the database (every web process sees them; staff see and delete them in the admin under
# "Axes"): axes' cache handler needs atomic increments, which the local file cache lacks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("OPSCONSOLE_LOGIN_LOCKOUT", True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# A successful sign-in is in Django's own records already: no access-log row per login.
AXES_DISABLE_ACCESS_LOG = True
AXES_FAILURE_LIMIT = env_int("OPSCONSOLE_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("OPSCONSOLE_LOGIN_COOLOFF_MINUTES", 15.0))
# Username AND address: one attacker cannot lock a colleague out from elsewhere, and one
# address cannot try many passwords for one user.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsconsole.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "opsconsole.api.throttling.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]

STORAGES = {
    "default": {"BACKEND": env_str("OPSCONSOLE_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# --- HTTPS (README: "Running at scale") ---------------------------------------------------
# OPSCONSOLE_HTTPS=1 says "served over TLS behind a proxy": it turns on secure cookies and trusts
# the proxy's X-Forwarded-Proto; each can be set on its own. HSTS and the redirect are separate
# because they are hard to undo (browsers remember HSTS for its max-age).
OPSCONSOLE_HTTPS = not DEBUG and env_bool("OPSCONSOLE_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("OPSCONSOLE_SECURE_COOKIES", OPSCONSOLE_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
_PROXY_SSL_HEADER = env_str("OPSCONSOLE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if OPSCONSOLE_HTTPS else "").strip()
if _PROXY_SSL_HEADER:
    # Only behind a proxy that sets (and overwrites) this header: a client could send it otherwise.
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("OPSCONSOLE_SSL_REDIRECT", False)
# A load balancer probes /health over plain HTTP on the instance: a redirect would read as down.
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
SECURE_HSTS_SECONDS = env_int("OPSCONSOLE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("OPSCONSOLE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("OPSCONSOLE_HSTS_PRELOAD", False)

# --- Email ------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "opsconsole@localhost")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_FOLDER = Path(env_str("OPSCONSOLE_BROKER_DIR", str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Measured: in and out the SAME folder, 0.1 s polling -> ~48 ms send-to-run.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "processed_folder": str(BROKER_FOLDER / "processed"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    # kombu's transport with atomic writes and a reader that skips bad files (see the module).
    CELERY_BROKER_TRANSPORT = "opsconsole.broker_fs:Transport"
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Bounded socket waits, so a Redis that vanishes (or a half-open TCP connection) is
    # noticed within seconds and the worker reconnects, instead of blocking on a dead socket.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry_on_timeout": True,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Workers and beat never give up on the broker: an outage only delays the doorbells, the
# database holds the work (opsconsole/celery.py retries every second or two).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ACKS_LATE = True
# Task events for Flower (`celery -A opsconsole flower`) on a real broker; the embedded
# folder broker has no fanout to carry them.
CELERY_WORKER_SEND_TASK_EVENTS = not CELERY_BROKER_URL.startswith("filesystem://")
CELERY_TASK_SEND_SENT_EVENT = CELERY_WORKER_SEND_TASK_EVENTS
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "opsconsole.beat:Scheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Schedules are defined here and created once in django-celery-beat (opsconsole.beat), where staff edit them.
CELERY_BEAT_SCHEDULE = {
    "notifications-dispatch-due": {
        "task": "notifications.tasks.dispatch_due",
        "schedule": env_float("OPSCONSOLE_NOTIFY_SWEEP_SECONDS", 5.0),
        # Sweeps queued while no worker ran are worthless once the next one exists: a
        # worker coming back after an outage runs one, not a pile of thousands.
        "options": {"expire_seconds": 60},
    },
    "maintenance-expire": {
        "task": "maintenance.tasks.expire_maintenance",
        "schedule": 15.0,
    },
    "exports-recover-stale": {
        "task": "exports.tasks.recover_stale_jobs",
        "schedule": 15.0,
    },
    "exports-delete-expired-files": {
        "task": "exports.tasks.delete_expired_files",
        "schedule": 900.0,
    },
    "retention-fail-interrupted": {
        "task": "retention.tasks.fail_interrupted_runs",
        "schedule": 60.0,
    },
    "sources-relay-outbox": {
        "task": "sources.tasks.relay_outboxes",
        "schedule": SOURCES["RELAY_SECONDS"],
        "options": {"expire_seconds": 30},
    },
    "retention-purge-daily": {
        "task": "retention.tasks.purge_scheduled",
        "schedule": crontab(minute="30", hour="3"),
    },
}

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apitokens.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["opsconsole.api.permissions.IsStaffWithModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["opsconsole.api.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["opsconsole.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "opsconsole.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "opsconsole.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    # Per user, counted in the shared cache (opsconsole/api/throttling.py): every process shares the count.
    "DEFAULT_THROTTLE_CLASSES": [
        "opsconsole.api.throttling.WriteRateThrottle",
        "opsconsole.api.throttling.ReadRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "write": env_rate("OPSCONSOLE_API_THROTTLE_WRITE", "120/min"),
        "read": env_rate("OPSCONSOLE_API_THROTTLE_READ", "1200/min"),
    },
    # Proxies in front that append the client to X-Forwarded-For (0: trust REMOTE_ADDR only).
    "NUM_PROXIES": env_int("OPSCONSOLE_NUM_PROXIES", 0),
    # JSON is the only format; a `?format=` query parameter would be taken by content
    # negotiation (a 404 for `?format=csv`) instead of reaching the exports filter of that name.
    "URL_FORMAT_OVERRIDE": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = API_SCHEMA_SETTINGS  # titles and enum names, no environment: kept with the API

# --- App settings (each app reads its own dict through its conf.py accessor) -----
# /health is "degraded" when the oldest due notification has waited longer than this.
OPSCONSOLE_HEALTH_MAX_LAG_SECONDS = env_float("OPSCONSOLE_HEALTH_MAX_LAG_SECONDS", 300.0)
# /metrics asks for `Authorization: Bearer <this>` when set; open when empty.
OPSCONSOLE_METRICS_TOKEN = env_str("OPSCONSOLE_METRICS_TOKEN", "")
OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = env_bool("OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE", False)
# Refused API credentials per client address in 10 minutes before further failures get 429.
OPSCONSOLE_API_AUTH_FAILURE_LIMIT = env_int("OPSCONSOLE_API_AUTH_FAILURE_LIMIT", 30)
NOTIFICATIONS = {
    "BACKOFF_BASE": env_float("OPSCONSOLE_NOTIFY_BACKOFF_BASE", 5.0),
    "BACKOFF_MAX": env_float("OPSCONSOLE_NOTIFY_BACKOFF_MAX", 3600.0),
    "APPRISE_SCHEMES": env_list(
        "OPSCONSOLE_APPRISE_SCHEMES",
        ["mailto", "mailtos", "slack", "discord", "msteams", "pagerduty", "opsgenie", "tgram", "matrix", "ntfy"],
    ),
    "PAUSE_AFTER_FAILURES": env_int("OPSCONSOLE_NOTIFY_PAUSE_AFTER_FAILURES", 20),
    "DELIVERY_CONCURRENCY": env_int("OPSCONSOLE_NOTIFY_CONCURRENCY", 16),
    "LEASE_SECONDS": env_float("OPSCONSOLE_NOTIFY_LEASE_SECONDS", 30.0),
    "STOP_TIMEOUT": env_float("OPSCONSOLE_NOTIFY_STOP_TIMEOUT", 5.0),
    "CLAIM_BATCH_SIZE": env_int("OPSCONSOLE_NOTIFY_CLAIM_BATCH_SIZE", 256),
    "SECRET_GRACE_HOURS": env_float("OPSCONSOLE_WEBHOOK_SECRET_GRACE_HOURS", 24.0),
}
EXPORTS = {
    "ROW_CAP": env_int("OPSCONSOLE_EXPORT_ROW_CAP", 10_000_000),
    "EXPIRE_DAYS": env_int("OPSCONSOLE_EXPORT_EXPIRE_DAYS", 7),
    "STALE_SECONDS": env_float("OPSCONSOLE_EXPORT_STALE_SECONDS", 60.0),
    "CSV_ESCAPE_FORMULAS": env_bool("OPSCONSOLE_EXPORT_CSV_ESCAPE_FORMULAS", True),
}
API_TOKENS = {
    # Days a new API token is valid (empty: no expiry).
    "TTL_DAYS": env_int("OPSCONSOLE_API_TOKEN_TTL_DAYS", 0) or None,
}
RETENTION = {
    "BATCH_SIZE": env_int("OPSCONSOLE_PURGE_BATCH_SIZE", 10_000),
    "MAX_SECONDS": env_float("OPSCONSOLE_PURGE_MAX_SECONDS", 0.0),
}
MAINTENANCE = {
    "LOCAL_TTL_SECONDS": env_float("OPSCONSOLE_MAINTENANCE_LOCAL_TTL", 1.0),
}

# Text by default; LOG_FORMAT=json: one JSON object a line (ts, level, logger, message,
# request_id on request lines) from web, worker and beat alike (opsconsole/logs.py).
LOGGING = logging_config(level=env_str("LOG_LEVEL", "INFO"), log_format=env_str("LOG_FORMAT", "text").strip().lower())
