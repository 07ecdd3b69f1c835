"""Errors the server reports to a client: a code from docs/protocol.md and a Chinese message."""

from __future__ import annotations

UNAVAILABLE_MSG = "系统暂不可用，正在重连"


class ProtocolError(Exception):
    def __init__(self, code: str, msg: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.field = field
        self.status = status

    def as_message(self) -> dict:
        message = {"t": "error", "code": self.code, "msg": self.msg}
        if self.field:
            message["field"] = self.field
        return message


class Conflict(Exception):
    """The agenda moved between reading the state and appending the chair's events."""
