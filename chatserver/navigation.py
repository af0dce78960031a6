"""Where people go: the backoffice start page's links (each with who may see it) and the sections of a flavour's
navigation, in order. The composition root hands both to the container (``Services.backoffice_links``,
``Services.section_providers``); a new feature adds its line here."""

from __future__ import annotations

from chatserver.container import BackofficeLink, SectionProvider
from chatserver.domain.editorial import is_editor
from chatserver.domain.identity import Actor
from chatserver.domain.oneonone import tier_of_role
from chatserver.flavours import Flavour
from chatserver.i18n import N_
from chatserver.services.moderation import staff_of

__all__ = ["BACKOFFICE_LINKS", "SECTIONS"]


def _staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff


def _moderator(actor: Actor | None) -> bool:
    return actor is not None and staff_of(actor) is not None


def _admin(actor: Actor | None) -> bool:
    return actor is not None and actor.is_admin


def _editor(actor: Actor | None) -> bool:
    return is_editor(actor)


def _chat_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and tier_of_role(actor.role) is not None


def _reflectie_reader(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in ("admin", "professional", "editor")


# The backoffice start page, in this order.
BACKOFFICE_LINKS: tuple[BackofficeLink, ...] = (
    BackofficeLink(N_("Moderatie"), "/backoffice/moderatie", _moderator),
    BackofficeLink(N_("Auditlog moderatie"), "/backoffice/audit", _moderator),
    BackofficeLink(N_("Inhoud en redactie"), "/backoffice/inhoud", _editor),
    BackofficeLink(N_("Uitgelicht op de startpagina's"), "/backoffice/uitgelicht", _editor),
    BackofficeLink(N_("VitaliteitsMarkt"), "/backoffice/markt", _editor),
    BackofficeLink(N_("VraagBaak"), "/backoffice/vraagbaak", _staff),
    BackofficeLink(N_("Chatruimtes"), "/backoffice/ruimtes", _admin),
    BackofficeLink(N_("E-spreekuren"), "/backoffice/spreekuren", _staff),
    BackofficeLink(N_("1-op-1 gesprekken"), "/backoffice/gesprekken", _chat_staff),
    BackofficeLink(N_("Mijn dienst"), "/backoffice/dienst", _chat_staff),
    BackofficeLink(N_("Rooster"), "/backoffice/rooster", _admin),
    BackofficeLink(N_("Reflectietafel"), "/backoffice/reflectie/", _reflectie_reader),
)


def _section(label: str, path: str) -> SectionProvider:
    def provider(flavour: Flavour, base_path: str) -> list[tuple[str, str]]:
        return [(label, f"{base_path}/{path}/")]

    return provider


# The sections of a flavour's navigation, in this order.
SECTIONS: tuple[SectionProvider, ...] = (
    _section(N_("Artikelen"), "artikelen"),
    _section(N_("Markt"), "markt"),
    _section(N_("Stel je vraag"), "vraagbaak"),
    _section(N_("Chat"), "chat"),
    _section(N_("Spreekuur"), "spreekuur"),
    _section(N_("Forum"), "forum"),
    _section(N_("Cijfers"), "cijfers"),
)
