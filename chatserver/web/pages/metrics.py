"""``GET /metrics``: the process's service metrics in the Prometheus text format.

Open to the networks of ``CHATSERVER_METRICS_ALLOW`` (default: loopback only) and to anyone who sends
``Authorization: Bearer <CHATSERVER_METRICS_TOKEN>``; everyone else gets 403. Behind a reverse proxy every request
comes from the proxy's address: set a token then, or keep the proxy from forwarding ``/metrics``.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from chatserver import metrics
from chatserver.config import Settings
from chatserver.web.responses import services_of


def allowed(settings: Settings, request: Request) -> bool:
    """Whether the peer's address is in the allow-list, or the request carries the configured token."""
    token = settings.metrics_token
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    client = request.client
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client.host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in settings.metrics_allow)


async def metrics_page(request: Request) -> Response:
    settings = services_of(request).settings
    if not allowed(settings, request):
        headers = {"Cache-Control": "no-store"}
        if settings.metrics_token:
            headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        # i18n: for the scraper, not a person
        return PlainTextResponse("Geen toegang tot /metrics.\n", status_code=403, headers=headers)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


ROUTES = [Route("/metrics", metrics_page, methods=["GET"])]
