"""Flavour files: the ten shipped files are valid, and every rule stops a bad file naming file and field."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.flavours import FlavourError, contrast_ratio, is_open, load_catalog, load_flavour, next_opening

FLAVOURS = PROJECT_ROOT / "flavours"
AMS = ZoneInfo("Europe/Amsterdam")
EXPECTED = {
    "mentaal-in-evenwicht", "psychosenet", "proud2bme", "angst-en-depressie", "burn-out-en-werk",
    "verslaving", "trauma", "jongeren", "eenzaamheid", "dwang",
}  # fmt: skip

MINIMAL = """
name = "Testsmaak"
short_name = "Test"
tagline = "Een regel"
description = "Beschrijving"
audience = "Iedereen"
hosts = ["test.localhost"]

[theme]
primary = "#1d4f91"
on_primary = "#ffffff"
accent = "#ffd166"
background = "#ffffff"
surface = "#f7f7f7"
text = "#1a1a1a"
muted = "#555555"

[chat]
intro = "Chat met ons"
opening_hours = [
  { days = ["ma", "di"], open = "19:00", close = "23:00" },
  { days = ["vr"], open = "22:00", close = "02:00" },
]

[[rooms]]
slug = "algemeen"
name = "Algemeen"
description = "Praat mee"

[[forum_categories]]
slug = "vragen"
name = "Vragen"
description = "Stel je vraag"

