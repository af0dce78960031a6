"""The only place that marks HTML as safe for templates: filters over the sanitiser."""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from chatserver.adapters.sanitizer import markdown_to_html, plain_to_html


def markdown_filter(text: str | None) -> Markup:
    return Markup(markdown_to_html(text or ""))  # noqa: S704 - cleaned by nh3 with an allow-list


def plain_filter(text: str | None) -> Markup:
    return Markup(plain_to_html(text or ""))  # noqa: S704 - escaped, then cleaned by nh3


def install_filters(env: jinja2.Environment) -> None:
    env.filters["markdown"] = markdown_filter
    env.filters["plain_links"] = plain_filter
