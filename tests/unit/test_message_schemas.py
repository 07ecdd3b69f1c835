"""The messages' typed schemas (server/messages.py): what decodes, and how the rest is refused.

Examples pin each refusal's code, field and words; the properties throw thousands of frames
and bodies at the decoders and compare with an oracle written from docs/protocol.md
(tests/message_strategies.py): a message decodes exactly when it is valid, with its nested
values of the declared types, and anything else is a protocol refusal, never an exception.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgpack
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting.ballot_checks import CID_MAX, CID_MIN
from meeting.commands import COMMENT_MAX_CHARS
from meeting.errors import BadField, Rejected
from server import messages
from server.errors import BadFrame, UnknownType
from tests.message_strategies import FIELDS, HTTP_EXTRA, is_id, is_int64, nest, valid
from tests.message_strategies import messages as drawn

CJK = re.compile(r"[\u4e00-\u9fff]")
MANY = settings(max_examples=3000, deadline=None)
CAST = {"t": "cast", "round": 3, "marks": {"r01": "好", "r02": None, "r03": ""}, "cid": "c" * 32}


def frame(message: Any) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def refusal(message: Any) -> Rejected:
    """What a frame holding this message is refused with."""
    try:
        got = messages.decode_frame(frame(message))
    except Rejected as error:
        return error
    assert isinstance(got, messages.Faulty), got
    return got.error


def test_every_message_decodes_to_its_schema() -> None:
    assert messages.decode_frame(frame(CAST)) == messages.Cast(
        round=3, marks={"r01": "好", "r02": None, "r03": ""}, cid="c" * 32
    )
    hello = messages.decode_frame(frame({"t": "hello", "role": "phone", "token": "A" * 22}))
    assert hello == messages.Hello(role="phone", token="A" * 22)
    chair = messages.decode_frame(frame({"t": "chair", "action": "comment", "text": "好", "id": 7}))
    assert chair == messages.Chair(action="comment", text="好", id=7)
    paper = {"t": "paper", "code": "ABCD-EFGH", "round": 1, "marks": {"r01": "废"}}
    assert messages.decode_frame(frame(paper)) == messages.Paper(
        code="ABCD-EFGH", round=1, marks={"r01": "废"}
    )
    assert messages.decode_frame(frame({"t": "ping", "id": "p1"})) == messages.Ping(id="p1")
    unseal = {"t": "unseal", "teller_key": "ABCD-EFGH"}
    assert messages.decode_frame(frame(unseal)) == messages.Unseal(teller_key="ABCD-EFGH")
    assert set(messages.MESSAGE_TYPES) == set(FIELDS)
    assert set(messages.ROLE_MESSAGES) == {"phone", "screen", "chair", "expert"}
    assert set().union(*messages.ROLE_MESSAGES.values()) <= set(messages.MESSAGE_TYPES)


def test_every_bound_admits_the_largest_legitimate_value() -> None:
    most = {
        "t": "cast",
        "round": messages.INT64_MAX,
        "marks": {"r" * messages.MARK_MAX_CHARS: "好" * messages.MARK_MAX_CHARS}
        | {f"r{i}": None for i in range(messages.MARKS_MAX - 1)},
        "cid": "c" * CID_MAX,
        "id": "i" * messages.ID_MAX_CHARS,
    }
    assert isinstance(messages.decode_frame(frame(most)), messages.Cast)
    least = {**CAST, "round": messages.INT64_MIN, "cid": "c" * CID_MIN, "id": messages.INT64_MIN}
    assert isinstance(messages.decode_frame(frame(least)), messages.Cast)
    chair = {
        "t": "chair",
        "action": "w" * messages.WORD_MAX_CHARS,
        "text": "评" * COMMENT_MAX_CHARS,
    }
    assert isinstance(messages.decode_frame(frame(chair)), messages.Chair)
    hello = {
        "t": "hello",
        "role": "chair",
        "key": "k" * messages.KEY_MAX_CHARS,
        "token": "t" * messages.TOKEN_MAX_CHARS,
    }
    assert isinstance(messages.decode_frame(frame(hello)), messages.Hello)
    paper = {"t": "paper", "code": "c" * messages.CODE_MAX_CHARS, "round": 0, "marks": {}}
    assert isinstance(messages.decode_frame(frame(paper)), messages.Paper)
    unseal = {"t": "unseal", "teller_key": "K" * messages.TELLER_KEY_MAX_CHARS}
    assert isinstance(messages.decode_frame(frame(unseal)), messages.Unseal)


def test_every_bounded_field_has_words_for_its_bound() -> None:
    bounded = set()
    http_only = (messages.CastBody, messages.Evaluate, messages.FixEvaluation)
    for schema in (*messages.MESSAGE_TYPES.values(), *http_only):
        info = msgspec.inspect.type_info(schema)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            if field.name != "id" and re.search(r"(max_length|ge|le)=-?\d", repr(field.type)):
                bounded.add(field.name)
    assert bounded == set(messages.BOUNDS)


@pytest.mark.parametrize(
    ("message", "kind", "field", "words"),
    [
        ({"t": "cast", "marks": {}, "cid": "c" * 20}, BadField, "round", "缺少字段 round"),
        ({"t": "ping", "extra": 1}, BadField, "extra", "不认识的字段 extra"),
        ({"t": "ping", 5: 1}, BadField, "5", "不认识的字段 5"),
        ({"t": "ping", "k" * 70: 1}, BadField, "k" * 64, "不认识的字段 " + "k" * 64),
        ({**CAST, "round": True}, BadField, "round", "字段 round 的类型不对"),
        ({**CAST, "round": 1.0}, BadField, "round", "字段 round 的类型不对"),
        ({**CAST, "round": 2**63}, BadField, "round", "字段 round 应为64位整数"),
        ({**CAST, "marks": []}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {"r01": ["好"]}}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {"r01": {"好": 1}}}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {"r01": b"\x00"}}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {"r01": nest(300)}}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {1: "好"}}, BadField, "marks", "字段 marks 的类型不对"),
        ({**CAST, "marks": {"r01": "好" * 65}}, BadField, "marks", messages.BOUNDS["marks"]),
        ({**CAST, "marks": {"r" * 65: "好"}}, BadField, "marks", messages.BOUNDS["marks"]),
        (
            {**CAST, "marks": {f"r{i}": "好" for i in range(messages.MARKS_MAX + 1)}},
            BadField,
            "marks",
            messages.BOUNDS["marks"],
        ),
        ({**CAST, "cid": 5}, BadField, "cid", "字段 cid 的类型不对"),
        ({**CAST, "cid": "c" * 15}, BadField, "cid", "选票编号 cid 应为16到64位字符"),
        ({**CAST, "cid": "c" * 65}, BadField, "cid", "选票编号 cid 应为16到64位字符"),
        (
            {"t": "chair", "action": "comment", "text": "评" * 2001},
            BadField,
            "text",
            "点评内容过长：最多2000字",
        ),
        ({"t": "chair", "action": "x" * 17}, BadField, "action", messages.BOUNDS["action"]),
        (
            {"t": "chair", "action": "next", "expect": None},
            BadField,
            "expect",
            "字段 expect 的类型不对",
        ),
        ({"t": "hello", "role": 7}, BadField, "role", "字段 role 的类型不对"),
        (
            {"t": "hello", "role": "phone", "token": ["x"]},
            BadField,
            "token",
            "字段 token 的类型不对",
        ),
        (
            {"t": "paper", "code": "x" * 33, "round": 1, "marks": {}},
            BadField,
            "code",
            messages.BOUNDS["code"],
        ),
        ({"t": "ping", "id": True}, BadField, "id", messages.ID_WORDS),
        ({"t": "ping", "id": "x" * 65}, BadField, "id", messages.ID_WORDS),
        ({"t": "ping", "id": 2**63}, BadField, "id", messages.ID_WORDS),
        ({"t": "launch"}, UnknownType, "t", "未知的消息类型：'launch'"),
        ({"t": ""}, UnknownType, "t", "未知的消息类型：''"),
        ({"t": 5}, BadFrame, None, "无法解析的消息：应为带 t 字段的 msgpack 映射"),
        ({"no": "type"}, BadFrame, None, "无法解析的消息：应为带 t 字段的 msgpack 映射"),
        ([1, 2, 3], BadFrame, None, "无法解析的消息：应为带 t 字段的 msgpack 映射"),
        ("cast", BadFrame, None, "无法解析的消息：应为带 t 字段的 msgpack 映射"),
    ],
)
def test_each_refusal_names_its_field_in_the_protocols_words(
    message: Any, kind: type[Rejected], field: str | None, words: str
) -> None:
    error = refusal(message)
    assert (type(error), error.field, error.msg) == (kind, field, words)


@pytest.mark.parametrize(
    "raw",
    [b"\xc1", b"", b"\xa3\x00\x00\x80", frame({"t": "ping"}) + b"\x00", b"\x91" * 5000 + b"\xc0"],
    ids=["not-msgpack", "empty", "bad-utf8", "trailing", "deeper-than-the-stack"],
)
def test_a_frame_that_is_no_message_is_a_bad_frame(raw: bytes) -> None:
    with pytest.raises(BadFrame):
        messages.decode_frame(raw)


def test_deep_nesting_before_the_type_is_a_bad_frame_not_a_crash() -> None:
    raw = b"\x82\xa1a" + b"\x91" * 5000 + b"\xc0" + b"\xa1t\xa4ping"
    with pytest.raises(BadFrame):
        messages.decode_frame(raw)


def test_a_refused_frame_echoes_only_an_id_the_protocol_allows() -> None:
    got = messages.decode_frame(frame({"t": "ping", "extra": 1, "id": "r1"}))
    assert isinstance(got, messages.Faulty) and (got.kind, messages.reply_id(got)) == ("ping", "r1")
    got = messages.decode_frame(frame({"t": "ping", "id": "x" * 65}))
    assert isinstance(got, messages.Faulty) and messages.reply_id(got) is None
    assert messages.reply_id(messages.Ping(id=-5)) == -5
    assert messages.reply_id(messages.Ping()) is None and messages.reply_id(None) is None
    assert messages.kind_of(messages.Ping()) == "ping" and messages.kind_of(got) == "ping"


@pytest.mark.parametrize(
    ("schema", "body", "kind", "field"),
    [
        (messages.CastBody, b"", BadField, "round"),
        (messages.CastBody, b"[]", BadFrame, None),
        (messages.CastBody, b"nope", BadFrame, None),
        (messages.CastBody, b'{"round": NaN}', BadFrame, None),
        (messages.CastBody, b"[" * 30_000 + b"]" * 30_000, BadFrame, None),
        (messages.CastBody, b'{"token": "\\ud800"}', BadFrame, None),  # a lone surrogate
        (
            messages.CastBody,
            b'{"round": 1, "marks": {}, "cid": "cccccccccccccccc"}',
            BadField,
            "token",
        ),
        (messages.CastBody, b'{"t": "chair"}', UnknownType, "t"),
        (messages.CastBody, b'{"round": ' + b"9" * 5000 + b"}", BadFrame, None),
        (messages.Chair, b'{"action": "next", "expect": 1e3}', BadField, "expect"),
        (messages.Chair, b'{"action": "next", "id": 1}', None, None),
        (
            messages.Paper,
            b'{"code": "ABCD-EFGH", "round": 1, "marks": {"r01": [1]}}',
            BadField,
            "marks",
        ),
    ],
)
def test_http_bodies(schema: type[Any], body: bytes, kind: Any, field: str | None) -> None:
    if kind is None:
        assert isinstance(messages.decode_body(schema, body), schema)
        return
    with pytest.raises(Rejected) as caught:
        messages.decode_body(schema, body)
    assert (type(caught.value), caught.value.field) == (kind, field)
    assert CJK.search(caught.value.msg)


def test_a_cast_body_carries_the_token() -> None:
    body = json.dumps({k: v for k, v in CAST.items() if k != "t"} | {"token": "A" * 22}).encode()
    got = messages.decode_body(messages.CastBody, body)
    assert (got.token, got.round, got.marks, got.cid) == ("A" * 22, 3, CAST["marks"], "c" * 32)


# ---- properties -------------------------------------------------------------------------


def check_decoded(message: messages.Message) -> None:
    """Every nested value is of the declared type (what the handlers and the domain rely on)."""
    for name in message.__struct_fields__:
        value = getattr(message, name)
        if name == "marks":
            assert isinstance(value, dict) and len(value) <= messages.MARKS_MAX
            for reporter, mark in value.items():
                assert type(reporter) is str and (mark is None or type(mark) is str)
        elif name in ("round", "expect"):
            assert value is msgspec.UNSET or is_int64(value)
        elif name == "id":
            assert value is msgspec.UNSET or is_id(value)
        elif name == "force":
            assert type(value) is bool
        elif name == "score":  # an expert's score: read exactly by meeting.panel
            assert value is None or type(value) in (str, float) or is_int64(value)
        else:
            assert value is msgspec.UNSET or type(value) is str


def check_refused(error: Rejected, message: Any, kind: str | None) -> None:
    assert isinstance(error, BadField | UnknownType | BadFrame), error
    assert CJK.search(error.msg) and len(error.msg) < 200, error.msg
    if isinstance(error, BadField):
        known = {"id", *FIELDS[kind or ""], *(HTTP_EXTRA.get(kind or "", {}))}
        assert error.field in known or (
            error.field == str(next(k for k in message if k not in {"t", *known}))[:64]
        ), (error.field, message)


@MANY
@given(message=drawn())
def test_a_frame_decodes_exactly_when_the_message_is_valid(message: dict[Any, Any]) -> None:
    raw = frame(message)
    sent = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    try:
        got = messages.decode_frame(raw)
    except BadFrame as error:
        assert not isinstance(sent.get("t"), str), (error, message)
        return
    if isinstance(got, messages.Faulty):
        assert not valid(sent), message
        assert got.kind == sent["t"]
        assert messages.reply_id(got) == (sent["id"] if is_id(sent.get("id")) else None)
        check_refused(got.error, sent, sent["t"] if sent["t"] in FIELDS else None)
    else:
        assert valid(sent), (message, got)
        assert messages.kind_of(got) == sent["t"]
        check_decoded(got)


@MANY
@given(kind=st.sampled_from(["cast", "chair", "paper", "unseal"]), data=st.data())
def test_a_body_decodes_exactly_when_the_message_is_valid(kind: str, data: st.DataObject) -> None:
    message = data.draw(drawn(kinds=(kind,)))
    if data.draw(st.booleans()):  # the endpoint names the type; a body may still say it
        message.pop("t")
    if kind == "cast" and data.draw(st.integers(0, 4)):
        message["token"] = data.draw(st.just("A" * 22) | st.integers() | st.text(max_size=70))
    body = json.dumps(message, default=lambda b: b.hex()).encode()  # JSON has no bytes
    sent = json.loads(body)  # what the server sees: every key a string
    schema = {
        "cast": messages.CastBody,
        "chair": messages.Chair,
        "paper": messages.Paper,
        "unseal": messages.Unseal,
    }[kind]
    try:
        got = messages.decode_body(schema, body)
    except BadFrame:
        assert not valid(sent, kind, http=True)
        return
    except Rejected as error:
        assert not valid(sent, kind, http=True), (message, error.msg)
        check_refused(error, sent, kind)
        return
    assert valid(sent, kind, http=True), (message, got)
    check_decoded(got)


@MANY
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_a_message_or_a_refusal_never_a_crash(raw: bytes) -> None:
    for decode in (
        messages.decode_frame,
        lambda raw: messages.decode_body(messages.CastBody, raw),
        lambda raw: messages.decode_body(messages.Chair, raw),
    ):
        try:
            got = decode(raw)
        except Rejected as error:
            assert isinstance(error, BadField | UnknownType | BadFrame)
        else:
            if not isinstance(got, messages.Faulty):
                check_decoded(got)
