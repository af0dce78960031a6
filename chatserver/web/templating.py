"""Jinja2 environment: autoescape, per-flavour overrides, versioned static URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from chatserver.flavours import Flavour
from chatserver.i18n import load_catalogs, plural_translator, script_catalog, translator


class Templates:
    """Renders pages; ``templates/flavours/<slug>/`` overrides a page for one flavour."""

    def __init__(self, templates_dir: Path, static_dir: Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            autoescape=jinja2.select_autoescape(("html", "xml"), default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            enable_async=False,
            extensions=["jinja2.ext.i18n"],
        )
        # The page context brings the visitor's language (page_defaults); these Dutch defaults serve a fragment
        # rendered without it. Old-style gettext: templates format with ``|format``, as they always have.
        load_catalogs()
        self.env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
            translator("nl"), plural_translator("nl"), newstyle=False
        )
        self.static_dir = static_dir
        self.env.globals["static_url"] = self.static_url
        self.env.globals["script_messages"] = self.script_messages

    def script_messages(self, lang: str, live: object = False) -> dict[str, str | list[str]]:
        """What the browser scripts say, in ``lang`` (base.html renders it for static/js/i18n.js; none for Dutch).

        ``live``: the page shows lines that arrive live, so the messages those may hold come along (i18n.py).
        """
        return script_catalog(lang, self.static_dir / "js", bool(live))

    @lru_cache(maxsize=256)  # noqa: B019 - one Templates per app, files fixed at deploy
    def static_url(self, path: str) -> str:
        file = self.static_dir / path
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
        except OSError:
            return f"/static/{path}"
        return f"/static/{path}?v={digest}"

    def select(self, name: str, flavour: Flavour | None) -> jinja2.Template:
        names = [f"flavours/{flavour.slug}/{name}", name] if flavour else [name]
        return self.env.select_template(names)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.select(name, context.get("flavour")).render(context)

    def response(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        page_context = page_defaults(request)
        page_context.update(context)
        return HTMLResponse(self.render(name, page_context), status_code=status_code, headers=headers)


ContextHook = Callable[[Request], dict[str, Any]]


def page_defaults(request: Request) -> dict[str, Any]:
    """The context every page gets (see templates/base.html)."""
    flavour: Flavour | None = request.scope.get("flavour")
    services = request.app.state.services
    lang = request.scope.get("lang", "nl")
    base_path = request.scope.get("flavour_base", "")
    ctx: dict[str, Any] = {
        "request": request,
        "flavour": flavour,
        "flavours": list(services.catalog),
        "sections": services.sections(flavour, base_path) if flavour else [],
        "csrf_token": request.scope.get("csrf_token", ""),
        "actor": request.scope.get("actor"),
        "base_path": base_path,
        "lang": lang,
        "csp_nonce": request.scope.get("csp_nonce", ""),
        "_": translator(lang),
        "gettext": translator(lang),
        "ngettext": plural_translator(lang),
    }
    for hook in services.context_hooks:
        ctx.update(hook(request))
    return ctx
