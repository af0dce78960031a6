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
# A VitaliteitsMarkt entry's stable address on this site, written without scheme and host (as staff copy it from
# the entry page or a chat card): /f/<flavour>/markt/<entry>. Only this shape of bare path becomes a link.
SITE_PREFIX = "/f/"
_SITE_TAIL = re.compile(r"[a-z0-9-]{1,40}/markt/[a-z0-9-]{1,90}(?![\w/-])")
_LINK = re.compile(rf"{_URL.pattern}|(?<![\w/.:@-])((?-i:{re.escape(SITE_PREFIX)}{_SITE_TAIL.pattern}))", re.IGNORECASE)


def _site_path_length(_linkify: object, text: str, pos: int) -> int:
    """linkify-it's validator for the ``/f/`` prefix: how many characters after it form a market entry's path."""
    match = _SITE_TAIL.match(text, pos)
    return len(match.group(0)) if match else 0


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["linkify", "strikethrough"])
    md.disable(["image", "html_block", "html_inline"])
    assert md.linkify is not None, "the linkify rule needs linkify-it-py"
    md.linkify.add(SITE_PREFIX, {"validate": _site_path_length})
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
    """Plain text (chat) to HTML: everything escaped, URLs and market entry paths made clickable, newlines kept."""
    out: list[str] = []
    pos = 0
    for match in _LINK.finditer(text):
        out.append(html.escape(text[pos : match.start()]))
        url = match.group(1) or match.group(2)
        href = url if url.lower().startswith(("http", SITE_PREFIX)) else f"https://{url}"
        out.append(f'<a href="{html.escape(href)}">{html.escape(url)}</a>')
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return clean_html("".join(out).replace("\n", "<br>"))
