"""The ``captured_events`` fixture: the server events and notices a chat service sent during a test, as Structs.

Every stored server event goes through ``ChatService.emit`` and every live notice through ``ChatService.notify``
(``do_emit`` and ``do_notify`` check their dict and call these), so watching those two methods sees all of them.
A test counts what an action sent, exactly::

    async def test_closing_a_room_says_so_once(server, captured_events) -> None:
        captured_events.watch(server.services.chat)
        ...  # the action
        assert captured_events.stored() == [("room:psychosenet:avond", SystemLine(text="…", room_open=False))]
        assert captured_events.of(QueueChange) == []

``watch`` wraps the methods of that one ChatService instance (``server.services.chat`` of the running server, or
any instance a test builds) for the rest of the test; the events still go out as usual. Registered for the whole
suite by ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from chatserver.protocol.events import LiveNotice, StoredEvent
from chatserver.services.chat import Acked, ChatService

T = TypeVar("T")


@dataclass
class CapturedEvents:
    """(channel, event) of every stored event and live notice, in the order they were handed to the service."""

    events: list[tuple[str, StoredEvent]] = field(default_factory=list)
    notices: list[tuple[str, LiveNotice]] = field(default_factory=list)
    _watched: list[ChatService] = field(default_factory=list)

    def watch(self, chat: ChatService) -> CapturedEvents:
        """Record what ``chat`` emits and notifies from now on (until the test ends)."""
        emit, notify = chat.emit, chat.notify

        async def recording_emit(
            channel: str, event: StoredEvent, *, actor: Any = None, dedupe_id: str | None = None
        ) -> Acked:
            self.events.append((channel, event))
            return await emit(channel, event, actor=actor, dedupe_id=dedupe_id)

        async def recording_notify(channel: str, notice: LiveNotice) -> None:
            self.notices.append((channel, notice))
            await notify(channel, notice)

        chat.emit = recording_emit  # type: ignore[method-assign]
        chat.notify = recording_notify  # type: ignore[method-assign]
        self._watched.append(chat)
        return self

    def stored(self) -> list[tuple[str, StoredEvent]]:
        return list(self.events)

    def of(self, cls: type[T]) -> list[tuple[str, T]]:
        """The stored events and notices of one Struct type, in order."""
        return [(ch, e) for ch, e in [*self.events, *self.notices] if isinstance(e, cls)]

    def kinds(self) -> list[str]:
        """The kinds of the stored events, in order (``"system"``, ``"edit"``, …)."""
        return [e.KIND for _, e in self.events]

    def clear(self) -> None:
        self.events.clear()
        self.notices.clear()

    def _restore(self) -> None:
        for chat in self._watched:
            for name in ("emit", "notify"):
                chat.__dict__.pop(name, None)
        self._watched.clear()


@pytest.fixture
def captured_events() -> Iterator[CapturedEvents]:
    captured = CapturedEvents()
    try:
        yield captured
    finally:
        captured._restore()
