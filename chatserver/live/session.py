"""The per-connection state machine of the live protocol: pure, no I/O, time passed in.

The gateway decodes a frame and asks :meth:`Session.on_frame` what to do; the
session answers with a :class:`Step` (reply, close, or work for the gateway)
and never awaits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from chatserver.protocol import (
    ERROR_REASONS,
    PROTOCOL_VERSION,
    ClientFrame,
    CloseCode,
    Error,
    ErrorCode,
    Hello,
    Ping,
    Pong,
    Publish,
    ServerFrame,
    Subscribe,
    Typing,
    Unsubscribe,
    valid_request_id,
)

PUBLISH_PER_S = 50.0
PUBLISH_BURST = 100
TYPING_INTERVAL_S = 3.0
MAX_SUBSCRIPTIONS = 100
ERRORS_BEFORE_CLOSE = 50
ERROR_WINDOW_S = 10.0
# Refusals that never count towards RATE_LIMIT_ABUSE: they are caused by the server, not the client.
NOT_ABUSE = frozenset({int(ErrorCode.UNAVAILABLE)})
# Publishes already on their way when a 4204 went out cannot have heeded it: within this time after the
# first 4204 following a quiet spell, refusals of new messages do not count towards RATE_LIMIT_ABUSE (a
# pipelined burst). Advice kept per message for at most this many messages in flight.
IN_FLIGHT_GRACE_S = 0.5
MAX_ADVISED = 1000


class State(Enum):
    AWAITING_AUTH = "awaiting_auth"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; ``take`` says whether one was available."""

    rate: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate, burst, burst, now)

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def retry_after_ms(self) -> int:
        return max(1, int((1.0 - self.tokens) / self.rate * 1000) + 1)


class Work(Enum):
    """What the gateway has to do (asynchronously) for a frame."""

    AUTHENTICATE = "authenticate"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PUBLISH = "publish"
    TYPING = "typing"


@dataclass(frozen=True, slots=True)
class Step:
    reply: ServerFrame | None = None
    close: CloseCode | None = None
    work: Work | None = None
    frame: ClientFrame | None = None


def error_frame(
    code: ErrorCode, request_id: int | None = None, channel: str | None = None, retry_after_ms: int | None = None
) -> Error:
    return Error(
        code=int(code),
        reason=ERROR_REASONS[code],
        id=valid_request_id(request_id),
        channel=channel,
        retry_after_ms=retry_after_ms,
    )


