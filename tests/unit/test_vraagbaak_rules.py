"""The pure VraagBaak rules: the private link's stored hash and which staff see a question."""

from __future__ import annotations

from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.vraagbaak import ACTIVE_STATUSES, OUTCOME_TEXTS, STATUSES, TOKEN_RE, hash_token, may_see

STAFF = Actor(AccountId("s1"), "team", "staff", role="volunteer", flavours=frozenset({"psychosenet"}))
MEMBER = Actor(AccountId("m1"), "lid", "member")


def test_only_the_hash_of_the_private_token_is_kept() -> None:
    token = "x" * 43
    assert TOKEN_RE.match(token) and not TOKEN_RE.match("kort")
    assert hash_token(token) != token and len(hash_token(token)) == 64
    assert hash_token(token) == hash_token(token)


def test_staff_see_unrouted_questions_and_those_of_their_flavours() -> None:
    assert may_see(STAFF, {"flavour": None})
    assert may_see(STAFF, {"flavour": "psychosenet"})
    assert not may_see(STAFF, {"flavour": "proud2bme"})
    assert not may_see(MEMBER, {"flavour": None}) and not may_see(None, {"flavour": None})


def test_every_status_has_a_name_and_every_outcome_a_message() -> None:
    assert set(ACTIVE_STATUSES) <= set(STATUSES)
    assert set(OUTCOME_TEXTS) == set(STATUSES) - set(ACTIVE_STATUSES)
