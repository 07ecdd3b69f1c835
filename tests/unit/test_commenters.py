"""点评 as the meeting does it (issue 16): several named commenters on each report, one 集中点评
after the last report, and a closing 讲话; each text saved under who gave it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from meeting import commands as c
from meeting import events as e
from meeting.agenda import Step, decide, evolve, fold, initial_state, plan
from meeting.errors import BadField, Refused
from meeting.views import agenda_view, remarks_view
from tally.errors import InputError
from tally.meeting_file import parse_meeting
from tally.model import Agenda
from tests.unit.test_agenda import small_meeting
from tests.unit.test_meeting_file import base

SECRETARY = "刘洋（局党组书记）"
DEPUTY = "陈静（局党组成员、副局长）"
SPEAKER = "王强（县委常委、组织部部长）"


def meeting_with(comments: str = "each", speech: str = SPEAKER, voting: str = "end"):
    meeting = small_meeting(voting)
    agenda = Agenda(commenters=(SECRETARY, DEPUTY), comments=comments, closing_speech=speech)  # type: ignore[arg-type]
    r01, r02, r03 = meeting.reporters
    r03 = dataclasses.replace(r03, commenters=(DEPUTY,))  # 结合工作分工: only the deputy
    return dataclasses.replace(meeting, agenda=agenda, reporters=(r01, r02, r03))


def at_step(meeting, kind: str, reporters: tuple[str, ...] | None = None):
    """The state on the first step of this kind (and these reporters)."""
    state = fold(initial_state(meeting), [e.MeetingStarted(1.0)])
    for position, step in enumerate(state.steps):
        if step.kind == kind and (reporters is None or step.reporters == reporters):
            return evolve(state, e.StepEntered(position, 2.0))
    raise AssertionError(f"no {kind} step")


def test_each_report_is_commented_on_by_its_commenters_and_the_speech_comes_last() -> None:
    assert plan(meeting_with()) == (
        Step("report", ("r01",)),
        Step("comment", ("r01",), (SECRETARY, DEPUTY)),
        Step("report", ("r03",)),
        Step("comment", ("r03",), (DEPUTY,)),
        Step("vote", ("r01", "r02", "r03")),
        Step("speech", (), (SPEAKER,)),
    )


def test_a_together_comment_follows_the_last_report_and_covers_the_onsite_reporters() -> None:
    assert plan(meeting_with("together", speech="")) == (
        Step("report", ("r01",)),
        Step("report", ("r03",)),
        Step("comment", ("r01", "r03"), (SECRETARY, DEPUTY)),
        Step("vote", ("r01", "r02", "r03")),
    )
    assert plan(meeting_with(speech="", voting="each"))[-1] == Step("vote", ("r03",))


def test_with_nobody_named_the_plan_is_the_one_comment_per_report_it_always_was() -> None:
    assert [s.commenters for s in plan(small_meeting())] == [()] * 5


@pytest.mark.parametrize(
    ("kind", "reporters", "by", "saved"),
    [
        ("comment", ("r01",), SECRETARY, e.CommentRecorded("r01", "很好", 5.0, by=SECRETARY)),
        ("comment", ("r01",), " 赵敏 ", e.CommentRecorded("r01", "很好", 5.0, by="赵敏")),
        (
            "comment",
            ("r01", "r03"),
            DEPUTY,
            e.CommentRecorded("", "很好", 5.0, by=DEPUTY, kind="together"),
        ),
        ("speech", (), SPEAKER, e.CommentRecorded("", "很好", 5.0, by=SPEAKER, kind="speech")),
    ],
    ids=["named", "another name", "together", "speech"],
)
def test_a_comment_is_saved_under_who_gave_it(
    kind: str, reporters: tuple[str, ...], by: str, saved: e.CommentRecorded
) -> None:
    comments = "together" if len(reporters) > 1 else "each"
    state = at_step(meeting_with(comments), kind, reporters)
    assert decide(state, c.RecordComment("很好", by), 5.0) == [saved]


@pytest.mark.parametrize(
    ("by", "message"),
    [
        ("", f"请选择点评人（{SECRETARY}、{DEPUTY}）"),
        ("  ", f"请选择点评人（{SECRETARY}、{DEPUTY}）"),
        ("李\x1b明", "点评人姓名含有无法显示的字符，请重新输入"),
        ("李" * 41, "点评人姓名过长：最多40字"),
    ],
)
def test_who_gave_a_comment_is_checked_and_named_in_the_error(by: str, message: str) -> None:
    state = at_step(meeting_with(), "comment", ("r01",))
    with pytest.raises(BadField) as refused:
        decide(state, c.RecordComment("很好", by), 5.0)
    assert (refused.value.field, str(refused.value)) == ("by", message)


def test_the_speech_asks_for_its_speaker_in_its_own_words() -> None:
    with pytest.raises(BadField, match=f"请选择讲话人（{SPEAKER}）"):
        decide(at_step(meeting_with(), "speech"), c.RecordComment("讲话要点"), 5.0)
    with pytest.raises(Refused, match="讲话内容过长"):
        decide(at_step(meeting_with(), "speech"), c.RecordComment("长" * 2001, SPEAKER), 5.0)


def test_unnamed_comments_stay_possible_where_the_meeting_names_nobody() -> None:
    state = at_step(small_meeting(), "comment", ("r01",))
    assert decide(state, c.RecordComment("好", ""), 5.0) == [e.CommentRecorded("r01", "好", 5.0)]


@pytest.mark.parametrize("kind", ["report", "vote"])
def test_no_comment_is_taken_on_a_report_or_vote_step(kind: str) -> None:
    with pytest.raises(Refused, match="当前不在点评或讲话环节"):
        decide(at_step(meeting_with(), kind), c.RecordComment("好", SECRETARY), 5.0)


def test_each_commenter_keeps_their_own_text_and_a_correction_replaces_only_it() -> None:
    meeting = meeting_with()
    state = at_step(meeting, "comment", ("r01",))
    for text, by in [("成绩突出", SECRETARY), ("问题明显", DEPUTY), ("成绩较突出", SECRETARY)]:
        state = fold(state, decide(state, c.RecordComment(text, by), 5.0))
    state = fold(state, decide(at_step(meeting, "speech"), c.RecordComment("讲话", SPEAKER), 6.0))
    assert remarks_view(state) == [
        {"kind": "comment", "reporter": "r01", "by": SECRETARY, "text": "成绩较突出"},
        {"kind": "comment", "reporter": "r01", "by": DEPUTY, "text": "问题明显"},
        {"kind": "speech", "reporter": "", "by": SPEAKER, "text": "讲话"},
    ]


def test_the_views_say_who_is_to_speak_on_the_current_step() -> None:
    meeting = meeting_with("together")
    view = agenda_view(meeting, at_step(meeting, "comment"))
    assert (view["phase"], view["reporter"], view["commenters"]) == (
        "comment",
        None,
        [SECRETARY, DEPUTY],
    )
    speech = agenda_view(meeting, at_step(meeting, "speech"))
    assert (speech["phase"], speech["commenters"]) == ("speech", [SPEAKER])


def meeting_file(agenda: dict[str, Any] | None = None, **reporter: Any) -> dict:
    data = base()
    data["reporters"][0].update(reporter)
    if agenda is not None:
        data["agenda"] = agenda
    return data


def test_the_meeting_file_names_the_commenters_the_mode_and_the_speaker() -> None:
    text = meeting_file(
        {
            "commenters": [SECRETARY, f" {DEPUTY} "],
            "comments": "together",
            "closing_speech": SPEAKER,
        },
        commenters=[DEPUTY],
    )
    meeting = parse_meeting(text)
    assert meeting.agenda.commenters == (SECRETARY, DEPUTY)
    assert (meeting.agenda.comments, meeting.agenda.closing_speech) == ("together", SPEAKER)
    assert meeting.commenters_of("r01") == (DEPUTY,)
    assert meeting.commenters_of("r02") == (SECRETARY, DEPUTY)


@pytest.mark.parametrize(
    ("agenda", "reporter", "where", "message"),
    [
        ({"commenters": "刘洋"}, {}, "agenda.commenters", "应是数组"),
        ({"commenters": ["刘洋", ""]}, {}, "agenda.commenters[2]", "应是非空字符串"),
        ({"commenters": ["刘洋", "刘洋"]}, {}, "agenda.commenters[2]", "“刘洋”重复"),
        ({"commenters": ["刘" * 41]}, {}, "agenda.commenters[1]", "过长：最多40字"),
        ({"comments": "all"}, {}, "agenda.comments", "应为“each” 或 “together”"),
        ({"closing_speech": 3}, {}, "agenda.closing_speech", "应是字符串"),
        ({"closing_speech": "王" * 41}, {}, "agenda.closing_speech", "过长：最多40字"),
        ({}, {"commenters": [1]}, "reporters[1].commenters[1]", "应是非空字符串"),
    ],
)
def test_every_bad_commenter_setting_is_named(
    agenda: dict, reporter: dict, where: str, message: str
) -> None:
    with pytest.raises(InputError) as refused:
        parse_meeting(meeting_file(agenda, **reporter), "m.toml")
    assert refused.value.where == f"m.toml {where}" and message in str(refused.value)


def test_a_together_comment_cannot_follow_reports_that_are_voted_on_one_by_one() -> None:
    data = base() | {"agenda": {"comments": "together"}}
    data["meeting"]["voting"] = "each"
    with pytest.raises(InputError, match="集中点评") as refused:
        parse_meeting(data, "m.toml")
    assert refused.value.where == "m.toml agenda.comments"


def test_the_evaluation_sources_are_the_meeting_s_own_when_named() -> None:
    data = base() | {"evaluation": {"sources": ["年度考核", "群众评议"]}}
    assert parse_meeting(data).evaluation_sources == ("年度考核", "群众评议")
    assert parse_meeting(base()).evaluation_sources == (
        "实地调研",
        "平时了解",
        "督导调研",
    )
    bad = base() | {"evaluation": {"sources": ["年度考核", "年度考核"]}}
    with pytest.raises(InputError, match="重复"):
        parse_meeting(bad, "m.toml")


def finished(meeting):
    state = fold(initial_state(meeting), [e.MeetingStarted(1.0)])
    return evolve(state, e.MeetingFinished(9.0))


def test_a_comment_is_pasted_in_after_the_meeting_for_a_named_step() -> None:
    meeting = meeting_with("together")
    state = finished(meeting)
    together = next(i for i, s in enumerate(state.steps) if s.kind == "comment")
    speech = len(state.steps) - 1
    assert decide(state, c.RecordComment("集中点评稿", SECRETARY, together), 5.0) == [
        e.CommentRecorded("", "集中点评稿", 5.0, by=SECRETARY, kind="together")
    ]
    assert decide(state, c.RecordComment("讲话稿", SPEAKER, speech), 5.0) == [
        e.CommentRecorded("", "讲话稿", 5.0, by=SPEAKER, kind="speech")
    ]
    with pytest.raises(Refused, match="当前不在点评或讲话环节"):
        decide(state, c.RecordComment("x", SECRETARY, 0), 5.0)  # a report step
    with pytest.raises(BadField, match="议程没有第99项") as refused:
        decide(state, c.RecordComment("x", SECRETARY, 98), 5.0)
    assert refused.value.field == "step"


def test_pasting_in_waits_for_the_end_and_stops_at_the_fix() -> None:
    meeting = meeting_with()
    running = at_step(meeting, "comment", ("r01",))
    with pytest.raises(Refused, match="会议结束后才能补录点评"):
        decide(running, c.RecordComment("x", SECRETARY, 1), 5.0)
    fixed = evolve(finished(meeting), e.EvaluationFixed("2026-12-30", "李敏", 9.5))
    with pytest.raises(Refused, match="综合评价已经党组研究确定，不能再补录点评"):
        decide(fixed, c.RecordComment("x", SECRETARY, 1), 10.0)
