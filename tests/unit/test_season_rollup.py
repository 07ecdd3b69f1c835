"""The season's roll-up (`meeting.season`): each meeting's outcome from its result and 综合评价
record, where it stands against the 7-day filing clock and the season's deadline, the counts per
level of the reporting units, the 反馈 to a unit, and a reporter's earlier seasons."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import asdict, replace
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting.organisation import Organisation, PlannedMeeting, Season, Unit
from meeting.season import (
    BEIJING,
    PENDING,
    STAGE_NAMES,
    UNMATCHED,
    MeetingStatus,
    Outcome,
    ReporterOutcome,
    RollupRow,
    feedback_for,
    history,
    outcome,
    rollup,
    rollup_rows,
    season_status,
)
from tally.meeting_file import parse_meeting_text
from tally.model import Group, Meeting, Reporter
from tests.helpers import ROOT

PROPERTY = settings(max_examples=150, deadline=None)
DAY = datetime.timedelta(days=1)

ORG = Organisation(
    Season("2025", "2025年度述职评议", "2027-01-31"),
    (
        Unit("county", "平邑县委", "县委"),
        Unit("chengguan", "城关镇党委", "镇党委", "county"),
        Unit("qingxi", "青溪镇党委", "镇党委", "county"),
        Unit("jiaoyu", "县教育局党组", "局党组", "county"),
        Unit("dongcun", "东村党支部", "村党支部", "chengguan"),
        Unit("xicun", "西村党支部", "村党支部", "chengguan"),
    ),
    (
        PlannedMeeting("county", "county", ("chengguan", "qingxi", "jiaoyu"), "2027-01-10", True),
        PlannedMeeting("chengguan", "chengguan", ("dongcun", "xicun"), None, False),
    ),
)

# The county's meeting: three secretaries, and one whose org names no unit it covers.
COUNTY = Meeting(
    title="县委书记抓基层党建述职评议会",
    date="2027-01-10",
    reporters=(
        Reporter("r01", "王建国", "城关镇党委"),
        Reporter("r02", "李秀英", "青溪镇党委"),
        Reporter("r03", "张志强", "县教育局党组"),
        Reporter("r04", "赵一", "东村党支部"),  # a unit, but not one this meeting covers
    ),
    groups=(Group("all", "全体", 30, Fraction(1)),),
)
RESULT = {
    "reporters": [
        {"id": "r01", "final_grade": "好"},
        {"id": "r02", "final_grade": "一般"},
        {"id": "r03", "final_grade": None},  # 待定
        {"id": "r04", "final_grade": "差"},
    ],
    "bottom": ["r04"],
}
OPINION = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板", "要求": "限期整改"}


def beijing(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> float:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=BEIJING).timestamp()


def fixed_record(at: float = 0.0, **fixed: Any) -> dict[str, Any]:
    return {
        "fixed": {
            "studied_on": "2027-01-12",
            "entered_by": "组织科 李敏",
            "at": at or beijing(2027, 1, 12, 15, 0),
            "rectify_by": "2027-03-31",
        }
        | fixed,
        "entries": {
            "r01": {"grade": "好", "opinion": OPINION},
            "r02": {"grade": "一般", "opinion": {"要求": "限期整改"}},
            "r03": {"grade": "较好", "opinion": None},
            "r04": {"grade": "差"},
        },
        "history": {},
    }


# -- outcome ------------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["hosted", "package"])
def test_a_meeting_without_a_result_is_not_held(via: Any) -> None:
    assert outcome(COUNTY, None, fixed_record(), filed_on="2027-01-13", via=via) == Outcome(
        COUNTY.title, None, None, None, (), via
    )


@pytest.mark.parametrize(
    "evaluation",
    [
        None,
        {},
        {"fixed": None, "entries": {"r01": {"grade": "差", "opinion": OPINION}}},
    ],
    ids=["no-record", "empty-record", "entries-not-fixed"],
)
def test_a_held_meeting_without_a_fixed_record_has_only_its_vote(
    evaluation: dict[str, Any] | None,
) -> None:
    known = outcome(COUNTY, RESULT, evaluation)
    assert (known.title, known.held_on, known.fixed_on, known.filed_on, known.via) == (
        COUNTY.title,
        "2027-01-10",
        None,
        None,
        "hosted",
    )
    assert known.reporters == (
        ReporterOutcome("r01", "王建国", "城关镇党委", "好"),
        ReporterOutcome("r02", "李秀英", "青溪镇党委", "一般"),
        ReporterOutcome("r03", "张志强", "县教育局党组", ""),
        ReporterOutcome("r04", "赵一", "东村党支部", "差", bottom=True),
    )


def test_a_result_without_reporters_or_bottom_leaves_every_vote_pending() -> None:
    known = outcome(COUNTY, {"bottom": None}, None)
    assert [r.vote_grade for r in known.reporters] == ["", "", "", ""]
    assert not any(r.bottom for r in known.reporters)
    assert known.held_on == COUNTY.date


def test_a_fixed_record_gives_the_final_grades_opinions_and_rectify_date() -> None:
    known = outcome(COUNTY, RESULT, fixed_record())
    assert known.fixed_on == "2027-01-12"
    assert known.reporters == (
        ReporterOutcome("r01", "王建国", "城关镇党委", "好", "好", OPINION, "", False),
        # 一般 and 差 are below the second grade (较好): 约谈提醒、限期整改
        ReporterOutcome(
            "r02", "李秀英", "青溪镇党委", "一般", "一般", {"要求": "限期整改"}, "2027-03-31"
        ),
        ReporterOutcome("r03", "张志强", "县教育局党组", "", "较好", {}, "", False),
        ReporterOutcome("r04", "赵一", "东村党支部", "差", "差", {}, "2027-03-31", True),
    )


def test_the_rectify_date_follows_the_meetings_own_scale() -> None:
    """On a three-grade scale 称职/基本称职/不称职 only 不称职 is below the second grade."""
    meeting = replace(COUNTY, rules=replace(COUNTY.rules, grades=("称职", "基本称职", "不称职")))
    record = fixed_record()
    record["entries"] = {
        "r01": {"grade": "称职"},
        "r02": {"grade": "基本称职"},
        "r03": {"grade": "不称职"},
    }
    known = outcome(meeting, RESULT, record)
    assert [r.rectify_by for r in known.reporters] == ["", "", "2027-03-31", ""]
    assert [r.final_grade for r in known.reporters] == ["称职", "基本称职", "不称职", ""]


def test_a_fixed_record_without_entries_or_a_rectify_date() -> None:
    record = fixed_record()
    del record["fixed"]["rectify_by"]
    known = outcome(COUNTY, RESULT, record)
    assert known.fixed_on == "2027-01-12"
    assert all(r.rectify_by == "" for r in known.reporters)
    record["entries"] = None
    known = outcome(COUNTY, RESULT, record)
    assert [r.final_grade for r in known.reporters] == ["", "", "", ""]
    assert known.fixed_on == "2027-01-12"


@pytest.mark.parametrize(
    ("at", "filed_on"),
    [
        (beijing(2027, 1, 13, 0, 0) - 1, "2027-01-12"),  # 23:59:59 in Beijing, 15:59:59 UTC
        (beijing(2027, 1, 13, 0, 0), "2027-01-13"),  # midnight in Beijing, still the 12th in UTC
        (beijing(2027, 1, 13, 0, 0) + 1, "2027-01-13"),
        (beijing(2027, 1, 13, 7, 59, 59), "2027-01-13"),  # 23:59:59 UTC on the 12th
    ],
    ids=["just-before-midnight", "midnight", "just-after-midnight", "before-utc-midnight"],
)
def test_a_hosted_meeting_is_filed_on_the_beijing_day_its_record_was_fixed(
    at: float, filed_on: str
) -> None:
    known = outcome(COUNTY, RESULT, fixed_record(at), filed_on="2027-02-01")
    assert (known.filed_on, known.via) == (filed_on, "hosted")


def test_a_package_is_filed_on_the_day_given() -> None:
    known = outcome(COUNTY, RESULT, fixed_record(), filed_on="2027-01-20", via="package")
    assert (known.fixed_on, known.filed_on, known.via) == ("2027-01-12", "2027-01-20", "package")
    unfixed = outcome(COUNTY, RESULT, None, filed_on="2027-01-20", via="package")
    assert (unfixed.fixed_on, unfixed.filed_on) == (None, "2027-01-20")


# -- season_status -----------------------------------------------------------------------------


def _status(
    planned_on: str | None,
    known: Outcome | None,
    today: datetime.date,
    filing_days: int = 7,
) -> MeetingStatus:
    org = Organisation(
        replace(ORG.season, filing_days=filing_days),
        ORG.units,
        (replace(ORG.meetings[0], planned_on=planned_on),),
    )
    [status] = season_status(org, {} if known is None else {"county": known}, today)
    return status


HELD = datetime.date(2027, 1, 10)
SEASON_END = datetime.date(2027, 1, 31)
FILING_END = HELD + 7 * DAY  # 2027-01-17


def held(fixed_on: str | None = None, filed_on: str | None = None) -> Outcome:
    return Outcome("县委述职评议会", HELD.isoformat(), fixed_on, filed_on)


@pytest.mark.parametrize(
    ("planned_on", "known", "today", "expected"),
    [
        (
            "2027-01-10",
            None,
            HELD - 5 * DAY,
            ("planned", None, None, False, "计划2027-01-10前召开"),
        ),
        (
            None,
            None,
            HELD,
            ("planned", None, None, False, "计划2027-01-31前召开"),
        ),
        (
            "2027-01-10",
            Outcome("县委述职评议会", None),
            HELD,  # the planned day itself is not late
            ("planned", None, None, False, "计划2027-01-10前召开"),
        ),
        (
            "2027-01-10",
            None,
            HELD + DAY,
            ("planned", None, None, True, "逾期：计划2027-01-10召开，尚无结果"),
        ),
        (
            None,
            None,
            SEASON_END,  # the season's deadline itself is not late
            ("planned", None, None, False, "计划2027-01-31前召开"),
        ),
        (
            None,
            None,
            SEASON_END + DAY,
            ("planned", None, None, True, "逾期：未在2027-01-31前召开（尚无结果）"),
        ),
        (
            "2027-01-10",
            None,
            SEASON_END + DAY,  # both passed: the season's deadline is what is said
            ("planned", None, None, True, "逾期：未在2027-01-31前召开（尚无结果）"),
        ),
        (
            "2027-01-10",
            held(),
            HELD + 2 * DAY,
            ("held", "2027-01-17", 5, False, "待确定综合评价，备案期限2027-01-17（还剩5天）"),
        ),
        (
            "2027-01-10",
            held(),
            HELD,
            ("held", "2027-01-17", 7, False, "待确定综合评价，备案期限2027-01-17（还剩7天）"),
        ),
        (
            "2027-01-10",
            held(),
            FILING_END,  # the filing deadline itself is not late
            ("held", "2027-01-17", 0, False, "待确定综合评价，备案期限2027-01-17（还剩0天）"),
        ),
        (
            "2027-01-10",
            held(),
            FILING_END + DAY,
            ("held", "2027-01-17", -1, True, "逾期：备案期限2027-01-17已过1天（待确定综合评价）"),
        ),
        (
            None,
            held(),
            FILING_END + 30 * DAY,  # held in time, past the season's deadline: filing counts
            ("held", "2027-01-17", -30, True, "逾期：备案期限2027-01-17已过30天（待确定综合评价）"),
        ),
        (
            "2027-01-10",
            held("2027-01-12"),
            HELD + 3 * DAY,
            ("fixed", "2027-01-17", 4, False, "待备案，备案期限2027-01-17（还剩4天）"),
        ),
        (
            "2027-01-10",
            held("2027-01-12"),
            FILING_END + 2 * DAY,
            ("fixed", "2027-01-17", -2, True, "逾期：备案期限2027-01-17已过2天（待备案）"),
        ),
        (
            "2027-01-10",
            held("2027-01-12", "2027-01-12"),
            FILING_END + 40 * DAY,
            ("filed", "2027-01-17", None, False, "2027-01-12备案"),
        ),
        (
            "2027-01-10",
            held("2027-01-12", FILING_END.isoformat()),
            FILING_END + DAY,  # on the last day: on time
            ("filed", "2027-01-17", None, False, "2027-01-17备案"),
        ),
        (
            "2027-01-10",
            held("2027-01-12", (FILING_END + 3 * DAY).isoformat()),
            FILING_END + 3 * DAY,  # late, and said so, but done: nothing late now
            ("filed", "2027-01-17", None, False, "2027-01-20备案（逾期3天）"),
        ),
        (
            "2027-01-10",
            held(None, "2027-01-18"),  # a package filed without a fixed record still counts
            FILING_END + 3 * DAY,
            ("filed", "2027-01-17", None, False, "2027-01-18备案（逾期1天）"),
        ),
    ],
    ids=[
        "planned",
        "planned-by-the-season-deadline",
        "known-but-not-held-on-the-planned-day",
        "planned-day-passed",
        "season-deadline-day",
        "season-deadline-passed",
        "both-passed",
        "held-within-the-days",
        "held-today",
        "held-filing-deadline-day",
        "held-filing-deadline-passed",
        "held-long-ago",
        "fixed-not-filed",
        "fixed-not-filed-late",
        "filed-on-time",
        "filed-on-the-last-day",
        "filed-late",
        "filed-without-fixed",
    ],
)
def test_where_a_meeting_stands(
    planned_on: str | None,
    known: Outcome | None,
    today: datetime.date,
    expected: tuple[str, str | None, int | None, bool, str],
) -> None:
    status = _status(planned_on, known, today)
    assert (
        status.stage,
        status.filing_deadline,
        status.days_left,
        status.late,
        status.note,
    ) == expected
    assert (status.meeting, status.unit, status.level, status.via) == (
        "county",
        "平邑县委",
        "县委",
        "hosted",
    )
    assert status.planned_on == planned_on
    assert status.held_on == (None if known is None else known.held_on)
    assert status.stage in STAGE_NAMES


@pytest.mark.parametrize(
    ("filing_days", "today", "days_left", "late"),
    [
        (15, HELD + 15 * DAY, 0, False),
        (15, HELD + 16 * DAY, -1, True),
        (1, HELD + DAY, 0, False),
        (1, HELD + 2 * DAY, -1, True),
    ],
    ids=["15-last-day", "15-day-after", "1-last-day", "1-day-after"],
)
def test_the_seasons_own_filing_days_set_the_clock(
    filing_days: int, today: datetime.date, days_left: int, late: bool
) -> None:
    status = _status(None, held(), today, filing_days)
    deadline = HELD + filing_days * DAY
    assert status.filing_deadline == deadline.isoformat()
    assert (status.days_left, status.late) == (days_left, late)


@PROPERTY
@given(
    st.integers(1, 60),
    st.integers(-10, 120),
    st.sampled_from([None, "2027-01-11"]),
)
def test_an_unfiled_meeting_is_late_exactly_after_its_filing_deadline(
    filing_days: int, offset: int, fixed_on: str | None
) -> None:
    today = HELD + offset * DAY
    status = _status("2027-01-10", held(fixed_on), today, filing_days)
    deadline = HELD + datetime.timedelta(days=filing_days)
    assert status.days_left == (deadline - today).days
    assert status.late == (today > deadline)
    assert status.note.startswith("逾期") == status.late


def test_every_planned_meeting_has_a_status_in_the_files_order() -> None:
    today = datetime.date(2027, 1, 12)
    statuses = season_status(ORG, {"county": outcome(COUNTY, RESULT, None)}, today)
    assert [(s.meeting, s.unit, s.level, s.via, s.stage) for s in statuses] == [
        ("county", "平邑县委", "县委", "hosted", "held"),
        ("chengguan", "城关镇党委", "镇党委", "package", "planned"),
    ]


# -- rollup_rows and rollup --------------------------------------------------------------------


def town_outcome() -> Outcome:
    return Outcome(
        "城关镇村党组织书记述职评议会",
        "2027-01-08",
        "2027-01-09",
        "2027-01-11",
        (
            ReporterOutcome("c1", "孙东", "东村党支部", "较好", "较好"),
            ReporterOutcome("c2", "周西", "西村党支部", "", "差", {}, "2027-03-31", True),
        ),
        "package",
    )


def test_rollup_rows_map_each_reporter_to_the_unit_they_lead() -> None:
    outcomes = {"county": outcome(COUNTY, RESULT, fixed_record()), "chengguan": town_outcome()}
    assert rollup_rows(ORG, outcomes) == [
        RollupRow("county", "城关镇党委", "镇党委", "王建国", "城关镇党委", "好", "好", False),
        RollupRow("county", "青溪镇党委", "镇党委", "李秀英", "青溪镇党委", "一般", "一般", False),
        RollupRow("county", "县教育局党组", "局党组", "张志强", "县教育局党组", "", "较好", False),
        # 东村 is a unit, but the county's meeting does not cover it
        RollupRow("county", "", UNMATCHED, "赵一", "东村党支部", "差", "差", True),
        RollupRow(
            "chengguan", "东村党支部", "村党支部", "孙东", "东村党支部", "较好", "较好", False
        ),
        RollupRow("chengguan", "西村党支部", "村党支部", "周西", "西村党支部", "", "差", True),
    ]
    assert UNMATCHED == "未对应单位"


def test_a_meeting_without_an_outcome_has_no_rows() -> None:
    assert rollup_rows(ORG, {}) == []
    assert rollup_rows(ORG, {"chengguan": town_outcome(), "elsewhere": town_outcome()}) == [
        RollupRow(
            "chengguan", "东村党支部", "村党支部", "孙东", "东村党支部", "较好", "较好", False
        ),
        RollupRow("chengguan", "西村党支部", "村党支部", "周西", "西村党支部", "", "差", True),
    ]


def test_rollup_counts_each_level_and_lists_the_bottom() -> None:
    outcomes = {"county": outcome(COUNTY, RESULT, None), "chengguan": town_outcome()}
    rows = rollup_rows(ORG, outcomes)
    assert rollup(rows) == {
        "levels": {
            "镇党委": {"reporters": 2, "vote": {"好": 1, "一般": 1}, "final": {"未确定": 2}},
            "局党组": {"reporters": 1, "vote": {PENDING: 1}, "final": {"未确定": 1}},
            UNMATCHED: {"reporters": 1, "vote": {"差": 1}, "final": {"未确定": 1}},
            "村党支部": {
                "reporters": 2,
                "vote": {"较好": 1, "待定": 1},
                "final": {"较好": 1, "差": 1},
            },
        },
        "categories": {},  # no meeting file here gives its reporters a category
        "bottom": [asdict(rows[3]), asdict(rows[5])],
    }
    assert rollup(rows)["bottom"][0]["name"] == "赵一"


def test_reporters_with_a_category_are_also_counted_by_it() -> None:
    """The 三评 example's reporters carry a category (镇党委, 村党支部书记): the outcome keeps
    it, and the roll-up counts it beside the level."""
    folder = ROOT / "examples"
    meeting = parse_meeting_text(
        (folder / "sanping-meeting.toml").read_text("utf-8"),
        read_items=lambda name: (folder / name).read_text("utf-8"),
    )
    result = {"reporters": [{"id": r.id, "final_grade": "好"} for r in meeting.reporters]}
    found = outcome(meeting, result, None)
    assert [r.category for r in found.reporters] == ["镇党委"] * 2 + ["村党支部书记"] * 4
    rows = [
        RollupRow("m", "", UNMATCHED, r.name, r.org, r.vote_grade, "", False, r.category)
        for r in found.reporters
    ]
    counted = rollup(rows)
    assert counted["categories"] == {
        "镇党委": {"reporters": 2, "vote": {"好": 2}, "final": {"未确定": 2}},
        "村党支部书记": {"reporters": 4, "vote": {"好": 4}, "final": {"未确定": 4}},
    }
    assert counted["levels"][UNMATCHED]["reporters"] == 6


def test_an_empty_rollup() -> None:
    assert rollup([]) == {"levels": {}, "categories": {}, "bottom": []}


ROWS = st.lists(
    st.builds(
        RollupRow,
        meeting=st.sampled_from(["county", "chengguan"]),
        unit=st.sampled_from(["", "城关镇党委", "东村党支部"]),
        level=st.sampled_from(["镇党委", "局党组", "村党支部", UNMATCHED]),
        name=st.sampled_from(["王建国", "李秀英", "孙东"]),
        org=st.sampled_from(["城关镇党委", "东村党支部"]),
        vote_grade=st.sampled_from(["好", "较好", "一般", "差", ""]),
        final_grade=st.sampled_from(["好", "较好", "一般", "差", ""]),
        bottom=st.booleans(),
    ),
    max_size=25,
)


@PROPERTY
@given(ROWS)
def test_the_counts_of_a_level_add_up_to_its_reporters(rows: list[RollupRow]) -> None:
    levels = rollup(rows)["levels"]
    assert set(levels) == {row.level for row in rows}
    for level, counts in levels.items():
        of_level = [row for row in rows if row.level == level]
        assert counts["reporters"] == len(of_level)
        assert sum(counts["vote"].values()) == len(of_level)
        assert sum(counts["final"].values()) == len(of_level)
        assert counts["vote"].get(PENDING, 0) == sum(1 for r in of_level if not r.vote_grade)
        assert counts["final"].get("未确定", 0) == sum(1 for r in of_level if not r.final_grade)
    assert len(rollup(rows)["bottom"]) == sum(row.bottom for row in rows)


@PROPERTY
@given(ROWS.flatmap(lambda rows: st.tuples(st.just(rows), st.permutations(rows))))
def test_the_rollup_does_not_depend_on_the_order_of_rows(
    pair: tuple[list[RollupRow], list[RollupRow]],
) -> None:
    rows, shuffled = pair
    one, other = rollup(rows), rollup(shuffled)
    assert one["levels"] == other["levels"]

    def as_multiset(bottom: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
        return Counter(tuple(sorted(entry.items())) for entry in bottom)

    assert as_multiset(one["bottom"]) == as_multiset(other["bottom"])


# -- feedback_for ------------------------------------------------------------------------------


def test_feedback_is_the_fixed_decision_on_the_units_own_secretary() -> None:
    outcomes = {"county": outcome(COUNTY, RESULT, fixed_record()), "chengguan": town_outcome()}
    assert feedback_for(ORG, "qingxi", outcomes) == [
        {
            "meeting": COUNTY.title,
            "held_on": "2027-01-10",
            "id": "r02",
            "name": "李秀英",
            "org": "青溪镇党委",
            "vote_grade": "一般",
            "final_grade": "一般",
            "opinion": {"要求": "限期整改"},
            "rectify_by": "2027-03-31",
            "bottom": False,
            "category": "",
            "fixed_on": "2027-01-12",
        }
    ]
    [village] = feedback_for(ORG, "xicun", outcomes)
    assert (village["name"], village["final_grade"], village["fixed_on"]) == (
        "周西",
        "差",
        "2027-01-09",
    )


def test_no_feedback_before_the_record_is_fixed_or_from_a_meeting_not_covering_the_unit() -> None:
    unfixed = {"county": outcome(COUNTY, RESULT, None), "chengguan": town_outcome()}
    assert feedback_for(ORG, "qingxi", unfixed) == []
    assert feedback_for(ORG, "qingxi", {}) == []
    fixed = {"county": outcome(COUNTY, RESULT, fixed_record())}
    # 赵一 names 东村 as her org in the county's meeting, which does not cover 东村
    assert feedback_for(ORG, "dongcun", fixed) == []
    # the unit holding a meeting hears nothing of it; 县委 is covered by no meeting
    assert feedback_for(ORG, "county", fixed) == []
    # 县教育局党组 is covered: only its own reporter, not the others of the meeting
    assert [f["id"] for f in feedback_for(ORG, "jiaoyu", fixed)] == ["r03"]


# -- history -----------------------------------------------------------------------------------


def row(name: str, org: str, vote: str, final: str) -> dict[str, Any]:
    return asdict(RollupRow("m", org, "镇党委", name, org, vote, final, False))


def test_history_joins_the_seasons_oldest_first_for_this_seasons_reporters() -> None:
    seasons = {
        "2025": [row("王建国", "城关镇党委", "好", "好"), row("新人", "青溪镇党委", "", "")],
        "2023": [
            row("王建国", "城关镇党委", "一般", "一般"),
            row("离任", "木鱼镇党委", "差", "差"),
        ],
        "2024": [
            row("王建国", "城关镇党委", "较好", "好"),
            row("王建国", "青溪镇党委", "好", "好"),
        ],
    }
    assert history("2025", seasons) == {
        "王建国（城关镇党委）": [
            {"season": "2023", "vote_grade": "一般", "final_grade": "一般"},
            {"season": "2024", "vote_grade": "较好", "final_grade": "好"},
            {"season": "2025", "vote_grade": "好", "final_grade": "好"},
        ],
        "新人（青溪镇党委）": [{"season": "2025", "vote_grade": "", "final_grade": ""}],
    }


def test_history_of_a_season_not_kept_is_empty() -> None:
    assert history("2026", {"2025": [row("王建国", "城关镇党委", "好", "好")]}) == {}
    assert history("2025", {}) == {}
