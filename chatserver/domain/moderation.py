"""The pure rules of moderation in the communities: where a text is judged how, who moderates, the Dutch words.

Everything here is free of I/O: the service (``chatserver.services.moderation``) stores, notifies and audits; the
item documents and their views are in :mod:`chatserver.domain.moderation_items`; the queue, tiers, rules and crisis
detection themselves are the independent ``moderation`` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chatserver.domain.identity import Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.i18n import N_
from chatserver.protocol.events import CrisisResourceLink
from moderation.queue import DecisionKind, ItemSource, Staff
from moderation.rules import PlaceKind, RuleSettings, Verdict
from moderation.tiers import Severity, Tier, max_severity, max_tier

Place = Literal["room", "forum", "spreekuur_question", "chat_1on1", "vraagbaak", "story"]

PLACE_KIND: dict[Place, PlaceKind] = {
    "room": "room",
    "forum": "forum",
    "spreekuur_question": "spreekuur_question",
    "chat_1on1": "one_on_one",
    "vraagbaak": "one_on_one",
    "story": "forum",
}
# Places where visitors write to each other: contact details are blocked there by default.
PEER_TO_PEER_PLACES: frozenset[Place] = frozenset({"room", "forum", "spreekuur_question", "story"})

# The decisions in the order the console offers them (each role sees those it may take).
DECISION_ORDER: tuple[DecisionKind, ...] = (
    "approve",
    "reject",
    "redact",
    "hide",
    "warn",
    "mute",
    "ban",
    "escalate",
    "release",
)
BULK_KINDS: frozenset[DecisionKind] = frozenset({"approve", "hide", "reject"})

DECISION_LABELS: dict[str, str] = {
    "approve": N_("Goedgekeurd"),
    "reject": N_("Afgewezen"),
    "redact": N_("Aangepast"),
    "hide": N_("Verborgen"),
    "warn": N_("Gewaarschuwd"),
    "mute": N_("Tijdelijk gedempt"),
    "ban": N_("Geweerd"),
    "escalate": N_("Doorgezet naar hogere laag"),
    "release": N_("Vrijgegeven (vals alarm)"),
}
SOURCE_LABELS: dict[str, str] = {
    "report": N_("Melding"),
    "rule": N_("Regel"),
    "premoderation": N_("Voormoderatie"),
    "crisis": N_("Crisis"),
    "spreekuur_question": N_("Spreekuurvraag"),
}
TIER_LABELS: dict[str, str] = {
    "volunteer": N_("Vrijwilliger"),
    "peer_expert": N_("Ervaringsdeskundige"),
    "professional": N_("Professional"),
    "admin": N_("Beheerder"),
    "editor": N_("Redacteur"),
}
SEVERITY_LABELS: dict[str, str] = {
    "low": N_("laag"),
    "medium": N_("middel"),
    "high": N_("hoog"),
    "critical": N_("kritiek"),
}

AUTHOR_NOTICES: dict[str, str] = {
    "reject": N_("Je bericht is niet geplaatst."),
    "hide": N_("Je bericht is verborgen door een moderator."),
    "redact": N_("Een moderator heeft je bericht aangepast."),
    "warn": N_("Je hebt een waarschuwing gekregen van een moderator."),
    "mute": N_("Je kunt een tijdje geen berichten plaatsen."),
    "ban": N_("Je hebt geen toegang meer tot deze community."),
    "approve": N_("Je bericht is bekeken en geplaatst."),
    "release": N_("Je bericht is bekeken en alsnog geplaatst."),
}
AUTHOR_NOTICE_DEFAULT = N_("Een moderator heeft naar je bericht gekeken.")
REPORTER_OUTCOMES: dict[str, str] = {
    "approve": N_("We hebben je melding bekeken. Het bericht blijft staan: het past binnen onze huisregels."),
    "reject": N_("Bedankt voor je melding. We hebben actie ondernomen."),
    "redact": N_("Bedankt voor je melding. Het bericht is aangepast."),
    "hide": N_("Bedankt voor je melding. Het bericht is verborgen."),
    "warn": N_("Bedankt voor je melding. De schrijver heeft een waarschuwing gekregen."),
    "mute": N_("Bedankt voor je melding. De schrijver kan een tijdje niets plaatsen."),
    "ban": N_("Bedankt voor je melding. De schrijver heeft geen toegang meer."),
}
# Counted per detector version when staff decide a crisis item: a release is a false positive, the rest confirm it.
OUTCOME_OF: dict[str, str] = {"release": "released", "approve": "confirmed", "reject": "confirmed",
                              "redact": "confirmed", "hide": "confirmed", "warn": "confirmed", "mute": "confirmed",
                              "ban": "confirmed"}  # fmt: skip

MUTED_REASON = N_("Je kunt tijdelijk geen berichten plaatsen in deze community (tot %(until)s).")
MUTED_BECAUSE = N_("Reden van de moderator: %(reason)s")
MAX_MUTE_REASON_CHARS = 300  # kept with the mute and shown to the muted person

NOT_FOUND = N_("Dit item bestaat niet of je mag het niet zien.")
ERASED_ACCOUNT = N_("verwijderd account")


class ModerationError(Exception):
    """A refused moderation use case; ``detail`` is Dutch and may be shown. 404 also means "not yours to see"."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def staff_of(actor: Actor | None) -> Staff | None:
    """The queue's view of a staff member, or None for anyone else."""
    if actor is None or not actor.is_staff or actor.role is None:
        return None
    return Staff(id=str(actor.account_id), role=actor.role, flavours=actor.flavours)


