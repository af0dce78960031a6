"""Flavour rules: word lists, patterns, body numbers, contact details, links, pre-moderation and crisis holds."""

import pytest

from moderation.rules import (
    REASON_BODY_NUMBERS,
    REASON_CONTACT,
    REASON_CRISIS,
    RuleContext,
    RuleSettings,
    compile_rules,
    count_links,
    evaluate,
    find_contact_details,
    has_body_numbers,
)

OLD_MEMBER = RuleContext(place="room", account_age_days=100)
PROUD2BME = RuleSettings(
    blocked_words=("klootzak", "pro-ana", "stel je niet aan", "kys"),
    blocked_patterns=(r"(?i)\bhoe oud ben je\b",),
    no_body_numbers=True,
    new_account_days=14,
)


@pytest.mark.parametrize(
    "text",
    [
        "ik weeg 45 kilo",
        "45kg",
        "BMI van 16",
        "1200 kcal",
        "maat 34",
        "size 0",
        "2 kilo afgevallen",
        "I weigh 100 lbs",
        "veertig kilo",
        "mijn bmi is 17,5",
        "ik woog toen nog 50",
    ],
)
def test_body_numbers_are_found(text):
    assert has_body_numbers(text)


@pytest.mark.parametrize("text", ["ik ben 16 jaar", "om 8 uur", "3 keer per week", "4g netwerk", "113 bellen"])
def test_other_numbers_are_not_body_numbers(text):
    assert not has_body_numbers(text)


def test_body_numbers_block_only_where_the_flavour_asks():
    verdict = evaluate("ik weeg 45 kilo", PROUD2BME, OLD_MEMBER)
    assert (verdict.action, verdict.reason) == ("block", REASON_BODY_NUMBERS)
    assert evaluate("ik weeg 45 kilo", RuleSettings(), OLD_MEMBER).action == "allow"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bel me op 06-12345678", "telefoonnummer"),
        ("+31 6 1234 5678", "telefoonnummer"),
        ("0031612345678", "telefoonnummer"),
        ("06.12.34.56.78", "telefoonnummer"),
        ("020 123 4567", "telefoonnummer"),
        ("mail naam@gmail.com", "e-mailadres"),
        ("naam at gmail punt com", "verhuld e-mailadres"),
        ("naam (at) hotmail (dot) nl", "verhuld e-mailadres"),
        ("volg @naampje", "gebruikersnaam (@)"),
        ("insta: naam_1", "account op sociale media"),
        ("snap me", "vraag om contact buiten het platform"),
        ("whatsapp me even", "vraag om contact buiten het platform"),
        ("wa.me/31612345678", "link naar een berichtendienst"),
        ("t.me/naam", "link naar een berichtendienst"),
    ],
)
def test_contact_details_are_described_not_copied(text, kind):
    found = find_contact_details(text)
    assert kind in found
    assert all(
        "5678" not in description and "naam_1" not in description and "@naampje" not in description
        for description in found
    )


@pytest.mark.parametrize("text", ["bel 0800-0113 of 113", "bel 112", "ik ben om 20.30 thuis", "de les begint om 8"])
def test_crisis_numbers_and_times_are_not_contact_details(text):
    assert find_contact_details(text) == []


def test_contact_details_block_in_peer_contexts_only():
    verdict = evaluate("app me 0612345678", PROUD2BME, OLD_MEMBER)
    assert (verdict.action, verdict.reason) == ("block", REASON_CONTACT)
    staff_chat = RuleContext(place="one_on_one", account_age_days=100, peer_to_peer=False)
    assert evaluate("app me 0612345678", PROUD2BME, staff_chat).action == "allow"
    off = RuleSettings(block_contact_details=False)
    assert evaluate("app me 0612345678", off, OLD_MEMBER).action == "allow"


