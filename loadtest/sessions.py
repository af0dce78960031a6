"""Sessions and rooms for a run, obtained from the server under test over its HTTP API.

Guests come from ``POST /api/v1/guests``; where that is missing or refused the
generator registers accounts (``POST /api/v1/accounts``). Rooms come from
``GET /api/v1/flavours`` or, failing that, from the flavour files.
"""

from __future__ import annotations

import http.client
import json
import secrets
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOWED_HOSTS = ("127.0.0.1", "localhost")
HTTP_TIMEOUT_S = 10.0
FLAVOURS_DIR = Path(__file__).resolve().parent.parent / "flavours"


class SetupError(RuntimeError):
    """The server under test could not give us what a run needs."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "ws"):
            raise SetupError(f"alleen http:// of ws:// wordt ondersteund: {url}")
        host = parts.hostname or ""
        if host not in ALLOWED_HOSTS:
            raise SetupError(f"de loadtest draait alleen tegen 127.0.0.1, niet tegen {host!r}")
        return cls("127.0.0.1", parts.port or 80)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Room:
    flavour: str
    slug: str
    mode: str
    slow_mode_s: int


@dataclass(frozen=True)
class Session:
    token: str
    kind: str


class Http:
    """One keep-alive HTTP/1.1 connection to the target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.conn = http.client.HTTPConnection(target.host, target.port, timeout=HTTP_TIMEOUT_S)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt == 2:
                    raise
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data

    def close(self) -> None:
        self.conn.close()


def rooms_from_api(data: Any) -> list[Room]:
    """Rooms from a ``/api/v1/flavours`` answer: a list (or {"flavours": [...]}) of flavours with rooms."""
    flavours = data.get("flavours", data.get("items")) if isinstance(data, dict) else data
    rooms: list[Room] = []
    if not isinstance(flavours, list):
        return rooms
    for flavour in flavours:
        if not isinstance(flavour, dict):
            continue
        slug = str(flavour.get("slug", ""))
        for room in flavour.get("rooms", []) or []:
            if isinstance(room, dict) and slug and room.get("slug"):
                rooms.append(
                    Room(slug, str(room["slug"]), str(room.get("mode", "")), int(room.get("slow_mode_s") or 0))
                )
    return rooms


def rooms_from_files(directory: Path = FLAVOURS_DIR) -> list[Room]:
    rooms: list[Room] = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for room in data.get("rooms", []):
            rooms.append(Room(path.stem, str(room["slug"]), str(room.get("mode", "")), int(room.get("slow_mode_s", 0))))
    return rooms


def discover_rooms(http_: Http, flavours_dir: Path = FLAVOURS_DIR) -> tuple[list[Room], str]:
    try:
        status, data = http_.request("GET", "/api/v1/flavours")
    except OSError:
        status, data = 0, None
    if status == 200:
        rooms = rooms_from_api(data)
        if rooms:
            return rooms, "api"
    return rooms_from_files(flavours_dir), "files"


def pick_rooms(rooms: list[Room], count: int, modes: tuple[str, ...], flavour: str | None) -> list[Room]:
    """``count`` distinct rooms of the given modes (fewest slow-mode seconds first), from one flavour if asked."""
    candidates = [r for r in rooms if r.mode in modes and (flavour is None or r.flavour == flavour)]
    candidates.sort(key=lambda r: (r.slow_mode_s, r.flavour, r.slug))
    if len(candidates) < count:
        raise SetupError(
            f"{count} kamers gevraagd, maar er zijn er maar {len(candidates)} met modus {'/'.join(modes)}"
            + (f" in flavour {flavour}" if flavour else "")
        )
    return candidates[:count]


def create_session(http_: Http, prefer_guest: bool = True) -> Session:
    """One session token from the server: a guest if allowed, else a fresh account."""
    if prefer_guest:
        status, data = http_.request("POST", "/api/v1/guests", {})
        if status in (200, 201) and isinstance(data, dict) and data.get("token"):
            return Session(str(data["token"]), "guest")
    pseudonym = "lt" + secrets.token_hex(6)
    status, data = http_.request(
        "POST", "/api/v1/accounts", {"pseudonym": pseudonym, "password": secrets.token_urlsafe(18)}
    )
    if status in (200, 201) and isinstance(data, dict) and data.get("token"):
        return Session(str(data["token"]), "member")
    raise SetupError(f"geen sessie gekregen: POST /api/v1/accounts gaf {status}")


def create_sessions(target: Target, count: int, prefer_guest: bool = True) -> list[Session]:
    http_ = Http(target)
    try:
        sessions: list[Session] = []
        guest = prefer_guest
        for _ in range(count):
            session = create_session(http_, guest)
            guest = session.kind == "guest"
            sessions.append(session)
        return sessions
    finally:
        http_.close()