@dataclass(slots=True)
class Session:
    connection_id: str
    opened_at: float
    publish_per_s: float = PUBLISH_PER_S
    publish_burst: int = PUBLISH_BURST
    state: State = State.AWAITING_AUTH
    channels: set[str] = field(default_factory=set)
    last_seen: float = 0.0
    bucket: TokenBucket | None = None
    typing_sent: dict[str, float] = field(default_factory=dict)
    errors: list[float] = field(default_factory=list)
    authenticating: bool = False
    # 4204 advice: per client message id when to retry it, for the connection when to publish again
    # (``retry_at``), when the current run of refusals began (``told_at``) and the last refusal.
    advised: dict[str, float] = field(default_factory=dict)
    retry_at: float = 0.0
    told_at: float = 0.0
    refused_at: float = -1.0
    grace_used: int = 0

    def __post_init__(self) -> None:
        self.last_seen = self.opened_at
        self.bucket = TokenBucket.full(self.publish_per_s, self.publish_burst, self.opened_at)

    def authenticated(self) -> None:
        self.state = State.OPEN
        self.authenticating = False

    def error(self, frame: Error, now: float, client_msg_id: str | None = None) -> Step:
        """Answer with an error frame, closing when errors come too fast (abuse).

        ``UNAVAILABLE`` is the server's own trouble (Redis or the database away), not the client's:
        a client that retries after ``retry_after_ms`` as documented must never be closed for it,
        nor for ``RATE_LIMITED`` when it waited as told (see ``_heeded``).
        """
        if frame.code in NOT_ABUSE:
            return Step(reply=frame)
        if frame.code == ErrorCode.RATE_LIMITED and self._heeded(now, frame.retry_after_ms or 0, client_msg_id):
            return Step(reply=frame)
        self.errors = [t for t in self.errors if now - t < ERROR_WINDOW_S]
        self.errors.append(now)
        if len(self.errors) > ERRORS_BEFORE_CLOSE:
            return Step(close=CloseCode.RATE_LIMIT_ABUSE)
        return Step(reply=frame)

    def _heeded(self, now: float, retry_after_ms: int, client_msg_id: str | None) -> bool:
        """Whether a 4204 at ``now`` refuses a client that waited as told (only a client that does not is abusive).

        A client that publishes as fast as it may, or flushes many messages at once, is refused now and
        then and retries each message after its ``retry_after_ms``: that is the documented behaviour,
        never a reason to close. What counts: a message retried before its advice, and new messages
        that keep coming while the connection was told to wait (beyond those already on their way).
        """
        # A new run of refusals: the connection is past every advice, and either it was quiet for a moment or it
        # has sent again every message it was told to retry (a client that waits for its answers before the next
        # batch). A flood that keeps sending new messages never catches up with its advice.
        if now >= self.retry_at and (now - self.refused_at >= IN_FLIGHT_GRACE_S or not self.advised):
            self.told_at = now
            self.grace_used = 0
        self.refused_at = now
        advised = self.advised.get(client_msg_id) if client_msg_id is not None else None
        if advised is not None:
            heeded = now >= advised
        elif now >= self.retry_at:
            heeded = True
        else:  # already told to wait: only a burst that was on its way, of at most one bucket, is excused
            heeded = now - self.told_at < IN_FLIGHT_GRACE_S and self.grace_used < self.publish_burst
            self.grace_used += heeded
        retry_at = now + retry_after_ms / 1000
        self.retry_at = max(self.retry_at, retry_at)
        if client_msg_id is not None:
            self.advised.pop(client_msg_id, None)
            if len(self.advised) >= MAX_ADVISED:
                del self.advised[next(iter(self.advised))]
            self.advised[client_msg_id] = retry_at
        return heeded

    def on_frame(self, frame: ClientFrame, now: float) -> Step:
        self.last_seen = now
        if self.state is State.CLOSED:
            return Step()
        if isinstance(frame, Ping):
            return Step(reply=Pong(id=frame.id))
        if isinstance(frame, Hello):
            return self._hello(frame, now)
        if self.state is not State.OPEN:
            return self.error(error_frame(ErrorCode.UNAUTHENTICATED, getattr(frame, "id", None)), now)
        if isinstance(frame, Subscribe):
            if frame.channel not in self.channels and len(self.channels) >= MAX_SUBSCRIPTIONS:
                return self.error(error_frame(ErrorCode.TOO_MANY_SUBSCRIPTIONS, frame.id, frame.channel), now)
            return Step(work=Work.SUBSCRIBE, frame=frame)
        if isinstance(frame, Unsubscribe):
            return Step(work=Work.UNSUBSCRIBE, frame=frame)
        if isinstance(frame, Publish):
            assert self.bucket is not None
            if not self.bucket.take(now):
                retry = self.bucket.retry_after_ms()
                refusal = error_frame(ErrorCode.RATE_LIMITED, frame.id, frame.channel, retry)
                return self.error(refusal, now, frame.client_msg_id)
            if self.advised:
                self.advised.pop(frame.client_msg_id, None)
            return Step(work=Work.PUBLISH, frame=frame)
        return self._typing(frame, now)

    def _hello(self, frame: Hello, now: float) -> Step:
        if frame.v != PROTOCOL_VERSION:
            return Step(close=CloseCode.UNSUPPORTED_VERSION)
        if self.state is State.OPEN:
            if frame.token is not None:
                return self.error(error_frame(ErrorCode.ALREADY_AUTHENTICATED), now)
            return Step()
        if frame.token is None or self.authenticating:
            return self.error(error_frame(ErrorCode.UNAUTHENTICATED), now)
        self.authenticating = True
        return Step(work=Work.AUTHENTICATE, frame=frame)

    def _typing(self, frame: Typing, now: float) -> Step:
        if frame.channel not in self.channels:
            return self.error(error_frame(ErrorCode.NOT_SUBSCRIBED, channel=frame.channel), now)
        last = self.typing_sent.get(frame.channel)
        if last is not None and now - last < TYPING_INTERVAL_S:
            return Step()
        self.typing_sent[frame.channel] = now
        return Step(work=Work.TYPING, frame=frame)

    def closed(self) -> None:
        self.state = State.CLOSED
