"""Requests from clients, checked field by field, and answered the same way over WS and HTTP."""

from __future__ import annotations

from typing import Any

from meeting.commands import command_for
from meeting.errors import BadField
from server.errors import UnknownType
from server.service import MeetingService

# type -> (required fields, optional fields); `t` and `id` are always allowed.
SCHEMAS: dict[str, tuple[dict[str, type | tuple[type, ...]], dict[str, Any]]] = {
    "hello": ({"role": str}, {"token": str, "key": str}),
    "cast": ({"round": int, "marks": dict, "cid": str}, {}),
    "chair": ({"action": str}, {"text": str, "expect": int}),
    "paper": ({"code": str, "round": int, "marks": dict}, {"cid": str}),
    "ping": ({}, {}),
}
ID_MAX_CHARS = 64
ROLE_MESSAGES = {
    "phone": {"cast", "ping"},
    "screen": {"ping"},
    "chair": {"chair", "paper", "ping"},
}


def check_fields(message: dict[str, Any]) -> str:
    """The message's type, once every field is present, known and of the right type."""
    kind = message.get("t")
    if not isinstance(kind, str) or kind not in SCHEMAS:
        raise UnknownType(f"未知的消息类型：{kind!r}", "t")
    required, optional = SCHEMAS[kind]
    for name in required:
        if name not in message:
            raise BadField(f"缺少字段 {name}", name)
    allowed = {"t", "id", *required, *optional}
    for name, value in message.items():
        if name not in allowed:
            raise unknown_field(name)
        expected = required.get(name) or optional.get(name)
        if expected is None:
            continue
        wrong_bool = isinstance(value, bool) and expected is int
        if not isinstance(value, expected) or wrong_bool:
            raise BadField(f"字段 {name} 的类型不对", name)
    if "id" in message and request_id(message) is None:
        raise BadField(f"字段 id 应为最多{ID_MAX_CHARS}个字符的字符串或整数", "id")
    return kind


def unknown_field(name: Any) -> BadField:
    """The refusal of a key a message may not have, named as far as it is safe to echo."""
    shown = str(name)[:ID_MAX_CHARS]  # never echo a client's 60 KB key back
    return BadField(f"不认识的字段 {shown}", shown)


def request_id(message: Any) -> str | int | None:
    """The `id` a reply echoes: only one the protocol allows (a short string, a 64-bit int)."""
    value = message.get("id") if isinstance(message, dict) else None
    if isinstance(value, str) and len(value) <= ID_MAX_CHARS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


async def answer_chair(service: MeetingService, message: dict[str, Any]) -> dict[str, Any]:
    try:
        command = command_for(message["action"], message.get("text"))
    except KeyError:
        raise BadField(f"未知的操作：{message['action']}", "action") from None
    version = await service.execute(command, message.get("expect"))
    return {"t": "ok", "v": version}


async def answer_paper(service: MeetingService, message: dict[str, Any]) -> dict[str, Any]:
    receipt, again = await service.paper(
        message["code"], message["round"], message["marks"], message.get("cid")
    )
    return {"t": "receipt", "round": message["round"], "receipt": receipt, "again": again}


async def answer_cast(
    service: MeetingService, token_hash: str, group: str, message: dict[str, Any]
) -> dict[str, Any]:
    receipt, again = await service.cast(
        token_hash, group, message["round"], message["marks"], message["cid"]
    )
    return {"t": "receipt", "round": message["round"], "receipt": receipt, "again": again}
