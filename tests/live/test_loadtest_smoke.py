"""A tiny fanout of the benchmark against the real server: sessions over HTTP, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from chatserver.adapters.embedded import free_port
from chatserver.config import PROJECT_ROOT, Settings
from loadtest.compare import _child
from loadtest.scenarios import RunOptions, run
from tests.conftest import run_server

BENCHMARK_FLAVOURS = PROJECT_ROOT / "loadtest" / "flavours"


async def test_tiny_fanout_delivers_every_acknowledged_message_exactly_once(settings: Settings) -> None:
    # The benchmark flavour has guest rooms without slow mode, as `python -m loadtest compare` uses.
    async with run_server(replace(settings, flavours_dir=BENCHMARK_FLAVOURS)) as server:
        await _tiny_fanout(server.url)


async def test_a_run_without_matplotlib_writes_the_json_report_and_no_png(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The install `make run` makes has no matplotlib (dev extra): the run must still finish with its report.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "fanout.json"
    async with run_server(replace(settings, flavours_dir=BENCHMARK_FLAVOURS)) as server:
        await _tiny_fanout(server.url, json_path=path)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["plot"] is None
    assert report["delivered"] == report["expected_deliveries"] > 0
    assert not path.with_suffix(".png").exists()


async def _tiny_fanout(url: str, json_path: Path | None = None) -> None:
    opts = RunOptions(
        json_path=json_path,
        url=url,
        scenario="fanout",
        rooms=2,
        subscribers=5,
        duration_s=2.0,
        processes=1,
        sessions=4,
        quiet=True,
        flavours_dir=BENCHMARK_FLAVOURS,
    )
    # run() blocks (it drives generator processes); the server under test lives in this event loop.
    async with asyncio.timeout(60):
        report = await asyncio.to_thread(run, opts)
    assert report["connect_failures"] == 0
    assert report["publish_errors"] == 0, report["extra"]
    assert report["published"] > 0
    assert report["expected_deliveries"] == report["published"] * 5
    assert report["delivered"] == report["expected_deliveries"]
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["out_of_order"] == 0
    assert report["latency_ms"]["max"] > 0


def test_the_floor_peer_speaks_enough_protocol_for_a_fanout(valkey, tmp_path) -> None:
    # The bare peer is the same-run floor of docs/benchmark.md; it must deliver everything once, in order.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "loadtest.peers.bare_server", "--port", str(port), "--redis-url", valkey.url,
           "--prefix", f"t{port}:"]  # fmt: skip
    with _child(cmd, dict(os.environ), tmp_path / "bare.log", url, "/"):
        opts = RunOptions(url=url, scenario="fanout", rooms=2, subscribers=5, duration_s=2.0, processes=1,
                          target="bare", quiet=True)  # fmt: skip
        report = run(opts)
    assert report["published"] > 0
    assert report["delivered"] == report["expected_deliveries"] == report["published"] * 5
    assert report["lost"] == report["duplicates"] == report["out_of_order"] == 0


async def test_several_publishers_per_room_are_counted_apart(settings: Settings) -> None:
    # Busy rooms: three publishers per room, their numbers interleave; nothing may look lost or doubled.
    async with run_server(replace(settings, flavours_dir=BENCHMARK_FLAVOURS)) as server:
        opts = RunOptions(url=server.url, scenario="fanout", rooms=2, subscribers=4, publishers=3, duration_s=2.0,
                          processes=2, sessions=4, quiet=True, flavours_dir=BENCHMARK_FLAVOURS)  # fmt: skip
        async with asyncio.timeout(60):
            report = await asyncio.to_thread(run, opts)
    assert report["publishers_per_room"] == 3
    assert report["connections"] == 2 * (4 + 3)
    assert report["published"] > 6
    assert report["delivered"] == report["expected_deliveries"] == report["published"] * 4
    assert report["lost"] == report["duplicates"] == report["out_of_order"] == 0
