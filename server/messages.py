"""Requests from clients: one typed schema per message, and their answers (WS and HTTP alike).

Each message is a `msgspec` Struct, tagged by its `t`. A frame (msgpack) or a body (JSON) is
decoded straight into one, in C, every nested value checked against its exact type and bound
(`marks` is a map of short strings to short strings or nil; `round` an int, never a bool) and
no key allowed that the message does not have. What fails is refused in the protocol's words:
`bad_frame`, `unknown_type`, or `bad_field` naming the field. The domain still checks what it
needs (`meeting.ballot_checks`: the reporters, the grades, the `cid`): this is the first gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from meeting import evaluation, panel, views
from meeting.ballot_checks import CID_MAX, CID_MIN
from meeting.commands import COMMENT_MAX_CHARS, COMMENTER_MAX_CHARS, command_for
from meeting.errors import BadField, Rejected
from server.errors import BadFrame, UnknownType
from server.service import MeetingService

# The bounds of the protocol (docs/protocol.md); each one far above any legitimate value.
ID_MAX_CHARS = 64  # a request's `id`, when a string
WORD_MAX_CHARS = 16  # `role`, `action`: the longest word of either is 7 characters
TOKEN_MAX_CHARS = 64  # a join card's token has 22
KEY_MAX_CHARS = 128  # the chair key has 24 (`secrets.token_urlsafe(18)`)
CODE_MAX_CHARS = 32  # a card's short code has 9 (ABCD-EFGH), typed with a space or two
TELLER_KEY_MAX_CHARS = 200  # the 监票人's key has 69 (14 groups of 4), however spaced
MARKS_MAX = 500  # reporters on one ballot (the tally benchmark's largest meeting has 200)
MARK_MAX_CHARS = 64  # a reporter id (r01) or a grade word (好, 基本称职)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # `round`, `expect` and an integer `id`
EVALUATION_TEXT_MAX = 8000  # one 综合评价 text (meeting.evaluation allows 2000)

Int64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]
RequestId = Annotated[str, Meta(max_length=ID_MAX_CHARS)] | Int64
Word = Annotated[str, Meta(max_length=WORD_MAX_CHARS)]
MarkText = Annotated[str, Meta(max_length=MARK_MAX_CHARS)]
Marks = Annotated[dict[MarkText, MarkText | None], Meta(max_length=MARKS_MAX)]
ITEMS_PER_REPORTER_MAX = 200  # a checklist's items (the documents' lists have 26 and 28)
# 逐项测评: reporter id → item id → answer (meeting.ballot_layout)
Items = Annotated[
    dict[
        MarkText,
        Annotated[dict[MarkText, MarkText | None], Meta(max_length=ITEMS_PER_REPORTER_MAX)],
    ],
    Meta(max_length=MARKS_MAX),
]
Cid = Annotated[str, Meta(min_length=CID_MIN, max_length=CID_MAX)]
Token = Annotated[str, Meta(max_length=TOKEN_MAX_CHARS)]

# What a value over its bound is told, by field: the domain's own words where it has them.
BOUNDS = {
    "role": f"字段 role 最多{WORD_MAX_CHARS}个字符",
    "action": f"字段 action 最多{WORD_MAX_CHARS}个字符",
    "token": f"字段 token 最多{TOKEN_MAX_CHARS}个字符",
    "key": f"字段 key 最多{KEY_MAX_CHARS}个字符",
    "code": f"字段 code 最多{CODE_MAX_CHARS}个字符",
    "teller_key": f"监票人密钥最多{TELLER_KEY_MAX_CHARS}个字符",
    "round": "字段 round 应为64位整数",
    "expect": "字段 expect 应为64位整数",
    "step": "字段 step 应为64位整数",
    "marks": f"marks 最多{MARKS_MAX}位述职人，编号和等次各最多{MARK_MAX_CHARS}个字符",
    "items": f"items 最多{MARKS_MAX}位述职人、每人最多{ITEMS_PER_REPORTER_MAX}项，编号和回答各最多"
    f"{MARK_MAX_CHARS}个字符",
    "cid": f"选票编号 cid 应为{CID_MIN}到{CID_MAX}位字符",  # as meeting.ballot_checks says
    "text": f"点评内容过长：最多{COMMENT_MAX_CHARS}字",  # as meeting.agenda says
    "by": f"点评人姓名过长：最多{COMMENTER_MAX_CHARS}字",
    "reporter": f"字段 reporter 最多{MARK_MAX_CHARS}个字符",
    "score": f"字段 score 应为数值，或最多{MARK_MAX_CHARS}个字符的小数",
    "grade": f"字段 grade 最多{MARK_MAX_CHARS}个字符",
    "studied_on": f"字段 studied_on 最多{MARK_MAX_CHARS}个字符",
    "rectify_by": f"字段 rectify_by 最多{MARK_MAX_CHARS}个字符",
    "opinion": f"opinion 最多16项，每项名称最多{MARK_MAX_CHARS}个字符、内容最多{EVALUATION_TEXT_MAX}字",
    "sources": f"sources 最多16项，每项名称最多{MARK_MAX_CHARS}个字符、内容最多{EVALUATION_TEXT_MAX}字",
    "reason": f"理由最多{EVALUATION_TEXT_MAX}字",
    "entered_by": f"字段 entered_by 最多{EVALUATION_TEXT_MAX}个字符",
}
ID_WORDS = f"字段 id 应为最多{ID_MAX_CHARS}个字符的字符串或整数"


class ClientMessage(Struct, tag_field="t", forbid_unknown_fields=True, kw_only=True, gc=False):
    """What every message may carry: an `id` that the reply echoes."""

    id: RequestId | UnsetType = UNSET


class Hello(ClientMessage, tag="hello"):
    role: Word
    token: Token = ""  # phones
    key: Annotated[str, Meta(max_length=KEY_MAX_CHARS)] = ""  # the chair's, or an expert's own


class Cast(ClientMessage, tag="cast"):
    round: Int64
    marks: Marks
    cid: Cid
    items: Items | UnsetType = UNSET  # a meeting with item checklists: the answers


class CastBody(Cast, tag="cast", kw_only=True):
    """`POST /api/cast`: a cast and the card's token (which a WebSocket phone sent in hello)."""

    token: Token


