"""A queued event waits a bounded time for its group commit: a batch stuck on a hung database does not make the
events queued behind it wait for it and then for their own commit, and what was answered unavailable is not
stored afterwards (the client retries it with the same client message id)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chatserver.domain.identity import AccountId, Actor
from chatserver.protocol import ErrorCode
from chatserver.services import chat as chat_module
from chatserver.services.chat import ChatError, ChatService


class _HangingStore:
    """Ports whose first insert hangs until released; every insert is recorded."""

    unavailable_errors: tuple[type[Exception], ...] = (OSError,)

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inserted: list[str] = []

    async def reserve_many(self, counts: dict[str, int]) -> dict[str, tuple[str, int]]:
        return dict.fromkeys(counts, ("e1", 1))

    async def insert_batch(self, docs: list[dict[str, Any]]) -> None:
        await self.release.wait()
        self.inserted.extend(d["client_msg_id"] for d in docs)

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        return None


class _NoCount:
    def count(self, *_: Any, **__: Any) -> None:
        return None


async def test_an_event_queued_behind_a_hung_batch_is_answered_unavailable_and_never_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat_module, "QUEUE_WAIT_S", 0.05)
    monkeypatch.setattr(chat_module, "COMMIT_TIMEOUT_S", 60.0)  # only the queue wait can end the first wait
    ports = _HangingStore()
    chat = ChatService(ports, ports, ports, ports, None, None, str, counter=_NoCount())  # type: ignore[arg-type]
    author = Actor(account_id=AccountId("a1"), pseudonym="Anouk", kind="member")
    committer = asyncio.create_task(chat.run_committer())
    try:
        first = asyncio.create_task(
            chat._enqueue(
                author, "room:psychosenet:welkom", "m1", "message", {"text": "a"}, wait_s=chat_module.QUEUE_WAIT_S
            )
        )
        await asyncio.sleep(0)  # the committer takes m1 and hangs on its insert
        second = asyncio.create_task(
            chat._enqueue(
                author, "room:psychosenet:welkom", "m2", "message", {"text": "b"}, wait_s=chat_module.QUEUE_WAIT_S
            )
        )
        system = asyncio.create_task(chat._enqueue(None, "room:psychosenet:welkom", "s1", "system", {"text": "x"}))
        for task in (first, second):
            with pytest.raises(ChatError) as refused:
                await task
            assert refused.value.code == ErrorCode.UNAVAILABLE
        assert not system.done()  # a server event waits for its own commit, however slow
        ports.release.set()
        acked = await system
        # m1 was in the batch being written and lands (a retry finds it); m2 was answered before its batch.
        assert ports.inserted == ["m1", "s1"] and acked.channel == "room:psychosenet:welkom"
        assert chat.committed == 2
    finally:
        committer.cancel()


async def test_a_publisher_that_goes_away_does_not_take_its_queued_message_back() -> None:
    ports = _HangingStore()
    chat = ChatService(ports, ports, ports, ports, None, None, str, counter=_NoCount())  # type: ignore[arg-type]
    author = Actor(account_id=AccountId("a1"), pseudonym="Anouk", kind="member")
    committer = asyncio.create_task(chat.run_committer())
    try:
        first = asyncio.create_task(
            chat._enqueue(
                author, "room:psychosenet:welkom", "m1", "message", {"text": "a"}, wait_s=chat_module.QUEUE_WAIT_S
            )
        )
        await asyncio.sleep(0)  # m1 is being written
        gone = asyncio.create_task(
            chat._enqueue(author, "room:psychosenet:welkom", "m2", "message", {"text": "help"}, wait_s=2.5)
        )
        await asyncio.sleep(0)
        gone.cancel()  # the socket closed before the answer
        ports.release.set()
        await first
        for _ in range(20):
            await asyncio.sleep(0)
        assert ports.inserted == ["m1", "m2"]  # stored all the same: a retry with m2 gets the original ack
    finally:
        committer.cancel()
