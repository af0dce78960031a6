"""The port of server-side rendering."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import HTMLResponse


@runtime_checkable
class Renderer(Protocol):
    """Server-side rendering of the Jinja2 templates (``chatserver.web.templating.Templates``)."""

    env: Any

    def render(self, name: str, context: dict[str, Any]) -> str: ...

    def response(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse: ...
