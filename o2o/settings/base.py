"""Settings shared by every profile, read from the environment (django-environ).

With no DATABASE_URL / REDIS_URL the defaults point at the embedded stack that
`o2o.devstack` starts under var/ (see README). Production secrets have no default
in production.py, so a missing one stops the boot.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

from o2o.csp import policy as csp_policy

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# A stale form says "reload the page" in the shop's language, never Django's debug page.
CSRF_FAILURE_VIEW = "o2o.views.csrf_failure"

INSTALLED_APPS = [
    "o2o.admin_apps.ShopAdminConfig",  # django.contrib.admin, guarded (o2o/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "phonenumber_field",
    "import_export",
    "allauth",
    "allauth.account",
    "o2o.admin_apps.LoginAttemptsConfig",  # django-axes: lockouts on every login
    "django_otp",
    "o2o.admin_apps.AuthenticatorsConfig",  # django-otp TOTP: the staff's second factor
    "csp",
    # ours, in dependency order (DESIGN.md "Who calls whom")
    "members",
    "catalog",
    "stores",
    "marketing",
    "journeys",
    "orders",
    "feedback",
    "analytics",
    "o2o",  # the kernel: outbox and shared models
    "devtools",  # the roof: load_demo, load_bench_data (nothing imports it)
]

MIDDLEWARE = [
    # First: /healthz answers whatever the Host (a container probes 127.0.0.1).
    "o2o.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the page cache, so cached pages carry the policy too (o2o/csp.py).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "o2o.middleware.NulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "o2o.middleware.PathLocaleMiddleware",
    # Outside CSRF and messages so it sees every cookie a page sets (catalog/middleware.py).
    "catalog.middleware.AnonymousPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "o2o.middleware.TooManyTriesMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login
]

# --- Behind a reverse proxy --------------------------------------------------------
# How many reverse proxies in front of the web server append to X-Forwarded-For (the
# compose stack's TLS proxy: 1). 0: the connection's address is the client's. Every rate
# limit reads the client's address through o2o.net.client_ip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "o2o.net.client_ip"
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Content-Security-Policy (django-csp): o2o/csp.py says what and why.
CONTENT_SECURITY_POLICY = csp_policy(BASE_DIR)

ROOT_URLCONF = "o2o.urls"
WSGI_APPLICATION = "o2o.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "o2o.context_processors.shop",
                "catalog.context_processors.catalog",
                "orders.context_processors.bag",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/o2o")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def reporting_database(databases: dict) -> str:
    """Dashboards and exports read from DATABASE_REPLICA_URL when it is set (the alias
    "replica", see analytics.routers), so a report never slows the shop's primary."""
    url = env("DATABASE_REPLICA_URL", default="")
    if not url:
        return "default"
    databases["replica"] = {**env.db_url_config(url), "CONN_HEALTH_CHECKS": True,
                            "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
                            "TEST": {"MIRROR": "default"}}
    return "replica"


REPORTING_DATABASE = reporting_database(DATABASES)
DATABASE_ROUTERS = ["analytics.routers.ReportingRouter"]

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="o2o"),
        "TIMEOUT": 300,
    },
    # Sessions live only in Redis (docs/decisions.md, "Sessions in Redis"): no table row
    # to write when a guest's bag starts or ends. Redis must therefore persist them
    # (appendonly yes: docker-compose.yml, the embedded stack); losing Redis's data signs
    # everyone out and forgets guests' bags. A logout deletes the key: the session ends
    # on the server, not only in the browser (never the signed_cookies engine).
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("SESSION_REDIS_URL", default=REDIS_URL),
        "KEY_PREFIX": env("SESSION_KEY_PREFIX", default="o2o-session"),
        "TIMEOUT": None,  # each session sets its own expiry (SESSION_COOKIE_AGE)
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "sessions"

