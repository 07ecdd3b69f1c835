"""The close guard on the wire: `force` is a bool of the chair message, `too_early` a 409."""

from __future__ import annotations

import msgpack

from meeting.errors import TooEarly
from server import messages
from server.errors import error_message, error_status


def test_force_is_a_bool_of_the_chair_message() -> None:
    got = messages.decode_frame(msgpack.packb({"t": "chair", "action": "close", "force": True}))
    assert isinstance(got, messages.Chair) and got.force is True
    bare = messages.decode_frame(msgpack.packb({"t": "chair", "action": "close"}))
    assert isinstance(bare, messages.Chair) and bare.force is False
    wrong = messages.decode_frame(msgpack.packb({"t": "chair", "action": "close", "force": 1}))
    assert isinstance(wrong, messages.Faulty)
    assert (wrong.error.field, wrong.error.msg) == ("force", "字段 force 的类型不对")


def test_too_early_is_a_409() -> None:
    refusal = TooEarly("投票开启不到10秒，可能是误点；如确需结束，请确认后再操作")
    assert error_status(refusal) == 409
    assert error_message(refusal) == {
        "t": "error",
        "code": "too_early",
        "msg": "投票开启不到10秒，可能是误点；如确需结束，请确认后再操作",
        "field": "force",
    }
