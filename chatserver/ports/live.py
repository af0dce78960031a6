"""Ports of the live core: the event store, positions, the broker, the per-account limit, presence, recent lines."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from chatserver.domain.identity import Actor
from chatserver.ports.values import (
    Document,
    ErrorTypes,
)


@runtime_checkable
class EventStore(Protocol):
    """The stored stream of every channel, unique by (channel, offset) and (channel, sender, client_msg_id).

    The chat service writes and reads through it; features reach it as ``chat.store`` to page back
    (``read_before``) and to change a stored message (``find_event``, ``update_event``).
    """

    @property
    def unavailable_errors(self) -> ErrorTypes: ...
    async def last_offset(self, channel: str) -> int: ...
    async def insert_batch(self, docs: list[Document]) -> None:
        """Insert every document at once; raises :class:`DuplicateEvents` naming the collisions."""
        ...

    async def find_by_client_msg_id(self, channel: str, sender: str, client_msg_id: str) -> Document | None: ...
    async def find_event(self, channel: str, offset: int) -> Document | None: ...
    async def update_event(self, channel: str, offset: int, fields: dict[str, Any]) -> bool: ...
    async def read_after(self, channel: str, after_offset: int, limit: int) -> list[Document]: ...
    async def read_before(self, channel: str, before_offset: int | None, limit: int) -> list[Document]: ...


@runtime_checkable
class Positions(Protocol):
    """Offsets and epochs per channel; an offset is never handed out twice within an epoch."""

    @property
    def unavailable_errors(self) -> ErrorTypes: ...
    async def reserve_many(self, counts: dict[str, int]) -> dict[str, tuple[str, int]]:
        """Offsets for several channels at once: channel → (epoch, first offset)."""
        ...

    async def epoch(self, channel: str) -> str: ...
    async def reset(self, channel: str, epoch: str) -> None:
        """Start a new epoch for the channel unless someone did already (its epoch is no longer ``epoch``)."""
        ...


@runtime_checkable
class Broker(Protocol):
    """Fan-out between processes: what the chat service publishes (the hub subscribes on the same broker)."""

    @property
    def unavailable_errors(self) -> ErrorTypes: ...
    async def publish(self, channel: str, payload: bytes) -> None: ...
    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """Publish in order, all at once."""
        ...


@runtime_checkable
class AccountRateLimiter(Protocol):
    """The per-account publish limit over all of an account's connections; fails open."""

    async def retry_after_ms(self, account_id: str) -> int:
        """0 when the account may publish now, else how long to wait."""
        ...


@runtime_checkable
class PresenceCounter(Protocol):
    """How many live connections a channel has now."""

    async def count(self, channel: str) -> int: ...


@runtime_checkable
class RecentLines(Protocol):
    """The last few lines of an author in a channel, for judging a message with what came just before."""

    async def push_and_read(self, channel: str, account_id: str, line: str | None) -> tuple[str, ...]: ...


PresenceEntry = tuple[str, str, str]  # channel, connection id, pseudonym


@runtime_checkable
class LiveBroker(Broker, Protocol):
    """The broker as the hub uses it: a subscription per channel with local members (raises
    :class:`BrokerUnavailable` when a subscription cannot be confirmed)."""

    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def close(self) -> None: ...


@runtime_checkable
class PresenceStore(PresenceCounter, Protocol):
    """Who is connected to a channel, per connection, and which accounts hold a seat-like claim on it."""

    async def join(self, channel: str, connection_id: str, pseudonym: str) -> int: ...
    async def leave(self, channel: str, connection_id: str, pseudonym: str) -> int: ...
    async def hold(self, channel: str, account_id: str) -> int: ...
    async def release(self, channel: str, account_id: str) -> int: ...
    async def snapshot(self, channel: str, list_up_to: int) -> tuple[int, list[str] | None]: ...
    async def refresh(self, entries: list[PresenceEntry]) -> None: ...
    async def remove(self, entries: list[PresenceEntry]) -> None: ...

    @property
    def refresh_s(self) -> float:
        """How often a process renews its own entries (a third of their expiry)."""
        ...


@runtime_checkable
class LiveSessions(Protocol):
    """The session store as the live gateway uses it: a session or a one-time socket token, and the channel on
    which revoked sessions are announced."""

    @property
    def revoked_channel(self) -> str: ...
    async def get(self, token: str, touch: bool = True) -> Actor | None: ...
    async def redeem_ws_token(self, token: str) -> Actor | None: ...
