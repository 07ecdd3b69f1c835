"""InputError: where and what, joined with a full-width colon; no colon when nowhere."""

from __future__ import annotations

import pytest

from tally.errors import InputError


@pytest.mark.parametrize(
    ("where", "message", "text"),
    [
        (
            "m.toml reporters[2].id",
            "述职人编号“r01”重复",
            "m.toml reporters[2].id：述职人编号“r01”重复",
        ),
        ("b.csv:3:4", "无效的标记“优”", "b.csv:3:4：无效的标记“优”"),
        ("", "没有选票", "没有选票"),
    ],
)
def test_where_and_message_are_kept_and_joined(where: str, message: str, text: str) -> None:
    error = InputError(where, message)
    assert (error.where, error.message, str(error), error.args) == (where, message, text, (text,))


def test_it_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="^x：y$"):
        raise InputError("x", "y")
