"""MongoDB storage of accounts, bans and referral codes.

Accounts hold no e-mail address, phone number or IP address: validation is a
keyed hash, devices are keyed hashes, and the TOTP secret of staff is derived
from the server key and a stored nonce, so the database alone cannot produce
codes. Every query takes scalars only (strings we built), never a client dict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from chatserver.adapters.mongo_client import Database, Document, Indexes, add_indexes
from chatserver.ports import PseudonymTaken as PseudonymTaken  # raised here; re-exported for old importers
from chatserver.ports import ValidationHashTaken as ValidationHashTaken

ACCOUNTS = "accounts"
BANS = "bans"
REFERRALS = "referral_codes"

# This aggregate's indexes; the app creates the indexes of every module it lists (chatserver/adapters/indexes.py).
INDEXES: Indexes = {}
add_indexes(
    INDEXES,
    ACCOUNTS,
    IndexModel([("pseudonym_key", ASCENDING)], unique=True, sparse=True, name="pseudonym_key_unique"),
    IndexModel([("validation.hash", ASCENDING)], unique=True, sparse=True, name="validation_hash_unique"),
    IndexModel([("kind", ASCENDING), ("created_at", ASCENDING)], name="kind_created"),
)
add_indexes(
    INDEXES,
    BANS,
    IndexModel([("subject", ASCENDING)], name="ban_subject"),
    IndexModel([("group", ASCENDING)], name="ban_group"),
)
add_indexes(INDEXES, REFERRALS, IndexModel([("expires_at", ASCENDING)], name="referral_expiry"))


class AccountsRepo:
    def __init__(self, db: Database) -> None:
        self.accounts = db[ACCOUNTS]
        self.bans = db[BANS]
        self.referrals = db[REFERRALS]

    async def insert(self, doc: Document) -> None:
        try:
            await self.accounts.insert_one(doc)
        except DuplicateKeyError as exc:
            raise PseudonymTaken from exc

    async def get(self, account_id: str) -> Document | None:
        return await self.accounts.find_one({"_id": str(account_id)})

    async def pseudonyms(self, account_ids: list[str]) -> dict[str, str | None]:
        """The pseudonym per id, None for an erased account (a tombstone) or one that is gone."""
        clean = sorted({str(a) for a in account_ids})
        found: dict[str, str | None] = dict.fromkeys(clean)
        cursor = self.accounts.find({"_id": {"$in": clean}}, {"pseudonym": 1, "kind": 1})
        async for doc in cursor:
            if doc.get("kind") != "deleted" and doc.get("pseudonym"):
                found[str(doc["_id"])] = str(doc["pseudonym"])
        return found

    async def by_pseudonym_key(self, key: str) -> Document | None:
        return await self.accounts.find_one({"pseudonym_key": str(key)})

    async def key_taken(self, key: str) -> bool:
        return await self.accounts.count_documents({"pseudonym_key": str(key)}, limit=1) > 0

    async def by_validation_hash(self, digest: str) -> Document | None:
        return await self.accounts.find_one({"validation.hash": str(digest)})

    async def update(self, account_id: str, fields: dict[str, Any]) -> Document | None:
        try:
            return await self.accounts.find_one_and_update(
                {"_id": str(account_id)}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            if "pseudonym_key" in fields:
                raise PseudonymTaken from exc
            raise ValidationHashTaken from exc

    async def promote_guest(self, account_id: str, fields: dict[str, Any]) -> Document | None:
        """Guest → member on the same document (same id, same history), only if still a guest."""
        try:
            return await self.accounts.find_one_and_update(
                {"_id": str(account_id), "kind": "guest"}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            raise PseudonymTaken from exc

    async def set_validation(self, account_id: str, validation: Document) -> Document | None:
        try:
            return await self.accounts.find_one_and_update(
                {"_id": str(account_id)},
                {"$set": {"validation": validation, "validated": True}},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError as exc:
            raise ValidationHashTaken from exc

    async def add_device(self, account_id: str, device_hash: str) -> None:
        await self.accounts.update_one(
            {"_id": str(account_id)},
            {"$addToSet": {"device_hashes": str(device_hash)}},
        )

    async def use_recovery_code(self, account_id: str, digest: str) -> bool:
        """Spend a staff recovery code (its keyed hash): true once per code, an atomic pull."""
        result = await self.accounts.update_one(
            {"_id": str(account_id), "kind": "staff", "recovery_hashes": str(digest)},
            {"$pull": {"recovery_hashes": str(digest)}},
        )
        return bool(result.modified_count == 1)

    async def touch(self, account_id: str, now: datetime) -> None:
        await self.accounts.update_one({"_id": str(account_id)}, {"$set": {"last_seen_at": now}})

    async def replace_with_tombstone(self, account_id: str, tombstone: Document) -> None:
        await self.accounts.replace_one({"_id": str(account_id)}, tombstone)

    async def delete(self, account_id: str) -> None:
        await self.accounts.delete_one({"_id": str(account_id)})

    async def staff(self) -> list[Document]:
        return [d async for d in self.accounts.find({"kind": "staff"}).sort("pseudonym_key", ASCENDING)]

    async def guests_created_before(self, cutoff: datetime, limit: int = 500) -> list[str]:
        cursor = self.accounts.find({"kind": "guest", "created_at": {"$lt": cutoff}}, {"_id": 1}).limit(limit)
        return [str(d["_id"]) async for d in cursor]

    # bans ---------------------------------------------------------------

    async def add_ban(self, ban: Document) -> None:
        await self.bans.insert_one(ban)

    async def active_bans(self, subjects: list[str], now: datetime) -> list[Document]:
        """Platform-wide bans in force on any of ``subjects`` (not pending, not lifted, not flavour-scoped)."""
        clean = [str(s) for s in subjects if s]
        if not clean:
            return []
        cursor = self.bans.find({"subject": {"$in": clean}, "lifted": {"$ne": True}, "pending": {"$ne": True}})
        return [b async for b in cursor if b.get("flavours") is None and (b.get("until") is None or b["until"] > now)]

    async def activate_ban_group(self, group: str, confirmed_by: str, now: datetime) -> list[str]:
        """A pending ban (every subject of it) takes effect; returns the ban ids."""
        await self.bans.update_many(
            {"group": str(group), "pending": True},
            {"$set": {"pending": False, "confirmed_by": str(confirmed_by), "confirmed_at": now}},
        )
        return [str(b["_id"]) async for b in self.bans.find({"group": str(group)}, {"_id": 1})]

    async def lift_ban_group(self, group: str) -> None:
        await self.bans.update_many({"$or": [{"group": str(group)}, {"_id": str(group)}]}, {"$set": {"lifted": True}})

    async def get_ban(self, ban_id: str) -> Document | None:
        return await self.bans.find_one({"_id": str(ban_id)})

    async def set_appeal(self, ban_id: str, text: str, now: datetime) -> None:
        await self.bans.update_one({"_id": str(ban_id)}, {"$set": {"appeal": text, "appeal_at": now}})

    async def bans_with_appeal(self, limit: int = 100) -> list[Document]:
        cursor = self.bans.find({"appeal": {"$type": "string"}, "lifted": {"$ne": True}}).limit(limit)
        return [b async for b in cursor]

    # referral codes ---------------------------------------------------------

    async def add_referral(self, doc: Document) -> None:
        await self.referrals.insert_one(doc)

    async def use_referral(self, code_hash: str, account_id: str, now: datetime) -> Document | None:
        """Marks an unused, unexpired code as used by ``account_id``; None when there is none."""
        return await self.referrals.find_one_and_update(
            {"_id": str(code_hash), "used_by": None, "expires_at": {"$gt": now}},
            {"$set": {"used_by": str(account_id), "used_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    async def purge_expired_referrals(self, now: datetime) -> int:
        result = await self.referrals.delete_many({"used_by": None, "expires_at": {"$lt": now}})
        return int(result.deleted_count)
