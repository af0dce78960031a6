"""The no-op marker for the texts this package writes for people (refusals, reasons, notices).

The moderation domain depends on nothing of ``chatserver``; the server translates these Dutch texts where it shows
them (``chatserver.i18n.translate``), and ``pybabel extract`` finds them by this name (babel.cfg).
"""

from __future__ import annotations


def N_(message: str) -> str:  # the name gettext extractors look for
    """Marks a message for extraction; it is translated where it is shown."""
    return message
