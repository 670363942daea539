"""Bench-only settings: the product's settings plus a URL map with the bare reference view."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.inbox.urls"
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}
