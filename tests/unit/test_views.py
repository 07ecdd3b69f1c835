"""What each role sees: phones the agenda and revealed grades, the projector turnout and revealed
results, the chair everything (live counts only past the privacy threshold).

The meeting: r01 and r03 report on site, r02 in writing; groups leaders (10 seats) and cadres
(30); live counts show from 3 ballots. With voting = "end" its steps are 0 report r01 ·
1 comment r01 · 2 report r03 · 3 comment r03 · 4 vote; with "each" 0 report r01 ·
1 comment r01 · 2 vote r01 · 3 vote r02 · 4 report r03 · 5 comment r03 · 6 vote r03.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting import commands as c
from meeting import events as e
from meeting.agenda import MeetingState, Round, decide, evolve, fold, initial_state
from meeting.errors import Refused
from meeting.views import (
    _round_view,
    agenda_view,
    chair_view,
    closed_reporters,
    latest_result,
    meeting_info,
    phone_view,
    plan_view,
    screen_view,
    turnout,
)
from tally.model import Group, Meeting, Reporter

END = Meeting(
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
)
EACH = dataclasses.replace(END, voting="each")
OPEN_MODE = dataclasses.replace(END, join="open")
TO_VOTE = (c.Start(), c.Next(), c.Next(), c.Next(), c.Next())
RESULT = {
    "round": 4,
    "reporters": [
        {"id": "r01", "final_grade": "好", "score": 95},
        {"id": "r02", "final_grade": "较好", "score": 82},
        {"id": "r03", "final_grade": "差", "score": 40},
    ],
}


# Rounds opened without a 监票人 key, a meeting file digest, or a ballots digest at close.
UNSEALED = {
    "sealed": False,
    "awaiting_teller": False,
    "meeting_digest": "",
    "ballots_digest": "",
    "voided": [],
}


def run(state: MeetingState, *commands: c.Command, now: float = 100.0) -> MeetingState:
    for command in commands:
        state = fold(state, decide(state, command, now))
    return state


def reach(meeting: Meeting, *commands: c.Command, now: float = 100.0) -> MeetingState:
    return run(initial_state(meeting), *commands, now=now)


def cast(state: MeetingState, *groups: str) -> MeetingState:
    return fold(state, [e.BallotCast(state.position, group) for group in groups])


def voting(*groups: str) -> MeetingState:
    """ "end", its round open with a ballot from each of `groups`."""
    return cast(reach(END, *TO_VOTE, c.OpenVoting()), *groups)


def counted(state: MeetingState, result: dict[str, Any] = RESULT) -> MeetingState:
    return evolve(state, e.ResultComputed(state.position, result))


def reporters(*statuses: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "r01",
            "name": "王建国",
            "org": "城关镇党委",
            "mode": "onsite",
            "status": statuses[0],
        },
        {
            "id": "r02",
            "name": "李秀英",
            "org": "青溪镇党委",
            "mode": "written",
            "status": statuses[1],
        },
        {
            "id": "r03",
            "name": "张志强",
            "org": "木鱼镇党委",
            "mode": "onsite",
            "status": statuses[2],
        },
    ]


def meeting_part(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": "测试会议",
        "date": "2026-12-28",
        "place": "测试会场",
        "join": meeting.join,
        "voting": meeting.voting,
    }


ALL = ["r01", "r02", "r03"]


@pytest.mark.parametrize(
    ("meeting", "state", "expected"),
    [
        (
            END,
            initial_state(END),
            {
                "reporters": reporters("pending", "pending", "pending"),
                "state": "not_started",
                "step": None,
                "phase": None,
                "reporter": None,
                "commenters": [],
                "timer": {"started_at": None, "paused_total": 0.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": None,
                "agenda_v": 0,
            },
        ),
        (
            END,
            run(reach(END, c.Start(), c.Next()), c.Pause(), now=130.0),
            {
                "reporters": reporters("current", "pending", "pending"),
                "state": "running",
                "step": 1,
                "phase": "comment",
                "reporter": "r01",
                "commenters": [],
                "timer": {"started_at": 100.0, "paused_total": 0.0, "paused_at": 130.0},
                "budget": None,
                "paused": True,
                "round": None,
                "agenda_v": 4,
            },
        ),
        (
            END,
            run(run(reach(END, c.Start()), c.Pause(), now=130.0), c.Resume(), now=150.0),
            {
                "reporters": reporters("current", "pending", "pending"),
                "state": "running",
                "step": 0,
                "phase": "report",
                "reporter": "r01",
                "commenters": [],
                "timer": {"started_at": 100.0, "paused_total": 20.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": None,
                "agenda_v": 4,
            },
        ),
        (
            END,
            reach(END, *TO_VOTE),
            {
                "reporters": reporters("done", "pending", "done"),
                "state": "running",
                "step": 4,
                "phase": "vote",
                "reporter": None,
                "commenters": [],
                "timer": {"started_at": 100.0, "paused_total": 0.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": {
                    "id": 4,
                    "reporters": ALL,
                    "status": "ready",
                    "opened_at": None,
                    **UNSEALED,
                },
                "agenda_v": 6,
            },
        ),
        (
            END,
            voting("leaders"),
            {
                "reporters": reporters("done", "done", "done"),
                "state": "running",
                "step": 4,
                "phase": "vote",
                "reporter": None,
                "commenters": [],
                "timer": {"started_at": 100.0, "paused_total": 0.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": {
                    "id": 4,
                    "reporters": ALL,
                    "status": "open",
                    "opened_at": 100.0,
                    **UNSEALED,
                },
                "agenda_v": 7,
            },
        ),
        (
            END,
            run(
                counted(run(voting(), c.CloseVoting(force=True))),
                c.RevealResults(),
                c.Next(),
                now=200.0,
            ),
            {
                "reporters": reporters("done", "done", "done"),
                "state": "finished",
                "step": None,
                "phase": None,
                "reporter": None,
                "commenters": [],
                "timer": {"started_at": 200.0, "paused_total": 0.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": {
                    "id": 4,
                    "reporters": ALL,
                    "status": "revealed",
                    "opened_at": 100.0,
                    **UNSEALED,
                },
                "agenda_v": 11,
            },
        ),
        (
            EACH,
            counted(
                run(
                    reach(EACH, c.Start(), c.Next(), c.Next()),
                    c.OpenVoting(),
                    c.CloseVoting(force=True),
                )
            ),
            {
                "reporters": reporters("done", "pending", "pending"),
                "state": "running",
                "step": 2,
                "phase": "vote",
                "reporter": None,
                "commenters": [],
                "timer": {"started_at": 100.0, "paused_total": 0.0, "paused_at": None},
                "budget": None,
                "paused": False,
                "round": {
                    "id": 2,
                    "reporters": ["r01"],
                    "status": "closed",
                    "opened_at": 100.0,
                    **UNSEALED,
                },
                "agenda_v": 7,
            },
        ),
    ],
    ids=[
        "not started",
        "paused in a comment",
        "after a pause",
        "vote step",
        "voting",
        "finished",
        "each: round closed",
    ],
)
def test_the_agenda_view_says_where_the_meeting_is(
    meeting: Meeting, state: MeetingState, expected: dict[str, Any]
) -> None:
    assert agenda_view(meeting, state) == {"meeting": meeting_part(meeting), **expected}


def test_between_rounds_no_round_is_shown() -> None:
    state = counted(
        run(reach(EACH, c.Start(), c.Next(), c.Next()), c.OpenVoting(), c.CloseVoting(force=True))
    )
    state = run(state, c.Next(), c.OpenVoting(), c.CloseVoting(force=True), c.Next())
    assert (state.step.kind if state.step else None, sorted(state.rounds)) == ("report", [2, 3])
    assert agenda_view(EACH, state)["round"] is None


# ---- results ---------------------------------------------------------------------------------


def with_results(rounds: dict[int, str], results: dict[int, Any]) -> MeetingState:
    held = {i: Round(i, ("r01",), status, seq=i) for i, status in rounds.items()}  # type: ignore[arg-type]
    return dataclasses.replace(initial_state(EACH), rounds=held, results=results)


@pytest.mark.parametrize(
    ("rounds", "results", "revealed", "anything"),
    [
        ({}, {}, None, None),
        ({2: "closed"}, {2: "A"}, None, "A"),
        ({2: "revealed"}, {2: "A"}, "A", "A"),
        ({2: "revealed", 3: "closed"}, {2: "A", 3: "B"}, "A", "B"),
        ({2: "revealed", 3: "revealed"}, {2: "A", 3: "B"}, "B", "B"),
        ({2: "revealed", 3: "revealed"}, {3: "B", 2: "A"}, "B", "B"),
        ({2: "revealed", 6: "revealed", 3: "closed"}, {6: "C", 2: "A", 3: "B"}, "C", "C"),
        ({}, {5: "X"}, None, None),  # a result whose round this state does not hold
        ({2: "revealed", 3: "voided"}, {2: "A", 3: "B"}, "A", "A"),  # 重新测评: never shown
        ({2: "closed", 3: "voided", 7: "closed"}, {2: "A", 3: "B", 7: "C"}, None, "C"),
    ],
)
def test_the_latest_result_is_the_newest_round_s_revealed_or_not(
    rounds: dict[int, str], results: dict[int, Any], revealed: Any, anything: Any
) -> None:
    state = with_results(rounds, results)
    assert latest_result(state, revealed_only=True) == revealed
    assert latest_result(state, revealed_only=False) == anything


def test_phones_see_only_the_final_grades_and_only_once_revealed() -> None:
    closed = counted(run(voting("leaders"), c.CloseVoting(force=True)))
    assert phone_view(END, closed) == {**agenda_view(END, closed), "results": None}
    revealed = run(closed, c.RevealResults())
    assert phone_view(END, revealed) == {
        **agenda_view(END, revealed),
        "results": [
            {"id": "r01", "final_grade": "好"},
            {"id": "r02", "final_grade": "较好"},
            {"id": "r03", "final_grade": "差"},
        ],
    }


# ---- turnout ---------------------------------------------------------------------------------


def groups(leaders: int, cadres: int) -> list[dict[str, Any]]:
    return [
        {"id": "leaders", "name": "县级领导", "seats": 10, "cast": leaders},
        {"id": "cadres", "name": "基层代表", "seats": 30, "cast": cadres},
    ]


@pytest.mark.parametrize(
    ("state", "cast", "by_group"),
    [
        (initial_state(END), 0, (0, 0)),
        (reach(END, *TO_VOTE), 0, (0, 0)),
        (voting("cadres", "leaders", "cadres"), 3, (1, 2)),
        (run(voting("cadres", "cadres"), c.CloseVoting(force=True)), 2, (0, 2)),
        (run(counted(run(voting("leaders"), c.CloseVoting(force=True))), c.Next()), 1, (1, 0)),
        # A round left open while the state says another step (only events replayed by hand
        # give one): the open round is still the one counted.
        (evolve(voting("leaders", "leaders"), e.StepEntered(3, 0.0)), 2, (2, 0)),
    ],
    ids=["not started", "vote step", "voting", "closed", "finished", "open elsewhere"],
)
def test_turnout_counts_the_current_round_per_group(
    state: MeetingState, cast: int, by_group: tuple[int, int]
) -> None:
    assert turnout(END, state) == {
        "cast": cast,
        "seats": 40,
        "quorum": 0.0,
        "groups": groups(*by_group),
    }


# ---- the projector and the chair -----------------------------------------------------------


@pytest.mark.parametrize(
    ("meeting", "join_url", "shown"),
    [
        (END, "http://h/join", None),
        (OPEN_MODE, "http://h/join", "http://h/join"),
        (OPEN_MODE, None, None),
    ],
)
def test_the_projector_shows_the_join_address_only_in_open_mode(
    meeting: Meeting, join_url: str | None, shown: str | None
) -> None:
    state = voting("leaders", "cadres")
    assert screen_view(meeting, state, join_url) == {
        **agenda_view(meeting, state),
        "turnout": {"cast": 2, "seats": 40, "quorum": 0.0, "groups": groups(1, 1)},
        "join_url": shown,
        "plan": plan_view(state),
        "result": None,
    }
    assert [(s["kind"], s["reporters"]) for s in plan_view(state)][-2:] == [
        ("comment", ["r03"]),
        ("vote", ["r01", "r02", "r03"]),
    ]


def test_the_projector_shows_a_result_once_revealed() -> None:
    closed = counted(run(voting("leaders"), c.CloseVoting(force=True)))
    assert screen_view(END, closed, None)["result"] is None
    assert screen_view(END, run(closed, c.RevealResults()), None)["result"] == RESULT


@pytest.mark.parametrize(
    "ballots", [(), ("leaders",), ("leaders", "cadres", "cadres"), ("cadres",) * 9]
)
def test_while_voting_runs_the_chair_sees_turnout_and_never_a_count_of_marks(
    ballots: tuple[str, ...],
) -> None:
    state = evolve(voting(*ballots), e.TokenJoined("cadres"))
    state = evolve(state, e.CommentRecorded("r01", "很好", 1.0))
    assert chair_view(OPEN_MODE, state, "http://h/join", 0.0) == {
        **screen_view(OPEN_MODE, state, "http://h/join"),
        "awaiting_teller": [],
        "result": None,
        "remarks": [{"kind": "comment", "reporter": "r01", "by": "", "text": "很好"}],
        "actions": ["close", "pause"],
        "joined": {"cadres": 1},
    }


def test_a_round_waiting_for_the_teller_key_says_so_until_it_is_counted() -> None:
    closed = run(voting("leaders"), c.CloseVoting(force=True))
    round_id = closed.current_round.id
    waiting = evolve(closed, e.TellerKeyNeeded(round_id))
    assert chair_view(END, waiting, None, 0.0)["awaiting_teller"] == [round_id]
    assert screen_view(END, waiting, None)["round"]["awaiting_teller"] is True
    assert chair_view(END, closed, None, 0.0)["awaiting_teller"] == []
    counted_now = counted(waiting)
    assert chair_view(END, counted_now, None, 0.0)["awaiting_teller"] == []
    assert screen_view(END, counted_now, None)["round"]["awaiting_teller"] is False
    with pytest.raises(Refused, match="^本轮选票已密封，需由监票人输入监票人密钥开启后才能计票$"):
        decide(waiting, c.RevealResults(), 1.0)


def test_the_chair_sees_a_result_before_it_is_revealed() -> None:
    state = counted(run(voting("leaders"), c.CloseVoting(force=True)))
    view = chair_view(END, state, None, 0.0)
    assert (view["result"], view["actions"]) == (RESULT, ["reveal", "next", "pause", "void"])


# ---- over any course of the meeting --------------------------------------------------------


def tally(state: MeetingState) -> list[e.Event]:
    held = state.current_round
    if held is None or held.status != "closed" or held.id in state.results:
        return []
    return [
        e.ResultComputed(
            held.id, {"round": held.id, "reporters": [{"id": "r01", "final_grade": "好"}]}
        )
    ]


MOVES: list[Any] = [*c.SIMPLE_COMMANDS.values(), "leaders", "cadres", tally]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([END, EACH, OPEN_MODE]), st.lists(st.sampled_from(MOVES), max_size=50))
def test_views_are_plain_data_and_never_show_too_much(meeting: Meeting, moves: list[Any]) -> None:
    state = initial_state(meeting)
    for move in moves:
        if isinstance(move, c.Command):
            try:
                new = decide(state, move, 1.0)
            except Refused:
                continue
        elif callable(move):
            new = move(state)
        else:
            held = state.open_round
            new = [e.BallotCast(held.id, move)] if held is not None else []
        state = fold(state, new)
        phone = phone_view(meeting, state)
        screen = screen_view(meeting, state, "http://h/join")
        chair = chair_view(meeting, state, "http://h/join", 1.0)
        for view in (phone, screen, chair):
            assert json.loads(json.dumps(view)) == view
        revealed = [r.id for r in state.rounds.values() if r.status == "revealed"]
        assert (phone["results"] is None) == (screen["result"] is None) == (not revealed)
        if revealed:
            assert screen["result"] == state.results[max(revealed)]
        assert "live" not in chair  # no count of marks, ever, before a result


def test_the_meeting_info_is_the_header_reporters_groups_and_grades() -> None:
    assert meeting_info(END) == {
        "title": "测试会议",
        "date": "2026-12-28",
        "place": "测试会场",
        "join": "cards",
        "voting": "end",
        "reporters": [
            {"id": "r01", "name": "王建国", "org": "城关镇党委", "mode": "onsite"},
            {"id": "r02", "name": "李秀英", "org": "青溪镇党委", "mode": "written"},
            {"id": "r03", "name": "张志强", "org": "木鱼镇党委", "mode": "onsite"},
        ],
        "groups": [
            {"id": "leaders", "name": "县级领导", "seats": 10},
            {"id": "cadres", "name": "基层代表", "seats": 30},
        ],
        "grades": ["好", "较好", "一般", "差"],
    }


def test_the_room_sees_the_meeting_file_at_open_and_the_ballots_at_close() -> None:
    state = run(initial_state(END, "a" * 64), c.Start(), *[c.Next()] * 4, c.OpenVoting())
    opened = screen_view(END, state, None)["round"]
    assert (opened["meeting_digest"], opened["ballots_digest"]) == ("a" * 64, "")
    closed = run(state, c.CloseVoting(force=True))
    closed = evolve(closed, e.ResultComputed(closed.position, RESULT, "b" * 64))
    shown = screen_view(END, closed, None)["round"]
    assert (shown["meeting_digest"], shown["ballots_digest"]) == ("a" * 64, "b" * 64)
    assert not shown["sealed"]
    sealed = evolve(state, e.VotingOpened(99, ("r01",), 1.0, "a" * 64, "ab", "cd", "ef"))
    assert _round_view(sealed, sealed.rounds[99])["sealed"] is True


def test_a_reporter_s_panel_scores_close_once_their_round_is_closed() -> None:
    open_round = voting("leaders")
    assert closed_reporters(open_round) == frozenset()
    closed = run(open_round, c.CloseVoting(force=True))
    round_reporters = closed.rounds[closed.position].reporters
    assert round_reporters and closed_reporters(closed) == set(round_reporters)
