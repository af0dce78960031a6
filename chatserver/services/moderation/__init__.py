"""Moderation in the communities: screening, the three-tier queue, decisions, notices, crisis routing and audit.

``service`` holds the one :class:`ModerationService` the composition root builds; its parts are ``screening``
(rules and crisis verdicts, the chat screener, the mute gate, recall), ``queue`` (submitting, reports, claims,
the queue itself), ``decisions`` (decisions and their effects, sanctions, bulk, release, the handlers of each
kind), ``audit`` (the hash-chained log) and ``notices`` (to authors, reporters, consoles and staff on shift). The
pure parts are in ``chatserver.domain.moderation`` and ``chatserver.domain.moderation_items``; the rules
themselves in the independent ``moderation`` package. The names features import are re-exported here.
"""

from __future__ import annotations

from chatserver.domain.moderation import (
    DECISION_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    ModerationError,
    Place,
    crisis_notice,
    muted_text,
    nl_until,
    rule_settings,
    staff_of,
)
from chatserver.domain.moderation_items import (
    BulkResult,
    ItemRef,
    ModerationItemView,
    ReportedObject,
    StaffDecision,
    actor_from_snapshot,
    actor_snapshot,
    is_item_overdue,
    message_offset,
    sort_views,
)
from chatserver.services.moderation.decisions import Handler, apply_to_chat_message
from chatserver.services.moderation.queue import ReportResolver
from chatserver.services.moderation.service import ModerationService

__all__ = [
    "DECISION_LABELS",
    "SEVERITY_LABELS",
    "SOURCE_LABELS",
    "TIER_LABELS",
    "BulkResult",
    "Handler",
    "ItemRef",
    "ModerationError",
    "ModerationItemView",
    "ModerationService",
    "Place",
    "ReportResolver",
    "ReportedObject",
    "StaffDecision",
    "actor_from_snapshot",
    "actor_snapshot",
    "apply_to_chat_message",
    "crisis_notice",
    "is_item_overdue",
    "message_offset",
    "muted_text",
    "nl_until",
    "rule_settings",
    "sort_views",
    "staff_of",
]