@pytest.mark.parametrize(
    "text",
    [
        "jij KL00TZAK",
        "klootzakken",
        "k l o o t z a k",
        "kl\u200boot\u200bzak",
        "кlооtzак",
        "proana",
        "pro ana tips",
        "stel je niet aan joh",
        "KYS",
    ],
)
def test_blocked_words_survive_obfuscation(text):
    verdict = evaluate(text, PROUD2BME, OLD_MEMBER)
    assert verdict.action == "block"
    assert verdict.hits[0].rule == "blocked_word"


@pytest.mark.parametrize("text", ["analyse", "kysten", "een klootje", "stel je voor"])
def test_blocked_words_match_whole_words_only(text):
    assert evaluate(text, PROUD2BME, OLD_MEMBER).action == "allow"


def test_blocked_patterns_hold_for_a_moderator():
    verdict = evaluate("Hoe oud ben je eigenlijk?", PROUD2BME, OLD_MEMBER)
    assert verdict.action == "hold"
    assert verdict.hits[0].detail == "patroon 1"


def test_bad_pattern_is_reported_by_position():
    with pytest.raises(ValueError, match=r"blocked_patterns\[2\]"):
        compile_rules(RuleSettings(blocked_patterns=("ok", "(")))


def test_empty_words_are_ignored():
    assert compile_rules(RuleSettings(blocked_words=("", "  "))).words == ()


def test_links_counted_and_limited_for_new_accounts():
    assert count_links("zie https://a.nl/x en www.b.com en thuisarts.nl, mail a@b.nl") == 3
    new = RuleContext(place="room", account_age_days=2)
    settings = RuleSettings(max_links_new_account=1)
    assert evaluate("kijk op thuisarts.nl", settings, new).action == "allow"
    verdict = evaluate("kijk op thuisarts.nl en 113.nl", settings, new)
    assert (verdict.action, verdict.hits[0].rule, verdict.hits[0].detail) == (
        "hold",
        "link_limit",
        "2 links, maximaal 1",
    )
    assert evaluate("kijk op thuisarts.nl en 113.nl", settings, OLD_MEMBER).action == "allow"


def test_premoderation_holds_new_accounts_and_guests_in_forums_and_questions():
    forum_guest = RuleContext(place="forum")
    assert evaluate("hallo", RuleSettings(), forum_guest).hits[0].rule == "premoderation"
    assert (
        evaluate("hallo", RuleSettings(), RuleContext(place="spreekuur_question", account_age_days=1)).action == "hold"
    )
    assert evaluate("hallo", RuleSettings(), RuleContext(place="room", account_age_days=1)).action == "allow"
    assert evaluate("hallo", RuleSettings(premoderate_new_accounts=False), forum_guest).action == "allow"
    assert evaluate("hallo", RuleSettings(), RuleContext(place="forum", account_age_days=8)).action == "allow"


def test_staff_authors_skip_author_rules_but_not_word_lists():
    staff = RuleContext(place="forum", account_age_days=0, staff_author=True)
    assert evaluate("bel 020 123 4567 of kijk op a.nl", PROUD2BME, staff).action == "allow"
    assert evaluate("klootzak", PROUD2BME, staff).action == "block"


def test_crisis_is_held_for_professionals_even_when_another_rule_blocks():
    verdict = evaluate("ik wil dood, app me 0612345678", PROUD2BME, OLD_MEMBER)
    assert verdict.action == "hold"
    assert verdict.reason == REASON_CRISIS
    first = verdict.hits[0]
    assert (first.rule, first.tier, first.severity) == ("crisis", "professional", "high")
    assert verdict.crisis.flagged


def test_other_person_concern_is_allowed_with_a_peer_expert_review_hit():
    verdict = evaluate("mijn zus is suïcidaal", RuleSettings(), OLD_MEMBER)
    assert verdict.action == "allow"
    assert verdict.reason is None
    assert [(h.rule, h.tier, h.severity) for h in verdict.hits] == [("crisis_review", "peer_expert", "medium")]
