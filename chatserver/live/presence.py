"""Who is in a channel: presence entries, join and leave notices, and the hooks on an account's last leave.

Every live connection subscribed to a channel holds an entry in the presence store (Redis), renewed by
its process (:meth:`ChannelPresence.refresh`); a process that stops renews nothing and its entries
expire. Joins and leaves are told to every subscriber as notices without an offset. A feature that
watches last leaves (``ChannelResolvers.on_last_leave``, e.g. a spreekuur seat) gets its hook called
when the last connection of an account leaves the channel. Presence is best effort: chat goes on
without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from chatserver.domain.channels import ChannelRef, ChannelResolvers, LeaveHook, parse_channel
from chatserver.live.hub import Hub
from chatserver.ports import PresenceStore
from chatserver.protocol import Presence, PresenceSnapshot

if TYPE_CHECKING:
    from chatserver.live.connection import Connection

log = logging.getLogger("chatserver.live")

PRESENCE_LIST_MAX = 50


class ChannelPresence:
    """The presence of this process's live connections, in the presence store and in notices."""

    def __init__(self, store: PresenceStore, resolvers: ChannelResolvers, hub: Hub) -> None:
        self.store = store
        self.resolvers = resolvers
        self.hub = hub

    async def join(self, channel: str, connection: Connection) -> PresenceSnapshot:
        """Enter ``connection`` in ``channel``, tell the channel, and return who is there now."""
        actor = connection.actor
        assert actor is not None
        if channel in connection.session.channels:  # else it was left on the way here
            connection.present.add(channel)
            await self._hold(channel, connection)
        try:
            count = await self.store.join(channel, connection.id, actor.pseudonym)
            if channel not in connection.present:  # left while the entry was written: take it out again
                await self.store.remove([(channel, connection.id, actor.pseudonym)])
            listed = count <= PRESENCE_LIST_MAX
            await self.hub.broadcast(
                channel,
                Presence(channel=channel, action="join", count=count, pseudonym=actor.pseudonym if listed else None),
            )
            count, members = await self.store.snapshot(channel, PRESENCE_LIST_MAX)
        except Exception as exc:  # presence is best effort; chat goes on without it
            log.warning("presence join failed (%s)", type(exc).__name__)
            return PresenceSnapshot(count=0)
        return PresenceSnapshot(count=count, members=members)

    async def leave(self, channel: str, connection: Connection) -> None:
        """Take ``connection``'s entry out of ``channel`` and tell the channel."""
        actor = connection.actor
        if actor is None:
            return
        await self._release(channel, connection)
        try:
            count = await self.store.leave(channel, connection.id, actor.pseudonym)
            listed = count < PRESENCE_LIST_MAX
            await self.hub.broadcast(
                channel,
                Presence(channel=channel, action="leave", count=count, pseudonym=actor.pseudonym if listed else None),
            )
        except Exception as exc:
            log.warning("presence leave failed (%s)", type(exc).__name__)

    async def refresh(self, connections: Iterable[Connection]) -> None:
        """Renew the entries of ``connections`` in one pipeline.

        Entries of a process that stopped (killed, out of memory) are not renewed and expire.
        """
        held: list[tuple[Connection, str, str]] = []
        for connection in connections:
            actor = connection.actor
            if actor is not None:
                held += ((connection, channel, actor.pseudonym) for channel in connection.present)
        await self.store.refresh([(channel, c.id, pseudonym) for c, channel, pseudonym in held])
        # A leave that reached Redis before this refresh was undone by it: take those out again.
        left = [(channel, c.id, pseudonym) for c, channel, pseudonym in held if channel not in c.present]
        await self.store.remove(left)

    # --- an account's last leave ------------------------------------------------------

    def _leave_hook(self, channel: str) -> tuple[ChannelRef, LeaveHook] | None:
        ref = parse_channel(channel)
        hook = self.resolvers.on_last_leave.get(ref.kind) if ref is not None else None
        return None if ref is None or hook is None else (ref, hook)

    async def _hold(self, channel: str, connection: Connection) -> None:
        """Count this connection under its account for a channel whose feature watches last leaves."""
        actor = connection.actor
        if actor is None or self._leave_hook(channel) is None:
            return
        try:
            await self.store.hold(channel, str(actor.account_id))
            connection.held.add(channel)
        except Exception as exc:  # best effort: the feature's own expiry covers a lost count
            log.warning("holder count failed (%s)", type(exc).__name__)
        if channel not in connection.present:  # left while it was counted
            await self._release(channel, connection)

    async def _release(self, channel: str, connection: Connection) -> None:
        actor = connection.actor
        found = self._leave_hook(channel)
        if actor is None or found is None or channel not in connection.held:
            return
        connection.held.discard(channel)
        ref, hook = found
        try:
            if await self.store.release(channel, str(actor.account_id)) == 0:
                await hook(actor, ref)
        except Exception as exc:
            log.warning("leave hook failed (%s)", type(exc).__name__)
