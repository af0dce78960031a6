"""Reference peer: a python-socketio server (aiohttp) with its Redis manager, for ``loadtest compare``.

What a typical Python chat server looks like: rooms through
``socketio.AsyncRedisManager`` on the same Valkey as ours, one ack per publish,
a per-room offset from a Redis counter so the load generator can check order
and loss. Persistence is OFF (nothing is written to a database), no
authentication. Run: ``python -m loadtest.peers.socketio_server --port P --redis-url URL``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import socketio
from aiohttp import web
from redis.asyncio import Redis

MAX_TEXT_CHARS = 2000


def build_app(redis_url: str, prefix: str) -> web.Application:
    manager = socketio.AsyncRedisManager(redis_url, channel=f"{prefix}socketio")
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager, cors_allowed_origins="*")
    redis = Redis.from_url(redis_url)

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def subscribe(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        room = str(data.get("channel", ""))
        if not room:
            return {"ok": False}
        await sio.enter_room(sid, room)
        return {"ok": True, "channel": room}

    @sio.event  # type: ignore[untyped-decorator,unused-ignore]
    async def publish(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        room = str(data.get("channel", ""))
        text = str(data.get("text", ""))[:MAX_TEXT_CHARS]
        if not room:
            return {"ok": False}
        offset = int(await redis.incr(f"{prefix}offset:{room}"))
        await sio.emit("event", {"channel": room, "offset": offset, "text": text}, room=room)
        return {"ok": True, "offset": offset}

    app = web.Application()
    sio.attach(app)

    async def close_redis(_app: web.Application) -> None:
        await redis.aclose()

    app.on_cleanup.append(close_redis)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default="ltsio:")
    args = parser.parse_args()
    if args.host != "127.0.0.1":
        parser.error("only 127.0.0.1")
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build_app(args.redis_url, args.prefix), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
