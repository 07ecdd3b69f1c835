"""The signed 综合评价结果表 from a real meeting: a real server and its Redis, ballots over HTTP,
the 综合评价 entered (one revision) and fixed through the API; then `pingyi print evaluation`
(refused before the fix), `pingyi verify`, the workbook's sheets, and a table of forgeries,
each caught by a named check."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from openpyxl import load_workbook
from pyhanko.pdf_utils.reader import PdfFileReader

from cli import main
from printouts.evaluation_sheet import ATTACHMENT, render_evaluation
from printouts.inputs import digests, parse_ballots, recompute
from printouts.sheet_record import attach, read_attached
from printouts.signing import fingerprint, sign_pdf
from tally.meeting_file import parse_meeting_text
from testkit import ServerProcess, http_json, stop_embedded_redis, wait_until, write_meeting
from tests.helpers import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
]

OPINION = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板", "要求": "限期补齐"}
VOTES = {"r01": "好", "r02": "较好", "r03": "好"}  # r03 is flagged 问责: the vote gives 差


def cli(*args: str) -> subprocess.CompletedProcess:
    """A `pingyi` command in its own process (it reads the running server's Redis)."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=180, cwd=ROOT
    )


def enter(server: ServerProcess, reporter: str, grade: str, **extra) -> None:
    body = {"reporter": reporter, "grade": grade, "opinion": OPINION, "entered_by": "李敏"}
    status, answer = http_json(f"{server.base}/api/evaluation", body | extra, server.chair_key)
    assert status == 200, answer


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation")
    meeting_path, meeting = write_meeting(root, leader_seats=3, cadre_seats=5)
    data = root / "data"
    server = ServerProcess(meeting_path, data)
    try:
        server.start()
        round_id = server.vote_step()
        for card in server.cards(meeting)[:6]:
            body = {"token": card.token, "round": round_id, "marks": VOTES, "cid": card.token}
            assert http_json(f"{server.base}/api/cast", body)[0] == 200
        assert server.chair("close", force=True)[0] == 200

        def voted() -> bool:
            view = http_json(f"{server.base}/api/evaluation", key=server.chair_key)[1]
            return all(r["vote_grade"] for r in view["reporters"])

        wait_until(voted, timeout=20)
        pdf = root / "综合评价结果表.pdf"
        early = cli("print", "evaluation", str(meeting_path), "--data", str(data), "-o", str(pdf))
        enter(server, "r01", "好")
        enter(server, "r01", "一般", reason="督导调研发现台账不实")  # a revision
        enter(server, "r02", "较好", sources={"实地调研": "较好", "平时了解": "工作扎实"})
        enter(server, "r03", "差")
        body = {"studied_on": "2026-12-30", "entered_by": "王秘书", "rectify_by": "2027-01-31"}
        status, answer = http_json(f"{server.base}/api/evaluation/fix", body, server.chair_key)
        assert status == 200, answer
        printed = cli("print", "evaluation", str(meeting_path), "--data", str(data), "-o", str(pdf))
        xlsx = root / "results.xlsx"
        workbook = cli("print", "xlsx", str(meeting_path), "--data", str(data), "-o", str(xlsx))
    finally:
        server.stop()
        stop_embedded_redis(data)
    assert printed.returncode == 0, printed.stderr
    assert workbook.returncode == 0, workbook.stderr
    return {
        "root": root,
        "meeting": meeting_path,
        "pdf": pdf,
        "ballots": root / "综合评价结果表-ballots.csv",
        "key": data / "signing" / "key.pem",
        "cert": data / "signing" / "cert.pem",
        "xlsx": xlsx,
        "early": early,
        "printed": printed,
    }


