"""Jinja2 filters for dates and times in Dutch time (registered once when the templates are built).

Day and month names follow the page's language (``lang`` in the page context); the order stays the Dutch one
("woensdag 4 maart 2026, 20:00", "Wednesday 4 March 2026, 20:00"), which reads well in British English too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from chatserver.flavours import TIMEZONE
from chatserver.i18n import DEFAULT_LANG, N_, translator

DAYS = (N_("maandag"), N_("dinsdag"), N_("woensdag"), N_("donderdag"), N_("vrijdag"), N_("zaterdag"), N_("zondag"))
MONTHS = (N_("januari"), N_("februari"), N_("maart"), N_("april"), N_("mei"), N_("juni"), N_("juli"),
          N_("augustus"), N_("september"), N_("oktober"), N_("november"), N_("december"))  # fmt: skip


def _gettext(context: Context) -> Callable[[str], str]:
    return translator(str(context.get("lang", DEFAULT_LANG)))


@pass_context
def format_date(context: Context, value: Any, with_time: bool = False) -> str:
    """'4 maart 2026' (with ', 20:00' when asked) in Dutch time."""
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(TIMEZONE)
    text = f"{local.day} {_gettext(context)(MONTHS[local.month - 1])} {local.year}"
    return f"{text}, {local:%H:%M}" if with_time else text


@pass_context
def nl_moment(context: Context, value: Any) -> str:
    """'woensdag 4 maart 2026, 20:00' in Dutch time."""
    if not isinstance(value, datetime):
        return ""
    local = value.astimezone(TIMEZONE) if value.tzinfo else value.replace(tzinfo=TIMEZONE).astimezone(TIMEZONE)
    _ = _gettext(context)
    return f"{_(DAYS[local.weekday()])} {local.day} {_(MONTHS[local.month - 1])} {local.year}, {local:%H:%M}"


DECIMAL_COMMA = frozenset({"nl"})  # languages that write 2,5 rather than 2.5


@pass_context
def number(context: Context, value: Any) -> str:
    """A figure for a chart or table: whole numbers as they are, fractions with at most two decimals, with the
    page language's decimal sign ("0,25" in Dutch, "0.25" in English)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:.0f}" if value == int(value) else f"{value:.2f}".rstrip("0")
    return text.replace(".", ",") if str(context.get("lang", DEFAULT_LANG)) in DECIMAL_COMMA else text


def local_input(value: Any) -> str:
    """A ``datetime-local`` value in Dutch time."""
    if not isinstance(value, datetime):
        return str(value or "")
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


FILTERS: dict[str, Callable[..., str]] = {
    "nl_date": format_date,
    "nl_moment": nl_moment,
    "local_input": local_input,
    "number": number,
}
