"""The spreekuur agenda as an iCalendar feed (RFC 5545): escaped TEXT values, UTC times, CRLF and folded lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from chatserver.domain.spreekuur import aware
from chatserver.flavours import Flavour
from chatserver.i18n import N_

FOLD_OCTETS = 75


def ical_escape(text: str) -> str:
    """TEXT value escaping: backslash, semicolon, comma and newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with one space), never inside a UTF-8 sequence."""
    out: list[str] = []
    current = ""
    size = 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > FOLD_OCTETS:
            out.append(current)
            current = " "
            size = 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def ical_time(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# i18n: the calendar file is the community's content, in its language
def _event(doc: Mapping[str, Any], base_url: str, stamp: str, uid_host: str) -> list[str]:
    url = f"{base_url}/{doc['_id']}/"
    host = doc.get("host_pseudonym") or N_("nog bekend te maken")
    description = f"{doc.get('description', '')}\n\nHost: {host}\nStel je vraag anoniem: {url}"
    return [
        "BEGIN:VEVENT",
        f"UID:spreekuur-{doc['_id']}@{uid_host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{ical_time(doc['starts_at'])}",
        f"DTEND:{ical_time(doc['ends_at'])}",
        f"SUMMARY:{ical_escape(doc['title'])}",
        f"DESCRIPTION:{ical_escape(description)}",
        f"URL:{url}",
        f"STATUS:{'CANCELLED' if doc.get('cancelled') else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def ical_feed(
    flavour: Flavour, sessions: Iterable[Mapping[str, Any]], base_url: str, now: datetime, uid_host: str
) -> str:
    """An RFC 5545 calendar of ``sessions`` with UTC times, CRLF line ends and folded lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//GEM community//Spreekuren//NL",  # i18n: a product id, not a text
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape('Spreekuren ' + flavour.name)}",
        "X-WR-TIMEZONE:Europe/Amsterdam",
    ]
    stamp = ical_time(now)
    for doc in sessions:
        lines += _event(doc, base_url, stamp, uid_host)
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)
