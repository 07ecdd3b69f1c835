"""重新测评 in the agenda: the chair voids a closed, unrevealed round with a written reason; the
step holds a new round for the same reporters, every card may vote again, and the voided
round's result counts nowhere and shows nowhere."""

from __future__ import annotations

import pytest

from meeting import commands as c
from meeting import events as e
from meeting.agenda import MeetingState, allowed_actions, decide, evolve, fold
from meeting.errors import ReasonNeeded, Refused
from meeting.views import agenda_view, chair_view, latest_result, phone_view
from tests.unit.test_agenda import (
    EACH,
    END,
    TO_VOTE,
    closed_round,
    counted,
    each_at_second_round,
    reach,
    run,
)

REASON = "表决器故障，部分参会人员未能投票"
NOT_CLOSED = "只有已结束投票、尚未公布结果的测评才能作废重测"
REVEALED = "结果已经公布，不能作废重测"
NO_REASON = "请写明重新测评的原因（将记录在案并印在汇总表上）"


def voided(state: MeetingState, reason: str = REASON, at: float = 150.0) -> MeetingState:
    return run(state, c.VoidRound(reason), now=at)


def redone(state: MeetingState) -> MeetingState:
    """Voided, then the step's round opened again and closed."""
    return run(voided(state), c.OpenVoting(), c.CloseVoting(force=True))


@pytest.mark.parametrize(
    ("state", "reason", "refusal", "message"),
    [
        (reach(END), REASON, Refused, "会议尚未开始"),
        (reach(END, c.Start()), REASON, Refused, NOT_CLOSED),
        (reach(END, *TO_VOTE), REASON, Refused, NOT_CLOSED),  # ready
        (reach(END, *TO_VOTE, c.OpenVoting()), REASON, Refused, NOT_CLOSED),  # open
        (run(counted(closed_round(END)), c.RevealResults()), REASON, Refused, REVEALED),
        (closed_round(END), "", ReasonNeeded, NO_REASON),
        (closed_round(END), " \n\t ", ReasonNeeded, NO_REASON),
        (closed_round(END), "因" * 201, ReasonNeeded, "重新测评的原因过长：最多200字"),
        (voided(closed_round(END)), REASON, Refused, NOT_CLOSED),  # voided already
        (run(closed_round(EACH), c.Next()), REASON, Refused, NOT_CLOSED),  # next step
    ],
)
def test_what_cannot_be_voided_is_refused_and_says_why(
    state: MeetingState, reason: str, refusal: type[Exception], message: str
) -> None:
    with pytest.raises(refusal) as caught:
        decide(state, c.VoidRound(reason), 150.0)
    assert (type(caught.value), str(caught.value)) == (refusal, message)


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("  设备故障\n", "设备故障"),
        ("第一，设备故障；\r\n第二，\t有人未能投票", "第一，设备故障； 第二， 有人未能投票"),
        ("故障\u3000重投", "故障 重投"),  # the ideographic space is whitespace too
        ("5号", "5号"),
        ("?", "?"),
        ("→", "→"),
        ("设备\u200b故障", "设备\u200b故障"),  # a zero-width space beside visible text
    ],
)
def test_a_reason_is_kept_on_one_line(typed: str, recorded: str) -> None:
    assert decide(closed_round(END), c.VoidRound(typed), 1.0) == [e.RoundVoided(4, recorded, 1.0)]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("\u200b\u200b", NO_REASON),  # zero-width spaces only: nothing to read
        ("\u00ad", NO_REASON),
        ("设备\x00故障", "重新测评的原因含有无法显示的字符，请重新输入"),
        ("设备\x1b[31m故障", "重新测评的原因含有无法显示的字符，请重新输入"),
        ("设备\ue000故障", "重新测评的原因含有无法显示的字符，请重新输入"),  # private use
        ("设备\ud800故障", "重新测评的原因含有无法显示的字符，请重新输入"),  # a lone surrogate
        ("设备\U000e0001故障\u0378", "重新测评的原因含有无法显示的字符，请重新输入"),
    ],
)
def test_a_reason_nobody_can_read_is_refused(typed: str, message: str) -> None:
    with pytest.raises(ReasonNeeded) as caught:
        decide(closed_round(END), c.VoidRound(typed), 1.0)
    assert str(caught.value) == message


def test_a_reason_of_the_longest_length_is_taken() -> None:
    reason = "因" * c.VOID_REASON_MAX_CHARS
    assert decide(closed_round(END), c.VoidRound(reason), 1.0) == [e.RoundVoided(4, reason, 1.0)]


@pytest.mark.parametrize("state", [closed_round(END), counted(closed_round(END))])
def test_a_closed_unrevealed_round_is_voided_with_its_reason(state: MeetingState) -> None:
    reason = "  " + REASON + "\n"
    assert decide(state, c.VoidRound(reason), 150.0) == [e.RoundVoided(4, REASON, 150.0)]
    assert "void" in allowed_actions(state, 150.0)  # offered, the reason asked for then


