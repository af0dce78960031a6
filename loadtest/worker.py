"""One load-generator process: its share of subscribers and publishers, driven by the coordinator over a pipe.

Commands from the coordinator: ``start``, ``drop`` (reconnect storm), ``stop``,
``drain`` (with the acknowledged sequence numbers per channel), ``quit``.
Everything the process measures goes back in one :class:`WorkerResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any, Literal

from loadtest.client import (
    DIALECTS,
    K_ACK,
    K_ERROR,
    K_EVENT,
    K_RELOAD,
    K_SUBSCRIBED,
    K_WELCOME,
    Connection,
    Dialect,
    connect,
)
from loadtest.procstats import self_cpu_seconds
from loadtest.report import Counts, stream_counts

Role = Literal["sub", "pub", "idle"]
CONNECT_CONCURRENCY = 100
CONNECT_TIMEOUT_S = 15.0
SETUP_TIMEOUT_S = 60.0
RATE_LIMITED = 4204
UNAVAILABLE = 4205
MIN_RETRY_S = 0.01
MAX_RETRIES = 50
KEEPALIVE_S = 20.0

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TO_BASE26 = str.maketrans(_LETTERS, "0123456789abcdefghijklmnop")


def encode_number(n: int) -> str:
    """A non-negative integer written in letters only (base 26), so no filter mistakes it for a phone number."""
    if n == 0:
        return "a"
    out: list[str] = []
    while n:
        n, digit = divmod(n, 26)
        out.append(_LETTERS[digit])
    return "".join(reversed(out))


def decode_number(text: str) -> int:
    return int(text.translate(_TO_BASE26), 26)


def message_text(tag: str, seq: int, sent_ns: int) -> str:
    return f"lt {tag} {encode_number(seq)} {encode_number(sent_ns)}"


def parse_text(text: str, tag: str) -> tuple[int, int] | None:
    """(seq, sent_ns) of one of our messages, or None for foreign traffic."""
    parts = text.split(" ")
    if len(parts) != 4 or parts[0] != "lt" or parts[1] != tag:
        return None
    return decode_number(parts[2]), decode_number(parts[3])


@dataclass
class ConnSpec:
    token: str
    channel: str
    role: Role
    # Publisher k of P in a room numbers its messages k + P, k + 2P, ...: unique within the room.
    stride: int = 1
    phase: int = 0


@dataclass
class WorkerPlan:
    host: str
    port: int
    dialect: str
    tag: str
    scenario: str
    conns: list[ConnSpec]
    publish_interval_s: float = 0.0
    phase: float = 0.0  # this process's share of one interval (0 ≤ phase < 1), so processes interleave


@dataclass
class WorkerResult:
    connected: int = 0
    connect_failures: int = 0
    subscribe_failures: int = 0
    frames: int = 0
    cpu_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    latencies_us: bytes = b""
    recv_ms: bytes = b""
    published: dict[str, list[int]] = field(default_factory=dict)
    publish_errors: int = 0
    rate_limited: int = 0
    publish_error_codes: dict[int, int] = field(default_factory=dict)
    closed_by_server: dict[int, int] = field(default_factory=dict)
    storm: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Latency samples of one process, kept in flat arrays."""

    __slots__ = ("frames", "latencies_us", "recv_ms", "t0_ns")

    def __init__(self) -> None:
        self.t0_ns = time.time_ns()
        self.latencies_us = array("q")
        self.recv_ms = array("i")
        self.frames = 0


