"""The market in the backoffice: editors write an entry once for several flavours, move it draft → review →
published (only the transitions the state allows are offered), and read every earlier version.

A plain router like :mod:`chatserver.web.pages.markt`; everything answers "not found" to whoever is not an editor
of every flavour the entry appears in.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatserver.domain import markt as rules
from chatserver.domain.markt import ACTION_NAMES, is_editor
from chatserver.i18n import N_
from chatserver.ports.markt import Document
from chatserver.services.markt import MarktError
from chatserver.services.markt.drafts import EntryDraft
from chatserver.web.pages.markt import labels, markt_of
from chatserver.web.responses import actor_of, not_found, page, redirect, services_of, staff_login

BASE = "/backoffice/markt"
LIST_FIELDS = ("needs", "languages", "costs", "platforms", "quality_marks", "flavours", "regions")
NOTICES = {
    "aangemaakt": N_("Het aanbod is aangemaakt als concept."),
    "opgeslagen": N_("De wijzigingen zijn opgeslagen. De vorige versie staat bij de versies."),
    "status": N_("De status is gewijzigd."),
}


def backoffice_page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context.update(labels())
    scores = [("", N_("Niet beoordeeld"))] + [(str(n), f"{n} – {word}") for n, word in rules.SCORE_WORDS.items()]
    context.update(statuses=rules.STATUSES, regions=markt_of(request).regions, score_options=scores)
    return page(request, name, context, status, notices=NOTICES, private=True)


async def read_draft(request: Request) -> EntryDraft:
    form = await request.form()
    values = {str(k): str(v)[:8000] for k, v in form.items() if isinstance(v, str)}
    lists = {name: [str(v)[:64] for v in form.getlist(name) if isinstance(v, str)][:60] for name in LIST_FIELDS}
    await form.close()
    return EntryDraft(values=values, lists=lists)


def draft_values(draft: EntryDraft) -> dict[str, Any]:
    values: dict[str, Any] = dict(draft.values)
    values.update({name: draft.many(name) for name in LIST_FIELDS})
    values["referral"] = draft.get("referral") in ("1", "ja", "on")
    return values


def edit_context(request: Request, entry: Document | None, values: dict[str, Any]) -> dict[str, Any]:
    actor = actor_of(request)
    assert actor is not None
    catalog = services_of(request).catalog
    actions = {a: ACTION_NAMES[a] for a in rules.allowed_actions(str(entry.get("status", "")))} if entry else {}
    return {"entry": entry, "values": values, "actions": actions,
            "scoped": [f for f in catalog if actor.staff_in(f.slug)]}  # fmt: skip


def _guard(request: Request) -> Response | None:
    actor = actor_of(request)
    if actor is None:
        return staff_login(request)
    if not is_editor(actor):
        return not_found(request, private=True)
    return None


async def entry_list(request: Request) -> Response:
    if (refusal := _guard(request)) is not None:
        return refusal
    status = request.query_params.get("status", "")
    status = status if status in rules.STATUSES else ""
    entries = await markt_of(request).catalogue.staff_entries(actor_of(request), status or None)
    catalog = {f.slug: f for f in services_of(request).catalog}
    return backoffice_page(request, "pages/backoffice/markt_list.html",
                           {"entries": entries, "status": status, "catalog": catalog})  # fmt: skip


async def entry_new(request: Request) -> Response:
    if (refusal := _guard(request)) is not None:
        return refusal
    if request.method == "GET":
        values: dict[str, Any] = {"kind": "app", "evidence": "onbekend", "languages": ["nl"]}
        return backoffice_page(request, "pages/backoffice/markt_edit.html", edit_context(request, None, values))
    draft = await read_draft(request)
    try:
        created = await markt_of(request).catalogue.create(actor_of(request), draft)
    except MarktError as exc:
        context = edit_context(request, None, draft_values(draft))
        context["errors"] = {exc.field or "title": exc.detail}
        return backoffice_page(request, "pages/backoffice/markt_edit.html", context, exc.status)
    return redirect(f"{BASE}/{created['_id']}?melding=aangemaakt", private=True)


async def entry_edit(request: Request) -> Response:
    if (refusal := _guard(request)) is not None:
        return refusal
    catalogue = markt_of(request).catalogue
    actor = actor_of(request)
    entry_id = request.path_params["entry_id"]
    try:
        entry, revisions = await catalogue.revisions(actor, entry_id)
    except MarktError:
        return not_found(request, private=True)
    if request.method == "GET":
        context = edit_context(request, entry, catalogue.form_values(entry))
        context["revisions"] = revisions
        return backoffice_page(request, "pages/backoffice/markt_edit.html", context)
    draft = await read_draft(request)
    try:
        version = int(draft.get("version") or "0")
        await catalogue.save(actor, entry_id, draft, version)
    except (MarktError, ValueError) as exc:
        error = exc if isinstance(exc, MarktError) else MarktError("version", 422, N_("De versie ontbreekt."))
        context = edit_context(request, entry, draft_values(draft))
        context.update(revisions=revisions, errors={error.field or "title": error.detail})
        return backoffice_page(request, "pages/backoffice/markt_edit.html", context, error.status)
    return redirect(f"{BASE}/{entry_id}?melding=opgeslagen", private=True)


async def entry_status(request: Request) -> Response:
    if (refusal := _guard(request)) is not None:
        return refusal
    catalogue = markt_of(request).catalogue
    entry_id = request.path_params["entry_id"]
    form = await request.form()
    action, reason = str(form.get("action") or ""), str(form.get("reason") or "")[:1000]
    await form.close()
    try:
        await catalogue.change_status(actor_of(request), entry_id, action, reason)
    except MarktError as exc:
        if exc.code == "not_found":
            return not_found(request, private=True)
        entry, revisions = await catalogue.revisions(actor_of(request), entry_id)
        context = edit_context(request, entry, catalogue.form_values(entry))
        context.update(revisions=revisions, errors={exc.field or "action": exc.detail})
        return backoffice_page(request, "pages/backoffice/markt_edit.html", context, exc.status)
    return redirect(f"{BASE}/{entry_id}?melding=status", private=True)


async def entry_revision(request: Request) -> Response:
    if (refusal := _guard(request)) is not None:
        return refusal
    try:
        number = int(request.path_params["number"])
        entry, revision = await markt_of(request).catalogue.revision(actor_of(request), request.path_params["entry_id"],
                                                                     number)  # fmt: skip
    except (MarktError, ValueError):
        return not_found(request, private=True)
    return backoffice_page(request, "pages/backoffice/markt_revision.html", {"entry": entry, "revision": revision})


ROUTES = [
    Route(BASE, entry_list, methods=["GET"]),
    Route(f"{BASE}/nieuw", entry_new, methods=["GET", "POST"]),
    Route(BASE + "/{entry_id}", entry_edit, methods=["GET", "POST"]),
    Route(BASE + "/{entry_id}/status", entry_status, methods=["POST"]),
    Route(BASE + "/{entry_id}/versies/{number}", entry_revision, methods=["GET"]),
]
