"""Outgoing mail: SMTP when ``CHATSERVER_SMTP_URL`` is set, else one ``.eml`` per message in the outbox.

The recipient's address exists only in the message itself: it is never stored
elsewhere or logged. Text messages (phone codes) have no gateway here and
always land in the outbox as ``.sms.eml`` files for an operator to forward.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("chatserver.mail")

SMTP_TIMEOUT_S = 15.0
MAX_OUTBOX_LIST = 200


class Mailer:
    def __init__(self, smtp_url: str | None, mail_from: str, outbox_dir: Path) -> None:
        self.smtp_url = smtp_url
        self.mail_from = mail_from
        self.outbox_dir = outbox_dir

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
            log.info("mail written to the outbox as %s", name)

    async def send_text(self, to_phone: str, body: str) -> None:
        msg = self._message(to_phone, "SMS", body)
        name = await asyncio.to_thread(self._write_outbox, msg, ".sms.eml")
        log.info("text message written to the outbox as %s", name)

    def _write_outbox(self, msg: EmailMessage, suffix: str) -> str:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{secrets.token_hex(4)}{suffix}"
        path = self.outbox_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(msg))
        return name

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
        """(file name, raw text) of the newest outbox messages, newest first."""
        if not self.outbox_dir.is_dir():
            return []
        files = sorted(self.outbox_dir.glob("*.eml"), reverse=True)[:MAX_OUTBOX_LIST]
        return [(f.name, f.read_text(encoding="utf-8", errors="replace")) for f in files]
