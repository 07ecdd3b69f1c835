"""The results workbook: bytes out, read back with openpyxl."""

from __future__ import annotations

import io
from dataclasses import replace
from fractions import Fraction as F

from openpyxl import load_workbook

from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
from printouts.xlsx import results_xlsx
from tally.model import SPOILED, Ballot, Rules


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
    assert workbook.sheetnames == ["测评结果", "分组票数", "说明"]
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
        assert record["测评等次"] == row["final_grade"] and record["名次"] == row["rank"]
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
    start = values.index(["姓名", "组别", *grades, "有效票", "组得分"])
    per_group = values[start + 1 :]
    assert len(per_group) == len(meeting.reporters) * len(meeting.groups)
    for row in result["reporters"]:
        mine = [v for v in per_group if v[0] == row["name"]]
        for index, grade in enumerate(grades, start=2):
            assert sum(v[index] for v in mine) == row["counts"][grade]
        for v in mine:
            gid = next(g.id for g in meeting.groups if g.name == v[1])
            assert v[-2] == sum(row["counts_by_group"][gid].values())
            assert v[-1] == row["score_by_group"][gid]


def test_reporter_without_votes_has_empty_score_and_shares():
    meeting = sample_meeting(4)
    ballots = [
        Ballot(b.id, b.group, {k: v for k, v in b.marks.items() if k != "r02"})
        for b in sample_ballots(meeting)
    ]
    result = recompute(meeting, ballots)
    rows = rows_by_header(read(results_xlsx(result, meeting))["测评结果"])
    silent = next(r for r in rows if r["姓名"] == meeting.reporters[1].name)
    assert silent["得分"] is None and silent["测评等次"] is None and silent["差票%"] is None
    assert all(silent[f"{g}（%）"] is None for g in meeting.rules.grades)


def test_a_secretariat_can_print_it_and_compute_with_it():
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    digests = {"meeting_sha256": "a1" * 32, "ballots_sha256": "b2" * 32}
    workbook = read(results_xlsx(result, meeting, digests))
    sheet = workbook["测评结果"]
    assert [c.value for c in sheet[2]][4:8] == [
        "应到",
        result["quorum"]["seats"],
        "实到",
        result["quorum"]["cast"],
    ]
    assert isinstance(sheet["F2"].value, int) and isinstance(sheet["H2"].value, int)
    for name in workbook.sheetnames:
        page = workbook[name].page_setup
        assert (page.orientation, page.paperSize, page.fitToWidth) == ("landscape", 9, 1), name
    assert sheet.print_title_rows == "$4:$4"
    header = {cell.value: cell.column for cell in sheet[4]}
    first = 5
    assert sheet.cell(first, header["好（票）"]).number_format == "0"
    assert sheet.cell(first, header["好（%）"]).number_format == "0.0"
    assert sheet.cell(first, header["得分"]).number_format == "0.00"
    last = first + len(result["reporters"]) - 1
    for row in (4, last):
        for column in (1, len(header)):
            border = sheet.cell(row, column).border
            assert border.left.style == border.bottom.style == "thin", (row, column)
    assert sheet.cell(last + 1, 1).border.left.style is None
    notes = {row[0].value: row[1].value for row in workbook["说明"].iter_rows(min_row=2)}
    assert notes["会议文件 SHA-256"] == digests["meeting_sha256"]
    assert notes["选票文件 SHA-256"] == digests["ballots_sha256"]
    assert notes["等次分值：较好"] == 80 and notes["分组权重：县级领导"] == 0.4
    assert notes["等次线：好"] == "得分≥90" and "四舍五入" in notes["舍入"]
    assert "会议文件 SHA-256" not in {
        row[0].value for row in read(results_xlsx(result, meeting))["说明"].iter_rows()
    }


def test_shares_are_rounded_once_from_the_exact_counts():
    meeting = sample_meeting(1)
    result = recompute(meeting, sample_ballots(meeting))
    row = result["reporters"][0]
    row.update(
        counts={"好": 60, "较好": 5, "一般": 3, "差": 1}, poor_share=0.0145, poor_share_of=69
    )
    record = rows_by_header(read(results_xlsx(result, meeting))["测评结果"])[0]
    assert record["差票%"] == record["差（%）"] == 1.4  # not 1.5 from the rounded 0.0145
    del row["poor_share_of"]  # a result saved before the field existed
    assert rows_by_header(read(results_xlsx(result, meeting))["测评结果"])[0]["差票%"] == 1.4


