"""The 测评结果表 (xlsx) and the 反馈单 of the 三评 example: made by the installed command from
the ballots, expert scores and indicators, read back (openpyxl, pdftotext) and compared with
`appraise()` of the same files: every reporter, every source, every constituency, every item.
A grade-only meeting keeps its table; what is still grades-only refuses a 三评 meeting.
The same files from the live record: tests/integration/test_live_items.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cli import main
from cli.sources import load_appraisal
from tests.integration.test_appraisal_sheet import EXAMPLES, NAMES  # the 三评 example files


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example's files in a folder of their own, the xlsx and the feedback sheets the
    command makes of them, and `appraise()`'s result of the same files."""
    root = tmp_path_factory.mktemp("outputs")
    files = {key: root / name for key, name in NAMES.items()}
    for key, name in NAMES.items():
        shutil.copy(EXAMPLES / name, files[key])
    shutil.copytree(EXAMPLES / "items", root / "items")
    given = ["--ballots", str(files["ballots"]), "--experts", str(files["experts"])]
    given += ["--indicators", str(files["indicators"])]
    out = {"xlsx": root / "结果表.xlsx", "feedback": root / "反馈单.pdf"}
    for kind, path in out.items():
        assert main(["print", kind, str(files["meeting"]), *given, "-o", str(path)]) == 0
    loaded = load_appraisal(
        files["meeting"], files["ballots"], files["experts"], files["indicators"]
    )
    return {**files, **out, "root": root, "result": loaded.result, "inputs": loaded.inputs}


def rows_of(sheet, first: int) -> list[tuple]:
    return [row for row in sheet.iter_rows(min_row=first, values_only=True) if any(row)]


def test_the_workbook_has_the_three_sheets_and_notes(made) -> None:
    book = load_workbook(made["xlsx"])
    assert book.sheetnames == ["综合结果", "分组结果", "逐项", "说明"]
    for sheet in book:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.print_title_rows


def test_the_combined_sheet_is_the_composite_of_every_reporter(made) -> None:
    sheet = load_workbook(made["xlsx"])["综合结果"]
    result = made["result"]
    sources = result["appraisal"]["sources"]
    header = [c.value for c in sheet[4]]
    assert header[:5] == ["序号", "姓名", "单位", "述职方式", "类别"]
    assert header[-4:] == ["综合得分", "测评等次", "排名", "评定依据"]
    assert "综合评价等次" not in header  # the organisers' later decision, not the vote's
    rows = rows_of(sheet, 5)
    assert [r[1] for r in rows] == [r["name"] for r in result["reporters"]]  # speaking order
    for cells, row in zip(rows, result["reporters"], strict=True):
        by_header = dict(zip(header, cells, strict=True))
        assert by_header["类别"] == row["category"]
        for source in sources:
            assert by_header[f"{source['name']}得分"] == row["sources"][source["id"]]
            assert by_header[f"{source['name']}权重"] == row["weights"][source["id"]]
        assert by_header["综合得分"] == row["composite_score"]
        assert by_header["测评等次"] == row["composite_grade"]
        assert by_header["排名"] == row["composite_rank"]
        assert by_header["评定依据"] == row["composite_decided_by"]
    assert sheet.cell(5, header.index("综合得分") + 1).number_format == "0.00"


def test_the_groups_sheet_puts_every_constituency_side_by_side(made) -> None:
    sheet = load_workbook(made["xlsx"])["分组结果"]
    result = made["result"]
    forms = {f["id"]: f["name"] for f in result["appraisal"]["forms"]}
    groups = result["groups"]
    titles = [c.value for c in sheet[1]]
    for group in groups:
        assert f"{group['name']}（应到{group['seats']}，实到{group['cast']}）" in titles
    rows = rows_of(sheet, 3)
    assert len(rows) == len(result["reporters"])
    for cells, row in zip(rows, result["reporters"], strict=True):
        assert cells[1:3] == (row["name"], row["category"])
        for at, group in enumerate(groups):
            part = row["by_group"][group["id"]]
            shown = cells[3 + 5 * at : 8 + 5 * at]
            expected = (forms[part["form"]], part["grade_score"], part["item_score"])
            assert shown == (*expected, part["score"], part["weight"]), (row["name"], group)
        assert cells[-1] == row["vote_score"]


def test_the_items_sheet_has_every_item_with_each_groups_share(made) -> None:
    sheet = load_workbook(made["xlsx"])["逐项"]
    result = made["result"]
    header = [c.value for c in sheet[1]]
    rows = rows_of(sheet, 2)
    expected = [(r, item) for r in result["reporters"] for item in r["items"] or []]
    assert len(rows) == len(expected) > 0
    for cells, (row, item) in zip(rows, expected, strict=True):
        by_header = dict(zip(header, cells, strict=True))
        assert (by_header["姓名"], by_header["编号"]) == (row["name"], item["id"])
        assert by_header["测评项目"] == item["text"]
        assert by_header["肯定比例（各组加权）"] == item["positive_share"]
        assert by_header["项目得分"] == item["score"]
        assert (by_header["否决项"] == "是") is item["decisive"]
        for group in result["groups"]:
            share = row["by_group"][group["id"]].get("positive_shares", {}).get(item["id"])
            assert by_header.get(f"{group['name']}肯定比例") == share
    decided = [r for r in rows if r[-1] == "过半数否定，决定测评等次"]
    assert [r[0] for r in decided] == ["刘海燕"]  # her decisive item, as on the signed sheet


