"""The 反馈单 once the 党组 has fixed the 综合评价 (issue 16): each page carries the 综合评价等次,
the date it was fixed and the 综合评价意见 (with the reason where it differs from the vote),
long parts cut to fit; a reporter without an entry, or no fixed record, keeps the vote's page
that says it is not the 综合评价."""

from __future__ import annotations

import re
from pathlib import Path

from printouts.feedback import render_feedback
from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
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
