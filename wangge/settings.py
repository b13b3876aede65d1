"""Settings, read from the environment. See docs/operations.md for every variable.

The embedded default needs nothing: SQLite (WAL) and the task queue live under ./var/,
and the secret key and personal-data key are generated there on first start.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent
VAR_DIR = Path(os.environ.get("WANGGE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def secret_from_env_or_file(env_name: str, file_name: str, generate) -> str:
    """A secret from the environment, else from ./var (generated once, never committed)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = VAR_DIR / file_name
    if not path.exists():
        path.write_text(generate())
        path.chmod(0o600)
    return path.read_text().strip()


def generate_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = secret_from_env_or_file("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Key for personal data (ID numbers, phones) at rest: encryption and keyed lookup hashes.
PII_KEY = secret_from_env_or_file("WANGGE_PII_KEY", "pii.key", generate_fernet_key)

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
CSRF_FAILURE_VIEW = "wangge.web.errors.csrf_failure"  # the site's page (JSON under /api/)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "django_otp",  # before wangge.accounts: its admin replaces the TOTP device admin
    "django_otp.plugins.otp_totp",
    "wangge.core",
    "wangge.history",
    "wangge.areas",
    "wangge.accounts",
    "wangge.worktime",
    "wangge.notify",
    "wangge.cases",
    "wangge.patrol",
    "wangge.jobs",
    "wangge.watch",
    "wangge.privacy",
    "wangge.registry",
    "wangge.insight",
    "wangge.sensors",
    "wangge.evaluation",
    "wangge.open311",
    "wangge.workorders",
    "wangge.callbacks",
    "wangge.routing",
    "wangge.hotline",
    "wangge.summons",
    "wangge.proactive",
    "wangge.web",
]

MIDDLEWARE = [
    "wangge.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "wangge.core.middleware.RefuseNulCharacters",  # PostgreSQL cannot store or compare a NUL
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "wangge.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wangge.history.middleware.ChangeContextMiddleware",
    "wangge.web.portal.PortalMiddleware",  # citizens and landlords: the portal's pages only
]

ROOT_URLCONF = "wangge.urls"
WSGI_APPLICATION = "wangge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wangge.web.context.site",
                "wangge.notify.context.notifications",
            ],
        },
    },
]

# Database: SQLite in WAL mode under ./var by default; DATABASE_URL for PostgreSQL (or another SQLite file).


def sqlite_database(name) -> dict:
    """wangge's SQLite engine and options, for the default file or a DATABASE_URL's sqlite:///path."""
    return {
        # Django's SQLite backend with writers queued by a file lock (wangge/core/sqlite/base.py).
        "ENGINE": "wangge.core.sqlite",
        "NAME": Path(name),
        "CONN_MAX_AGE": 60,  # a connection per thread kept open (no connect and PRAGMAs per request)
        # Tests use a file too (not shared-cache memory), so concurrent writers behave as in production.
        "TEST": {"NAME": str(VAR_DIR / "test_wangge.sqlite3")},
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        },
    }


