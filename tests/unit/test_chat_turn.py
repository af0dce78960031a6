"""Turns: one connection's publishes on one channel join the group commit in the order they were sent."""

from __future__ import annotations

import asyncio

from chatserver.services.chat import Turn


async def test_a_turn_waits_for_every_publish_before_it_even_past_one_that_gave_up() -> None:
    first = Turn()
    gave_up = Turn(first)  # refused or held: it releases without ever waiting for its turn
    third = Turn(gave_up)
    queued: list[str] = []

    async def publish(name: str, turn: Turn, delay: float) -> None:
        await asyncio.sleep(delay)
        await turn.wait()
        queued.append(name)
        turn.release()

    later = asyncio.ensure_future(publish("third", third, 0))
    gave_up.release()
    await asyncio.sleep(0.01)
    assert queued == [] and not third.released  # the first is still screening
    await publish("first", first, 0.01)
    await later
    assert queued == ["first", "third"]


async def test_a_released_turn_lets_the_next_go_at_once_and_keeps_no_chain() -> None:
    first = Turn()
    first.release()
    second = Turn(first)
    assert first.released and second._before is None
    await asyncio.wait_for(second.wait(), 1)
