"""Password hashing with argon2id in a small bounded thread pool (see docs/decisions/0004).

argon2 releases the GIL while it hashes, so a couple of worker threads run in
parallel with the event loop. The semaphore makes a burst of logins queue for
the pool instead of piling work (and memory: 19 MiB per hash) onto it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
TIME_COST = 2
MEMORY_COST_KIB = 19456
PARALLELISM = 1
HASH_LEN = 32
SALT_LEN = 16
POOL_WORKERS = 2

# A fixed hash to verify against when the account does not exist, so that the
# answer takes as long as for a wrong password (no user enumeration by timing).
_DUMMY_PASSWORD = "dummy-password-for-timing"  # noqa: S105 - not a credential


class PasswordHashing:
    def __init__(
        self,
        time_cost: int = TIME_COST,
        memory_cost_kib: int = MEMORY_COST_KIB,
        parallelism: int = PARALLELISM,
        workers: int = POOL_WORKERS,
    ) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=HASH_LEN,
            salt_len=SALT_LEN,
            type=Type.ID,
        )
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self.workers = workers
        self._gate: asyncio.Semaphore | None = None
        self._dummy_hash: str | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # Created lazily so that it binds to the running loop, not to import time.
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.workers)
        return self._gate

    async def _run(self, fn: object, *args: str) -> object:
        loop = asyncio.get_running_loop()
        async with self._semaphore():
            return await loop.run_in_executor(self.pool, fn, *args)  # type: ignore[arg-type]

    async def hash(self, password: str) -> str:
        return str(await self._run(self.hasher.hash, password))

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash it still costs one hash."""
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(_DUMMY_PASSWORD)
            await self._run(self._verify, self._dummy_hash, password)
            return False
        return bool(await self._run(self._verify, stored_hash, password))

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return bool(self.hasher.check_needs_rehash(stored_hash))
        except (InvalidHashError, ValueError):
            return True

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def is_argon2id(stored_hash: str) -> bool:
    return stored_hash.startswith("$argon2id$v=19$")
