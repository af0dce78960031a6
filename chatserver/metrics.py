"""The service metrics of this process in Prometheus form (prometheus-client), for ``GET /metrics``.

Labels are bounded by construction: an outcome is one of a closed set, a command name one of the listed ones
(else ``other``), a job one of the wiring's job names; never an account, session, channel or address.

The live path only ever does an in-process increment here (no I/O, no task): deliveries are counted once per
channel per loop turn, not per socket, and the fan-out latency is observed once per loop turn. Gauges that
describe objects (connections, subscriptions, queues) are read when ``/metrics`` is scraped.

One registry per process, on purpose, unlike the rest of the server's state, which the composition root owns:
what Prometheus scrapes is the process, and the drivers' hooks (PyMongo's command listener, redis-py's
connection class) are created before any container exists. Tests read differences, never absolute values.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

P = TypeVar("P", bound=Callable[..., Awaitable[Any]])
B = TypeVar("B", bound=Callable[..., Awaitable[None]])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAST_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
PUBLISH_OUTCOMES = ("ok", "duplicate", "held", "refused", "unavailable", "error")
MONGO_COMMANDS = frozenset(
    {"insert", "find", "update", "delete", "findAndModify", "aggregate", "getMore", "count", "createIndexes",
     "bulkWrite", "distinct", "ping", "hello", "buildInfo", "endSessions", "killCursors"}
)  # fmt: skip

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

DELIVERIES = Counter(
    "chatserver_deliveries", "Frames written to live sockets (a frame to each member of a channel)", registry=REGISTRY
)
FANOUT_SECONDS = Histogram(
    "chatserver_fanout_seconds",
    "From an event's arrival from Redis to the write to the local sockets (one observation per loop turn)",
    buckets=FAST_BUCKETS_S,
    registry=REGISTRY,
)
PUBLISHES = Counter(
    "chatserver_publishes", "Chat messages published, by how the sender was answered", ["outcome"], registry=REGISTRY
)
PUBLISH_SECONDS = Histogram(
    "chatserver_publish_seconds", "From a publish to its acknowledgement", buckets=FAST_BUCKETS_S, registry=REGISTRY
)
COMMIT_SIZE = Histogram(
    "chatserver_group_commit_size", "Events per group commit", buckets=SIZE_BUCKETS, registry=REGISTRY
)
COMMIT_SECONDS = Histogram(
    "chatserver_group_commit_seconds",
    "Duration of a group commit's insert_many",
    buckets=FAST_BUCKETS_S,
    registry=REGISTRY,
)
REDIS_ROUND_TRIPS = Counter("chatserver_redis_round_trips", "Commands or pipelines sent to Redis", registry=REGISTRY)
REDIS_ERRORS = Counter("chatserver_redis_errors", "Redis round trips that failed", ["kind"], registry=REGISTRY)
MONGO_COMMANDS_TOTAL = Counter(
    "chatserver_mongodb_commands", "MongoDB commands, by command and outcome", ["command", "outcome"], registry=REGISTRY
)
MONGO_SECONDS = Histogram(
    "chatserver_mongodb_command_seconds", "MongoDB command durations", buckets=FAST_BUCKETS_S, registry=REGISTRY
)
JOB_RUNS = Counter(
    "chatserver_job_runs", "Background job rounds, by job and outcome", ["job", "outcome"], registry=REGISTRY
)
JOB_SECONDS = Histogram("chatserver_job_seconds", "Background job round durations", ["job"], registry=REGISTRY)
# Children bound once: the publish path does a dict look-up and an increment, not a label resolution.
PUBLISHED = {outcome: PUBLISHES.labels(outcome) for outcome in PUBLISH_OUTCOMES}


def mongo_command(name: str) -> str:
    return name if name in MONGO_COMMANDS else "other"


def publish_outcome(name: str) -> str:
    return name if name in PUBLISH_OUTCOMES else "error"


class LiveGauges(Collector):
    """Gauges read at scrape time from the objects that hold them (set by the live feature at start-up)."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, Callable[[], float]]] = {}

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self.sources[name] = (documentation, read)

    def collect(self):  # type: ignore[no-untyped-def]
        for name, (documentation, read) in list(self.sources.items()):
            value = _read(read)
            if value is not None:  # a source that went away (a stopped app in tests) is left out
                yield GaugeMetricFamily(name, documentation, value=value)

    def describe(self):  # type: ignore[no-untyped-def]
        return []


def _read(read: Callable[[], float]) -> float | None:
    try:
        return float(read())
    except Exception:
        return None


GAUGES = LiveGauges()
REGISTRY.register(GAUGES)

# Gauges that only exist once something set them; listed so that a scrape always shows them.
for _name, _doc in (
    ("chatserver_connections", "Live WebSocket connections of this process"),
    ("chatserver_subscriptions", "Redis channel subscriptions held by this process"),
    ("chatserver_commit_queue", "Events waiting for the next group commit"),
    ("chatserver_reflectie_pending", "Reflectietafel counters waiting for the next flush"),
):
    GAUGES.watch(_name, _doc, lambda: 0.0)


def timed_publish(publish: P) -> P:
    """Count a publish by how it was answered, and time it (wraps ``ChatService.do_publish``)."""

    @functools.wraps(publish)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            acked = await publish(*args, **kwargs)
            outcome = "held" if acked.held else "duplicate" if acked.duplicate else "ok"
            return acked
        except Exception as exc:
            code = getattr(getattr(exc, "code", None), "name", "")
            outcome = "unavailable" if code == "UNAVAILABLE" else "refused" if code else "error"
            raise
        finally:
            PUBLISHED[outcome].inc()
            PUBLISH_SECONDS.observe(time.perf_counter() - started)

    return wrapper  # type: ignore[return-value]


def timed_batch(insert: B) -> B:
    """Time a group commit's ``insert_many`` and count its size (wraps ``EventStore.insert_batch``)."""

    @functools.wraps(insert)
    async def wrapper(self: Any, docs: list[Any]) -> None:
        started = time.perf_counter()
        COMMIT_SIZE.observe(len(docs))
        try:
            await insert(self, docs)
        finally:
            COMMIT_SECONDS.observe(time.perf_counter() - started)

    return wrapper  # type: ignore[return-value]


def metered_job(name: str, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    """A job's work, counted per round (``name`` is one of the wiring's job names: bounded)."""
    done, failed = JOB_RUNS.labels(name, "ok"), JOB_RUNS.labels(name, "error")
    seconds = JOB_SECONDS.labels(name)

    async def run() -> object:
        started = time.perf_counter()
        try:
            result = await work()
        except BaseException:
            failed.inc()
            raise
        finally:
            seconds.observe(time.perf_counter() - started)
        done.inc()
        return result

    return run


def exposition() -> bytes:
    """The text format for ``GET /metrics``."""
    return generate_latest(REGISTRY)


__all__ = [
    "COMMIT_SECONDS",
    "COMMIT_SIZE",
    "CONTENT_TYPE",
    "DELIVERIES",
    "FANOUT_SECONDS",
    "GAUGES",
    "JOB_RUNS",
    "JOB_SECONDS",
    "MONGO_COMMANDS_TOTAL",
    "MONGO_SECONDS",
    "PUBLISHED",
    "PUBLISHES",
    "PUBLISH_SECONDS",
    "REDIS_ERRORS",
    "REDIS_ROUND_TRIPS",
    "REGISTRY",
    "exposition",
    "metered_job",
    "timed_batch",
    "timed_publish",
]
