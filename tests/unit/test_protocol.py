"""The protocol decoder refuses bad input with a typed problem, and the document matches the code."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.protocol import (
    CLIENT_FRAME_TYPES,
    MAX_FRAME_BYTES,
    SERVER_FRAME_TYPES,
    CloseCode,
    DecodeProblem,
    ErrorCode,
    FrameError,
    Publish,
    Subscribe,
    decode_client_frame,
    frame_type,
    should_reconnect,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def problem(data: bytes | str) -> DecodeProblem:
    with pytest.raises(FrameError) as info:
        decode_client_frame(data)
    return info.value.problem


def test_valid_subscribe_ignores_extra_fields_and_never_takes_identity() -> None:
    frame = decode_client_frame(
        b'{"type":"subscribe","id":7,"channel":"room:psychosenet:welkom","account_id":"x","role":"admin"}'
    )
    assert frame == Subscribe(id=7, channel="room:psychosenet:welkom")
    assert not hasattr(frame, "account_id")


def test_malformed_unknown_and_invalid_frames_are_told_apart() -> None:
    assert problem(b"{not json") is DecodeProblem.MALFORMED
    assert problem(b'{"type":"teleport","id":3}') is DecodeProblem.UNKNOWN_TYPE
    assert problem(b'{"type":"publish","id":3}') is DecodeProblem.INVALID
    assert problem(b'{"type":"subscribe","id":1,"channel":{"$gt":""}}') is DecodeProblem.INVALID
    assert problem(b'{"type":"subscribe","id":"1","channel":"room:a:b"}') is DecodeProblem.INVALID
    assert problem(b'{"type":"subscribe","id":-1,"channel":"room:a:b"}') is DecodeProblem.INVALID
    assert problem(b"[]") is DecodeProblem.INVALID


def test_request_id_is_kept_for_the_error_frame() -> None:
    with pytest.raises(FrameError) as info:
        decode_client_frame(b'{"type":"publish","id":42,"channel":"room:a:b"}')
    assert info.value.request_id == 42


def test_invalid_utf8_and_lone_surrogates_are_refused() -> None:
    assert problem(b'{"type":"typing","channel":"\xff\xfe"}') is DecodeProblem.NOT_UTF8
    assert problem(b'{"type":"typing","channel":"\\ud800"}') in (DecodeProblem.NOT_UTF8, DecodeProblem.MALFORMED)
    assert problem('{"type":"typing","channel":"\ud800"}') in (DecodeProblem.NOT_UTF8, DecodeProblem.MALFORMED)


def test_oversized_frame_is_refused_before_parsing() -> None:
    big = json.dumps(
        {"type": "publish", "id": 1, "channel": "c", "client_msg_id": "a", "body": {"text": "x" * MAX_FRAME_BYTES}}
    )
    assert problem(big.encode()) is DecodeProblem.TOO_BIG


def test_too_long_text_is_invalid() -> None:
    frame = {"type": "publish", "id": 1, "channel": "c", "client_msg_id": "a", "body": {"text": "x" * 4001}}
    assert problem(json.dumps(frame).encode()) is DecodeProblem.INVALID


def test_publish_decodes() -> None:
    raw = b'{"type":"publish","id":1,"channel":"room:a:b","client_msg_id":"abc-1","body":{"text":"hoi"}}'
    frame = decode_client_frame(raw)
    assert isinstance(frame, Publish) and frame.body.text == "hoi"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_decoder_never_raises_anything_but_frame_error_on_bytes(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_client_frame(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["hello", "subscribe", "unsubscribe", "publish", "typing", "ping", "x"]),
    st.dictionaries(st.sampled_from(["id", "channel", "since", "body", "client_msg_id", "token", "v"]), json_values),
)
def test_decoder_on_json_objects_returns_a_frame_or_frame_error(kind: str, fields: dict[str, object]) -> None:
    raw = msgspec.json.encode({"type": kind, **fields})
    try:
        frame = decode_client_frame(raw)
    except FrameError as exc:
        assert exc.problem in DecodeProblem
        return
    assert frame_type(type(frame)) == kind
    # What was accepted encodes to valid UTF-8 (safe for BSON and logs).
    msgspec.json.encode(frame).decode("utf-8")


def test_close_code_ranges_tell_whether_to_reconnect() -> None:
    for code in CloseCode:
        assert should_reconnect(code) == (4000 <= code < 4100)
    for err in ErrorCode:
        assert 4200 <= err < 4300


def test_protocol_document_lists_every_frame_and_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for cls in (*CLIENT_FRAME_TYPES, *SERVER_FRAME_TYPES):
        assert f'"type": "{frame_type(cls)}"' in text, frame_type(cls)
    table = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d{4}) \| `([A-Z_]+)` \|", text, re.M)}
    for code in (*CloseCode, *ErrorCode):
        assert table.get(int(code)) == code.name, code
    assert set(table) == {int(c) for c in (*CloseCode, *ErrorCode)}
