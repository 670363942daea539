"""Kombu's Redis transport, kept usable after Celery has closed a broken broker connection, so a
worker holding a task when Redis goes away stays up and carries on when Redis returns.

Celery 5.7 / kombu 5.7, on losing the broker connection: `Consumer.on_connection_error_after_
connected` first calls `connection.collect()`, which detaches the transport from its connection
(`transport.client = None`), then `connection.close()`, which closes the channel. Closing the
channel drops its Redis pools and then puts the unacknowledged task back (`restore_unacked`);
building a new pool for that reads `transport.client.hostname`, and the AttributeError that
follows is not a connection error, so the worker stops ("Unrecoverable error: AttributeError
... 'hostname'"). The same happens later to the ack of the task that was running. It happens
only when the worker holds an unacknowledged task (acks_late), which is always the case here
mid-send.

This channel remembers the parameters it connected with and uses them once the transport has
been detached: the restore and the late ack then reach Redis if it is back, or fail with a
Redis ConnectionError, which kombu and Celery handle as the connection error it is (the task
stays in Redis's unacked set and is redelivered after the visibility timeout; the send tasks
are idempotent and the sweep settles a text left in flight).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """A Redis channel whose pools can be rebuilt after its transport was detached."""

    def _connparams(self, asynchronous: bool = False) -> Any:
        remembered: dict[bool, Any] = self.__dict__.setdefault("_remembered_connparams", {})
        if self.connection.client is not None:
            # kombu's type stubs do not declare this private method.
            kombu_channel: Any = kombu_redis.Channel
            remembered[asynchronous] = kombu_channel._connparams(self, asynchronous=asynchronous)
            return dict(remembered[asynchronous])
        if asynchronous not in remembered:
            raise RedisConnectionError("the broker connection was closed")
        return dict(remembered[asynchronous])


class Transport(kombu_redis.Transport):
    """The Redis transport with :class:`Channel`: `CELERY_BROKER_TRANSPORT` names it."""

    Channel = Channel
