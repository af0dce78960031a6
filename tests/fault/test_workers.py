"""Several worker processes: fan-out between them goes through Redis; a killed worker loses nothing.

The presence entries of a killed worker's connections expire: nobody refreshes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chatserver.adapters.embedded import SecantusServer, ValkeyCluster, ValkeyServer, free_port
from chatserver.config import PROJECT_ROOT
from chatserver.protocol import Ack, Error, Event, Subscribed, Welcome, decode_server_frame
from tests.conftest import run_server
from tests.live.conftest import member

ROOM = "room:benchmark:zaal-01"  # a guest room without slow mode (loadtest/flavours)
READERS = 16
PRESENCE_EXPIRY_S = 3  # the workers refresh their presence entries every second


def start_workers(
    valkey: ValkeyServer | ValkeyCluster, secantus: SecantusServer, tmp_path: Path, port: int
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(
        CHATSERVER_PORT=str(port),
        CHATSERVER_DATA_DIR=str(tmp_path / "var"),
        CHATSERVER_REDIS_URL=valkey.url,
        CHATSERVER_MONGODB_URL=secantus.url,
        CHATSERVER_SECRET_KEY="w" * 40,
        CHATSERVER_REDIS_PREFIX=f"workers{port}:",
        CHATSERVER_MONGODB_DATABASE=f"workers{port}",
        CHATSERVER_FLAVOURS_DIR=str(PROJECT_ROOT / "loadtest" / "flavours"),
        CHATSERVER_PRESENCE_EXPIRY_S=str(PRESENCE_EXPIRY_S),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "chatserver", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def worker_pids(parent: subprocess.Popen[bytes]) -> list[int]:
    pids = []
    for child in psutil.Process(parent.pid).children():
        with contextlib.suppress(psutil.Error):  # a killed worker is a zombie until reaped
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                pids.append(child.pid)
    return pids


def busiest_worker(parent: subprocess.Popen[bytes], port: int) -> int:
    """The worker holding the most client connections on ``port``."""

    def clients(pid: int) -> int:
        conns = psutil.Process(pid).net_connections(kind="tcp")
        return sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)

    return max(worker_pids(parent), key=clients)


async def wait_ready(url: str, parent: subprocess.Popen[bytes], workers: int = 2) -> None:
    async with asyncio.timeout(60), httpx.AsyncClient() as client:
        while True:
            assert parent.poll() is None, "server exited"
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200 and len(worker_pids(parent)) >= workers:
                    return
            await asyncio.sleep(0.2)


class Reader:
    """Reads one room for good: on any disconnect it comes back with its last position."""

    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url = ws_url
        self.token = token
        self.offsets: list[int] = []
        self.position: dict[str, Any] | None = None
        self.reconnects = -1
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        while True:
            self.reconnects += 1
            with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                headers = {"Authorization": f"Bearer {self.token}"}
                async with connect(self.ws_url, additional_headers=headers, open_timeout=5) as c:
                    async for raw in c:
                        frame = decode_server_frame(raw)
                        if isinstance(frame, Welcome):
                            sub: dict[str, Any] = {"type": "subscribe", "id": 1, "channel": ROOM}
                            if self.position:
                                sub["since"] = self.position
                            await c.send(msgspec.json.encode(sub).decode())
                        elif isinstance(frame, Subscribed):
                            self.subscribed.set()
                        elif isinstance(frame, Event) and frame.channel == ROOM:
                            self.offsets.append(frame.offset)
                            self.position = {"offset": frame.offset, "epoch": frame.epoch}
            await asyncio.sleep(0.1)


class Writer:
    """Publishes with retries (same client message id), reconnecting when its worker dies."""

    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url = ws_url
        self.token = token
        self.conn: Any = None

    async def publish(self, i: int) -> int:
        msg = {"type": "publish", "id": i, "channel": ROOM, "client_msg_id": f"m{i}", "body": {"text": f"nr {i}"}}
        for _attempt in range(50):
            try:
                if self.conn is None:
                    headers = {"Authorization": f"Bearer {self.token}"}
                    self.conn = await connect(self.ws_url, additional_headers=headers, open_timeout=5)
                    assert isinstance(decode_server_frame(await self.conn.recv()), Welcome)
                await self.conn.send(msgspec.json.encode(msg).decode())
                answer = await answer_to(self.conn, i)
                if isinstance(answer, Ack):
                    return answer.offset
            except (ConnectionClosed, OSError, TimeoutError):
                self.conn = None
            await asyncio.sleep(0.1)
        raise AssertionError(f"message {i} was never acknowledged")

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


async def answer_to(conn: Any, request_id: int) -> Ack | Error:
    async with asyncio.timeout(10):
        while True:
            frame = decode_server_frame(await conn.recv())
            if isinstance(frame, Ack | Error) and frame.id == request_id:
                return frame


async def presence_seen(ws_url: str, token: str) -> int:
    """The presence count a fresh subscriber gets (itself included)."""
    async with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=5) as c:
        assert isinstance(decode_server_frame(await c.recv()), Welcome)
        await c.send(msgspec.json.encode({"type": "subscribe", "id": 1, "channel": ROOM}).decode())
        async with asyncio.timeout(10):
            while True:
                frame = decode_server_frame(await c.recv())
                if isinstance(frame, Subscribed):
                    return frame.presence.count


async def guest_token(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/v1/guests", json={})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def test_killed_worker_loses_nothing_and_duplicates_nothing(
    redis_engine: ValkeyServer | ValkeyCluster, secantus: SecantusServer, tmp_path: Path
) -> None:
    port = free_port()
    url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    parent = start_workers(redis_engine, secantus, tmp_path, port)
    tasks: list[asyncio.Task[None]] = []
    try:
        await wait_ready(url, parent)
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            readers = [Reader(ws_url, await guest_token(http)) for _ in range(READERS)]
            writer_token = await guest_token(http)
            looker_token = await guest_token(http)
        tasks = [asyncio.create_task(r.run()) for r in readers]
        async with asyncio.timeout(20):
            await asyncio.gather(*(r.subscribed.wait() for r in readers))
        acked: list[int] = []
        victim = busiest_worker(parent, port)
        writer = Writer(ws_url, writer_token)
        for i in range(40):
            if i == 15:
                os.kill(victim, signal.SIGKILL)  # a crash: no goodbye to its clients
            acked.append(await writer.publish(i))
            await asyncio.sleep(0.02)
        await writer.close()
        assert len(acked) == 40
        async with asyncio.timeout(60):
            while any(not r.offsets or r.offsets[-1] < acked[-1] for r in readers):
                await asyncio.sleep(0.1)
        assert sum(r.reconnects for r in readers) > 0, "the killed worker had no clients"
        for r in readers:
            assert len(r.offsets) == len(set(r.offsets)), "an event arrived twice"
            assert r.offsets == sorted(r.offsets), "events out of order"
            assert set(acked) <= set(r.offsets), "an acknowledged message was lost"
        assert victim not in worker_pids(parent)
        # Every reader is subscribed again (on the survivor); the killed worker's entries of
        # their old connections stop being counted once they expire.
        counts: list[int] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PRESENCE_EXPIRY_S + 20):
                while not counts or counts[-1] != READERS + 1:
                    counts.append(await presence_seen(ws_url, looker_token))
                    await asyncio.sleep(0.5)
        assert counts and counts[-1] == READERS + 1, f"presence counts seen: {counts}"
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        parent.send_signal(signal.SIGINT)
        try:
            parent.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(parent.pid, signal.SIGKILL)


async def test_graceful_shutdown_closes_with_service_restart(settings) -> None:
    async with run_server(settings) as server:
        token = await server.services.sessions.create(member("blijver"))
        async with connect(server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as c:
            assert isinstance(decode_server_frame(await c.recv()), Welcome)
            server.server.should_exit = True
            started = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await c.recv()
            assert c.protocol.close_rcvd is not None
            assert c.protocol.close_rcvd.code == 4000
            assert time.monotonic() - started < 10
