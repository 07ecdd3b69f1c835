"""The agenda state machine (一述一评): pure, so every transition is tested in microseconds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from meeting import commands as c
from meeting import events as e
from meeting.agenda import allowed_actions, decide, evolve, fold, initial_state, plan
from meeting.errors import Refused
from meeting.views import chair_view, phone_view, screen_view
from tests.helpers import write_meeting


@pytest.fixture
def meeting(tmp_path: Path):  # type: ignore[no-untyped-def]
    return write_meeting(tmp_path)[1]  # r01 onsite, r02 written, r03 onsite; voting at the end


def run(state, *commands, now=100.0):  # type: ignore[no-untyped-def]
    for command in commands:
        state = fold(state, decide(state, command, now))
    return state


def test_plan_skips_the_speaking_phases_of_a_written_report(meeting) -> None:
    steps = [(s.kind, s.reporters) for s in plan(meeting)]
    assert steps == [
        ("report", ("r01",)),
        ("comment", ("r01",)),
        ("report", ("r03",)),
        ("comment", ("r03",)),
        ("vote", ("r01", "r02", "r03")),
    ]


def test_plan_with_a_vote_after_each_report(meeting) -> None:
    each = dataclasses.replace(meeting, voting="each")
    steps = [(s.kind, s.reporters) for s in plan(each)]
    assert steps == [
        ("report", ("r01",)),
        ("comment", ("r01",)),
        ("vote", ("r01",)),
        ("vote", ("r02",)),
        ("report", ("r03",)),
        ("comment", ("r03",)),
        ("vote", ("r03",)),
    ]


def test_a_whole_meeting_in_order(meeting) -> None:
    state = initial_state(meeting)
    assert allowed_actions(state, 0) == ["start"]
    state = run(state, c.Start())
    assert (state.step.kind, state.step.reporter, state.step_started_at) == ("report", "r01", 100.0)
    state = run(state, c.Next(), c.RecordComment("很好"), c.Next(), c.Next(), c.Next())
    assert state.comments == {"r01": "很好"}
    assert state.step.kind == "vote" and state.round_status(state.position) == "ready"
    assert allowed_actions(state, 0)[0] == "open"
    state = run(state, c.OpenVoting())
    assert state.open_round.reporters == ("r01", "r02", "r03")
    state = evolve(state, e.BallotCast(state.position, "leaders"))
    state = evolve(state, e.BallotCast(state.position, "cadres"))
    assert state.open_round.cast == {"leaders": 1, "cadres": 1}
    assert allowed_actions(state, 0)[0] == "close"
    state = run(state, c.CloseVoting())
    with pytest.raises(Refused, match="计票尚未完成"):
        decide(state, c.RevealResults(), 0)
    state = evolve(state, e.ResultComputed(state.position, {"reporters": []}))
    assert allowed_actions(state, 0)[:2] == ["reveal", "next"]
    state = run(state, c.RevealResults(), c.Next())
    assert state.finished and allowed_actions(state, 0) == []
    with pytest.raises(Refused, match="议程已全部完成"):
        decide(state, c.Next(), 0)


@pytest.mark.parametrize(
    ("setup", "command", "reason"),
    [
        ((), c.Next(), "会议尚未开始"),
        ((), c.OpenVoting(), "会议尚未开始"),
        ((), c.CloseVoting(), "当前没有进行中的投票"),
        ((), c.Resume(), "会议没有暂停"),
        ((c.Start(),), c.Start(), "会议已经开始"),
        ((c.Start(),), c.Back(), "已是第一项"),
        ((c.Start(),), c.OpenVoting(), "不是投票环节"),
        ((c.Start(),), c.RecordComment("x"), "不在点评环节"),
        ((c.Start(), c.Next()), c.RecordComment("长" * 2001), "点评内容过长"),
        ((c.Start(), c.Pause()), c.Next(), "会议已暂停"),
        ((c.Start(), c.Pause()), c.Pause(), "已经暂停"),
        ((c.Start(), c.Next(), c.Next(), c.Next(), c.Next()), c.Next(), "本轮投票尚未结束"),
        ((c.Start(), c.Next(), c.Next(), c.Next(), c.Next(), c.OpenVoting()), c.Back(), "无法后退"),
        (
            (c.Start(), c.Next(), c.Next(), c.Next(), c.Next(), c.OpenVoting()),
            c.OpenVoting(),
            "开启过",
        ),
        ((c.Start(), c.Next(), c.Next(), c.Next(), c.Next(), c.OpenVoting()), c.Next(), "尚未结束"),
    ],
)
def test_actions_that_do_not_fit_are_refused_and_change_nothing(meeting, setup, command, reason):  # type: ignore[no-untyped-def]
    state = run(initial_state(meeting), *setup)
    with pytest.raises(Refused, match=reason):
        decide(state, command, 0)


def test_back_undoes_a_step_but_never_into_a_round_that_was_held(meeting) -> None:
    each = dataclasses.replace(meeting, voting="each")
    state = run(initial_state(each), c.Start(), c.Next())
    assert run(state, c.Back()).step.kind == "report"
    state = run(state, c.Next(), c.OpenVoting(), c.CloseVoting())
    state = evolve(state, e.ResultComputed(state.position, {"reporters": []}))
    state = run(state, c.Next())
    assert state.step.reporters == ("r02",)
    with pytest.raises(Refused, match="上一轮投票已进行"):
        decide(state, c.Back(), 0)


def test_the_timer_leaves_out_the_pauses(meeting) -> None:
    state = run(initial_state(meeting), c.Start(), now=100.0)
    state = run(state, c.Pause(), now=130.0)
    assert state.paused and state.paused_at == 130.0
    state = run(state, c.Resume(), now=150.0)
    view = phone_view(meeting, state)
    assert view["timer"] == {"started_at": 100.0, "paused_total": 20.0, "paused_at": None}


def test_replay_is_a_fold_and_gives_the_same_state(meeting) -> None:
    state = initial_state(meeting)
    history = []
    for command in (c.Start(), c.Next(), c.RecordComment("好"), c.Next(), c.Back(), c.Next()):
        new = decide(state, command, 5.0)
        history += new
        state = fold(state, new)
    assert fold(initial_state(meeting), history) == state
    assert state.version == len(history)
    assert state.agenda_version == len(history)
    state = evolve(state, e.BallotCast(99, "leaders"))  # a ballot does not move the agenda
    assert state.agenda_version == len(history) and state.version == len(history) + 1


def test_each_role_sees_what_it_needs_and_no_more(meeting) -> None:
    state = run(
        initial_state(meeting), c.Start(), c.Next(), c.Next(), c.Next(), c.Next(), c.OpenVoting()
    )
    round_id = state.position
    for group in ("leaders", "cadres"):
        state = evolve(state, e.BallotCast(round_id, group))
    live = {"r01": {"好": 2}}
    phone, screen = phone_view(meeting, state), screen_view(meeting, state, None)
    chair = chair_view(meeting, state, None, live, 0)
    assert "turnout" not in phone and phone["results"] is None
    assert screen["turnout"]["cast"] == 2 and "live" not in screen
    assert chair["live"] is None  # 2 ballots < privacy_min_ballots (3)
    state = evolve(state, e.BallotCast(round_id, "cadres"))
    assert chair_view(meeting, state, None, live, 0)["live"] == live
    state = run(state, c.CloseVoting())
    state = evolve(
        state, e.ResultComputed(round_id, {"reporters": [{"id": "r01", "final_grade": "好"}]})
    )
    assert screen_view(meeting, state, None)["result"] is None  # not before reveal
    assert chair_view(meeting, state, None, live, 0)["result"] is not None
    state = run(state, c.RevealResults())
    assert phone_view(meeting, state)["results"] == [{"id": "r01", "final_grade": "好"}]