def test_after_a_void_the_step_is_ready_for_a_new_round_for_the_same_reporters() -> None:
    state = voided(counted(closed_round(END)))
    held = state.rounds[4]
    assert (held.status, held.void_reason, held.voided_at) == ("voided", REASON, 150.0)
    assert state.round_status(4) == "ready" and state.round_at(4) is None
    assert state.current_round is None and state.open_round is None
    assert state.next_round_id(4) == 5  # the step count: no step and no earlier round has it
    assert allowed_actions(state, 150.0) == ["open", "back", "pause"]
    with pytest.raises(Refused, match="本轮投票尚未结束"):
        decide(state, c.Next(), 150.0)
    again = run(state, c.OpenVoting(), now=160.0)
    opened = decide(state, c.OpenVoting(), 160.0)
    assert opened == [e.VotingOpened(5, ("r01", "r02", "r03"), 160.0, "d" * 64, step=4)]
    assert (again.open_round, again.current_round) == (again.rounds[5], again.rounds[5])
    assert (again.rounds[5].step, again.rounds[5].seq, again.rounds[5].total) == (4, 1, 0)


def test_a_step_can_be_voided_again_and_each_new_round_has_a_new_id() -> None:
    state = redone(redone(closed_round(END)))
    assert sorted(state.rounds) == [4, 5, 6]
    assert [r.status for r in state.held_rounds] == ["voided", "voided", "closed"]
    assert [r.counted for r in state.held_rounds] == [False, False, True]
    assert run(counted(state), c.RevealResults()).rounds[6].counted  # revealed
    assert not run(state, c.VoidRound(REASON), c.OpenVoting()).rounds[7].counted  # open
    assert [r.id for r in state.voided_rounds()] == [4, 5]
    assert [r.id for r in state.voided_rounds(4)] == [4, 5] and state.voided_rounds(2) == []


def test_with_a_round_per_report_a_redo_gets_an_id_after_every_step() -> None:
    state = run(each_at_second_round(), c.OpenVoting(), c.CloseVoting(force=True))
    state = redone(state)  # r02's round (step 3) voided and held again
    assert sorted(state.rounds) == [2, 3, 7] and state.round_at(3) == state.rounds[7]
    state = run(counted(state), c.Next(), c.Next(), c.Next(), c.OpenVoting())
    assert state.open_round is not None and state.open_round.id == 6  # step 6's first round
    assert [r.id for r in state.held_rounds] == [2, 3, 7, 6]  # the order they were opened


def test_the_voided_round_s_result_is_never_shown() -> None:
    state = counted(closed_round(END), {"reporters": [{"id": "r01", "final_grade": "差"}]})
    state = voided(state)
    assert latest_result(state, revealed_only=False) is None
    assert chair_view(END, state, None, 150.0)["result"] is None
    state = counted(run(state, c.OpenVoting(), c.CloseVoting(force=True)), {"reporters": []})
    assert chair_view(END, state, None, 150.0)["result"] == {"reporters": []}
    state = run(state, c.RevealResults(), c.Next())
    assert state.finished and state.current_round == state.rounds[5]
    assert phone_view(END, state)["results"] == []


def test_the_views_tell_the_room_what_was_voided_but_not_its_marks() -> None:
    state = evolve(closed_round(END), e.BallotCast(4, "leaders"))
    state = voided(state)
    told = {"id": 4, "reporters": ["r01", "r02", "r03"], "cast": 1, "reason": REASON, "at": 150.0}
    ready = agenda_view(END, state)["round"]
    assert (ready["id"], ready["status"], ready["voided"]) == (5, "ready", [told])
    opened = agenda_view(END, run(state, c.OpenVoting()))["round"]
    assert (opened["id"], opened["status"], opened["voided"]) == (5, "open", [told])


def test_a_step_shows_only_its_own_voided_rounds() -> None:
    state = run(voided(closed_round(EACH)), c.OpenVoting(), c.CloseVoting(force=True))
    state = run(counted(state), c.Next())  # r02's step (3): step 2's void is not its own
    assert agenda_view(EACH, state)["round"]["voided"] == []
    state = run(state, c.OpenVoting())
    assert agenda_view(EACH, state)["round"]["voided"] == []
    assert [r.id for r in state.voided_rounds()] == [2]


def test_a_reporter_of_a_voided_round_only_is_not_done() -> None:
    state = voided(closed_round(EACH))  # r01's only round voided; r01 has reported
    assert state.reporter_status("r01") == "done"  # the report and comment are done
    state = voided(run(each_at_second_round(), c.OpenVoting(), c.CloseVoting(force=True)))
    assert state.reporter_status("r02") == "pending"  # written: voting was all it had


def test_a_late_teller_key_request_for_a_voided_round_asks_nobody() -> None:
    state = fold(voided(closed_round(END)), [e.TellerKeyNeeded(4)])
    assert state.rounds[4].awaiting_teller
    assert chair_view(END, state, None, 150.0)["awaiting_teller"] == []


def test_events_for_a_round_never_opened_change_nothing_but_the_version() -> None:
    state = reach(END, c.Start())
    after = evolve(state, e.RoundVoided(9, REASON, 1.0))
    assert (after.rounds, after.version) == (state.rounds, state.version + 1)