def test_the_notes_give_the_rules_and_every_inputs_digest(made) -> None:
    notes = dict(rows_of(load_workbook(made["xlsx"])["说明"], 2))
    inputs = made["inputs"]
    assert notes["会议文件 SHA-256"] == inputs["meeting_sha256"]
    assert notes["选票文件 SHA-256"] == inputs["ballots_sha256"]
    assert notes["专家评分文件 SHA-256"] == inputs["experts_sha256"]
    assert notes["项目指标文件 SHA-256"] == inputs["indicators_sha256"]
    for name, digest in inputs["items_sha256"].items():
        assert notes[f"测评题目 {name} SHA-256"] == digest
    for source in made["result"]["appraisal"]["sources"]:
        assert notes[f"综合得分权重：{source['name']}"] == source["weight"]
    assert notes["测评等次线：好"] == "综合得分≥90"
    assert "去掉一个最高分和一个最低分" in notes["专家点评"]
    assert notes["项目指标：越级信访件数"].startswith("按完成比例，目标2件（越低越好）")


def pages_of(pdf: Path) -> dict[str, str]:
    """The feedback sheets' text by reporter name (a sheet may run onto a second page)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    sheets: dict[str, str] = {}
    name = ""
    for page in text.split("\f"):
        found = re.search(r"述职人：(\S+)", page)
        name = found.group(1) if found else name
        sheets[name] = sheets.get(name, "") + page
    return sheets


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_each_feedback_sheet_shows_the_composite_and_the_constituencies(made) -> None:
    sheets = pages_of(made["feedback"])
    result = made["result"]
    assert list(sheets) == [r["name"] for r in result["reporters"]]
    for row in result["reporters"]:
        text = sheets[row["name"]]
        assert re.search(rf"测评等次：\s+{row['composite_grade']}\n", text), row["name"]
        assert "综合评价等次（综合评价由党组研究确定）" in text  # not the organisers' grade
        cells = [f"{row['sources'][s]:.2f}×{row['weights'][s] * 100:g}%" for s in row["sources"]]
        cells += [f"{row['composite_score']:.2f}", f"第{row['composite_rank']}名"]
        assert re.search(r"\s+".join(map(re.escape, cells)), text), (row["name"], cells)
        assert f"群众测评得分：{row['vote_score']:.2f}" in text
        for part in row["by_group"].values():
            score = f"{part['score']:.2f}"
            assert re.search(re.escape(part["name"][:5]) + r".*\s" + re.escape(score), text)
        assert f"决定等次的依据：{row['composite_decided_by'][:20]}" in text


def test_a_source_left_out_is_missing_its_weight_renormalised(made, capsys, tmp_path) -> None:
    out = tmp_path / "no-experts.xlsx"
    given = ["--ballots", str(made["ballots"]), "--indicators", str(made["indicators"])]
    assert main(["print", "xlsx", str(made["meeting"]), *given, "-o", str(out)]) == 0
    assert "提示：未给出 --experts，专家点评缺失" in capsys.readouterr().out
    sheet = load_workbook(out)["综合结果"]
    header = [c.value for c in sheet[4]]
    first = dict(zip(header, rows_of(sheet, 5)[0], strict=True))  # 王建国
    assert first["专家点评得分"] == "缺失" and first["专家点评权重"] is None
    assert first["群众测评权重"] == 0.5 and first["群众测评得分"] == 94.7
    notes = dict(rows_of(load_workbook(out)["说明"], 2))
    assert notes["专家评分文件 SHA-256"] == "未提供"


def test_a_grade_only_meeting_keeps_its_table_and_refuses_panel_files(capsys, tmp_path) -> None:
    demo = [str(EXAMPLES / "demo-meeting.toml"), "--ballots", str(EXAMPLES / "demo-ballots.csv")]
    out = tmp_path / "grade.xlsx"
    assert main(["print", "xlsx", *demo, "-o", str(out)]) == 0
    assert load_workbook(out).sheetnames == ["测评结果", "分组票数", "说明"]
    experts = ["--experts", str(EXAMPLES / "sanping-experts.csv")]
    for kind in ("xlsx", "feedback"):
        capsys.readouterr()
        assert main(["print", kind, *demo, *experts, "-o", str(tmp_path / kind)]) == 2
        assert "会议文件未设[composite]" in capsys.readouterr().err


def test_nothing_is_grades_only_any_more(made, capsys, tmp_path) -> None:
    """The 综合评价结果表 and the 备案 package carry the composite too
    (tests/integration/test_sanping_evaluation.py): without a record they ask for it."""
    data = ["--data", str(tmp_path / "data")]
    for argv in (
        ["print", "evaluation", str(made["meeting"]), *data, "-o", str(tmp_path / "e.pdf")],
        ["archive", str(made["meeting"]), *data, "-o", str(tmp_path / "a.zip")],
    ):
        capsys.readouterr()
        assert main(argv) == 2
        assert "数据目录不存在" in capsys.readouterr().err
