"""The 反馈单 once the 党组 has fixed the 综合评价 (issue 16): each page carries the 综合评价等次,
the date it was fixed and the 综合评价意见 (with the reason where it differs from the vote),
long parts cut to fit; a reporter without an entry, or no fixed record, keeps the vote's page
that says it is not the 综合评价."""

from __future__ import annotations

import re
from pathlib import Path

from printouts.feedback import render_feedback
from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_evaluation, sample_meeting
from tests.unit.test_printouts import pdf_pages, pdf_text

NOT_OVERALL = "本表为会议测评结果，非综合评价等次（综合评价由党组研究确定）"


def entry(grade: str, **extra: object) -> dict:
    opinion = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板", "要求": "限期整改"}
    return {"grade": grade, "opinion": opinion, "reason": "", "entered_by": "李敏", **extra}


def test_a_fixed_evaluation_is_on_each_page_beside_the_vote(tmp_path: Path) -> None:
    meeting = sample_meeting(3)
    result = recompute(meeting, sample_ballots(meeting))
    vote = {r["id"]: r["final_grade"] for r in result["reporters"]}
    other = next(g for g in meeting.rules.grades if g != vote["r01"])
    evaluation = {
        "fixed": {"studied_on": "2026-12-30", "entered_by": "李敏", "at": 1.0},
        "entries": {
            "r01": entry(other, reason="督导调研发现整改不到位"),
            "r02": entry(vote["r02"], opinion={"成绩": "好", "问题": "问题" * 400}),
        },
    }
    pdf = render_feedback(meeting, result, {}, evaluation=evaluation)
    assert pdf_pages(pdf, tmp_path) == 3
    pages = [re.sub(r"\s+", "", page) for page in pdf_text(pdf, tmp_path).split("\f")]
    assert f"综合评价等次：{other}" in pages[0] and f"测评等次：{vote['r01']}" in pages[0]
    assert "经党组于2026-12-30研究确定；下为会议测评结果" in pages[0]
    assert NOT_OVERALL not in pages[0]
    assert "成绩：抓党建促发展成效明显" in pages[0] and "要求：限期整改" in pages[0]
    assert "与测评等次不同的理由：督导调研发现整改不到位" in pages[0]
    assert "（余下从略，请见综合评价记录）" in pages[1] and "理由" not in pages[1]
    assert NOT_OVERALL in pages[2] and "综合评价等次：" not in pages[2]  # no entry for r03


def test_without_a_fixed_evaluation_the_page_is_the_vote_s() -> None:
    meeting = sample_meeting(2)
    result = recompute(meeting, sample_ballots(meeting))
    assert render_feedback(meeting, result, {}, evaluation=None) == render_feedback(
        meeting, result, {}
    )


def test_each_named_comment_the_together_comment_and_the_rectification_are_on_the_sheet(
    tmp_path: Path,
) -> None:
    meeting = sample_meeting(3)
    result = recompute(meeting, sample_ballots(meeting))
    evaluation = sample_evaluation(meeting, result)  # r01 decided two grades below its vote
    r01_grade = evaluation["entries"]["r01"]["grade"]
    remarks = [
        {"kind": "comment", "reporter": "r01", "by": "刘洋（书记）", "text": "成绩突出"},
        {"kind": "comment", "reporter": "r01", "by": "陈静（副书记）", "text": "短板明显"},
        {"kind": "comment", "reporter": "r02", "by": "刘洋（书记）", "text": "思路清晰"},
        {"kind": "together", "reporter": "", "by": "刘洋（书记）", "text": "总体较好"},
        {"kind": "speech", "reporter": "", "by": "王强（部长）", "text": "讲话不在反馈单上"},
    ]
    pdf = render_feedback(meeting, result, remarks, evaluation=evaluation)
    pages = [re.sub(r"\s+", "", page) for page in pdf_text(pdf, tmp_path).split("\f")]
    first, second = pages[0], pages[1]
    assert "刘洋（书记）：成绩突出" in first and "陈静（副书记）：短板明显" in first
    assert "思路清晰" not in first and "刘洋（书记）：思路清晰" in second
    assert all("集中点评（刘洋（书记））：总体较好" in page for page in pages if page)
    assert not any("讲话不在反馈单上" in page for page in pages)
    rectify_by = evaluation["fixed"]["rectify_by"]
    assert (
        f"综合评价等次为{r01_grade}，将进行约谈提醒" in first
        and f"于{rectify_by}前完成整改" in first
    )
    assert "整改要求" not in second  # decided at its vote: 好 or 较好 in this sample
    if r01_grade == meeting.rules.poor_grade:
        assert "本年度考核结果不得评定为优秀等次" in first
