"""UI translations. Dutch is the source language: a message id *is* its Dutch text.

Other languages map the Dutch text to theirs; a missing entry falls back to
Dutch, so an untranslated string is never an error.
"""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_LANG = "nl"
SUPPORTED = ("nl", "en")

CATALOGS: dict[str, dict[str, str]] = {
    "nl": {},
    "en": {
        "Snel weg": "Quick exit",
        "Hulp bij crisis": "Crisis help",
        "Naar de inhoud": "Skip to content",
        "Pagina niet gevonden": "Page not found",
        "Er ging iets mis": "Something went wrong",
    },
}


def translator(lang: str) -> Callable[[str], str]:
    catalog = CATALOGS.get(lang, {})

    def _(message: str) -> str:
        return catalog.get(message, message)

    return _


def pick_language(cookie_header: str | None) -> str:
    """Dutch unless the visitor chose another supported language (cookie ``gem_lang``).

    The browser's Accept-Language is not used: the communities are Dutch, and a
    partly translated page would mix two languages.
    """
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "gem_lang" and value in SUPPORTED:
            return value
    return DEFAULT_LANG
