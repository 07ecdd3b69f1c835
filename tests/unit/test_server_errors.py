"""The edge's one table: every refusal the domain or the wire can raise has its code and HTTP
status, and the error message names the field at fault."""

from __future__ import annotations

import pytest

from meeting import errors as domain
from meeting.errors import Rejected
from server import errors as wire
from server.errors import ERRORS, error_code, error_message, error_status


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def test_every_refusal_class_has_a_code_and_a_status() -> None:
    assert all_subclasses(Rejected) == set(ERRORS)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (domain.NotOpen("投票未开启或已经结束", "round"), "not_open", 409),
        (domain.AlreadyVoted("已投票"), "already_voted", 409),
        (domain.BadToken("参会卡无效", "token"), "bad_token", 403),
        (domain.UnknownCode("卡片短码“X”不存在", "code"), "bad_code", 404),
        (domain.BadCode("无效", "code"), "bad_code", 422),
        (domain.Unavailable(), "unavailable", 503),
        (domain.Refused("会议已经开始"), "refused", 409),
        (domain.ReasonNeeded("请写明重新测评的原因"), "reason_needed", 422),
        (wire.BodyTooLarge("请求过大"), "bad_frame", 413),
        (wire.BadFrame("请求体应为 JSON"), "bad_frame", 400),
        (wire.RateLimited("操作过于频繁"), "rate_limited", 429),
        (wire.BadKey("主持人密钥错误", "key"), "bad_key", 401),
    ],
)
def test_codes_and_statuses(error: Rejected, code: str, status: int) -> None:
    assert (error_code(error), error_status(error)) == (code, status)


def test_the_error_message_carries_the_field_only_when_there_is_one() -> None:
    assert error_message(domain.NotOpen("投票未开启或已经结束", "round")) == {
        "t": "error",
        "code": "not_open",
        "msg": "投票未开启或已经结束",
        "field": "round",
    }
    assert error_message(domain.Unavailable()) == {
        "t": "error",
        "code": "unavailable",
        "msg": "系统暂不可用，正在重连",
    }
    assert error_message(domain.Refused("会议已经开始"))["field"] == "action"
