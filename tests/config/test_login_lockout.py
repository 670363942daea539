"""Login attempts are limited per username (django-axes): after 10 failed logins for one
username, each within 15 minutes of the previous, that username is refused, the right password
too, and the login page says so and for how long; 15 minutes after the tenth failure it may log
in again (attempts while locked do not extend the lock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def user(db: Any) -> Any:
    user = factories.UserFactory(username="advisor7")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(username: str, password: str) -> Any:
    """One login through the page, in a fresh browser; the answer and whether it logged in."""
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def fail(username: str, times: int) -> list[int]:
    """`times` wrong passwords; the status of each answer (200: the form again, 429: locked)."""
    answers = []
    for _ in range(times):
        response, logged_in = attempt(username, "wrong-password")
        assert not logged_in
        answers.append(response.status_code)
    return answers


def test_ten_failures_lock_the_username_even_for_the_right_password(user: Any) -> None:
    assert fail(user.username, 10) == [200] * 9 + [429]  # the tenth answer says it is locked

    response, logged_in = attempt(user.username, PASSWORD)

    assert response.status_code == 429
    assert not logged_in
    page = response.content.decode()
    assert "Too many failed logins for this username (10 in a row)" in page
    assert "even with the right password, for 15 more minutes" in page
    assert 'name="password"' in page  # still the login page, with its form
    assert 899 <= int(response["Retry-After"]) <= 900


def test_nine_failures_still_let_the_right_password_in(user: Any) -> None:
    assert fail(user.username, 9) == [200] * 9

    response, logged_in = attempt(user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in


def test_a_successful_login_starts_the_count_again(user: Any) -> None:
    fail(user.username, 9)
    assert attempt(user.username, PASSWORD)[1]
    fail(user.username, 9)

    assert attempt(user.username, PASSWORD)[1]


def test_the_lock_lifts_fifteen_minutes_after_the_tenth_failure(user: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(user.username, 10)
        clock.shift(timedelta(minutes=10))
        locked, _ = attempt(user.username, PASSWORD)
        assert locked.status_code == 429
        assert "for 5 more minutes" in locked.content.decode()
        assert locked["Retry-After"] == "300"
        assert fail(user.username, 3) == [429] * 3  # attempts while locked do not extend it
        clock.shift(timedelta(minutes=5, seconds=1))

        response, logged_in = attempt(user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in


def test_failures_spread_wider_than_fifteen_minutes_do_not_lock(user: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(user.username, 9)
        clock.shift(timedelta(minutes=16))
        fail(user.username, 9)

        assert attempt(user.username, PASSWORD)[1]


def test_a_locked_username_does_not_lock_anyone_else(user: Any) -> None:
    other = factories.UserFactory(username="advisor8")
    other.set_password(PASSWORD)
    other.save()
    fail(user.username, 10)

    assert attempt(other.username, PASSWORD)[1]


def test_the_admin_login_is_limited_the_same_way(user: Any) -> None:
    user.is_staff = True
    user.save()
    fail(user.username, 10)

    response = Client().post(
        "/admin/login/", {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
