"""Slow and greedy clients over raw sockets: deadlines for heads, bodies and upgrades; caps per account and address."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from chatserver.config import Settings
from chatserver.protocol import CloseCode, Welcome
from tests.conftest import RunningServer, run_server
from tests.live.conftest import ORIGIN, member, session_for, ws

SHORT_S = 2
# Generous: these bound a hang, they do not measure speed (the machine is shared).
GIVE_UP_S = 15.0


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[RunningServer]:
    tight = replace(
        settings,
        header_timeout_s=SHORT_S,
        body_timeout_s=SHORT_S,
        handshake_timeout_s=SHORT_S,
        max_connections_per_account=2,
        max_connections_per_address=3,
        connection_cap_exempt=(),
    )
    async with run_server(tight) as running:
        yield running


async def _trickle(port: int, first: bytes, drip: bytes, every_s: float = 0.5) -> tuple[bytes, float]:
    """Send ``first``, then ``drip`` every ``every_s`` until the server closes; what it sent, and after how long."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(first)
    received = b""

    async def drip_forever() -> None:
        while True:
            await asyncio.sleep(every_s)
            writer.write(drip)
            await writer.drain()

    dripping = asyncio.create_task(drip_forever())
    try:
        async with asyncio.timeout(GIVE_UP_S):
            while chunk := await reader.read(4096):
                received += chunk
    except (ConnectionError, OSError):
        pass
    finally:
        dripping.cancel()
        writer.close()
    return received, time.monotonic() - started


async def test_a_head_sent_one_line_at_a_time_is_cut_off(strict) -> None:
    received, took = await _trickle(strict.port, b"GET /hulp HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n")
    assert received.startswith(b"HTTP/1.1 408")
    print(f"slow head closed after {took:.1f} s (header timeout {SHORT_S} s)")


async def test_a_slow_websocket_upgrade_head_is_cut_off(strict) -> None:
    head = b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    received, took = await _trickle(strict.port, head, b"X-Slow: 1\r\n")
    assert received.startswith(b"HTTP/1.1 408")
    print(f"slow upgrade head closed after {took:.1f} s")


async def test_a_slow_second_head_on_a_kept_alive_connection_is_cut_off(strict) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /hulp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    received, took = await _trickle(strict.port, first, b"X-Slow: 1\r\n")
    assert received.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408" in received
    print(f"slow second head closed after {took:.1f} s")


async def test_a_body_sent_byte_by_byte_is_cut_off(strict) -> None:
    head = (
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 400\r\n\r\n{"
    )
    received, took = await _trickle(strict.port, head, b" ")
    assert received.startswith(b"HTTP/1.1 408") and received.count(b"HTTP/1.1 ") == 1
    print(f"slow body closed after {took:.1f} s (body timeout {SHORT_S} s)")


async def test_an_upgrade_whose_session_lookup_hangs_is_refused(strict) -> None:
    gateway = strict.services.lifespan_state["live_gateway"]
    token = await session_for(strict, member())

    async def hang(token: str) -> None:
        await asyncio.sleep(3600)

    gateway.sessions = type("Hanging", (), {"get": staticmethod(hang)})()
    key = base64.b64encode(os.urandom(16))
    head = (
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\nOrigin: " + ORIGIN.encode() + b"\r\n"
        b"Cookie: gem_session=" + token.encode() + b"\r\n\r\n"
    )
    received, took = await _trickle(strict.port, head, b"", every_s=1.0)
    assert received.startswith(b"HTTP/1.1 503")
    assert not gateway.connections and not gateway.by_address
    print(f"hanging upgrade refused after {took:.1f} s (handshake timeout {SHORT_S} s)")


async def test_connections_per_address_are_capped_with_a_clear_close_code(strict) -> None:
    gateway = strict.services.lifespan_state["live_gateway"]
    async with ws(strict) as a, ws(strict) as b, ws(strict) as c:
        async with ws(strict) as over:
            assert await over.closed_code() == CloseCode.TOO_MANY_CONNECTIONS
        assert len(gateway.connections) == 3
        assert all(len(key) == 16 for key in gateway.by_address)  # keyed hashes, not addresses
        assert list(gateway.by_address.values()) == [3]
        await c.conn.close()
        async with asyncio.timeout(GIVE_UP_S):
            while sum(gateway.by_address.values()) != 2:
                await asyncio.sleep(0.05)
        async with ws(strict, await session_for(strict, member())) as again:
            await again.expect(Welcome)
        del a, b
    async with asyncio.timeout(GIVE_UP_S):
        while gateway.by_address:
            await asyncio.sleep(0.05)


async def test_connections_per_account_are_capped_with_a_clear_close_code(strict) -> None:
    token = await session_for(strict, member("veelvenster"))
    async with ws(strict, token) as a, ws(strict, token) as b:
        await a.expect(Welcome)
        await b.expect(Welcome)
        async with ws(strict, token) as over:
            assert await over.closed_code() == CloseCode.TOO_MANY_CONNECTIONS
        async with ws(strict, await session_for(strict, member())) as other:  # another account is not affected
            await other.expect(Welcome)
