"""Configuration: defaults, and one clear line naming the variable for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.config import ConfigError, load_settings

SECRET = "s" * 40


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {"CHATSERVER_DATA_DIR": str(tmp_path), "CHATSERVER_SECRET_KEY": SECRET}
    base.update(extra)
    return base


def test_defaults_are_the_contract(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path))
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.redis_url is None and s.mongodb_url is None
    assert s.embedded_redis and s.embedded_mongodb
    assert s.data_dir == tmp_path.resolve()
    assert s.presence_expiry_s == 45


def test_urls_are_taken_as_given(tmp_path: Path) -> None:
    s = load_settings(
        env(tmp_path, CHATSERVER_REDIS_URL="redis://10.0.0.5:6379/0", CHATSERVER_MONGODB_URL="mongodb://db:27017/")
    )
    assert s.redis_url == "redis://10.0.0.5:6379/0"
    assert s.mongodb_url == "mongodb://db:27017/"
    assert not s.embedded_redis and not s.embedded_mongodb


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("CHATSERVER_PORT", "acht", "geen geheel getal"),
        ("CHATSERVER_PORT", "70000", "tussen 0 en 65535"),
        ("CHATSERVER_PORT", "-1", "tussen 0 en 65535"),
        ("CHATSERVER_REDIS_URL", "http://localhost:6379", "schema"),
        ("CHATSERVER_REDIS_URL", "redis://", "host ontbreekt"),
        ("CHATSERVER_MONGODB_URL", "postgres://x", "schema"),
        ("CHATSERVER_SECRET_KEY", "kort", "te kort"),
        ("CHATSERVER_HOST", "not a host", "geen geldig"),
        ("CHATSERVER_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("CHATSERVER_PUBLIC_ORIGINS", "ftp://x", "geen geldige origin"),
        ("CHATSERVER_FLAVOURS_DIR", "/nonexistent-dir-xyz", "bestaat niet"),
        ("CHATSERVER_PRESENCE_EXPIRY_S", "1", "tussen 3 en 600"),
    ],
)
def test_bad_value_names_the_variable(tmp_path: Path, variable: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env(tmp_path, **{variable: value}))
    message = str(info.value)
    assert message.startswith(f"{variable}: ")
    assert fragment in message
    assert "\n" not in message


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ConfigError, match=r"^CHATSERVER_DATA_DIR: "):
        load_settings({"CHATSERVER_DATA_DIR": str(file), "CHATSERVER_SECRET_KEY": SECRET})


def test_generated_secret_is_kept_across_restarts(tmp_path: Path) -> None:
    first = load_settings({"CHATSERVER_DATA_DIR": str(tmp_path)})
    second = load_settings({"CHATSERVER_DATA_DIR": str(tmp_path)})
    assert first.secret_key_generated
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_exact_origins_for_the_default_address(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path))
    origins = s.allowed_origins(("psychosenet.localhost",))
    assert "http://127.0.0.1:8000" in origins
    assert "http://localhost:8000" in origins
    assert "http://psychosenet.localhost:8000" in origins
    assert "http://127.0.0.1:8000.evil.example" not in origins
    assert "null" not in origins


def test_slow_client_timeouts_and_connection_caps(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path))
    assert (s.header_timeout_s, s.body_timeout_s, s.handshake_timeout_s) == (10, 30, 10)
    assert (s.max_connections_per_account, s.max_connections_per_address) == (128, 256)
    assert s.connection_cap_exempt == ("127.0.0.0/8", "::1/128")
    s = load_settings(
        env(
            tmp_path,
            CHATSERVER_HEADER_TIMEOUT_S="5",
            CHATSERVER_MAX_CONNECTIONS_PER_ADDRESS="0",
            CHATSERVER_CONNECTION_CAP_EXEMPT=" 10.0.0.7 , 192.168.1.0/24 ",
        )
    )
    assert s.header_timeout_s == 5 and s.max_connections_per_address == 0
    assert s.connection_cap_exempt == ("10.0.0.7/32", "192.168.1.0/24")
    assert load_settings(env(tmp_path, CHATSERVER_CONNECTION_CAP_EXEMPT="")).connection_cap_exempt == ()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHATSERVER_HEADER_TIMEOUT_S", "0"),
        ("CHATSERVER_BODY_TIMEOUT_S", "lang"),
        ("CHATSERVER_HANDSHAKE_TIMEOUT_S", "9999"),
        ("CHATSERVER_MAX_CONNECTIONS_PER_ACCOUNT", "-1"),
        ("CHATSERVER_CONNECTION_CAP_EXEMPT", "127.0.0.1,proxy.local"),
    ],
)
def test_bad_slow_client_settings_name_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env(tmp_path, **{variable: value}))
    assert info.value.variable == variable
