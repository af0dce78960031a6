"""The development outbox: no address stays on disk after its code expired, and staff see it masked."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatserver.adapters.mail import Mailer, mask_address, mask_message
from chatserver.cli import config_warnings
from chatserver.config import load_settings

ADDRESS = "iemand.bijzonder@example.org"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_an_outbox_file_is_deleted_when_its_code_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    mailer = Mailer(None, "noreply@localhost", tmp_path, ttl_s=15 * 60, clock=clock)
    await mailer.send(ADDRESS, "Je code", "Je code is 123456.")
    assert len(list(tmp_path.glob("*.eml"))) == 1
    clock.now += timedelta(minutes=14)
    assert mailer.sweep() == 0 and len(mailer.outbox()) == 1
    clock.now += timedelta(minutes=1)
    assert mailer.outbox() == []  # listing sweeps first: an expired code is never shown
    assert list(tmp_path.glob("*.eml")) == []


async def test_the_timer_deletes_the_file_without_a_sweep(tmp_path: Path) -> None:
    mailer = Mailer(None, "noreply@localhost", tmp_path, ttl_s=0)
    await mailer.send_text("+31612345678", "Code: 654321")
    assert len(list(tmp_path.glob("*.sms.eml"))) == 1
    async with asyncio.timeout(5):
        while list(tmp_path.glob("*.eml")):
            await asyncio.sleep(0.1)


def test_the_sweep_at_start_removes_what_an_earlier_run_left(tmp_path: Path) -> None:
    clock = FakeClock()
    expired = tmp_path / f"20261207T080000000000-abcd1234-until{int(clock.now.timestamp()) - 1}.eml"
    current = tmp_path / f"20261207T085900000000-abcd1235-until{int(clock.now.timestamp()) + 60}.eml"
    legacy = tmp_path / "20261206T080000000000-abcd1236.eml"  # written before names carried their end
    for path in (expired, current, legacy):
        path.write_text(f"To: {ADDRESS}\n\nJe code is 111111.\n")
    old = (clock.now - timedelta(hours=1)).timestamp()
    os.utime(legacy, (old, old))
    assert Mailer(None, "noreply@localhost", tmp_path, clock=clock).sweep() == 2
    assert [p.name for p in tmp_path.glob("*.eml")] == [current.name]


async def test_the_backoffice_view_masks_the_address(tmp_path: Path) -> None:
    mailer = Mailer(None, "noreply@localhost", tmp_path)
    await mailer.send(ADDRESS, "Je code", f"De code voor {ADDRESS} is 123456.")
    [(name, text)] = mailer.outbox()
    assert ADDRESS not in text and "i***@e***.org" in text
    assert "123456" in text  # the code itself stays readable for development
    assert ADDRESS in (tmp_path / name).read_text()  # the file itself is the message


def test_masks() -> None:
    assert mask_address("anna@gmail.com") == "a***@g***.com"
    assert mask_address("+31612345678") == "+31*******78"
    assert mask_message("From: x\nTo: 0612345678\n\nhoi") == "From: x\nTo: 0*******78\n\nhoi"


@pytest.mark.parametrize(
    ("env", "warned"),
    [
        ({"CHATSERVER_PUBLIC_ORIGINS": "https://chat.example.org"}, True),
        ({"CHATSERVER_PUBLIC_ORIGINS": "https://chat.example.org", "CHATSERVER_SMTP_URL": "smtp://mail:587"}, False),
        ({}, False),
    ],
)
def test_check_config_warns_about_the_outbox_with_a_public_origin(
    tmp_path: Path, env: dict[str, str], warned: bool
) -> None:
    settings = load_settings({"CHATSERVER_DATA_DIR": str(tmp_path), "CHATSERVER_SECRET_KEY": "k" * 40, **env})
    warnings = config_warnings(settings)
    assert any("outbox" in w for w in warnings) is warned
