"""The live feature: starts the hub and the gateway over the chat service and broker the wiring built."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from chatserver import metrics
from chatserver.live.frontdoor import GATEWAY_STATE_KEY, TIMEOUTS_STATE_KEY, RequestTimeouts
from chatserver.live.gateway import ConnectionCaps, Gateway
from chatserver.live.hub import Hub
from chatserver.web.feature import Feature

if TYPE_CHECKING:
    from chatserver.container import Services


def install(services: Services) -> Feature:
    settings = services.settings
    chat = services.chat
    broker = services.broker
    state: dict[str, Gateway] = {}

    async def start() -> None:
        await services.batch.preload(*services.hot_scripts)
        hub = Hub(broker, chat, chat.live_key, spawn=lambda coro: gateway.spawn(coro))
        hosts = tuple(host for flavour in services.catalog for host in flavour.hosts)
        gateway = Gateway(
            catalog=services.catalog,
            sessions=services.sessions,
            resolvers=services.resolvers,
            hub=hub,
            chat=chat,
            presence=services.presence,
            allowed_origins=settings.allowed_origins(hosts),
            revoked_channel=services.sessions.revoked_channel,
            caps=ConnectionCaps(
                handshake_timeout_s=settings.handshake_timeout_s,
                per_account=settings.max_connections_per_account,
                per_address=settings.max_connections_per_address,
                exempt=tuple(ipaddress.ip_network(n) for n in settings.connection_cap_exempt),
            ),
        )
        hub.on_system = gateway.on_system
        # Read when /metrics is scraped: nothing on the live path.
        metrics.GAUGES.watch("chatserver_connections", "Live WebSocket connections", lambda: len(gateway.connections))
        metrics.GAUGES.watch("chatserver_subscriptions", "Channels subscribed in Redis", lambda: len(hub.channels))
        metrics.GAUGES.watch("chatserver_commit_queue", "Events waiting for a group commit", lambda: len(chat._queue))
        services.supervisor.spawn("live-pubsub", lambda: broker.run(hub.on_message, hub.on_reconnect))
        services.supervisor.spawn("live-commit", chat.run_committer)
        gateway.start()
        state["gateway"] = gateway
        services.lifespan_state[GATEWAY_STATE_KEY] = gateway
        timeouts = RequestTimeouts(settings.header_timeout_s, settings.body_timeout_s)
        services.lifespan_state[TIMEOUTS_STATE_KEY] = timeouts

    async def stop() -> None:
        gateway = state.pop("gateway", None)
        services.lifespan_state.pop(GATEWAY_STATE_KEY, None)
        if gateway is not None:
            await gateway.stop()
            await gateway.hub.broker.close()

    return Feature(startup=[start], shutdown=[stop])
