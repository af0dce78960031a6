"""The browser's live client (static/js/live.js) against the one catalogue of codes (chatserver/protocol/codes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatserver.protocol.codes import (
    APPLICATION_RANGE,
    RECONNECT_RANGE,
    RETRYABLE_ERRORS,
    STOP_RANGE,
    CloseCode,
    ErrorCode,
)

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"
LIVE_JS = STATIC_JS / "live.js"
OPENS_SOCKET = re.compile(r"new\s+WebSocket\s*\(")
# `4100: "stop",` or, for a text marked for translation, `4100: N_("Je sessie …"),`
ENTRY = re.compile(r'^\s*(\d+)\s*:\s*(?:N_\()?"([^"]*)"\)?\s*,?\s*(?://.*)?$')


def table(name: str) -> dict[int, str]:
    """The object literal between `// BEGIN <name>` and `// END <name>` in live.js, as code → value."""
    text = LIVE_JS.read_text(encoding="utf-8")
    match = re.search(rf"^\s*// BEGIN {name}\b.*?$(.*?)^\s*// END {name}\b", text, re.MULTILINE | re.DOTALL)
    assert match, f"live.js has no table between // BEGIN {name} and // END {name}"
    body = match.group(1)
    assert re.search(rf"\bvar {name} = \{{", body), f"the {name} table is not `var {name} = {{…}}`"
    entries: dict[int, str] = {}
    for line in body.splitlines():
        found = ENTRY.match(line)
        if found:
            code = int(found.group(1))
            assert code not in entries, f"{name}: {code} appears twice"
            entries[code] = found.group(2)
    assert entries, f"the {name} table is empty"
    return entries


def test_every_close_code_is_in_the_table_and_nothing_else() -> None:
    assert set(table("CLOSE_CODES")) == {int(code) for code in CloseCode}


@pytest.mark.parametrize("code", list(CloseCode), ids=lambda c: c.name)
def test_close_code_action_follows_its_range(code: CloseCode) -> None:
    action = table("CLOSE_CODES")[int(code)]
    if code in RECONNECT_RANGE:
        assert action == "reconnect"
    else:
        assert code in STOP_RANGE
        assert action == "stop"


def test_every_stop_code_has_a_dutch_text_for_the_person() -> None:
    texts = table("STOP_TEXTS")
    stops = {int(code) for code in CloseCode if code in STOP_RANGE}
    assert set(texts) == stops
    assert all(text.strip().endswith(".") for text in texts.values()), "each text is a whole sentence"


def test_error_codes_are_in_the_table_and_only_the_retryable_ones_are_retried() -> None:
    errors = table("ERROR_CODES")
    assert set(errors) == {int(code) for code in ErrorCode}
    assert all(code in APPLICATION_RANGE for code in errors)
    assert {code for code, action in errors.items() if action == "retry"} == {int(c) for c in RETRYABLE_ERRORS}
    assert set(errors.values()) == {"retry", "error"}


def test_only_live_js_opens_a_websocket() -> None:
    scripts = sorted(STATIC_JS.rglob("*.js"))
    assert LIVE_JS in scripts
    opening = [p.relative_to(STATIC_JS).as_posix() for p in scripts if OPENS_SOCKET.search(p.read_text())]
    assert opening == ["live.js"]
