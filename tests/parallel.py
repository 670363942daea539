"""Running the same call in real threads at once, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection, connections

T = TypeVar("T")

postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency is proven on PostgreSQL only; set DATABASE_URL=postgres://...",
    ),
    # The rows data migrations create (T3 policy, System type) are put back before each
    # transactional test by tests/conftest.py.
    pytest.mark.django_db(transaction=True),
]


def run_at_once(call: Callable[[int], T], n: int) -> list[T]:
    """Run `call(i)` for i in range(n) in n threads released together; re-raise any error."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def run_each_at_once(call: Callable[[int], T], n: int) -> list[T | None]:
    """Like run_at_once, but keeps every result in thread order (None included)."""
    slots: list[T | None] = [None] * n

    def keep(i: int) -> bool:
        slots[i] = call(i)
        return True

    run_at_once(keep, n)
    return slots
