"""The counting station (计票台): the fold of paper ballots and 回收 figures, the reconciliation
panel (`meeting.count_view.count_view`) with its warnings, the 回收 check, the keys, and the
stored format of the two event changes (BallotCast schema 2, PaperReturned).

The meeting: groups leaders (10 seats) and cadres (30); with voting = "end" the vote is step 4.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest

from meeting import commands as c
from meeting import events as e
from meeting import room_code
from meeting.agenda import MeetingState, decide, fold, initial_state
from meeting.count_view import OVER_ISSUED, OVER_RETURNED, count_view, decide_returned
from meeting.errors import BadField, Refused
from server.codec import decode_entry, event_fields, pack
from tally.model import Group, Meeting, Reporter

END = Meeting(
    title="测试会议",
    date="2026-12-28",
    place="测试会场",
    reporters=(
        Reporter("r01", "王建国", "城关镇党委"),
        Reporter("r02", "李秀英", "青溪镇党委", mode="written"),
        Reporter("r03", "张志强", "木鱼镇党委"),
    ),
    groups=(
        Group("leaders", "县级领导", 10, Fraction(2, 5)),
        Group("cadres", "基层代表", 30, Fraction(3, 5)),
    ),
)
TO_VOTE = (c.Start(), c.Next(), c.Next(), c.Next(), c.Next(), c.OpenVoting())


def open_round(meeting: Meeting = END) -> MeetingState:
    state = initial_state(meeting)
    for command in TO_VOTE:
        state = fold(state, decide(state, command, 1.0))
    return state


def ballots(round_id: int, group: str, phone: int, paper: int) -> list[e.Event]:
    return [e.BallotCast(round_id, group)] * phone + [e.BallotCast(round_id, group, True)] * paper


def test_the_fold_counts_paper_ballots_apart_and_keeps_the_last_returned_figure() -> None:
    state = fold(open_round(), ballots(4, "leaders", 3, 2) + ballots(4, "cadres", 1, 0))
    state = fold(
        state,
        [
            e.PaperReturned(4, "leaders", 5, "张三", 2.0),
            e.PaperReturned(4, "leaders", 2, "李四", 3.0),  # recounted: the later one stands
            e.PaperReturned(99, "leaders", 7, "", 3.0),  # no such round: nothing
        ],
    )
    held = state.rounds[4]
    assert held.cast == {"leaders": 5, "cadres": 1} and held.total == 6
    assert held.paper == {"leaders": 2}
    assert held.returned == {"leaders": 2} and held.returned_by == {"leaders": "李四"}
    # neither event moves the agenda: a teller's entry never turns a chair click into a conflict
    assert state.agenda_version == open_round().agenda_version


# (leaders: phone, paper entered, returned or None) -> the leaders' row, and whether it warns
ROWS = [
    # phone paper returned | not_returned to_enter warnings
    (0, 0, None, 10, None, []),
    (4, 0, None, 6, None, []),
    (4, 2, None, 4, None, []),  # before 回收 is typed, the entered ones are the ones back
    (4, 2, 5, 1, 3, []),
    (4, 5, 5, 1, 0, []),
    (4, 6, 6, 0, 0, []),  # every card back: 10 of 10
    (4, 2, 7, 0, 5, [OVER_ISSUED]),  # 4 phones + 7 in the box > 10 cards
    (4, 3, 2, 4, 0, [OVER_RETURNED]),  # 3 typed in, only 2 in the box
    (9, 3, 2, 0, 0, [OVER_ISSUED, OVER_RETURNED]),
    (0, 0, 0, 10, 0, []),
]


@pytest.mark.parametrize(("phone", "paper", "returned", "left", "to_enter", "warns"), ROWS)
def test_the_reconciliation_panel(
    phone: int,
    paper: int,
    returned: int | None,
    left: int,
    to_enter: int | None,
    warns: list[str],
) -> None:
    state = fold(open_round(), ballots(4, "leaders", phone, paper) + ballots(4, "cadres", 2, 1))
    if returned is not None:
        state = fold(state, [e.PaperReturned(4, "leaders", returned, "张三", 2.0)])
    view = count_view(END, state)
    leaders, cadres = view["groups"]
    assert leaders["id"] == "leaders" and leaders["name"] == "县级领导"
    assert (leaders["seats"], leaders["issued"], leaders["phone"], leaders["paper"]) == (
        10,
        10,
        phone,
        paper,
    )
    assert (leaders["returned"], leaders["not_returned"], leaders["to_enter"]) == (
        returned,
        left,
        to_enter,
    )
    assert [w.split("（")[0] for w in leaders["warnings"]] == warns
    assert [w.split("（")[0] for w in view["warnings"]] == [f"县级领导：{w}" for w in warns]
    assert (cadres["phone"], cadres["paper"], cadres["returned"], cadres["not_returned"]) == (
        2,
        1,
        None,
        27,
    )
    totals = view["totals"]
    assert totals["seats"] == 40 and totals["phone"] == phone + 2
    assert totals["paper"] == paper + 1 and totals["returned"] == returned
    assert totals["not_returned"] == left + 27
    assert leaders["spoiled"] is None and totals["spoiled"] is None  # marks sealed: not yet
    assert view["round"]["id"] == 4 and view["round"]["status"] == "open"
    assert [r["id"] for r in view["round"]["reporters"]] == ["r01", "r02", "r03"]


def test_the_warnings_say_what_is_wrong_in_numbers() -> None:
    state = fold(
        open_round(), [*ballots(4, "leaders", 4, 3), e.PaperReturned(4, "leaders", 7, "", 2)]
    )
    assert count_view(END, state)["warnings"] == [
        "县级领导：回收票数超过发出票数（手机4张＋回收7张＞应到10张）"
    ]
    state = fold(state, [e.PaperReturned(4, "leaders", 2, "", 3)])
    assert count_view(END, state)["warnings"] == [
        "县级领导：录入张数超过回收张数（已录入3张＞回收2张）"
    ]


def test_the_panel_holds_no_mark_and_no_count_of_marks() -> None:
    state = fold(open_round(), ballots(4, "leaders", 3, 2))
    text = json.dumps(count_view(END, state), ensure_ascii=False)
    for grade in ("好", "较好", "一般", "差"):
        assert f'"{grade}"' in text  # the scale, for the entry buttons...
    view = count_view(END, state)
    assert set(view) == {"meeting", "grades", "round", "groups", "totals", "warnings"}
    for row in view["groups"]:
        assert set(row) == {
            "id",
            "name",
            "seats",
            "issued",
            "phone",
            "paper",
            "returned",
            "returned_by",
            "to_enter",
            "spoiled",
            "not_returned",
            "warnings",
        }  # ...and never a mark or a count per grade


def test_spoiled_ballots_show_once_the_round_is_counted() -> None:
    state = fold(open_round(), ballots(4, "leaders", 3, 2))
    state = fold(state, [e.VotingClosed(4, 20.0)])
    assert count_view(END, state)["groups"][0]["spoiled"] is None  # closed, not yet counted
    result = {"groups": [{"id": "leaders", "spoiled": 1}, {"id": "cadres", "spoiled": 0}]}
    state = fold(state, [e.ResultComputed(4, result)])
    view = count_view(END, state)
    assert [g["spoiled"] for g in view["groups"]] == [1, 0] and view["totals"]["spoiled"] == 1
    assert view["round"]["status"] == "closed"


def test_with_a_round_per_reporter_each_round_has_its_own_spoiled_ballots() -> None:
    each = dataclasses.replace(END, voting="each")
    state = initial_state(each)
    for command in (c.Start(), c.Next(), c.Next(), c.OpenVoting()):  # step 2: vote r01
        state = fold(state, decide(state, command, 1.0))
    first = {"groups": [{"id": "leaders", "spoiled": 2}, {"id": "cadres", "spoiled": 0}]}
    state = fold(state, [e.VotingClosed(2, 20.0), e.ResultComputed(2, first)])
    for command in (c.Next(), c.OpenVoting()):  # step 3: vote r02
        state = fold(state, decide(state, command, 30.0))
    assert count_view(each, state)["round"]["id"] == 3
    both = {"groups": [{"id": "leaders", "spoiled": 3}, {"id": "cadres", "spoiled": 1}]}
    state = fold(state, [e.VotingClosed(3, 40.0), e.ResultComputed(3, both)])
    assert [g["spoiled"] for g in count_view(each, state)["groups"]] == [1, 1]


def test_a_round_s_spoiled_ballots_wait_for_the_count_of_the_round_before() -> None:
    """A result with voting = "each" counts every round so far: until the earlier round is
    counted too (its key awaited, say), this round's own spoiled ballots are not known."""
    each = dataclasses.replace(END, voting="each")
    state = initial_state(each)
    for command in (c.Start(), c.Next(), c.Next(), c.OpenVoting()):
        state = fold(state, decide(state, command, 1.0))
    state = fold(state, [e.VotingClosed(2, 20.0)])  # closed, its count not yet in
    for command in (c.Next(), c.OpenVoting()):
        state = fold(state, decide(state, command, 30.0))
    both = {"groups": [{"id": "leaders", "spoiled": 3}, {"id": "cadres", "spoiled": 1}]}
    state = fold(state, [e.VotingClosed(3, 40.0), e.ResultComputed(3, both)])
    assert [g["spoiled"] for g in count_view(each, state)["groups"]] == [None, None]


