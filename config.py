"""Configuration classes, one per environment; every setting can be overridden by the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'relais.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    RELAIS_BASE_URL = os.environ.get("RELAIS_BASE_URL", "http://127.0.0.1:5000")
    RELAIS_DEFAULT_TIMEZONE = os.environ.get("RELAIS_DEFAULT_TIMEZONE", "Europe/Paris")
    # Minimum notice between submitting a request and the first possible session.
    RELAIS_MIN_NOTICE_DAYS = env_int("RELAIS_MIN_NOTICE_DAYS", 15)
    RELAIS_PASSWORD_MIN_LENGTH = env_int("RELAIS_PASSWORD_MIN_LENGTH", 12)
    RELAIS_RESET_TOKEN_HOURS = env_int("RELAIS_RESET_TOKEN_HOURS", 2)
    RELAIS_ACTIVATION_TOKEN_DAYS = env_int("RELAIS_ACTIVATION_TOKEN_DAYS", 7)
    # Days a trainer has to answer an offer, and offers declined or expired before a session goes
    # back to the coordinator's queue.
    RELAIS_OFFER_EXPIRY_DAYS = env_int("RELAIS_OFFER_EXPIRY_DAYS", 3)
    RELAIS_OFFER_MAX_TRIES = env_int("RELAIS_OFFER_MAX_TRIES", 3)
    # Seconds the exact planner may search a period (CP-SAT's deterministic time, so that a preview and its
    # sending find the same plan); stopped by it, the plan says how far from the optimum it may be.
    RELAIS_PLANNING_TIME_LIMIT = float(os.environ.get("RELAIS_PLANNING_TIME_LIMIT") or 5)
    # The autopilot (app/domain/autopilot.py): weeks ahead it plans, and offers a trainer may receive a day.
    RELAIS_AUTOPILOT_HORIZON_WEEKS = env_int("RELAIS_AUTOPILOT_HORIZON_WEEKS", 10)
    RELAIS_AUTOPILOT_OFFERS_PER_DAY = env_int("RELAIS_AUTOPILOT_OFFERS_PER_DAY", 3)
    # Reminders before a session (days before, e.g. "7,1"), and days after it when a report is overdue.
    RELAIS_REMINDER_DAYS_BEFORE = tuple(int(d) for d in os.environ.get("RELAIS_REMINDER_DAYS_BEFORE", "7,1").split(",")
                                        if d.strip())
    RELAIS_REPORT_OVERDUE_DAYS = env_int("RELAIS_REPORT_OVERDUE_DAYS", 2)
    # Uploads: a request body beyond this is refused (413, a French page) before it is read. Each import has its
    # own limits besides (rows, cell size, uncompressed XLSX size): app/domain/imports/.
    MAX_CONTENT_LENGTH = env_int("RELAIS_MAX_UPLOAD_MB", 5) * 1024 * 1024

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Relais <no-reply@relais.localhost>")
    # "console" writes messages to the log instead of sending them (development default).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    RELAIS_LANGUAGES = ("fr", "en")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Redis down: each process counts in its own memory until it is back (limits kept, never a 500).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = env_bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # Dashboards computed once per revision of the data they count: in each process by default, shared by
    # every process and machine when a Redis URL is given (redis://host:6379/1).
    RELAIS_CACHE_REDIS_URL = os.environ.get("RELAIS_CACHE_REDIS_URL", "")
    CACHE_TYPE = "RedisCache" if RELAIS_CACHE_REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = RELAIS_CACHE_REDIS_URL or None
    CACHE_KEY_PREFIX = "relais:"
    CACHE_DEFAULT_TIMEOUT = 24 * 3600  # a key names its revision: it is never stale, only unused
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    # One Redis may serve other apps too: their keys apart. (Flask-Limiter keeps the first prefix it is given for
    # the process: none by default, so that each test's app may bring its own.)
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
    # Failed log-ins: from one address to one account (its owner's typos), to one account from anywhere (slower:
    # not counted from an address where that account has logged in before, so a stranger cannot lock the owner
    # out), and from one address whatever the account.
    RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS = os.environ.get("RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS",
                                                                "5 per 15 minutes")
    RELAIS_LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("RELAIS_LOGIN_LIMIT_PER_ACCOUNT", "30 per hour")
    RELAIS_LOGIN_LIMIT_PER_ADDRESS = os.environ.get("RELAIS_LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    # Registrations and password-reset requests: per address (every attempt), and the e-mails either sends to one
    # recipient (shared by both forms).
    RELAIS_REGISTRATION_LIMIT_PER_ADDRESS = os.environ.get("RELAIS_REGISTRATION_LIMIT_PER_ADDRESS", "20 per hour")
    RELAIS_RESET_LIMIT_PER_ADDRESS = os.environ.get("RELAIS_RESET_LIMIT_PER_ADDRESS", "10 per hour")
    RELAIS_MAIL_LIMIT_PER_RECIPIENT = os.environ.get("RELAIS_MAIL_LIMIT_PER_RECIPIENT", "3 per hour")

    # Log-in sessions (app.domain.login_sessions): a log-in lasts RELAIS_SESSION_HOURS, or RELAIS_REMEMBER_DAYS
    # with "Rester connecté", and ends sooner when left idle: RELAIS_IDLE_HOURS_STAFF for coordinators and
    # admins, RELAIS_IDLE_HOURS for establishments' staff and trainers.
    RELAIS_SESSION_HOURS = env_int("RELAIS_SESSION_HOURS", 12)
    RELAIS_REMEMBER_DAYS = env_int("RELAIS_REMEMBER_DAYS", 30)
    RELAIS_IDLE_HOURS_STAFF = env_int("RELAIS_IDLE_HOURS_STAFF", 8)
    RELAIS_IDLE_HOURS = env_int("RELAIS_IDLE_HOURS", 7 * 24)
    REMEMBER_COOKIE_DURATION = timedelta(days=RELAIS_REMEMBER_DAYS)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # tie CSRF tokens to the session, not to a clock

    BOOTSTRAP_SERVE_LOCAL = True  # no CDN: the app must work on a closed network

    # Reverse proxies in front (nginx…), each adding to X-Forwarded-For: their number, and the addresses they
    # connect from. X-Forwarded-* headers are read only from those addresses, and dropped from anyone else (who
    # would choose their own address and escape the rate limits). RELAIS_BEHIND_PROXY=1/0: the older setting.
    RELAIS_TRUSTED_PROXIES = env_int("RELAIS_TRUSTED_PROXIES", int(env_bool("RELAIS_BEHIND_PROXY", False)))
    RELAIS_PROXY_ADDRESSES = os.environ.get("RELAIS_PROXY_ADDRESSES", "127.0.0.1,::1")
    RELAIS_HSTS_SECONDS = env_int("RELAIS_HSTS_SECONDS", 31536000)

    # People's own CalDAV calendars (#19): the Fernet key(s) of their stored application passwords (comma-separated,
    # the first encrypts, all decrypt: a rotation), derived from SECRET_KEY when unset; http:// servers and this
    # machine's own addresses refused unless allowed (a closed network; development and tests, for a local Radicale);
    # seconds before a silent server counts as down.
    RELAIS_CALDAV_KEY = os.environ.get("RELAIS_CALDAV_KEY", "")
    RELAIS_CALDAV_ALLOW_HTTP = env_bool("RELAIS_CALDAV_ALLOW_HTTP", False)
    RELAIS_CALDAV_TIMEOUT = env_int("RELAIS_CALDAV_TIMEOUT", 15)
    # The legal pages (issue #21, /mentions-legales, /donnees-personnelles, /accessibilite): the deploying service
    # fills in its details; an empty one is shown « à compléter ». Trainers' records are archived (as JSON) under
    # RELAIS_ARCHIVE_DIR (default: the instance folder's "archives") before they are anonymised.
    RELAIS_PUBLISHER_NAME = os.environ.get("RELAIS_PUBLISHER_NAME", "Ministère de l'Intérieur")
    RELAIS_PUBLISHER_ADDRESS = os.environ.get("RELAIS_PUBLISHER_ADDRESS", "Place Beauvau, 75800 Paris Cedex 08")
    RELAIS_PUBLISHER_DIRECTOR = os.environ.get("RELAIS_PUBLISHER_DIRECTOR", "")
    RELAIS_PUBLISHER_EMAIL = os.environ.get("RELAIS_PUBLISHER_EMAIL", "")
    RELAIS_PUBLISHER_HOST = os.environ.get("RELAIS_PUBLISHER_HOST", "")
    RELAIS_PUBLISHER_HOST_ADDRESS = os.environ.get("RELAIS_PUBLISHER_HOST_ADDRESS", "")
    RELAIS_PUBLISHER_DPO_EMAIL = os.environ.get("RELAIS_PUBLISHER_DPO_EMAIL", "")
    RELAIS_ARCHIVE_DIR = os.environ.get("RELAIS_ARCHIVE_DIR", "")
    # Signed webhooks (#22, docs/webhooks.md): http:// URLs and private or local addresses refused unless allowed
    # (development; the tests' receiver on loopback); seconds to connect and to wait for the answer; attempts of a
    # delivery (over about a day), and failed attempts in a row before a subscription is paused.
    RELAIS_WEBHOOKS_ALLOW_HTTP = env_bool("RELAIS_WEBHOOKS_ALLOW_HTTP", False)
    RELAIS_WEBHOOKS_ALLOW_PRIVATE = env_bool("RELAIS_WEBHOOKS_ALLOW_PRIVATE", False)
    RELAIS_WEBHOOKS_CONNECT_TIMEOUT = env_int("RELAIS_WEBHOOKS_CONNECT_TIMEOUT", 3)
    RELAIS_WEBHOOKS_READ_TIMEOUT = env_int("RELAIS_WEBHOOKS_READ_TIMEOUT", 5)
    RELAIS_WEBHOOKS_MAX_ATTEMPTS = env_int("RELAIS_WEBHOOKS_MAX_ATTEMPTS", 10)
    RELAIS_WEBHOOKS_PAUSE_AFTER = env_int("RELAIS_WEBHOOKS_PAUSE_AFTER", 10)
    # A closed network's CA bundle for the receivers' certificates (empty: the system's).
    RELAIS_WEBHOOKS_CA_BUNDLE = os.environ.get("RELAIS_WEBHOOKS_CA_BUNDLE", "")

    # Single sign-on (#21): an OpenID Connect provider (ProConnect's profile). No issuer: no « Se connecter avec
    # ProConnect » button. Its discovery document is read at the first sign-in, not at start. The claims read
    # (e-mail, whether it is verified, names); RELAIS_OIDC_TRUST_EMAIL=1: the provider's addresses count as
    # verified unless it says otherwise (ProConnect gives no email_verified). Optional acr_values.
    RELAIS_OIDC_ISSUER = os.environ.get("RELAIS_OIDC_ISSUER", "").rstrip("/")
    RELAIS_OIDC_CLIENT_ID = os.environ.get("RELAIS_OIDC_CLIENT_ID", "")
    RELAIS_OIDC_CLIENT_SECRET = os.environ.get("RELAIS_OIDC_CLIENT_SECRET", "")
    RELAIS_OIDC_SCOPES = os.environ.get("RELAIS_OIDC_SCOPES", "openid email given_name usual_name siret uid")
    RELAIS_OIDC_PROVIDER_NAME = os.environ.get("RELAIS_OIDC_PROVIDER_NAME", "ProConnect")
    RELAIS_OIDC_EMAIL_CLAIM = os.environ.get("RELAIS_OIDC_EMAIL_CLAIM", "email")
    RELAIS_OIDC_EMAIL_VERIFIED_CLAIM = os.environ.get("RELAIS_OIDC_EMAIL_VERIFIED_CLAIM", "email_verified")
    RELAIS_OIDC_GIVEN_NAME_CLAIM = os.environ.get("RELAIS_OIDC_GIVEN_NAME_CLAIM", "given_name")
    RELAIS_OIDC_FAMILY_NAME_CLAIM = os.environ.get("RELAIS_OIDC_FAMILY_NAME_CLAIM", "usual_name")
    RELAIS_OIDC_TRUST_EMAIL = env_bool("RELAIS_OIDC_TRUST_EMAIL", False)
    RELAIS_OIDC_ACR_VALUES = os.environ.get("RELAIS_OIDC_ACR_VALUES", "")
    RELAIS_OIDC_TIMEOUT = env_int("RELAIS_OIDC_TIMEOUT", 10)
    # The second factor of coordinators and admins (#21): wrong codes allowed per account, and the minutes a
    # password sign-in waits for its code.
    RELAIS_TOTP_LIMIT_PER_ACCOUNT = os.environ.get("RELAIS_TOTP_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    RELAIS_TOTP_PENDING_MINUTES = env_int("RELAIS_TOTP_PENDING_MINUTES", 10)


class DevelopmentConfig(Config):
    DEBUG = True
    RELAIS_CALDAV_ALLOW_HTTP = env_bool("RELAIS_CALDAV_ALLOW_HTTP", True)
    RELAIS_WEBHOOKS_ALLOW_HTTP = env_bool("RELAIS_WEBHOOKS_ALLOW_HTTP", True)
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105 (tests only)
    MAIL_BACKEND = "outbox-only"
    RATELIMIT_ENABLED = False
    RELAIS_CALDAV_ALLOW_HTTP = True  # the tests' Radicale listens on loopback, in clear
    RELAIS_WEBHOOKS_ALLOW_HTTP = True  # the tests' webhook receiver listens on loopback, in clear
    RELAIS_WEBHOOKS_ALLOW_PRIVATE = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105  # fast hashing keeps the suite quick


class ProductionConfig(Config):
    RELAIS_TRUSTED_PROXIES = env_int("RELAIS_TRUSTED_PROXIES", int(env_bool("RELAIS_BEHIND_PROXY", True)))
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
