"""Members' test reports on market entries: pre-moderated through the moderation queue, screened by the rules and
the crisis detector, one per member per entry, editable, and shown beside the editors' rating with their count."""

from __future__ import annotations

from dataclasses import replace

from chatserver.services.moderation import StaffDecision

from ..conftest import RunningServer
from .content_helpers import login_as, member, new_client, staff
from .markt_helpers import decide_report, markt, write_report

MARKT = "/f/psychosenet/markt"
ENTRY = f"{MARKT}/rustpunt-app"
FORM = f"{ENTRY}/ervaring"


async def _report_of(server: RunningServer, pseudonym: str) -> dict:  # type: ignore[type-arg]
    doc = await server.services.db["markt_reports"].find_one({"author_pseudonym": pseudonym})
    assert doc is not None
    return doc


async def test_report_waits_for_a_moderator_then_appears_with_its_count(server: RunningServer) -> None:
    await markt(server).seed_demo()
    moderator = staff("volunteer", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as reader:
        await login_as(server, author, member("Tester_Noor"))
        sent = await write_report(author, FORM, helped_with="Mijn piekeren 's avonds werd minder met de oefening.")
        assert sent.status_code == 303 and "melding=ervaring" in sent.headers["location"]
        before = await reader.get(ENTRY)
        assert "Gebaseerd op 2 ervaringen." in before.text and "Mijn piekeren" not in before.text
        assert "wacht op een moderator" in (await author.get(ENTRY)).text
        report = await _report_of(server, "Tester_Noor")
        item = await server.services.db["moderation_items"].find_one({"_id": report["moderation_item"]})
        assert item is not None and item["source"] == "premoderation" and item["ref"]["kind"] == "markt_report"
        await decide_report(server, moderator, report["_id"])
        after = await reader.get(ENTRY)
        assert "Mijn piekeren 's avonds werd minder" in after.text or "Mijn piekeren &#39;s avonds" in after.text
        assert "Gebaseerd op 3 ervaringen." in after.text and "Tester_Noor" in after.text
        assert "Oordeel van de redactie" in after.text  # side by side, never merged


async def test_one_report_per_member_and_an_edit_keeps_the_approved_version_until_approved(
    server: RunningServer,
) -> None:
    await markt(server).seed_demo()
    moderator = staff("volunteer", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as reader:
        await login_as(server, author, member("Tester_Bo"))
        await write_report(author, FORM, helped_with="Eerste versie: het hielp bij het inslapen.")
        await decide_report(server, moderator, (await _report_of(server, "Tester_Bo"))["_id"])
        await write_report(author, FORM, helped_with="Tweede versie: na een maand hielp het minder.")
        assert await server.services.db["markt_reports"].count_documents({"author_pseudonym": "Tester_Bo"}) == 1
        waiting = await reader.get(ENTRY)
        assert "Eerste versie" in waiting.text and "Tweede versie" not in waiting.text
        await decide_report(server, moderator, (await _report_of(server, "Tester_Bo"))["_id"])
        final = await reader.get(ENTRY)
        assert "Tweede versie" in final.text and "Eerste versie" not in final.text
        assert "Gebaseerd op 3 ervaringen." in final.text  # still one report of this member


async def test_rejected_edit_leaves_the_published_version_and_a_rejected_first_report_shows_nothing(
    server: RunningServer,
) -> None:
    await markt(server).seed_demo()
    moderator = staff("volunteer", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as reader:
        await login_as(server, author, member("Tester_Eli"))
        await write_report(author, FORM, helped_with="Een tekst die de moderator niet plaatst.")
        await decide_report(server, moderator, (await _report_of(server, "Tester_Eli"))["_id"], kind="reject")
        page = await reader.get(ENTRY)
        assert "niet plaatst" not in page.text and "Gebaseerd op 2 ervaringen." in page.text
        assert "Je ervaring is niet geplaatst." in (await author.get(ENTRY)).text


async def test_a_crisis_in_a_report_is_held_for_a_professional_with_the_crisis_lines(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as author:
        await login_as(server, author, member("Tester_Sam"))
        response = await write_report(
            author, FORM, helped_with="Niets helpt meer, ik wil vannacht een einde aan mijn leven maken."
        )
        assert response.status_code == 200 and "113" in response.text and "We maken ons zorgen om je" in response.text
        report = await _report_of(server, "Tester_Sam")
        item = await server.services.db["moderation_items"].find_one({"_id": report["moderation_item"]})
        assert item is not None and item["crisis"] is True and item["source"] == "crisis"
        assert report["published"] is None


async def test_contact_details_are_refused_with_a_dutch_reason_and_nothing_is_stored(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as author:
        await login_as(server, author, member("Tester_Kim"))
        response = await write_report(author, FORM, helped_with="Mail me op kim.test@example.com of bel 06-12345678.")
        assert response.status_code == 422 and 'class="error' in response.text
        assert await server.services.db["markt_reports"].count_documents({"author_pseudonym": "Tester_Kim"}) == 0
        bad = await write_report(author, FORM, ease="9", recommend='{"$ne": 1}')
        assert bad.status_code == 422 and "Kies hoe makkelijk" in bad.text


async def test_guests_cannot_write_a_report_and_are_sent_to_log_in(server: RunningServer) -> None:
    await markt(server).seed_demo()
    async with await new_client(server) as guest:
        response = await guest.get(FORM)
        assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")


async def test_hide_removes_a_published_report_and_its_count(server: RunningServer) -> None:
    await markt(server).seed_demo()
    moderator = staff("peer_expert", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as reader:
        await login_as(server, author, member("Tester_Jip"))
        await write_report(author, FORM, helped_with="Een ervaring die later verborgen wordt.")
        report = await _report_of(server, "Tester_Jip")
        await decide_report(server, moderator, report["_id"])
        assert "Gebaseerd op 3 ervaringen." in (await reader.get(ENTRY)).text
        await markt(server).reports.on_decision(
            await server.services.moderation.get(moderator, report["moderation_item"]),
            type("D", (), {"kind": "hide"})(),  # type: ignore[arg-type]
        )
        page = await reader.get(ENTRY)
        assert "later verborgen" not in page.text and "Gebaseerd op 2 ervaringen." in page.text


async def test_two_quick_edits_leave_one_item_with_the_newest_text_unless_a_moderator_took_it_up(
    server: RunningServer,
) -> None:
    await markt(server).seed_demo()
    moderator = staff("volunteer", "psychosenet")
    items = server.services.db["moderation_items"]
    async with await new_client(server) as author, await new_client(server) as reader:
        await login_as(server, author, member("Tester_Sam"))
        await write_report(author, FORM, helped_with="Eerste snelle versie over de ademhalingsoefening.")
        first = (await _report_of(server, "Tester_Sam"))["moderation_item"]
        await write_report(author, FORM, helped_with="Tweede snelle versie: de oefening hielp vooral 's ochtends.")
        report = await _report_of(server, "Tester_Sam")
        assert report["moderation_item"] == first
        waiting = await items.count_documents({"ref.kind": "markt_report", "ref.id": report["_id"], "state": "open"})
        assert waiting == 1  # one item, showing the newest version
        item = await items.find_one({"_id": first})
        assert item is not None and "Tweede snelle versie" in item["text"] and "Eerste" not in item["text"]
        # Once a moderator has taken the item up, an edit gets an item of its own: they decide what they read.
        await server.services.moderation.claim(moderator, first)
        await write_report(author, FORM, helped_with="Derde versie, geschreven terwijl de moderator al las.")
        third = (await _report_of(server, "Tester_Sam"))["moderation_item"]
        assert third != first
        claimed = await items.find_one({"_id": first})
        assert claimed is not None and "Tweede snelle versie" in claimed["text"]
        approve = StaffDecision(kind="approve", reason="gelezen")
        await server.services.moderation.decide(moderator, first, approve)  # the older version: publishes nothing
        assert "Tweede snelle versie" not in (await reader.get(ENTRY)).text
        await decide_report(server, moderator, report["_id"])
        assert "Derde versie" in (await reader.get(ENTRY)).text


async def test_erasing_an_account_takes_its_report_out_of_the_count_at_once(server: RunningServer) -> None:
    await markt(server).seed_demo()
    moderator = staff("volunteer", "psychosenet")
    async with await new_client(server) as author, await new_client(server) as reader:
        session = await server.services.identity.register_member("Tester_Wis", "lange-wandeling-42", "ip-wis")
        tester = replace(session.actor, validated=True)  # as after validation: a report needs it
        await server.services.identity.repo.update(tester.account_id, {"validation": {"method": "referral"}})
        await login_as(server, author, tester)
        await write_report(author, FORM, helped_with="Een ervaring die straks met het account verdwijnt.")
        await decide_report(server, moderator, (await _report_of(server, "Tester_Wis"))["_id"])
        assert "Gebaseerd op 3 ervaringen." in (await reader.get(ENTRY)).text
        await server.services.identity.erase_account(tester, keep_posts=False)
        after = await reader.get(ENTRY)
        assert "Gebaseerd op 2 ervaringen." in after.text and "straks met het account" not in after.text
