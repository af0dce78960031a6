"""What the reference peers say of themselves in protocol v1: one epoch, generous limits, one welcome."""

from __future__ import annotations

from chatserver.protocol import PROTOCOL_VERSION, Limits, Welcome, encode_frame

EPOCH = "peer"
LIMITS = Limits(
    max_frame_bytes=65536, max_text_chars=4000, max_subscriptions=100, publish_per_s=1e6, publish_burst=1000000,
    heartbeat_s=25.0, idle_timeout_s=60.0,
)  # fmt: skip
WELCOME = encode_frame(Welcome(v=PROTOCOL_VERSION, connection_id="peer", pseudonym="peer", limits=LIMITS))
