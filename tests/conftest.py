"""Shared fixtures: real Valkey and SecantusDB child servers, once per session.

Each test gets its own database name and Redis key prefix, so tests never see
each other's data. Every wait has a timeout.

``CHATSERVER_TEST_REDIS=cluster`` runs every test that uses ``settings`` against
a three-node Redis Cluster instead of one Valkey (``make test-cluster``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from starlette.applications import Starlette

from chatserver.adapters.embedded import SecantusServer, ValkeyCluster, ValkeyServer, free_port
from chatserver.app import create_app
from chatserver.config import Settings, load_settings
from chatserver.flavours import TIMEZONE
from chatserver.live.frontdoor import FrontDoor

pytest_plugins = ["tests.events_capture"]
SERVER_START_TIMEOUT_S = 30.0


class TestClock:
    """The server's clock in a test: starts at a chosen moment and runs at real speed; tests may move it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = (start - datetime.now(UTC)) if start is not None else timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def move_to(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


# Moments at which the time-sensitive tests (opening hours, rosters, retention, schedules) must pass,
# local time in Europe/Amsterdam. PsychoseNet opens on weekdays at 10:00, 14:00 and 19:00, on Friday
# and Saturday nights until 03:00; its roster alerts look a few hours ahead.
MOMENTS = {
    "night": datetime(2030, 1, 8, 3, 30, tzinfo=TIMEZONE),  # Tuesday, closed
    "weekend": datetime(2030, 1, 12, 15, 0, tzinfo=TIMEZONE),  # Saturday afternoon, closed
    "monday-0820": datetime(2030, 1, 7, 8, 20, tzinfo=TIMEZONE),  # the moment of issue 18's failure
    "opening-edge": datetime(2030, 1, 7, 9, 59, 58, tzinfo=TIMEZONE),  # Monday, opens during the test
    "open": datetime(2030, 1, 9, 11, 0, tzinfo=TIMEZONE),  # Wednesday, open
}


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> TestClock:
    """The injected clock; ``@pytest.mark.parametrize("clock", MOMENTS, indirect=True)`` sets the moment."""
    name = getattr(request, "param", None)
    return TestClock(MOMENTS[name] if name is not None else None)


@pytest.fixture(scope="session")
def engines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engines")


@pytest.fixture(scope="session")
def valkey(engines_dir: Path) -> Iterator[ValkeyServer]:
    server = ValkeyServer(engines_dir / "valkey", unix_socket=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(engines_dir: Path) -> Iterator[ValkeyCluster]:
    """Three Valkey primaries in cluster mode, the slots split evenly."""
    cluster = ValkeyCluster(engines_dir / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_engine(request: pytest.FixtureRequest, valkey: ValkeyServer) -> ValkeyServer | ValkeyCluster:
    """What the ``settings`` of this run point at: one Valkey, or the cluster with ``CHATSERVER_TEST_REDIS=cluster``.

    Fault tests stop and start this one; both have ``url``, ``node_urls``, ``stop`` and ``start``.
    """
    if os.environ.get("CHATSERVER_TEST_REDIS") == "cluster":
        cluster: ValkeyCluster = request.getfixturevalue("redis_cluster")
        return cluster
    return valkey


@pytest.fixture(scope="session")
def secantus(engines_dir: Path) -> Iterator[SecantusServer]:
    server = SecantusServer(engines_dir / "mongodb")
    server.start()
    yield server
    server.stop()


TEST_DATABASE = "t_suite"


def _empty_database(url: str, name: str) -> None:
    """Delete every document but keep collections and indexes for the next test.

    Creating collections and indexes is what the embedded server does slowest,
    and it gets slower with every table it holds; emptying is cheap.
    """
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        db = client[name]
        for collection in db.list_collection_names():
            db[collection].delete_many({})
    except PyMongoError:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def settings(
    redis_engine: ValkeyServer | ValkeyCluster, secantus: SecantusServer, tmp_path: Path
) -> Iterator[Settings]:
    """Settings for one test: an empty database, its own Redis key prefix and data dir.

    Tests run one at a time and share one database, emptied after each test.
    """
    base = load_settings(
        {
            "CHATSERVER_REDIS_URL": redis_engine.url,
            "CHATSERVER_MONGODB_URL": secantus.url,
            "CHATSERVER_DATA_DIR": str(tmp_path / "data"),
            "CHATSERVER_SECRET_KEY": secrets.token_urlsafe(48),
            "CHATSERVER_PORT": "0",
        }
    )
    tag = secrets.token_hex(4)
    yield replace(base, mongodb_database=TEST_DATABASE, redis_key_prefix=f"t{tag}:")
    _empty_database(secantus.url, TEST_DATABASE)


@dataclass
class RunningServer:
    app: Starlette
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app.state.services


@contextlib.asynccontextmanager
async def run_server(settings: Settings, clock: TestClock | None = None) -> AsyncIterator[RunningServer]:
    """The real server (front door, uvicorn, Starlette) on a random port in this loop.

    The port is chosen before start-up so that the server's own Origin
    (``http://127.0.0.1:<port>``) is on its allow-list, as in production.
    """
    if settings.port == 0:
        settings = replace(settings, port=free_port())
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.port,
        http=FrontDoor,
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(SERVER_START_TIMEOUT_S):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during start")
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(app=app, server=server, port=port)
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(SERVER_START_TIMEOUT_S):
                await task
        except TimeoutError:
            for pending in asyncio.all_tasks():  # say what the shutdown waits for
                pending.print_stack(limit=6)
            raise


@pytest.fixture
async def server(settings: Settings, clock: TestClock) -> AsyncIterator[RunningServer]:
    async with run_server(settings, clock) as running:
        yield running


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, follow_redirects=False) as c:
        yield c
