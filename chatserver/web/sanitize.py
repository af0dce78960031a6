"""The only place that marks HTML as safe for templates: filters over the sanitiser the app hands in."""

from __future__ import annotations

from collections.abc import Callable

import jinja2
from markupsafe import Markup

Clean = Callable[[str], str]


def install_filters(env: jinja2.Environment, markdown_to_html: Clean, plain_to_html: Clean) -> None:
    """``markdown`` and ``plain_links``: text cleaned by the sanitiser (nh3 with an allow-list), then marked safe."""

    def markdown_filter(text: str | None) -> Markup:
        return Markup(markdown_to_html(text or ""))  # noqa: S704 - cleaned by nh3 with an allow-list

    def plain_filter(text: str | None) -> Markup:
        return Markup(plain_to_html(text or ""))  # noqa: S704 - escaped, then cleaned by nh3

    env.filters["markdown"] = markdown_filter
    env.filters["plain_links"] = plain_filter