[[crisis_resources]]
name = "113 Zelfmoordpreventie"
description = "Bel 113 of 0800-0113"
phone = "113"
url = "https://www.113.nl"
"""


def write(tmp_path: Path, text: str, name: str = "testsmaak.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_ten_flavours_load() -> None:
    catalog = load_catalog(FLAVOURS)
    assert {f.slug for f in catalog} == EXPECTED
    proud = catalog.get("proud2bme")
    assert proud is not None and proud.moderation.no_body_numbers
    for flavour in catalog:
        phones = {r.phone for r in flavour.crisis_resources}
        assert "113" in phones or any("113" in r.description for r in flavour.crisis_resources), flavour.slug
        assert flavour.moderation.block_contact_details, flavour.slug
        assert catalog.for_host(flavour.hosts[0]) is flavour
    youth = catalog.get("jongeren")
    assert youth is not None and any("0800-0432" in (r.phone + r.description) for r in youth.crisis_resources)


def test_themes_differ_between_flavours() -> None:
    primaries = [f.theme.primary for f in load_catalog(FLAVOURS)]
    assert len(set(primaries)) == len(primaries)


def test_minimal_file_is_valid(tmp_path: Path) -> None:
    flavour = load_flavour(write(tmp_path, MINIMAL))
    assert flavour.slug == "testsmaak"
    assert flavour.rooms[0].mode == "members"


BAD_CASES = [
    ('name = "Testsmaak"', 'name = ""', "name", "leeg"),
    ('hosts = ["test.localhost"]', "hosts = []", "hosts", "hostnaam"),
    ('hosts = ["test.localhost"]', 'hosts = ["Bad Host!"]', "hosts[0]", "ongeldige hostnaam"),
    ('primary = "#1d4f91"', 'primary = "blue"', "theme.primary", "#rrggbb"),
    ('text = "#1a1a1a"', 'text = "#eeeeee"', "theme.text", "contrast"),
    ('on_primary = "#ffffff"', 'on_primary = "#1d4f90"', "theme.on_primary", "contrast"),
    ('muted = "#555555"', 'muted = "#dddddd"', "theme.muted", "contrast"),
    ('slug = "algemeen"', 'slug = "Algemeen!"', "rooms[0].slug", "ongeldige slug"),
    ('description = "Praat mee"', 'description = "Praat mee"\nslow_mode_s = 99999', "rooms[0].slow_mode_s", "tussen"),
    ('description = "Praat mee"', 'description = "Praat mee"\nmode = "open"', "rooms[0].mode", "Invalid enum"),
    ('slug = "vragen"', 'slug = "-vragen"', "forum_categories[0].slug", "ongeldige slug"),
    ('days = ["ma", "di"]', 'days = ["maandag"]', "chat.opening_hours[0].days", "onbekende dag"),
    ('days = ["ma", "di"]', "days = []", "chat.opening_hours[0].days", "minstens"),
    ('open = "19:00"', 'open = "7 uur"', "chat.opening_hours[0].open", "UU:MM"),
    ('open = "19:00", close = "23:00"', 'open = "19:00", close = "19:00"', "chat.opening_hours[0]", "gelijk"),
    ('url = "https://www.113.nl"', 'url = "http://www.113.nl"', "crisis_resources[0].url", "https://"),
    ('phone = "113"\nurl = "https://www.113.nl"', "", "crisis_resources[0]", "telefoon, url of chat_url"),
    ('intro = "Chat met ons"', 'intro = "Chat met ons"\ntranscript_retention_days = 0',
     "chat.transcript_retention_days", "tussen"),
    ('name = "Testsmaak"', 'name = "Testsmaak"\nunknown_key = 1', "(bestand)", "unknown field"),
    ('name = "Testsmaak"', "name = 42", "name", "Expected `str`"),
    ('name = "Testsmaak"', 'name = "Testsmaak"\nslug = "x"', "slug", "bestandsnaam"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "field", "fragment"), BAD_CASES)
def test_bad_file_names_file_field_and_problem(tmp_path: Path, old: str, new: str, field: str, fragment: str) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(FlavourError) as info:
        load_flavour(path)
    assert info.value.file == "testsmaak.toml"
    assert info.value.field == field
    assert fragment.lower() in info.value.problem.lower()
    assert str(info.value).startswith(f"testsmaak.toml: {field}: ")


def test_blocked_pattern_must_be_a_regex(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[moderation]\nblocked_patterns = ["(unclosed"]\n')
    with pytest.raises(FlavourError, match=re.escape("moderation.blocked_patterns[0]")):
        load_flavour(path)


def test_second_reviewer_is_off_by_default_and_must_be_a_boolean(tmp_path: Path) -> None:
    assert not load_flavour(write(tmp_path, MINIMAL)).content.second_reviewer
    assert load_flavour(write(tmp_path, MINIMAL + "\n[content]\nsecond_reviewer = true\n")).content.second_reviewer
    with pytest.raises(FlavourError) as info:
        load_flavour(write(tmp_path, MINIMAL + '\n[content]\nsecond_reviewer = "ja"\n'))
    assert info.value.field == "content.second_reviewer"
    with pytest.raises(FlavourError):
        load_flavour(write(tmp_path, MINIMAL + "\n[content]\nsecond_reviewers = true\n"))


def test_toml_syntax_error_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FlavourError) as info:
        load_flavour(write(tmp_path, "name = "))
    assert info.value.field == "(syntax)"


def test_bad_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlavourError, match="bestandsnaam"):
        load_flavour(write(tmp_path, MINIMAL, name="Bad_Name.toml"))


def test_duplicate_host_across_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, name="een.toml")
    write(tmp_path, MINIMAL, name="twee.toml")
    with pytest.raises(FlavourError, match="hoort al bij een"):
        load_catalog(tmp_path)


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlavourError, match="geen flavour-bestanden"):
        load_catalog(tmp_path)


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_opening_hours_with_overnight_block(tmp_path: Path) -> None:
    flavour = load_flavour(write(tmp_path, MINIMAL))
    monday_evening = datetime(2026, 11, 23, 20, 0, tzinfo=AMS)  # a Monday
    monday_morning = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)
    saturday_early = datetime(2026, 11, 28, 1, 30, tzinfo=AMS)  # after Friday 22:00-02:00
    saturday_late = datetime(2026, 11, 28, 3, 0, tzinfo=AMS)
    assert is_open(flavour, monday_evening)
    assert not is_open(flavour, monday_morning)
    assert is_open(flavour, saturday_early)
    assert not is_open(flavour, saturday_late)
    assert next_opening(flavour, monday_morning) == datetime(2026, 11, 23, 19, 0, tzinfo=AMS)
    assert next_opening(flavour, saturday_late) == datetime(2026, 11, 30, 19, 0, tzinfo=AMS)
