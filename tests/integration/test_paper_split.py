"""Issue 15: a paper ballot entered through the server (`POST /api/paper`) is stored as paper
(sealed while the round is open, the paper byte inside the seal), exported with the `via`
column, and counted per group on the tally sheet (手机 / 纸质 / 废票) and in the workbook;
`pingyi verify` recounts those numbers from the export. Real server, real Redis."""

from __future__ import annotations

import csv
import io
import re
import subprocess

import psutil
import pytest
from openpyxl import load_workbook

from cli import main
from testkit import ServerProcess, http_json, wait_until, write_meeting

pytestmark = pytest.mark.slow


@pytest.fixture
def reaper(tmp_path):
    """Stops the embedded redis-server that reading the record in this process started."""
    yield
    for process in psutil.process_iter(["name", "cwd"]):
        if process.info["name"] == "redis-server" and str(process.info["cwd"] or "").startswith(
            str(tmp_path)
        ):
            process.kill()
            process.wait(10)


def test_a_paper_ballot_is_paper_in_the_export_on_the_sheet_and_in_the_workbook(
    tmp_path, servers, reaper, capsys
):
    meeting_path, meeting = write_meeting(
        tmp_path, title="纸质票分列", leader_seats=3, cadre_seats=4
    )
    data = tmp_path / "data"
    server = ServerProcess(meeting_path, data).start()
    servers.append(server)
    cards = server.cards(meeting)
    leaders = [c for c in cards if c.group == "leaders"]
    cadres = [c for c in cards if c.group == "cadres"]
    round_id = server.vote_step()

    good = {"r01": "好", "r02": "较好", "r03": "一般"}
    receipts = {}
    for number, card in enumerate([leaders[0], cadres[0], cadres[1]]):
        status, body = http_json(
            f"{server.base}/api/cast",
            {"token": card.token, "round": round_id, "marks": good, "cid": f"phone-{number:020d}"},
        )
        assert status == 200, body
        receipts[body["receipt"]] = "手机"
    for card, marks in (
        (leaders[1], {"r01": "废", "r02": "废", "r03": "废"}),  # spoiled as a whole
        (cadres[2], good),
    ):
        paper = {"code": card.code, "round": round_id, "marks": marks}
        status, body = http_json(f"{server.base}/api/paper", paper, key=server.chair_key)
        assert status == 200, body
        receipts[body["receipt"]] = "纸质"

    # Sealed while open: the stored members say nothing of paper; opened, they do.
    assert [b.paper for b in server.record(meeting).ballots].count(True) == 2
    assert server.chair("close", force=True)[0] == 200

    def result() -> dict | None:
        view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)[1]["view"]
        return view["result"]

    wait_until(lambda: result() is not None, timeout=20)
    groups = {g["id"]: g for g in result()["groups"]}  # type: ignore[index]
    assert [groups[g][k] for g in ("leaders", "cadres") for k in ("phone", "paper", "spoiled")] == [
        1, 1, 1, 2, 1, 0
    ]  # fmt: skip
    server.stop()

    exported, xlsx = tmp_path / "export.csv", tmp_path / "results.xlsx"
    command = ["export", str(meeting_path), str(exported), "--data", str(data)]
    assert main([*command, "--xlsx", str(xlsx)]) == 0
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert rows[0] == ["ballot", "group", "via", "r01", "r02", "r03"]
    assert {row[0]: row[2] for row in rows[1:]} == receipts

    pdf = tmp_path / "tally.pdf"
    assert main(["print", "tally", str(meeting_path), "--data", str(data), "-o", str(pdf)]) == 0
    assert (tmp_path / "tally-ballots.csv").read_bytes() == exported.read_bytes()
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    # 组别 权重 应到 实到 手机 纸质 废票 到会率
    assert any(line.endswith("县级领导 0.4 3 2 1 1 1 66.7%") for line in lines), text
    assert any(line.endswith("基层代表 0.6 4 3 2 1 0 75.0%") for line in lines), text
    assert any(line.endswith("合计 1 7 5 3 2 1 71.4%") for line in lines), text
    flat = re.sub(r"\s+", "", text)
    assert "收回5张，其中整张作废1张。" in flat and "收回的选票中手机票3张，纸质票2张。" in flat
    capsys.readouterr()
    verify = ["verify", str(pdf), "--ballots", str(exported), "--meeting", str(meeting_path)]
    code = main(verify)
    assert code == 0, capsys.readouterr().out
    capsys.readouterr()
    # The same ballots with one paper ballot called a phone one: the recount and the printed
    # table both name the group's figures.
    changed = tmp_path / "changed.csv"
    text = exported.read_text(encoding="utf-8")
    paper_row = next(line for line in text.splitlines() if ",leaders,纸质," in line)
    changed.write_text(
        text.replace(paper_row, paper_row.replace(",纸质,", ",手机,")), encoding="utf-8"
    )
    assert main([*verify[:3], str(changed), *verify[4:]]) == 1
    out = capsys.readouterr().out
    assert "县级领导 手机票：汇总表为1，重新计票为2" in out, out
    assert "县级领导 纸质票：汇总表为1，重新计票为0" in out, out
    printed = next(line for line in out.splitlines() if "印刷内容" in line)
    assert "[不符]" in printed and "按选票应为“2”" in printed, printed

    sheet = load_workbook(xlsx)["分组票数"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=4)]
    assert [row[4:7] for row in table] == [[1, 1, 1], [2, 1, 0], [3, 2, 1]]
    notes = {row[0].value: row[1].value for row in load_workbook(xlsx)["说明"].iter_rows()}
    assert notes["选票：县级领导"] == "应到3，实到2（手机1，纸质1），整张作废1"
    assert len(notes["选票文件 SHA-256"]) == 64 and len(notes["会议文件 SHA-256"]) == 64
