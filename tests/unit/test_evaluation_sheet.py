"""The 综合评价结果表 and the 综合评价 sheets of the workbook, from a hand-built fixed record
(the shape of `MeetingRecord.evaluation`), read back with poppler, pyHanko and openpyxl."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pyhanko.pdf_utils.reader import PdfFileReader

from printouts.evaluation_sheet import (
    ATTACHMENT,
    evaluation_digest,
    render_evaluation,
    revisions,
)
from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
from printouts.sheet_record import read_attached
from printouts.verify import Verdict
from printouts.verify_evaluation import _check_record
from printouts.xlsx import results_xlsx

DIGESTS = {"meeting_sha256": "a1" * 32, "ballots_sha256": "b2" * 32}
OPINION = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板", "要求": "补齐短板"}


def entry(reporter: str, vote: str, grade: str, at: float, **extra) -> dict:
    return {
        "reporter": reporter,
        "vote_grade": vote,
        "sources": {},
        "grade": grade,
        "opinion": OPINION,
        "reason": "",
        "entered_by": "王秘书",
        "at": at,
    } | extra


def fixed_record(result: dict, rectify_by: str = "2027-01-31") -> dict:
    """Every reporter as the vote says, then r01 revised to the poor grade with a reason."""
    votes = {r["id"]: r["final_grade"] for r in result["reporters"]}
    history = [entry(rid, vote, vote, 1000.0 + i) for i, (rid, vote) in enumerate(votes.items())]
    history.append(
        entry(
            "r01",
            votes["r01"],
            "差",
            2000.0,
            reason="督导调研发现台账造假",
            sources={"督导调研": "差", "实地调研": "发现多处台账与实际不符，群众反映强烈"},
            entered_by="李敏",
        )
    )
    return {
        "fixed": {
            "studied_on": "2026-12-30",
            "entered_by": "李敏",
            "at": 3000.0,
            "rectify_by": rectify_by,
        },
        "entries": {h["reporter"]: h for h in history},
        "history": history,
    }


@pytest.fixture(scope="module")
def sample():
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    return meeting, result, fixed_record(result)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "evaluation.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True)
    return re.sub(r"\s+", "", out.stdout)


def test_the_sheet_prints_grades_reasons_opinions_and_the_outcome_lists(sample, tmp_path):
    meeting, result, evaluation = sample
    pdf = render_evaluation(
        meeting, result, evaluation, DIGESTS, signed_by="自签名证书", signer_sha256="c3" * 32
    )
    text = text_of(pdf, tmp_path)
    assert f"{meeting.title}综合评价结果表" in text
    assert "党组研究日期：2026-12-30" in text and "确定人：李敏" in text
    assert "录入人：王秘书、李敏" in text
    for reporter in meeting.reporters:
        assert reporter.name in text and reporter.org in text
    names = {r.id: r.name for r in meeting.reporters}
    # r01: the vote's grade, the 党组's other grade and the reason, in the table row
    vote = result["reporters"][0]["final_grade"]
    assert f"{names['r01']}{meeting.reporters[0].org}{vote}" in text
    assert "督导调研发现台账造假" in text
    assert "实地调研：发现多处台账与实际不符，群众反映强烈" in text  # a long note, in full
    assert "成绩：抓党建促发展成效明显" in text and "要求：补齐短板" in text
    poor = [r.name for r in meeting.reporters if evaluation["entries"][r.id]["grade"] == "差"]
    talk = [
        r.name
        for r in meeting.reporters
        if evaluation["entries"][r.id]["grade"] in meeting.rules.grades[2:]
    ]
    assert f"约谈提醒、限期整改：{'、'.join(talk)}（限期整改完成时间：2027-01-31）" in text
    assert f"年度考核不得评定为优秀：{'、'.join(poor)}。" in text
    assert f"综合评价共{len(evaluation['history'])}次录入，含1次修改" in text
    assert f"综合评价记录SHA-256：{evaluation_digest(evaluation)}" in text
    assert "a1" * 32 in text and "b2" * 32 in text and "c3" * 32 in text
    assert "党组公章" in text and "党组负责人（签字）" in text
    assert re.search(r"第1页共(\d+)页", text)
    assert "骑" in text  # the 骑缝 margin


def test_the_attached_record_round_trips(sample):
    meeting, result, evaluation = sample
    pdf = render_evaluation(meeting, result, evaluation, DIGESTS, signer_sha256="c3" * 32)
    record = read_attached(PdfFileReader(io.BytesIO(pdf), strict=False), ATTACHMENT)
    assert record is not None and record["format"] == "pingyi-evaluation"
    assert record["evaluation"] == evaluation
    assert record["inputs"] == DIGESTS and record["signer_sha256"] == "c3" * 32
    assert record["meeting"] == {"title": meeting.title, "date": meeting.date}
    assert record["vote_grades"] == {r["id"]: r["final_grade"] for r in result["reporters"]}
    assert record["evaluation_sha256"] == evaluation_digest(evaluation)
    assert "r01" in record["outcomes"]["not_excellent"]
    assert record["bottom"] == []
    # the tally sheet's own attachment is not there: `pingyi verify` tells them apart by it
    assert read_attached(PdfFileReader(io.BytesIO(pdf), strict=False)) is None


def test_the_bottom_list_and_an_empty_interview_list(sample, tmp_path):
    meeting, _, _ = sample
    meeting = replace(meeting, rules=replace(meeting.rules, bottom_count=2))
    result = recompute(meeting, sample_ballots(meeting))
    votes = {r["id"]: r["final_grade"] for r in result["reporters"]}
    history = [
        entry(rid, v, "好", 1.0 + i, reason="综合研判") for i, (rid, v) in enumerate(votes.items())
    ]
    evaluation = {
        "fixed": {"studied_on": "2026-12-30", "entered_by": "李敏", "at": 99.0, "rectify_by": ""},
        "entries": {h["reporter"]: h for h in history},
        "history": history,
    }
    text = text_of(render_evaluation(meeting, result, evaluation, DIGESTS), tmp_path)
    assert "约谈提醒、限期整改：无。" in text and "年度考核不得评定为优秀：无。" in text
    assert "倒排（后2名）：" in text
    assert "共10次录入，含0次修改" in text and revisions(history) == 0


def test_the_workbook_has_the_evaluation_and_outcome_sheets(sample):
    meeting, result, evaluation = sample
    workbook = load_workbook(io.BytesIO(results_xlsx(result, meeting, DIGESTS, evaluation)))
    assert workbook.sheetnames == ["测评结果", "分组票数", "说明", "综合评价", "结果运用"]
    sheet = workbook["综合评价"]
    header = [c.value for c in sheet[4]]
    assert header == [
        "序号", "姓名", "单位", "测评等次", "实地调研", "督导调研",
        "综合评价等次", "理由", "成绩", "问题", "要求",
    ]  # fmt: skip
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(5)]
    assert [r["姓名"] for r in rows] == [r.name for r in meeting.reporters]
    first = rows[0]
    assert first["测评等次"] == result["reporters"][0]["final_grade"]
    assert first["综合评价等次"] == "差" and first["理由"] == "督导调研发现台账造假"
    assert first["督导调研"] == "差" and first["成绩"] == OPINION["成绩"]
    assert sheet["B2"].value == meeting.date and sheet["D2"].value == "2026-12-30"
    assert sheet["A4"].border.left.style == "thin" and sheet.print_title_rows == "$4:$4"
    assert sheet.page_setup.orientation == "landscape"
    outcomes = workbook["结果运用"]
    lines = [[c.value for c in row] for row in outcomes.iter_rows(2)]
    names = {r.id: r.name for r in meeting.reporters}
    talked = [line for line in lines if line[0] == "约谈提醒、限期整改"]
    assert talked and all(line[3] == "2027-01-31" for line in talked)
    assert ["年度考核不得评定为优秀", names["r01"], meeting.reporters[0].org, None] in lines
    assert outcomes["A1"].border.left.style == "thin"
    # without a fixed record, the workbook is as before
    plain = load_workbook(io.BytesIO(results_xlsx(result, meeting, DIGESTS)))
    assert plain.sheetnames == ["测评结果", "分组票数", "说明"]


def test_the_record_check_names_what_does_not_hold_together(sample):
    meeting, result, evaluation = sample
    names = {r.id: f"{r.name}（{r.id}）" for r in meeting.reporters}

    def check(evaluation: dict) -> tuple[bool, str]:
        verdict = Verdict()
        record = {"evaluation_sha256": evaluation_digest(evaluation)}
        _check_record(verdict, record, evaluation, meeting, names)
        return verdict.checks[0].ok, verdict.checks[0].detail

    assert check(evaluation)[0]
    entries, history = evaluation["entries"], evaluation["history"]
    r01 = dict(entries["r01"], reason="")
    no_reason = dict(evaluation, entries={**entries, "r01": r01}, history=[*history[:-1], r01])
    ok, detail = check(no_reason)
    assert not ok and f"{names['r01']} 综合评价等次（差）与测评等次" in detail
    off_scale = dict(entries["r02"], grade="优秀")
    ok, detail = check(dict(evaluation, entries={**entries, "r02": off_scale}))
    assert "综合评价等次“优秀”不是本次会议的等次" in detail
    assert f"{names['r02']} 的当前综合评价不是修改记录中的最后一次录入" in detail
    missing = {k: v for k, v in entries.items() if k != "r03"}
    assert f"{names['r03']} 没有综合评价" in check(dict(evaluation, entries=missing))[1]
    early = dict(evaluation, fixed=dict(evaluation["fixed"], at=1500.0))
    assert "党组研究确定的时间早于最后一次录入" in check(early)[1]
    before = dict(evaluation, fixed=dict(evaluation["fixed"], studied_on="2026-01-01"))
    assert f"党组研究日期2026-01-01早于会议日期{meeting.date}" in check(before)[1]
