"""The agenda state machine (一述一评): pure, so every transition is tested in microseconds.

The meeting here has three reporters: r01 and r03 report on site, r02 in writing (书面述职, no
speaking phases). With voting = "end" its steps are

    0 report r01 · 1 comment r01 · 2 report r03 · 3 comment r03 · 4 vote (r01, r02, r03)

and with voting = "each"

    0 report r01 · 1 comment r01 · 2 vote r01 · 3 vote r02 · 4 report r03 · 5 comment r03 ·
    6 vote r03
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting import commands as c
from meeting import events as e
from meeting.agenda import (
    MeetingState,
    Round,
    Step,
    allowed_actions,
    decide,
    evolve,
    fold,
    initial_state,
    plan,
)
from meeting.errors import Refused, TooEarly
from tally.model import Group, Meeting, Reporter

DIGEST = "d" * 64
PROPERTY = settings(max_examples=150, deadline=None)


def small_meeting(voting: str = "end") -> Meeting:
    return Meeting(
        title="测试会议",
        date="2026-12-28",
        place="测试会场",
        reporters=(
            Reporter("r01", "王建国", "城关镇党委"),
            Reporter("r02", "李秀英", "青溪镇党委", mode="written"),
            Reporter("r03", "张志强", "木鱼镇党委", flags=("问责",)),
        ),
        groups=(
            Group("leaders", "县级领导", 10, Fraction(2, 5)),
            Group("cadres", "基层代表", 30, Fraction(3, 5)),
        ),
        voting=voting,  # type: ignore[arg-type]
    )


END = small_meeting("end")
EACH = small_meeting("each")
# Chair actions that take the "end" meeting to its vote step (4), and the "each" meeting from
# its first vote step (2) through a closed round to the second one (3).
TO_VOTE = (c.Start(), c.Next(), c.Next(), c.Next(), c.Next())


def run(state: MeetingState, *commands: c.Command, now: float = 100.0) -> MeetingState:
    for command in commands:
        state = fold(state, decide(state, command, now))
    return state


def reach(meeting: Meeting, *commands: c.Command, now: float = 100.0) -> MeetingState:
    return run(initial_state(meeting, DIGEST), *commands, now=now)


def counted(state: MeetingState, result: dict[str, Any] | None = None) -> MeetingState:
    """The tally of the current round is in (what the server adds after a close)."""
    held = state.current_round
    round_id = held.id if held is not None else state.position
    return evolve(state, e.ResultComputed(round_id, result or {"reporters": []}))


def closed_round(meeting: Meeting) -> MeetingState:
    """Started, at the first vote step, its round opened and closed but not yet counted."""
    state = reach(meeting, c.Start())
    while state.step is not None and state.step.kind != "vote":
        state = run(state, c.Next())
    return run(state, c.OpenVoting(), c.CloseVoting(force=True))


def each_at_second_round() -> MeetingState:
    """ "each": r01's round held and counted, now at r02's vote step (3), its round ready."""
    return run(counted(closed_round(EACH)), c.Next())


def each_past_second_round() -> MeetingState:
    """ "each": r02's round closed and counted, now at r03's report step (4)."""
    return run(
        counted(run(each_at_second_round(), c.OpenVoting(), c.CloseVoting(force=True))), c.Next()
    )


def finished(meeting: Meeting) -> MeetingState:
    """Every round held, counted and revealed, and the agenda run to its end."""
    state = reach(meeting, c.Start())
    while not state.finished:
        if state.step is not None and state.step.kind == "vote":
            state = counted(run(state, c.OpenVoting(), c.CloseVoting(force=True)))
            state = run(state, c.RevealResults())
        state = run(state, c.Next())
    return state


# ---- plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "steps"),
    [
        (
            END,
            [
                ("report", ("r01",)),
                ("comment", ("r01",)),
                ("report", ("r03",)),
                ("comment", ("r03",)),
                ("vote", ("r01", "r02", "r03")),
            ],
        ),
        (
            EACH,
            [
                ("report", ("r01",)),
                ("comment", ("r01",)),
                ("vote", ("r01",)),
                ("vote", ("r02",)),
                ("report", ("r03",)),
                ("comment", ("r03",)),
                ("vote", ("r03",)),
            ],
        ),
    ],
    ids=["vote at the end", "vote after each report"],
)
def test_plan_skips_the_speaking_phases_of_a_written_report(
    meeting: Meeting, steps: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert [(s.kind, s.reporters) for s in plan(meeting)] == steps


def test_a_step_names_its_reporter_except_a_vote() -> None:
    assert [s.reporter for s in plan(END)] == ["r01", "r01", "r03", "r03", None]
    assert Step("vote", ("r02",)).reporter is None


# ---- the state and what it says of itself ---------------------------------------------------


def test_the_initial_state_is_before_the_first_step_with_nothing_held() -> None:
    assert initial_state(END, DIGEST) == MeetingState(
        steps=plan(END),
        position=-1,
        version=0,
        agenda_version=0,
        step_started_at=None,
        paused_at=None,
        paused_total=0.0,
        rounds={},
        results={},
        remarks={},
        joined={},
        meeting_digest=DIGEST,
    )
    assert initial_state(END).meeting_digest == ""


def test_a_round_opens_with_nothing_cast_and_counts_its_ballots() -> None:
    held = Round(4, ("r01",))
    assert (held.status, held.cast, held.meeting_digest, held.total) == ("open", {}, "", 0)
    assert Round(4, ("r01",), cast={"leaders": 2, "cadres": 5}).total == 7


@pytest.mark.parametrize(
    ("position", "started", "finished", "kind"),
    [
        (-1, False, False, None),
        (0, True, False, "report"),
        (4, True, False, "vote"),
        (5, True, True, None),
    ],
)
def test_position_says_started_finished_and_step(
    position: int, started: bool, finished: bool, kind: str | None
) -> None:
    state = dataclasses.replace(initial_state(END), position=position)
    assert (state.started, state.finished) == (started, finished)
    assert (state.step.kind if state.step else None) == kind


def test_paused_is_whether_a_pause_started() -> None:
    state = initial_state(END)
    assert not state.paused
    assert dataclasses.replace(state, paused_at=0.0).paused


def test_the_open_round_is_the_one_whose_status_is_open() -> None:
    state = each_at_second_round()
    assert state.rounds[2].status == "closed" and state.open_round is None
    state = run(state, c.OpenVoting())
    assert state.open_round == Round(
        3, ("r02",), "open", meeting_digest=DIGEST, opened_at=100.0, step=3, seq=1
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (initial_state(EACH), None),
        (reach(EACH, c.Start()), None),  # a report step
        (reach(EACH, c.Start(), c.Next(), c.Next()), None),  # a vote step, its round not opened
        (closed_round(EACH), Round(2, ("r01",), "closed", {}, DIGEST, opened_at=100.0, step=2)),
        (each_past_second_round(), None),
    ],
    ids=["not started", "report step", "vote step, ready", "vote step, held", "after a round"],
)
def test_the_current_round_is_that_of_the_current_vote_step(
    state: MeetingState, expected: Round | None
) -> None:
    assert state.current_round == expected


def test_after_the_end_the_current_round_is_the_last_one_held() -> None:
    state = finished(EACH)
    assert sorted(state.rounds) == [2, 3, 6]
    assert state.current_round == Round(
        6, ("r03",), "revealed", {}, DIGEST, opened_at=100.0, step=6, seq=2
    )
    # Held in another order, the last round is still the one of the latest step.
    rounds = {6: state.rounds[6], 2: state.rounds[2], 3: state.rounds[3]}
    assert dataclasses.replace(state, rounds=rounds).current_round == state.rounds[6]
    assert dataclasses.replace(state, rounds={}).current_round is None


def test_a_round_not_opened_is_ready() -> None:
    state = closed_round(EACH)
    assert [state.round_status(p) for p in (0, 2, 3)] == ["ready", "closed", "ready"]


@pytest.mark.parametrize(
    ("state", "statuses"),
    [
        (initial_state(EACH), ["pending", "pending", "pending"]),
        (reach(EACH, c.Start()), ["current", "pending", "pending"]),
        (reach(EACH, c.Start(), c.Next()), ["current", "pending", "pending"]),
        # r01's speaking phases are over: done before its round opens.
        (reach(EACH, c.Start(), c.Next(), c.Next()), ["done", "pending", "pending"]),
        # r02 reports in writing: done once its round has opened.
        (each_at_second_round(), ["done", "pending", "pending"]),
        (run(each_at_second_round(), c.OpenVoting()), ["done", "done", "pending"]),
        (
            run(each_at_second_round(), c.OpenVoting(), c.CloseVoting(force=True)),
            ["done", "done", "pending"],
        ),
        (finished(EACH), ["done", "done", "done"]),
        (reach(END, *TO_VOTE), ["done", "pending", "done"]),
        (reach(END, *TO_VOTE, c.OpenVoting()), ["done", "done", "done"]),
        # Finished, whatever else the state says.
        (dataclasses.replace(initial_state(END), position=5), ["done", "done", "done"]),
        # Only the speaking steps left behind or a round held make a reporter done: a vote
        # step passed without its round (a hand-made state, the agenda never does this) not.
        (dataclasses.replace(initial_state(EACH), position=4), ["done", "pending", "current"]),
    ],
    ids=[
        "not started",
        "r01 reports",
        "r01 is commented on",
        "r01's vote step",
        "r02's vote step",
        "r02's round open",
        "r02's round closed",
        "finished",
        "end: vote step",
        "end: round open",
        "end: finished",
        "each: vote steps passed by hand",
    ],
)
def test_each_reporter_is_pending_current_or_done(state: MeetingState, statuses: list[str]) -> None:
    assert [state.reporter_status(r) for r in ("r01", "r02", "r03")] == statuses


# ---- decide: what each action produces -------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "command", "events"),
    [
        (initial_state(END), c.Start(), [e.MeetingStarted(7.0), e.StepEntered(0, 7.0)]),
        (reach(END, c.Start()), c.Next(), [e.StepEntered(1, 7.0)]),
        (reach(END, c.Start(), c.Next()), c.Back(), [e.StepEntered(0, 7.0)]),
        (reach(END, *TO_VOTE), c.Back(), [e.StepEntered(3, 7.0)]),
        (
            reach(END, *TO_VOTE),
            c.OpenVoting(),
            [e.VotingOpened(4, ("r01", "r02", "r03"), 7.0, DIGEST, step=4)],
        ),
        (reach(END, *TO_VOTE, c.OpenVoting()), c.CloseVoting(force=True), [e.VotingClosed(4, 7.0)]),
        (closed_round(END), c.Next(), [e.MeetingFinished(7.0)]),
        (counted(closed_round(END)), c.RevealResults(), [e.ResultsRevealed(4, 7.0)]),
        (counted(closed_round(EACH)), c.Next(), [e.StepEntered(3, 7.0)]),
        (
            run(counted(closed_round(EACH)), c.RevealResults()),
            c.Next(),
            [e.StepEntered(3, 7.0)],
        ),
        (run(each_past_second_round(), c.Next()), c.Next(), [e.StepEntered(6, 7.0)]),
        (reach(END, c.Start()), c.Pause(), [e.MeetingPaused(7.0)]),
        (reach(END, c.Start(), c.Pause()), c.Resume(), [e.MeetingResumed(7.0)]),
        (
            reach(END, c.Start(), c.Next()),
            c.RecordComment("很好"),
            [e.CommentRecorded("r01", "很好", 7.0)],
        ),
        (
            reach(END, c.Start(), c.Next(), c.Next(), c.Next()),
            c.RecordComment("长" * c.COMMENT_MAX_CHARS),
            [e.CommentRecorded("r03", "长" * 2000, 7.0)],
        ),
        # Closing, revealing and recording a comment do not wait for a pause to end.
        (
            reach(END, *TO_VOTE, c.OpenVoting(), c.Pause()),
            c.CloseVoting(force=True),
            [e.VotingClosed(4, 7.0)],
        ),
        (
            run(counted(closed_round(END)), c.Pause()),
            c.RevealResults(),
            [e.ResultsRevealed(4, 7.0)],
        ),
        (
            reach(END, c.Start(), c.Next(), c.Pause()),
            c.RecordComment(""),
            [e.CommentRecorded("r01", "", 7.0)],
        ),
        # After the end the last round can still be revealed.
        (run(counted(closed_round(END)), c.Next()), c.RevealResults(), [e.ResultsRevealed(4, 7.0)]),
    ],
    ids=[
        "start",
        "next",
        "back",
        "back from a vote step not opened",
        "open",
        "close",
        "next from the last step finishes",
        "reveal",
        "next from a closed round",
        "next from a revealed round",
        "next to the last step",
        "pause",
        "resume",
        "comment",
        "the longest comment",
        "close while paused",
        "reveal while paused",
        "comment while paused",
        "reveal after the end",
    ],
)
def test_each_action_that_fits_gives_its_events(
    state: MeetingState, command: c.Command, events: list[e.Event]
) -> None:
    assert decide(state, command, 7.0) == events


PAUSED_AT_VOTE = reach(END, *TO_VOTE, c.Pause())
OPEN = reach(END, *TO_VOTE, c.OpenVoting())


@pytest.mark.parametrize(
    ("state", "command", "reason"),
    [
        (initial_state(END), c.Next(), "会议尚未开始"),
        (initial_state(END), c.Back(), "会议尚未开始"),
        (initial_state(END), c.OpenVoting(), "会议尚未开始"),
        (initial_state(END), c.CloseVoting(force=True), "当前没有进行中的投票"),
        (initial_state(END), c.RevealResults(), "本轮投票尚未结束，不能公布结果"),
        (initial_state(END), c.Pause(), "会议未在进行中，无法暂停"),
        (initial_state(END), c.Resume(), "会议没有暂停"),
        (initial_state(END), c.RecordComment("x"), "当前不在点评或讲话环节"),
        (reach(END, c.Start()), c.Start(), "会议已经开始"),
        (reach(END, c.Start()), c.Back(), "已是第一项，无法后退"),
        (reach(END, c.Start()), c.OpenVoting(), "当前环节不是投票环节"),
        (reach(END, c.Start()), c.RecordComment("x"), "当前不在点评或讲话环节"),
        (reach(END, c.Start()), c.RevealResults(), "本轮投票尚未结束，不能公布结果"),
        (
            reach(END, c.Start(), c.Next()),
            c.RecordComment("长" * 2001),
            "点评内容过长：最多2000字",
        ),
        (reach(END, c.Start(), c.Pause()), c.Start(), "会议已暂停，请先继续"),
        (reach(END, c.Start(), c.Pause()), c.Next(), "会议已暂停，请先继续"),
        (reach(END, c.Start(), c.Next(), c.Pause()), c.Back(), "会议已暂停，请先继续"),
        (PAUSED_AT_VOTE, c.OpenVoting(), "会议已暂停，请先继续"),
        (reach(END, c.Start(), c.Pause()), c.Pause(), "会议已经暂停"),
        (reach(END, *TO_VOTE), c.Next(), "本轮投票尚未结束，请先开启并结束投票"),
        (reach(END, *TO_VOTE), c.RevealResults(), "本轮投票尚未结束，不能公布结果"),
        (reach(END, *TO_VOTE), c.CloseVoting(force=True), "当前没有进行中的投票"),
        (OPEN, c.Next(), "本轮投票尚未结束，请先开启并结束投票"),
        (OPEN, c.Back(), "本轮投票已开始，无法后退"),
        (OPEN, c.OpenVoting(), "本轮投票已经开启过"),
        (OPEN, c.RevealResults(), "本轮投票尚未结束，不能公布结果"),
        (closed_round(END), c.Back(), "本轮投票已开始，无法后退"),
        (closed_round(END), c.OpenVoting(), "本轮投票已经开启过"),
        (closed_round(END), c.CloseVoting(force=True), "当前没有进行中的投票"),
        (closed_round(END), c.RevealResults(), "计票尚未完成，请稍候"),
        (run(counted(closed_round(END)), c.RevealResults()), c.RevealResults(), "结果已经公布"),
        (run(counted(closed_round(END)), c.RevealResults()), c.Back(), "本轮投票已开始，无法后退"),
        (each_at_second_round(), c.Back(), "上一轮投票已进行，无法后退"),
        # Past a round (at a report step) its result can no longer be revealed.
        (each_past_second_round(), c.RevealResults(), "本轮投票尚未结束，不能公布结果"),
        (finished(END), c.Next(), "议程已全部完成"),
        (finished(END), c.Back(), "议程已全部完成"),
        (finished(END), c.OpenVoting(), "议程已全部完成"),
        (finished(END), c.Pause(), "会议未在进行中，无法暂停"),
        (finished(END), c.RecordComment("x"), "当前不在点评或讲话环节"),
        (initial_state(END), c.Command(), "未知的操作"),
    ],
)
def test_actions_that_do_not_fit_are_refused_with_the_reason(
    state: MeetingState, command: c.Command, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        decide(state, command, 7.0)
    assert (refused.value.msg, str(refused.value), refused.value.field) == (
        reason,
        reason,
        "action",
    )


def test_back_never_goes_into_a_round_that_was_held() -> None:
    state = each_at_second_round()
    assert state.step == Step("vote", ("r02",))
    with pytest.raises(Refused, match="^上一轮投票已进行，无法后退$"):
        decide(state, c.Back(), 0)
    # A vote step left without a round (only a hand-made state has one) can be gone back to.
    skipped = dataclasses.replace(state, rounds={})
    assert decide(skipped, c.Back(), 0) == [e.StepEntered(2, 0)]


# ---- allowed_actions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        (initial_state(END), ["start"]),
        (reach(END, c.Start()), ["next", "pause"]),
        (reach(END, c.Start(), c.Next()), ["next", "back", "pause"]),
        (reach(END, c.Start(), c.Pause()), ["resume"]),
        (reach(END, *TO_VOTE), ["open", "back", "pause"]),
        (OPEN, ["close", "pause"]),
        (reach(END, *TO_VOTE, c.OpenVoting(), c.Pause()), ["close", "resume"]),
        (closed_round(END), ["next", "pause", "void"]),
        (counted(closed_round(END)), ["reveal", "next", "pause", "void"]),
        (run(counted(closed_round(END)), c.RevealResults()), ["next", "pause"]),
        (each_at_second_round(), ["open", "pause"]),
        (run(counted(closed_round(END)), c.Next()), ["reveal"]),
        (finished(END), []),
    ],
)
def test_allowed_actions_lists_what_fits_the_natural_next_first(
    state: MeetingState, actions: list[str]
) -> None:
    assert allowed_actions(state, 7.0) == actions


# ---- evolve and fold -------------------------------------------------------------------------


def test_a_ballot_counts_in_its_round_and_group() -> None:
    state = reach(END, *TO_VOTE, c.OpenVoting())
    state = fold(state, [e.BallotCast(4, "leaders"), e.BallotCast(4, "cadres")])
    state = evolve(state, e.BallotCast(4, "cadres"))
    assert state.rounds[4].cast == {"leaders": 1, "cadres": 2}
    assert state.rounds[4].total == 3
    assert evolve(state, e.BallotCast(2, "leaders")).rounds == state.rounds  # no such round


def test_joined_tokens_are_counted_per_group() -> None:
    state = fold(initial_state(END), [e.TokenJoined("leaders"), e.TokenJoined("cadres")])
    state = evolve(state, e.TokenJoined("leaders"))
    assert state.joined == {"leaders": 2, "cadres": 1}


def test_a_second_comment_keeps_the_first_reporters() -> None:
    state = evolve(initial_state(END), e.CommentRecorded("r01", "很好", 1.0))
    state = evolve(state, e.CommentRecorded("r03", "较好", 2.0))
    assert state.remarks == {("comment", "r01", ""): "很好", ("comment", "r03", ""): "较好"}
    state = evolve(state, e.CommentRecorded("r01", "好", 3.0))  # the chair corrects it
    assert state.remarks == {("comment", "r01", ""): "好", ("comment", "r03", ""): "较好"}


def test_a_second_rounds_result_keeps_the_first() -> None:
    state = run(counted(closed_round(EACH), {"round": 2}), c.Next())
    state = counted(run(state, c.OpenVoting(), c.CloseVoting(force=True)), {"round": 3})
    assert state.results == {2: {"round": 2}, 3: {"round": 3}}


def test_opening_a_round_records_the_meeting_file_it_opened_under() -> None:
    state = evolve(initial_state(EACH), e.VotingOpened(2, ("r01",), 1.0, "abc"))
    assert state.rounds == {2: Round(2, ("r01",), "open", {}, "abc", opened_at=1.0, step=2)}


def test_closing_and_revealing_set_the_status_of_that_round_only() -> None:
    state = counted(closed_round(EACH))
    state = run(state, c.Next(), c.OpenVoting())
    assert [r.status for r in state.rounds.values()] == ["closed", "open"]
    state = evolve(state, e.ResultsRevealed(2, 1.0))
    assert [r.status for r in state.rounds.values()] == ["revealed", "open"]
    state = evolve(state, e.VotingClosed(3, 1.0))
    assert [r.status for r in state.rounds.values()] == ["revealed", "closed"]
    for unknown in (e.VotingClosed(6, 1.0), e.ResultsRevealed(6, 1.0)):
        assert evolve(state, unknown).rounds == state.rounds


def test_entering_a_step_starts_its_timer_afresh() -> None:
    state = reach(END, c.Start(), now=100.0)
    assert (state.position, state.step_started_at, state.paused_total) == (0, 100.0, 0.0)
    state = run(state, c.Pause(), now=110.0)
    state = run(state, c.Resume(), now=115.0)
    assert state.paused_total == 5.0
    state = run(state, c.Next(), now=120.0)
    assert (state.position, state.step_started_at, state.paused_total) == (1, 120.0, 0.0)
    state = evolve(dataclasses.replace(state, paused_total=5.0), e.MeetingFinished(130.0))
    assert (state.position, state.step_started_at, state.paused_total) == (5, 130.0, 0.0)


def test_the_timer_adds_up_every_pause_of_the_step() -> None:
    state = reach(END, c.Start(), now=100.0)
    state = run(state, c.Pause(), now=130.0)
    assert (state.paused, state.paused_at) == (True, 130.0)
    state = run(state, c.Resume(), now=150.0)
    assert (state.paused, state.paused_at, state.paused_total) == (False, None, 20.0)
    state = run(state, c.Pause(), now=160.0)
    state = run(state, c.Resume(), now=190.0)
    assert (state.paused_at, state.paused_total, state.step_started_at) == (None, 50.0, 100.0)


def test_a_resume_without_a_pause_adds_no_time() -> None:
    state = dataclasses.replace(reach(END, c.Start()), paused_total=3.0)
    assert evolve(state, e.MeetingResumed(500.0)).paused_total == 3.0


class FromANewerVersion(e.Event):
    TYPE: ClassVar[str] = "FromANewerVersion"


@pytest.mark.parametrize(
    ("event", "agenda_moves"),
    [
        (e.MeetingStarted(1.0), 1),
        (e.CardsIssued("g1", {"leaders": 10}), 1),
        (FromANewerVersion(), 1),
        (e.BallotCast(4, "leaders"), 0),
        (e.TokenJoined("leaders"), 0),
    ],
)
def test_events_that_change_nothing_shown_still_count(event: e.Event, agenda_moves: int) -> None:
    state = reach(END, *TO_VOTE)
    after = evolve(state, event)
    assert after == dataclasses.replace(
        state,
        version=state.version + 1,
        agenda_version=state.agenda_version + agenda_moves,
        joined=after.joined,  # TokenJoined counts a token: tested above
    )


def test_replay_is_a_fold_and_gives_the_same_state() -> None:
    state = initial_state(END)
    history: list[e.Event] = []
    for command in (c.Start(), c.Next(), c.RecordComment("好"), c.Next(), c.Back(), c.Next()):
        new = decide(state, command, 5.0)
        history += new
        state = fold(state, new)
    assert fold(initial_state(END), history) == state
    # A comment does not move the agenda (an autosave never makes the next click a conflict).
    assert (state.version, state.agenda_version) == (len(history), len(history) - 1) == (7, 6)
    state = evolve(state, e.BallotCast(99, "leaders"))  # a ballot does not move the agenda
    assert (state.version, state.agenda_version) == (8, 6)
    assert fold(state, []) is state
    waiting = evolve(state, e.TellerKeyNeeded(99))  # of no round held: only the version moves
    assert (waiting.version, waiting.agenda_version, waiting.rounds) == (9, 6, state.rounds)


def test_a_round_is_opened_with_its_seal_and_marked_when_it_waits_for_the_teller_key() -> None:
    state = run(initial_state(END), c.Start(), *[c.Next()] * 4)
    opened = e.VotingOpened(4, ("r01",), 1.0, "d", "pub", "sealed", "id")
    state = fold(state, [opened, e.VotingClosed(4, 2.0)])
    held = state.rounds[4]
    assert (held.sealing_key, held.key_for_teller, held.teller_key_id) == ("pub", "sealed", "id")
    assert not held.awaiting_teller
    assert evolve(state, e.TellerKeyNeeded(4)).rounds[4].awaiting_teller


def test_a_whole_meeting_in_order() -> None:
    state = initial_state(END)
    state = run(state, c.Start())
    assert (state.step, state.step_started_at) == (Step("report", ("r01",)), 100.0)
    state = run(state, c.Next(), c.RecordComment("很好"), c.Next(), c.Next(), c.Next())
    assert state.remarks == {("comment", "r01", ""): "很好"}
    assert state.step == Step("vote", ("r01", "r02", "r03")) and state.round_status(4) == "ready"
    state = run(state, c.OpenVoting())
    state = fold(state, [e.BallotCast(4, "leaders"), e.BallotCast(4, "cadres")])
    assert state.open_round == Round(
        4, ("r01", "r02", "r03"), "open", {"leaders": 1, "cadres": 1}, opened_at=100.0, step=4
    )
    state = counted(run(state, c.CloseVoting(force=True)))
    state = run(state, c.RevealResults(), c.Next())
    assert state.finished and state.rounds[4].status == "revealed"
    assert state.agenda_version == state.version - 3  # every event but two ballots, a comment


# ---- properties over any sequence of chair actions -----------------------------------------


def ballot(group: str) -> Any:
    def cast(state: MeetingState, now: float) -> list[e.Event]:
        held = state.open_round
        return [e.BallotCast(held.id, group)] if held is not None else []

    return cast


def tally(state: MeetingState, now: float) -> list[e.Event]:
    held = state.current_round
    if held is None or held.status != "closed" or held.id in state.results:
        return []
    return [e.ResultComputed(held.id, {"round": held.id})]


def joined(state: MeetingState, now: float) -> list[e.Event]:
    return [e.TokenJoined("cadres")]


# What can happen at a meeting: a chair action, or what the server adds on its own (a ballot
# in the open round, the tally of a closed round, a phone joining in open mode).
MOVES = [
    *c.SIMPLE_COMMANDS.values(),
    c.CloseVoting(force=True),
    c.RecordComment("点评"),
    c.RecordComment("长" * 2001),
    ballot("leaders"),
    ballot("cadres"),
    tally,
    joined,
]
histories = st.tuples(
    st.sampled_from([END, EACH]),
    st.lists(st.tuples(st.sampled_from(MOVES), st.integers(0, 30)), max_size=60),
)


def play(
    meeting: Meeting, moves: list[tuple[Any, int]]
) -> list[tuple[MeetingState, list[e.Event]]]:
    """Each state reached and the events that led to it; refused actions change nothing."""
    state, now = initial_state(meeting, DIGEST), 0.0
    trail: list[tuple[MeetingState, list[e.Event]]] = [(state, [])]
    for move, seconds in moves:
        now += seconds
        if isinstance(move, c.Command):
            try:
                new = decide(state, move, now)
            except (Refused, TooEarly):
                continue
        else:
            new = move(state, now)
        state = fold(state, new)
        trail.append((state, new))
    return trail


def assert_consistent(state: MeetingState) -> None:
    steps = state.steps
    assert -1 <= state.position <= len(steps)
    assert 0 <= state.agenda_version <= state.version
    assert (state.step_started_at is not None) == state.started
    assert state.paused_total >= 0
    if state.paused:
        assert state.started and not state.finished
    for round_id, held in state.rounds.items():
        assert held.id == round_id <= state.position
        assert steps[round_id] == Step("vote", held.reporters)
        assert held.meeting_digest == DIGEST
    opened = [r.id for r in state.rounds.values() if r.status == "open"]
    assert opened in ([], [state.position])
    for position, step in enumerate(steps[: max(state.position, 0)]):
        if step.kind == "vote":  # every vote step left behind was held to its close
            assert state.round_status(position) in ("closed", "revealed")
    for round_id in state.results:
        assert state.round_status(round_id) in ("closed", "revealed")
    for held in state.rounds.values():
        if held.status == "revealed":
            assert held.id in state.results
    for _, reporter, _ in state.remarks:
        assert Step("comment", (reporter,)) in steps  # reached once; Back may have left it
    statuses = [state.reporter_status(r) for r in ("r01", "r02", "r03")]
    assert statuses.count("current") <= 1
    if not state.started:
        assert set(statuses) == {"pending"}
    if state.finished:
        assert set(statuses) == {"done"}


@PROPERTY
@given(histories)
def test_any_sequence_of_actions_leaves_a_consistent_state(history: Any) -> None:
    for state, _ in play(*history):
        assert_consistent(state)


@PROPERTY
@given(histories)
def test_replaying_the_events_gives_the_state_step_by_step(history: Any) -> None:
    trail = play(*history)
    events = [event for _, new in trail for event in new]
    start, last = trail[0][0], trail[-1][0]
    assert fold(start, events) == last
    state = start
    for event in events:
        state = evolve(state, event)
    assert state == last
    assert last.version == len(events)
    assert last.agenda_version == sum(1 for event in events if event.moves_agenda)


def expected_actions(state: MeetingState) -> set[str]:
    """What the chair may do, each action's rule written out apart from `decide`."""
    running = state.step is not None and not state.paused
    vote = state.step is not None and state.step.kind == "vote"
    status = state.round_status(state.position)
    previous = state.steps[state.position - 1] if state.position > 0 else None
    held = state.current_round
    allowed = {
        "start": not state.started,
        "next": running and (not vote or status in ("closed", "revealed")),
        "back": running
        and previous is not None
        and (not vote or status == "ready")
        and (previous.kind != "vote" or state.round_status(state.position - 1) == "ready"),
        "open": running and vote and status == "ready",
        "close": state.open_round is not None,
        "reveal": held is not None and held.status == "closed" and held.id in state.results,
        "pause": state.step is not None and not state.paused,
        "resume": state.paused,
    }
    return {action for action, fits in allowed.items() if fits}


@PROPERTY
@given(histories, st.sampled_from([0.0, 1e9]))
def test_allowed_actions_are_exactly_the_simple_commands_decide_accepts(
    history: Any, now: float
) -> None:
    for state, _ in play(*history):
        accepted = []
        for action, command in c.SIMPLE_COMMANDS.items():
            try:
                decide(state, command, now)
            except TooEarly:
                pass  # offered: the console confirms and sends `force`
            except Refused:
                continue
            accepted.append(action)
        actions = allowed_actions(state, now)
        assert set(actions) == set(accepted) == expected_actions(state)
        assert actions == [a for a in c.ACTION_ORDER if a in accepted]


def test_an_older_records_comment_still_moves_its_agenda_version() -> None:
    """Replayed, an older record's agenda version stays the one its store counted (a comment
    moved the agenda before CommentRecorded schema 2), so its chair actions still go through."""
    state = run(initial_state(END), c.Start())
    old = e.CommentRecorded("r01", "好", 1.0, moved_agenda=True)
    assert evolve(state, old).agenda_version == state.agenda_version + 1
    assert evolve(state, e.CommentRecorded("r01", "好", 1.0)).agenda_version == state.agenda_version
