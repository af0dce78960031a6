"""`chatserver serve`: embedded engines as children, gone after Ctrl-C, SIGTERM or a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from pymongo import MongoClient

from chatserver.adapters.embedded import SecantusServer, ValkeyServer, free_port

START_TIMEOUT_S = 60.0
ENGINE_NAMES = ("valkey-server", "secantusd")


def _engine_children(proc: psutil.Process) -> list[psutil.Process]:
    out = []
    for child in proc.children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if any(name in cmd for name in ENGINE_NAMES):
            out.append(child)
    return out


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


def _wait_gone(procs: list[psutil.Process], timeout: float = 15.0) -> None:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    assert not alive, f"left behind: {[p.pid for p in alive]}"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(CHATSERVER_PORT=str(port), CHATSERVER_DATA_DIR=str(tmp_path / "var"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatserver", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_server_and_both_engines(serve: tuple[subprocess.Popen[bytes], str], sig: int) -> None:
    proc, url = serve
    body = httpx.get(f"{url}/healthz").json()
    assert body["redis"]["reachable"] and body["mongodb"]["reachable"]
    children = _engine_children(psutil.Process(proc.pid))
    assert len(children) == 2
    proc.send_signal(sig)
    assert proc.wait(30) == 0
    _wait_gone(children)


def test_crash_of_the_parent_leaves_no_orphans(serve: tuple[subprocess.Popen[bytes], str]) -> None:
    proc, _ = serve
    children = _engine_children(psutil.Process(proc.pid))
    assert len(children) == 2
    proc.kill()
    proc.wait(10)
    _wait_gone(children)


def test_with_urls_set_no_child_is_started(valkey: ValkeyServer, secantus: SecantusServer, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(
        CHATSERVER_PORT=str(port),
        CHATSERVER_DATA_DIR=str(tmp_path / "var"),
        CHATSERVER_REDIS_URL=valkey.url,
        CHATSERVER_MONGODB_URL=secantus.url,
    )
    proc = subprocess.Popen([sys.executable, "-m", "chatserver", "serve"], env=env, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert _engine_children(psutil.Process(proc.pid)) == []
        assert not (tmp_path / "var" / "valkey").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_bad_configuration_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(CHATSERVER_PORT="acht", CHATSERVER_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "chatserver", "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["chatserver: configuratiefout: CHATSERVER_PORT: geen geheel getal: 'acht'"]


def test_bad_flavour_file_stops_with_one_line(tmp_path: Path) -> None:
    flavours = tmp_path / "flavours"
    flavours.mkdir()
    (flavours / "kapot.toml").write_text("name = 3\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(CHATSERVER_FLAVOURS_DIR=str(flavours), CHATSERVER_DATA_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, "-m", "chatserver", "check-config"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("chatserver: configuratiefout: kapot.toml: name: Expected `str`")


def test_engine_data_survives_a_restart(tmp_path: Path) -> None:
    valkey = ValkeyServer(tmp_path / "valkey", unix_socket=False)
    secantus = SecantusServer(tmp_path / "mongodb")
    valkey.start()
    secantus.start()
    try:
        r = redis.Redis.from_url(valkey.url)
        r.set("blijft", "ja")
        r.close()
        m: MongoClient[dict[str, object]] = MongoClient(secantus.url)
        m.db.docs.insert_one({"_id": 1, "tekst": "blijft"})
        m.close()
        valkey.stop()
        secantus.stop()
        valkey.start()
        secantus.start()
        r = redis.Redis.from_url(valkey.url)
        assert r.get("blijft") == b"ja"
        r.close()
        m = MongoClient(secantus.url)
        assert m.db.docs.find_one({"_id": 1}) == {"_id": 1, "tekst": "blijft"}
        m.close()
    finally:
        valkey.stop()
        secantus.stop()


@pytest.mark.parametrize("command", [["seed-demo"], ["serve"]])
def test_a_second_command_beside_a_running_server_says_stop_it_first_in_one_line(
    serve: tuple[subprocess.Popen[bytes], str], tmp_path: Path, command: list[str]
) -> None:
    # `make run` holds ./var: WiredTiger locks its files and Valkey answers on its socket.
    proc, url = serve
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    env.update(CHATSERVER_PORT=str(free_port()), CHATSERVER_DATA_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, "-m", "chatserver", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"chatserver: de gegevensmap {tmp_path / 'var'} is in gebruik (valkey, secantusd")
    assert "stop eerst de server" in lines[0] and "stop the server first" in lines[0]
    # The running server did not notice.
    assert httpx.get(f"{url}/healthz", timeout=5.0).status_code == 200
    assert proc.poll() is None
