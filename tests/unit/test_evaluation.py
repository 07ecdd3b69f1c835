"""综合评价 as a pure record (issue 16): entries naming who typed them, a reason wherever the
综合评价等次 leaves the 测评等次, revisions kept beside what they revise, and a record closed
by the date of the 党组研究 meeting."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from meeting import events as e
from meeting.errors import BadField, BadGrade, BadReporter, ReasonNeeded, Refused
from meeting.evaluation import (
    EnterEvaluation,
    EvaluationState,
    FixEvaluation,
    decide,
    evolve,
    filing_deadline,
    fold,
    outcome_lists,
)
from tests.unit.test_agenda import END  # r01 王建国, r02 李秀英, r03 张志强; 好/较好/一般/差

VOTES = {"r01": "好", "r02": "一般", "r03": ""}  # r03's vote left 待定
RECTIFY = "2027-01-31"  # 限期整改: r02 is decided 一般
OPINION = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板", "要求": "限期整改"}


def enter(reporter: str = "r01", grade: str = "好", **extra: Any) -> EnterEvaluation:
    fields: dict[str, Any] = {"opinion": OPINION, "entered_by": "组织科 李敏"} | extra
    return EnterEvaluation(reporter, grade, **fields)


def run(*commands: Any, now: float = 100.0) -> EvaluationState:
    state = EvaluationState()
    for command in commands:
        state = fold(decide(state, command, END, VOTES, now), state)
    return state


def all_entered() -> EvaluationState:
    return run(enter("r01"), enter("r02", "一般"), enter("r03", "较好"))


def test_an_entry_records_the_vote_it_was_made_against_and_who_typed_it() -> None:
    command = enter(sources={"实地调研": "好", "平时了解": " 工作积极主动\n"})
    assert decide(EvaluationState(), command, END, VOTES, 5.0) == [
        e.EvaluationEntered(
            "r01",
            "好",
            {"实地调研": "好", "平时了解": "工作积极主动"},
            "好",
            OPINION,
            "",
            "组织科 李敏",
            5.0,
        )
    ]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (
            enter("r01", "较好", reason="实地调研发现问题"),
            "实地调研发现问题",
        ),  # lower than the vote
        (enter("r02", "较好", reason="  督导调研\n成效好 "), "督导调研 成效好"),  # higher
        (enter("r01", "好", reason="不需要"), ""),  # the same grade: no reason kept
        (enter("r03", "较好"), ""),  # the vote left it 待定: the 党组 decides
    ],
)
def test_a_grade_other_than_the_vote_carries_its_reason(
    command: EnterEvaluation, reason: str
) -> None:
    [entered] = decide(EvaluationState(), command, END, VOTES, 1.0)
    assert isinstance(entered, e.EvaluationEntered) and entered.reason == reason


@pytest.mark.parametrize(
    ("command", "error", "field", "message"),
    [
        (enter("r09"), BadReporter, "reporter", "述职人“r09”不在会议文件中"),
        (enter(grade="优秀"), BadGrade, "grade", "综合评价等次“优秀”不是本次会议的等次（好、较好、一般、差）"),
        (enter("r01", "差"), ReasonNeeded, "reason", "综合评价等次（差）与测评等次（好）不同，请写明理由"),
        (enter("r01", "差", reason=" \u200b "), ReasonNeeded, "reason", "综合评价等次（差）与测评等次（好）不同，请写明理由"),
        (enter("r01", "差", reason="因" * 501), BadField, "reason", "理由过长：最多500字"),
        (enter("r01", "差", reason="问\x07责"), BadField, "reason", "理由含有无法显示的字符，请重新输入"),
        (enter(opinion={"成绩": "好"}), BadField, "opinion.问题", "请填写综合评价意见的“问题”部分"),
        (enter(opinion={"问题": "有", "成绩": "\n \n"}), BadField, "opinion.成绩", "请填写综合评价意见的“成绩”部分"),
        (enter(opinion={**OPINION, "亮点": "x"}), BadField, "opinion.亮点", "综合评价意见没有“亮点”这一项（可填：成绩、问题、要求）"),
        (enter(opinion={**OPINION, "要求": "要" * 2001}), BadField, "opinion.要求", "综合评价意见“要求”过长：最多2000字"),
        (enter(opinion={**OPINION, "问题": "短\x00板"}), BadField, "opinion.问题", "综合评价意见“问题”含有无法显示的字符，请重新输入"),
        (enter(sources={"民主测评": "好"}), BadField, "sources.民主测评", "评价来源没有“民主测评”这一项（可填：实地调研、平时了解、督导调研）"),
        (enter(entered_by=""), BadField, "entered_by", "请填写录入人姓名"),
        (enter(entered_by="李" * 41), BadField, "entered_by", "录入人过长：最多40字"),
    ],
)  # fmt: skip
def test_what_cannot_be_recorded_is_refused_naming_the_field(
    command: EnterEvaluation, error: type[Exception], field: str, message: str
) -> None:
    with pytest.raises(error) as caught:
        decide(EvaluationState(), command, END, VOTES, 1.0)
    assert (type(caught.value), caught.value.field, str(caught.value)) == (error, field, message)  # type: ignore[attr-defined]


def test_texts_of_the_longest_length_are_taken() -> None:
    command = enter(
        "r01",
        "较好",
        opinion={**OPINION, "要求": "要" * 2000},
        reason="因" * 500,
        entered_by="李" * 40,
    )
    [entered] = decide(EvaluationState(), command, END, VOTES, 1.0)
    assert isinstance(entered, e.EvaluationEntered)
    assert (len(entered.opinion["要求"]), len(entered.reason), len(entered.entered_by)) == (
        2000,
        500,
        40,
    )


def test_the_opinion_keeps_its_lines_and_its_order() -> None:
    typed = {"要求": "  一、补短板\r\n  二、强基础  ", "问题": "有\n\n短板", "成绩": "好"}
    [entered] = decide(EvaluationState(), enter(opinion=typed), END, VOTES, 1.0)
    assert isinstance(entered, e.EvaluationEntered)
    assert list(entered.opinion.items()) == [
        ("成绩", "好"),
        ("问题", "有\n\n短板"),
        ("要求", "一、补短板\n二、强基础"),
    ]


def test_the_sources_are_the_meeting_s_own_when_configured() -> None:
    meeting = dataclasses.replace(END, evaluation_sources=("年度考核", "群众评议"))
    command = enter(sources={"群众评议": "满意", "年度考核": ""})
    [entered] = decide(EvaluationState(), command, meeting, VOTES, 1.0)
    assert isinstance(entered, e.EvaluationEntered) and entered.sources == {"群众评议": "满意"}
    with pytest.raises(BadField, match="可填：年度考核、群众评议"):
        decide(EvaluationState(), enter(sources={"实地调研": "好"}), meeting, VOTES, 1.0)


def test_nothing_is_entered_for_a_reporter_before_their_vote_is_counted() -> None:
    for counted in ({}, {"r02": "一般"}):  # before any count; with voting = "each", r01's later
        with pytest.raises(Refused) as refused:
            decide(EvaluationState(), enter("r01"), END, counted, 1.0)
        assert str(refused.value) == "王建国的测评尚未计票，计票后才能录入综合评价"


def test_a_revision_is_a_new_entry_and_the_old_one_stays() -> None:
    state = run(enter("r01"), enter("r01", "较好", reason="督导调研发现问题"), now=7.0)
    assert [entry.grade for entry in state.history("r01")] == ["好", "较好"]
    assert state.current["r01"].grade == "较好" and state.history("r02") == []


def test_fixing_needs_every_reporter_a_date_and_a_name() -> None:
    with pytest.raises(Refused) as caught:
        decide(run(enter("r01")), FixEvaluation("2026-12-30", "李敏"), END, VOTES, 1.0)
    assert str(caught.value) == "尚有述职人未录入综合评价：李秀英、张志强"
    for studied_on, message in [
        ("2026-12-27", "党组研究日期不能早于会议日期2026-12-28"),
        ("2026/12/30", "党组研究日期应为“2026-12-30”这样的日期"),
        ("明天", "党组研究日期应为“2026-12-30”这样的日期"),
    ]:
        with pytest.raises(BadField) as refused:
            decide(all_entered(), FixEvaluation(studied_on, "李敏", RECTIFY), END, VOTES, 1.0)
        assert (refused.value.field, str(refused.value)) == ("studied_on", message)
    for who, message in [
        (" ", "请填写录入人姓名"),
        ("李\x1b敏", "录入人含有无法显示的字符，请重新输入"),
    ]:
        with pytest.raises(BadField) as refused:
            decide(all_entered(), FixEvaluation("2026-12-30", who, RECTIFY), END, VOTES, 1.0)
        assert (refused.value.field, str(refused.value)) == ("entered_by", message)


def test_a_rectification_date_is_needed_exactly_when_someone_is_to_rectify() -> None:
    for given, message in [
        ("", "有述职人需约谈提醒、限期整改，请填写整改完成期限"),
        ("  ", "有述职人需约谈提醒、限期整改，请填写整改完成期限"),
        ("2027/1/31", "整改完成期限应为“2027-01-31”这样的日期"),
        ("2026-12-30", "整改完成期限应晚于党组研究日期2026-12-30"),
        ("2026-12-29", "整改完成期限应晚于党组研究日期2026-12-30"),
    ]:
        with pytest.raises(BadField) as refused:
            decide(all_entered(), FixEvaluation("2026-12-30", "李敏", given), END, VOTES, 1.0)
        assert (refused.value.field, str(refused.value)) == ("rectify_by", message)
    [fixed] = decide(
        all_entered(), FixEvaluation("2026-12-30", "李敏", " 2026-12-31 "), END, VOTES, 1.0
    )
    assert fixed.rectify_by == "2026-12-31"
    nobody = run(enter("r01"), enter("r02", "较好", reason="x"), enter("r03", "好"))
    [fixed] = decide(nobody, FixEvaluation("2026-12-30", "李敏"), END, VOTES, 1.0)
    assert fixed.rectify_by == ""


def test_a_fixed_record_takes_nothing_more() -> None:
    fixed = fold(
        decide(all_entered(), FixEvaluation("2026-12-28", "李敏", RECTIFY), END, VOTES, 9.0),
        all_entered(),
    )
    assert fixed.fixed == e.EvaluationFixed("2026-12-28", "李敏", 9.0, RECTIFY)
    for command in (enter("r01", "较好", reason="x"), FixEvaluation("2026-12-31", "李敏")):
        with pytest.raises(Refused) as caught:
            decide(fixed, command, END, VOTES, 10.0)
        assert str(caught.value) == "综合评价已于2026-12-28经党组研究确定，不能再录入或修改"


def test_the_agenda_s_events_change_nothing_here() -> None:
    state = all_entered()
    assert evolve(state, e.MeetingStarted(1.0)) is state
    assert fold([]) == EvaluationState()


@pytest.mark.parametrize(
    ("meeting_date", "deadline"),
    [("2026-12-28", "2027-01-04"), ("2028-02-25", "2028-03-03"), ("2026-01-01", "2026-01-08")],
)
def test_the_filing_deadline_is_seven_days_after_the_meeting(
    meeting_date: str, deadline: str
) -> None:
    assert filing_deadline(meeting_date) == deadline


def test_the_meeting_s_fold_carries_the_record_and_a_fix_moves_the_agenda_version() -> None:
    from meeting.agenda import fold as fold_meeting
    from meeting.agenda import initial_state

    entered = decide(EvaluationState(), enter("r01"), END, VOTES, 1.0)
    state = fold_meeting(initial_state(END), entered)
    assert state.evaluation.current["r01"] == entered[0]
    assert (state.version, state.agenda_version) == (1, 0)  # an entry never blocks the chair
    state = fold_meeting(state, [e.EvaluationFixed("2026-12-30", "李敏", 2.0)])
    assert state.evaluation.fixed is not None and state.agenda_version == 1


def test_the_after_meeting_view_shows_each_reporter_s_vote_and_entries() -> None:
    import dataclasses

    from meeting.agenda import fold as fold_meeting
    from meeting.agenda import initial_state
    from meeting.views import evaluation_view

    assert [r["vote_grade"] for r in evaluation_view(END, initial_state(END))["reporters"]] == [
        "",
        "",
        "",
    ]  # before any count
    result = {"reporters": [{"id": "r01", "final_grade": "好"}, {"id": "r02", "final_grade": None}]}
    state = fold_meeting(initial_state(END), [e.VotingOpened(4, ("r01", "r02", "r03"), 1.0, "")])
    state = fold_meeting(state, [e.VotingClosed(4, 2.0), e.ResultComputed(4, result)])
    assert evaluation_view(END, state) == {
        "grades": ["好", "较好", "一般", "差"],
        "poor_grade": "差",
        "sources": ["实地调研", "平时了解", "督导调研"],
        "opinion_parts": ["成绩", "问题", "要求"],
        "deadline": "2027-01-04",
        "fixed": None,
        "outcomes": {"interview": [], "not_excellent": []},
        "remark_steps": [
            {"step": 1, "kind": "comment", "reporters": ["r01"], "commenters": []},
            {"step": 3, "kind": "comment", "reporters": ["r03"], "commenters": []},
        ],
        "remarks": [],
        "finished": False,
        "reporters": [
            {"id": "r01", "name": "王建国", "org": "城关镇党委", "vote_grade": "好", "history": []},
            {"id": "r02", "name": "李秀英", "org": "青溪镇党委", "vote_grade": "", "history": []},
            {"id": "r03", "name": "张志强", "org": "木鱼镇党委", "vote_grade": "", "history": []},
        ],
    }
    first = e.EvaluationEntered("r01", "好", {}, "好", OPINION, "", "李敏", 3.0)
    second = dataclasses.replace(first, grade="较好", reason="督导调研", at=4.0)
    fixed = e.EvaluationFixed("2026-12-30", "李敏", 5.0, "2027-01-31")
    view = evaluation_view(END, fold_meeting(state, [first, second, fixed]))
    assert view["fixed"] == {
        "studied_on": "2026-12-30",
        "entered_by": "李敏",
        "at": 5.0,
        "rectify_by": "2027-01-31",
    }
    assert [h["grade"] for h in view["reporters"][0]["history"]] == ["好", "较好"]
    assert view["reporters"][0]["history"][1]["reason"] == "督导调研"


@pytest.mark.parametrize(
    ("grades", "interview", "not_excellent"),
    [
        ({"r01": "好", "r02": "一般", "r03": "差"}, ["r02", "r03"], ["r03"]),
        ({"r01": "较好", "r02": "较好", "r03": "好"}, [], []),
        ({"r03": "差", "r01": "一般"}, ["r01", "r03"], ["r03"]),  # speaking order; r02 not yet
        ({}, [], []),
    ],
)
def test_the_outcome_lists_follow_the_decided_grades(
    grades: dict[str, str], interview: list[str], not_excellent: list[str]
) -> None:
    reasons = {rid: "党组研究" for rid in grades}
    state = run(*(enter(rid, grade, reason=reasons[rid]) for rid, grade in grades.items()))
    assert outcome_lists(state, END) == {"interview": interview, "not_excellent": not_excellent}


def test_on_a_scale_of_its_own_the_outcomes_speak_its_grades() -> None:
    import dataclasses

    from tally.model import Rules

    scale = ("优秀", "合格", "基本合格", "不合格")
    meeting = dataclasses.replace(END, rules=Rules(grades=scale, score_cutoffs=(90, 75, 60)))
    votes = dict.fromkeys(("r01", "r02", "r03"), "")
    state = EvaluationState()
    for rid, grade in (("r01", "优秀"), ("r02", "基本合格"), ("r03", "不合格")):
        state = fold(decide(state, enter(rid, grade), meeting, votes, 1.0), state)
    assert outcome_lists(state, meeting) == {"interview": ["r02", "r03"], "not_excellent": ["r03"]}
    # the latest entry counts: a revision takes a reporter off a list
    state = fold(decide(state, enter("r03", "合格"), meeting, votes, 2.0), state)
    assert outcome_lists(state, meeting) == {"interview": ["r02"], "not_excellent": []}


def test_in_a_sanping_meeting_the_composite_s_scale_is_the_one_chosen_on() -> None:
    """A 三评 meeting with `[composite] grades` of its own: the 测评等次 is on that scale, so the
    综合评价等次 is chosen on it too (the rules' grades are only the vote's part)."""
    from fractions import Fraction

    from tally.composite import Composite, Source
    from tally.model import Appraisal

    scale = ("优秀", "良好", "一般", "差")
    composite = Composite((Source("vote", "群众测评", Fraction(1)),), scale, (90, 80, 60))
    meeting = dataclasses.replace(END, appraisal=Appraisal(composite=composite))
    assert meeting.measured_grades == scale and END.measured_grades == END.rules.grades
    votes = {"r01": "优秀", "r02": "一般", "r03": "差"}  # the composite's grades
    state = EvaluationState()
    for rid, grade in votes.items():  # as measured: no reason asked
        state = fold(decide(state, enter(rid, grade), meeting, votes, 1.0), state)
    assert {rid: entry.grade for rid, entry in state.current.items()} == votes
    assert outcome_lists(state, meeting) == {"interview": ["r02", "r03"], "not_excellent": ["r03"]}
    with pytest.raises(BadGrade, match="优秀、良好、一般、差"):  # the rules' 好 is not on it
        decide(state, enter("r01", "好", reason="党组研究"), meeting, votes, 2.0)
