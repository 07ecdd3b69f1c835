"""Why the meeting refuses a request: one exception class per reason, each with a Chinese message.

The domain raises these and knows nothing of WebSocket codes or HTTP statuses; the server's
edge maps each class to both in one table (`server.errors.ERRORS`). Nothing changed when one
is raised.
"""

from __future__ import annotations


class Rejected(Exception):
    """A request the meeting refuses. `field` names the part of the request at fault."""

    def __init__(self, msg: str, field: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.field = field


class BadField(Rejected):
    """A field is missing, unknown, or not of the type or form the message needs."""


class BadReporter(Rejected):
    """A mark names a reporter who is not on this round's ballot."""


class BadGrade(Rejected):
    """A mark is not one of the meeting's grades."""


class BadToken(Rejected):
    """The card's token is not one of this meeting's cards."""


class BadCode(Rejected):
    """A card's short code is not well formed."""


class UnknownCode(Rejected):
    """A well-formed short code that no card of this meeting has."""


class BadGroup(Rejected):
    """Open join mode: no voter group has that id."""


class GroupFull(Rejected):
    """Open join mode: the group has as many voters as seats."""


class NotOpenMode(Rejected):
    """An open-mode request to a meeting that uses join cards."""


class NotOpen(Rejected):
    """The round is not open for ballots (not yet, or no longer)."""


class AlreadyVoted(Rejected):
    """The card has cast a different ballot in this round."""


class BadTellerKey(Rejected):
    """The 监票人's key is mistyped, or is not the one this meeting's rounds were sealed to."""


class Refused(Rejected):
    """A chair action that does not fit the agenda now."""

    def __init__(self, msg: str, field: str | None = "action") -> None:
        super().__init__(msg, field)


class TooEarly(Rejected):
    """Closing a round now would very likely be a slip (no ballot yet, or opened seconds ago):
    refused unless the chair confirmed it (`force`). Not a `Refused`: the action still fits."""

    def __init__(self, msg: str, field: str | None = "force") -> None:
        super().__init__(msg, field)


class Conflict(Rejected):
    """The agenda moved since the chair last saw it (`expect`)."""


class Unavailable(Rejected):
    """The store cannot be reached; the request may be sent again."""

    def __init__(self, msg: str = "系统暂不可用，正在重连", field: str | None = None) -> None:
        super().__init__(msg, field)


class ReasonNeeded(Rejected):
    """Voiding a round (重新测评) needs a written reason; without one nothing is voided. Not a
    `Refused`: the action still fits, once the chair writes why."""

    def __init__(self, msg: str, field: str | None = "text") -> None:
        super().__init__(msg, field)