# --- Celery: Redis broker; tasks are enqueued with transaction.on_commit --------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long a task a worker took (acks_late) stays invisible before Redis hands it to
# another worker, when the first died without acknowledging it. It must outlast the
# longest task and any countdown (we use none: beat polls due rows instead), or a task
# would run twice. Messages no longer depend on it (the outbox's sweeper resends within
# seconds), so a crash now delays only the other tasks, which beat repeats anyway: ten
# minutes instead of Kombu's hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT",
                                                                 default=600)}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth: members.User, logged in by email or mobile number (django-allauth) ---
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "catalog:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "catalog:home"
ACCOUNT_ADAPTER = "members.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
# Mobile verification by one-time SMS code (allauth's flow; members.adapter sends through
# o2o.sms). A member verifies, or changes, their number from the account page
# (/accounts/phone/change/). True also makes it a step of sign-up and of every login
# while the number is unverified (members registered at a counter included).
ACCOUNT_PHONE_VERIFICATION_ENABLED = env.bool("ACCOUNT_PHONE_VERIFICATION_ENABLED",
                                              default=False)
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = env.int("ACCOUNT_PHONE_VERIFICATION_TIMEOUT",
                                             default=10 * 60)  # seconds a code is valid
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5  # wrong entries before the code is void
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True  # at sign-up: "send a new code", twice
# Codes sent: per number 1 a minute, 5 an hour, 10 a day (what Chinese SMS providers
# allow); per address 5 a minute. Asking for a code: 5 a minute per member.
ACCOUNT_RATE_LIMITS = {
    "verify_phone": "1/m/key,5/h/key,10/d/key,5/m/ip",
    "change_phone": "5/m/user",
}
# The phone forms say "too many codes" on the form rather than failing (members.forms).
ACCOUNT_FORMS = {
    "change_phone": "members.forms.PhoneChangeForm",
    "verify_phone": "members.forms.PhoneVerifyForm",
}
# Text messages (o2o/sms.py): a dotted path to the backend; a provider's keys and
# template ids come from the environment too (SMS_* settings of its own).
SMS_BACKEND = env("SMS_BACKEND", default="o2o.sms.ConsoleBackend")
# The console backend writes codes in clear only with DEBUG on or this set (make run).
SMS_CONSOLE_CLEAR = env.bool("SMS_CONSOLE_CLEAR", default=False)
ACCOUNT_LOGOUT_ON_GET = False
# A taken email or number is said plainly on the sign-up form (shoppers expect it);
# allauth's login and sign-up rate limits stand against enumeration by brute force.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
# Password guessing (django-axes): AXES_FAILURE_LIMIT wrong passwords for one account, or
# from one client address, within AXES_COOLOFF_TIME lock that account or address out of
# every login (admin and shop) until the time has passed; a right password then is
# refused too. Per account, so guessing one staff password from many addresses stops;
# per address, so one address cannot spray many accounts. A successful login resets the
# count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "o2o.net.client_ip"
AXES_USERNAME_CALLABLE = "o2o.net.login_name"
AXES_LOCKOUT_TEMPLATE = "429.html"
AXES_VERBOSE = False
# The second factor of staff (django-otp TOTP, o2o/admin_site.py): optional per person
# (whoever confirms an authenticator must use it); True makes it compulsory for staff.
ADMIN_OTP_REQUIRED = env.bool("ADMIN_OTP_REQUIRED", default=False)
OTP_TOTP_ISSUER = "Jinyuan Jewellery"

PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# --- Mail -----------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A mail provider's API instead of SMTP, through django-anymail: EMAIL_PROVIDER names its
# backend (mailgun, amazon_ses, postmark, sendgrid, brevo, ...: anymail.backends.<name>)
# and the environment's ANYMAIL_* variables become its settings (ANYMAIL_MAILGUN_API_KEY
# -> ANYMAIL["MAILGUN_API_KEY"]). The outbox's Message-ID header goes through as it is.
EMAIL_PROVIDER = env("EMAIL_PROVIDER", default="").strip()
if EMAIL_PROVIDER:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in os.environ.items()
               if key.startswith("ANYMAIL_")}
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)  # seconds; a hung SMTP server ends

