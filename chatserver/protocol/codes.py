"""The one catalogue of close codes and error codes of the live protocol (v1).

Ranges carry meaning for the client:

* 4000–4099: the server closed the connection for a reason that is not the
  client's fault; reconnect (with back-off) and resume from the last position.
* 4100–4199: do not reconnect without user action (log in again, fix the client).
* 4200–4299: application errors sent in ``error`` frames; the connection stays open.
"""

from __future__ import annotations

from enum import IntEnum

from chatserver.i18n import N_

RECONNECT_RANGE = range(4000, 4100)
STOP_RANGE = range(4100, 4200)
APPLICATION_RANGE = range(4200, 4300)


class CloseCode(IntEnum):
    """WebSocket close codes the server sends."""

    SERVICE_RESTART = 4000
    SLOW_CONSUMER = 4001
    UNAVAILABLE = 4002
    IDLE_TIMEOUT = 4003
    SESSION_ENDED = 4100
    FORBIDDEN_ORIGIN = 4101
    PROTOCOL_ERROR = 4102
    MESSAGE_TOO_BIG = 4103
    RATE_LIMIT_ABUSE = 4104
    BANNED = 4105
    UNSUPPORTED_VERSION = 4106
    TOO_MANY_CONNECTIONS = 4107


class ErrorCode(IntEnum):
    """Codes of ``error`` frames; the connection stays open."""

    BAD_REQUEST = 4200
    UNKNOWN_TYPE = 4201
    FORBIDDEN = 4202
    NOT_SUBSCRIBED = 4203
    RATE_LIMITED = 4204
    UNAVAILABLE = 4205
    INVALID_MESSAGE = 4206
    UNAUTHENTICATED = 4207
    TOO_MANY_SUBSCRIPTIONS = 4208
    ALREADY_AUTHENTICATED = 4209
    REFUSED = 4210


CLOSE_REASONS: dict[CloseCode, str] = {
    CloseCode.SERVICE_RESTART: N_("De server start opnieuw; je wordt zo weer verbonden."),
    CloseCode.SLOW_CONSUMER: N_("De verbinding liep achter; je wordt opnieuw verbonden."),
    CloseCode.UNAVAILABLE: N_("De dienst is tijdelijk niet beschikbaar; je wordt opnieuw verbonden."),
    CloseCode.IDLE_TIMEOUT: N_("Geen teken van leven ontvangen; je wordt opnieuw verbonden."),
    CloseCode.SESSION_ENDED: N_("Je sessie is beëindigd; log opnieuw in."),
    CloseCode.FORBIDDEN_ORIGIN: N_("Verbinding vanaf deze website is niet toegestaan."),
    CloseCode.PROTOCOL_ERROR: N_("Ongeldig bericht ontvangen; de verbinding is gesloten."),
    CloseCode.MESSAGE_TOO_BIG: N_("Bericht te groot; de verbinding is gesloten."),
    CloseCode.RATE_LIMIT_ABUSE: N_("Te veel berichten in korte tijd; de verbinding is gesloten."),
    CloseCode.BANNED: N_("Je hebt geen toegang meer tot de chat."),
    CloseCode.UNSUPPORTED_VERSION: N_("Deze protocolversie wordt niet ondersteund; ververs de pagina."),
    CloseCode.TOO_MANY_CONNECTIONS: N_("Te veel chatverbindingen tegelijk; sluit andere vensters."),
}

ERROR_REASONS: dict[ErrorCode, str] = {
    ErrorCode.BAD_REQUEST: N_("Ongeldig verzoek."),
    ErrorCode.UNKNOWN_TYPE: N_("Onbekend berichttype."),
    ErrorCode.FORBIDDEN: N_("Dit kanaal bestaat niet of je hebt er geen toegang toe."),
    ErrorCode.NOT_SUBSCRIBED: N_("Je bent niet aangemeld bij dit kanaal."),
    ErrorCode.RATE_LIMITED: N_("Je stuurt te snel berichten; wacht even."),
    ErrorCode.UNAVAILABLE: N_("Opslaan lukt nu niet; probeer het zo opnieuw."),
    ErrorCode.INVALID_MESSAGE: N_("Dit bericht kan niet worden verstuurd (leeg of te lang)."),
    ErrorCode.UNAUTHENTICATED: N_("Log eerst in."),
    ErrorCode.TOO_MANY_SUBSCRIPTIONS: N_("Je volgt te veel kanalen tegelijk."),
    ErrorCode.ALREADY_AUTHENTICATED: N_("Je bent al ingelogd op deze verbinding."),
    ErrorCode.REFUSED: N_("Dit bericht kan hier niet worden geplaatst; pas het aan."),
}

RETRYABLE_ERRORS: frozenset[ErrorCode] = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE})


def should_reconnect(code: int) -> bool:
    """Whether a client should reconnect and resume after this close code.

    Standard codes (1000–2999): reconnect after 1001 (going away), 1006
    (abnormal) and 1011–1014 (server trouble); stop on the others.
    """
    if code in RECONNECT_RANGE:
        return True
    if code in STOP_RANGE:
        return False
    return code in (1001, 1006, 1011, 1012, 1013, 1014)
