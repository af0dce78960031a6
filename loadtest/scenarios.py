"""The coordinator of a run: sessions and rooms, generator processes, server measurements, the report.

Scenarios: ``fanout`` (one publisher per room, one message in flight),
``fixed-rate`` (publishers on a fixed schedule), ``idle`` (authenticated
connections doing nothing; server RSS per connection) and ``reconnect-storm``
(every subscriber drops and resumes from its position while publishing goes on).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import secrets
import sys
import time
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from loadtest import procstats
from loadtest.plot import NO_PLOT_NOTE, plot_available
from loadtest.report import Report, latency_summary_ms, pct, per_second, us_per
from loadtest.sessions import (
    FLAVOURS_DIR,
    Http,
    Room,
    SetupError,
    Target,
    create_session,
    discover_rooms,
    pick_rooms,
)
from loadtest.worker import ConnSpec, WorkerPlan, WorkerResult, worker_main

SCENARIOS = ("fanout", "fixed-rate", "idle", "reconnect-storm")
REPLY_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 5.0
STORM_DRAIN_TIMEOUT_S = 15.0
IDLE_SETTLE_S = 1.0
MAX_CONNECTIONS = 19000
MAX_DURATION_S = 600.0
GUEST_MODES = ("guests",)
MEMBER_MODES = ("members",)


@dataclass
class RunOptions:
    url: str
    scenario: str
    rooms: int = 2
    subscribers: int = 10
    publishers: int = 1
    duration_s: float = 10.0
    rate: float = 8000.0
    connections: int = 1000
    processes: int = 1
    target: str = "chatserver"
    flavour: str | None = None
    server_pids: list[int] = field(default_factory=list)
    redis_pids: list[int] = field(default_factory=list)
    db_pids: list[int] = field(default_factory=list)
    conns_per_account: int = 50
    sessions: int = 100
    flavours_dir: Path = FLAVOURS_DIR
    json_path: Path | None = None
    plot: bool = True
    quiet: bool = False

    def validate(self) -> None:
        if self.scenario not in SCENARIOS:
            raise SetupError(f"onbekend scenario {self.scenario!r}; kies uit {', '.join(SCENARIOS)}")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise SetupError(f"--duration moet tussen 0 en {MAX_DURATION_S:.0f} s liggen")
        total = self.connections if self.scenario == "idle" else self.rooms * (self.subscribers + self.publishers)
        if not 0 < total <= MAX_CONNECTIONS:
            raise SetupError(f"{total} verbindingen: kies tussen 1 en {MAX_CONNECTIONS}")
        if self.processes < 1 or self.rooms < 1 or self.subscribers < 0 or self.rate <= 0 or self.publishers < 1:
            raise SetupError("--processes, --rooms, --publishers en --rate moeten positief zijn")


class Sessions:
    """Tokens from the server under test.

    The server limits how many guests one address may create per minute, so
    subscribers share a pool of guest sessions (each session may hold several
    connections); every publisher gets a session of its own.
    """

    def __init__(self, target: Target, pool_size: int, conns_per_account: int) -> None:
        self.http = Http(target)
        self.guest_ok = True
        self.pool_size = max(1, pool_size)
        self.pool: list[str] = []
        self.next = 0
        self.conns_per_account = max(1, conns_per_account)
        self.member_token = ""
        self.member_uses = 0

    def own(self) -> str:
        """A session for one connection only (a publisher)."""
        if self.guest_ok:
            try:
                session = create_session(self.http, prefer_guest=True)
            except SetupError:
                session = None
            if session is not None and session.kind == "guest":
                return session.token
            self.guest_ok = False
        return create_session(self.http, prefer_guest=False).token

    def shared_guest(self) -> str:
        """A guest session from the pool (grown up to its size, then reused round-robin)."""
        if len(self.pool) < self.pool_size and self.guest_ok:
            try:
                self.pool.append(self.own())
                return self.pool[-1]
            except SetupError:
                if not self.pool:
                    raise
                self.pool_size = len(self.pool)
        token = self.pool[self.next % len(self.pool)]
        self.next += 1
        return token

    def member(self) -> str:
        if not self.member_token or self.member_uses >= self.conns_per_account:
            self.member_token = create_session(self.http, prefer_guest=False).token
            self.member_uses = 0
        self.member_uses += 1
        return self.member_token

    def close(self) -> None:
        self.http.close()


def plan_connections(opts: RunOptions, target: Target, notes: list[str]) -> tuple[list[ConnSpec], list[str]]:
    """Who connects where: returns the connection specs and the channel names."""
    if opts.target != "chatserver":
        channels = [f"room:bench:r{i}" for i in range(opts.rooms)]
        if opts.scenario == "idle":
            return [ConnSpec("", "", "idle") for _ in range(opts.connections)], []
        specs = [ConnSpec("", ch, "pub", opts.publishers, k) for ch in channels for k in range(opts.publishers)]
        specs += [ConnSpec("", ch, "sub") for ch in channels for _ in range(opts.subscribers)]
        return specs, channels
    sessions = Sessions(target, opts.sessions, opts.conns_per_account)
    try:
        if opts.scenario == "idle":
            return [ConnSpec(sessions.shared_guest(), "", "idle") for _ in range(opts.connections)], []
        all_rooms, source = discover_rooms(sessions.http, opts.flavours_dir)
        rooms: list[Room]
        try:
            rooms = pick_rooms(all_rooms, opts.rooms, GUEST_MODES, opts.flavour)
        except SetupError:
            guest_rooms = [r for r in all_rooms if r.mode in GUEST_MODES and opts.flavour in (None, r.flavour)]
            member_rooms = pick_rooms(all_rooms, opts.rooms - len(guest_rooms), MEMBER_MODES, opts.flavour)
            rooms = guest_rooms + member_rooms
            notes.append(f"{len(member_rooms)} kamers alleen voor leden: daar luisteren accounts mee")
        notes.append(f"kamers uit {source}: " + ", ".join(f"{r.flavour}/{r.slug}" for r in rooms))
        if any(r.slow_mode_s for r in rooms):
            notes.append("let op: een gekozen kamer heeft slow_mode_s > 0")
        specs = []
        channels = []
        for room in rooms:
            channel = f"room:{room.flavour}:{room.slug}"
            channels.append(channel)
            for k in range(opts.publishers):
                specs.append(ConnSpec(sessions.own(), channel, "pub", opts.publishers, k))
            for _ in range(opts.subscribers):
                token = sessions.shared_guest() if room.mode in GUEST_MODES else sessions.member()
                specs.append(ConnSpec(token, channel, "sub"))
        return specs, channels
    finally:
        sessions.close()


def _split(specs: list[ConnSpec], parts: int) -> list[list[ConnSpec]]:
    """Round-robin, so every process gets its share of each room."""
    out: list[list[ConnSpec]] = [[] for _ in range(parts)]
    for i, spec in enumerate(specs):
        out[i % parts].append(spec)
    return [chunk for chunk in out if chunk]


def _expect(pipe: Pipe, kind: str, timeout_s: float = REPLY_TIMEOUT_S) -> tuple[Any, ...]:
    if not pipe.poll(timeout_s):
        raise SetupError(f"generatorproces antwoordde niet ({kind})")
    message: tuple[Any, ...] = pipe.recv()
    if message[0] != kind:
        raise SetupError(f"generatorproces: {kind} verwacht, {message[0]} gekregen")
    return message


def _log(opts: RunOptions, text: str) -> None:
    if not opts.quiet:
        print(f"[loadtest] {text}", flush=True)


def run(opts: RunOptions) -> dict[str, Any]:
    """One run of one scenario; returns the report as a dict (and writes JSON and PNG when asked)."""
    opts.validate()
    target = Target.parse(opts.url)
    notes: list[str] = []
    found = procstats.find_processes(target.port, opts.server_pids, opts.redis_pids, opts.db_pids)
    if not found.server:
        notes.append("geen serverproces gevonden op de poort: server-CPU en RSS ontbreken")
    _log(opts, f"{opts.scenario} tegen {opts.target} {target.base_url}: sessies aanmaken")
    specs, channels = plan_connections(opts, target, notes)
    rss_before = procstats.rss_bytes(found.server)
    tag = secrets.token_hex(4).translate(str.maketrans("0123456789", "ghijklmnop"))
    interval = 0.0
    if opts.scenario == "fixed-rate":
        per_publisher = opts.rate / max(1, opts.rooms * opts.subscribers * opts.publishers)
        interval = 1.0 / per_publisher
    chunks = _split(specs, opts.processes)
    ctx = multiprocessing.get_context("fork")
    procs: list[tuple[Any, Pipe]] = []
    for number, chunk in enumerate(chunks):
        mine, theirs = ctx.Pipe()
        plan = WorkerPlan(target.host, target.port, _dialect(opts.target), tag, opts.scenario, chunk, interval,
                          number / len(chunks))  # fmt: skip
        proc = ctx.Process(target=worker_main, args=(plan, theirs), daemon=True)
        proc.start()
        theirs.close()
        procs.append((proc, mine))
    try:
        return _drive(opts, target, found, procs, specs, channels, rss_before, notes)
    finally:
        for proc, pipe in procs:
            if proc.is_alive():
                with contextlib.suppress(OSError):
                    pipe.send(("quit", None))
            proc.join(5.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(5.0)
            pipe.close()


def _dialect(target: str) -> str:
    return "socketio" if target == "socketio" else "chatserver"


def _drive(opts: RunOptions, target: Target, found: procstats.Found, procs: list[tuple[Any, Pipe]],
           specs: list[ConnSpec], channels: list[str], rss_before: int,
           notes: list[str]) -> dict[str, Any]:  # fmt: skip
    connected = failures = 0
    for _, pipe in procs:
        _, ok, failed = _expect(pipe, "ready")
        connected += ok
        failures += failed
    _log(opts, f"{connected} verbindingen open ({failures} mislukt) in {len(procs)} processen")
    if opts.scenario == "idle":
        time.sleep(IDLE_SETTLE_S)
    cpu0 = procstats.CpuSample.take(found)
    t0 = time.time_ns()
    wall0 = time.monotonic()
    for _, pipe in procs:
        pipe.send(("start", t0))
    storm_at = wall0 + opts.duration_s / 3.0
    dropped = False
    peak_rss = procstats.rss_bytes(found.server)
    while True:
        now = time.monotonic()
        if now - wall0 >= opts.duration_s:
            break
        if opts.scenario == "reconnect-storm" and not dropped and now >= storm_at:
            _log(opts, "alle abonnees verbreken de verbinding en komen terug")
            for _, pipe in procs:
                pipe.send(("drop", None))
            dropped = True
        time.sleep(min(0.25, max(0.0, opts.duration_s - (now - wall0))))
        peak_rss = max(peak_rss, procstats.rss_bytes(found.server))
    for _, pipe in procs:
        pipe.send(("stop", None))
    wall = time.monotonic() - wall0
    acked: dict[str, list[int]] = {}
    for _, pipe in procs:
        _, published = _expect(pipe, "stopped")
        for channel, seqs in published.items():
            acked.setdefault(channel, []).extend(seqs)
    drain = STORM_DRAIN_TIMEOUT_S if opts.scenario == "reconnect-storm" else DRAIN_TIMEOUT_S
    for _, pipe in procs:
        pipe.send(("drain", (acked, drain)))
    results: list[WorkerResult] = [_expect(pipe, "result", REPLY_TIMEOUT_S + drain)[1] for _, pipe in procs]
    cpu = procstats.CpuSample.take(found).since(cpu0)
    rss_after = procstats.rss_bytes(found.server)
    return _report(opts, target, found, results, specs, channels, acked, cpu, wall, rss_before,
                   max(peak_rss, rss_after), connected, failures, notes)  # fmt: skip


def _report(opts: RunOptions, target: Target, found: procstats.Found, results: list[WorkerResult],
            specs: list[ConnSpec], channels: list[str], acked: dict[str, list[int]], cpu: procstats.CpuSample,
            wall: float, rss_before: int, rss_peak: int, connected: int, failures: int,
            notes: list[str]) -> dict[str, Any]:  # fmt: skip
    counts: dict[str, int] = {}
    latencies = array("q")
    recv_ms = array("i")
    frames = 0
    gen_cpu = 0.0
    storm: dict[str, Any] = {}
    closes: dict[int, int] = {}
    error_codes: dict[int, int] = {}
    publish_errors = rate_limited = 0
    for r in results:
        for key, value in r.counts.items():
            counts[key] = counts.get(key, 0) + value
        latencies.frombytes(r.latencies_us)
        recv_ms.frombytes(r.recv_ms)
        frames += r.frames
        gen_cpu += r.cpu_s
        publish_errors += r.publish_errors
        rate_limited += r.rate_limited
        for code, n in r.publish_error_codes.items():
            error_codes[code] = error_codes.get(code, 0) + n
        for code, n in r.closed_by_server.items():
            closes[code] = closes.get(code, 0) + n
        for key, value in r.storm.items():
            if key == "all_back_s":
                storm[key] = max(storm.get(key) or 0.0, value or 0.0)
            else:
                storm[key] = storm.get(key, 0) + (value or 0)
    published = sum(len(v) for v in acked.values())
    delivered = counts.get("delivered", 0)
    server_found = bool(found.server)
    extra: dict[str, Any] = {
        "rate_limited_retries": rate_limited,
        "closed_by_server": {str(k): v for k, v in sorted(closes.items())},
        "publish_error_codes": {str(k): v for k, v in sorted(error_codes.items())},
        "frames_received_by_generator": frames,
        "loadgen_cpu_pct": pct(gen_cpu, wall),
        "redis_pids": found.redis,
        "db_pids": found.db,
        "redis_cpu_us_per_delivery": us_per(cpu.redis if found.redis else None, delivered),
        "db_cpu_us_per_delivery": us_per(cpu.db if found.db else None, delivered),
    }
    if opts.scenario == "fixed-rate":
        extra["target_deliveries_per_s"] = opts.rate
    if opts.scenario == "idle":
        extra["server_rss_before_bytes"] = rss_before
        extra["server_rss_per_connection_bytes"] = (
            round((rss_peak - rss_before) / connected) if connected and server_found else None
        )
    if storm:
        extra["reconnect_storm"] = storm
    n_conn = opts.connections if opts.scenario == "idle" else len(specs)
    report = Report(
        scenario=opts.scenario,
        target=opts.target,
        url=target.base_url,
        rooms=len(channels),
        subscribers_per_room=opts.subscribers if opts.scenario != "idle" else 0,
        publishers_per_room=opts.publishers if opts.scenario != "idle" else 0,
        connections=n_conn,
        duration_s=round(wall, 3),
        published=published,
        delivered=delivered,
        expected_deliveries=counts.get("expected", 0),
        lost=counts.get("lost", 0),
        duplicates=counts.get("duplicates", 0),
        out_of_order=counts.get("out_of_order", 0),
        unacked_delivered=counts.get("unacked_delivered", 0),
        delivered_per_s=per_second(delivered, wall),
        latency_ms=latency_summary_ms(latencies),
        server_rss_bytes=rss_peak if server_found else None,
        server_cpu_pct=pct(cpu.server if server_found else None, wall),
        server_cpu_us_per_delivery=us_per(cpu.server if server_found else None, delivered),
        redis_cpu_pct=pct(cpu.redis if found.redis else None, wall),
        db_cpu_pct=pct(cpu.db if found.db else None, wall),
        loadgen_cpu_us_per_message=us_per(gen_cpu, frames),
        loadgen_processes=len(results),
        connect_failures=failures + max(0, n_conn - connected - failures),
        publish_errors=publish_errors,
        server_pids=found.server,
        extra=extra,
        notes=[*notes, "2 CPU-kernen gedeeld door server, Redis, database en loadgenerator"],
    )
    if opts.json_path is not None:
        write_report(report, opts.json_path, recv_ms, latencies, plot=opts.plot)
    return asdict(report)


def write_report(report: Report, path: Path, recv_ms: array[int], latencies: array[int], *, plot: bool) -> None:
    """Write the JSON report, and the PNG beside it when asked for and matplotlib is there.

    Without matplotlib (the ``make run`` install) the JSON is still written and
    one line on standard error says how to get the plot.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if plot and len(latencies):
        if plot_available():
            from loadtest.plot import plot_latency

            png = path.with_suffix(".png")
            plot_latency(recv_ms, latencies, png, f"{report.target} {report.scenario}")
            report.plot = png.name
        else:
            report.notes.append("geen PNG: matplotlib ontbreekt (dev-extra)")
            print(NO_PLOT_NOTE, file=sys.stderr, flush=True)
    path.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