def scope_of(staff: Staff, flavour: str | None) -> list[str] | None:
    """The flavours a staff member's query covers (None: all, for admins); [] when ``flavour`` is not theirs."""
    flavours: list[str] | None = None if staff.is_admin else sorted(staff.flavours)
    if flavour is None:
        return flavours
    if flavours is not None and flavour not in flavours:
        return []
    return [flavour]


def rule_settings(flavour: Flavour) -> RuleSettings:
    rules = flavour.moderation
    return RuleSettings(
        blocked_words=tuple(rules.blocked_words),
        blocked_patterns=tuple(rules.blocked_patterns),
        no_body_numbers=rules.no_body_numbers,
        block_contact_details=rules.block_contact_details,
        max_links_new_account=rules.max_links_new_account,
        premoderate_new_accounts=rules.premoderate_new_accounts,
        new_account_days=rules.new_account_days,
    )


# --- what a submitted text becomes in the queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """Where a submission lands: its source (a crisis signal makes a hold a crisis item), severity and tier, the
    rules that fired and what they found."""

    source: ItemSource
    severity: Severity
    tier: Tier
    rules: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    crisis: bool = False


def routing_of(source: ItemSource, verdict: Verdict | None) -> Routing:
    """The most severe hit and the highest tier of the verdict; a crisis signal is always critical, for
    professionals (the queue sends it to peer experts when no professional is on shift)."""
    severity: Severity = "medium" if source == "report" else "low"
    if verdict is None:
        return Routing(source, severity, "volunteer")
    tier: Tier = "volunteer"
    for hit in verdict.hits:
        severity = max_severity(severity, hit.severity)
        tier = max_tier(tier, hit.tier)
    rules = tuple(hit.rule for hit in verdict.hits)
    details = tuple(hit.detail for hit in verdict.hits)
    if not verdict.crisis.flagged:
        return Routing(source, severity, tier, rules, details)
    kept_source: ItemSource = source if source in ("report", "spreekuur_question") else "crisis"
    return Routing(kept_source, "critical", "professional", rules, details, crisis=True)


# --- Dutch texts for the people involved ----------------------------------------------------------------------------


def nl_until(moment: datetime) -> str:
    """'7-12-2026 om 10:45' in Dutch time (Europe/Amsterdam), for the end of a mute."""
    local = moment.astimezone(TIMEZONE)
    return N_("%(day)d-%(month)d-%(year)d om %(hour)02d:%(minute)02d") % {
        "day": local.day,
        "month": local.month,
        "year": local.year,
        "hour": local.hour,
        "minute": local.minute,
    }


def muted_text(until: datetime, reason: str) -> str:
    """What a muted person reads when they try to post: the end in Dutch time and the moderator's reason."""
    text = MUTED_REASON % {"until": nl_until(until)}
    return text + " " + MUTED_BECAUSE % {"reason": reason} if reason else text


def crisis_notice(flavour: Flavour | None, *, held: bool = True, staffed: bool = True) -> str:
    """The supportive Dutch notice for a crisis message, with the crisis lines (youth: De Kindertelefoon).

    ``held=False`` in a 1-on-1 chat (nothing is held there); ``staffed=False`` when no professional is on shift:
    the author is then told plainly to call 113 or 112 now.
    """
    if not staffed:
        first = N_(
            "Er is nu geen professional van ons team in dienst. Wacht niet op ons: bel nu 113 (gratis: 0800-0113) "
            "of chat via 113.nl. Is er direct gevaar? Bel 112."
        )
        lines = [first] if not held else [N_("Je bericht is even tegengehouden."), first]
        lines.append(N_("Je staat er niet alleen voor: een ervaringsdeskundige van ons team kijkt mee."))
        if flavour is not None and flavour.youth:
            lines.append(N_("Ben je jonger dan 18? Bel of chat gratis met De Kindertelefoon: 0800-0432."))
        return " ".join(lines)
    lines = [
        (
            N_("Je bericht is even tegengehouden zodat iemand van ons team met je mee kan kijken.")
            if held
            else N_("We lezen met je mee en een professional van ons team is gewaarschuwd.")
        )
        + " "
        + N_("Je staat er niet alleen voor."),
        N_(
            "Denk je aan zelfmoord? Praat erover met 113 Zelfmoordpreventie: bel 113 of gratis 0800-0113, "
            "of chat via 113.nl."
        ),
        N_("Is er direct gevaar? Bel 112."),
    ]
    if flavour is not None and flavour.youth:
        lines.append(N_("Ben je jonger dan 18? Bel of chat gratis met De Kindertelefoon: 0800-0432."))
    return " ".join(lines)


def resources_of(flavour: Flavour | None) -> list[CrisisResourceLink]:
    """The flavour's crisis lines, as the author's notification lists them."""
    if flavour is None:
        return []
    return [
        CrisisResourceLink(name=r.name, description=r.description, phone=r.phone, url=r.url, chat_url=r.chat_url)
        for r in flavour.crisis_resources
    ]


def sanction_note(kind: DecisionKind, reason: str, mute_minutes: int | None, ban_days: int | None, hide: bool) -> str:
    """The audit reason of a decision: a mute says how long (and whether the message went), a ban how many days."""
    if kind == "mute" and mute_minutes:  # the audit log keeps it in Dutch, like the rest of the record
        return f"{reason} ({mute_minutes} min{', bericht verborgen' if hide else ''})"  # i18n: record
    if kind == "ban":
        return f"{reason} ({ban_days} dagen)" if ban_days else f"{reason} (onbepaalde tijd)"  # i18n: record
    return reason
