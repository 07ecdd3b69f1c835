"""综合评价 through the real server (issue 16): behind the chair key, entries against the
测评等次 of the count, a reason where the grade differs, revisions kept, the record fixed with
the 党组研究 date and closed afterwards, all of it kept across a restart."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from testkit import Peer, ServerProcess, http_json, wait_until, write_meeting
from tests.helpers import ROOT

OPINION = {"成绩": "抓党建促发展成效明显", "问题": "基层组织建设有短板"}


def evaluation(server: ServerProcess, key: str | None = "chair") -> tuple[int, Any]:
    chair_key = server.chair_key if key == "chair" else key
    return http_json(f"{server.base}/api/evaluation", key=chair_key)


def enter(server: ServerProcess, reporter: str, grade: str, **extra: Any) -> tuple[int, Any]:
    body = {"reporter": reporter, "grade": grade, "opinion": OPINION, "entered_by": "李敏"}
    return http_json(f"{server.base}/api/evaluation", body | extra, server.chair_key)


def fix(server: ServerProcess, studied_on: str, rectify_by: str = "2027-01-31") -> tuple[int, Any]:
    body = {"studied_on": studied_on, "entered_by": "李敏", "rectify_by": rectify_by}
    return http_json(f"{server.base}/api/evaluation/fix", body, server.chair_key)


async def test_the_record_after_the_meeting(tmp_path: Path, servers: list[ServerProcess]) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="综合评价测试会议")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    round_id = server.vote_step()
    for card in server.cards(meeting)[:3]:
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            marks = {"r01": "好", "r02": "一般", "r03": "好"}
            cast = {"t": "cast", "round": round_id, "marks": marks, "cid": secrets.token_hex(16)}
            assert (await phone.request(cast))["t"] == "receipt"
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: evaluation(server)[1]["reporters"][0]["vote_grade"] != "", timeout=20)

    status, view = evaluation(server)
    assert status == 200 and view["deadline"] == "2027-01-04" and view["fixed"] is None
    votes = {r["id"]: r["vote_grade"] for r in view["reporters"]}
    assert votes["r01"] == "好" and votes["r02"] == "一般"

    # Only the chair key reads or writes it; bad bodies name the field; nothing is recorded.
    for key in (None, "wrong-key"):
        assert evaluation(server, key)[0] == 401
    refusals = [
        (enter(server, "r01", "差"), 422, "reason_needed", "reason"),
        (enter(server, "r09", "好"), 422, "bad_reporter", "reporter"),
        (enter(server, "r01", "优秀"), 422, "bad_grade", "grade"),
        (enter(server, "r01", "好", opinion={"成绩": "好"}), 422, "bad_field", "opinion.问题"),
        (enter(server, "r01", "好", opinion=["成绩"]), 422, "bad_field", "opinion"),
        (enter(server, "r01", "好", extra=1), 422, "bad_field", "extra"),
        (fix(server, "2026-12-30"), 409, "refused", "action"),
    ]
    for (status, body), http, code, field in refusals:
        assert (status, body["error"]["code"], body["error"]["field"]) == (http, code, field), body
    assert all(r["history"] == [] for r in evaluation(server)[1]["reporters"])

    assert enter(server, "r01", "好")[0] == 200
    assert enter(server, "r01", "较好", reason="督导调研发现问题")[0] == 200  # a revision
    assert enter(server, "r02", "一般", sources={"实地调研": "一般"})[0] == 200
    assert enter(server, "r03", "差", reason="被问责")[0] == 200
    status, body = fix(server, "2026-12-27")
    assert (status, body["error"]["field"]) == (422, "studied_on")
    status, body = fix(server, "2026-12-30", rectify_by="")  # r02 一般, r03 差: to rectify
    assert (status, body["error"]["field"]) == (422, "rectify_by")
    assert fix(server, "2026-12-30")[0] == 200
    status, body = enter(server, "r01", "好")
    assert (status, body["error"]["code"]) == (409, "refused")
    assert "经党组研究确定" in body["error"]["msg"]

    server.stop()
    server.start()
    view = evaluation(server)[1]
    assert view["fixed"]["studied_on"] == "2026-12-30"
    assert view["fixed"]["rectify_by"] == "2027-01-31"
    first = view["reporters"][0]
    assert [(h["grade"], h["reason"]) for h in first["history"]] == [
        ("好", ""),
        ("较好", "督导调研发现问题"),
    ]
    assert all(h["entered_by"] == "李敏" for r in view["reporters"] for h in r["history"])

    # The 反馈单 printed from the record now carries the fixed 综合评价.
    pdf = tmp_path / "反馈单.pdf"
    printed = subprocess.run(
        [sys.executable, "-m", "cli", "print", "feedback", str(meeting_path), "--data",
         str(server.data), "-o", str(pdf)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    pages = [re.sub(r"\s+", "", page) for page in text.split("\f")]
    assert "综合评价等次：较好" in pages[0] and "测评等次：好" in pages[0]  # the revision
    assert "与测评等次不同的理由：督导调研发现问题" in pages[0]
    assert "综合评价等次：差" in pages[2] and "理由" not in pages[2]  # 问责: the vote said 差 too
    assert all("经党组于2026-12-30研究确定" in page for page in pages[:3])
