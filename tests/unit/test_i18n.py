"""Dutch by default; another language only by the visitor's explicit choice."""

from chatserver.i18n import pick_language, translator


def test_dutch_by_default_whatever_the_browser_says() -> None:
    assert pick_language(None) == "nl"
    assert pick_language("") == "nl"
    assert pick_language("other=1") == "nl"


def test_explicit_choice_of_a_supported_language() -> None:
    assert pick_language("a=b; gem_lang=en") == "en"
    assert pick_language("gem_lang=xx") == "nl"


def test_untranslated_text_falls_back_to_dutch() -> None:
    assert translator("en")("Snel weg") == "Quick exit"
    assert translator("en")("Iets zonder vertaling") == "Iets zonder vertaling"
    assert translator("nl")("Snel weg") == "Snel weg"
