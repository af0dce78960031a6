"""Erasure that erases: a member who used every feature is erased, and nothing of them is left anywhere.

The scripted session touches every feature that stores something of an
account; then every collection of the database is scanned for the account id,
the pseudonym and the marker in the texts. A collection that holds them must be
on the erasure list (``chatserver.adapters.privacy_places.PLACES``) or explicitly
exempted with a reason (``NOT_PERSONAL``); after erasure only the places the
list keeps on purpose (a tombstone, bans, a transcript under a safeguarding
hold) may still hold them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from chatserver.adapters.privacy_places import NOT_PERSONAL, PLACES, RETAINED
from chatserver.domain.identity import Actor
from chatserver.services.forum import quote_of

from ..conftest import RunningServer
from ..integration.spreekuur_helpers import host_account, scheduled
from ..integration.test_api_identity import PASSWORD, auth
from ..integration.test_oneonone_support import FLAVOUR, staff

ROOM_SLUG = "stemmen-horen"
ROOM = f"room:{FLAVOUR}:{ROOM_SLUG}"
HISTORY = f"/f/{FLAVOUR}/chat/{ROOM_SLUG}/geschiedenis"


@dataclass
class Scripted:
    actor: Actor
    token: str
    marker: str
    room_offset: int = 0
    held_chat: str = ""
    open_chat: str = ""
    thread_id: str = ""
    question_id: str = ""
    other: Actor | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def needles(self) -> list[str]:
        return [str(self.actor.account_id), self.actor.pseudonym, self.marker]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


async def scan(server: RunningServer, needles: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection that holds one of ``needles`` (in any field, key or value)."""
    db = server.services.db
    found: dict[str, list[dict[str, Any]]] = {}
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            text = "\n".join(_strings(doc))
            if any(needle in text for needle in needles):
                found.setdefault(name, []).append(doc)
    return found


async def scripted_session(server: RunningServer, client: httpx.AsyncClient) -> Scripted:
    """A validated member writes in a room, two 1-on-1 chats (one put on hold), the forum, a spreekuur, the
    VraagBaak; reports a message; follows a thread and gets a notification; has a message held for moderation."""
    services = server.services
    tag = secrets.token_hex(4)
    name = f"Wis{tag}"
    marker = f"spoor-{tag}"
    created = await client.post("/api/v1/accounts", json={"pseudonym": name, "password": PASSWORD})
    assert created.status_code == 201, created.text
    account_id = created.json()["id"]
    await services.db["accounts"].update_one({"_id": account_id}, {"$set": {"validated": True}})
    identity = services.identity
    actor: Actor = identity.actor_from_doc(await services.db["accounts"].find_one({"_id": account_id}))
    token = await services.sessions.create(actor)
    s = Scripted(actor=actor, token=token, marker=marker)
    chat = services.chat
    flavour = services.catalog.get(FLAVOUR)

    # a room
    s.room_offset = (await chat.do_publish(actor, ROOM, f"r-{tag}", f"Hallo allemaal {marker}")).offset
    # someone else's message, reported by our member
    other = Actor(account_id=f"ander{tag}", pseudonym=f"Ander{tag}", kind="member", validated=True)  # type: ignore[arg-type]
    s.other = other
    reported = await chat.do_publish(other, ROOM, f"o-{tag}", "Een bericht van een ander")
    await services.moderation.report(actor, "room_message", f"{ROOM}#{reported.offset}", ROOM, f"Kwetsend {marker}")
    # a message held for moderation (a rule or the crisis detector)
    held = await chat.do_publish(actor, ROOM, f"h-{tag}", f"Ik wil niet meer leven, ik heb de pillen al {marker}")
    assert held.held

    # two 1-on-1 chats: one ends, one is put on a safeguarding hold
    pro = staff("professional")
    await services.shifts.sign_on(pro, [FLAVOUR], 3)
    s.notes["professional"] = pro
    oneonone = services.oneonone
    first = await oneonone.request(actor, FLAVOUR, f"slapen {marker}")
    await oneonone.accept(pro, first["_id"])
    await chat.do_publish(actor, first["channel"], f"c1-{tag}", f"Ik slaap slecht {marker}")
    await oneonone.end(pro, first["_id"], ["gehoord"])
    s.open_chat = first["_id"]
    second = await oneonone.request(actor, FLAVOUR, "")
    await oneonone.accept(pro, second["_id"])
    await chat.do_publish(actor, second["channel"], f"c2-{tag}", f"Het gaat echt niet goed {marker}")
    await oneonone.set_hold(pro, second["_id"], True, "zorgen om veiligheid")
    s.held_chat = second["_id"]

    # the forum: a thread of ours, a reply in someone else's thread, a follow and a notification
    forum = services.forum
    ours = await forum.create_thread(actor, flavour, "ervaringen", f"Mijn verhaal {tag}", f"Lang verhaal {marker}", "")
    s.thread_id = ours.thread_id
    # a new account's first thread waits for a moderator: approved here
    await services.db["forum_threads"].update_one({"_id": ours.thread_id}, {"$set": {"status": "visible"}})
    await services.db["forum_posts"].update_many({"thread_id": ours.thread_id}, {"$set": {"status": "visible"}})
    theirs = await forum.create_thread(other, flavour, "ervaringen", f"Een vraag {tag}", "Wie herkent dit?", "")
    await services.db["forum_threads"].update_one({"_id": theirs.thread_id}, {"$set": {"status": "visible"}})
    thread = await services.db["forum_threads"].find_one({"_id": theirs.thread_id})
    await forum.reply(actor, flavour, thread, f"Ik herken het {marker}", "")
    await forum.reply(other, flavour, thread, "Dank je wel voor je reactie", "")
    mine = await services.db["forum_threads"].find_one({"_id": ours.thread_id})
    first = await services.db["forum_posts"].find_one({"thread_id": ours.thread_id})
    await forum.reply(other, flavour, mine, quote_of(first) + "Sterk verhaal", "")

    # a spreekuur question (with the name shown), answered live
    host = await host_account(server)
    session = await scheduled(server, host)
    asked = await services.spreekuur.ask(actor, session, f"Wat helpt tegen piekeren {marker}?", True)
    s.question_id = asked.question_id
    await services.spreekuur.approve(host, asked.question_id)

    # the VraagBaak, asked while logged in
    await services.vraagbaak.ask(f"Mag ik iets vragen over medicatie {marker}?", FLAVOUR, "", author=actor)
    return s