def test_before_any_round_the_panel_is_empty_and_returned_is_refused() -> None:
    state = initial_state(END)
    view = count_view(END, state)
    assert view["round"] is None and view["warnings"] == []
    assert [g["not_returned"] for g in view["groups"]] == [10, 30]
    with pytest.raises(Refused):
        decide_returned(END, state, "leaders", 3, "", 1.0)


def test_a_returned_figure_is_checked() -> None:
    state = open_round()
    event = decide_returned(END, state, "cadres", 12, "  王 五 ", 5.0)
    assert event == e.PaperReturned(4, "cadres", 12, "王 五", 5.0)
    for group, count, by, field in [
        ("nobody", 1, "", "group"),
        ("leaders", -1, "", "count"),
        ("leaders", True, "", "count"),
        ("leaders", "3", "", "count"),
        ("leaders", 1.5, "", "count"),
        ("leaders", 3, 7, "by"),
        ("leaders", 3, "名" * 41, "by"),
        ("leaders", 3, "a\x07b", "by"),
    ]:
        with pytest.raises(BadField) as refused:
            decide_returned(END, state, group, count, by, 5.0)
        assert refused.value.field == field, (group, count, by)


def test_a_voided_round_is_not_the_station_s_and_the_last_live_one_stays_after_the_vote() -> None:
    state = fold(open_round(), ballots(4, "leaders", 1, 1))
    state = fold(state, [e.VotingClosed(4, 20.0), e.RoundVoided(4, "设备故障", 21.0)])
    assert count_view(END, state)["round"] is None
    state = fold(state, decide(state, c.OpenVoting(), 30.0))
    assert count_view(END, state)["round"]["id"] != 4
    assert count_view(END, state)["groups"][0]["paper"] == 0  # the new round starts from 0


