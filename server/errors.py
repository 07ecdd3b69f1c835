"""The edge's one table: each refusal's error code (docs/protocol.md) and HTTP status.

The domain raises `meeting.errors.Rejected` subclasses; the errors below are the wire's own
(a frame that is not a message, a type the role may not send, a flood). The WebSocket session
and the HTTP routes both turn any of them into a reply through `error_message` / `error_status`.
"""

from __future__ import annotations

from typing import Any

from meeting import errors as domain
from meeting.errors import Rejected


class UnknownType(Rejected):
    """A message type that does not exist, or that this role may not send."""


class HelloFirst(Rejected):
    """A session must start with `hello`."""


class BadFrame(Rejected):
    """Not a message at all: not msgpack (WebSocket) or not a JSON object (HTTP)."""


class BodyTooLarge(Rejected):
    """An HTTP body over the limit."""


class RateLimited(Rejected):
    """Too many messages, or too many failed attempts from one address."""


class BadKey(Rejected):
    """The chair's key is missing or wrong."""


class NotFound(Rejected):
    """An HTTP path that is no page or endpoint (Starlette's 404)."""


class MethodNotAllowed(Rejected):
    """An endpoint asked with a method it does not take (Starlette's 405)."""


class Internal(Rejected):
    """A fault of the server itself: never an answer to any input (a test fails if it is)."""


class BadRoomCode(Rejected):
    """Open mode: the room code (入场码) is missing, wrong or expired."""


class PackageRefused(Rejected):
    """A 备案 package that did not verify, or not the record of the meeting it was filed for."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, "package")


ERRORS: dict[type[Rejected], tuple[str, int]] = {
    domain.BadField: ("bad_field", 422),
    domain.BadReporter: ("bad_reporter", 422),
    domain.BadGrade: ("bad_grade", 422),
    domain.BadToken: ("bad_token", 403),
    domain.BadCode: ("bad_code", 422),
    domain.UnknownCode: ("bad_code", 404),
    domain.BadGroup: ("bad_group", 422),
    domain.GroupFull: ("group_full", 409),
    domain.NotOpenMode: ("not_open_mode", 404),
    domain.NotOpen: ("not_open", 409),
    domain.AlreadyVoted: ("already_voted", 409),
    domain.BadTellerKey: ("bad_teller_key", 422),
    domain.Refused: ("refused", 409),
    domain.TooEarly: ("too_early", 409),
    domain.ReasonNeeded: ("reason_needed", 422),
    domain.Conflict: ("conflict", 409),
    domain.Unavailable: ("unavailable", 503),
    UnknownType: ("unknown_type", 422),
    HelloFirst: ("hello_first", 422),
    BadFrame: ("bad_frame", 400),
    BodyTooLarge: ("bad_frame", 413),
    RateLimited: ("rate_limited", 429),
    BadKey: ("bad_key", 401),
    BadRoomCode: ("bad_room_code", 403),
    PackageRefused: ("package_refused", 422),
    NotFound: ("not_found", 404),
    MethodNotAllowed: ("method_not_allowed", 405),
    Internal: ("internal", 500),
}


def error_code(error: Rejected) -> str:
    return ERRORS[type(error)][0]


def error_status(error: Rejected) -> int:
    return ERRORS[type(error)][1]


def error_message(error: Rejected) -> dict[str, Any]:
    """The `error` message of the protocol: its code, the Chinese text and the field at fault."""
    message: dict[str, Any] = {"t": "error", "code": error_code(error), "msg": error.msg}
    if error.field:
        message["field"] = error.field
    return message
