"""Validation without identity: a code sent to an e-mail address or phone (only its keyed hash is kept), a
referral code issued by staff, and recovery of an account by typing its address again."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any, Literal

import msgspec

from chatserver.domain import accounts as rules
from chatserver.domain.identity import Actor
from chatserver.i18n import DEFAULT_LANG, N_, translator
from chatserver.ports import ValidationHashTaken
from chatserver.services.identity.bans import Bans
from chatserver.services.identity.core import (
    CODE_MAX_ATTEMPTS,
    CODE_TTL_S,
    RECOVERY_TTL_S,
    REFERRAL_DAYS,
    IdentityError,
    Session,
    gone,
    log,
)

ValidationMethod = Literal["email", "phone"]

# Mail and text messages go out in the language the person chose when they asked (Dutch by default).
VALIDATION_MAIL = N_(
    "Je validatiecode is: {code}\n\nDe code is 15 minuten geldig. Heb je hier niet om gevraagd? "
    "Dan kun je dit bericht negeren.\n\nWe bewaren je adres niet: alleen een onomkeerbare vingerafdruk ervan."
)
VALIDATION_SUBJECT = N_("Je validatiecode")
VALIDATION_TEXT = N_("Je validatiecode is {code} (15 minuten geldig).")
RECOVERY_MAIL = N_(
    "Je herstelcode voor '{pseudonym}' is: {token}\n\nVul hem in op de pagina "
    "'account herstellen' en kies een nieuw wachtwoord. De code is 15 minuten geldig."
)
RECOVERY_SUBJECT = N_("Je account herstellen")
RECOVERY_TEXT = N_("Herstelcode: {token} (15 minuten geldig)")


def _code_invalid(detail: str) -> IdentityError:
    return IdentityError("code_invalid", 422, detail)


class Validation(Bans):
    def normalise_address(self, method: str, address: str) -> str:
        if method == "email":
            value = rules.normalise_email(address)
            if value is None:
                raise IdentityError(
                    "invalid_address", 422, N_("Vul een geldig e-mailadres in."), extra={"field": "email"}
                )
            return value
        if method == "phone":
            value = rules.normalise_phone(address)
            if value is None:
                raise IdentityError(
                    "invalid_address", 422, N_("Vul een geldig mobiel nummer in, bijvoorbeeld 06 12345678."),
                    extra={"field": "phone"},
                )  # fmt: skip
            return value
        raise IdentityError("invalid", 422, N_("Kies e-mail of telefoon."))

    # a code by e-mail or text message -------------------------------------------------------------------------------

    async def request_validation(
        self, actor: Actor, method: ValidationMethod, address: str, ip_subject: str, lang: str = DEFAULT_LANG
    ) -> None:
        if actor.is_guest:
            raise IdentityError("forbidden", 403, N_("Maak eerst een account aan; daarna kun je het valideren."))
        value = self.normalise_address(method, address)
        await self._limit("code_account", actor.account_id)
        await self._limit("code_ip", ip_subject)
        digest = self.address_hash(value)
        await self._check_bans([digest])
        owner = await self.repo.by_validation_hash(digest)
        if owner is not None and str(owner["_id"]) != actor.account_id:
            raise IdentityError(
                "address_in_use",
                409,
                N_(
                    "Dit adres hoort al bij een ander account. Ben je je wachtwoord vergeten? "
                    "Gebruik dan 'account herstellen'."
                ),
            )
        code = rules.new_code()
        record = {"hash": digest, "method": method, "code": self.keyed_hash("code", code), "attempts": 0}
        await self.tokens.put(f"vcode:{actor.account_id}", msgspec.json.encode(record), CODE_TTL_S * 1000)
        _ = translator(lang)
        if method == "email":
            await self.mailer.send(value, _(VALIDATION_SUBJECT), _(VALIDATION_MAIL).format(code=code))
        else:
            await self.mailer.send_text(value, _(VALIDATION_TEXT).format(code=code))
        log.info("validation code sent (%s)", method)

    async def confirm_validation(self, actor: Actor, code: str) -> Actor:
        await self._limit("confirm_account", actor.account_id)
        record = await self._matching_code(actor.account_id, code)
        await self._check_bans([record["hash"]])
        validation = {"method": record["method"], "hash": record["hash"], "at": self.clock()}
        try:
            doc = await self.repo.set_validation(actor.account_id, validation)
        except ValidationHashTaken:
            raise IdentityError("address_in_use", 409, N_("Dit adres hoort al bij een ander account.")) from None
        if doc is None:
            raise gone()
        await self._refresh_sessions(doc)
        log.info("account validated (%s)", record["method"])
        return self.actor_from_doc(doc, actor.session_id)

    async def _matching_code(self, account_id: str, code: str) -> dict[str, Any]:
        """The pending code's record when ``code`` is right (it is used up); a wrong one counts an attempt, and
        the last allowed attempt ends the code."""
        key = f"vcode:{account_id}"
        raw = await self.tokens.get(key)
        if raw is None:
            raise IdentityError(
                "code_expired", 422, N_("Deze code is verlopen of al gebruikt. Vraag een nieuwe code aan.")
            )
        record: dict[str, Any] = msgspec.json.decode(raw)
        expected = str(record.get("code", ""))
        if not rules.valid_code(code) or not hmac.compare_digest(expected, self.keyed_hash("code", str(code))):
            attempts = int(record.get("attempts", 0)) + 1
            if attempts >= CODE_MAX_ATTEMPTS:
                await self.tokens.delete(key)
                raise _code_invalid(N_("De code klopt niet. Vraag een nieuwe code aan."))
            record["attempts"] = attempts
            await self.tokens.replace(key, msgspec.json.encode(record))
            raise _code_invalid(N_("De code klopt niet. Controleer de cijfers en probeer het opnieuw."))
        await self.tokens.delete(key)
        return record

    # referral codes --------------------------------------------------------------------------------------------------

    async def create_referral(self, staff: Actor, flavour: str, days: int = REFERRAL_DAYS) -> str:
        if not staff.is_staff or not staff.verified or not staff.staff_in(flavour):
            raise IdentityError(
                "forbidden", 403, N_("Alleen geverifieerde medewerkers van deze community geven verwijscodes uit.")
            )
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        now = self.clock()
        await self.repo.add_referral(
            {
                "_id": self.keyed_hash("referral", code),
                "flavour": flavour,
                "created_by": staff.account_id,
                "created_at": now,
                "expires_at": now + timedelta(days=days),
                "used_by": None,
            }
        )
        return code

    async def redeem_referral(self, actor: Actor, code: str) -> Actor:
        if actor.is_guest:
            raise IdentityError(
                "forbidden", 403, N_("Maak eerst een account aan; daarna kun je de verwijscode invullen.")
            )
        await self._limit("confirm_account", actor.account_id)
        clean = str(code).strip().upper().replace(" ", "")
        used = await self.repo.use_referral(self.keyed_hash("referral", clean), actor.account_id, self.clock())
        if used is None:
            raise _code_invalid(N_("Deze verwijscode klopt niet, is verlopen of is al gebruikt."))
        doc = await self.repo.update(
            actor.account_id,
            {"validated": True, "referral": {"flavour": used.get("flavour"), "at": self.clock()}},
        )
        if doc is None:
            raise gone()
        if not doc.get("validation"):
            doc = await self.repo.update(actor.account_id, {"validation": {"method": "referral", "at": self.clock()}})
            assert doc is not None
        await self._refresh_sessions(doc)
        return self.actor_from_doc(doc, actor.session_id)

    # recovery --------------------------------------------------------------------------------------------------------

    async def request_recovery(
        self, method: ValidationMethod, address: str, ip_subject: str, lang: str = DEFAULT_LANG
    ) -> None:
        """Mails a recovery code when the address belongs to an account; answers the same either way."""
        value = self.normalise_address(method, address)
        await self._limit("recovery_ip", ip_subject)
        doc = await self.repo.by_validation_hash(self.address_hash(value))
        if doc is None or doc.get("kind") not in ("member", "staff"):
            return
        token = secrets.token_urlsafe(12)
        await self.tokens.put(
            f"recovery:{self.keyed_hash('recovery', token)}", str(doc["_id"]).encode(), RECOVERY_TTL_S * 1000
        )
        _ = translator(lang)
        if method == "email":
            body = _(RECOVERY_MAIL).format(pseudonym=doc.get("pseudonym", ""), token=token)
            await self.mailer.send(value, _(RECOVERY_SUBJECT), body)
        else:
            await self.mailer.send_text(value, _(RECOVERY_TEXT).format(token=token))
        log.info("recovery code sent (%s)", method)

    async def confirm_recovery(
        self, code: str, new_password: str, ip_subject: str, device_token: str = "", previous_token: str | None = None
    ) -> Session:
        await self._limit("recovery_ip", ip_subject)
        account_id = await self.tokens.take(f"recovery:{self.keyed_hash('recovery', str(code).strip())}")
        if account_id is None:
            raise _code_invalid(N_("Deze herstelcode klopt niet of is verlopen."))
        doc = await self.repo.get(account_id.decode())
        if doc is None or doc.get("kind") not in ("member", "staff"):
            raise _code_invalid(N_("Deze herstelcode klopt niet of is verlopen."))
        problem = rules.password_problem(new_password, str(doc.get("pseudonym", "")))
        if problem:
            raise IdentityError("weak_password", 422, problem, extra={"field": "password"})
        await self._check_bans([str(doc["_id"]), (doc.get("validation") or {}).get("hash") or ""])
        updated = await self.repo.update(str(doc["_id"]), {"password_hash": await self.passwords.hash(new_password)})
        assert updated is not None
        await self.sessions.revoke_all(str(doc["_id"]))
        if doc.get("kind") == "staff":
            raise IdentityError(
                "totp_required", 401, N_("Je wachtwoord is gewijzigd. Log in via de medewerkerspagina.")
            )
        return await self._start_session(updated, previous_token)
