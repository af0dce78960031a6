"""User text to safe HTML: Markdown (markdown-it-py with linkify) cleaned by nh3.

nh3 removes rather than escapes and has no linkify, so links are made in the
Markdown step and everything is cleaned afterwards with an allow-list.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "s", "del", "blockquote", "ul", "ol", "li", "code", "pre", "a", "h3", "h4", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"
MAX_INPUT_CHARS = 40_000

_URL = re.compile(r"\b((?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]])", re.IGNORECASE)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "strikethrough"])
    md.disable(["image", "html_block", "html_inline"])
    return md


_MD = _markdown()


def clean_html(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """A small Markdown subset to clean HTML; headings are demoted to h3/h4."""
    rendered = _MD.render(text[:MAX_INPUT_CHARS])
    rendered = re.sub(r"<(/?)h[12]>", r"<\1h3>", rendered)
    rendered = re.sub(r"<(/?)h[56]>", r"<\1h4>", rendered)
    return clean_html(rendered)


def plain_to_html(text: str) -> str:
    """Plain text (chat) to HTML: everything escaped, URLs made clickable, newlines kept."""
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        url = match.group(1)
        href = url if url.lower().startswith("http") else f"https://{url}"
        out.append(f'<a href="{html.escape(href)}">{html.escape(url)}</a>')
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return clean_html("".join(out).replace("\n", "<br>"))
