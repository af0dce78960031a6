"""The whole server on a three-node Redis Cluster: two server processes' worth of hubs
share rooms through sharded pub/sub, sessions and revocations cross between them,
and a client that reconnects to the other server recovers what it missed.
"""

from __future__ import annotations

from dataclasses import replace

import httpx

from chatserver.adapters.embedded import ValkeyCluster
from chatserver.config import Settings
from chatserver.protocol import Ack, Event, Subscribed, Welcome
from tests.conftest import run_server
from tests.live.conftest import member, session_for, ws

ROOM = "room:psychosenet:stemmen-horen"


async def test_two_servers_share_a_room_through_the_cluster(redis_cluster: ValkeyCluster, settings: Settings) -> None:
    on_cluster = replace(settings, redis_url=redis_cluster.url)
    async with run_server(on_cluster) as one, run_server(replace(on_cluster, port=0)) as two:
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"{one.url}/healthz")).json()
        assert health["redis"]["reachable"] is True
        assert health["redis"]["cluster_state"] == "ok"

        alice, bob = member("alice"), member("bob")
        ta, tb = await session_for(one, alice), await session_for(two, bob)
        async with ws(one, ta) as a, ws(two, tb) as b:
            await a.expect(Welcome)
            await b.expect(Welcome)
            assert isinstance(await a.subscribe(ROOM), Subscribed)
            assert isinstance(await b.subscribe(ROOM), Subscribed)
            acks = [await b.publish(ROOM, f"van twee {i}") for i in range(3)]
            assert all(isinstance(x, Ack) for x in acks)
            got = [await a.expect(Event) for _ in range(3)]
            assert [e.offset for e in got] == [x.offset for x in acks]
            assert [e.data["text"] for e in got] == [f"van twee {i}" for i in range(3)]
            last = got[-1]

        # Alice is away while Bob writes on; she comes back through the other server.
        async with ws(two, tb) as b:
            await b.expect(Welcome)
            missed = [await b.publish(ROOM, f"gemist {i}") for i in range(2)]
            assert all(isinstance(x, Ack) for x in missed)
        async with ws(two, ta) as a:
            await a.expect(Welcome)
            assert isinstance(await a.subscribe(ROOM, since={"offset": last.offset, "epoch": last.epoch}), Subscribed)
            replay = [await a.expect(Event) for _ in range(2)]
            assert [e.offset for e in replay] == [x.offset for x in missed]

            # A session ended on one server closes its socket on the other (SPUBLISH on the cluster).
            await one.services.sessions.revoke_token(ta)
            assert await a.closed_code() == 4100
