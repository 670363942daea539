"""Every page names the site's icon, so a browser does not ask for /favicon.ico (a 404 in its
console on every page) and a tab shows the product's mark."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_names_an_icon_that_the_static_files_hold(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()

    found = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', page)

    assert found is not None
    icon = finders.find(found[1])
    assert icon is not None
    with open(icon, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg ")