def database_from_url(url: str) -> dict:
    parsed = dj_database_url.parse(url, conn_max_age=60)
    if parsed["ENGINE"] == "django.db.backends.sqlite3":
        # sqlite:///relative/path or sqlite:////absolute/path: a file (the writer queue locks files
        # beside it, so an in-memory database is refused rather than half-working).
        if parsed["NAME"] in ("", ":memory:"):
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured("DATABASE_URL: SQLite needs a file, e.g. sqlite:////srv/wangge/wangge.sqlite3")
        return sqlite_database(parsed["NAME"])
    if parsed["ENGINE"] == "django.db.backends.postgresql":
        # Parameters sent apart from the statement, which psycopg then prepares after a few runs: the
        # hot statements (intake, positions) are parsed and planned once per connection, not every time.
        parsed.setdefault("OPTIONS", {})["server_side_binding"] = True
    return parsed


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(os.environ.get("WANGGE_SQLITE_PATH", VAR_DIR / "wangge.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# ModelBackend plus the permissions each role brings (accounts.models.ROLE_PERMISSIONS).
AUTHENTICATION_BACKENDS = ["wangge.accounts.backends.RoleModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed-login throttling (accounts/throttle.py): this many failures of one account from one address
# are free, then each further one doubles the wait; failures are remembered for the window.
LOGIN_FAILURE_LIMIT = int(os.environ.get("WANGGE_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("WANGGE_LOGIN_FAILURE_WINDOW", "86400"))
SESSION_COOKIE_HTTPONLY = True
# Flash messages live in the session: the default (a signed cookie, then the session) builds a
# cookie signer for every request, API calls included, whether or not a message is ever shown.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("WANGGE_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Sensors (app sensors): readings over MQTT, taken in by `wangge mqtt_intake`.
SENSOR_MQTT_URL = os.environ.get("WANGGE_MQTT_URL", "mqtt://127.0.0.1:1883")
SENSOR_MQTT_TOPIC = os.environ.get("WANGGE_MQTT_TOPIC", "wangge/sensors/+/readings")
SENSOR_MQTT_CLIENT_ID = os.environ.get("WANGGE_MQTT_CLIENT_ID", "wangge-intake")
# A sensor with no reading for longer than this is shown as silent (offline) on the sensor pages.
SENSOR_SILENT_HOURS = float(os.environ.get("WANGGE_SENSOR_SILENT_HOURS", "24"))

# How long a process keeps an API token it looked up (a revoked token may pass that long elsewhere).
API_TOKEN_CACHE_SECONDS = float(os.environ.get("WANGGE_API_TOKEN_CACHE_SECONDS", 5))

# Background worker (huey): SQLite-backed for the embedded default, Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_IMMEDIATE = env_bool("WANGGE_TASKS_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "wangge",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "wangge",
        "filename": str(VAR_DIR / "tasks.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# Map base tiles (wangge/web/maptiles.py, docs/operations.md "Base maps"). None by default: boundaries
# and points on a plain background, no request to any tile server (offline government networks).
# WANGGE_MAP_TILES=tianditu (with WANGGE_TIANDITU_KEY) or amap (GCJ-02: points shifted for display),
# or WANGGE_MAP_TILE_URL (+ _CRS wgs84|gcj02, _ATTRIBUTION, _SUBDOMAINS, _OVERLAY_URL).
from wangge.web.maptiles import tiles_from_env as _tiles_from_env  # noqa: E402

_tiles = _tiles_from_env(os.environ)
MAP_TILE_URL = _tiles["url"]
MAP_TILE_ATTRIBUTION = _tiles["attribution"]
MAP_TILE_CRS = _tiles["crs"]
MAP_TILE_SUBDOMAINS = _tiles["subdomains"]
MAP_TILE_OVERLAY_URL = _tiles["overlay"]
# The citizen report page's place search (public): searches per client address and minute.
PUBLIC_PLACE_SEARCH_PER_MINUTE = int(os.environ.get("WANGGE_PUBLIC_PLACE_SEARCH_PER_MINUTE", "30"))
# Per-client limits of the public entries (core.ratelimit): entry → (requests, window in seconds);
# merged over ratelimit.DEFAULT_LIMITS. WANGGE_RATE_LIMITS='{"public_report": [5, 600]}' (JSON).
RATE_LIMITS = {k: tuple(v) for k, v in json.loads(os.environ.get("WANGGE_RATE_LIMITS", "{}")).items()}
# A human check (CAPTCHA) on the public writes: none by default. A dotted path to a
# callable(request, token) -> bool, and the template that draws its widget inside the report form
# (it must post the token as `captcha_token`; API clients send X-Captcha-Token).
CAPTCHA_VERIFIER = os.environ.get("WANGGE_CAPTCHA_VERIFIER", "")
CAPTCHA_TEMPLATE = os.environ.get("WANGGE_CAPTCHA_TEMPLATE", "")
# Uploaded photos never attached to a case are deleted (rows and files) after this many hours.
UNATTACHED_PHOTO_HOURS = float(os.environ.get("WANGGE_UNATTACHED_PHOTO_HOURS", "24"))

NINJA_PAGINATION_PER_PAGE = 100

# Working time for deadlines counted in working hours (app worktime); holidays live in the database.
WORKING_PERIODS = os.environ.get("WANGGE_WORKING_PERIODS", "08:30-12:00,14:00-17:30")

# Notifications (app notify): SMS through a pluggable backend; the dev backend records messages.
SMS_BACKEND = os.environ.get("WANGGE_SMS_BACKEND", "wangge.notify.sms.DevSmsBackend")
SMS_GATEWAY_URL = os.environ.get("WANGGE_SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("WANGGE_SMS_GATEWAY_TOKEN", "")
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("WANGGE_NOTIFY_MAX_ATTEMPTS", "8"))

# Cases (app cases).
CASE_DUPLICATE_DISTANCE_M = float(os.environ.get("WANGGE_CASE_DUPLICATE_DISTANCE_M", "100"))
CASE_DUPLICATE_HOURS = float(os.environ.get("WANGGE_CASE_DUPLICATE_HOURS", "72"))
CASE_REOPEN_DAYS = int(os.environ.get("WANGGE_CASE_REOPEN_DAYS", "7"))
CASE_PHOTO_MAX_BYTES = int(os.environ.get("WANGGE_CASE_PHOTO_MAX_BYTES", str(10 * 2**20)))

# Callbacks (app callbacks, 回访): due this long after a citizen's case closes; a citizen not reached
# is tried again after CALLBACK_RETRY_HOURS, and after CALLBACK_MAX_ATTEMPTS the callback is closed as
# unreachable; "not resolved" may reopen the case within CALLBACK_REOPEN_DAYS of its closing.
CALLBACK_DUE_HOURS = float(os.environ.get("WANGGE_CALLBACK_DUE_HOURS", "48"))
CALLBACK_RETRY_HOURS = float(os.environ.get("WANGGE_CALLBACK_RETRY_HOURS", "4"))
CALLBACK_MAX_ATTEMPTS = int(os.environ.get("WANGGE_CALLBACK_MAX_ATTEMPTS", "3"))
CALLBACK_REOPEN_DAYS = int(os.environ.get("WANGGE_CALLBACK_REOPEN_DAYS", "7"))

# Summonses (app summons, 吹哨报到): an arrival counts when its GPS fix is within the summons' radius of
# the place and its accuracy is this good or better (else it is recorded and flagged); the deadline the
# dispatcher gets by default, in minutes per severity.
SUMMONS_ARRIVAL_RADIUS_M = int(os.environ.get("WANGGE_SUMMONS_ARRIVAL_RADIUS_M", "300"))
SUMMONS_MAX_ACCURACY_M = float(os.environ.get("WANGGE_SUMMONS_MAX_ACCURACY_M", "100"))
SUMMONS_DEADLINE_MINUTES = {"urgent": 30, "important": 60, "normal": 120}

# Field work (app patrol): GPS positions from the mobile app.
PATROL_POSITION_INTERVAL_SECONDS = int(os.environ.get("WANGGE_PATROL_POSITION_INTERVAL_SECONDS", "30"))
PATROL_MAX_ACCURACY_M = float(os.environ.get("WANGGE_PATROL_MAX_ACCURACY_M", "50"))  # worse: flagged
PATROL_MAX_GAP_SECONDS = int(os.environ.get("WANGGE_PATROL_MAX_GAP_SECONDS", "120"))  # longer: not sending
PATROL_MAX_SPEED_MPS = float(os.environ.get("WANGGE_PATROL_MAX_SPEED_MPS", "30"))  # faster: a GPS jump
PATROL_ACCEPT_DAYS = int(os.environ.get("WANGGE_PATROL_ACCEPT_DAYS", "7"))  # offline phones catch up
PATROL_MAX_BATCH = 2000
PATROL_BUILDING_PASSED_M = 30  # a building this close to a good fix counts as passed
PATROL_LIVE_POSITION_SECONDS = 10  # a phone catching up on old points moves its dot at most this often
PATROL_ON_DUTY_MINUTES = 10  # a worker heard from within this is shown as on duty
PATROL_PLAN_HORIZON_DAYS = int(os.environ.get("WANGGE_PATROL_PLAN_HORIZON_DAYS", "7"))  # tasks open this early
# Command center (app insight): live events for open pages, dashboards, recurring spots.
LIVE_BROKER = os.environ.get("WANGGE_LIVE_BROKER", "redis" if REDIS_URL else "database")
LIVE_STREAM_SECONDS = float(os.environ.get("WANGGE_LIVE_STREAM_SECONDS", "25"))  # then the page reconnects
LIVE_MAX_STREAMS = int(os.environ.get("WANGGE_LIVE_MAX_STREAMS", "2"))  # held open per process; others poll
LIVE_POLL_RETRY_MS = int(os.environ.get("WANGGE_LIVE_POLL_RETRY_MS", "5000"))
LIVE_POLL_SECONDS = float(os.environ.get("WANGGE_LIVE_POLL_SECONDS", "1"))
LIVE_KEEP = int(os.environ.get("WANGGE_LIVE_KEEP", "10000"))
LIVE_REDIS_STREAM = os.environ.get("WANGGE_LIVE_REDIS_STREAM", "wangge:live")
INSIGHT_DUE_SOON_HOURS = float(os.environ.get("WANGGE_DUE_SOON_HOURS", "4"))
INSIGHT_SPOT_MIN_CASES = int(os.environ.get("WANGGE_SPOT_MIN_CASES", "3"))
INSIGHT_SPOT_RADIUS_M = float(os.environ.get("WANGGE_SPOT_RADIUS_M", "100"))
INSIGHT_SPOT_DAYS = int(os.environ.get("WANGGE_SPOT_DAYS", "30"))
# Background jobs, imports and exports (app jobs). Job files live here, never in public media.
JOBS_ROOT = Path(os.environ.get("WANGGE_JOBS_ROOT", VAR_DIR / "jobs"))
JOBS_KEEP_DAYS = int(os.environ.get("WANGGE_JOBS_KEEP_DAYS", "7"))
JOBS_STALE_HOURS = int(os.environ.get("WANGGE_JOBS_STALE_HOURS", "6"))
# Imports of at most this many rows run in the request; larger ones in the worker with a progress bar.
IMPORT_SYNC_MAX_ROWS = int(os.environ.get("WANGGE_IMPORT_SYNC_MAX_ROWS", "2000"))
IMPORT_MAX_BYTES = int(os.environ.get("WANGGE_IMPORT_MAX_BYTES", str(100 * 2**20)))
# Exports of at most this many rows stream from the request; larger ones are written by the worker.
EXPORT_SYNC_MAX_ROWS = int(os.environ.get("WANGGE_EXPORT_SYNC_MAX_ROWS", "5000"))
# Faults (core.sqlite, core.faults): a writer waits this long for SQLite's writer lock, then gets 503 +
# Retry-After; imports on SQLite commit about this often (undo journal), pause this long after each
# commit, and let waiting writers go first for at most BULK_YIELD before each transaction;
# PostgreSQL connections are checked before reuse, so a server restart or a killed backend costs no request.
WANGGE_SQLITE_WRITER_TIMEOUT = float(os.environ.get("WANGGE_SQLITE_WRITER_TIMEOUT", "10"))
WANGGE_SQLITE_IMPORT_TX_SECONDS = float(os.environ.get("WANGGE_SQLITE_IMPORT_TX_SECONDS", "0.05"))
WANGGE_SQLITE_IMPORT_BREATHER_SECONDS = float(os.environ.get("WANGGE_SQLITE_IMPORT_BREATHER_SECONDS", "0.005"))
WANGGE_SQLITE_BULK_YIELD_SECONDS = float(os.environ.get("WANGGE_SQLITE_BULK_YIELD_SECONDS", "2"))
WANGGE_RETRY_AFTER_SECONDS = int(os.environ.get("WANGGE_RETRY_AFTER_SECONDS", "5"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Trust under faults (issue 13 items 6, 7): periodic-task leases and heartbeats, sensor intake checks.
INSTALLED_APPS += ["wangge.worker"]
# A periodic task's lease lasts this long past its last heartbeat: a killed worker's lease ends then.
WORKER_LEASE_SECONDS = int(os.environ.get("WANGGE_WORKER_LEASE_SECONDS", "45"))
# A periodic task is late (/readyz 503, alert to administrators) when it has not run for its period + this.
WORKER_LATE_MINUTES = float(os.environ.get("WANGGE_WORKER_LATE_MINUTES", "5"))
# Tests only: a file naming a periodic task; while it exists, that task's run waits inside its lease.
WORKER_TEST_HOLD_FILE = os.environ.get("WANGGE_WORKER_TEST_HOLD_FILE", "")
# Sensor readings: how far ahead of the server's clock a sensor's time may be; values beyond this
# magnitude are refused for sensors without their own valid range; the window that counts missing readings.
SENSOR_CLOCK_SKEW_SECONDS = int(os.environ.get("WANGGE_SENSOR_CLOCK_SKEW_SECONDS", "300"))
SENSOR_VALUE_LIMIT = float(os.environ.get("WANGGE_SENSOR_VALUE_LIMIT", "1e9"))
SENSOR_GAP_WINDOW_HOURS = float(os.environ.get("WANGGE_SENSOR_GAP_WINDOW_HOURS", "24"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Exact search on personal data (app privacy, issue 13): a per-user budget of searches by a full ID
# number, passport or phone per hour, and how long a search's token (?search=…) stays usable.
PRIVACY_EXACT_SEARCHES_PER_HOUR = int(os.environ.get("WANGGE_EXACT_SEARCHES_PER_HOUR", "20"))
PRIVACY_EXACT_SEARCH_KEEP_HOURS = int(os.environ.get("WANGGE_EXACT_SEARCH_KEEP_HOURS", "24"))
# Where a job run keeps the clear copy of its encrypted files (app jobs); empty: /dev/shm when present.
JOBS_CLEAR_TMP = os.environ.get("WANGGE_JOBS_CLEAR_TMP", "")

# Logins and production security (docs/operations.md, "Logins and production security").
PRODUCTION = env_bool("WANGGE_PRODUCTION", False)
# Reverse proxies whose forwarding header is believed (addresses or CIDRs, comma-separated), and that header.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("WANGGE_TRUSTED_PROXIES", "").split(",") if p.strip()]
TRUSTED_PROXY_HEADER = os.environ.get("WANGGE_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("WANGGE_LOGIN_MAX_DELAY", "3600"))
LOGIN_SPRAY_WINDOW_SECONDS = int(os.environ.get("WANGGE_LOGIN_SPRAY_WINDOW", "3600"))
LOGIN_ADDRESS_LIMIT = int(os.environ.get("WANGGE_LOGIN_ADDRESS_LIMIT", "30"))  # failures per address, any account
LOGIN_ACCOUNT_LIMIT = int(os.environ.get("WANGGE_LOGIN_ACCOUNT_LIMIT", "20"))  # per account, unknown addresses
LOGIN_KNOWN_ADDRESS_DAYS = int(os.environ.get("WANGGE_LOGIN_KNOWN_ADDRESS_DAYS", "90"))
# A second factor (TOTP) for administrators and command-center staff; optional for everyone else.
REQUIRE_2FA = env_bool("WANGGE_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = os.environ.get("WANGGE_OTP_ISSUER", "网格 wangge")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no administrator sees a user's key
LOGIN_CODE_STEP_SECONDS = 300  # between the password and the code
# Sessions of staff (administrators, dispatchers, leaders) last this long; others Django's two weeks.
STAFF_SESSION_SECONDS = int(os.environ.get("WANGGE_STAFF_SESSION_SECONDS", str(8 * 3600) if PRODUCTION else "0"))
if PRODUCTION:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
    LANGUAGE_COOKIE_HTTPONLY = True  # the CSRF cookie stays readable: the phone app sends it as a header
    SECURE_HSTS_SECONDS = int(os.environ.get("WANGGE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("WANGGE_HSTS_INCLUDE_SUBDOMAINS", False)
    if TRUSTED_PROXIES:
        # TLS ends at the proxy; TrustedProxyMiddleware drops this header from any other connection.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        SECURE_SSL_REDIRECT = env_bool("WANGGE_SSL_REDIRECT", True)
        SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes may speak plain HTTP to gunicorn

# Content-Security-Policy (Django's middleware): scripts only from this site's files, no inline
# script or event handlers, map tiles from MAP_TILE_URL's host (wangge/web/csp.py).
from wangge.web.csp import policy as _csp_policy  # noqa: E402

SECURE_CSP = _csp_policy(MAP_TILE_URL, MAP_TILE_OVERLAY_URL)
INSTALLED_APPS.append("ninja")  # the API docs from ninja's own static files: no CDN, no inline script

# Numbers registered outside the importer's jurisdiction that people imports may report per hour
# (issue 13: an import is not an oracle either; interactive writes share the exact-search budget).
PRIVACY_IMPORT_DUPLICATES_PER_HOUR = int(os.environ.get("WANGGE_IMPORT_DUPLICATES_PER_HOUR", "200"))

# API paging (core/apitypes.Paginator): limit and offset bounded, 422 beyond them, never a 500;
# text with a NUL character refused before any view reads it (PostgreSQL cannot store or compare it).
NINJA_PAGINATION_CLASS = "wangge.core.apitypes.Paginator"

# Evaluation (考核): a department responds when it accepts within this many hours of dispatch; a grid
# manager verifies on time within this many hours of the request; a case recurs when its category was
# reported in the same grid this many days before; appeals are open this many days after a period.
EVALUATION_RESPOND_HOURS = float(os.environ.get("WANGGE_EVALUATION_RESPOND_HOURS", "2"))
EVALUATION_VERIFY_HOURS = float(os.environ.get("WANGGE_EVALUATION_VERIFY_HOURS", "24"))
EVALUATION_RECURRENCE_DAYS = int(os.environ.get("WANGGE_EVALUATION_RECURRENCE_DAYS", "30"))
EVALUATION_APPEAL_DAYS = int(os.environ.get("WANGGE_EVALUATION_APPEAL_DAYS", "5"))

# Open311 GeoReport v2 (/open311/v2/, docs/open311.md). The one jurisdiction this endpoint serves: a
# request naming another jurisdiction_id is answered 404.
OPEN311_JURISDICTION_ID = os.environ.get("WANGGE_OPEN311_JURISDICTION_ID", "wangge")
# Reads without an API key: requests per minute per client address (keys carry their own rate).
OPEN311_ANONYMOUS_RATE_PER_MINUTE = int(os.environ.get("WANGGE_OPEN311_ANONYMOUS_RATE", "30"))
# The channels whose cases GET requests lists (citizens' reports; staff channels are internal).
OPEN311_PUBLIC_CHANNELS = ["open311", "citizen_web"]
# Service discovery (discovery.json): when the endpoint last changed, whom to contact, how to get a key.
OPEN311_CHANGESET = os.environ.get("WANGGE_OPEN311_CHANGESET", "2026-12-02T00:00:00+08:00")
OPEN311_CONTACT = os.environ.get("WANGGE_OPEN311_CONTACT", "")
OPEN311_KEY_SERVICE = os.environ.get("WANGGE_OPEN311_KEY_SERVICE", "")
