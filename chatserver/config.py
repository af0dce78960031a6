"""Settings from the ``CHATSERVER_*`` environment, read once and frozen.

A bad value raises :class:`ConfigError` whose message is one line naming the
variable and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8000
MIN_SECRET_BYTES = 32
# How long a vanished connection (its process killed) may still count as online;
# every process refreshes its own presence entries three times within it.
PRESENCE_EXPIRY_S = 45
# Slow clients (docs/operations.md, "Timeouts and connection caps"): a request head must be complete within
# HEADER_TIMEOUT_S, its body within BODY_TIMEOUT_S after the head, a WebSocket upgrade must be open within
# HANDSHAKE_TIMEOUT_S. Live connections are capped per account and per client address (a keyed hash).
HEADER_TIMEOUT_S = 10
BODY_TIMEOUT_S = 30
HANDSHAKE_TIMEOUT_S = 10
MAX_CONNECTIONS_PER_ACCOUNT = 128
MAX_CONNECTIONS_PER_ADDRESS = 256
# Loopback peers are one address for everything behind a reverse proxy on the same machine (and for the
# load generator): capping them would cap the whole site. The proxy must cap per client address there.
CONNECTION_CAP_EXEMPT = ("127.0.0.0/8", "::1/128")
# GET /metrics answers these networks without a token (docs/operations.md, "Service metrics").
METRICS_ALLOW = ("127.0.0.0/8", "::1/128")


class ConfigError(ValueError):
    """One configuration variable is wrong; ``str(err)`` is a one-line explanation."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    redis_url: str | None = None
    mongodb_url: str | None = None
    mongodb_database: str = "chatserver"
    secret_key: bytes = field(default=b"", repr=False)
    secret_key_generated: bool = False
    data_dir: Path = PROJECT_ROOT / "var"
    flavours_dir: Path = PROJECT_ROOT / "flavours"
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
    public_origins: tuple[str, ...] = ()
    smtp_url: str | None = None
    mail_from: str = "noreply@localhost"
    log_level: str = "INFO"
    redis_key_prefix: str = ""
    guest_retention_days: int = 2
    # An erased account's pseudonym (as a keyed hash of its look-alike key) stays taken this long.
    pseudonym_reserve_days: int = 90
    secure_cookies: bool = False
    presence_expiry_s: int = PRESENCE_EXPIRY_S
    header_timeout_s: int = HEADER_TIMEOUT_S
    body_timeout_s: int = BODY_TIMEOUT_S
    handshake_timeout_s: int = HANDSHAKE_TIMEOUT_S
    max_connections_per_account: int = MAX_CONNECTIONS_PER_ACCOUNT  # 0: no cap
    max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS  # 0: no cap
    connection_cap_exempt: tuple[str, ...] = CONNECTION_CAP_EXEMPT
    metrics_token: str = field(default="", repr=False)  # Bearer token for /metrics from elsewhere; "": none
    metrics_allow: tuple[str, ...] = METRICS_ALLOW
    log_format: str = "text"  # or "json": one JSON object per line
    reflectie_retention_days: int = 730
    reflectie_threshold: int = 10
    reflectie_epsilon: Fraction | None = None  # a flavour's noise budget per month for the public figures

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def embedded_mongodb(self) -> bool:
        return self.mongodb_url is None

    def allowed_origins(self, extra_hosts: tuple[str, ...] = ()) -> frozenset[str]:
        """Exact Origins accepted at the WebSocket upgrade and on forms."""
        hosts = (
            {self.host, "127.0.0.1", "localhost"} if self.host in ("127.0.0.1", "localhost", "0.0.0.0") else {self.host}
        )
        origins = {f"http://{h}:{self.port}" for h in hosts}
        if self.port == 80:
            origins |= {f"http://{h}" for h in hosts}
        for h in extra_hosts:
            origins |= {f"http://{h}:{self.port}", f"https://{h}"}
        return frozenset(origins) | frozenset(self.public_origins)


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(name, f"geen geheel getal: {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"moet tussen {lo} en {hi} liggen, niet {value}")
    return value


CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


class ClusterUrlError(ValueError):
    """A ``redis+cluster://`` URL that names no usable node; ``str(err)`` says why."""


def cluster_nodes(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """The seed nodes and the connection options (TLS, user, password) of a cluster URL."""
    parts = urlsplit(url)
    if parts.scheme not in CLUSTER_SCHEMES:
        raise ClusterUrlError("geen redis+cluster://-URL")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for item in hostlist.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ClusterUrlError(f"clusternode {item.strip()!r} is geen host:poort")
        nodes.append((host.strip("[]"), int(port)))
    if parts.path not in ("", "/", "/0"):
        raise ClusterUrlError("een Redis Cluster kent alleen database 0")
    options: dict[str, Any] = {"ssl": parts.scheme == "rediss+cluster"}
    if userinfo:
        username, colon, password = userinfo.partition(":")
        options["username"] = unquote(username) or None
        options["password"] = unquote(password) if colon else None
    return nodes, options


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in schemes:
        raise ConfigError(name, f"schema moet een van {', '.join(schemes)} zijn, niet {parts.scheme or '(leeg)'!r}")
    if parts.scheme != "unix" and not parts.netloc:
        raise ConfigError(name, "host ontbreekt in de URL")
    if parts.scheme in CLUSTER_SCHEMES:
        try:
            cluster_nodes(raw.strip())
        except ClusterUrlError as err:
            raise ConfigError(name, str(err)) from None
    return raw.strip()


def _host(env: Mapping[str, str]) -> str:
    raw = env.get("CHATSERVER_HOST", "").strip() or "127.0.0.1"
    if raw == "localhost":
        return raw
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not all(part.isalnum() or "-" in part for part in raw.split(".")) or " " in raw:
            raise ConfigError("CHATSERVER_HOST", f"geen geldig IP-adres of hostnaam: {raw!r}") from None
    return raw


def _networks(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    networks: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(name, f"geen IP-adres of netwerk (CIDR): {item!r}") from None
    return tuple(networks)


def _secret(env: Mapping[str, str], data_dir: Path) -> tuple[bytes, bool]:
    raw = env.get("CHATSERVER_SECRET_KEY")
    if raw:
        if len(raw.encode()) < MIN_SECRET_BYTES:
            raise ConfigError("CHATSERVER_SECRET_KEY", f"te kort: minstens {MIN_SECRET_BYTES} tekens nodig")
        return raw.encode(), False
    # Development default: a random key kept in the data dir so sessions and
    # keyed hashes survive a restart. Production sets the variable.
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_bytes().strip(), True
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key, True


def _dir(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(name, f"{raw!r} bestaat maar is geen map")
    return path.resolve()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment; raises ConfigError on the first bad value."""
    env = os.environ if env is None else env
    host = _host(env)
    port = _int(env, "CHATSERVER_PORT", DEFAULT_PORT, 0, 65535)
    redis_url = _url(env, "CHATSERVER_REDIS_URL", ("redis", "rediss", "unix", *CLUSTER_SCHEMES))
    mongodb_url = _url(env, "CHATSERVER_MONGODB_URL", ("mongodb", "mongodb+srv"))
    data_dir = _dir(env, "CHATSERVER_DATA_DIR", PROJECT_ROOT / "var")
    flavours_dir = _dir(env, "CHATSERVER_FLAVOURS_DIR", PROJECT_ROOT / "flavours")
    if not flavours_dir.is_dir():
        raise ConfigError("CHATSERVER_FLAVOURS_DIR", f"map {str(flavours_dir)!r} bestaat niet")
    level = (env.get("CHATSERVER_LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("CHATSERVER_LOG_LEVEL", f"moet DEBUG, INFO, WARNING of ERROR zijn, niet {level!r}")
    origins_raw = env.get("CHATSERVER_PUBLIC_ORIGINS", "")
    origins = tuple(o.strip().rstrip("/") for o in origins_raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ConfigError("CHATSERVER_PUBLIC_ORIGINS", f"geen geldige origin (schema://host[:poort]): {origin!r}")
    smtp_url = _url(env, "CHATSERVER_SMTP_URL", ("smtp", "smtps"))
    secret, generated = _secret(env, data_dir)
    return Settings(
        host=host,
        port=port,
        redis_url=redis_url,
        mongodb_url=mongodb_url,
        mongodb_database=(env.get("CHATSERVER_MONGODB_DATABASE") or "chatserver"),
        secret_key=secret,
        secret_key_generated=generated,
        data_dir=data_dir,
        flavours_dir=flavours_dir,
        public_origins=origins,
        smtp_url=smtp_url,
        mail_from=env.get("CHATSERVER_MAIL_FROM") or "noreply@localhost",
        log_level=level,
        redis_key_prefix=env.get("CHATSERVER_REDIS_PREFIX", ""),
        guest_retention_days=_int(env, "CHATSERVER_GUEST_RETENTION_DAYS", 2, 1, 365),
        pseudonym_reserve_days=_int(env, "CHATSERVER_PSEUDONYM_RESERVE_DAYS", 90, 0, 3650),
        secure_cookies=any(o.startswith("https://") for o in origins),
        presence_expiry_s=_int(env, "CHATSERVER_PRESENCE_EXPIRY_S", PRESENCE_EXPIRY_S, 3, 600),
        header_timeout_s=_int(env, "CHATSERVER_HEADER_TIMEOUT_S", HEADER_TIMEOUT_S, 1, 300),
        body_timeout_s=_int(env, "CHATSERVER_BODY_TIMEOUT_S", BODY_TIMEOUT_S, 1, 3600),
        handshake_timeout_s=_int(env, "CHATSERVER_HANDSHAKE_TIMEOUT_S", HANDSHAKE_TIMEOUT_S, 1, 300),
        max_connections_per_account=_int(
            env, "CHATSERVER_MAX_CONNECTIONS_PER_ACCOUNT", MAX_CONNECTIONS_PER_ACCOUNT, 0, 1_000_000
        ),
        max_connections_per_address=_int(
            env, "CHATSERVER_MAX_CONNECTIONS_PER_ADDRESS", MAX_CONNECTIONS_PER_ADDRESS, 0, 1_000_000
        ),
        connection_cap_exempt=_networks(env, "CHATSERVER_CONNECTION_CAP_EXEMPT", CONNECTION_CAP_EXEMPT),
        metrics_token=_metrics_token(env),
        metrics_allow=_networks(env, "CHATSERVER_METRICS_ALLOW", METRICS_ALLOW),
        log_format=_choice(env, "CHATSERVER_LOG_FORMAT", ("text", "json")),
        reflectie_retention_days=_int(env, "CHATSERVER_REFLECTIE_RETENTION_DAYS", 730, 7, 3650),
        reflectie_threshold=_int(env, "CHATSERVER_REFLECTIE_THRESHOLD", 10, 5, 100),
        reflectie_epsilon=_epsilon(env),
    )


def _metrics_token(env: Mapping[str, str]) -> str:
    raw = (env.get("CHATSERVER_METRICS_TOKEN") or "").strip()
    if raw and len(raw) < 16:
        raise ConfigError("CHATSERVER_METRICS_TOKEN", "te kort: minstens 16 tekens")
    return raw


def _choice(env: Mapping[str, str], name: str, options: tuple[str, ...]) -> str:
    raw = (env.get(name) or options[0]).strip().lower()
    if raw not in options:
        raise ConfigError(name, f"moet een van {', '.join(options)} zijn, niet {raw!r}")
    return raw


def _epsilon(env: Mapping[str, str]) -> Fraction | None:
    raw = (env.get("CHATSERVER_REFLECTIE_EPSILON") or "").strip()
    if not raw:
        return None
    try:
        value = Fraction(raw).limit_denominator(1000)
    except (ValueError, ZeroDivisionError):
        raise ConfigError("CHATSERVER_REFLECTIE_EPSILON", f"geen getal: {raw!r}") from None
    if not 0 < value <= 10:
        raise ConfigError("CHATSERVER_REFLECTIE_EPSILON", "moet groter dan 0 en hoogstens 10 zijn")
    return value
