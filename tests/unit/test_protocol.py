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
from chatserver.protocol.codec import nesting_exceeds, valid_request_id
from chatserver.protocol.frames import MAX_NESTING_DEPTH

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


def _nested(depth: int, opener: bytes = b'{"a":', closer: bytes = b"}") -> bytes:
    return b'{"type":"ping","id":1,"x":' + opener * depth + b"1" + closer * depth + b"}"


def test_deep_nesting_is_refused_before_decoding() -> None:
    frame = _nested(10_000)
    assert len(frame) < MAX_FRAME_BYTES
    assert problem(frame) is DecodeProblem.TOO_DEEP
    assert problem(_nested(20_000, b"[", b"]")) is DecodeProblem.TOO_DEEP
    assert problem(b'{"a":' * 10_000) is DecodeProblem.TOO_DEEP  # never closed: refused all the same
    assert problem(b"[" * 60_000) is DecodeProblem.TOO_DEEP


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    assert nesting_exceeds(_nested(MAX_NESTING_DEPTH - 1)) is False
    assert nesting_exceeds(_nested(MAX_NESTING_DEPTH)) is True  # the outer object makes it one deeper
    decode_client_frame(_nested(MAX_NESTING_DEPTH - 1))
    wide = b'{"type":"ping","id":1,"x":[' + b"[]," * 10_000 + b"[]]}"
    decode_client_frame(wide)
    text = "{[" * 1400 + '\\"' + "]}" * 400
    raw = b'{"type":"publish","id":1,"channel":"room:a:b","client_msg_id":"a","body":{"text":"' + text.encode() + b'"}}'
    assert isinstance(decode_client_frame(raw), Publish)


def test_request_ids_outside_the_protocol_range_are_not_echoed() -> None:
    for rid, expected in ((2**53 - 1, 2**53 - 1), (2**53, None), (2**63, None), (-1, None), (0, 0)):
        with pytest.raises(FrameError) as info:
            decode_client_frame(b'{"type":"teleport","id":%d}' % rid)
        assert info.value.request_id == expected, rid
    assert valid_request_id(True) is None and valid_request_id(1.0) is None and valid_request_id(7) == 7


_hostile_parts = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b"\\", b":", b",", b'"a":', b"1e999999", b"-0", b"99999999999999999999999",
     b"\\ud800", b"\\u0000", b"\xff", b"\xed\xa0\x80", b"null", b"true", b'"type":"publish"', b'"id":', b" "]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_hostile_parts, max_size=200),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from([(b"{", b"}"), (b"[", b"]"), (b'{"a":', b"}"), (b'{"a":[', b"]}")]),
    st.booleans(),
)
def test_hostile_frames_never_raise_anything_but_frame_error(
    parts: list[bytes], depth: int, brackets: tuple[bytes, bytes], closed: bool
) -> None:
    opener, closer = brackets
    body = b"".join(parts)
    raw = b'{"type":"ping","id":1,"x":' + opener * depth + body + (closer * depth if closed else b"") + b"}"
    try:
        frame = decode_client_frame(raw[: MAX_FRAME_BYTES + 16])
    except FrameError as exc:
        assert exc.problem in DecodeProblem
        assert exc.request_id is None or 0 <= exc.request_id <= 2**53 - 1
        return
    assert frame_type(type(frame)) in {frame_type(cls) for cls in CLIENT_FRAME_TYPES}
