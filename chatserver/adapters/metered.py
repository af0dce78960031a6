"""The drivers' own hooks, counted for ``/metrics``: Redis round trips (a redis-py connection class) and MongoDB
commands (a PyMongo command listener). Labels: the command name from a fixed list, an outcome, an error kind."""

from __future__ import annotations

from typing import Any, TypeVar

from pymongo import monitoring
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatserver import metrics

C = TypeVar("C", bound=type[AbstractConnection])


def metered_connection(base: C) -> C:
    """A subclass of ``base`` that counts each round trip (a command or a whole pipeline) and each failure."""

    class Metered(base):  # type: ignore[valid-type,misc]
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            metrics.REDIS_ROUND_TRIPS.inc()
            try:
                await super().send_packed_command(command, check_health)
            except BaseException as exc:
                metrics.REDIS_ERRORS.labels(_kind(exc)).inc()
                raise

    Metered.__name__ = f"Metered{base.__name__}"
    return Metered  # type: ignore[return-value]


def _kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | RedisTimeoutError):
        return "timeout"
    if isinstance(exc, RedisConnectionError | ConnectionError | OSError):
        return "connection"
    return "other"


class MongoCommandCounter(monitoring.CommandListener):
    """Counts MongoDB commands and their durations (PyMongo calls it for every command, sync or async)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        metrics.MONGO_COMMANDS_TOTAL.labels(metrics.mongo_command(event.command_name), "ok").inc()
        metrics.MONGO_SECONDS.observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        metrics.MONGO_COMMANDS_TOTAL.labels(metrics.mongo_command(event.command_name), "error").inc()
        metrics.MONGO_SECONDS.observe(event.duration_micros / 1e6)
