"""User text rendering: Markdown subset and plain text are cleaned; no script or handler survives."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.adapters.sanitizer import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, markdown_to_html, plain_to_html

MARKET_PATH = re.compile(r"/f/[a-z0-9-]+/markt/[a-z0-9-]+")  # the one kind of bare site path made a link


class Elements(HTMLParser):
    """Collects the elements and attributes a browser would build from the output."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(out: str) -> None:
    parser = Elements()
    parser.feed(out)
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            if name == "rel":
                continue
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name)
            if name == "href":
                href = value or ""
                assert href.lower().startswith(("http://", "https://", "mailto:")) or MARKET_PATH.fullmatch(href), href


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klik](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<div hx-get="/api/v1/me" hx-trigger="load">x</div>',
    "<svg/onload=alert(1)>",
    '"><script>alert(1)</script>',
    "{{ 7*7 }} {% raw %}",
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
]


@pytest.mark.parametrize("vector", XSS)
def test_markdown_neutralises(vector: str) -> None:
    assert_inert(markdown_to_html(vector))


@pytest.mark.parametrize("vector", XSS)
def test_plain_text_neutralises(vector: str) -> None:
    out = plain_to_html(vector)
    assert_inert(out)
    assert "<a " not in out


def test_markdown_subset_and_links() -> None:
    out = markdown_to_html("# Kop\n\n**vet** en _schuin_, zie www.113.nl\n\n> citaat\n\n- een\n- twee")
    assert "<h3>Kop</h3>" in out
    assert "<strong>vet</strong>" in out and "<em>schuin</em>" in out
    assert '<a href="http://www.113.nl" rel="nofollow ugc noopener noreferrer">' in out
    assert "<blockquote>" in out and "<li>een</li>" in out


def test_plain_links_and_newlines() -> None:
    out = plain_to_html("kijk op https://www.113.nl/chat.\nDoei <b>")
    assert (
        '<a href="https://www.113.nl/chat" rel="nofollow ugc noopener noreferrer">https://www.113.nl/chat</a>.' in out
    )
    assert "<br>" in out and "&lt;b&gt;" in out


MARKET_LINK = '<a href="/f/psychosenet/markt/rustpunt-app" rel="nofollow ugc noopener noreferrer">'


@pytest.mark.parametrize("render", [markdown_to_html, plain_to_html])
def test_a_bare_market_entry_path_becomes_a_link_and_nothing_like_it_does(render: Callable[[str], str]) -> None:
    out = render("Probeer /f/psychosenet/markt/rustpunt-app. Of (/f/psychosenet/markt/rustpunt-app)")
    assert out.count(MARKET_LINK + "/f/psychosenet/markt/rustpunt-app</a>") == 2
    for text in (
        "/f/psychosenet/markt/",  # the market itself, not an entry
        "/f/psychosenet/markt/rustpunt-app/ervaring",  # a page under an entry
        "/f/psychosenet/forum/t/1",  # other site paths stay text
        "a/f/psychosenet/markt/rustpunt-app",  # inside a word or path
        "/f/Psychosenet/markt/rustpunt-app",  # slugs are lower case
    ):
        assert "<a " not in render(text), text
    breaking_out = render('/f/psychosenet/markt/rustpunt-app"onclick="alert(1)')
    assert_inert(breaking_out)
    assert MARKET_LINK in breaking_out


def test_a_market_link_written_in_markdown_keeps_its_path_and_code_stays_code() -> None:
    out = markdown_to_html("Zie [Rustpunt](/f/psychosenet/markt/rustpunt-app) en `/f/psychosenet/markt/x`.")
    assert MARKET_LINK + "Rustpunt</a>" in out and "<code>/f/psychosenet/markt/x</code>" in out


@given(st.text(max_size=300))
def test_never_raises_and_output_is_inert(text: str) -> None:
    for out in (markdown_to_html(text), plain_to_html(text)):
        assert_inert(out)
