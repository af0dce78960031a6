"""The one owner of background tasks: starts, restarts with back-off, cancels.

Nothing else in the server calls ``asyncio.create_task`` for long-lived work.
Jobs that must run on only one process at a time take a :class:`Lease`
(a Redis lease, renewed while they run; ``chatserver.adapters.leader``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from chatserver.protocol import ErrorCode

log = logging.getLogger("chatserver.jobs")

MAX_BACKOFF_S = 30.0
STOP_GRACE_S = 5.0

JobFactory = Callable[[], Coroutine[Any, Any, None]]


class Supervisor:
    def __init__(self, outage_errors: tuple[type[BaseException], ...] = ()) -> None:
        # The exception types that mean Redis or the database is away (the adapters' ``unavailable_errors``).
        self.outage_errors = outage_errors
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def spawn(self, name: str, factory: JobFactory, restart: bool = True) -> None:
        """Run ``factory()`` as a named task; restart it after a crash with back-off."""
        if name in self._tasks:
            raise ValueError(f"job {name!r} already running")
        self._tasks[name] = asyncio.create_task(self._run(name, factory, restart), name=f"job:{name}")

    def spawn_once(self, name: str, coro: Awaitable[object]) -> None:
        """A short one-off task that is still cancelled at shutdown."""

        async def once() -> None:
            await coro

        self.spawn(name, once, restart=False)

    async def _run(self, name: str, factory: JobFactory, restart: bool) -> None:
        backoff = 0.5
        try:
            while not self._stopping:
                try:
                    await factory()
                    if not restart:
                        return
                    backoff = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if _is_outage(
                        exc, self.outage_errors
                    ):  # Redis or the database away: one line, the job retries by itself
                        log.warning("job %s: %s; restarting in %.1f s", name, type(exc).__name__, backoff)
                    else:
                        log.exception("job %s crashed; restarting in %.1f s", name, backoff)
                    if not restart:
                        return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        finally:
            self._tasks.pop(name, None)

    def running(self) -> list[str]:
        return sorted(self._tasks)

    async def stop(self) -> None:
        """Cancel every job; a job stuck in I/O that ignores cancellation is left after a grace period."""
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, stuck = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in stuck:
            log.warning("job %s did not stop within %.0f s", task.get_name(), STOP_GRACE_S)


class Lease(Protocol):
    """What makes a periodic job run on one process at a time (``chatserver.adapters.leader.RedisLease``)."""

    async def acquire(self) -> bool: ...


def _is_outage(exc: BaseException, outage_errors: tuple[type[BaseException], ...]) -> bool:
    """An engine that is down or too slow, as the adapters or the services (4205, retryable) report it."""
    if isinstance(exc, (*outage_errors, TimeoutError, ConnectionError)):
        return True
    return getattr(exc, "code", None) == ErrorCode.UNAVAILABLE


def periodic(
    interval_s: float,
    work: Callable[[], Awaitable[object]],
    leader: Lease | None = None,
    deadline: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> JobFactory:
    """A job that calls ``work`` every ``interval_s`` seconds (only while leader, if given), each call inside
    ``deadline()`` (the database's bound for jobs, longer than a request's)."""

    async def loop() -> None:
        while True:
            if leader is None or await leader.acquire():
                with deadline():
                    await work()
            await asyncio.sleep(interval_s)

    return loop