def group_table(workbook) -> list[list]:
    sheet = workbook["分组票数"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(max_col=7)]
    return rows[: rows.index([None] * 7)]


def test_each_group_shows_its_phone_paper_and_spoiled_ballots_with_a_total():
    meeting = sample_meeting()
    ballots = sample_ballots(meeting)
    first = next(b for b in ballots if b.group == meeting.groups[0].id)
    ballots = [
        replace(b, paper=True, marks=dict.fromkeys(b.marks, SPOILED)) if b is first else b
        for b in ballots
    ]
    result = recompute(meeting, ballots)
    workbook = read(results_xlsx(result, meeting, {"meeting_sha256": "m", "ballots_sha256": "b"}))
    head, *rows, total = group_table(workbook)
    assert head == ["组别", "应到", "实到", "权重", "手机", "纸质", "废票"]
    for row, group in zip(rows, result["groups"], strict=True):
        assert row[:3] == [group["name"], group["seats"], group["cast"]]
        assert row[4:] == [group["phone"], group["paper"], group["spoiled"]]
        assert row[4] + row[5] == row[2]
    assert rows[0][4:] == [rows[0][2] - 1, 1, 1]
    assert total == ["合计", meeting.seats, len(ballots), 1, len(ballots) - 1, 1, 1]
    notes = {row[0].value: row[1].value for row in workbook["说明"].iter_rows(min_row=2)}
    g = result["groups"][0]
    assert notes[f"选票：{g['name']}"] == (
        f"应到{g['seats']}，实到{g['cast']}（手机{g['phone']}，纸质1），整张作废1"
    )
    assert (notes["会议文件 SHA-256"], notes["选票文件 SHA-256"]) == ("m", "b")


def test_without_paper_ballots_the_split_is_left_empty_and_said_so():
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    workbook = read(results_xlsx(result, meeting))
    _, *rows, total = group_table(workbook)
    assert all(row[4] is None and row[5] is None and row[6] == 0 for row in rows)
    assert total[4:] == [None, None, 0]
    notes = {row[0].value: row[1].value for row in workbook["说明"].iter_rows(min_row=2)}
    assert all("未区分手机与纸质" in notes[f"选票：{g.name}"] for g in meeting.groups)


def test_a_scale_of_its_own_and_a_bottom_are_in_the_workbook():
    scale = ("红旗", "先进", "达标", "后进")
    meeting = sample_meeting(5)
    meeting = replace(meeting, rules=Rules(grades=scale, bottom_count=2))
    ballots = [
        Ballot(b.id, b.group, dict(b.marks, r04=b.marks["r03"])) for b in sample_ballots(meeting)
    ]
    result = recompute(meeting, ballots)
    workbook = read(results_xlsx(result, meeting))
    rows = rows_by_header(workbook["测评结果"])
    assert "后进票%" in rows[0] and "差票%" not in rows[0] and "最终等次" not in rows[0]
    marked = [r["姓名"] for r in rows if r["倒排"] == "倒排"]
    names = {r["id"]: r["name"] for r in result["reporters"]}
    assert len(result["bottom"]) >= 2 and marked == [
        r.name for r in meeting.reporters if r.id in result["bottom"]
    ]
    notes = {row[0].value: row[1].value for row in workbook["说明"].iter_rows(min_row=2)}
    assert notes["后进票规则"] == "后进票超过有效票的10%定为后进"
    assert notes["名次"].startswith("先按测评等次，同一等次按得分")
    worst = "、".join(names[rid] for rid in result["bottom"])
    assert notes["倒排"].startswith("（后2名") and all(
        n in notes["倒排"] for n in worst.split("、")
    )


def test_without_a_bottom_there_is_no_bottom_column_and_an_empty_one_says_so():
    meeting = sample_meeting(3)
    result = recompute(meeting, sample_ballots(meeting))
    workbook = read(results_xlsx(result, meeting))
    assert "倒排" not in rows_by_header(workbook["测评结果"])[0]
    assert "倒排" not in {row[0].value for row in workbook["说明"].iter_rows()}
    nobody = replace(meeting, rules=replace(meeting.rules, bottom_share=F(1, 10)))
    empty = dict(result, bottom=[], bottom_size=1)
    notes = {
        row[0].value: row[1].value for row in read(results_xlsx(empty, nobody))["说明"].iter_rows()
    }
    assert notes["倒排"] == "无（没有述职人有名次）"
