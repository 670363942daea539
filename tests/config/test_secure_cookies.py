"""With DJANGO_DEBUG=false, cookies are https-only (DJANGO_SECURE_COOKIES, default true). Over
plain http a browser then never sends them back: the login form is refused with a page saying
why and naming the variable; with DJANGO_SECURE_COOKIES=false the same login works. Driven
through a real HTTP server with `requests`, which, like a browser, keeps Secure cookies off
plain http."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests import factories
from tests.config.subprocess_env import settings_of
from tests.flows.test_person_page_flow import hidden

PASSWORD = "correct-horse-battery-staple"
NAMES = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]


def test_cookies_are_https_only_with_debug_off_unless_switched_off() -> None:
    assert settings_of(NAMES, DJANGO_DEBUG="false") == dict.fromkeys(NAMES, True)
    assert settings_of(NAMES, DJANGO_DEBUG="false", DJANGO_SECURE_COOKIES="false") == (
        dict.fromkeys(NAMES, False)
    )


def log_in(base: str) -> requests.Response:
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=10).text
    return session.post(
        f"{base}/accounts/login/",
        data={
            "username": "advisor9",
            "password": PASSWORD,
            "csrfmiddlewaretoken": hidden(form, "csrfmiddlewaretoken"),
        },
        timeout=10,
        allow_redirects=False,
    )


@pytest.fixture
def user(transactional_db: Any) -> Any:
    user = factories.UserFactory(username="advisor9")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_over_plain_http_secure_cookies_refuse_the_login_saying_why(
    live_server: Any, settings: Any, user: Any
) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    response = log_in(live_server.url)

    assert response.status_code == 403
    assert "opened over plain http" in response.text
    assert "DJANGO_SECURE_COOKIES=false" in response.text


def test_over_plain_http_the_login_works_once_secure_cookies_are_off(
    live_server: Any, settings: Any, user: Any
) -> None:
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False

    response = log_in(live_server.url)

    assert response.status_code == 302
    assert "sessionid" in response.cookies


def test_a_stale_form_token_is_explained_too(live_server: Any, user: Any) -> None:
    session = requests.Session()
    session.get(f"{live_server.url}/accounts/login/", timeout=10)

    response = session.post(
        f"{live_server.url}/accounts/login/",
        data={"username": "advisor9", "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64},
        timeout=10,
    )

    assert response.status_code == 403
    assert "Reload the page and try again" in response.text
