"""The content workflow: which status changes each state allows, and the second-reviewer rule for publishing."""

from __future__ import annotations

from collections.abc import Iterable

# action -> (the states it may start from, the state it leads to). The one table: the service checks against it
# and the status form offers exactly these actions. No action leads from a state to itself.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "rejected", "unpublished"}), "in_review"),
    "publish": (frozenset({"draft", "in_review", "unpublished"}), "published"),
    "unpublish": (frozenset({"published"}), "unpublished"),
    "archive": (frozenset({"draft", "in_review", "published", "unpublished", "rejected"}), "archived"),
    "reject": (frozenset({"in_review"}), "rejected"),
    "draft": (frozenset({"in_review", "unpublished", "archived", "rejected"}), "draft"),
}


def allowed_actions(status: str) -> tuple[str, ...]:
    """The actions a piece in ``status`` allows, in the table's order."""
    return tuple(action for action, (sources, _target) in TRANSITIONS.items() if status in sources)


def target_of(status: str, action: str) -> str | None:
    """The state ``action`` leads to from ``status``; None when the table does not allow it."""
    rule = TRANSITIONS.get(action)
    if rule is None or status not in rule[0]:
        return None
    return rule[1]


def involved_in(submitted_by: str, last_edited_by: str) -> frozenset[str]:
    """Who may not be the second reviewer: whoever submitted the piece for review or edited it last."""
    return frozenset(x for x in (submitted_by, last_edited_by) if x)


def needs_second_reviewer(flavours: Iterable[str], strict_flavours: Iterable[str]) -> bool:
    """A piece needs a second reviewer when any flavour it targets asks for one."""
    return bool(set(flavours) & set(strict_flavours))
