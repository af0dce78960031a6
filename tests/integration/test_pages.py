"""Every flavour is served by path and by host name, themed, with its name in the title."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.flavours import load_catalog

CATALOG = load_catalog(PROJECT_ROOT / "flavours")
SLUGS = sorted(f.slug for f in CATALOG)


def title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match, "page has no <title>"
    return html.unescape(match.group(1))


async def test_portal_lists_every_flavour(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="nl">' in response.text
    for flavour in CATALOG:
        assert f'href="/f/{flavour.slug}/"' in response.text
    assert "113" in response.text


@pytest.mark.parametrize("slug", SLUGS)
async def test_flavour_home_by_path(client: httpx.AsyncClient, slug: str) -> None:
    flavour = CATALOG.get(slug)
    assert flavour is not None
    response = await client.get(f"/f/{slug}/")
    assert response.status_code == 200
    assert flavour.name in title_of(response.text)
    assert f"--primary: {flavour.theme.primary}" in response.text
    assert 'href="#main"' in response.text
    assert "data-quick-exit" in response.text
    assert f'href="/f/{slug}/hulp"' in response.text


@pytest.mark.parametrize("slug", SLUGS)
async def test_flavour_home_by_host_name(client: httpx.AsyncClient, slug: str) -> None:
    flavour = CATALOG.get(slug)
    assert flavour is not None
    response = await client.get("/", headers={"Host": flavour.hosts[0]})
    assert response.status_code == 200
    assert flavour.name in title_of(response.text)
    assert 'href="/hulp"' in response.text
    help_page = await client.get("/hulp", headers={"Host": flavour.hosts[0]})
    assert help_page.status_code == 200
    assert flavour.name in title_of(help_page.text)


async def test_flavour_without_slash_redirects(client: httpx.AsyncClient) -> None:
    response = await client.get("/f/psychosenet")
    assert response.status_code == 308
    assert response.headers["location"].endswith("/f/psychosenet/")


async def test_unknown_flavour_is_a_dutch_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/f/bestaat-niet/")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("path", ["/hulp", "/privacy", "/f/trauma/hulp", "/f/trauma/privacy"])
async def test_help_and_privacy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "113" in response.text


async def test_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'nonce="{nonce.group(1)}"' in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_pages_make_no_third_party_requests(client: httpx.AsyncClient) -> None:
    for path in ["/", "/f/proud2bme/", "/hulp"]:
        html = (await client.get(path)).text
        for attr in re.findall(r'(?:src|href)="(https?://[^"]+)"', html):
            # Only plain links (crisis lines, quick exit) may point elsewhere; nothing is loaded from there.
            assert not re.search(rf'<(?:script|link|img)[^>]+(?:src|href)="{re.escape(attr)}"', html), attr


async def test_static_htmx_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]
