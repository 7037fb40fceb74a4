"""Marquee settings: one module, every deployment choice read from the environment.

Defaults suit a laptop (SQLite and a filesystem Celery broker under ``var/``).
With ``DEBUG`` off the secrets have no default, so a production deploy that
forgets one fails at start-up instead of running insecurely.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("MARQUEE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-key-only-for-debug")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
    )
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"With DEBUG off, {exc}") from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_celery_beat",
    "axes",
    "csp",
    "outbox",
    "accounts",
    "catalog",
    "consent",
    "activity",
    "recommendations",
    "privacy",
]

MIDDLEWARE = [
    # First: every response, even a redirect or a refusal, carries X-Request-ID,
    # and every log line of the request names it (config/logs.py).
    "config.logs.RequestIdMiddleware",
    # /healthz and /readyz answer an orchestrator's probe by IP over plain
    # HTTP, before host validation and the HTTPS redirect (config/health.py).
    "config.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: NUL, lone surrogates, bytes that are
    # not UTF-8 and over-deep JSON get a 400, never a 500 further in.
    "config.middleware.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store, private on responses to a signed-in person.
    "config.middleware.PrivateCacheMiddleware",
    "accounts.middleware.ActiveProfileMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'marquee.sqlite3'}"
    ),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Keep connections between requests: opening a PostgreSQL connection costs
# more than the queries of most pages.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a Celery worker writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # The test database is a file, not memory, so that a Celery worker started
    # by the tests (another process) can open it.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(VAR_DIR / "test_marquee.sqlite3")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache is shared by every web process: Redis in production. The default,
# memory inside each process, suits one process on a laptop only, so a system
# check (config/checks.py) refuses it when DEBUG is off.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis away answers as cache misses instead of failing every page.
    CACHES["default"]["BACKEND"] = "config.cache.DegradingRedisCache"
# Sessions are read on every page: from the cache, written through to the
# database, which serves them while the cache is away.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out account before any password check.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile_picker"
LOGOUT_REDIRECT_URL = "accounts:login"

# The proxies in front of Django (TLS terminator, load balancer) that append
# the client's address to X-Forwarded-For: the client is the N-th address from
# the right (accounts/client_ip.py). 0: Django faces the clients, REMOTE_ADDR.
# Set it to exactly the number of proxies: one too many lets a client choose
# its own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed log-ins (django-axes; the rules in accounts/lockout.py): 5 failures
# for one e-mail address from one client address lock that pair for 30
# minutes; AXES_ACCOUNT_FAILURE_LIMIT failures for the address from anywhere
# lock the address everywhere. Attempts while locked are refused uncounted,
# so the 30 minutes run from the failure that locked. A password reset
# clears every count of the address.
# Success does not wipe the count (AXES_RESET_ON_SUCCESS off): otherwise an
# attacker could log in to their own account between guesses to clear the
# count their IP address has built up against someone else's.
AXES_FAILURE_LIMIT = 5
AXES_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_USERNAME_FORM_FIELD = "username"  # what AuthenticationForm posts
AXES_USERNAME_CALLABLE = "accounts.backends.attempted_email"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"  # 429, Retry-After
AXES_RESET_ON_SUCCESS = False
# Successful log-ins are not logged (personal data we do not need), nor is a
# start-up banner on every manage.py command.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# Where privacy exports (zips) are built and kept until they expire (7 days);
# on a shared path when web and workers run on several machines.
PRIVACY_EXPORT_DIR = Path(
    env.str("PRIVACY_EXPORT_DIR", default=str(VAR_DIR / "exports"))
)

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)

# Request size limits. Marquee takes no uploads: its forms and API bodies are
# a few hundred bytes, so a body (form or JSON, files aside) over 1 MiB is
# refused with a 413 (config.middleware.HostileInputMiddleware), and more than
# 1,000 form or query fields with a 400 (the admin's bulk actions stay well
# under). A proxy in front may set a lower limit (nginx client_max_body_size).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Security headers; the HTTPS ones follow DEBUG so `check --deploy` is clean in
# production and a laptop still works over plain HTTP.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Content-Security-Policy (django-csp): scripts, styles and images from this
# site only, no inline code and no eval (base.html tells htmx so), forms post
# only here, and no page may be framed. CSP_REPORT_ONLY sends the same policy
# as Content-Security-Policy-Report-Only instead, for a rollout: browsers
# report what it would block and block nothing (in their console, and to
# CSP_REPORT_URI if set). A response that sets its own policy keeps it (the
# poster SVGs: default-src 'none').
_content_security_policy = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "report-uri": env.str("CSP_REPORT_URI", default="") or None,
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _content_security_policy
else:
    CONTENT_SECURITY_POLICY = _content_security_policy

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    # One error shape under /api/ (config/api_errors.py).
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # Signed in, and the level and profile the grant allows
    # (accounts/api_access.py: tokens, the kids gate).
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api_access.ApiAccess"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Cursor",
    # Tokens first: a request without credentials is answered 401 with
    # "WWW-Authenticate: Bearer". HTTP Basic (the account password) only
    # makes tokens: the tokens view adds it.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_access.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Clients ask for JSON; the browsable API would be a second, HTML face.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # OPTIONS answers 405: the schema describes every operation, and DRF's
    # description would present output serializers as input.
    "DEFAULT_METADATA_CLASS": None,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # Throttles of the API and of the HTML forms (accounts/throttle.py), counted
    # in the shared cache. Rating or feedback writes per profile: generous, a
    # viewer rating as fast as they can click stays under it.
    "DEFAULT_THROTTLE_RATES": {
        "profile-writes": env.str("THROTTLE_PROFILE_WRITES", default="60/min"),
        "signup-ip": env.str("THROTTLE_SIGNUP_PER_IP", default="20/hour"),
        "signup-email": env.str("THROTTLE_SIGNUP_PER_EMAIL", default="5/hour"),
        "password-reset-ip": env.str(
            "THROTTLE_PASSWORD_RESET_PER_IP", default="20/hour"
        ),
        "password-reset-email": env.str(
            "THROTTLE_PASSWORD_RESET_PER_EMAIL", default="5/hour"
        ),
        "privacy": env.str("THROTTLE_PRIVACY", default="60/min"),
        "privacy-export": env.str("THROTTLE_PRIVACY_EXPORT", default="3/day"),
        # Making access tokens (API and account page), per account and per
        # client address: a stolen password must not mint tokens by the
        # thousand.
        "token-create": env.str("THROTTLE_TOKEN_CREATE", default="20/hour"),
        "token-create-ip": env.str("THROTTLE_TOKEN_CREATE_PER_IP", default="60/hour"),
    },
    # JSON nested deeper than config.parsers.MAX_JSON_DEPTH (32), or holding a
    # NUL or a lone surrogate, is a 400 (Python's own parser would recurse
    # into a 500, or pass on text no database or response can hold).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.api_handler.ApiExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "413",
        "415",
        "429",
        "500",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marquee API",
    "DESCRIPTION": """Everything a viewer does on the site, for programs.

