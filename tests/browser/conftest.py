"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check must
be relaxed for these tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Repaint whole tiles: repainting only the changed part of a tile (a field that was typed
    # in) antialiased rounded corners one shade apart on about one run in ten, which changed
    # screenshots of unchanged pages.
    "--disable-partial-raster",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's password


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is missing at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


class Session:
    """A logged-in browser tab on the live server."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def login(self, username: str) -> Session:
        self.page.goto(f"{self.base_url}/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(f"{self.base_url}/")
        return self

    def open(self, path: str) -> Any:
        return self.page.goto(f"{self.base_url}{path}")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # From the top, once painted, with animations finished: a full-page shot taken while the
        # page is scrolled (a field filled below the fold) antialiased rounded corners
        # differently from run to run.
        self.page.evaluate(
            "() => { window.scrollTo(0, 0); return new Promise((done) =>"
            " requestAnimationFrame(() => requestAnimationFrame(done))); }"
        )
        self.page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled"
        )


@pytest.fixture
def session(page: Any, live_server: Any) -> Session:
    return Session(page, live_server.url)


NY = ZoneInfo("America/New_York")
# Tuesday 2026-12-01, 15:00 in New York: every browser test starts here.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=NY)


@pytest.fixture(autouse=True)
def fixed_clock(settings: Any) -> Iterator[None]:
    """The server (test thread and live-server thread alike) starts every test at NOW, so the
    dates and times a page shows, and the screenshots of it, are the same on every run.

    The clock ticks (a page polling for news, a text's wait, the order of rows written one after
    another all need time to move) and a test takes seconds, so a page shown to the minute shows
    the same minute every run. Chromium keeps the real clock: the session and CSRF cookies still
    live in it, because Django sends them with Max-Age (counted by the browser from its own now)
    as well as Expires, and Chromium obeys Max-Age. A module needing another date travels again
    inside this one."""
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def same_names_every_run() -> None:
    """Faker-made names, and the numbered emails, SIS ids and phone numbers the factories make,
    are the same on every run and whichever tests run before, so the committed screenshots only
    change when a page does."""
    import itertools

    import factory.random

    from tests import factories
    from tests.factories import assignments

    factory.random.reseed_random("browser-screenshots")
    for made in vars(factories).values():
        if (
            isinstance(made, type)
            and issubclass(made, factory.django.DjangoModelFactory)
            and made._meta.counter_reference is made._meta
        ):
            made.reset_sequence()
    factories._numbers = itertools.count(1000)
    assignments._seq = itertools.count(1)


@pytest.fixture(autouse=True)
def migration_data_in_transactional_tests(transactional_db: None) -> None:
    """Replaces tests/conftest.py's fixture of this name for the browser tests: the numbering
    of every table restarts (after the previous test's flush) before the rows data migrations
    make are put back, so the ids pages show (a text's number in the message report, a group
    text's number, a phone's id) are the same on every run and whichever tests run before."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    from tests.conftest import _reseed_migration_data

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)
    _reseed_migration_data()