# --- The outbox (o2o.outbox): every email and text message -----------------------------
# Messages claimed per round, how long a claim (lease) lasts before another worker may
# take the rows back, attempts before a message is marked failed, the first retry's
# delay (doubling up to the max), text messages per provider call.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_SWEEP_BUDGET_SECONDS = env.int("OUTBOX_SWEEP_BUDGET_SECONDS", default=50)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_SMS_CALL_SIZE = env.int("OUTBOX_SMS_CALL_SIZE", default=100)
# The domain of the Message-IDs the outbox makes; empty: DEFAULT_FROM_EMAIL's.
OUTBOX_MESSAGE_ID_DOMAIN = env("OUTBOX_MESSAGE_ID_DOMAIN", default="")
# Quiet hours (shop time): surveys, campaigns and journeys wait until they end
# (o2o.quiet_hours). "HH:MM-HH:MM"; empty: none.
QUIET_HOURS = env("QUIET_HOURS", default="21:00-09:00")
# The sender's name is the shop's brand (SHOP_NAME, else 金缘珠宝).
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{env('SHOP_NAME', default='') or '金缘珠宝'} "
                         "<noreply@o2o-jewelry.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- I18n: Simplified Chinese by default, English beside it -----------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # each in its own language
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django's date formats per language, with the shop's few overrides (o2o/formats).
FORMAT_MODULE_PATH = ["o2o.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Money ------------------------------------------------------------------------
CURRENCY = env("CURRENCY", default="CNY")
# How long an online order waits for its payment, and a pickup paid at the counter.
ORDER_PAYMENT_MINUTES = env.int("ORDER_PAYMENT_MINUTES", default=30)

# Loyalty (members.services.points): points earned per yuan paid (times the tier's
# multiplier), what one point is worth when redeemed, and the largest share of an order
# (after its coupon) that points may pay.
LOYALTY_POINTS_PER_YUAN = Decimal(env("LOYALTY_POINTS_PER_YUAN", default="1"))
LOYALTY_POINT_VALUE = Decimal(env("LOYALTY_POINT_VALUE", default="0.01"))
LOYALTY_REDEEM_MAX_SHARE = Decimal(env("LOYALTY_REDEEM_MAX_SHARE", default="0.5"))
LOYALTY_SPEND_MONTHS = env.int("LOYALTY_SPEND_MONTHS", default=12)
# Coupon codes typed by one visitor (per member and per IP), django-ratelimit syntax.
COUPON_CHECK_RATE = env("COUPON_CHECK_RATE", default="20/m")
PAY_AT_COUNTER_DAYS = env.int("PAY_AT_COUNTER_DAYS", default=3)
# Pickup-code lookups at the desk (django-ratelimit rates): per clerk and per store.
PICKUP_LOOKUP_RATE_USER = env("PICKUP_LOOKUP_RATE_USER", default="30/m")
PICKUP_LOOKUP_RATE_STORE = env("PICKUP_LOOKUP_RATE_STORE", default="120/m")
# Holding pieces without paying (orders.services.checkout; docs/decisions.md): lines in
# a cart; checkouts per client address and per contact (django-ratelimit rates); open
# unpaid orders and their value per contact (member, mobile, email), more for a member
# whose mobile is verified; a pickup paid at the counter by anyone else: one order of at
# most this much.
CART_MAX_LINES = env.int("CART_MAX_LINES", default=20)
CHECKOUT_RATE_CLIENT = env("CHECKOUT_RATE_CLIENT", default="10/m")
CHECKOUT_RATE_CONTACT = env("CHECKOUT_RATE_CONTACT", default="10/h")
HOLD_MAX_ORDERS = env.int("HOLD_MAX_ORDERS", default=3)
HOLD_MAX_VALUE = env.int("HOLD_MAX_VALUE", default=100_000)
HOLD_MAX_VALUE_VERIFIED = env.int("HOLD_MAX_VALUE_VERIFIED", default=300_000)
HOLD_COUNTER_GUEST_MAX_VALUE = env.int("HOLD_COUNTER_GUEST_MAX_VALUE", default=20_000)
# A guest's cart is forgotten after this many days without a change.
GUEST_CART_DAYS = env.int("GUEST_CART_DAYS", default=30)

# --- Payments -----------------------------------------------------------------------
# Stripe Checkout takes online payments when its secret key is set. The offline test
# gateway ("Pay" without money: the demo, the tests) only where PAYMENT_TEST_GATEWAY says
# so; with neither, online payment is refused with a clear message (pickups can still be
# paid at the counter) and `check --deploy` reports it.
PAYMENT_TEST_GATEWAY = env.bool("PAYMENT_TEST_GATEWAY", default=False)
# Development pages (/bench/bare, /api/docs/): never in production.
DEV_ENDPOINTS = env.bool("DEV_ENDPOINTS", default=False)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Another address for Stripe's API (the tests' local stand-in); empty: Stripe itself.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# --- Static and media --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# The embedded shop and the compose file serve media through Django (one process to
# run); a CDN or object store can take over by turning this off.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["o2o.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "o2o.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "O2O Jewelry API",
    "DESCRIPTION": "Catalog, stores, orders and members of the O2O jewelry shop.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every operation lists the errors any request may get (o2o/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "o2o.api_schema.errors_documented",
    ],
    # Nothing from a CDN (offline, and unreliable in mainland China): the sidecar's copy.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Catalog import/export (django-import-export): all rows or none -------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Demo and shop ------------------------------------------------------------------
