"""The VitaliteitsMarkt: a curated market of self-help, eHealth and mHealth tools and local offers, shared between
flavours. ``service`` holds the :class:`MarktService` the composition root builds; its parts are ``catalogue``
(editors' workflow and revisions), ``drafts`` (the editor's form), ``reports`` (members' test reports, pre-moderated),
``finding`` (filters, search, near you, the questionnaire), ``uptake`` (aggregate counters) and ``demo``."""

from __future__ import annotations

from chatserver.services.markt.errors import MarktError
from chatserver.services.markt.reports import KIND as REPORT_KIND
from chatserver.services.markt.service import MarktService

__all__ = ["REPORT_KIND", "MarktError", "MarktService"]
