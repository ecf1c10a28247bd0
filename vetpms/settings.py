"""VetPMS settings.

Everything that differs between a laptop and a production server comes from the environment; the defaults are
safe for development (DEBUG off unless asked for, SQLite under var/). The README lists every variable.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("VETPMS_TESTING", False)

# A development key is generated per checkout so nothing secret is ever committed; production must set one.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set the SECRET_KEY environment variable (or DEBUG=1 for development).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
# Earlier keys, still accepted for what was signed or encrypted with them (sessions, webhook secrets at rest) while
# a new SECRET_KEY takes over; comma-separated.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "django_q",
    "ninja",  # its templates and static files: the API docs page is served locally, not from a CDN
    "axes",
    "csp",
    "bootstrap",
    "vetpms",
    "clients",
    "animals",
    "appointments",
    "invoicing",
    "clinical",
    "reminders",
    "reports",
    "exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vetpms.middleware.PrivateNoStoreMiddleware",
    "vetpms.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vetpms.middleware.SlidingSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "vetpms.middleware.LoginRequiredMiddleware",
    # AxesMiddleware must come last: it turns a lockout into the friendly "locked out" response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vetpms.urls"
WSGI_APPLICATION = "vetpms.wsgi.application"

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
                "vetpms.context_processors.practice",
            ],
        },
    },
]

# Django's form renderer, with select boxes drawn in Python (the same HTML; see vetpms/renderers.py).
FORM_RENDERER = "vetpms.renderers.Renderer"

# --- Database --------------------------------------------------------------------------------------------------
# No DATABASE_URL: an embedded SQLite file under var/, so a one-computer practice or a newcomer needs no server.
# WAL lets readers run beside the writer; IMMEDIATE takes the write lock when a transaction begins, so two
# bookings can never both read "free" and then both write (the check-then-insert happens under one lock).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "vetpms.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "vetpms.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "vetpms.auth.ApiTokenBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_MINUTES without a request. The expiry slides with activity: a session is saved
# (and its expiry pushed back) at most once a minute by vetpms.middleware.SlidingSessionMiddleware, rather than on
# every request, which would cost a write per page.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from a meta tag, not the cookie; kept readable for API clients

# django-axes counts failures per credential and client address, never with one counter for all:
# - the login form: per username + address, so failures from one address never lock the user out elsewhere;
# - API tokens: per hash of the presented token + address (vetpms.auth.token_lockout_key), so a valid token
#   never shares a counter with anyone's bad ones.
# The address is the real client's (vetpms.net.client_ip): X-Forwarded-For is read only from TRUSTED_PROXIES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "vetpms.net.client_ip"
# Addresses or networks (CIDR) of the reverse proxies in front of gunicorn whose X-Forwarded-For is believed.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network.") from _exc

# --- Security --------------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if (DEBUG or TESTING) else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Request size limits: a 3 MB body is refused with 400/413, never buffered into a 500.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Content-Security-Policy (django-csp 4): everything is served from this origin; no inline scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Internationalisation and time -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")  # the practice's zone: what staff see; storage is UTC
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "vetpms" / "static"]
# Clinical attachments (lab results, radiographs, consent forms) go through Django's storage API: the file system by
# default; an S3-compatible store by naming its backend (django-storages' "storages.backends.s3.S3Storage") and its
# options as JSON. They are never served from a public URL, only through a view that checks the user.
ATTACHMENT_STORAGE = env_str("ATTACHMENT_STORAGE", "django.core.files.storage.FileSystemStorage")
ATTACHMENT_STORAGE_OPTIONS = json.loads(env_str("ATTACHMENT_STORAGE_OPTIONS", "{}") or "{}")
if ATTACHMENT_STORAGE.endswith("FileSystemStorage"):
    ATTACHMENT_STORAGE_OPTIONS.setdefault("location", env_str("ATTACHMENT_DIR", str(BASE_DIR / "var" / "attachments")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
# Receptionists see the patient history and certificates; the text of clinical notes only when this is on.
CLINICAL_NOTES_FOR_RECEPTION = env_bool("CLINICAL_NOTES_FOR_RECEPTION", False)
# FHIR bulk exports ($export): NDJSON files, served only through the export's URLs to whoever asked, deleted
# FHIR_EXPORT_HOURS after the export completed (the exchange cleanup task). Same options as attachments.
FHIR_EXPORT_STORAGE = env_str("FHIR_EXPORT_STORAGE", "django.core.files.storage.FileSystemStorage")
FHIR_EXPORT_STORAGE_OPTIONS = json.loads(env_str("FHIR_EXPORT_STORAGE_OPTIONS", "{}") or "{}")
if FHIR_EXPORT_STORAGE.endswith("FileSystemStorage"):
    FHIR_EXPORT_STORAGE_OPTIONS.setdefault("location", env_str("FHIR_EXPORT_DIR", str(BASE_DIR / "var" / "exports")))
FHIR_EXPORT_HOURS = env_int("FHIR_EXPORT_HOURS", 24)
# Rows read per query while exporting (keyset chunks) and lines per NDJSON file before a type starts a new file.
FHIR_EXPORT_CHUNK = env_int("FHIR_EXPORT_CHUNK", 2000)
FHIR_EXPORT_LINES_PER_FILE = env_int("FHIR_EXPORT_LINES_PER_FILE", 500_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {"BACKEND": ATTACHMENT_STORAGE, "OPTIONS": ATTACHMENT_STORAGE_OPTIONS},
    "fhir_exports": {"BACKEND": FHIR_EXPORT_STORAGE, "OPTIONS": FHIR_EXPORT_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email -----------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "VetPMS <reception@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- The practice ----------------------------------------------------------------------------------------------
PRACTICE = {
    "name": env_str("PRACTICE_NAME", "Riverside Veterinary Practice"),
    "address": env_str("PRACTICE_ADDRESS", "1 Riverside Walk, Exampletown, EX1 2AB"),
    "phone": env_str("PRACTICE_PHONE", "+44 1632 960000"),
    "email": env_str("PRACTICE_EMAIL", "reception@example.org"),
    "tax_id": env_str("PRACTICE_TAX_ID", "GB 123 4567 89"),
}
# Phone numbers typed without a country code are read as numbers of this region (ISO 3166 alpha-2).
PHONE_REGION = env_str("PHONE_REGION", "GB")

# --- Task queue (django-q2) ------------------------------------------------------------------------------------
# The ORM broker is the default so no extra server is needed; set Q_REDIS_URL to use Redis instead.
# "timeout" is set for the longest job, a part of a reminder run: it sends for REMINDER_TASK_SECONDS, then finishes
# the email in hand (each SMTP step waits at most EMAIL_TIMEOUT) and queues the next part; the task is stopped
# (and its run recorded as timed out) only past this. "retry" (when the ORM broker hands an unacknowledged task to
# another worker) must exceed it, and a claimed email's lease (REMINDER_SEND_LEASE_SECONDS) too: `manage.py check`
# says so if they do not.
Q_CLUSTER: dict[str, object] = {
    "name": "vetpms",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 300),
    "retry": env_int("Q_RETRY", env_int("Q_TIMEOUT", 300) + 60),
    "max_attempts": 1,
    "catch_up": False,
    "label": "Task queue",
}
if env_str("Q_REDIS_URL"):
    Q_CLUSTER["redis"] = env_str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# --- Import from another system (exchange/importing) ---------------------------------------------------------
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 50 * 1024 * 1024)  # per uploaded file
IMPORT_TASK_TIMEOUT = env_int("IMPORT_TASK_TIMEOUT", 6 * 3600)  # seconds one dry run or import may take

# --- Reminders -------------------------------------------------------------------------------------------------
# The daily notice job runs at this local time (HH:MM in TIME_ZONE); `migrate` (or `manage.py reminders_schedule`)
# writes it into the django-q2 schedule.
REMINDER_SEND_TIME = env_str("REMINDER_SEND_TIME", "07:00")
REMINDER_CATCH_UP_DAYS = env_int("REMINDER_CATCH_UP_DAYS", 7)  # missed days a run still sends for (once)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5)  # temporary SMTP failures before an email fails
REMINDER_RETRY_SECONDS = env_int("REMINDER_RETRY_SECONDS", 300)  # first retry delay; doubles per attempt
REMINDER_RETRY_EVERY_MINUTES = env_int("REMINDER_RETRY_EVERY_MINUTES", 10)  # how often retries are picked up
# An email claimed by a worker that died is sent again after this long (longer than any SMTP exchange).
REMINDER_SEND_LEASE_SECONDS = env_int("REMINDER_SEND_LEASE_SECONDS", 600)
REMINDER_BATCH_SIZE = env_int("REMINDER_BATCH_SIZE", 50)  # emails claimed and loaded together
# How long one task of a run sends before it queues the next part (well inside Q_CLUSTER["timeout"]).
REMINDER_TASK_SECONDS = env_int("REMINDER_TASK_SECONDS", 60)
REMINDER_UNSUBSCRIBE_MAX_AGE_DAYS = env_int("REMINDER_UNSUBSCRIBE_MAX_AGE_DAYS", 400)
# Where owners' links (unsubscribe) point: the public address of this VetPMS, without a trailing slash.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Webhooks (exchange.webhooks) ------------------------------------------------------------------------------
# Endpoints whose address is private, loopback, link-local or reserved are refused (at registration and again at
# every delivery) unless this is on: for development and tests only.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)  # connect, and each read of the answer
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)  # first retry; doubles per attempt
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env_int("WEBHOOK_RETRY_MAX_DELAY_SECONDS", 6 * 3600)  # the longest wait
WEBHOOK_GIVE_UP_SECONDS = env_int("WEBHOOK_GIVE_UP_SECONDS", 3 * 24 * 3600)  # no retry later than this after the event
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 10)  # deliveries one worker claims at once
WEBHOOK_TASK_SECONDS = env_int("WEBHOOK_TASK_SECONDS", 50)  # how long one delivery task keeps claiming
# A claim older than this belongs to a worker that died; its deliveries are sent again. It must exceed the
# longest a worker holds a batch (about WEBHOOK_BATCH_SIZE x 2 x WEBHOOK_TIMEOUT_SECONDS).
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 300)
WEBHOOK_EVERY_MINUTES = env_int("WEBHOOK_EVERY_MINUTES", 1)  # the schedule's sweep (new events also queue a task)

# --- Backups ---------------------------------------------------------------------------------------------------
# `manage.py backup` and the daily schedule write one directory per backup here; copy them off the machine.
BACKUP_DIR = env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups"))
BACKUP_TIME = env_str("BACKUP_TIME", "02:30")  # local time (TIME_ZONE) of the daily backup; `migrate` schedules it
BACKUP_KEEP_DAYS = env_int("BACKUP_KEEP_DAYS", 14)  # the daily task deletes older backups (the newest always stays)
BACKUP_PG_BIN_DIR = env_str("BACKUP_PG_BIN_DIR")  # folder of pg_dump/pg_restore matching the server; empty: PATH

# --- Logging ---------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

# --- Appointment books -----------------------------------------------------------------------------------------
APPOINTMENT_SLOT_STEP_MINUTES = env_int("APPOINTMENT_SLOT_STEP_MINUTES", 15)

# --- Invoicing -------------------------------------------------------------------------------------------------
INVOICE_SERIES_PREFIX = env_str("INVOICE_SERIES_PREFIX", "INV-")
CREDIT_NOTE_SERIES_PREFIX = env_str("CREDIT_NOTE_SERIES_PREFIX", "CN-")
INVOICE_DUE_DAYS = env_int("INVOICE_DUE_DAYS", 30)
# Printed before amounts on invoices, statements, claim forms and their emails (amounts themselves are Decimal).
CURRENCY_SYMBOL = env_str("CURRENCY_SYMBOL", "£")

# --- Owners' data rights (exchange.datarights) -------------------------------------------------------------------
# Whether an owner's subject access copy includes their animals' clinical history (consultations, vaccinations,
# medicines, problems) for the time they owned them. Many practices share it; some answer that part separately.
DATA_RIGHTS_SHARE_CLINICAL = env_bool("DATA_RIGHTS_SHARE_CLINICAL", True)
# How long each kind of record is kept, in years. Issued invoices, credit notes and payments: the tax authority's
# period (HMRC: 6 years). Clinical records (consultations, vaccinations, problems, files): 6 years, the limitation
# period. Medicines dispensed, controlled drugs included: 5 years (Veterinary Medicines Regulations). An owner with
# no visit, booking, charge or payment for RETENTION_CLIENT_INACTIVE_YEARS and no record still inside its period is
# anonymised by the daily task; reminder emails lose their address and subject after RETENTION_EMAIL_LOG_YEARS.
RETENTION_FINANCIAL_YEARS = env_int("RETENTION_FINANCIAL_YEARS", 6)
RETENTION_CLINICAL_YEARS = env_int("RETENTION_CLINICAL_YEARS", 6)
RETENTION_MEDICINES_YEARS = env_int("RETENTION_MEDICINES_YEARS", 5)
RETENTION_CLIENT_INACTIVE_YEARS = env_int("RETENTION_CLIENT_INACTIVE_YEARS", 6)
RETENTION_EMAIL_LOG_YEARS = env_int("RETENTION_EMAIL_LOG_YEARS", 2)
# Local time (TIME_ZONE) of the daily retention task; `migrate` writes its django-q2 schedule.
RETENTION_RUN_TIME = env_str("RETENTION_RUN_TIME", "03:30")