# Where links in emails point (order and try-on links; password resets use the request).
# `make run` sets it to the address it serves (o2o.devstack); production requires it.
SHOP_BASE_URL = env("SHOP_BASE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}")
SHOP_NAME = env("SHOP_NAME", default="")  # empty: the translated default brand name
DEMO_PASSWORD = env("DEMO_PASSWORD", default="o2o-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "o2o.logging.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django.request": {"filters": ["refusal_without_traceback"]}},
}

# --- After-sales ----------------------------------------------------------------------
# A piece can be returned (refunded and restocked) this many days after it reached the shopper.
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=7)

# --- Marketing (marketing app): segments, campaigns, the reach pipeline ---------------
# The frequency cap across every campaign and journey: at most this many marketing
# messages to one member in this many days.
MARKETING_CAP_MESSAGES = env.int("MARKETING_CAP_MESSAGES", default=2)
MARKETING_CAP_DAYS = env.int("MARKETING_CAP_DAYS", default=7)
# Recipients a campaign sender claims and reaches in one transaction.
MARKETING_BATCH_SIZE = env.int("MARKETING_BATCH_SIZE", default=500)
# A text message may be at most this long, with the coupon code and opt-out words
# (two provider segments of 67 characters).
MARKETING_SMS_MAX_CHARS = env.int("MARKETING_SMS_MAX_CHARS", default=134)
# Orders and redemptions within this many days after a reach count towards it.
MARKETING_ATTRIBUTION_DAYS = env.int("MARKETING_ATTRIBUTION_DAYS", default=7)
# The SMS provider's reply callback (opt-out words) sends this in X-Reply-Token; empty: off.
MARKETING_SMS_REPLY_TOKEN = env("MARKETING_SMS_REPLY_TOKEN", default="")
# What signed-in members viewed is kept this many days for the segments' "viewed" rule
# (marketing.MemberView: folded from Redis by beat, older rows pruned nightly).
MARKETING_VIEWS_DAYS = env.int("MARKETING_VIEWS_DAYS", default=90)

# --- Feedback (feedback app): surveys after the moments of the loop -------------------
# One survey per member (or guest contact) at most every this many days (0: no cap).
FEEDBACK_MEMBER_CAP_DAYS = env.int("FEEDBACK_MEMBER_CAP_DAYS", default=30)
# A survey link works this many days after its invitation is due.
FEEDBACK_LINK_DAYS = env.int("FEEDBACK_LINK_DAYS", default=14)
# A follow-up case is due this many hours after it opens; past that, head office is told.
FEEDBACK_CASE_DUE_HOURS = env.int("FEEDBACK_CASE_DUE_HOURS", default=48)
# Answers left half way count as given after this many minutes without a change.
FEEDBACK_PARTIAL_FINAL_MINUTES = env.int("FEEDBACK_PARTIAL_FINAL_MINUTES", default=60)
# Where a happy shopper may leave a public review (shown after a 9 or 10; nothing is
# posted for them). Empty: not offered.
FEEDBACK_REVIEW_URL = env("FEEDBACK_REVIEW_URL", default="")
