"""The results workbook: bytes out, read back with openpyxl."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
from printouts.xlsx import results_xlsx
from tally.model import Ballot


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def rows_by_header(sheet, header_row: int = 4) -> list[dict]:
    header = [cell.value for cell in sheet[header_row]]
    return [
        dict(zip(header, [cell.value for cell in row], strict=True))
        for row in sheet.iter_rows(min_row=header_row + 1)
    ]


def test_workbook_has_one_row_per_reporter_with_numbers_as_numbers():
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    data = results_xlsx(result, meeting)
    assert data[:2] == b"PK"  # an .xlsx is a zip
    workbook = read(data)
    assert workbook.sheetnames == ["测评结果", "分组票数"]
    sheet = workbook["测评结果"]
    assert sheet["A1"].value == f"{meeting.title} 测评结果"
    assert sheet.freeze_panes == "C5"
    rows = rows_by_header(sheet)
    assert [r["姓名"] for r in rows] == [r.name for r in meeting.reporters]
    for record, row in zip(rows, result["reporters"], strict=True):
        votes = sum(row["counts"].values())
        for grade, count in row["counts"].items():
            assert record[f"{grade}（票）"] == count
            assert record[f"{grade}（%）"] == round(100 * count / votes, 1)
        assert record["得分"] == row["score"] and isinstance(record["得分"], float)
        assert record["差票%"] == round(100 * row["poor_share"], 1)
        assert record["最终等次"] == row["final_grade"] and record["名次"] == row["rank"]
        assert record["评定依据"] == "；".join(step["why"] for step in row["steps"])


def test_group_sheet_counts_add_up_to_the_reporter_counts():
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    sheet = read(results_xlsx(result, meeting))["分组票数"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    groups = values[1 : 1 + len(meeting.groups)]
    assert [g[0] for g in groups] == [g.name for g in meeting.groups]
    assert [g[1] for g in groups] == [g.seats for g in meeting.groups]
    grades = list(meeting.rules.grades)
    start = values.index(["姓名", "组别", *grades])
    per_group = values[start + 1 :]
    assert len(per_group) == len(meeting.reporters) * len(meeting.groups)
    for row in result["reporters"]:
        mine = [v for v in per_group if v[0] == row["name"]]
        for index, grade in enumerate(grades, start=2):
            assert sum(v[index] for v in mine) == row["counts"][grade]


def test_reporter_without_votes_has_empty_score_and_shares():
    meeting = sample_meeting(4)
    ballots = [
        Ballot(b.id, b.group, {k: v for k, v in b.marks.items() if k != "r02"})
        for b in sample_ballots(meeting)
    ]
    result = recompute(meeting, ballots)
    rows = rows_by_header(read(results_xlsx(result, meeting))["测评结果"])
    silent = next(r for r in rows if r["姓名"] == meeting.reporters[1].name)
    assert silent["得分"] is None and silent["最终等次"] is None and silent["差票%"] is None
    assert all(silent[f"{g}（%）"] is None for g in meeting.rules.grades)