def test_the_station_keys_are_derived_apart_from_the_chair_key() -> None:
    keys = room_code.room_keys(b"s" * 32, "chair-key")
    assert keys.count_key == room_code.count_key("chair-key")
    assert keys.observer_key == room_code.observer_key("chair-key")
    assert len({keys.screen_key, keys.count_key, keys.observer_key, "chair-key"}) == 4
    assert room_code.count_key("another") != keys.count_key
    assert room_code.is_count_key(keys, keys.count_key)
    assert not room_code.is_count_key(keys, keys.observer_key)
    assert room_code.is_observer_key(keys, keys.observer_key)
    assert not room_code.is_observer_key(keys, keys.count_key)
    assert not room_code.is_observer_key(keys, None)
    assert not room_code.is_count_key(room_code.RoomKeys(b"", "x"), "")  # no key: nothing opens


def test_an_old_ballot_reads_as_a_phone_ballot_and_both_events_round_trip() -> None:
    old = {b"v": b"9", b"t": b"BallotCast", b"s": b"1", b"p": pack({"round": 4, "group": "x"})}
    assert decode_entry(old) == (9, e.BallotCast(4, "x", False))
    for event in (e.BallotCast(4, "cadres", True), e.PaperReturned(4, "cadres", 12, "王五", 5.0)):
        type_name, schema, payload = event_fields(event)
        fields = {b"v": b"3", b"t": type_name.encode(), b"s": str(schema).encode(), b"p": payload}
        assert decode_entry(fields) == (3, event)
