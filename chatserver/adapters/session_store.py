"""Server-side sessions in Redis: revocable one by one or all at once.

A session id is a 256-bit random token. Redis keys hold only its SHA-256, so a
dump of Redis cannot be replayed as cookies. A session maps to an :class:`Actor`
snapshot; changing an account (role, validation) rewrites its sessions.
Revocations are published on :data:`REVOKED_CHANNEL` so that the live gateway
closes open sockets of a session that ended.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict

import msgspec

from chatserver.adapters.redis_client import Redis, publish_command
from chatserver.domain.accounts import WS_TOKEN_TTL_S as WS_TOKEN_TTL_S  # how long a WebSocket token lives
from chatserver.domain.identity import AccountId, Actor

REVOKED_CHANNEL = "sys:sessions-revoked"

GUEST_TTL_S = 2 * 24 * 3600
MEMBER_TTL_S = 30 * 24 * 3600
STAFF_TTL_S = 12 * 3600


def ttl_for(actor: Actor) -> int:
    if actor.is_staff:
        return STAFF_TTL_S
    return MEMBER_TTL_S if actor.is_member else GUEST_TTL_S


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _Stored(msgspec.Struct, frozen=True):
    account_id: str
    pseudonym: str
    kind: str
    role: str | None = None
    flavours: list[str] = []
    validated: bool = False
    verified: bool = False


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str = "") -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, sid_hash: str) -> str:
        return f"{self.prefix}sess:{sid_hash}"

    def _account_key(self, account_id: str) -> str:
        return f"{self.prefix}acctsess:{account_id}"

    async def _announce(self, payload: bytes) -> None:
        await self.redis.execute_command(publish_command(self.redis), self.revoked_channel, payload)

    @property
    def revoked_channel(self) -> str:
        return f"{self.prefix}{REVOKED_CHANNEL}"

    async def create(self, actor: Actor, ttl_s: int | None = None) -> str:
        """A new session for ``actor``; returns the secret session token."""
        token = secrets.token_urlsafe(32)
        sid_hash = _hash(token)
        ttl = ttl_s or ttl_for(actor)
        data = asdict(actor)
        data.pop("session_id")
        data["flavours"] = sorted(actor.flavours)
        # The account's index first, then the session: the two keys may live on different
        # cluster nodes, so there is no transaction; in this order a failure in between
        # leaves an index entry without a session (harmless), never a session that
        # "log out everywhere" cannot find.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self._account_key(actor.account_id), sid_hash)
            pipe.expire(self._account_key(actor.account_id), max(ttl, MEMBER_TTL_S))
            await pipe.execute()
        await self.redis.set(self._key(sid_hash), msgspec.json.encode(data), ex=ttl)
        return token

    async def get(self, token: str, touch: bool = True) -> Actor | None:
        if not token or len(token) > 128:
            return None
        sid_hash = _hash(token)
        raw = await self.redis.get(self._key(sid_hash))
        if raw is None:
            return None
        stored = msgspec.json.decode(raw, type=_Stored)
        actor = Actor(
            account_id=AccountId(stored.account_id),
            pseudonym=stored.pseudonym,
            kind=stored.kind,  # type: ignore[arg-type]
            session_id=sid_hash,
            role=stored.role,  # type: ignore[arg-type]
            flavours=frozenset(stored.flavours),
            validated=stored.validated,
            verified=stored.verified,
        )
        if touch:
            await self.redis.expire(self._key(sid_hash), ttl_for(actor))
        return actor

    async def update_account(self, actor: Actor) -> None:
        """Rewrite every session of the account with the new actor snapshot."""
        hashes = await self.redis.smembers(self._account_key(actor.account_id))
        data = asdict(actor)
        data.pop("session_id")
        data["flavours"] = sorted(actor.flavours)
        encoded = msgspec.json.encode(data)
        for h in hashes:
            sid_hash = h.decode() if isinstance(h, bytes) else h
            await self.redis.set(self._key(sid_hash), encoded, xx=True, keepttl=True)

    async def revoke(self, sid_hash: str, account_id: str | None = None) -> None:
        await self.redis.delete(self._key(sid_hash))
        if account_id:
            await self.redis.srem(self._account_key(account_id), sid_hash)
        await self._announce(msgspec.json.encode({"session": sid_hash}))

    async def revoke_token(self, token: str) -> None:
        actor = await self.get(token, touch=False)
        await self.revoke(_hash(token), actor.account_id if actor else None)

    async def revoke_all(self, account_id: str) -> int:
        """Log out everywhere: every session of the account ends now."""
        hashes = await self.redis.smembers(self._account_key(account_id))
        for h in hashes:
            sid_hash = h.decode() if isinstance(h, bytes) else h
            await self.redis.delete(self._key(sid_hash))
            await self._announce(msgspec.json.encode({"session": sid_hash}))
        await self.redis.delete(self._account_key(account_id))
        await self._announce(msgspec.json.encode({"account": account_id}))
        return len(hashes)

    async def issue_ws_token(self, actor: Actor) -> str:
        """A short-lived, single-use token for a non-browser WebSocket client."""
        token = secrets.token_urlsafe(24)
        await self.redis.set(f"{self.prefix}wstoken:{_hash(token)}", actor.session_id, ex=WS_TOKEN_TTL_S)
        return token

    async def redeem_ws_token(self, token: str) -> Actor | None:
        if not token or len(token) > 128:
            return None
        sid_hash = await self.redis.getdel(f"{self.prefix}wstoken:{_hash(token)}")
        if sid_hash is None:
            return None
        value = sid_hash.decode() if isinstance(sid_hash, bytes) else str(sid_hash)
        raw = await self.redis.get(self._key(value))
        if raw is None:
            return None
        stored = msgspec.json.decode(raw, type=_Stored)
        return Actor(
            account_id=AccountId(stored.account_id),
            pseudonym=stored.pseudonym,
            kind=stored.kind,  # type: ignore[arg-type]
            session_id=value,
            role=stored.role,  # type: ignore[arg-type]
            flavours=frozenset(stored.flavours),
            validated=stored.validated,
            verified=stored.verified,
        )
