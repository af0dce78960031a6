"""Pure account rules: pseudonyms (normalisation, confusable skeleton, reserved names), suggestions, password
policy, addresses and codes, and what an owner sees of their account."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatserver.i18n import N_

PSEUDONYM_MIN = 3
PSEUDONYM_MAX = 24
PASSWORD_MIN = 10
PASSWORD_MAX = 256  # argon2 hashes any length; the cap stops a megabyte "password" from costing CPU
CODE_DIGITS = 6
DELETED_PSEUDONYM = N_("verwijderd account")

# Characters that reorder or hide text: bidi controls, zero-width, BOM, soft hyphen.
INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff\u00ad\u180e\u034f"
)

# A small confusables table in the spirit of Unicode TR39: look-alikes from
# Cyrillic, Greek and digits fold onto one Latin letter, applied before case folding.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "А": "a", "в": "b", "В": "b", "е": "e", "Е": "e", "ё": "e", "к": "k", "К": "k",
    "м": "m", "М": "m", "н": "h", "Н": "h", "о": "o", "О": "o", "р": "p", "Р": "p", "с": "c",
    "С": "c", "т": "t", "Т": "t", "у": "y", "У": "y", "х": "x", "Х": "x", "ѕ": "s", "Ѕ": "s",
    "і": "l", "І": "l", "ї": "l", "ј": "j", "Ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    # Greek
    "α": "a", "Α": "a", "β": "b", "Β": "b", "ε": "e", "Ε": "e", "η": "n", "Η": "h", "ι": "l",
    "Ι": "l", "κ": "k", "Κ": "k", "μ": "u", "Μ": "m", "ν": "v", "Ν": "n", "ο": "o", "Ο": "o",
    "ρ": "p", "Ρ": "p", "τ": "t", "Τ": "t", "υ": "u", "Υ": "y", "χ": "x", "Χ": "x", "Ζ": "z",
    # Latin and digit look-alikes
    "0": "o", "1": "l", "I": "l", "|": "l", "5": "s", "ı": "l", "ł": "l", "ß": "ss",
    "-": "_",
}  # fmt: skip
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))


@dataclass(frozen=True, slots=True)
class PseudonymError(ValueError):
    """A pseudonym that breaks a rule; ``reason`` is the Dutch explanation."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def _schema_letter(ch: str) -> bool:
    """A letter that a pseudonym in the API schema may hold: stable under NFKC, in the BMP, no Hangul jamo.

    Jamo compose with their neighbours under NFKC (two become one syllable), which would change the length.
    """
    code = ord(ch)
    if 0x1100 <= code <= 0x11FF or 0xA960 <= code <= 0xA97F or 0xD7B0 <= code <= 0xD7FF:
        return False
    return unicodedata.category(ch).startswith("L") and unicodedata.normalize("NFKC", ch) == ch


def _char_class(test: Callable[[str], bool]) -> str:
    """The characters of the BMP that pass ``test`` as a regular-expression class body (ECMA-262 and Python)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF or not test(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def esc(code: int) -> str:
        return chr(code) if chr(code).isascii() and chr(code).isalnum() else f"\\u{code:04x}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


_LETTERS = _char_class(_schema_letter)
# The pseudonyms the API takes, stated as the pattern its schema publishes and its decoder applies.
# Every name that matches passes normalise_pseudonym unchanged (a unit test holds the two together);
# forms are more lenient (NFKC first, so "Ａｎｎａ" becomes "Anna").
PSEUDONYM_PATTERN = f"^[{_LETTERS}0-9][{_LETTERS}0-9_-]{{{PSEUDONYM_MIN - 1},{PSEUDONYM_MAX - 1}}}$"


def normalise_pseudonym(raw: object) -> str:
    """NFKC, trimmed; raises PseudonymError with a Dutch reason when a rule is broken."""
    if not isinstance(raw, str):
        raise PseudonymError(N_("Kies een schuilnaam."))
    if any(ch in INVISIBLE for ch in raw):
        raise PseudonymError(
            N_("Een schuilnaam mag geen onzichtbare tekens of tekens die de leesrichting omdraaien bevatten.")
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in raw):
        raise PseudonymError(N_("Een schuilnaam mag geen stuur- of onzichtbare tekens bevatten."))
    name = unicodedata.normalize("NFKC", raw).strip()
    if len(name) < PSEUDONYM_MIN or len(name) > PSEUDONYM_MAX:
        raise PseudonymError(N_("Een schuilnaam is %d tot %d tekens lang.") % (PSEUDONYM_MIN, PSEUDONYM_MAX))
    for ch in name:
        if ch in "_-":
            continue
        category = unicodedata.category(ch)
        if category.startswith("L"):
            continue
        if category == "Nd" and ch.isascii():
            continue
        raise PseudonymError(N_("Een schuilnaam bestaat uit letters, cijfers, _ en -; geen spaties of andere tekens."))
    if name[0] in "_-":
        raise PseudonymError(N_("Een schuilnaam begint met een letter of cijfer."))
    return name


def skeleton(name: str) -> str:
    """The confusable skeleton: two names with the same skeleton cannot both exist."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(_CONFUSABLES.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    text = "".join(_CONFUSABLES.get(ch, ch) for ch in text)
    for seq, repl in _MULTI:
        text = text.replace(seq, repl)
    return text


def suggestions(name: str, count: int = 3) -> list[str]:
    """Free alternatives to offer when ``name`` is taken (the caller checks availability)."""
    base = name[: PSEUDONYM_MAX - 4].rstrip("_-") or "bezoeker"
    out: list[str] = []
    while len(out) < count:
        candidate = f"{base}{secrets.randbelow(900) + 100}"
        if candidate not in out:
            out.append(candidate)
    return out


