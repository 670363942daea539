"""Bench-only settings: the product's settings plus a URL map with the reference view."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import LOGGING

DEBUG = False
ROOT_URLCONF = "bench.webhooks.urls"
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}
