"""Printing from a live meeting's data directory (`--data`): a real server, real ballots over
HTTP, the chair's comments; then the tally sheet, its ballot export and `pingyi verify`."""

from __future__ import annotations

import random
import re
import subprocess

import psutil
import pytest
from openpyxl import load_workbook

from cli import main
from testkit import ServerProcess, http_json, write_meeting

pytestmark = pytest.mark.slow


def run_meeting(server: ServerProcess, meeting, voters: int) -> None:
    def view() -> dict:
        return http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)[1]["view"]

    for _ in range(40):
        current = view()
        if current["round"] and current["round"]["status"] == "open":
            break
        commented = {remark["reporter"] for remark in current["remarks"]}
        if current["phase"] == "comment" and current["reporter"] not in commented:
            code, _ = server.chair("comment", text=f"{current['reporter']}的点评：成效明显。")
            assert code == 200
            continue
        code, reply = server.chair(current["actions"][0])
        assert code == 200, reply
    round_info = view()["round"]
    rng = random.Random(5)
    grades = ["好", "较好", "一般", "差"]
    for card in server.cards(meeting)[:voters]:
        marks = {rid: rng.choice(grades) for rid in round_info["reporters"]}
        code, reply = http_json(
            f"{server.base}/api/cast",
            {
                "token": card.token,
                "round": round_info["id"],
                "marks": marks,
                "cid": f"cid-{card.token}",
            },
        )
        assert code == 200, reply
    assert server.chair("close", force=True)[0] == 200


@pytest.fixture
def reaper(tmp_path):
    """Stops the embedded redis-server that reading the record in this process started
    (`server.record_reader.load_record` leaves it running until the process exits)."""
    yield
    for process in psutil.process_iter(["name", "cwd"]):
        if process.info["name"] == "redis-server" and str(process.info["cwd"] or "").startswith(
            str(tmp_path)
        ):
            process.kill()
            process.wait(10)


def test_tally_and_feedback_from_the_data_directory(tmp_path, servers, reaper, capsys):
    meeting_path, meeting = write_meeting(tmp_path, leader_seats=3, cadre_seats=5)
    data = tmp_path / "data"
    server = ServerProcess(meeting_path, data).start()
    servers.append(server)
    run_meeting(server, meeting, voters=7)
    server.stop()

    pdf = tmp_path / "tally.pdf"
    capsys.readouterr()
    assert main(["print", "tally", str(meeting_path), "--data", str(data), "-o", str(pdf)]) == 0
    export = tmp_path / "tally-ballots.csv"
    assert export.exists() and len(export.read_text(encoding="utf-8").splitlines()) == 1 + 7
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "应到 8 人，实到 7 人" in text
    for reporter in meeting.reporters:
        assert reporter.name in text
    assert (data / "signing" / "cert.pem").exists()

    code = main(
        [
            "verify",
            str(pdf),
            "--ballots",
            str(export),
            "--meeting",
            str(meeting_path),
            "--cert",
            str(data / "signing" / "cert.pem"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    exported = tmp_path / "export.csv"  # the server's own export is the same file
    xlsx = tmp_path / "results.xlsx"
    assert (
        main(["export", str(meeting_path), str(exported), "--data", str(data), "--xlsx", str(xlsx)])
        == 0
    )
    assert exported.read_bytes() == export.read_bytes()
    sheet = load_workbook(xlsx)["测评结果"]
    names = [row[1].value for row in sheet.iter_rows(min_row=5)]
    assert names == [reporter.name for reporter in meeting.reporters]
    assert (
        main(["verify", str(pdf), "--ballots", str(exported), "--meeting", str(meeting_path)]) == 0
    )

    feedback = tmp_path / "feedback.pdf"
    assert (
        main(["print", "feedback", str(meeting_path), "--data", str(data), "-o", str(feedback)])
        == 0
    )
    pages = subprocess.run(
        ["pdftotext", str(feedback), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    onsite = [r for r in meeting.reporters if not r.written]
    for reporter in onsite:
        page = next(p for p in pages if f"述职人：{reporter.name}" in re.sub(r"\s+", "", p))
        assert f"{reporter.id}的点评：成效明显。" in re.sub(r"\s+", "", page)
