"""Outgoing mail: SMTP when ``CHATSERVER_SMTP_URL`` is set, else one ``.eml`` per message in the outbox.

The recipient's address exists only in the message itself: it is never stored
elsewhere or logged. Text messages (phone codes) have no gateway here and
always land in the outbox as ``.sms.eml`` files for an operator to forward.

The outbox is for development: every message carries a code that expires, and
its file is deleted when the code does (a timer per file, and a sweep at start,
at every write and before every listing, by the injected clock), so no address
stays on disk. The backoffice view masks the addresses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("chatserver.mail")

SMTP_TIMEOUT_S = 15.0
MAX_OUTBOX_LIST = 200
# How long an outbox file lives: the validity of the codes the mails carry (validation and recovery: 15 min).
OUTBOX_TTL_S = 15 * 60
# The file name carries its end: <written>-<random>-until<unix seconds>.eml
_UNTIL = re.compile(r"-until(\d{1,12})\.")
_TO = re.compile(r"^To: *(.+?) *$", re.MULTILINE)

Clock = Callable[[], datetime]


def mask_address(address: str) -> str:
    """An e-mail address or phone number masked for a staff screen: ``m***@e***.org``, ``+31*******78``."""
    local, at, domain = address.partition("@")
    if at:
        name, dot, tld = domain.rpartition(".")
        return f"{local[:1]}***@{name[:1]}***{dot}{tld}" if dot else f"{local[:1]}***@***"
    digits = address.replace(" ", "")
    keep = 3 if digits.startswith("+") else 1
    return digits[:keep] + "*" * max(len(digits) - keep - 2, 3) + digits[-2:]


def mask_message(text: str) -> str:
    """The raw message with its recipient's address masked wherever it occurs (header and body)."""
    match = _TO.search(text)
    if match is None:
        return text
    address = match.group(1)
    return text.replace(address, mask_address(address))


class Mailer:
    def __init__(
        self,
        smtp_url: str | None,
        mail_from: str,
        outbox_dir: Path,
        *,
        ttl_s: int = OUTBOX_TTL_S,
        clock: Clock | None = None,
    ) -> None:
        self.smtp_url = smtp_url
        self.mail_from = mail_from
        self.outbox_dir = outbox_dir
        self.ttl_s = ttl_s
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.mail_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain="gem.invalid")
        msg.set_content(body)
        return msg

    async def send(self, to: str, subject: str, body: str) -> None:
        msg = self._message(to, subject, body)
        if self.smtp_url:
            await asyncio.to_thread(self._send_smtp, msg)
            log.info("mail sent via SMTP (subject %r)", subject)
        else:
            name = await asyncio.to_thread(self._write_outbox, msg, ".eml")
            self._delete_later(self.outbox_dir / name)
            log.info("mail written to the outbox as %s", name)

    async def send_text(self, to_phone: str, body: str) -> None:
        msg = self._message(to_phone, "SMS", body)
        name = await asyncio.to_thread(self._write_outbox, msg, ".sms.eml")
        self._delete_later(self.outbox_dir / name)
        log.info("text message written to the outbox as %s", name)

    def _write_outbox(self, msg: EmailMessage, suffix: str) -> str:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        self.sweep()
        now = self.clock()
        until = now + timedelta(seconds=self.ttl_s)
        name = f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}-until{int(until.timestamp())}{suffix}"
        path = self.outbox_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(msg))
        return name

    def _delete_later(self, path: Path) -> None:
        """A timer for this file; a process that stops before it fires leaves the file to the sweep at start."""
        asyncio.get_running_loop().call_later(self.ttl_s + 1, self._expire, path)

    def _expire(self, path: Path) -> None:
        try:
            if self._expired(path, self.clock()):
                path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("outbox file not removed (%s)", type(exc).__name__)

    def _expired(self, path: Path, now: datetime) -> bool:
        match = _UNTIL.search(path.name)
        if match is not None:
            return int(match.group(1)) <= now.timestamp()
        # Written before file names carried their end: by age.
        return path.stat().st_mtime + self.ttl_s <= now.timestamp()

    def sweep(self) -> int:
        """Delete every outbox file whose code has expired; how many were deleted."""
        if not self.outbox_dir.is_dir():
            return 0
        now = self.clock()
        removed = 0
        for path in self.outbox_dir.glob("*.eml"):
            try:
                if self._expired(path, now):
                    path.unlink(missing_ok=True)
                    removed += 1
            except OSError as exc:
                log.warning("outbox file not removed (%s)", type(exc).__name__)
        if removed:
            log.info("outbox: %d expired messages deleted", removed)
        return removed

    def _send_smtp(self, msg: EmailMessage) -> None:
        assert self.smtp_url is not None
        parts = urlsplit(self.smtp_url)
        host = parts.hostname or "localhost"
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if parts.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT_S, context=context)
        else:
            smtp = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT_S)
        with smtp:
            if parts.scheme == "smtp" and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(msg)

    def outbox(self) -> list[tuple[str, str]]:
        """(file name, text with addresses masked) of the newest unexpired outbox messages, newest first."""
        self.sweep()
        if not self.outbox_dir.is_dir():
            return []
        files = sorted(self.outbox_dir.glob("*.eml"), reverse=True)[:MAX_OUTBOX_LIST]
        out = []
        for f in files:
            try:
                out.append((f.name, mask_message(f.read_text(encoding="utf-8", errors="replace"))))
            except FileNotFoundError:  # expired meanwhile
                continue
        return out