**Signing in.** Send a personal access token: `Authorization: Bearer mqt_…`.
Make one on the account page, or with `POST /api/v1/tokens/` signed in with
the account's e-mail and password (HTTP Basic; the only operation that takes
the password). The site's own pages use the session cookie (and its CSRF token).

**What a token may do.** Its scope and, if it has one, its profile:

| signed in with | may | acts for |
|---|---|---|
| token, scope `read` | read | its profile, or every profile |
| token, scope `read-write` | read, and write a viewer's activity | its profile, or every profile |
| token, scope `account` | also settings, exports, erasure, profiles, tokens | its profile, or every profile |
| the site's session on a grown-up profile | all of the above | every profile |
| the site's session on a kids profile | read and write | that kids profile only, until the account password is typed |

A kids profile's token cannot have the `account` scope. Every profile-scoped path
names its profile (`/profiles/{profile_id}/…`). Another account's profile or
object answers **404**; a profile the token may not act for answers **403**
`profile_not_allowed`; too small a scope **403** `scope_insufficient` or
`account_access_required`. A kids profile sees only the titles its rating
limit allows; any other title answers 404.

**Errors** share one shape, for every status:
`{"type": "validation_error"|"client_error"|"server_error",
"errors": [{"code", "detail", "attr"}]}` (`attr`: the field at fault, or null).
A 429 carries `Retry-After`.

