"""[agenda] time budgets: read from the meeting file, carried by every view for the current step."""

from __future__ import annotations

from fractions import Fraction

from meeting import commands as c
from meeting.agenda import decide, fold, initial_state
from meeting.views import agenda_view, step_budget
from tally.meeting_file import parse_meeting_text
from tally.model import Agenda

FILE = """
[meeting]
title = "测试"
date = "2026-12-28"
seats = 10
[[reporters]]
id = "r01"
name = "王建国"
org = "城关镇党委"
"""


def test_no_agenda_table_means_no_budgets() -> None:
    assert parse_meeting_text(FILE).agenda == Agenda(None, None)


def test_budgets_are_exact_minutes() -> None:
    meeting = parse_meeting_text(FILE + "[agenda]\nreport_minutes = 8\ncomment_minutes = 0.5\n")
    assert meeting.agenda == Agenda(Fraction(8), Fraction(1, 2))
    only = parse_meeting_text(FILE + "[agenda]\ncomment_minutes = 600\n")
    assert only.agenda == Agenda(None, Fraction(600))


def test_the_budget_of_each_kind_of_step_in_seconds() -> None:
    meeting = parse_meeting_text(FILE + "[agenda]\nreport_minutes = 8\ncomment_minutes = 0.5\n")
    assert step_budget(meeting, "report") == 480.0
    assert step_budget(meeting, "comment") == 30.0
    assert step_budget(meeting, "vote") is None
    assert step_budget(meeting, None) is None
    assert step_budget(parse_meeting_text(FILE), "report") is None


def test_the_view_carries_the_current_steps_budget() -> None:
    meeting = parse_meeting_text(FILE + "[agenda]\nreport_minutes = 8\ncomment_minutes = 2\n")
    state = initial_state(meeting)
    assert agenda_view(meeting, state)["budget"] is None
    budgets = []
    for command in (c.Start(), c.Next(), c.Next()):
        state = fold(state, decide(state, command, 100.0))
        budgets.append(agenda_view(meeting, state)["budget"])
    assert budgets == [480.0, 120.0, None]  # report, comment, vote
