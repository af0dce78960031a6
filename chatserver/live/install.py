"""The live feature: builds the broker, chat service, hub and gateway, and runs them under the supervisor."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from chatserver.adapters.event_store import MongoEventStore
from chatserver.adapters.positions import RedisPositions
from chatserver.adapters.recent_lines import RedisRecentLines
from chatserver.adapters.redis_batch import EXTRAS_KEY as BATCH_KEY
from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_broker import AccountRateLimiter, PresenceStore, RedisBroker
from chatserver.domain.channels import ChannelResolvers
from chatserver.live.frontdoor import GATEWAY_STATE_KEY, TIMEOUTS_STATE_KEY, RequestTimeouts
from chatserver.live.gateway import ConnectionCaps, Gateway
from chatserver.live.hub import Hub
from chatserver.services.chat import ACCOUNT_PUBLISH_BURST, ACCOUNT_PUBLISH_PER_S, ChatService
from chatserver.web.feature import Feature

if TYPE_CHECKING:
    from chatserver.app import Services

RESOLVERS_KEY = "channel_resolvers"
CHAT_KEY = "chat"


def install(services: Services) -> Feature:
    settings = services.settings
    assert settings.redis_url is not None
    prefix = settings.redis_key_prefix
    resolvers: ChannelResolvers = services.extras.setdefault(RESOLVERS_KEY, ChannelResolvers())
    revoked = services.sessions.revoked_channel

    def live_key(channel: str) -> str:
        return f"{prefix}live:{channel}"

    state: dict[str, Gateway] = {}
    broker = RedisBroker(settings.redis_url, services.redis, fixed_channels=(revoked,))
    batch: AutoPipeline = services.extras.setdefault(BATCH_KEY, AutoPipeline(services.redis))
    limiter = AccountRateLimiter(services.redis, prefix, ACCOUNT_PUBLISH_PER_S, ACCOUNT_PUBLISH_BURST, batch)
    positions = RedisPositions(services.redis, services.db, batch, prefix)
    chat = ChatService(
        MongoEventStore(services.db), positions, broker, limiter, services.catalog, resolvers, live_key, services.clock
    )
    services.extras[CHAT_KEY] = chat

    async def start() -> None:
        await batch.preload(*limiter.HOT_SCRIPTS, *positions.HOT_SCRIPTS, *RedisRecentLines.HOT_SCRIPTS)
        hub = Hub(broker, chat, live_key, spawn=lambda coro: gateway.spawn(coro))
        hosts = tuple(host for flavour in services.catalog for host in flavour.hosts)
        gateway = Gateway(
            catalog=services.catalog,
            sessions=services.sessions,
            resolvers=resolvers,
            hub=hub,
            chat=chat,
            presence=PresenceStore(services.redis, prefix, settings.presence_expiry_s),
            allowed_origins=settings.allowed_origins(hosts),
            revoked_channel=revoked,
            caps=ConnectionCaps(
                handshake_timeout_s=settings.handshake_timeout_s,
                per_account=settings.max_connections_per_account,
                per_address=settings.max_connections_per_address,
                exempt=tuple(ipaddress.ip_network(n) for n in settings.connection_cap_exempt),
            ),
        )
        hub.on_system = gateway.on_system
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
