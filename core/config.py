"""Configuration: defaults, then instance/config.py, then CARNET_* environment (JSON values,
parsed by Flask), then overrides.

Secrets are generated into instance/ on first run; production refuses to start without
real ones.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from core import storage

MB = 1024 * 1024

DEFAULTS = {
    "ENV_NAME": "development",  # development | production | test
    "DEMO": False,
    "SECRET_KEY": None,  # None: instance/secret_key (generated outside production)
    "CODE_PEPPER": None,  # None: instance/code_pepper (generated outside production)
    "DATABASE_URL": None,  # None: SQLite file in instance/
    "AUDIT_KEY": None,  # base64url 32 bytes; None: instance/keys/audit.key (generated outside production)
    "AUDIT_ANCHOR_FILE": None,  # None: instance/audit/anchor.log
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "SESSION_IDLE_MINUTES": 15,
    "KIOSK_IDLE_MINUTES": 2,
    "KIOSK_SESSION_MINUTES": 15,  # the longest a space stays open on a public kiosk
    "KIOSK_HANDOFF_SECONDS": 120,  # a kiosk's QR code, until a phone approves it
    "KIOSK_ENROL_HOURS": 24,  # the one-time link that registers a kiosk
    "KIOSK_COOKIE_NAME": "carnet_kiosk",
    "KIOSK_COOKIE_DAYS": 1825,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_TOUCH_SECONDS": 20,
    "FRESH_AUTH_MINUTES": 5,
    # argon2id password hashing: RFC 9106's low-memory profile (production refuses less).
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_PARALLELISM": 4,
    "WEBAUTHN_RP_ID": "localhost",
    "WEBAUTHN_RP_NAME": "Carnet",
    "WEBAUTHN_ORIGIN": "http://localhost:8000",
    "ACTIVATION_CODE_DAYS": 42,
    "OTP_MINUTES": 10,
    "OTP_MAX_TRIES": 5,
    "ACTIVATION_MAX_TRIES": 5,
    "FAILED_LOGINS_PER_ACCOUNT_HOUR": 100,
    "FAILED_LOGINS_PER_IP_HOUR": 300,
    "ACTIVATION_ATTEMPTS_PER_IP_HOUR": 30,
    "LOGIN_BACKOFF_AFTER": 10,  # failed passwords per account in 24 h before delays start
    "LOGIN_BACKOFF_MAX_MINUTES": 60,  # the delay doubles from 1 minute up to this
    "OTP_FAILURES_PER_ACCOUNT_DAY": 10,  # wrong emailed codes per account in 24 h, across codes
    "OTP_SENDS_PER_ACCOUNT_HOUR": 5,  # emailed codes sent per account per hour
    "OAUTH_TOKEN_PER_CLIENT_MINUTE": 600,  # /oauth/token requests naming one app, all holders together
    "OAUTH_TOKEN_PER_ADDRESS_MINUTE": 120,  # /oauth/token requests from one address
    "CONFIRM_MAX_FAILURES": 5,  # wrong passwords at the step-up confirmation before the session ends
    "UNLOCK_LINK_HOURS": 24,  # the link mailed to a holder whose password login is paused
    "UNLOCK_MINUTES": 60,  # how long a device stays unlocked after the link was opened on it
    "LETTERS_PER_SPACE_DAY": 3,  # new activation letters a space may be sent per 24 h
    "LETTER_REQUESTS_PER_IP_HOUR": 10,
    "UPLOAD_MAX_MB": 20,
    # The longest a request may run: gunicorn's timeout (gunicorn.conf.py reads the same
    # CARNET_REQUEST_TIMEOUT_SECONDS). An upload writes its file and commits its row within
    # one request, so `storage check` leaves alone unknown files younger than twice this.
    "REQUEST_TIMEOUT_SECONDS": 60,
    "MAIL_FROM": "Carnet <ne-pas-repondre@carnet.localhost>",
    # SMTP (core.mail): no host, no mail leaves the machine (the outbox alone, for demo and development).
    "MAIL_SMTP_HOST": "",
    "MAIL_SMTP_PORT": 587,
    "MAIL_SMTP_SECURITY": "starttls",  # starttls | ssl (implicit TLS, port 465) | none
    "MAIL_SMTP_USERNAME": "",
    "MAIL_SMTP_PASSWORD": "",
    "MAIL_SMTP_TIMEOUT": 10,  # seconds per SMTP session
    "MAIL_OUTBOX": True,  # also keep each mail in instance/outbox/
    # Where the accessibility statement asks people to report a barrier (read by a person).
    "ACCESSIBILITY_CONTACT": "accessibilite@carnet.localhost",
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "BABEL_TRANSLATION_DIRECTORIES": "translations",
    "WTF_CSRF_TIME_LIMIT": None,  # bound to the server-side session instead
    "WTF_CSRF_SSL_STRICT": False,  # Sec-Fetch-Site is checked by core.web
    "WTF_CSRF_CHECK_DEFAULT": False,  # core.web checks the methods Flask-WTF protects
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "carnet_session",
    "SEND_FILE_MAX_AGE_DEFAULT": 3600,
}


class ConfigError(RuntimeError):
    """Raised when a production configuration would be unsafe or a setting is mistyped."""


# Settings read as text even when the value would parse as JSON (an all-digit secret stays a string).
TEXT = {
    "SECRET_KEY",
    "CODE_PEPPER",
    "DATABASE_URL",
    "AUDIT_KEY",
    "AUDIT_ANCHOR_FILE",
    "MASTER_KEY",
    "MAIL_SMTP_USERNAME",
    "MAIL_SMTP_PASSWORD",
    "MAIL_SMTP_HOST",
}
WEAK_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}
PREFIX = "CARNET"


def _from_env(app: Flask) -> None:
    """CARNET_FOO sets FOO, parsed as JSON by Flask, then held to the type of its default:
    a value that does not fit (CARNET_DEMO=ture, CARNET_UPLOAD_MAX_MB=20MB) stops the start-up
    rather than silently becoming False or a string. DATABASE_URL is also read unprefixed."""
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env(PREFIX)
    for key, raw in os.environ.items():
        if key.startswith(f"{PREFIX}_") and "__" not in key:
            name = key[len(PREFIX) + 1 :]
            app.config[name] = _typed(key, name, raw, app.config[name])


def _typed(key: str, name: str, raw: str, value):
    default = DEFAULTS.get(name)
    if name in TEXT or isinstance(default, str):
        return raw
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if value in (0, 1) and isinstance(value, int):  # CARNET_DEMO=1
            return bool(value)
        raise ConfigError(f"{key}={raw!r} is not a boolean: write true, false, 1 or 0")
    if isinstance(default, int) and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ConfigError(f"{key}={raw!r} is not a whole number")
    return value


def _instance_secret(instance: Path, name: str) -> str:
    """Read instance/<name>, creating it with a fresh random value the first time."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load(app: Flask, overrides: dict | None = None) -> None:
    """Fill app.config in order: defaults, instance/config.py, environment, overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    _from_env(app)
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    production = app.config["ENV_NAME"] == "production"
    if production:
        _refuse_weak(app.config)
    else:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _instance_secret(instance, "secret_key")
        if not app.config.get("CODE_PEPPER"):
            app.config["CODE_PEPPER"] = _instance_secret(instance, "code_pepper")
    app.config["AUDIT_KEY"] = _audit_key(instance, app.config.get("AUDIT_KEY"), production)
    if not app.config.get("AUDIT_ANCHOR_FILE"):
        app.config["AUDIT_ANCHOR_FILE"] = str(instance / "audit" / "anchor.log")
    if not app.config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'carnet.db'}"
    app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_MAX_MB"] * MB + MB
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-carnet"
        app.config["KIOSK_COOKIE_NAME"] = "__Host-carnet-kiosk"


AUDIT_KEY_HINT = (
    "set CARNET_AUDIT_KEY, or write instance/keys/audit.key (mode 600), to a random 32-byte "
    "base64url key, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'; "
    "keep a copy apart, like the master key"
)


def _audit_key(instance: Path, value, production: bool) -> bytes:
    """The key of the audit chain's HMAC, kept outside the database: CARNET_AUDIT_KEY (or
    AUDIT_KEY in instance/config.py), else instance/keys/audit.key, generated on first run
    except in production, which refuses to start without one."""
    try:
        if isinstance(value, (bytes, bytearray)) and value:
            if len(value) != storage.MASTER_KEY_SIZE:
                raise ConfigError(f"AUDIT_KEY must be {storage.MASTER_KEY_SIZE} bytes")
            return bytes(value)
        if isinstance(value, str) and value.strip():
            return storage.decode_key(value, "AUDIT_KEY", "audit key")
        key_file = instance / "keys" / "audit.key"
        if production and not key_file.exists():
            raise ConfigError(f"the audit key is missing in production: {AUDIT_KEY_HINT}")
        return storage.load_key_file(key_file, label="audit key")
    except storage.StorageError as exc:
        raise ConfigError(f"{exc} ({AUDIT_KEY_HINT})") from exc


def _refuse_weak(config) -> None:
    for key in ("SECRET_KEY", "CODE_PEPPER"):
        value = str(config.get(key) or "")
        if value.lower() in WEAK_SECRETS or len(value) < 32:
            raise ConfigError(f"{key} must be set to a random value of at least 32 characters in production")
    if any(config[key] < DEFAULTS[key] for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_KIB")):
        raise ConfigError("ARGON2_* parameters weaker than RFC 9106's low-memory profile: never in production")
    if config.get("DEMO"):
        raise ConfigError("demo mode shows credentials and the mail outbox: never in production")
    if not str(config.get("WEBAUTHN_ORIGIN", "")).startswith("https://"):
        raise ConfigError("WEBAUTHN_ORIGIN must be an https:// origin in production")
