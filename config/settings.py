"""Qiyue settings: one module, read from the environment.

Every variable is documented in README.md ("Configuration") and docs/configuration.md.
Defaults run out of the box: SQLite and keys under ./var, console e-mail, zh-Hans UI.
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


QIYUE_ENV = env("QIYUE_ENV", "development")
PRODUCTION = QIYUE_ENV == "production"
DATA_DIR = Path(env("QIYUE_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def secret_from_file(filename: str, nbytes: int = 50) -> str:
    """Read a secret kept in the data directory, creating it (mode 0600) on first use. Processes that
    start together on a new data directory (a server and its worker) agree on one value: it is written
    to a temporary file and linked into place, which only the first of them can do."""
    path = DATA_DIR / filename
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=DATA_DIR, prefix=f".{filename}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(nbytes))
            with contextlib.suppress(FileExistsError):  # another process was first: take its value
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


SECRET_KEY = env("QIYUE_SECRET_KEY") or env("SECRET_KEY") or secret_from_file("secret_key")
# Key for the audit log's HMAC chain: kept outside the database on purpose.
QIYUE_AUDIT_KEY = env("QIYUE_AUDIT_KEY") or secret_from_file("audit_key", 32)
# Checkpoints of the audit chain (its last seq and mac), signed with Ed25519 and written outside the
# database, so that removing the newest events shows (`qiyue audit verify --checkpoint`). The signing
# key is derived from this secret; auditors verify with the public key (`qiyue audit public-key`).
QIYUE_AUDIT_CHECKPOINT_KEY = env("QIYUE_AUDIT_CHECKPOINT_KEY") or secret_from_file("audit_checkpoint_key", 32)
# Where checkpoints go (any of them; none configured: `qiyue check --deploy` warns). A file, appended as
# JSON lines: an absolute path outside QIYUE_DATA_DIR (a system check refuses one inside it).
QIYUE_AUDIT_CHECKPOINT_FILE = env("QIYUE_AUDIT_CHECKPOINT_FILE").strip()
# "1": a line on the logger "qiyue.audit.checkpoint" (standard error, so journald under systemd); a
# socket path (/dev/log) or host:port (UDP) also sends it there with a syslog handler.
_CHECKPOINT_SYSLOG = env("QIYUE_AUDIT_CHECKPOINT_SYSLOG").strip()
QIYUE_AUDIT_CHECKPOINT_SYSLOG = _CHECKPOINT_SYSLOG.lower() not in {"", "0", "false", "no", "off"}
QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS = (
    "" if _CHECKPOINT_SYSLOG.lower() in {"", "0", "false", "no", "off", "1", "true", "yes", "on"} else _CHECKPOINT_SYSLOG)
# E-mail addresses (comma-separated) that receive every checkpoint, e.g. the auditors'.
QIYUE_AUDIT_CHECKPOINT_EMAIL = env_list("QIYUE_AUDIT_CHECKPOINT_EMAIL")
# Minutes between two periodic checkpoints (the worker writes one only when the log grew).
QIYUE_AUDIT_CHECKPOINT_MINUTES = max(1, int(env("QIYUE_AUDIT_CHECKPOINT_MINUTES", "60")))

DEBUG = env_bool("QIYUE_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("QIYUE_ALLOWED_HOSTS", "127.0.0.1,localhost" + ("" if PRODUCTION else ",testserver"))
CSRF_TRUSTED_ORIGINS = env_list("QIYUE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "qiyue.core",
    "qiyue.accounts",
    "qiyue.audit",
    "qiyue.notifications",
    "qiyue.customers",
    "qiyue.contracts",
    "qiyue.reports",
    "qiyue.documents",
    "qiyue.search",
    "qiyue.archive",
    "qiyue.workflow",
    "qiyue.finance",
    "qiyue.reminders",
    "qiyue.ops",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "qiyue.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qiyue.core.middleware.SessionTimeoutMiddleware",
    "qiyue.audit.security.DenialAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Which device verified this session; then the gate for sessions still owing their second step.
    "django_otp.middleware.OTPMiddleware",
    "qiyue.accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Form widgets render through TEMPLATES, so qiyue/templates/django/forms/ can replace Django's
# per-option includes with one loop (a select of a hundred users rendered a template per option).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# The empty choice of a list filter says what it means: any value ("---------" by default).
FILTERS_EMPTY_CHOICE_LABEL = pgettext_lazy("list filter", "Any")
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qiyue" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qiyue.ops.context_processors.navigation",
                "qiyue.notifications.context_processors.unread",
                "qiyue.workflow.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'qiyue.sqlite3'}",
        conn_max_age=int(env("QIYUE_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue instead of failing with "database is locked" mid-transaction. Connections
    # persist (CONN_MAX_AGE, as on PostgreSQL) because SQLite's page cache lives in the connection:
    # a connection per request starts every page cold. Each connection (one per server thread) keeps a
    # private page cache of QIYUE_SQLITE_CACHE_MB and maps up to QIYUE_SQLITE_MMAP_MB of the file: the
    # pages a thread maps count in the process's resident memory once per thread, so the map is what
    # sizes the server's RSS at a million contracts (docs/benchmarks.md, "Server memory").
    _SQLITE_CACHE_KB = int(env("QIYUE_SQLITE_CACHE_MB", "64")) * 1024
    _SQLITE_MMAP_BYTES = int(env("QIYUE_SQLITE_MMAP_MB", "0")) * 1024 * 1024
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                        f"PRAGMA cache_size=-{_SQLITE_CACHE_KB}; PRAGMA mmap_size={_SQLITE_MMAP_BYTES}; "
                        "PRAGMA temp_store=MEMORY;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES["default"]["TEST"] = {"NAME": env("QIYUE_TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login lockout (django-axes): after N failures for one username from one address, wait.
AXES_FAILURE_LIMIT = int(env("QIYUE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("QIYUE_LOGIN_COOLOFF_HOURS", "0.25"))
# Failures count per account, from whatever addresses they come: guesses spread over many addresses
# lock the account too. Not per address alone, so one user's typos never lock out colleagues behind
# the same office NAT.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# A wrong code at the second sign-in step counts as a failed log-in too; the codes tried stay out of
# axes' failure log.
AXES_SENSITIVE_PARAMETERS = ["code"]

# Two-factor sign-in (TOTP through django-otp; recovery codes as django-otp static tokens).
# Users of these roles must set it up right after their password (comma list, e.g. "admin,legal");
# anyone else may turn it on for themselves.
QIYUE_2FA_REQUIRED_ROLES = env_list("QIYUE_2FA_REQUIRED_ROLES")
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env("QIYUE_2FA_ISSUER", "Qiyue").strip() or "Qiyue"
# Wrong codes wait 1, 2, 4, 8 … seconds before the next try (per device, kept in the database).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Between the password and the code: how long the half-finished log-in waits for the code.
QIYUE_2FA_PENDING_SECONDS = 600

# Security events in the audit log (denied requests, failed sign-ins, lockouts; see qiyue.audit.security):
# at most this many of one sort per source (user, or client address) per minute are written one by one,
# and at most the second number over all sources; the rest are counted into one summary event.
# Counted in Django's cache: with the default local-memory cache, per server process.
QIYUE_SECURITY_EVENTS_PER_MINUTE = int(env("QIYUE_SECURITY_EVENTS_PER_MINUTE", "20"))
QIYUE_SECURITY_EVENTS_PER_MINUTE_TOTAL = int(env("QIYUE_SECURITY_EVENTS_PER_MINUTE_TOTAL", "300"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "qiyue" / "locale"]
FORMAT_MODULE_PATH = ["qiyue.formats"]
TIME_ZONE = env("QIYUE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "qiyue" / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Contract files (always encrypted before they reach storage). QIYUE_STORAGE=s3 selects any
# S3-compatible store through django-storages; see docs/configuration.md.
if env("QIYUE_STORAGE", "local") == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("QIYUE_S3_BUCKET"),
            "endpoint_url": env("QIYUE_S3_ENDPOINT_URL") or None,
            "region_name": env("QIYUE_S3_REGION") or None,
            "access_key": env("QIYUE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("QIYUE_S3_SECRET_ACCESS_KEY") or None,
            "location": env("QIYUE_S3_PREFIX", "qiyue"),
            "default_acl": None,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": str(DATA_DIR / "files"), "directory_permissions_mode": 0o700,
                                   "file_permissions_mode": 0o600}}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads: a hard limit enforced while the request streams in (see qiyue.documents.uploads).
QIYUE_MAX_UPLOAD_MB = int(env("QIYUE_MAX_UPLOAD_MB", "50"))
# The most pixels an image may have (each frame of a TIFF, each image shown on a PDF page): a larger
# one is refused at upload (image_too_large) and never decoded by extraction, OCR or previews.
QIYUE_MAX_IMAGE_PIXELS = max(1, int(env("QIYUE_MAX_IMAGE_PIXELS", "50000000")))
# No plaintext of an upload touches the disk (see qiyue.vault.uploadhandlers): a request's files
# stay in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE together; beyond that each file streams into a
# temporary file in FILE_UPLOAD_TEMP_DIR encrypted under a key held only in memory.
FILE_UPLOAD_HANDLERS = ["qiyue.vault.uploadhandlers.EncryptedUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440  # 2.5 MB, Django's default
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
(DATA_DIR / "tmp").mkdir(mode=0o700, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600
# Encryption at rest (qiyue.vault.keys): the master key that wraps new data keys, base64 of 32 bytes
# (empty: key files in DATA_DIR/keys/), and older keys still needed during a rotation.
QIYUE_MASTER_KEY = env("QIYUE_MASTER_KEY").strip()
QIYUE_OLD_MASTER_KEYS = env_list("QIYUE_OLD_MASTER_KEYS")

# Background tasks (text extraction, OCR, indexing): a database queue worked by `qiyue worker`.
TASKS = {"default": {"BACKEND": env("QIYUE_TASK_BACKEND", "django_tasks_db.backend.DatabaseBackend")}}
# Wall-clock seconds (at least 1) the text extraction of one file may take.
QIYUE_EXTRACTION_TIME_LIMIT = max(1, int(env("QIYUE_EXTRACTION_TIME_LIMIT", "1800")))
# Memory (MB) the text extraction of one file may take beyond what the worker holds already: it runs in
# a child process under this address-space limit (0: in the worker itself, no limit).
QIYUE_TASK_MEMORY_MB = max(0, int(env("QIYUE_TASK_MEMORY_MB", "1024")))

EMAIL_BACKEND = env("QIYUE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("QIYUE_DEFAULT_FROM_EMAIL", "qiyue@localhost")
# SMTP, with QIYUE_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend (docs/configuration.md).
EMAIL_HOST = env("QIYUE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("QIYUE_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("QIYUE_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("QIYUE_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("QIYUE_EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("QIYUE_EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(env("QIYUE_EMAIL_TIMEOUT", "30"))
# The address users reach Qiyue at: the links in e-mails start with it.
QIYUE_BASE_URL = env("QIYUE_BASE_URL", "http://127.0.0.1:8000")
# Daily digest e-mails go out from this hour (0-23, in TIME_ZONE) on.
QIYUE_DIGEST_HOUR = min(max(int(env("QIYUE_DIGEST_HOUR", "8")), 0), 23)
# The time zone calendar feeds give their entries in, unless a user picks another.
QIYUE_CALENDAR_TIME_ZONE = env("QIYUE_CALENDAR_TIME_ZONE", "Asia/Shanghai")

# Contract numbers: {year}, {month}, {seq} (with a format spec such as {seq:05d}).
QIYUE_CONTRACT_NUMBER_PATTERN = env("QIYUE_CONTRACT_NUMBER_PATTERN", "HT-{year}-{seq:05d}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "qiyue.core.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "qiyue.core.api_schema.IntegratorSchema",
    "EXCEPTION_HANDLER": "qiyue.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "COERCE_DECIMAL_TO_STRING": True,
}
# Serve the OpenAPI schema (/api/schema/) and the docs page (/api/docs/) to anonymous visitors too.
QIYUE_PUBLIC_API_DOCS = env_bool("QIYUE_PUBLIC_API_DOCS", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Qiyue API",
    "DESCRIPTION": "Customer contract management: customers, contracts, lifecycle, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs page: signed-in users only, unless QIYUE_PUBLIC_API_DOCS publishes them.
    "SERVE_PERMISSIONS": ["qiyue.core.api.ApiDocsAccess"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "qiyue.core.api_docs.document_error_responses"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # No validator badge: it would load an image from a third-party host (and CSP blocks it).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "DocumentKindEnum": "qiyue.documents.models.DocumentKind",
        "AuditEventKindEnum": "qiyue.audit.models.AuditEvent.Kind",
        "AuditEventOutcomeEnum": "qiyue.audit.models.AuditEvent.Outcome",
        "InvoiceKindEnum": "qiyue.finance.models.InvoiceKind.values",
        "IssueKindEnum": "qiyue.finance.models.IssueKind.values",
        "CreditLevelEnum": "qiyue.customers.credit.LEVELS",
        "LevelEnum": "qiyue.customers.models.CustomerLevel",
        "RoleEnum": "qiyue.core.roles.Role",
    },
}

# Security headers. CSP: scripts and styles only from this server.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # No inline styles: a style attribute or <style> element injected into a page cannot restyle it
        # (the templates use classes; scripts set sizes through the DOM, which CSP allows).
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env("QIYUE_SESSION_SECONDS", str(8 * 3600)))
# A session ends after this long without a request too (see qiyue.core.middleware.SessionTimeoutMiddleware).
QIYUE_SESSION_IDLE_SECONDS = int(env("QIYUE_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_COOKIE_SECURE = env_bool("QIYUE_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Over HTTPS the cookies carry the __Host- prefix: browsers then accept them only when Secure, for the
# whole site (Path=/) and from this host alone (no Domain), so a sibling subdomain cannot set or shadow them.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
SECURE_SSL_REDIRECT = env_bool("QIYUE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(env("QIYUE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("QIYUE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("QIYUE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: `qiyue serve` trusts X-Forwarded-Proto and X-Forwarded-For from
# QIYUE_TRUSTED_PROXY alone (one address, "*" for any) and drops them from everyone else; without
# QIYUE_BEHIND_PROXY it trusts them from no one.
QIYUE_BEHIND_PROXY = env_bool("QIYUE_BEHIND_PROXY")
QIYUE_TRUSTED_PROXY = env("QIYUE_TRUSTED_PROXY", "127.0.0.1").strip() or "127.0.0.1"
if QIYUE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# axes.W006 asks for the client address among the lockout parameters, against clients that rotate
# user agents or cookies to dodge a lockout; ours lock the account, which no such rotation escapes.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    # Preload is an opt-in commitment; do not nag about it.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

LOG_LEVEL = env("QIYUE_LOG_LEVEL", "INFO" if PRODUCTION else "WARNING")
# One handler, on the root logger; every other logger only propagates to it. Django first applies its
# own defaults, which give the "django" logger a console handler of its own (active with DEBUG) and a
# mail_admins handler (ADMINS is not set: it mailed nobody), and let it propagate to root as well: each
# django.* line (every 404 and 500 of django.request) was written twice. Naming "django" here replaces
# those handlers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}
if QIYUE_AUDIT_CHECKPOINT_SYSLOG:
    # Audit checkpoints are logged whatever QIYUE_LOG_LEVEL says.
    LOGGING["loggers"]["qiyue.audit.checkpoint"] = {"handlers": [], "level": "INFO", "propagate": True}
    if QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS:
        _host, _colon, _port = QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS.rpartition(":")
        if QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS.startswith("/"):
            _address = QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS
        else:
            _address = (_host, int(_port)) if _colon else (QIYUE_AUDIT_CHECKPOINT_SYSLOG_ADDRESS, 514)
        LOGGING["formatters"] = {"checkpoint": {"format": "qiyue-audit-checkpoint: %(message)s"}}
        LOGGING["handlers"]["audit_checkpoint_syslog"] = {
            "class": "logging.handlers.SysLogHandler", "formatter": "checkpoint", "facility": "auth",
            "address": _address}
        LOGGING["loggers"]["qiyue.audit.checkpoint"]["handlers"] = ["audit_checkpoint_syslog"]