class Chair(ClientMessage, tag="chair"):
    action: Word
    text: Annotated[str, Meta(max_length=COMMENT_MAX_CHARS)] = ""  # with `comment`
    by: Annotated[str, Meta(max_length=COMMENTER_MAX_CHARS)] = ""  # with `comment`: who
    step: Int64 | UnsetType = UNSET  # with `comment` after the meeting: the agenda step (补录)
    expect: Int64 | UnsetType = UNSET
    force: bool = False  # with `close`: the chair confirmed closing early or with no ballot


class Paper(ClientMessage, tag="paper"):
    code: Annotated[str, Meta(max_length=CODE_MAX_CHARS)]
    round: Int64
    marks: Marks
    cid: Cid | UnsetType = UNSET
    items: Items | UnsetType = UNSET


class Unseal(ClientMessage, tag="unseal"):
    """The 监票人's key, typed in after a crash left closed rounds sealed."""

    teller_key: Annotated[str, Meta(max_length=TELLER_KEY_MAX_CHARS)]


class Score(ClientMessage, tag="score"):
    """An expert's score of one reporter (专家点评, role `expert`); nil clears it. A number or
    the decimal as typed: `meeting.panel` reads it exactly and checks it against the scale."""

    reporter: MarkText
    score: MarkText | Int64 | float | None


class Ping(ClientMessage, tag="ping"):
    pass


# 综合评价 (HTTP only, the 会后 page): generous first bounds; meeting.evaluation has the exact ones.
EvaluationText = Annotated[str, Meta(max_length=EVALUATION_TEXT_MAX)]
EvaluationParts = Annotated[dict[MarkText, EvaluationText], Meta(max_length=16)]


class Evaluate(ClientMessage, tag="evaluate"):
    """`POST /api/evaluation`: one reporter's 综合评价 entry."""

    reporter: MarkText
    grade: MarkText
    opinion: EvaluationParts
    entered_by: EvaluationText
    sources: EvaluationParts = {}
    reason: EvaluationText = ""


