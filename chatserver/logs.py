"""Logging set-up: one line per event, no personal data.

uvicorn's access log is off (it prints client IP addresses); the request log
line of :mod:`chatserver.web.middleware` has method, path template and status
only. As a second line of defence a filter masks anything that looks like an
e-mail address, a phone number or an IP address.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d \-]{8,}\d(?![\w])")
_ALLOWED_IPS = ("127.0.0.1", "0.0.0.0")  # our own listen addresses, not personal data


def scrub(text: str) -> str:
    text = _EMAIL.sub("[e-mail]", text)
    text = _IPV4.sub(lambda m: m.group(0) if m.group(0) in _ALLOWED_IPS else "[ip]", text)
    text = _IPV6.sub("[ip]", text)
    return _PHONE.sub("[telefoon]", text)


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line (``CHATSERVER_LOG_FORMAT=json``): time, level, logger, message and, for an
    exception, its type and traceback. The message is scrubbed like the text format's; no other fields of the
    record are written (a ``extra=`` value could hold personal data)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLinesFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
