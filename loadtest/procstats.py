"""CPU time and memory of the processes under test, read with psutil.

The server's figure counts only the chatserver worker processes (the ones that
listen on the port); Redis and the database are found among their relatives
(or given by pid) and reported apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped,unused-ignore]

REDIS_NAMES = ("valkey-server", "redis-server")
DB_MARKERS = ("secantusd", "mongod")


def listening_pids(port: int) -> list[int]:
    """Pids of the processes with a TCP socket listening on 127.0.0.1/any at ``port``."""
    pids: set[int] = set()
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            pids.add(conn.pid)
    return sorted(pids)


def _is_redis(proc: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return proc.name() in REDIS_NAMES
    return False


def _is_db(proc: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        cmd = " ".join(proc.cmdline()[:3])
        return any(marker in cmd for marker in DB_MARKERS)
    return False


@dataclass
class Found:
    server: list[int]
    redis: list[int]
    db: list[int]


def find_processes(port: int, server_pids: Iterable[int] = (), redis_pids: Iterable[int] = (),
                   db_pids: Iterable[int] = ()) -> Found:  # fmt: skip
    """Server pids (given, or those listening on ``port``); Redis/DB pids (given, or among their children)."""
    server = list(server_pids) or listening_pids(port)
    redis = list(redis_pids)
    db = list(db_pids)
    if server and not (redis and db):
        relatives: set[int] = set()
        for pid in server:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                relatives.update(child.pid for child in proc.children(recursive=True))
        procs = [psutil.Process(pid) for pid in sorted(relatives - set(server)) if psutil.pid_exists(pid)]
        if not redis:
            redis = [p.pid for p in procs if _is_redis(p)]
        if not db:
            db = [p.pid for p in procs if _is_db(p)]
    # A supervisor that only forks workers stays in the server set: its CPU is near zero.
    server = [pid for pid in server if pid not in redis and pid not in db]
    return Found(server=server, redis=redis, db=db)


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total


def self_cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuSample:
    server: float
    redis: float
    db: float

    @classmethod
    def take(cls, found: Found) -> CpuSample:
        return cls(cpu_seconds(found.server), cpu_seconds(found.redis), cpu_seconds(found.db))

    def since(self, earlier: CpuSample) -> CpuSample:
        return CpuSample(self.server - earlier.server, self.redis - earlier.redis, self.db - earlier.db)