GUEST_WORDS = (
    "Merel", "Vink", "Reiger", "Egel", "Otter", "Vos", "Das", "Zwaluw", "Eik", "Berk", "Wilg", "Linde",
    "Golf", "Duin", "Polder", "Wolk", "Ster", "Maan", "Beek", "Heide", "Kievit", "Meeuw", "Uil", "Spreeuw",
)  # fmt: skip


def guest_pseudonym() -> str:
    """A generated pseudonym for a guest, e.g. ``gast-Otter-4821``."""
    return f"gast-{secrets.choice(GUEST_WORDS)}-{secrets.randbelow(9000) + 1000}"


# The most common passwords of the public breach lists that reach ten characters.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890", "12345678910", "123456789a", "qwertyuiop", "1q2w3e4r5t", "password1", "password12",
        "password123", "password1234", "wachtwoord", "wachtwoord1", "wachtwoord12", "wachtwoord123",
        "welkom1234", "welkom12345", "welkomwelkom", "iloveyou12", "qwerty1234", "qwerty12345",
        "abcdefghij", "abc1234567", "0987654321", "1111111111", "0000000000", "1q2w3e4r5t6y",
        "zaq12wsxcde", "passw0rd123", "letmein123", "football123", "monkey12345", "dragon12345",
        "trustno1234", "sunshine123", "princess123", "qazwsxedc123", "aaaaaaaaaa", "asdfghjkl1",
        "geheim1234", "voetbal123", "ajax123456", "feyenoord1", "nederland1", "amsterdam1",
    }
)  # fmt: skip


def password_problem(password: object, pseudonym: str = "") -> str | None:
    """None when the password is acceptable, else the Dutch reason."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        return N_("Kies een wachtwoord van minstens %d tekens.") % PASSWORD_MIN
    if len(password) > PASSWORD_MAX:
        return N_("Een wachtwoord is hoogstens %d tekens lang.") % PASSWORD_MAX
    lowered = password.casefold()
    if lowered in COMMON_PASSWORDS:
        return N_("Dit wachtwoord staat op de lijst van veelgebruikte wachtwoorden. Kies een ander.")
    if len(set(password)) < 4:
        return N_("Dit wachtwoord is te eenvoudig. Kies een langere zin of meer verschillende tekens.")
    if pseudonym and pseudonym.casefold() in lowered:
        return N_("Je wachtwoord mag je schuilnaam niet bevatten.")
    return None


_SEP = "[ ().-]*"
_DIGIT = f"(?:[0-9]{_SEP})"
# The addresses and numbers the API takes (ASCII, the separators normalise_phone drops). Every match
# passes normalise_email / normalise_phone; the forms stay lenient.
EMAIL_PATTERN = (
    r"^ *[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+ *$"
)
EMAIL_MAX = 254
PHONE_PATTERN = (
    f"^{_SEP}(?:\\+{_SEP}{_DIGIT}{{8,15}}|0{_SEP}0{_SEP}{_DIGIT}{{8,15}}|0{_SEP}[1-9]{_SEP}{_DIGIT}{{5,12}})$"
)
PHONE_MAX = 40
CODE_PATTERN = f"^[0-9]{{{CODE_DIGITS}}}$"


def normalise_email(raw: object) -> str | None:
    """The canonical form of an e-mail address for hashing, or None when it is not one."""
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    if len(text) > 254 or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return None
    if any(ch.isspace() or ch in INVISIBLE or ch in '<>()[],;:\\"' for ch in text):
        return None
    return f"{local}@{domain}"


def normalise_phone(raw: object) -> str | None:
    """E.164-like digits (Dutch numbers get +31), or None when it is not a phone number."""
    if not isinstance(raw, str):
        return None
    text = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch not in " -().")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+31" + text[1:]
    if not text.startswith("+") or not text[1:].isdigit() or not text[1:].isascii():
        return None
    if not 8 <= len(text) - 1 <= 15:
        return None
    return text


def valid_code(raw: object) -> bool:
    return isinstance(raw, str) and len(raw) == CODE_DIGITS and raw.isascii() and raw.isdigit()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


# Fields that never leave the server: not in exports, not in logs, not on pages.
SECRET_FIELDS = ("password_hash", "totp_nonce", "recovery_hashes", "device_hashes")

# How long a WebSocket token lives (the session store issues it, the API says so).
WS_TOKEN_TTL_S = 60

# Names nobody may take: they would pass for the platform or its staff.
RESERVED_SKELETONS = frozenset(
    skeleton(n)
    for n in (
        "admin", "beheer", "beheerder", "moderator", "moderatie", "redactie", "staff", "medewerker", "systeem",
        "system", "verwijderd", "deleted", "support", "hulp", "crisis", "anoniem",
    )
)  # fmt: skip


def reserved_pseudonym(key: str) -> bool:
    """A skeleton that only the platform may use: guest names and the reserved words."""
    return key.startswith(("gast_", "gast")) or key in RESERVED_SKELETONS


def iso(value: object) -> str | None:
    """A stored time as ISO 8601 in UTC; anything else None."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """What the account's owner sees of their account (the API's ``/me`` and the profile page): no secrets."""
    validation = doc.get("validation") or {}
    out: dict[str, Any] = {
        "id": str(doc["_id"]),
        "pseudonym": doc.get("pseudonym", ""),
        "kind": doc.get("kind", "guest"),
        "validated": bool(doc.get("validated")),
        "validation_method": validation.get("method"),
        "created_at": iso(doc.get("created_at")),
    }
    if doc.get("kind") == "staff":
        out.update(
            role=doc.get("role"),
            flavours=sorted(doc.get("flavours") or ()),
            verified=bool(doc.get("verified")),
        )
    return out
