"""``python -m loadtest compare``: the same scenario against our server and the reference peers, in one run.

Starts one Valkey and one SecantusDB (chatserver/adapters/embedded.py), our
server (``chatserver serve``, persistence on, the benchmark flavour from
loadtest/flavours/) unless ``--url`` names a running one, and the peers from
loadtest/peers/ on the same Valkey (persistence off); with ``--cluster`` also
our server on a three-node Redis Cluster. Runs are interleaved
(ours, peers, ours, …) so that other load on the machine hits all alike; the
median of ``--repeat`` runs counts. Prints the ratios and writes every report.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chatserver.adapters.embedded import SecantusServer, ValkeyCluster, ValkeyServer, free_port
from loadtest.plot import NO_PLOT_NOTE, plot_available
from loadtest.scenarios import RunOptions, run
from loadtest.sessions import FLAVOURS_DIR, SetupError

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BENCH_FLAVOURS = Path(__file__).resolve().parent / "flavours"
PEER_MODULES = {
    "socketio": "loadtest.peers.socketio_server",
    "starlette": "loadtest.peers.starlette_server",
    "bare": "loadtest.peers.bare_server",
}
# What a peer needs beyond the install `make run` makes; python-socketio and aiohttp come with the dev extra.
PEER_REQUIRES = {"socketio": ("socketio", "aiohttp")}
DEV_EXTRA_HINT = "installeer de dev-extra met `pip install -e '.[dev]'` (of `make install-test`)"


def _wait_http(url: str, proc: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"{url}: proces stopte meteen (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(url + path, timeout=1.0):  # noqa: S310 - 127.0.0.1 only
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: up
        except OSError:
            time.sleep(0.1)
    raise SetupError(f"{url} kwam niet op binnen {START_TIMEOUT_S:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT_S)


@contextlib.contextmanager
def _child(cmd: list[str], env: dict[str, str], log_path: Path, url: str, probe: str) -> Iterator[int]:
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        _wait_http(url, proc, probe)
        yield proc.pid
    finally:
        _stop(proc)


def _dialect_of(name: str) -> str:
    """``chatserver-cluster`` is our server too: same protocol, sessions from its API."""
    return "chatserver" if name.startswith("chatserver") else name


def _median(reports: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in reports if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def missing_modules(peer: str) -> list[str]:
    """The Python modules a peer needs that this install lacks (checked before anything starts)."""
    return [name for name in PEER_REQUIRES.get(peer, ()) if not _importable(name)]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a sys.modules entry without a spec (or None)
        return False


def check_peers(raw: str) -> list[str]:
    """The peers named in ``--peers``; a SetupError names an unknown one or one whose modules are missing."""
    peers = [p.strip() for p in raw.split(",") if p.strip()]
    for peer in peers:
        if peer not in PEER_MODULES:
            raise SetupError(f"onbekende referentie {peer!r}; kies uit {', '.join(PEER_MODULES)}")
        if missing := missing_modules(peer):
            others = ",".join(p for p in PEER_MODULES if p not in PEER_REQUIRES) or "bare"
            raise SetupError(
                f"referentie {peer!r} heeft {', '.join(missing)} nodig: {DEV_EXTRA_HINT}, "
                f"of kies --peers {others} / peer {peer!r} needs the dev extra"
            )
    return peers


def compare(args: argparse.Namespace) -> int:
    peers = check_peers(args.peers)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_available()
    if not plot:
        print(NO_PLOT_NOTE, file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        valkey = ValkeyServer(work / "valkey", port=free_port())
        valkey.start()
        stack.callback(valkey.stop)
        targets: dict[str, tuple[str, list[int], list[int], list[int]]] = {}
        if args.url:
            targets["chatserver"] = (args.url, [], [], [])
        else:
            secantus = SecantusServer(work / "mongodb")
            secantus.start()
            stack.callback(secantus.stop)
            servers = [("chatserver", valkey.url, [valkey.pid or 0])]
            if args.cluster:
                cluster = ValkeyCluster(work / "cluster")
                cluster.start()
                stack.callback(cluster.stop)
                servers.append(("chatserver-cluster", cluster.url, [node.pid or 0 for node in cluster.nodes]))
            for name, redis_url, redis_pids in servers:
                port = free_port()
                env = {
                    **os.environ,
                    "CHATSERVER_REDIS_URL": redis_url,
                    "CHATSERVER_MONGODB_URL": secantus.url,
                    "CHATSERVER_MONGODB_DATABASE": name.replace("-", "_"),
                    "CHATSERVER_PORT": str(port),
                    "CHATSERVER_HOST": "127.0.0.1",
                    "CHATSERVER_DATA_DIR": str(work / f"data-{name}"),
                    "CHATSERVER_SECRET_KEY": secrets.token_urlsafe(48),
                    "CHATSERVER_FLAVOURS_DIR": str(BENCH_FLAVOURS),
                    "CHATSERVER_LOG_LEVEL": "WARNING",
                    "CHATSERVER_REDIS_PREFIX": "ltcs:",
                }
                url = f"http://127.0.0.1:{port}"
                cmd = [sys.executable, "-m", "chatserver", "serve", "--workers", str(args.workers)]
                pid = stack.enter_context(_child(cmd, env, out / f"{name}.log", url, "/healthz"))
                server_pids = [pid] if args.workers == 1 else []
                targets[name] = (url, server_pids, redis_pids, [secantus.pid or 0])
                print(f"[compare] {name} op {url} (pid {pid}), persistentie aan", flush=True)
        for peer in peers:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            cmd = [sys.executable, "-m", PEER_MODULES[peer], "--port", str(port), "--redis-url", valkey.url]
            probe = "/socket.io/?EIO=4&transport=polling" if peer == "socketio" else "/"
            pid = stack.enter_context(_child(cmd, dict(os.environ), out / f"{peer}.log", url, probe))
            targets[peer] = (url, [pid], [valkey.pid or 0], [])
            print(f"[compare] {peer} op {url} (pid {pid}), persistentie uit", flush=True)
        reports: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for i in range(max(1, args.repeat)):
            for name, (url, server_pids, redis_pids, db_pids) in targets.items():
                path = out / f"{name}-{args.scenario}-{i + 1}.json"
                report = run(
                    RunOptions(
                        url=url, scenario=args.scenario, rooms=args.rooms, subscribers=args.subscribers,
                        publishers=args.publishers,
                        duration_s=args.duration, rate=args.rate, connections=args.connections,
                        processes=args.processes, target=_dialect_of(name), flavour=args.flavour,
                        sessions=args.sessions,
                        server_pids=server_pids, redis_pids=redis_pids, db_pids=db_pids, json_path=path,
                        quiet=True, flavours_dir=BENCH_FLAVOURS if not args.url else FLAVOURS_DIR, plot=plot,
                    )
                )  # fmt: skip
                reports[name].append(report)
                print(
                    f"[compare] {name} #{i + 1}: {report['delivered_per_s']:.0f} afleveringen/s, "
                    f"{report['server_cpu_us_per_delivery']} µs server-CPU per aflevering, "
                    f"p99 {report['latency_ms']['p99']} ms, verloren {report['lost']}, dubbel {report['duplicates']}, "
                    f"generator {report['loadgen_cpu_us_per_message']} µs/bericht",
                    flush=True,
                )
    summary: dict[str, Any] = {
        "scenario": args.scenario,
        "rooms": args.rooms,
        "subscribers": args.subscribers,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "targets": {},
        "ratios": {},
    }
    for name, runs in reports.items():
        summary["targets"][name] = {
            "delivered_per_s": _median(runs, "delivered_per_s"),
            "server_cpu_us_per_delivery": _median(runs, "server_cpu_us_per_delivery"),
            "server_cpu_pct": _median(runs, "server_cpu_pct"),
            "loadgen_cpu_us_per_message": _median(runs, "loadgen_cpu_us_per_message"),
            "lost": sum(r["lost"] for r in runs),
            "duplicates": sum(r["duplicates"] for r in runs),
            "out_of_order": sum(r["out_of_order"] for r in runs),
            "runs": [f"{name}-{args.scenario}-{i + 1}.json" for i in range(len(runs))],
        }
    ours = summary["targets"]["chatserver"]
    for name in [n for n in summary["targets"] if n != "chatserver"]:
        theirs = summary["targets"][name]
        summary["ratios"][name] = {
            "deliveries_per_s": _ratio(ours["delivered_per_s"], theirs["delivered_per_s"]),
            "cpu_us_per_delivery": _ratio(theirs["server_cpu_us_per_delivery"], ours["server_cpu_us_per_delivery"]),
        }
        ratio = summary["ratios"][name]
        print(
            f"[compare] chatserver / {name}: {ratio['deliveries_per_s']}× afleveringen per seconde, "
            f"{ratio['cpu_us_per_delivery']}× minder server-CPU per aflevering",
            flush=True,
        )
    (out / f"compare-{args.scenario}.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0