async def history(server: RunningServer, s: Scripted) -> str:
    """The room's history page as another member sees it (the room is for members)."""
    assert s.other is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as reader:
        reader.cookies.set("gem_session", await server.services.sessions.create(s.other))
        page = await reader.get(HISTORY)
    assert page.status_code == 200, page.status_code
    return page.text


def _assert_covered(found: dict[str, list[dict[str, Any]]]) -> None:
    listed = {place.collection for place in PLACES}
    for name in found:
        assert name in listed or name in NOT_PERSONAL, (
            f"collection {name!r} holds the account's data but is neither on the erasure list nor exempted"
        )


async def test_every_collection_with_account_data_is_on_the_erasure_list(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    s = await scripted_session(server, client)
    before = await scan(server, s.needles)
    # The session really reached every feature.
    for name in ("events", "oneonone_chats", "forum_threads", "forum_posts", "forum_follows", "notifications",
                 "spreekuur_questions", "vraagbaak_questions", "moderation_items"):  # fmt: skip
        assert name in before, f"the scripted session left nothing in {name}"
    _assert_covered(before)


async def test_erasure_with_posts_removed_leaves_nothing_behind(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    s = await scripted_session(server, client)
    _assert_covered(await scan(server, s.needles))
    page = await history(server, s)
    assert s.marker in page and s.actor.pseudonym in page

    erased = await client.delete("/api/v1/me?posts=remove", headers=auth(s.token))
    assert erased.status_code == 204

    after = await scan(server, s.needles)
    held_channel = f"chat:{FLAVOUR}:{s.held_chat}"
    for name, docs in after.items():
        assert name in RETAINED, f"{name} still holds the erased account's data: {docs[:2]}"
        for doc in docs:
            if name == "events":
                assert doc["channel"] == held_channel, f"an event outside the held transcript: {doc}"
            elif name == "oneonone_chats":
                assert doc["_id"] == s.held_chat, f"a 1-on-1 chat not on hold: {doc}"
            elif name == "oneonone_audit":
                assert doc["chat_id"] == s.held_chat
            elif name == "accounts":
                assert set(doc) == {"_id", "kind", "deleted_at"}
    page = await history(server, s)
    assert s.marker not in page and s.actor.pseudonym not in page
    # a quote of the removed post in someone else's reply keeps neither the name nor the words, nor their search terms
    async for post in server.services.db["forum_posts"].find({"author_id": str(s.other.account_id) if s.other else ""}):
        assert s.marker not in post["body"] and "spoor" not in (post.get("search_terms") or ())
    # the held transcript is said to be kept, in the chat's audit
    audit = await server.services.db["oneonone_audit"].find_one({"chat_id": s.held_chat, "action": "erasure_held"})
    assert audit is not None
    # the pseudonym stays reserved
    again = await client.post("/api/v1/accounts", json={"pseudonym": s.actor.pseudonym, "password": PASSWORD})
    assert again.status_code == 409
    similar = await client.post("/api/v1/accounts", json={"pseudonym": s.actor.pseudonym.lower(), "password": PASSWORD})
    assert similar.status_code == 409


async def test_erasure_with_posts_kept_shows_deleted_account_never_the_old_name(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    s = await scripted_session(server, client)
    erased = await client.delete("/api/v1/me?posts=keep", headers=auth(s.token))
    assert erased.status_code == 204
    db = server.services.db
    message = await db["events"].find_one({"channel": ROOM, "offset": s.room_offset})
    assert message is not None
    assert message["pseudonym"] == "verwijderd account" and s.marker in message["data"]["text"]
    thread = await db["forum_threads"].find_one({"_id": s.thread_id})
    assert thread is not None and thread["author_pseudonym"] == "verwijderd account"
    # the kept posts carry the marker; the old name and the account id are nowhere outside what is retained
    after = await scan(server, [str(s.actor.account_id), s.actor.pseudonym])
    for name in after:
        assert name in RETAINED, f"{name} still shows the erased account: {after[name][:2]}"
    page = await history(server, s)
    assert s.marker in page and s.actor.pseudonym not in page
    assert "verwijderd account" in page


async def test_export_covers_the_same_list(client: httpx.AsyncClient, server: RunningServer) -> None:
    s = await scripted_session(server, client)
    export = await client.get("/api/v1/me/export", headers=auth(s.token))
    assert export.status_code == 200
    data = export.json()
    collections = data["collections"]
    for name in ("events", "oneonone_chats", "forum_threads", "forum_posts", "forum_follows",
                 "spreekuur_questions", "vraagbaak_questions", "moderation_items"):  # fmt: skip
        assert collections.get(name), f"the export misses {name}"
    assert s.marker in export.text
    # someone else's data is not in it
    assert s.other is not None and str(s.other.account_id) not in export.text
    assert "password_hash" not in export.text


async def test_erasure_leaves_no_account_id_in_redis(client: httpx.AsyncClient, server: RunningServer) -> None:
    s = await scripted_session(server, client)
    assert (await client.delete("/api/v1/me?posts=remove", headers=auth(s.token))).status_code == 204
    redis = server.services.redis
    prefix = server.services.settings.redis_key_prefix
    account_id = str(s.actor.account_id)
    async for key in redis.scan_iter(match=f"{prefix}*"):
        assert account_id not in key.decode(), key
        kind = await redis.type(key)
        values: list[bytes] = []
        if kind == b"string":
            values = [await redis.get(key) or b""]
        elif kind == b"set":
            values = list(await redis.smembers(key))
        elif kind == b"zset":
            values = list(await redis.zrange(key, 0, -1))
        elif kind == b"hash":
            values = [k + b"=" + v for k, v in (await redis.hgetall(key)).items()]
        for value in values:
            assert account_id.encode() not in value and s.actor.pseudonym.encode() not in value, (key, value)


async def test_a_held_transcript_loses_the_erased_account_when_the_purge_comes(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    from datetime import UTC, datetime, timedelta

    s = await scripted_session(server, client)
    assert (await client.delete("/api/v1/me?posts=remove", headers=auth(s.token))).status_code == 204
    oneonone = server.services.oneonone
    pro = s.notes["professional"]
    # The hold is lifted and the chat ends; once the retention has passed, the purge drops the transcript.
    await oneonone.set_hold(pro, s.held_chat, False, "")
    await oneonone.end(pro, s.held_chat, ["gehoord"])
    days = server.services.catalog.get(FLAVOUR).chat.transcript_retention_days
    assert await oneonone.purge(datetime.now(UTC) + timedelta(days=days + 1)) >= 1
    after = await scan(server, s.needles)
    assert set(after) <= {"accounts"}, after.get("oneonone_chats")