class FixEvaluation(ClientMessage, tag="fix_evaluation"):
    """`POST /api/evaluation/fix`: the record closed with the 党组研究 date."""

    studied_on: MarkText
    entered_by: EvaluationText
    rectify_by: MarkText = ""


Message = Hello | Cast | Chair | Paper | Unseal | Score | Ping
MESSAGE_TYPES: dict[str, type[ClientMessage]] = {
    str(cls.__struct_config__.tag): cls for cls in get_args(Message)
}
ROLE_MESSAGES = {
    "phone": {"cast", "ping"},
    "screen": {"ping"},
    "chair": {"chair", "paper", "unseal", "ping"},
    "expert": {"score", "ping"},
}
M = TypeVar("M", bound=ClientMessage)


@dataclass(frozen=True)
class Faulty:
    """A frame that names a message type (a map with a string `t`) but is not that message: its
    type, the refusal, and the `id` a reply echoes (None when the protocol does not allow it)."""

    kind: str
    error: Rejected
    id: str | int | None


_FRAMES = msgspec.msgpack.Decoder(Message)
_ANY_FRAME = msgspec.msgpack.Decoder()
_BODIES: dict[type[ClientMessage], msgspec.json.Decoder[Any]] = {
    cls: msgspec.json.Decoder(cls)
    for cls in (CastBody, Chair, Paper, Unseal, Evaluate, FixEvaluation)
}
_ANY_BODY = msgspec.json.Decoder()
_FIELD = re.compile(r" - at (`key` in )?`\$\.?(\w*)")  # msgspec's path: `$.marks[...]`, …
_MISSING = re.compile(r"Object missing required field `(\w+)`")
_NOT_MSGPACK_MAP = "无法解析的消息：应为带 t 字段的 msgpack 映射"


def decode_frame(raw: bytes) -> Message | Faulty:
    """The message in a WebSocket frame, every field checked; `Faulty` if it names a message
    type but is not a valid one. A frame that is no message at all raises BadFrame."""
    try:
        return _FRAMES.decode(raw)
    except msgspec.ValidationError as error:  # (a DecodeError too: caught first)
        frame = _plain(_ANY_FRAME, raw)
        kind = frame.get("t") if isinstance(frame, dict) else None
        if not isinstance(kind, str):
            raise BadFrame(_NOT_MSGPACK_MAP) from None
        schema = MESSAGE_TYPES.get(kind)
        if schema is None:
            refusal: Rejected = UnknownType(f"未知的消息类型：{kind!r}", "t")
        else:
            refusal = _refusal(error, frame, schema)
        return Faulty(kind, refusal, _echoed_id(frame))
    except (ValueError, RecursionError):  # not msgpack (or UTF-8), or nested beyond the stack
        raise BadFrame(_NOT_MSGPACK_MAP) from None


def decode_body(schema: type[M], raw: bytes) -> M:
    """The message in an HTTP request's JSON body (the type comes from the path), every field
    checked; BadFrame if the body is not a JSON object, or the field's refusal."""
    raw = raw or b"{}"  # no body: an empty object, refused for the fields it lacks
    try:
        return _BODIES[schema].decode(raw)
    except msgspec.ValidationError as error:  # (a DecodeError too: caught first)
        body = _plain(_ANY_BODY, raw)
        if not isinstance(body, dict):
            raise BadFrame("请求体应为 JSON 对象") from None
        raise _refusal(error, body, schema) from None
    except (ValueError, RecursionError):
        raise BadFrame("请求体应为 JSON") from None


def kind_of(message: Message | Faulty) -> str:
    """The message's type, its `t`."""
    if isinstance(message, Faulty):
        return message.kind
    return str(message.__struct_config__.tag)


def reply_id(request: Message | Faulty | None) -> str | int | None:
    """The `id` a reply to this request echoes, if it has one the protocol allows."""
    if request is None or request.id is UNSET:
        return None
    return request.id


def unknown_field(name: Any) -> BadField:
    """The refusal of a key a message may not have, named as far as it is safe to echo."""
    shown = str(name)[:ID_MAX_CHARS]  # never echo a client's 60 KB key back
    return BadField(f"不认识的字段 {shown}", shown)


