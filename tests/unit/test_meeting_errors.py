"""Refusals: one class per reason, each carrying its Chinese message and the field at fault."""

from __future__ import annotations

from typing import Any

import pytest

from meeting import errors
from meeting.errors import (
    AlreadyVoted,
    BadCode,
    BadField,
    BadGrade,
    BadGroup,
    BadReporter,
    BadTellerKey,
    BadToken,
    Conflict,
    GroupFull,
    NotOpen,
    NotOpenMode,
    ReasonNeeded,
    Refused,
    Rejected,
    TooEarly,
    Unavailable,
    UnknownCode,
)

REASONS = [
    BadField,
    BadReporter,
    BadGrade,
    BadToken,
    BadCode,
    UnknownCode,
    BadGroup,
    GroupFull,
    NotOpenMode,
    NotOpen,
    AlreadyVoted,
    BadTellerKey,
    Refused,
    TooEarly,
    ReasonNeeded,
    Conflict,
    Unavailable,
]


def test_every_reason_is_its_own_kind_of_rejection() -> None:
    defined = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, Rejected) and value is not Rejected
    }
    assert defined == set(REASONS)
    assert all(cls.__bases__ == (Rejected,) for cls in REASONS)
    assert Rejected.__bases__ == (Exception,)


@pytest.mark.parametrize("cls", [Rejected, *REASONS])
def test_a_rejection_keeps_its_message_and_field(cls: type[Rejected]) -> None:
    error = cls("参会卡无效", "token")
    assert (error.msg, error.field, str(error), error.args) == (
        "参会卡无效",
        "token",
        "参会卡无效",
        ("参会卡无效",),
    )


@pytest.mark.parametrize(
    ("cls", "args", "kwargs", "msg", "field"),
    [
        (Rejected, ("x",), {}, "x", None),
        (BadField, ("缺少字段 cid",), {}, "缺少字段 cid", None),
        (Refused, ("会议已经开始",), {}, "会议已经开始", "action"),  # a chair action was wrong
        (Refused, ("会议已经开始", None), {}, "会议已经开始", None),
        (TooEarly, ("投票开启不到10秒",), {}, "投票开启不到10秒", "force"),
        (ReasonNeeded, ("请写明原因",), {}, "请写明原因", "text"),
        (Unavailable, (), {}, "系统暂不可用，正在重连", None),
        (Unavailable, (), {"field": "round"}, "系统暂不可用，正在重连", "round"),
    ],
)
def test_what_a_rejection_says_when_not_told(
    cls: type[Rejected], args: tuple[Any, ...], kwargs: dict[str, Any], msg: str, field: str | None
) -> None:
    error = cls(*args, **kwargs)
    assert (error.msg, str(error), error.field) == (msg, msg, field)


def test_a_rejection_is_raised_and_caught_as_one() -> None:
    with pytest.raises(Rejected, match="^本轮投票已经开启过$") as caught:
        raise Refused("本轮投票已经开启过")
    assert type(caught.value) is Refused
