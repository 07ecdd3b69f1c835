"""Commands: the chair's actions by name, as the console sends them."""

from __future__ import annotations

import dataclasses

import pytest

from meeting import commands as c

ACTIONS = [
    (c.Start, "start"),
    (c.Next, "next"),
    (c.Back, "back"),
    (c.OpenVoting, "open"),
    (c.CloseVoting, "close"),
    (c.RevealResults, "reveal"),
    (c.Pause, "pause"),
    (c.Resume, "resume"),
    (c.VoidRound, "void"),
]


def test_each_simple_action_names_one_command() -> None:
    assert c.SIMPLE_COMMANDS == {action: cls() for cls, action in ACTIONS}
    for cls, action in ACTIONS:
        assert cls.ACTION == action and type(c.SIMPLE_COMMANDS[action]) is cls


def test_the_console_offers_every_simple_action_in_a_fixed_order() -> None:
    assert c.ACTION_ORDER == (
        *("start", "open", "close", "reveal", "next", "resume", "back", "pause", "void"),
    )
    assert sorted(c.ACTION_ORDER) == sorted(c.SIMPLE_COMMANDS)


def test_a_comment_carries_its_text_and_is_no_simple_action() -> None:
    assert (c.RecordComment.ACTION, c.RecordComment().text, c.COMMENT_MAX_CHARS) == (
        "comment",
        "",
        2000,
    )
    assert "comment" not in c.SIMPLE_COMMANDS and "comment" not in c.ACTION_ORDER
    assert c.Command.ACTION == ""


@pytest.mark.parametrize(
    ("action", "text", "command"),
    [
        *[(action, None, cls()) for cls, action in ACTIONS],
        ("start", "ignored", c.Start()),
        ("comment", "很好", c.RecordComment("很好")),
        ("comment", None, c.RecordComment("")),
        ("comment", "", c.RecordComment("")),
        ("void", "设备故障", c.VoidRound("设备故障")),
        ("close", "ignored", c.CloseVoting()),
    ],
)
def test_command_for_an_action_name(action: str, text: str | None, command: c.Command) -> None:
    made = c.command_for(action, text)
    assert (made, type(made)) == (command, type(command))


@pytest.mark.parametrize("action", ["", "Start", "unknown", " next", "COMMENT"])
def test_an_unknown_action_name_is_a_key_error(action: str) -> None:
    with pytest.raises(KeyError):
        c.command_for(action)


def test_commands_are_values() -> None:
    assert c.RecordComment("a") == c.RecordComment("a") != c.RecordComment("b")
    assert c.Start() != c.Next()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.RecordComment("a").text = "b"  # type: ignore[misc]
