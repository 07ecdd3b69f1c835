"""Meeting-day safety in the agenda: a slip cannot close a round (`too_early` unless confirmed
with `force`), and a step's clock is honest: going back to a step carries on its time."""

from __future__ import annotations

import pytest

from meeting import commands as c
from meeting import events as e
from meeting.agenda import (
    CLOSE_GUARD_SECONDS,
    MeetingState,
    allowed_actions,
    decide,
    evolve,
    fold,
    initial_state,
)
from meeting.errors import Refused, TooEarly
from tests.unit.test_agenda import END, TO_VOTE


def run(state: MeetingState, *commands: c.Command, now: float) -> MeetingState:
    for command in commands:
        state = fold(state, decide(state, command, now))
    return state


def opened(at: float = 100.0, ballots: int = 0) -> MeetingState:
    state = run(initial_state(END), *TO_VOTE, c.OpenVoting(), now=at)
    return fold(state, [e.BallotCast(4, "leaders")] * ballots)


def test_the_guard_is_ten_seconds() -> None:
    assert CLOSE_GUARD_SECONDS == 10.0


def test_a_round_remembers_when_it_opened() -> None:
    assert opened(at=123.5).rounds[4].opened_at == 123.5


@pytest.mark.parametrize(
    ("ballots", "now", "message"),
    [
        (0, 100.25, "本轮还没有人投票；如确需结束投票，请确认后再操作"),  # the double click
        (0, 500.0, "本轮还没有人投票；如确需结束投票，请确认后再操作"),  # long open, nobody voted
        (3, 109.99, "投票开启不到10秒，可能是误点；如确需结束，请确认后再操作"),
    ],
)
def test_closing_too_early_is_refused_without_force(ballots: int, now: float, message: str) -> None:
    state = opened(ballots=ballots)
    with pytest.raises(TooEarly) as caught:
        decide(state, c.CloseVoting(), now)
    assert (caught.value.msg, caught.value.field) == (message, "force")
    assert not isinstance(caught.value, Refused)  # the action fits; it needs confirming
    assert decide(state, c.CloseVoting(force=True), now) == [e.VotingClosed(4, now)]


def test_a_round_with_ballots_closes_after_ten_seconds() -> None:
    state = opened(ballots=1)
    assert decide(state, c.CloseVoting(), 110.0) == [e.VotingClosed(4, 110.0)]


def test_close_is_offered_while_it_still_needs_confirming() -> None:
    assert allowed_actions(opened(), 100.5) == ["close", "pause"]
    assert allowed_actions(opened(ballots=2), 200.0) == ["close", "pause"]


def test_no_round_open_is_still_refused_whatever_force() -> None:
    state = run(initial_state(END), *TO_VOTE, now=100.0)
    with pytest.raises(Refused, match="当前没有进行中的投票"):
        decide(state, c.CloseVoting(force=True), 100.0)


def test_command_for_carries_force_to_close_only() -> None:
    assert c.command_for("close") == c.CloseVoting(False)
    assert c.command_for("close", None, True) == c.CloseVoting(True)
    assert c.command_for("next", None, True) == c.Next()
    assert c.command_for("comment", "好", True) == c.RecordComment("好")


# ---- the step's clock -------------------------------------------------------------------


def elapsed(state: MeetingState, now: float) -> float:
    assert state.step_started_at is not None
    end = state.paused_at if state.paused_at is not None else now
    return end - state.step_started_at - state.paused_total


def test_going_back_carries_on_the_steps_time() -> None:
    state = run(initial_state(END), c.Start(), now=100.0)  # report r01 from 100
    state = run(state, c.Next(), now=400.0)  # 300 s of report; comment from 400
    assert elapsed(state, 430.0) == 30.0
    state = run(state, c.Back(), now=460.0)  # back to the report: 300 s already
    assert elapsed(state, 460.0) == 300.0
    assert elapsed(state, 520.0) == 360.0
    state = run(state, c.Next(), now=520.0)  # the comment carries on from its 60 s
    assert elapsed(state, 520.0) == 60.0
    assert state.step_elapsed == {0: 360.0, 1: 60.0}


def test_a_step_left_within_a_second_keeps_its_fraction_of_a_second() -> None:
    state = run(initial_state(END), c.Start(), now=100.0)
    state = run(state, c.Next(), now=100.25)
    state = run(state, c.Back(), now=101.0)
    assert elapsed(state, 101.0) == 0.25


def test_a_pause_is_not_counted_in_the_steps_time() -> None:
    state = run(initial_state(END), c.Start(), now=100.0)
    state = run(state, c.Pause(), now=160.0)
    state = run(state, c.Resume(), now=1000.0)
    state = run(state, c.Next(), now=1040.0)  # 60 + 40 s of report, the pause left out
    assert state.step_elapsed == {0: 100.0}
    state = run(state, c.Back(), now=1050.0)
    assert elapsed(state, 1050.0) == 100.0


def test_a_step_left_while_paused_keeps_the_time_up_to_the_pause() -> None:
    # decide never moves a paused agenda; a fold of such a stream still keeps honest time.
    state = run(initial_state(END), c.Start(), now=100.0)
    state = fold(state, [e.MeetingPaused(130.0), e.StepEntered(1, 200.0)])
    assert state.step_elapsed == {0: 30.0}


def test_the_end_keeps_the_last_steps_time_and_the_first_step_starts_fresh() -> None:
    state = evolve(initial_state(END), e.MeetingStarted(100.0))
    state = evolve(state, e.StepEntered(0, 100.0))
    assert (state.step_started_at, state.step_elapsed) == (100.0, {})
    state = evolve(state, e.MeetingFinished(250.0))
    assert (state.finished, state.step_started_at, state.step_elapsed) == (True, 250.0, {0: 150.0})


# ---- the wire: `force` in the chair message, `too_early` in the error table ---------------