def verify(capsys, sheet, pdf: Path, ballots: Path | None = None, meeting: Path | None = None):
    capsys.readouterr()
    code = main(
        [
            "verify",
            str(pdf),
            "--ballots",
            str(ballots or sheet["ballots"]),
            "--meeting",
            str(meeting or sheet["meeting"]),
            "--cert",
            str(sheet["cert"]),
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def failed(out: str) -> list[str]:
    """The checks that failed, by name (a file's check without the file's name)."""
    return re.findall(r"^\[不符\] ([^ ：]+)", out, re.M)


def test_refused_before_the_fix(sheet):
    early = sheet["early"]
    assert early.returncode == 2, early.stdout + early.stderr
    assert "综合评价尚未经党组研究确定（会后页面“确定”后才能打印结果表）" in early.stderr


def test_the_printed_sheet_verifies(sheet, capsys):
    assert "综合评价经党组于2026-12-30研究确定" in sheet["printed"].stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(sheet["pdf"]), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "测试会议综合评价结果表" in flat and "党组研究日期：2026-12-30" in flat
    assert "王建国城关镇党委好一般督导调研发现台账不实" in flat
    assert "李秀英青溪镇党委较好较好工作扎实较好—" in flat  # the sources in the table
    assert "约谈提醒、限期整改：王建国、张志强（限期整改完成时间：2027-01-31）" in flat
    assert "年度考核不得评定为优秀：张志强。" in flat
    assert "综合评价共4次录入，含1次修改" in flat
    code, out = verify(capsys, sheet, sheet["pdf"])
    assert code == 0, out
    for check in (
        "数字签名",
        "会议文件",
        "选票文件",
        "测评等次",
        "综合评价记录",
        "结果运用",
        "印刷内容",
    ):
        assert re.search(rf"^\[通过\] {check}", out, re.M), out
    assert "综合评价结果表与选票、会议文件及其附带的记录相符" in out


def test_the_workbook_has_the_evaluation_sheets(sheet):
    workbook = load_workbook(sheet["xlsx"])
    assert workbook.sheetnames[-2:] == ["综合评价", "结果运用"]
    rows = [[c.value for c in row] for row in workbook["综合评价"].iter_rows(min_row=4)]
    header = rows[0]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_name["王建国"]["测评等次"] == "好" and by_name["王建国"]["综合评价等次"] == "一般"
    assert by_name["王建国"]["理由"] == "督导调研发现台账不实"
    assert by_name["李秀英"]["平时了解"] == "工作扎实" and by_name["张志强"]["测评等次"] == "差"
    lines = [[c.value for c in row] for row in workbook["结果运用"].iter_rows(min_row=2)]
    assert ["约谈提醒、限期整改", "王建国", "城关镇党委", "2027-01-31"] in lines
    assert ["年度考核不得评定为优秀", "张志强", "木鱼镇党委", None] in lines


def genuine(sheet) -> tuple:
    """The meeting, the recount, the attached record and the signer's fingerprint."""
    record = read_attached(PdfFileReader(io.BytesIO(sheet["pdf"].read_bytes())), ATTACHMENT)
    meeting_bytes = sheet["meeting"].read_bytes()
    meeting = parse_meeting_text(meeting_bytes.decode("utf-8"))
    ballots = sheet["ballots"].read_bytes()
    result = recompute(meeting, parse_ballots(ballots, meeting, "ballots"))
    cert = x509.load_pem_x509_certificate(sheet["cert"].read_bytes())
    return meeting, result, record, digests(meeting_bytes, ballots), fingerprint(cert)


def signed(sheet, pdf: bytes) -> bytes:
    """Signed with the meeting's own key, as whoever can read DATA/signing/key.pem would."""
    return sign_pdf(pdf, sheet["key"].read_bytes(), sheet["cert"].read_bytes())


def changed_byte(sheet) -> bytes:
    pdf = bytearray(sheet["pdf"].read_bytes())
    at = len(pdf) // 3
    pdf[at] ^= 0x01
    return bytes(pdf)


def changed_record(sheet) -> bytes:
    """The pages as printed; the attached entry of 王建国 says 较好 instead of 一般."""
    meeting, result, record, sums, signer = genuine(sheet)
    pdf = render_evaluation(
        meeting, result, record["evaluation"], sums, signed_by="自签名证书", signer_sha256=signer
    )
    forged = dict(record, evaluation=dict(record["evaluation"]))
    entries = dict(forged["evaluation"]["entries"])
    entries["r01"] = dict(entries["r01"], grade="较好")
    forged["evaluation"]["entries"] = entries
    return signed(sheet, attach(pdf, forged, ATTACHMENT))


def changed_print(sheet) -> bytes:
    """The record as it was; the page says 王建国 较好 (rendered so), re-signed."""
    meeting, result, record, sums, signer = genuine(sheet)
    evaluation = dict(record["evaluation"])
    evaluation["entries"] = dict(evaluation["entries"])
    evaluation["entries"]["r01"] = dict(evaluation["entries"]["r01"], grade="较好")
    pdf = render_evaluation(
        meeting, result, evaluation, sums, signed_by="自签名证书", signer_sha256=signer
    )
    return signed(sheet, attach(pdf, record, ATTACHMENT))


FORGERIES = {
    "a changed PDF byte": (changed_byte, {}, "数字签名", ""),
    "the attached grade changed, re-signed": (
        changed_record,
        {},
        "综合评价记录",
        "王建国（r01） 的当前综合评价不是修改记录中的最后一次录入",
    ),
    "the attached grade changed, re-signed: the lists": (
        changed_record,
        {},
        "结果运用",
        "约谈提醒、限期整改：结果表为王建国、张志强，按综合评价等次应为张志强",
    ),
    "a printed grade changed, re-signed": (changed_print, {}, "印刷内容", "王建国"),
    "another ballots file": (None, {"ballots": True}, "选票文件", "SHA-256不一致"),
    "another ballots file, recounted": (
        None,
        {"ballots": True},
        "测评等次",
        "李秀英（r02） 测评等次：结果表为较好，重新计票为一般",
    ),
    "another meeting file": (None, {"meeting": True}, "会议文件", "SHA-256不一致"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forgeries_fail_with_a_named_check(sheet, capsys, tmp_path, forgery):
    make, other, check, says = FORGERIES[forgery]
    pdf = sheet["pdf"]
    if make is not None:
        pdf = tmp_path / "forged.pdf"
        pdf.write_bytes(make(sheet))
    ballots = meeting = None
    if other.get("ballots"):
        ballots = tmp_path / "ballots.csv"
        text = sheet["ballots"].read_text(encoding="utf-8")
        head, first, *rest = text.split("\n")
        ballots.write_text("\n".join([head, first.replace("较好", "一般", 1), *rest]), "utf-8")
    if other.get("meeting"):
        meeting = tmp_path / "meeting.toml"
        meeting.write_text(sheet["meeting"].read_text(encoding="utf-8") + "\n# 会后改动\n", "utf-8")
    code, out = verify(capsys, sheet, pdf, ballots, meeting)
    assert code == 1, out
    assert check in failed(out), out
    line = next(x for x in out.splitlines() if x.startswith(f"[不符] {check}"))
    assert says in line, line
    assert "综合评价结果表不能作为这些文件的综合评价结果" in out
