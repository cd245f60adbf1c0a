"""Django settings, all from the environment (12-factor).

Every variable with its default and meaning: README.md, *Configuration*
(tests/test_environment.py keeps the two in step).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(os.environ.get("BACKOFFICE_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The key from the environment, or one generated on first run and kept in var/."""
    if key := os.environ.get("BACKOFFICE_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("BACKOFFICE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("BACKOFFICE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    # #13 first: its createsuperuser and changepassword commands replace Django's (refused)
    "backoffice.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves Swagger UI from our own static files, not a CDN
    "backoffice.base",  # #14: model bases, HTTP pieces, the actor of a request
    "backoffice.audit",
    "backoffice.org",
    "backoffice.access",
    "backoffice.cases",
    "backoffice.masterdata",
    "backoffice.credit",
    "backoffice.walls",  # #8 Chinese walls
    "backoffice.trading",  # #17 trading and settlement
    "backoffice.ops",
    "backoffice.identity",  # #18 single sign-on, TOTP
    "backoffice.scim",  # #18 provisioning: joiners, movers, leavers
    "backoffice.web",
    "django_tasks",  # #18: the background worker's task framework (Django 6's, backported)
    "django_tasks_db",  # #18: its tasks are rows in our database, written with the event
    "backoffice.notify",  # #18: mail, reminders, webhooks, the event feed
    "backoffice.jobs",  # #19: long work run by the worker, with its progress
    "axes",  # #13 login lock-out; after web, whose commands replace axes' unaudited resets
]

MIDDLEWARE = [
    "backoffice.base.middleware.HttpsExpectedMiddleware",  # #19: plain http told why, in words
    "django.middleware.security.SecurityMiddleware",
    "backoffice.base.middleware.RequestIdMiddleware",
    "backoffice.base.middleware.ApiProblemMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "backoffice.base.middleware.TextInputMiddleware",  # #13: before anything reads the request
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.web.middleware.UserLanguageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "backoffice.web.middleware.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # #13: a refused login becomes the login page, saying why
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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
                "django.template.context_processors.i18n",
                "backoffice.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("BACKOFFICE_DATABASE_URL", f"sqlite:///{VAR_DIR / 'backoffice.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE: every transaction takes the write lock at BEGIN, so concurrent writers queue
    # instead of failing on upgrade; WAL lets readers go on meanwhile.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
if test_name := os.environ.get("BACKOFFICE_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": test_name}
# #13: migrations run as the owner of the tables, the server as a role that owns nothing
# (backoffice.audit.dbroles, docs/production.md); None: one role for both (development).
_migrate_url = os.environ.get("BACKOFFICE_MIGRATE_DATABASE_URL")
MIGRATE_DATABASE = dj_database_url.parse(_migrate_url) if _migrate_url else None

# #4: `backoffice audit keygen` writes it (mode 0600); keep it away from the database's admins.
AUDIT_SIGNING_KEY = Path(
    os.environ.get("BACKOFFICE_AUDIT_KEY") or VAR_DIR / "audit-signing-key.pem"
).resolve()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # #13: first, so a locked-out name and address never reach the password check
    "axes.backends.AxesStandaloneBackend",
    # #13: the password check; grants no Django permission to anyone: roles decide
    "backoffice.accounts.backends.PersonBackend",
    # #18: OpenID Connect (authorization code + PKCE); the same person as by password
    "backoffice.identity.oidc.OidcBackend",
    # #18: the directory's password (LDAP) joins below when BACKOFFICE_LDAP_URL is set
]

# #18: local passwords can be switched off where every login comes from the IdP.
LOCAL_PASSWORDS = _flag("BACKOFFICE_LOCAL_PASSWORDS", default=True)
MFA_REQUIRED = _flag("BACKOFFICE_MFA_REQUIRED")


def _oidc(name: str, default: str = "") -> str:
    return os.environ.get(f"BACKOFFICE_OIDC_{name}", default).strip()


# #18 OpenID Connect (mozilla-django-oidc): on when an issuer and a client id are set.
OIDC_ENABLED = bool(_oidc("ISSUER") and _oidc("CLIENT_ID"))
OIDC_OP_ISSUER = _oidc("ISSUER")
OIDC_RP_CLIENT_ID = _oidc("CLIENT_ID")
OIDC_RP_CLIENT_SECRET = _oidc("CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = _oidc("AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = _oidc("TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = _oidc("USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = _oidc("JWKS_URI") or None
OIDC_OP_END_SESSION_ENDPOINT = _oidc("END_SESSION_ENDPOINT")
OIDC_RP_SIGN_ALGO = _oidc("SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = _oidc("SCOPES", "openid email profile groups")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_CREATE_USER = False  # people come from the policy, user-admin cases or SCIM
OIDC_STORE_ID_TOKEN = True  # the hint for the IdP's logout
OIDC_TIMEOUT = 10
OIDC_OP_LOGOUT_URL_METHOD = "backoffice.identity.oidc.provider_logout_url"
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=refused"
# #18 SCIM 2.0 provisioning: the HR system's or IdP's bearer token; unset: /scim/v2/ is 404
SCIM_TOKEN = os.environ.get("BACKOFFICE_SCIM_TOKEN", "").strip()


def _ldap(name: str, default: str = "") -> str:
    return os.environ.get(f"BACKOFFICE_LDAP_{name}", default).strip()


def ldap_settings(env: dict[str, str]) -> dict[str, Any]:
    """#18 django-auth-ldap's settings from BACKOFFICE_LDAP_* values (also used by tests)."""
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    def get(name: str, default: str = "") -> str:
        return env.get(name, default).strip()

    group_base = get("GROUP_BASE")
    return {
        "LDAP_ENABLED": bool(get("URL")),
        "AUTH_LDAP_SERVER_URI": get("URL"),
        "AUTH_LDAP_BIND_DN": get("BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": get("BIND_PASSWORD"),
        "AUTH_LDAP_START_TLS": get("START_TLS").lower() in {"1", "true", "yes", "on"},
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            get("USER_BASE"), ldap.SCOPE_SUBTREE, get("USER_FILTER", "(uid=%(user)s)")
        ),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            group_base, ldap.SCOPE_SUBTREE, get("GROUP_FILTER", "(objectClass=groupOfNames)")
        )
        if group_base
        else None,
        "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(name_attr="cn"),
        "AUTH_LDAP_NO_NEW_USERS": True,  # people come from the policy, cases or SCIM
        "AUTH_LDAP_ALWAYS_UPDATE_USER": False,  # the policy or a case owns names and e-mail
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: 10},
    }


LDAP_ENABLED = False
if _ldap("URL"):  # python-ldap (the `ldap` extra) is needed only where a directory is used
    globals().update(
        ldap_settings(
            {
                k.removeprefix("BACKOFFICE_LDAP_"): v
                for k, v in os.environ.items()
                if k.startswith("BACKOFFICE_LDAP_")
            }
        )
    )
    AUTHENTICATION_BACKENDS.append("backoffice.identity.ldap.DirectoryBackend")


def _count(name: str, default: int, minimum: int = 0) -> int:
    value = int(os.environ.get(name, default))
    if value < minimum:
        raise ValueError(f"{name} must be {minimum} or more, not {value}")
    return value


def client_address_settings(trusted_proxies: int) -> dict[str, Any]:
    """Where django-axes (through django-ipware) reads the client's address from.

    0: REMOTE_ADDR only; any X-Forwarded-For is the client's own writing and ignored.
    N: N reverse proxies of ours each append the address they saw, so the client is the
    N-th entry from the right of X-Forwarded-For; whatever stands left of it, the client
    wrote (non-strict ipware, ``IPWARE_STRICT``, skips it instead of distrusting the header).
    """
    if trusted_proxies == 0:
        return {
            "AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",),
            "AXES_IPWARE_PROXY_COUNT": None,
        }
    return {
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
        "AXES_IPWARE_PROXY_COUNT": trusted_proxies - 1,  # ipware counts the hops after the client
    }


# #13: a lock-out holds a user name AND a client address together: wrong passwords typed
# under someone's name elsewhere do not lock that person out. The attempts live in the
# shared database, so every web node behind a load balancer sees the same lock-outs.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
# A lock-out ends one cool-off after it began, however often the page is sent again then.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "backoffice.web.auth.lockout_response"
AXES_ENABLE_ADMIN = False  # lifting is `do_lift_lockout`, on record; never a quiet admin delete
_ADDRESS = client_address_settings(_count("BACKOFFICE_TRUSTED_PROXIES", 0))
AXES_IPWARE_META_PRECEDENCE_ORDER = _ADDRESS["AXES_IPWARE_META_PRECEDENCE_ORDER"]
AXES_IPWARE_PROXY_COUNT = _ADDRESS["AXES_IPWARE_PROXY_COUNT"]
IPWARE_STRICT = False
#: axes' tables (attempts, failures, logins with their addresses) keep no longer than this;
#: the audit events of the same logins stay on the chain.
LOGIN_RECORDS_RETENTION = timedelta(days=_count("BACKOFFICE_LOGIN_RECORDS_DAYS", 90, minimum=1))
BACKOFFICE_ADMIN = _flag("BACKOFFICE_ADMIN")

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

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
#: #19: one date/time format per language (backoffice/formats), ISO in exports
FORMAT_MODULE_PATH = ["backoffice.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Static files ship inside the package; WhiteNoise serves them from there (finders) and,
# after `init` collected them, compressed from var/static.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Secure headers; HTTPS-only cookies and HSTS whenever we are not in development.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# BACKOFFICE_PLAIN_HTTP=1 is for the demo on http://127.0.0.1 only.
HTTPS = not DEBUG and not _flag("BACKOFFICE_PLAIN_HTTP")
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = _flag("BACKOFFICE_SSL_REDIRECT", default=True)
    SECURE_HSTS_PRELOAD = _flag("BACKOFFICE_HSTS_PRELOAD", default=False)
    # Preloading is a commitment for the whole domain that the operator makes, not we:
    # BACKOFFICE_HSTS_PRELOAD=1 turns it on; until then Django's reminder is silenced.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy without 'unsafe-inline': no inline scripts or styles anywhere;
# htmx and charts come from our own static files, charts are server-side SVG.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def smtp_settings(url: str | None) -> dict[str, Any]:
    """#18: Django's e-mail settings from one ``BACKOFFICE_SMTP_URL``; none: the console."""
    if not url:
        return {
            "EMAIL_BACKEND": os.environ.get(
                "BACKOFFICE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
            ),
            "EMAIL_HOST": os.environ.get("BACKOFFICE_EMAIL_HOST", "localhost"),
            "EMAIL_PORT": int(os.environ.get("BACKOFFICE_EMAIL_PORT", "25")),
        }
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ValueError(
            f"BACKOFFICE_SMTP_URL: scheme {parts.scheme!r} is not smtp, smtp+tls, smtps"
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 30,
    }


_SMTP = smtp_settings(os.environ.get("BACKOFFICE_SMTP_URL"))
EMAIL_BACKEND = _SMTP["EMAIL_BACKEND"]
EMAIL_HOST = _SMTP["EMAIL_HOST"]
EMAIL_PORT = _SMTP["EMAIL_PORT"]
EMAIL_HOST_USER = _SMTP.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _SMTP.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _SMTP.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _SMTP.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _SMTP.get("EMAIL_TIMEOUT")
DEFAULT_FROM_EMAIL = os.environ.get("BACKOFFICE_FROM_EMAIL", "backoffice@localhost")
# #18: the background worker's queue is a table of the same database (django-tasks-db), so
# a task is enqueued in the transaction of the event it is about: both commit or neither.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DIGEST_HOUR = _count("BACKOFFICE_DIGEST_HOUR", 7)
# #19 jobs: where their result files go, how often progress is written, when a job whose
# worker stopped reporting is failed, how long results are kept, how often the page asks
JOBS_DIR = VAR_DIR / "jobs"
JOBS_PROGRESS_SECONDS = 0.5
JOBS_PROGRESS_EVERY = 1000
JOBS_STALE_SECONDS = 120
JOBS_HEARTBEAT_SECONDS = JOBS_STALE_SECONDS / 4
JOBS_RESULT_DAYS = _count("BACKOFFICE_JOBS_RESULT_DAYS", 7)
JOBS_POLL_SECONDS = 1.0
#: `backoffice demo --with-mail`: where its local SMTP sink keeps the mails (a demo page shows them)
MAIL_SINK_DIR = os.environ.get("BACKOFFICE_MAIL_SINK_DIR") or None
# #13: set-password links and API tokens for others go by e-mail, never to whoever asked
BACKOFFICE_URL = os.environ.get("BACKOFFICE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BACKOFFICE_LOG_LEVEL", "WARNING")},
}