def _plain(decoder: msgspec.msgpack.Decoder[Any] | msgspec.json.Decoder[Any], raw: bytes) -> Any:
    """A refused frame or body as plain values, to name what is wrong; None if it has none."""
    try:
        return decoder.decode(raw)
    except (ValueError, RecursionError):  # msgspec.DecodeError, UnicodeDecodeError
        return None


def _echoed_id(frame: dict[Any, Any]) -> str | int | None:
    try:
        return msgspec.convert(frame["id"], RequestId)
    except (KeyError, msgspec.ValidationError):
        return None


def _refusal(
    error: msgspec.ValidationError, message: dict[Any, Any], schema: type[ClientMessage]
) -> Rejected:
    """msgspec's complaint about a message (a map), in the protocol's words and fields."""
    allowed = {"t", *schema.__struct_fields__}
    unknown = next((name for name in message if name not in allowed), None)
    if unknown is not None:  # named first, wherever it is: the message cannot have it at all
        return unknown_field(unknown)
    text = str(error)
    missing = _MISSING.match(text)
    if missing:
        return BadField(f"缺少字段 {missing[1]}", missing[1])
    where = _FIELD.search(text)
    name = where[2] if where else ""
    if name == "t":  # HTTP: a body's `t` may only name the endpoint's message
        return UnknownType(f"未知的消息类型：{message['t']!r}", "t")
    if name == "id":
        return BadField(ID_WORDS, "id")
    if name not in BOUNDS or ", got `" in text:  # msgspec: "Expected `int`, got `bool`"
        return BadField(f"字段 {name} 的类型不对", name)
    return BadField(BOUNDS[name], name)  # "Expected `str` of length <= 64": over its bound


async def answer_chair(service: MeetingService, message: Chair) -> dict[str, Any]:
    try:
        command = command_for(
            message.action,
            message.text,
            message.force,
            message.by,
            None if message.step is UNSET else message.step,
        )
    except KeyError:
        raise BadField(f"未知的操作：{message.action}", "action") from None
    expect = None if message.expect is UNSET else message.expect
    version = await service.execute(command, expect)
    return {"t": "ok", "v": version}


async def answer_paper(service: MeetingService, message: Paper) -> dict[str, Any]:
    cid = None if message.cid is UNSET else message.cid
    items = None if message.items is UNSET else message.items
    receipt, again = await service.paper(message.code, message.round, message.marks, cid, items)
    return {"t": "receipt", "round": message.round, "receipt": receipt, "again": again}


async def answer_unseal(service: MeetingService, message: Unseal) -> dict[str, Any]:
    return {"t": "ok", "rounds": await service.unseal(message.teller_key)}


async def answer_cast(
    service: MeetingService, token_hash: str, group: str, message: Cast
) -> dict[str, Any]:
    items = None if message.items is UNSET else message.items
    receipt, again = await service.cast(
        token_hash, group, message.round, message.marks, message.cid, items=items
    )
    return {"t": "receipt", "round": message.round, "receipt": receipt, "again": again}


async def answer_score(service: MeetingService, expert: str, message: Score) -> dict[str, Any]:
    """The expert's own score recorded; the reply carries their page as it now stands."""
    command = panel.ScoreReporter(expert, message.reporter, message.score, "")
    version = await service.record_panel(command)
    view = views.expert_view(service.meeting, service.state, expert)
    return {"t": "ok", "v": version, "view": view}


async def answer_evaluate(service: MeetingService, message: Evaluate) -> dict[str, Any]:
    command = evaluation.EnterEvaluation(
        message.reporter,
        message.grade,
        message.opinion,
        message.entered_by,
        message.sources,
        message.reason,
    )
    return {"t": "ok", "v": await service.evaluate(command)}


async def answer_fix_evaluation(service: MeetingService, message: FixEvaluation) -> dict[str, Any]:
    command = evaluation.FixEvaluation(message.studied_on, message.entered_by, message.rectify_by)
    return {"t": "ok", "v": await service.evaluate(command)}