**Lists** are cursor-paginated: `{"next", "previous", "results"}`; follow `next`
until it is null; `page_size` 1–200 (default 50).
""",
    "VERSION": "1.0.0",
    # Operation ids and tags from the path after /api/v1/ ("profiles_ratings_create").
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No deep links: Swagger UI puts each one inside its operation's button
    # (a link nested in a button, and a target smaller than 24 px: WCAG 2.2).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TokenScopeEnum": "accounts.models.AccessToken.Scope",
        "ErasureScopeEnum": "privacy.api.ERASURE_SCOPES",
        "ErasableItemKindEnum": "privacy.api.ITEM_KINDS",
        "LedgerKindEnum": "privacy.api.LEDGER_KINDS",
        "ConsentEventKindEnum": "privacy.models.ConsentEvent.Kind",
        "TitleKindEnum": "catalog.models.Title.Kind",
        "FeedbackKindEnum": "activity.models.Feedback.Kind",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums"
    ],
}
# A failed CSRF check is JSON under /api/ like every other API error.
CSRF_FAILURE_VIEW = "config.api_errors.csrf_failure"

# Celery: Redis (or any broker URL) in production; with nothing set, Kombu's
# filesystem transport under var/ so one machine needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_broker_dir = VAR_DIR / "celery" / "broker"
# The longest a training may run on a worker, in seconds (Celery's hard time
# limit; the soft one, ten minutes earlier, lets it fail and say why).
_training_time_limit = env.int("RECOMMENDER_TRAINING_TIME_LIMIT", default=4 * 3600)
# Redis hands a message its worker has not acknowledged to another worker
# after visibility_timeout; a training is acknowledged when it ends (acks_late),
# so this must outlast the longest one, or a running training starts again.
# (CELERY_VISIBILITY_TIMEOUT: shorter for a test's cluster, tests/cluster/.)
_visibility_timeout = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=_training_time_limit + 3600
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _visibility_timeout}
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # Fanout bindings (remote control, ping, inspect); Kombu's default is
        # "control" relative to the current directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
# No request waits on the broker: work goes through the outbox (recorded in the
# caller's transaction, relayed later when the broker is away), so a publish
# is tried once, and a broker that does not answer within CELERY_BROKER_TIMEOUT
# seconds counts as away (Kombu's default would retry for seconds).
_broker_timeout = env.float("CELERY_BROKER_TIMEOUT", default=0.5)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = _broker_timeout
# A worker started before its broker waits for it (and reconnects after an
# outage) with its own retry loop, not the publishers' limits below.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Kombu's Redis transport, except that a message that is not one is
    # logged and dropped instead of stopping the worker.
    CELERY_BROKER_TRANSPORT = "config.celery:RedisTransport"
    # Each worker looks for messages past their visibility timeout every
    # unacked_restore_interval x unacked_restore_throttle seconds: Kombu's
    # 10 x 10, or a quarter of a timeout shorter than 400 s. So a dead
    # worker's message is redelivered within 1.25 visibility timeouts.
    _restore_every = min(100, max(1, _visibility_timeout // 4))
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "max_retries": 0,
        "socket_connect_timeout": _broker_timeout,
        "socket_timeout": _broker_timeout,
        "unacked_restore_interval": min(10, _restore_every),
        "unacked_restore_throttle": max(1, _restore_every // 10),
    }
elif CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    # RabbitMQ (py-amqp). It redelivers an unacknowledged message only when
    # its worker's connection closes, so no visibility timeout applies there.
    # Publisher confirms: a publish returns once RabbitMQ has the message
    # (written to disk for the durable queues below), and a refusal raises
    # (the outbox keeps the row) instead of losing it silently. The outbox
    # waits at most CELERY_BROKER_TIMEOUT for the confirm; the connect and
    # handshake are bounded by CELERY_BROKER_CONNECTION_TIMEOUT.
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "max_retries": 0,
        "confirm_publish": True,
        "write_timeout": _broker_timeout,
    }
_results_dir = VAR_DIR / "celery" / "results"
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=f"file://{_results_dir}"
)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(
        parents=True, exist_ok=True
    )
# Nothing reads a task's result; a caller that does asks for it
# (``apply_async(..., ignore_result=False)``). Storing none also means a
# result backend that is away never delays a publish.
CELERY_TASK_IGNORE_RESULT = True
# JSON only: a pickled message could run code on the worker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages a worker process holds ahead. 1 suits the training queue (a
# training holds its process for minutes; a message held behind it would
# wait too); a worker serving only ``default`` (refreshes, milliseconds each)
# may take more. Countdown messages (coalescing refreshes) are held apart.
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int(
    "CELERY_WORKER_PREFETCH_MULTIPLIER", default=1
)
# Processes of each worker; default: one per core. The training worker is
# started with --concurrency 1 (Procfile.production, deploy/systemd/).
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=None)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Both queues durable and their messages persistent (Celery's defaults, held
# here): on RabbitMQ they survive a broker restart.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name, durable=True)
    for name in ("default", "training")
]
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# MovieLens copy used by tests and benchmarks (never committed).
MOVIELENS_DIR = Path(
    env.str(
        "MOVIELENS_DIR", default=str(BASE_DIR.parent / "shared" / "data" / "movielens")
    )
)

# Logs go to stderr, one line each: plain text on a laptop; with
# LOG_FORMAT=json one JSON object per line (time, level, logger, message,
# request_id, task_id) for a log collector. The request id follows a request
# into the tasks it asks for (config/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own console and e-mail handlers go: its records reach the root
    # handler above once, in the chosen format.
    "loggers": {"django": {"level": LOG_LEVEL}},
}
# With LOG_FORMAT=json the worker keeps the root handler of LOGGING (JSON
# lines with task_id and request_id) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# Recommender: the rating algorithm (svd, svdpp, nmf, baseline) and its
# Surprise parameters, the ranking model, candidates and promotion gate.
# The SVD parameters were chosen with `manage.py evaluate` on ml-latest-small.
RECOMMENDER = {
    "ALGORITHM": env.str("RECOMMENDER_ALGORITHM", default="svd"),
    "PARAMS": env.json(
        "RECOMMENDER_PARAMS",
        default={
            "n_factors": 100,
            "n_epochs": 40,
            "lr_all": 0.005,
            "reg_all": 0.08,
            "random_state": 0,
        },
    ),
    # Every training chooses EASE's lambda, the recency half-life, the
    # sequence weight, the popularity correction and the blend on a
    # validation split inside its training rows (recommendations/engine/
    # validation.py); the values below are where that search starts, and
    # what serves as they are with RECOMMENDER_VALIDATE=false.
    "VALIDATE": env.bool("RECOMMENDER_VALIDATE", default=True),
    "EASE_LAMBDA": env.float("RECOMMENDER_EASE_LAMBDA", default=500.0),
    "MIN_PROFILES": 3,
    "MAX_ITEMS": env.int("RECOMMENDER_MAX_ITEMS", default=6000),
    # Half-life, in history items, of a row's weight when ranking (0 = off).
    "RECENCY_HALF_LIFE": env.float("RECOMMENDER_RECENCY_HALF_LIFE", default=5.0),
    # Weight of the "next title" model beside EASE, and its window in rows.
    "SEQUENCE_WEIGHT": env.float("RECOMMENDER_SEQUENCE_WEIGHT", default=0.5),
    "SEQUENCE_WINDOW": 20,
    # Ranking columns scaled by popularity ** -beta; validation takes the
    # largest beta that costs at most POPULARITY_TOLERANCE of NDCG@10.
    "POPULARITY_BETA": env.float("RECOMMENDER_POPULARITY_BETA", default=0.0),
    "POPULARITY_TOLERANCE": env.float("RECOMMENDER_POPULARITY_TOLERANCE", default=0.02),
    # Weight of the predicted rating in the row order (EASE carries the rest).
    "BLEND": env.float("RECOMMENDER_BLEND", default=0.0),
    "FOLD_IN_REG": 1.0,
    "CANDIDATES": 300,
    "SHARD_SIZE": env.int("RECOMMENDER_SHARD_SIZE", default=500),
    # A candidate whose NDCG@10 falls, or RMSE rises, by more than this
    # fraction against the active version is refused promotion.
    "PROMOTION_TOLERANCE": env.float("RECOMMENDER_PROMOTION_TOLERANCE", default=0.02),
    "RETRAIN_AFTER_SIGNALS": env.int("RECOMMENDER_RETRAIN_AFTER_SIGNALS", default=1000),
    "TRAINING_TIME_LIMIT_S": _training_time_limit,
    "TRAINING_SOFT_TIME_LIMIT_S": _training_time_limit - 600,
    # SQLite: a training's heartbeat renews its lease every sixth of this; a
    # training silent this long is taken for dead (PostgreSQL: an advisory
    # lock, freed when the training's process dies).
    "TRAINING_LEASE_SECONDS": env.int("RECOMMENDER_TRAINING_LEASE_SECONDS", default=30),
    # Where model files live (recommendations/services/artifact_store.py):
    # "file" keeps them in ARTIFACT_DIR (a shared mount when web and workers
    # run on several machines); "database" keeps them in the database, and
    # each machine downloads a version once into ARTIFACT_CACHE_DIR.
    "ARTIFACT_STORE": env.str("RECOMMENDER_ARTIFACT_STORE", default="file"),
    "ARTIFACT_DIR": Path(
        env.str("RECOMMENDER_ARTIFACT_DIR", default=str(VAR_DIR / "models"))
    ),
    "ARTIFACT_CACHE_DIR": Path(
        env.str("RECOMMENDER_ARTIFACT_CACHE_DIR", default=str(VAR_DIR / "model-cache"))
    ),
}
# Recommendation health (recommendations/services/health.py): a snapshot hourly
# and after each promotion. A retrain whose snapshot shows coverage fallen by
# more than COVERAGE_TOLERANCE (a fraction of it) or popularity amplification
# risen by more than AMPLIFICATION_TOLERANCE (percentile points), or a p95 lag
# from a signal to refreshed candidates over MAX_LAG_SECONDS, raises an alert:
# a red line on the page, mail to ADMINS and an ERROR log. GATE on: promotion
# refuses a version whose offline figures cross the same guardrails. The whole
# page is built for PAGE_SAMPLE profiles; Top picks read for PROFILE_SAMPLE.
RECOMMENDER_HEALTH = {
    "COVERAGE_TOLERANCE": env.float(
        "RECOMMENDER_HEALTH_COVERAGE_TOLERANCE", default=0.10
    ),
    "AMPLIFICATION_TOLERANCE": env.float(
        "RECOMMENDER_HEALTH_AMPLIFICATION_TOLERANCE", default=5.0
    ),
    "MAX_LAG_SECONDS": env.int("RECOMMENDER_HEALTH_MAX_LAG_SECONDS", default=900),
    "GATE": env.bool("RECOMMENDER_HEALTH_GATE", default=False),
    "PAGE_SAMPLE": env.int("RECOMMENDER_HEALTH_PAGE_SAMPLE", default=100),
    "PROFILE_SAMPLE": env.int("RECOMMENDER_HEALTH_PROFILE_SAMPLE", default=5000),
}
# Who gets the site's alerts by mail (mail_admins): comma-separated addresses.
ADMINS = [("", address) for address in env.list("ADMINS", default=[])]
SERVER_EMAIL = env.str("SERVER_EMAIL", default="root@localhost")

# Today's weather for viewers who turn it on (recommendations/services/weather.py):
# "" (default) never calls out; "open-meteo" asks Open-Meteo (no key) about a
# region's coarse centre. The timeout is capped at 2 s; a failure means no weather.
WEATHER_PROVIDER = env.str("WEATHER_PROVIDER", default="")
if WEATHER_PROVIDER not in ("", "open-meteo"):
    raise ImproperlyConfigured(
        f"WEATHER_PROVIDER must be empty or 'open-meteo', not {WEATHER_PROVIDER!r}."
    )
WEATHER_PROVIDER_URL = env.str(
    "WEATHER_PROVIDER_URL", default="https://api.open-meteo.com/v1/forecast"
)
WEATHER_PROVIDER_TIMEOUT = min(env.float("WEATHER_PROVIDER_TIMEOUT", default=2.0), 2.0)
# Impressions (activity.models.Impression): a play or a new rating of a title
# within this many hours of a card showing it marks that card as taken; every
# impression is deleted after IMPRESSION_RETENTION_DAYS by a daily task (the
# viewer's own shorter retention window still applies).
IMPRESSION_ATTRIBUTION_HOURS = env.int("IMPRESSION_ATTRIBUTION_HOURS", default=24)
IMPRESSION_RETENTION_DAYS = env.int("IMPRESSION_RETENTION_DAYS", default=90)
if RECOMMENDER["ARTIFACT_STORE"] not in ("file", "database"):
    raise ImproperlyConfigured(
        "RECOMMENDER_ARTIFACT_STORE must be 'file' or 'database', not "
        f"{RECOMMENDER['ARTIFACT_STORE']!r}."
    )

CELERY_BEAT_SCHEDULE = {
    "nightly-retrain": {
        "task": "recommendations.tasks.train_model",
        "schedule": crontab(hour=3, minute=0),
    },
    "retrain-when-enough-new-signals": {
        "task": "recommendations.tasks.retrain_if_needed",
        "schedule": 15 * 60,
    },
    "refresh-trending": {
        "task": "recommendations.tasks.refresh_trending",
        "schedule": 30 * 60,
    },
    # Offline comparisons whose message or worker was lost are sent again
    # (recommendations/services/comparison.py); the row is the truth.
    "comparisons-resend": {
        "task": "recommendations.tasks.comparisons_resend",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "recommendation-health": {
        "task": "recommendations.tasks.health_snapshot",
        "schedule": crontab(minute=5),
    },
    "retention-purge": {
        "task": "privacy.tasks.retention_purge",
        "schedule": crontab(hour=4, minute=0),
    },
    "impressions-prune": {
        "task": "privacy.tasks.impressions_prune",
        "schedule": crontab(hour=4, minute=30),
    },
    "exports-expire": {
        "task": "privacy.tasks.exports_expire",
        "schedule": 60 * 60,
    },
    # Sends the outbox's work the broker missed (see outbox/services.py). A
    # run not started within its interval is dropped: the next one does it.
    "outbox-relay": {
        "task": "outbox.tasks.outbox_relay",
        "schedule": 15,
        "options": {"expires": 14},
    },
}
