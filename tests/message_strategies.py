"""Client messages for property tests, and what makes one valid, written from docs/protocol.md.

`valid` is an oracle independent of msgspec: plain Python over the decoded frame or body,
using only the bounds `server.messages` names. The strategies draw messages of every type
whose fields are good, or wrong at any depth: wrong types (bools for ints, lists and maps
inside `marks`, bytes for strings), values just over a bound or far over it, huge integers,
deep nesting, unknown keys, bad `id`s and unknown types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from meeting.ballot_checks import CID_MAX, CID_MIN
from meeting.commands import COMMENT_MAX_CHARS
from server.messages import (
    CODE_MAX_CHARS,
    ID_MAX_CHARS,
    INT64_MAX,
    INT64_MIN,
    KEY_MAX_CHARS,
    MARK_MAX_CHARS,
    MARKS_MAX,
    TELLER_KEY_MAX_CHARS,
    TOKEN_MAX_CHARS,
    WORD_MAX_CHARS,
)

DEEPEST = 400  # levels of nesting drawn: well inside the server's stack (deeper: bad_frame)
CHAIR_ACTIONS = ("start", "next", "back", "open", "close", "reveal", "pause", "resume", "comment")


def is_text(value: Any, most: int, least: int = 0) -> bool:
    return isinstance(value, str) and least <= len(value) <= most


def is_int64(value: Any) -> bool:
    return type(value) is int and INT64_MIN <= value <= INT64_MAX  # a bool is no int here


def is_marks(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= MARKS_MAX
        and all(is_text(k, MARK_MAX_CHARS) for k in value)
        and all(v is None or is_text(v, MARK_MAX_CHARS) for v in value.values())
    )


def is_id(value: Any) -> bool:
    return is_text(value, ID_MAX_CHARS) or is_int64(value)


Check = Callable[[Any], bool]
# type -> field -> (required, check)
FIELDS: dict[str, dict[str, tuple[bool, Check]]] = {
    "hello": {
        "role": (True, lambda v: is_text(v, WORD_MAX_CHARS)),
        "token": (False, lambda v: is_text(v, TOKEN_MAX_CHARS)),
        "key": (False, lambda v: is_text(v, KEY_MAX_CHARS)),
    },
    "cast": {
        "round": (True, is_int64),
        "marks": (True, is_marks),
        "cid": (True, lambda v: is_text(v, CID_MAX, CID_MIN)),
    },
    "chair": {
        "action": (True, lambda v: is_text(v, WORD_MAX_CHARS)),
        "text": (False, lambda v: is_text(v, COMMENT_MAX_CHARS)),
        "expect": (False, is_int64),
        "force": (False, lambda v: isinstance(v, bool)),
    },
    "paper": {
        "code": (True, lambda v: is_text(v, CODE_MAX_CHARS)),
        "round": (True, is_int64),
        "marks": (True, is_marks),
        "cid": (False, lambda v: is_text(v, CID_MAX, CID_MIN)),
    },
    "unseal": {"teller_key": (True, lambda v: is_text(v, TELLER_KEY_MAX_CHARS))},
    "score": {
        "reporter": (True, lambda v: is_text(v, MARK_MAX_CHARS)),
        "score": (
            True,
            lambda v: v is None or is_text(v, MARK_MAX_CHARS) or is_int64(v) or type(v) is float,
        ),
    },
    "ping": {},
}
HTTP_EXTRA = {"cast": {"token": (True, lambda v: is_text(v, TOKEN_MAX_CHARS))}}


def valid(message: Any, kind: str | None = None, http: bool = False) -> bool:
    """Whether a decoded frame (or body, of the endpoint's `kind`) is a valid message."""
    if not isinstance(message, dict):
        return False
    kind = kind or message.get("t")
    if kind not in FIELDS or message.get("t", kind) != kind:
        return False
    fields = {**FIELDS[kind], **(HTTP_EXTRA.get(kind, {}) if http else {})}
    if any(name not in {"t", "id", *fields} for name in message):
        return False
    if "id" in message and not is_id(message["id"]):
        return False
    for name, (required, check) in fields.items():
        if name in message:
            if not check(message[name]):
                return False
        elif required:
            return False
    return True


def nest(depth: int, leaf: Any = None) -> Any:
    """A value `depth` levels deep, lists and maps in turn."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def texts(most: int, least: int = 0) -> st.SearchStrategy[str]:
    """Strings around a bound: within it (exactly at it too, CJK too), just over it, far over."""
    within = [
        st.text(min_size=least, max_size=min(most, least + 12)),
        st.text(min_size=least, max_size=min(most, least + 12)),
        st.just("x" * most),
        st.just("好" * most),
    ]
    over = [st.just("y" * (most + 1)), st.integers(most + 1, most * 3 + 10).map(lambda n: "长" * n)]
    if least:
        over.append(st.just("c" * (least - 1)))
    return st.one_of(*within, *over)


ints = st.one_of(
    st.integers(-5, 1000),
    st.sampled_from([INT64_MIN, INT64_MAX, INT64_MAX + 1, 2**64 - 1, INT64_MIN + 1]),
    st.integers(INT64_MIN, 2**64 - 1),  # what msgpack carries
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=20),
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-9, 9), inner, max_size=4)
    ),
    max_leaves=10,
)
deep = st.integers(2, DEEPEST).map(nest)
wrong = st.one_of(anything, deep)
mark_texts = texts(MARK_MAX_CHARS)
marks = st.one_of(
    st.dictionaries(
        st.sampled_from(["r01", "r02", "r03", "r09", ""]) | mark_texts,
        st.sampled_from(["好", "较好", "一般", "差", "废", "", None]) | mark_texts,
        max_size=5,
    ),
    st.dictionaries(st.sampled_from(["r01", "r02"]) | st.integers(0, 3), wrong, max_size=3),
    st.integers(MARKS_MAX - 2, MARKS_MAX + 2).map(lambda n: {f"r{i}": "好" for i in range(n)}),
    wrong,
)
GOOD_AND_BAD: dict[str, st.SearchStrategy[Any]] = {
    "role": st.sampled_from(["phone", "screen", "chair", "expert"]) | texts(WORD_MAX_CHARS),
    "token": texts(TOKEN_MAX_CHARS),
    "key": texts(KEY_MAX_CHARS),
    "round": ints,
    "marks": marks,
    "cid": texts(CID_MAX, CID_MIN),
    "action": st.sampled_from(CHAIR_ACTIONS) | texts(WORD_MAX_CHARS),
    "text": texts(COMMENT_MAX_CHARS),
    "expect": ints,
    "force": st.booleans(),
    "code": st.just("ABCD-EFGH") | texts(CODE_MAX_CHARS),
    "teller_key": texts(TELLER_KEY_MAX_CHARS),
    "reporter": st.sampled_from(["r01", "r09"]) | mark_texts,
    "score": st.one_of(st.none(), ints, st.floats(allow_nan=True), st.just("88.5"), mark_texts),
}
request_ids = st.one_of(
    texts(ID_MAX_CHARS), ints, st.booleans(), st.floats(), st.lists(ints, max_size=2)
)
unknown_keys = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k not in {"t", "id", *GOOD_AND_BAD})
    | st.integers(-3, 3)
    | st.just("k" * 200),
    wrong,
    max_size=2,
)


@st.composite
def messages(draw: st.DrawFn, kinds: tuple[str, ...] = tuple(FIELDS)) -> dict[Any, Any]:
    """A message of one of `kinds`: each field good or wrong, sometimes missing, sometimes
    with an `id`, an unknown key, or a type that does not exist."""

    def one_in(n: int) -> bool:
        return draw(st.sampled_from(range(n))) == 0  # (integers() would favour 0)

    kind = draw(st.sampled_from(kinds))
    message: dict[Any, Any] = {"t": kind}
    for name in FIELDS[kind]:
        if not one_in(10):  # a field is left out one time in ten
            message[name] = draw(wrong if one_in(6) else GOOD_AND_BAD[name])
    if one_in(3):
        message["id"] = draw(request_ids)
    if one_in(10):
        message.update(draw(unknown_keys))
    if one_in(20):
        message["t"] = draw(st.sampled_from(["", "vote", "Cast", "launch"]) | st.text(max_size=8))
    return message
