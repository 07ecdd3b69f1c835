"""专家点评 and 项目指标 entered live (meeting.panel): who may score what, exactly; how the
records fold; what the count at close takes; each expert's key their own."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting import events as e
from meeting.errors import BadField, BadReporter, Refused
from meeting.panel import (
    LOCKED,
    ImportIndicators,
    PanelState,
    ScoreReporter,
    decide,
    evolve,
    expert_for_key,
    expert_key,
    expert_view,
    experts_table,
    indicators_table,
    members,
    panel_view,
)
from tally.meeting_file import parse_meeting_text
from tally.numbers import exact_text
from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"
TEXT = (EXAMPLES / "sanping-meeting.toml").read_text("utf-8")
MEETING = parse_meeting_text(  # its panel: e1 张教授, e2 李研究员, e3 … e5
    TEXT,
    read_items=lambda name: (EXAMPLES / name).read_text("utf-8"),
)
NO_PANEL = parse_meeting_text(
    '[meeting]\ntitle = "t"\ndate = "2026-12-28"\nseats = 5\n'
    '[[reporters]]\nid = "r01"\nname = "甲"\norg = "单位"\n'
)
OPEN: frozenset[str] = frozenset()


def fold(*commands) -> PanelState:  # type: ignore[no-untyped-def]
    state = PanelState()
    for command in commands:
        for event in decide(state, command, MEETING, OPEN, 100.0):
            state = evolve(state, event)
    return state


def test_an_expert_scores_revises_and_clears() -> None:
    state = fold(
        ScoreReporter("e1", "r01", 92),
        ScoreReporter("e2", "r01", "88.5"),
        ScoreReporter("e1", "r01", 90.25),
        ScoreReporter("e2", "r02", 70, entered_by="  李敏 "),
        ScoreReporter("e2", "r02", None),
    )
    assert state.scores == {"r01": {"e1": "90.25", "e2": "88.5"}, "r02": {}}
    assert experts_table(state, MEETING) == {
        "r01": {"e1": Fraction(361, 4), "e2": Fraction(177, 2), "e3": None, "e4": None, "e5": None}
    }
    [event] = decide(PanelState(), ScoreReporter("e2", "r02", 70, "  李敏 "), MEETING, OPEN, 5.0)
    assert event == e.ExpertScored("e2", "r02", "70", "李敏", 5.0)


def test_an_expert_who_scored_some_reporters_is_none_for_the_others() -> None:
    state = fold(ScoreReporter("e1", "r01", 92))
    assert experts_table(state, MEETING) == {
        "r01": {"e1": Fraction(92), "e2": None, "e3": None, "e4": None, "e5": None}
    }
    assert experts_table(PanelState(), MEETING) is None


@pytest.mark.parametrize(
    ("command", "error", "field"),
    [
        (ScoreReporter("e9", "r01", 90), BadField, "expert"),
        (ScoreReporter("e1", "r99", 90), BadReporter, "reporter"),
        (ScoreReporter("e1", ["r01"], 90), BadReporter, "reporter"),
        (ScoreReporter("e1", "r01", 100.5), BadField, "score"),
        (ScoreReporter("e1", "r01", -0.5), BadField, "score"),
        (ScoreReporter("e1", "r01", "九十"), BadField, "score"),
        (ScoreReporter("e1", "r01", "1/0"), BadField, "score"),
        (ScoreReporter("e1", "r01", "1e999999"), BadField, "score"),
        (ScoreReporter("e1", "r01", 1e-7), BadField, "score"),
        (ScoreReporter("e1", "r01", float("nan")), BadField, "score"),
        (ScoreReporter("e1", "r01", True), BadField, "score"),
        (ScoreReporter("e1", "r01", {"x": 1}), BadField, "score"),
        (ScoreReporter("e1", "r01", 90, entered_by="李" * 41), BadField, "entered_by"),
        (ScoreReporter("e1", "r01", 90, entered_by=7), BadField, "entered_by"),  # type: ignore[arg-type]
        (ImportIndicators({"r99": {}}, "x.csv"), BadReporter, "indicators"),
    ],
    ids=[
        "expert",
        "reporter",
        "reporter-list",
        "over",
        "under",
        "words",
        "zero-division",
        "exponent",
        "tiny-float",
        "nan",
        "bool",
        "map",
        "long-name",
        "name-not-text",
        "indicator-reporter",
    ],
)
def test_a_bad_command_is_refused_naming_the_field(command, error, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as raised:
        decide(PanelState(), command, MEETING, OPEN, 1.0)
    assert raised.value.field == field


def test_scores_close_with_their_reporter_s_vote_indicators_with_the_first() -> None:
    closed = frozenset({"r01"})
    with pytest.raises(Refused, match=LOCKED):
        decide(PanelState(), ScoreReporter("e1", "r01", 90), MEETING, closed, 1.0)
    assert decide(PanelState(), ScoreReporter("e1", "r02", 90), MEETING, closed, 1.0)
    with pytest.raises(Refused, match=LOCKED):
        decide(PanelState(), ImportIndicators({}, "x"), MEETING, closed, 1.0)


def test_indicators_replace_the_table_exactly_and_a_meeting_without_them_refuses() -> None:
    values = {"r01": {"income": Fraction(25, 2), "members": None, "petitions": Fraction(1, 3)}}
    state = fold(ImportIndicators({"r03": {"income": Fraction(1)}}, "旧.csv"))
    state = fold(ImportIndicators(values, "  项目指标.xlsx "))
    assert state.indicators == {"r01": {"income": "12.5", "members": "", "petitions": "1/3"}}
    assert state.indicators_name == "项目指标.xlsx"
    assert indicators_table(state) == values
    assert indicators_table(state, {"r02"}) == {}
    assert indicators_table(PanelState()) is None
    [event] = decide(PanelState(), ImportIndicators({}, 7), MEETING, OPEN, 1.0)  # type: ignore[arg-type]
    assert isinstance(event, e.IndicatorsImported) and event.name == "项目指标"
    with pytest.raises(BadField):
        decide(PanelState(), ImportIndicators({}, "x"), NO_PANEL, OPEN, 1.0)


def test_each_expert_s_key_opens_their_page_only() -> None:
    secret = b"s" * 32
    keys = {eid: expert_key(secret, eid) for eid, _ in members(MEETING)}
    assert len(set(keys.values())) == 5 and all(len(k) == 24 for k in keys.values())
    assert {expert_for_key(secret, MEETING, k) for k in keys.values()} == set(keys)
    assert expert_for_key(secret, MEETING, "0" * 24) is None
    assert expert_for_key(secret, MEETING, None) is None
    assert expert_for_key(b"t" * 32, MEETING, keys["e1"]) is None
    assert members(NO_PANEL) == ()


def test_the_views_show_counts_and_an_expert_only_their_own_scores() -> None:
    state = fold(ScoreReporter("e1", "r01", 92), ScoreReporter("e2", "r02", 80))
    summary = panel_view(state, MEETING)
    assert summary["experts"][:3] == [
        {"id": "e1", "name": "张教授", "scored": 1},
        {"id": "e2", "name": "李研究员", "scored": 1},
        {"id": "e3", "name": "王处长", "scored": 0},
    ]
    assert (summary["reporters"], summary["indicators"], summary["indicator_rows"]) == (6, "", 0)
    mine = expert_view(state, MEETING, "e1", frozenset({"r02"}))
    assert mine["expert"] == {"id": "e1", "name": "张教授"}
    assert mine["scores"] == {"r01": "92"} and mine["max_score"] == 100.0
    assert [r["closed"] for r in mine["reporters"]][:3] == [False, True, False]


@given(st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=10**7))
def test_exact_text_reads_back_to_the_same_number(value: Fraction) -> None:
    text = exact_text(value)
    assert Fraction(text) == value
    if value.denominator == 1:
        assert "." not in text and "/" not in text


def test_the_meeting_state_folds_the_panel_s_events() -> None:
    from meeting import agenda

    events = [
        e.ExpertScored("e1", "r01", "92", "", 1.0),
        e.IndicatorsImported({"r01": {"income": "12.5"}}, "项目指标.csv", 2.0),
    ]
    state = agenda.fold(agenda.initial_state(MEETING), events)
    assert state.panel.scores == {"r01": {"e1": "92"}}
    assert state.panel.indicators_name == "项目指标.csv"
    assert state.version == 2 and state.agenda_version == 0  # neither moves the agenda


def test_the_expert_s_live_page_is_their_view_of_the_folded_state() -> None:
    from meeting import agenda, views

    events = [
        e.ExpertScored("e1", "r01", "92", "", 1.0),
        e.ExpertScored("e2", "r01", "80", "", 2.0),
    ]
    state = agenda.fold(agenda.initial_state(MEETING), events)
    page = views.expert_view(MEETING, state, "e1")
    assert page == expert_view(state.panel, MEETING, "e1", frozenset())
    assert page["scores"] == {"r01": "92"}
