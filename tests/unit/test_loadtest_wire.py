"""The load generator's WebSocket frame parser, handshake and client frames."""

from __future__ import annotations

import struct

import pytest
import wsproto
import wsproto.events as ev
from wsproto.frame_protocol import FrameProtocol

from loadtest.client import K_ACK, K_ERROR, K_EVENT, K_SUBSCRIBED, K_WELCOME, ChatDialect, SocketIODialect
from loadtest.wire import (
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FrameParser,
    WireError,
    accept_for,
    encode_client_frame,
    handshake_request,
    parse_handshake_response,
)


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + struct.pack("!H", n) + payload
    return bytes((first, 127)) + struct.pack("!Q", n) + payload


def collect() -> tuple[FrameParser, list[tuple[int, bytes]]]:
    got: list[tuple[int, bytes]] = []
    return FrameParser(lambda op, payload: got.append((op, payload))), got


def test_parser_reads_frames_of_every_length_class_split_at_every_byte() -> None:
    payloads = [b"", b"a" * 125, b"b" * 126, b"c" * 65535, b"d" * 70000]
    stream = b"".join(server_frame(OP_TEXT, p) for p in payloads)
    for chunk in (1, 7, 4096, len(stream)):
        parser, got = collect()
        for i in range(0, len(stream), chunk):
            parser.feed(stream[i : i + chunk])
        assert got == [(OP_TEXT, p) for p in payloads]


def test_parser_joins_fragments_with_a_control_frame_in_between() -> None:
    parser, got = collect()
    parser.feed(
        server_frame(OP_TEXT, b"hel", fin=False) + server_frame(OP_PING, b"x") + server_frame(0x0, b"lo", fin=True)
    )
    assert got == [(OP_PING, b"x"), (OP_TEXT, b"hello")]


def test_parser_refuses_masked_server_frames_and_orphan_continuations() -> None:
    parser, _ = collect()
    with pytest.raises(WireError):
        parser.feed(bytes((0x81, 0x81)) + b"\x00\x00\x00\x00a")
    parser, _ = collect()
    with pytest.raises(WireError):
        parser.feed(server_frame(0x0, b"late"))


def test_client_frames_are_masked_and_read_back_by_wsproto() -> None:
    proto = FrameProtocol(client=False, extensions=[])
    payload = "héllo wereld".encode() * 20
    proto.receive_bytes(encode_client_frame(OP_TEXT, payload) + encode_client_frame(OP_CLOSE, struct.pack("!H", 1000)))
    frames = list(proto.received_frames())
    assert frames[0].payload == payload.decode()
    assert frames[1].payload == (1000, "")


def test_handshake_request_is_accepted_by_wsproto_and_its_answer_checks_out() -> None:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    server = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
    server.receive_data(handshake_request("127.0.0.1:1", "/ws", key, {"Authorization": "Bearer abc"}))
    request = next(server.events())
    assert isinstance(request, ev.Request)
    assert request.target == "/ws"
    assert (b"authorization", b"Bearer abc") in request.extra_headers
    answer = server.send(ev.AcceptConnection())
    parse_handshake_response(answer, key)
    assert accept_for(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    with pytest.raises(WireError):
        parse_handshake_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", key)
    with pytest.raises(WireError):
        parse_handshake_response(answer.replace(accept_for(key).encode(), b"wrong"), key)


def test_chat_dialect_reads_the_frames_of_protocol_v1() -> None:
    d = ChatDialect()
    event = (
        b'{"type":"event","channel":"room:a:b","offset":7,"epoch":"e1","kind":"message",'
        b'"data":{"sender":"Merel","text":"hoi","role":null},"ts":1}'
    )
    assert d.parse(event)[:5] == (K_EVENT, "room:a:b", 7, "e1", "hoi")
    ack = b'{"type":"ack","id":4,"client_msg_id":"x-1","channel":"room:a:b","offset":8,"epoch":"e1"}'
    assert d.parse(ack)[:6] == (K_ACK, "room:a:b", 8, "e1", "x-1", 4)
    sub = (
        b'{"type":"subscribed","id":2,"channel":"room:a:b","position":{"offset":3,"epoch":"e1"},"presence":{"count":1}}'
    )
    assert d.parse(sub)[:6] == (K_SUBSCRIBED, "room:a:b", 3, "e1", "", 2)
    err = b'{"type":"error","code":4204,"reason":"te snel","id":4,"retry_after_ms":120}'
    assert d.parse(err) == (K_ERROR, "", 4204, "", "te snel", 4, 120)
    welcome = (
        b'{"type":"welcome","v":1,"connection_id":"c","pseudonym":"Merel","limits":{"max_frame_bytes":65536,'
        b'"max_text_chars":4000,"max_subscriptions":100,"publish_per_s":50.0,"publish_burst":100,'
        b'"heartbeat_s":20.0,"idle_timeout_s":60.0}}'
    )
    assert d.parse(welcome)[0] == K_WELCOME


def test_socketio_dialect_answers_pings_and_reads_events_and_acks() -> None:
    d = SocketIODialect()
    assert d.answer(b"2") == b"3"
    assert d.answer(b'0{"sid":"x"}') == b"40"
    assert d.parse(b'42["event",{"channel":"r","offset":5,"text":"hoi"}]')[:5] == (K_EVENT, "r", 5, "", "hoi")
    assert d.parse(b'437[{"ok":true,"offset":9}]')[0:3] == (K_ACK, "", 9)
    assert d.parse(b'431[{"ok":true,"channel":"r"}]')[0] == K_SUBSCRIBED
    assert d.publish(3, "r", "m-1", "hoi").startswith(b'423["publish",')