class Member:
    """A subscriber (or an idle connection): records every message of ours on its channel."""

    def __init__(self, spec: ConnSpec, dialect: Dialect, tag: str, rec: Recorder) -> None:
        self.spec = spec
        self.dialect = dialect
        self.tag = tag
        self.rec = rec
        self.conn: Connection | None = None
        self.seqs = array("q")
        self.offsets = array("q")
        self.position: tuple[int, str] | None = None
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.request_id = 0
        self.reloads = 0
        self.reconnected_at_ns = 0
        self.back_ns = 0
        self.missed_delivered = 0

    def bind(self, conn: Connection) -> None:
        self.conn = conn

    def on_text(self, payload: bytes, now_ns: int) -> None:
        self.rec.frames += 1
        p = self.dialect.parse(payload)
        kind = p[0]
        if kind == K_EVENT:
            if p[1] != self.spec.channel:
                return
            self.position = (p[2], p[3])
            mine = parse_text(p[4], self.tag)
            if mine is None:
                return
            seq, sent_ns = mine
            self.seqs.append(seq)
            self.offsets.append(p[2])
            rec = self.rec
            rec.latencies_us.append((now_ns - sent_ns) // 1000)
            rec.recv_ms.append((now_ns - rec.t0_ns) // 1_000_000)
            if self.reconnected_at_ns and (self.back_ns == 0 or sent_ns < self.back_ns):
                self.missed_delivered += 1
        elif kind == K_WELCOME:
            if self.spec.role == "idle":
                self._done(True)
                return
            self.request_id += 1
            assert self.conn is not None
            self.conn.send(self.dialect.subscribe(self.request_id, self.spec.channel, self.position))
        elif kind == K_SUBSCRIBED:
            if self.position is None or (p[3] and p[3] != self.position[1]):
                self.position = (p[2], p[3])
            if self.reconnected_at_ns:
                self.back_ns = now_ns
            self._done(True)
        elif kind == K_RELOAD:
            self.reloads += 1
            self.position = (p[2], p[3])
            self._done(False)
        elif kind == K_ERROR and p[5] == self.request_id:
            self._done(False)

    def _done(self, ok: bool) -> None:
        if not self.ready.done():
            self.ready.set_result(ok)


class Publisher(Member):
    """Publishes into its channel: one message in flight (fanout) or on a fixed schedule."""

    def __init__(self, spec: ConnSpec, dialect: Dialect, tag: str, rec: Recorder, one_in_flight: bool) -> None:
        super().__init__(spec, dialect, tag, rec)
        self.one_in_flight = one_in_flight
        self.running = False
        self.seq = spec.phase
        self.inflight: dict[int, tuple[int, str, str, int]] = {}
        self.acked: list[int] = []
        self.errors = 0
        self.error_codes: dict[int, int] = {}
        self.rate_limited = 0
        self.stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def publish_next(self) -> None:
        if not self.running or self.conn is None:
            return
        self.seq += self.spec.stride
        self.request_id += 1
        cmid = f"{self.tag}-{self.seq}"
        text = message_text(self.tag, self.seq, time.time_ns())
        self.inflight[self.request_id] = (self.seq, cmid, text, 0)
        self.conn.send(self.dialect.publish(self.request_id, self.spec.channel, cmid, text))

    def _resend(self, rid: int) -> None:
        entry = self.inflight.get(rid)
        if entry is None or self.conn is None:
            return
        self.conn.send(self.dialect.publish(rid, self.spec.channel, entry[1], entry[2]))

    def on_text(self, payload: bytes, now_ns: int) -> None:
        p = self.dialect.parse(payload)
        kind = p[0]
        if kind == K_ACK:
            entry = self.inflight.pop(p[5], None)
            if entry is not None:
                self.acked.append(entry[0])
                self._after_reply()
            return
        if kind == K_ERROR and p[5] in self.inflight:
            seq, cmid, text, tries = self.inflight[p[5]]
            if p[2] in (RATE_LIMITED, UNAVAILABLE) and tries < MAX_RETRIES:
                self.rate_limited += p[2] == RATE_LIMITED
                self.inflight[p[5]] = (seq, cmid, text, tries + 1)
                asyncio.get_running_loop().call_later(max(p[6] / 1000.0, MIN_RETRY_S), self._resend, p[5])
                return
            # Anything else (forbidden, invalid) will not get better by retrying: this publisher stops.
            del self.inflight[p[5]]
            self.errors += 1
            self.error_codes[p[2]] = self.error_codes.get(p[2], 0) + 1
            self.stop()
            return
        if kind in (K_WELCOME, K_SUBSCRIBED, K_RELOAD, K_ERROR):
            super().on_text(payload, now_ns)

    def _after_reply(self) -> None:
        if self.running and self.one_in_flight:
            self.publish_next()
        elif not self.running and not self.inflight and not self.stopped.done():
            self.stopped.set_result(None)

    def stop(self) -> None:
        self.running = False
        if not self.inflight and not self.stopped.done():
            self.stopped.set_result(None)


class Worker:
    def __init__(self, plan: WorkerPlan, pipe: Pipe) -> None:
        self.plan = plan
        self.pipe = pipe
        self.dialect = DIALECTS[plan.dialect]()
        self.rec = Recorder()
        self.members: list[Member] = []
        self.publishers: list[Publisher] = []
        self.commands: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.result = WorkerResult()
        self.timers: list[asyncio.TimerHandle] = []

    def _on_pipe(self) -> None:
        while self.pipe.poll():
            try:
                self.commands.put_nowait(self.pipe.recv())
            except EOFError:
                self.commands.put_nowait(("quit", None))
                asyncio.get_running_loop().remove_reader(self.pipe.fileno())
                return

    async def _open(self, member: Member, sem: asyncio.Semaphore) -> None:
        async with sem:
            try:
                member.conn = await connect(
                    self.plan.host,
                    self.plan.port,
                    self.dialect,
                    member.spec.token,
                    member.on_text,
                    time.time_ns,
                    CONNECT_TIMEOUT_S,
                    bind=member.bind,
                )
            except (OSError, TimeoutError, ConnectionError):
                self.result.connect_failures += 1
                member._done(False)
                return
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    ok = await member.ready
            except TimeoutError:
                ok = False
            if not ok:
                self.result.subscribe_failures += 1

    async def setup(self) -> None:
        one_in_flight = self.plan.scenario != "fixed-rate"
        for spec in self.plan.conns:
            if spec.role == "pub":
                pub = Publisher(spec, self.dialect, self.plan.tag, self.rec, one_in_flight)
                self.publishers.append(pub)
            else:
                self.members.append(Member(spec, self.dialect, self.plan.tag, self.rec))
        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
        everyone: list[Member] = [*self.members, *self.publishers]
        async with asyncio.timeout(SETUP_TIMEOUT_S):
            await asyncio.gather(*(self._open(m, sem) for m in everyone))
        self.result.connected = sum(1 for m in everyone if m.conn is not None and m.conn.open)

    def _keepalive(self) -> None:
        frame = self.dialect.keepalive()
        if frame is not None:
            for m in [*self.members, *self.publishers]:
                if m.conn is not None and m.conn.open:
                    m.conn.send(frame)
        self.timers.append(asyncio.get_running_loop().call_later(KEEPALIVE_S, self._keepalive))

    def start(self, t0_ns: int) -> None:
        self.rec.t0_ns = t0_ns
        self.timers.append(asyncio.get_running_loop().call_later(KEEPALIVE_S, self._keepalive))
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Fixed rate: publishers are spread evenly over one interval (and over the generator processes, by
        # the process's share), so the load arrives as a steady stream, not as one burst per interval.
        count = max(1, len(self.publishers))
        for index, pub in enumerate(self.publishers):
            pub.running = True
            if pub.one_in_flight:
                pub.publish_next()
            else:
                phase = (index + self.plan.phase) / count
                self._schedule(pub, now + phase * self.plan.publish_interval_s, 0)

    def _schedule(self, pub: Publisher, t0: float, k: int) -> None:
        interval = self.plan.publish_interval_s
        loop = asyncio.get_running_loop()

        def tick() -> None:
            if not pub.running:
                return
            pub.publish_next()
            self._schedule(pub, t0, k + 1)

        loop.call_at(t0 + k * interval, tick)  # tick() checks pub.running, so stop() needs no handle

    async def drop_and_reconnect(self) -> None:
        for member in self.members:
            if member.conn is not None:
                member.conn.abort()
        dropped_ns = time.time_ns()
        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
        for member in self.members:
            member.ready = asyncio.get_running_loop().create_future()
            member.reconnected_at_ns = time.time_ns()
            member.conn = None
        await asyncio.gather(*(self._open(m, sem) for m in self.members))
        backs = [m.back_ns for m in self.members if m.back_ns]
        self.result.storm = {
            "dropped": len(self.members),
            "recovered": len(backs),
            "reloads": sum(m.reloads for m in self.members),
            "all_back_s": round((max(backs) - dropped_ns) / 1e9, 3) if backs else None,
        }

    async def stop(self) -> None:
        for timer in self.timers:
            timer.cancel()
        for pub in self.publishers:
            pub.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await asyncio.gather(*(pub.stopped for pub in self.publishers))
        for pub in self.publishers:
            self.result.published.setdefault(pub.spec.channel, []).extend(pub.acked)
            self.result.publish_errors += pub.errors + len(pub.inflight)
            self.result.rate_limited += pub.rate_limited
            for code, n in pub.error_codes.items():
                self.result.publish_error_codes[code] = self.result.publish_error_codes.get(code, 0) + n

    async def drain(self, acked: dict[str, list[int]], timeout_s: float) -> None:
        """Wait until every subscriber holds every acknowledged message (or the timeout), then count."""
        wanted = {channel: len(seqs) for channel, seqs in acked.items()}
        subs = [m for m in self.members if m.spec.role == "sub"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if all(len(m.seqs) >= wanted.get(m.spec.channel, 0) for m in subs):
                break
            await asyncio.sleep(0.05)
        total = Counts()
        sets = dict(acked.items())
        for m in subs:
            total.add(stream_counts(sets.get(m.spec.channel, []), m.seqs, m.offsets))
        self.result.counts = {
            "expected": total.expected,
            "delivered": total.delivered,
            "lost": total.lost,
            "duplicates": total.duplicates,
            "out_of_order": total.out_of_order,
            "unacked_delivered": total.unacked_delivered,
        }
        if self.result.storm:
            self.result.storm["missed_and_delivered"] = sum(m.missed_delivered for m in subs)

    def close_all(self) -> None:
        closes: dict[int, int] = {}
        for m in [*self.members, *self.publishers]:
            if m.conn is None:
                continue
            if not m.conn.open and m.conn.closed.done():
                code = m.conn.closed.result()
                closes[code] = closes.get(code, 0) + 1
            m.conn.close()
        self.result.closed_by_server = closes

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.pipe.fileno(), self._on_pipe)
        os.set_blocking(self.pipe.fileno(), True)  # uvloop made it non-blocking; large results need blocking writes
        try:
            await self.setup()
            self.pipe.send(("ready", self.result.connected, self.result.connect_failures))
            cpu0 = self_cpu_seconds()
            frames0 = self.rec.frames
            while True:
                command, arg = await self.commands.get()
                if command == "start":
                    # The generator's own garbage collection must not show up as server latency: what the
                    # setup built is frozen, and cyclic collection stays off while the measurement runs.
                    gc.collect()
                    gc.freeze()
                    gc.disable()
                    cpu0 = self_cpu_seconds()
                    frames0 = self.rec.frames
                    self.start(int(arg))
                elif command == "drop":
                    await self.drop_and_reconnect()
                elif command == "stop":
                    await self.stop()
                    self.pipe.send(("stopped", self.result.published))
                elif command == "drain":
                    acked, timeout_s = arg
                    await self.drain(acked, timeout_s)
                    gc.enable()
                    self.result.cpu_s = self_cpu_seconds() - cpu0
                    self.result.frames = self.rec.frames - frames0
                    self.result.latencies_us = self.rec.latencies_us.tobytes()
                    self.result.recv_ms = self.rec.recv_ms.tobytes()
                    self.close_all()
                    self.pipe.send(("result", self.result))
                elif command == "quit":
                    self.close_all()
                    break
        finally:
            loop.remove_reader(self.pipe.fileno())
            await asyncio.sleep(0.1)


def worker_main(plan: WorkerPlan, pipe: Pipe) -> None:
    """Entry point of a generator process (uvloop when available: cheaper per frame)."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    runner(Worker(plan, pipe).run())
