"""Each operator variable switches its own part of the product to production (the
README's operator table); with none set the product runs embedded. Settings are imported in a
fresh process."""

from __future__ import annotations

from tests.config.subprocess_env import run, settings_of

NAMES = [
    "DEBUG",
    "DATABASES",
    "CACHES",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "TWILIO_SANDBOX",
    "TWILIO_API_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "EMAIL_BACKEND",
    "PUBLIC_BASE_URL",
    "TIME_ZONE",
]


def test_with_no_environment_the_product_runs_embedded() -> None:
    values = settings_of(NAMES)
    assert values["DEBUG"] is True
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["TWILIO_SANDBOX"] is True
    assert values["TWILIO_API_BASE_URL"].startswith("http://127.0.0.1:")
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_database_url_switches_only_the_database() -> None:
    values = settings_of(NAMES, DATABASE_URL="postgres://app:secret@db.internal:5433/sms")
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 5433, "sms")
    assert (database["USER"], database["PASSWORD"]) == ("app", "secret")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["TWILIO_SANDBOX"] is True


def test_redis_url_runs_tasks_on_a_broker_and_caches_in_redis() -> None:
    values = settings_of(NAMES, REDIS_URL="redis://cache.internal:6379/3")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == "redis://cache.internal:6379/3"
    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/3",
        "OPTIONS": {"socket_timeout": 5.0, "socket_connect_timeout": 5.0},
    }
    assert values["DATABASES"]["default"]["ENGINE"].endswith("sqlite3")


def test_a_redis_celery_broker_url_alone_also_switches_tasks_and_cache() -> None:
    values = settings_of(NAMES, CELERY_BROKER_URL="redis://broker.internal:6379/1")
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == "redis://broker.internal:6379/1"
    assert values["CACHES"]["default"]["LOCATION"] == "redis://broker.internal:6379/1"


def test_celery_broker_url_wins_over_redis_url_for_tasks() -> None:
    values = settings_of(
        NAMES, REDIS_URL="redis://cache.internal/3", CELERY_BROKER_URL="redis://broker.internal/1"
    )
    assert values["CELERY_BROKER_URL"] == "redis://broker.internal/1"
    assert values["CACHES"]["default"]["LOCATION"] == "redis://cache.internal/3"


def test_twilio_credentials_leave_the_sandbox_and_talk_to_twilio() -> None:
    values = settings_of(
        NAMES,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="real-token",
        TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32,
    )
    assert values["TWILIO_SANDBOX"] is False
    assert values["TWILIO_ACCOUNT_SID"] == "AC" + "1" * 32
    assert values["TWILIO_API_BASE_URL"] == ""
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True


def test_a_twilio_sid_without_a_token_stays_in_the_sandbox() -> None:
    values = settings_of(NAMES, TWILIO_ACCOUNT_SID="AC" + "1" * 32)
    assert values["TWILIO_SANDBOX"] is True


def test_twilio_api_base_url_sends_real_credentials_to_an_emulator() -> None:
    values = settings_of(
        NAMES,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="real-token",
        TWILIO_API_BASE_URL="http://127.0.0.1:4010",
    )
    assert values["TWILIO_SANDBOX"] is False
    assert values["TWILIO_API_BASE_URL"] == "http://127.0.0.1:4010"


def test_email_url_switches_email_to_smtp_with_starttls() -> None:
    values = settings_of(
        [
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
        ],
        EMAIL_URL="smtp+tls://mailer%40example.edu:p%40ss@smtp.example.edu:2587",
    )
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.edu",
        "EMAIL_PORT": 2587,
        "EMAIL_HOST_USER": "mailer@example.edu",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_an_smtps_email_url_uses_implicit_tls_on_port_465() -> None:
    values = settings_of(
        ["EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL"], EMAIL_URL="smtps://smtp.example.edu"
    )
    assert values == {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True}


def test_an_unknown_email_url_scheme_stops_the_start_with_a_clear_message() -> None:
    result = run(
        [
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
            "import django; django.setup()",
        ],
        EMAIL_URL="smpt://smtp.example.edu",
    )
    assert result.returncode != 0
    assert "EMAIL_URL scheme 'smpt' is not known" in result.stderr


def test_djangos_own_email_backend_variable_is_honoured() -> None:
    values = settings_of(
        ["EMAIL_BACKEND", "EMAIL_FILE_PATH"],
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH="/tmp/mail-out",
    )
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/tmp/mail-out",
    }


def test_django_variables_switch_debug_hosts_and_time_zone() -> None:
    values = settings_of(
        ["DEBUG", "ALLOWED_HOSTS", "TIME_ZONE", "CELERY_TIMEZONE", "SESSION_COOKIE_SECURE"],
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="sms.example.edu, admin.example.edu",
        TIME_ZONE="America/Chicago",
    )
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["sms.example.edu", "admin.example.edu"],
        "TIME_ZONE": "America/Chicago",
        "CELERY_TIMEZONE": "America/Chicago",
        "SESSION_COOKIE_SECURE": True,
    }


def test_public_base_url_loses_its_trailing_slash() -> None:
    values = settings_of(["PUBLIC_BASE_URL"], PUBLIC_BASE_URL="https://sms.example.edu/")
    assert values["PUBLIC_BASE_URL"] == "https://sms.example.edu"


def test_yes_no_variables_accept_the_usual_words_in_any_case() -> None:
    for word, expected in [("FALSE", False), (" no ", False), ("0", False), ("Off", False)]:
        assert settings_of(["DEBUG"], DJANGO_DEBUG=word) == {"DEBUG": expected}, word
    for word in ("True", "1", "YES", "on"):
        assert settings_of(["DEBUG"], DJANGO_DEBUG=word) == {"DEBUG": True}, word
    assert settings_of(["DEBUG"], DJANGO_DEBUG="") == {"DEBUG": True}  # empty: the default


def test_a_yes_no_variable_with_a_typo_stops_the_start_naming_it_and_the_accepted_values() -> None:
    result = run(
        [
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
            "import django; django.setup()",
        ],
        DJANGO_DEBUG="false",
        DJANGO_SECURE_COOKIES="ture",
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECURE_COOKIES='ture' is not a yes/no value" in (
        result.stderr
    )
    assert "use true or false (also accepted: 1, yes, on / 0, no, off, any case)" in result.stderr
