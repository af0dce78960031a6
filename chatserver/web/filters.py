"""Jinja2 filters for Dutch dates and times (registered once when the templates are built)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chatserver.flavours import TIMEZONE

DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")  # fmt: skip


def format_date(value: Any, with_time: bool = False) -> str:
    """'4 maart 2026' (with ', 20:00' when asked) in Dutch time."""
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(TIMEZONE)
    text = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
    return f"{text}, {local:%H:%M}" if with_time else text


def nl_moment(value: Any) -> str:
    """'woensdag 4 maart 2026, 20:00' in Dutch time."""
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(TIMEZONE) if value.tzinfo else value.replace(tzinfo=TIMEZONE).astimezone(TIMEZONE)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def local_input(value: Any) -> str:
    """A ``datetime-local`` value in Dutch time."""
    if not isinstance(value, datetime):
        return str(value or "")
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


FILTERS: dict[str, Callable[..., str]] = {"nl_date": format_date, "nl_moment": nl_moment, "local_input": local_input}
