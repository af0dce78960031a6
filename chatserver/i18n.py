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


def pick_language(accept_language: str | None) -> str:
    """Dutch by default; English only when the browser prefers it over Dutch."""
    if not accept_language:
        return DEFAULT_LANG
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in SUPPORTED:
            return code
    return DEFAULT_LANG
