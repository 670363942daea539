"""`manage.py check --deploy` refuses the embedded defaults in production and passes once the
operator variables are production-like. Each case runs manage.py in a fresh process."""

from __future__ import annotations

import subprocess

import pytest

from tests.config.subprocess_env import run

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3Xq9-Vd2LmZp8Rt0Yw4Hs6Bn1Jc5Fg7Ua-Ee2Oi9Pk4Ql8Ts3Wx6Zy0Mb5Nv7Cr1",
    "DJANGO_ALLOWED_HOSTS": "sms.example.edu",
    "DATABASE_URL": "postgres://app@db.internal:5432/sms",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "real-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
    "PUBLIC_BASE_URL": "https://sms.example.edu",
}


def check_deploy(**variables: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy"], **variables)


def test_production_with_embedded_defaults_fails_naming_each_one() -> None:
    result = check_deploy(DJANGO_DEBUG="false")
    assert result.returncode == 1
    assert "SQLite is the embedded default" in result.stderr
    assert "Celery tasks run in-process" in result.stderr
    assert "local Twilio sandbox" in result.stderr
    assert "PUBLIC_BASE_URL" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    for code in ("sms.E001", "sms.E002", "sms.E003", "sms.E004", "sms.E005"):
        assert code in result.stderr


def test_production_like_variables_pass_the_deploy_check() -> None:
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "sms.E" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        ("DATABASE_URL", "sms.E001"),
        ("REDIS_URL", "sms.E002"),
        ("TWILIO_AUTH_TOKEN", "sms.E003"),
        ("PUBLIC_BASE_URL", "sms.E004"),
        ("DJANGO_SECRET_KEY", "sms.E005"),
    ],
)
def test_each_missing_production_variable_fails_with_its_own_error(missing: str, code: str) -> None:
    variables = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = check_deploy(**variables)
    assert result.returncode == 1
    assert code in result.stderr
    assert [c for c in ("E001", "E002", "E003", "E004", "E005") if f"sms.{c}" in result.stderr] == [
        code.removeprefix("sms.")
    ]


def test_a_celery_broker_url_satisfies_the_broker_check() -> None:
    variables = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    result = check_deploy(**variables, CELERY_BROKER_URL="redis://redis.internal:6379/1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://localhost", "http://sms.example.edu"]
)
def test_a_local_or_plain_http_public_base_url_fails(url: str) -> None:
    result = check_deploy(**{**PRODUCTION, "PUBLIC_BASE_URL": url})
    assert result.returncode == 1
    assert "sms.E004" in result.stderr


def test_the_embedded_defaults_are_fine_while_debugging() -> None:
    result = check_deploy()
    assert result.returncode == 0, result.stderr
    assert "sms.E" not in result.stdout + result.stderr


def test_the_https_variables_clear_every_deploy_warning() -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        DJANGO_SSL_REDIRECT="true",
        DJANGO_HSTS_SECONDS="31536000",
        DJANGO_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_HSTS_PRELOAD="true",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_the_https_variables_django_warns_about_hsts_and_redirects() -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 1
    assert "security.W004" in result.stderr
    assert "security.W008" in result.stderr
