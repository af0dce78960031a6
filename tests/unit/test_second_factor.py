"""The staff's second factor (chatserver.domain.second_factor): derived TOTP secrets and recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatserver.domain.second_factor import (
    RECOVERY_CODES,
    clean_code,
    code_at,
    code_matches,
    looks_like_recovery_code,
    new_recovery_codes,
    provisioning_uri,
    totp_secret,
)

KEY = b"k" * 32
NOW = datetime(2030, 1, 9, 11, 0, tzinfo=UTC)


def test_the_secret_follows_the_account_and_its_nonce() -> None:
    secret = totp_secret(KEY, "acc", "n1")
    assert secret == totp_secret(KEY, "acc", "n1")
    assert secret != totp_secret(KEY, "acc", "n2") != totp_secret(KEY, "other", "n1")
    assert secret != totp_secret(b"x" * 32, "acc", "n1")


def test_a_code_matches_its_step_and_the_next_not_later_ones() -> None:
    secret = totp_secret(KEY, "acc", "n1")
    code = code_at(secret, NOW)
    assert code_matches(secret, code, NOW)
    assert code_matches(secret, code, NOW + timedelta(seconds=30))
    assert not code_matches(secret, code, NOW + timedelta(minutes=5))


def test_the_provisioning_uri_names_the_issuer_and_the_pseudonym() -> None:
    uri = provisioning_uri(totp_secret(KEY, "acc", "n1"), "team-anna")
    assert uri.startswith("otpauth://totp/") and "team-anna" in uri and "issuer=GEM%20community" in uri


def test_recovery_codes_are_distinct_and_easy_to_read() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == RECOVERY_CODES
    assert all(looks_like_recovery_code(code) for code in codes)
    assert not any(ch in code for code in codes for ch in "01ilo")


def test_what_was_typed_is_cleaned_before_it_is_judged() -> None:
    assert clean_code(" 123 456 ") == "123456"
    assert clean_code(None) == ""
    assert looks_like_recovery_code(clean_code("ABCD-EFGH"))
    assert not looks_like_recovery_code("123456")
