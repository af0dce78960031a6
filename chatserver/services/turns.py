"""A sender's turn on a channel: the messages of one connection join the group commit in the order it sent them."""

from __future__ import annotations

import asyncio


class Turn:
    """One sender's place in its queue on one channel: per-connection, per-channel FIFO.

    A connection gives each publish on a channel a turn after the previous one's. Checks, rate
    limits and screening of several publishes still run at once; a message joins the group commit
    only after the one sent before it joined (or was refused, held or failed), so offsets follow
    the order in which the connection sent them. Only the previous turn's future is kept: a chain
    of turns holds no memory beyond the publishes in flight.
    """

    __slots__ = ("_before", "_done")

    def __init__(self, before: Turn | None = None) -> None:
        self._before = before._done if before is not None and not before._done.done() else None
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait(self) -> None:
        """Until the publish before this one has joined the commit queue or given up."""
        if self._before is not None and not self._before.done():
            await asyncio.shield(self._before)

    def release(self) -> None:
        """This publish joined the commit queue or gave up: the next one may go once the one before did.

        A publish that gives up (refused, held, failed) never waited for its turn; letting the next one
        go at once would let it overtake the publishes still ahead. So the release waits for them.
        """
        before = self._before
        if before is not None and not before.done():
            before.add_done_callback(self._release_now)
        elif not self._done.done():
            self._done.set_result(None)

    def _release_now(self, _: asyncio.Future[None]) -> None:
        if not self._done.done():
            self._done.set_result(None)

    @property
    def released(self) -> bool:
        return self._done.done()
