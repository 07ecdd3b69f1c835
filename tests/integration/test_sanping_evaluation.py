"""After a 三评 meeting: the 综合评价 entered on the 会后 page against the composite grade (the
测评等次 of a 三评 meeting), fixed with the 党组研究 date; `pingyi print evaluation --data` prints
the signed 综合评价结果表 with the 测评等次 and 综合得分 beside the 综合评价等次, its inputs
written beside it, and `pingyi verify` recounts it (a forged expert score is named);
`pingyi archive` packs the record with the 三评 inputs and `pingyi verify` checks the package
end to end (a tampered one fails), its workbook with the 综合评价 against the composite;
`pingyi export --xlsx` writes the 三评 workbook. One live meeting (testkit/sanping.py), real
server and Redis on 127.0.0.1."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from printouts import archive as a
from testkit import http_json
from testkit.commands import pingyi
from testkit.net import http_file
from testkit.sanping import ClosedSanping, closed_sanping

OPINION = {"成绩": "抓党建促发展成效明显", "问题": "村级集体经济仍然薄弱"}


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClosedSanping]:
    with closed_sanping(tmp_path_factory.mktemp("sanping-after")) as closed:
        yield closed


def enter(held: ClosedSanping, reporter: str, grade: str, **extra: str) -> tuple[int, dict]:
    body = {"reporter": reporter, "grade": grade, "opinion": OPINION, "entered_by": "李敏"}
    return http_json(f"{held.server.base}/api/evaluation", body | extra, held.server.chair_key)


def text_of(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    return re.sub(r"\s+", "", done.stdout)


def test_the_evaluation_is_entered_against_the_composite_grade(held: ClosedSanping) -> None:
    server = held.server
    view = http_json(f"{server.base}/api/evaluation", key=server.chair_key)[1]
    composite = {r["id"]: r["composite_grade"] or "" for r in held.result["reporters"]}
    assert {r["id"]: r["vote_grade"] for r in view["reporters"]} == composite
    assert any(r["composite_grade"] != r["final_grade"] for r in held.result["reporters"])
    grades = held.meeting.rules.grades
    first = held.meeting.reporters[0].id
    other = next(g for g in grades if g != composite[first])
    status, body = enter(held, first, other)  # not the 测评等次: a reason is needed
    assert (status, body["error"]["field"]) == (422, "reason"), body
    assert enter(held, first, other, reason="平时了解有问题")[0] == 200
    for reporter in held.meeting.reporters:  # then each as measured (r01: a revision)
        assert enter(held, reporter.id, composite[reporter.id] or grades[0])[0] == 200
    body = {"studied_on": "2026-12-31", "entered_by": "李敏", "rectify_by": "2027-02-28"}
    status, reply = http_json(f"{server.base}/api/evaluation/fix", body, server.chair_key)
    assert status == 200, reply


@pytest.fixture(scope="module")
def sheet(held: ClosedSanping, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sheet") / "综合评价结果表.pdf"
    done = pingyi("print", "evaluation", held.path, "--data", held.server.data, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "三评" in done.stdout and "研究确定" in done.stdout
    return out


def beside(sheet: Path, kind: str) -> Path:
    return sheet.with_name(f"{sheet.stem}-{kind}.csv")


def verify_sheet(
    held: ClosedSanping, sheet: Path, experts: Path, printed: Path | None = None
) -> subprocess.CompletedProcess:
    """`pingyi verify` with the files written beside `printed` (the sheet, by default)."""
    files = printed or sheet
    return pingyi(
        "verify", sheet, "--meeting", held.path, "--ballots", beside(files, "ballots"),
        "--experts", experts, "--indicators", beside(files, "indicators"),
    )  # fmt: skip


def test_the_sheet_shows_both_grades_and_verifies(
    held: ClosedSanping, sheet: Path, tmp_path: Path
) -> None:
    text = text_of(sheet)
    assert "测评等次" in text and "综合得分" in text and "综合评价等次" in text
    first = held.result["reporters"][0]
    assert f"{first['composite_score']:.2f}" in text
    assert "测评等次为三评的综合等次" in text and "--experts" in text
    done = verify_sheet(held, sheet, beside(sheet, "experts"))
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
    assert "专家评分文件" in done.stdout and "测评题目" in done.stdout
    # the experts' file forged: one score changed
    forged = tmp_path / "专家评分.csv"
    rows = beside(sheet, "experts").read_text("utf-8").splitlines()
    cells = rows[1].split(",")
    cells[1] = "60" if cells[1] != "60" else "61"
    forged.write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n", "utf-8")
    done = verify_sheet(held, sheet, forged)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[不符] 专家评分文件 {forged}：SHA-256不一致" in done.stdout
    assert "王建国（r01） 综合得分：结果表为" in done.stdout
    # without the experts' file: named as missing
    done = pingyi(
        "verify", sheet, "--meeting", held.path, "--ballots", beside(sheet, "ballots"),
        "--indicators", beside(sheet, "indicators"),
    )  # fmt: skip
    assert done.returncode == 1 and "缺少专家评分文件" in done.stdout, done.stdout


def test_the_page_downloads_the_same_sheet(held: ClosedSanping, sheet: Path) -> None:
    url = f"{held.server.base}/api/download/evaluation"
    status, _, body = http_file(url, held.server.chair_key)
    assert status == 200, body[:300]
    downloaded = sheet.with_name("下载.pdf")
    downloaded.write_bytes(body)
    done = verify_sheet(held, downloaded, beside(sheet, "experts"), printed=sheet)
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr


@pytest.fixture(scope="module")
def package(held: ClosedSanping, sheet: Path) -> Path:
    out = sheet.with_name("备案.zip")
    done = pingyi("archive", held.path, "--data", held.server.data, "-o", out)
    assert done.returncode == 0, done.stderr
    return out


def test_the_package_carries_the_sanping_inputs_and_verifies(package: Path, sheet: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    for name in (a.EXPERTS_FILE, a.INDICATORS_FILE, "items/村书记28项.toml", a.TALLY_FILE):
        assert name in names, names
    assert files[a.EXPERTS_FILE] == beside(sheet, "experts").read_bytes()
    done = pingyi("verify", package)
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
    for check in ("测评结果汇总表.pdf：重新计算", "综合评价结果表.pdf：测评等次", "测评题目"):
        assert check in done.stdout, done.stdout


def test_the_packaged_workbook_carries_the_evaluation_against_the_composite(
    held: ClosedSanping, package: Path
) -> None:
    with zipfile.ZipFile(package) as archive:
        workbook = load_workbook(io.BytesIO(archive.read(a.XLSX_FILE)))
    assert workbook.sheetnames == ["综合结果", "分组结果", "逐项", "说明", "综合评价", "结果运用"]
    rows = list(workbook["综合评价"].iter_rows(min_row=4, values_only=True))
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    results = held.result["reporters"]
    assert [row["测评等次"] for row in table] == [r["composite_grade"] or "待定" for r in results]
    assert [row["综合得分"] for row in table] == [r["composite_score"] for r in results]
    # each was entered as measured (the 待定 one as the first grade): no reason asked
    grades = held.meeting.rules.grades
    assert [row["综合评价等次"] for row in table] == [
        r["composite_grade"] or grades[0] for r in results
    ]
    assert [row["成绩"] for row in table] == [OPINION["成绩"]] * len(results)
    outcomes = [row[0] for row in workbook["结果运用"].iter_rows(min_row=2, values_only=True)]
    assert "年度考核不得评定为优秀" in outcomes


@pytest.mark.parametrize("member", [a.EXPERTS_FILE, "items/村书记28项.toml"])
def test_a_tampered_package_fails(package: Path, tmp_path: Path, member: str) -> None:
    with zipfile.ZipFile(package) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files[member] = files[member].replace(b"9", b"8", 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    tampered = tmp_path / "改动.zip"
    tampered.write_bytes(out.getvalue())
    done = pingyi("verify", tampered)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{member}：SHA-256不一致（文件被改动）" in done.stdout


def test_the_export_writes_the_sanping_workbook(held: ClosedSanping, tmp_path: Path) -> None:
    table = tmp_path / "结果.xlsx"
    done = pingyi(
        "export", held.path, tmp_path / "选票.csv", "--data", held.server.data, "--xlsx", table
    )
    assert done.returncode == 0, done.stderr
    rows = list(load_workbook(table)["综合结果"].iter_rows(min_row=4, values_only=True))
    graded = [dict(zip(rows[0], row, strict=True))["测评等次"] for row in rows[1:]]
    assert graded == [r["composite_grade"] or "待定" for r in held.result["reporters"]]


def test_the_after_meeting_page_downloads_a_package_that_verifies(
    held: ClosedSanping, package: Path
) -> None:
    status, _, body = http_file(f"{held.server.base}/api/download/archive", held.server.chair_key)
    assert status == 200, body[:300]
    downloaded = package.with_name("下载备案.zip")
    downloaded.write_bytes(body)
    done = pingyi("verify", downloaded)
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
