"""重新测评 through the real server and the printouts (issue 14): the chair voids a closed round
with a written reason; the same cards vote again in a new round; only the new round counts;
the voided ballots are kept, exported beside the count and reported on the signed sheet, which
`verify` accepts while saying what it cannot re-derive; a restart keeps all of it."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from testkit import Peer, ServerProcess, http_json, wait_until, write_meeting
from tests.helpers import ROOT

REASON = "表决器故障，部分参会人员未能投票"
VOIDED_MARKS = {"r01": "差", "r02": "差", "r03": "差"}
NEW_MARKS = {"r01": "好", "r02": "较好", "r03": "好"}


def pingyi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def view(server: ServerProcess, role: str = "screen") -> dict[str, Any]:
    key = server.chair_key if role == "chair" else None
    return http_json(f"{server.base}/api/view?role={role}", key=key)[1]["view"]


async def cast_all(server: ServerProcess, cards: list, round_id: int, marks: dict) -> list[dict]:
    replies = []
    for card in cards:
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            cast = {"t": "cast", "round": round_id, "marks": marks, "cid": secrets.token_hex(16)}
            replies.append(await phone.request(cast))
    return replies


def counts(result: dict, reporter: str) -> dict[str, int]:
    return next(r for r in result["reporters"] if r["id"] == reporter)["counts"]


async def test_a_voided_round_is_kept_reported_and_never_counted(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="重新测评测试会议")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)[:3]
    first = server.vote_step()
    assert all(r["t"] == "receipt" for r in await cast_all(server, cards, first, VOIDED_MARKS))
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: view(server, "chair")["result"] is not None, timeout=20)

    # Without a reason nothing is voided; with one the step is ready for a new round.
    status, body = server.chair("void", text="  ")
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "reason_needed", "text")
    assert server.chair("void", text=REASON)[0] == 200
    ready = view(server)["round"]
    assert (ready["status"], ready["id"] != first) == ("ready", True)
    assert [(v["id"], v["cast"], v["reason"]) for v in ready["voided"]] == [(first, 3, REASON)]
    assert view(server, "chair")["result"] is None  # the voided result is never shown
    status, body = server.chair("reveal")
    assert (status, body["error"]["code"]) == (409, "refused")

    # The same cards vote again in the new round; the voided one takes nothing more.
    assert server.chair("open")[0] == 200
    second = view(server)["round"]["id"]
    assert all(r["t"] == "receipt" for r in await cast_all(server, cards, second, NEW_MARKS))
    late = await cast_all(server, server.cards(meeting)[3:4], first, NEW_MARKS)
    assert late[0]["code"] == "not_open"
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: view(server, "chair")["result"] is not None, timeout=20)
    result = view(server, "chair")["result"]
    assert (result["quorum"]["cast"], counts(result, "r01")["好"], counts(result, "r01")["差"]) == (
        3,
        3,
        0,
    )

    # A restart replays the same: the void, its ballots kept apart, the new round counted.
    server.stop()
    server.start()
    assert view(server, "chair")["result"]["quorum"]["cast"] == 3
    assert [v["id"] for v in view(server)["round"]["voided"]] == [first]

    exported = tmp_path / "ballots.csv"
    done = pingyi("export", str(meeting_path), str(exported), "--data", str(server.data))
    assert done.returncode == 0, done.stderr
    assert "差" not in exported.read_text(encoding="utf-8")
    assert len(exported.read_text(encoding="utf-8").splitlines()) == 1 + 3
    voided_csv = tmp_path / f"ballots-voided-{first}.csv"
    assert voided_csv.read_text(encoding="utf-8").count("差") == 3 * 3
    assert f"作废的测评（第{first}轮" in done.stdout and REASON in done.stdout

    pdf = tmp_path / "sheet.pdf"
    printed = pingyi(
        "print", "tally", str(meeting_path), "--data", str(server.data), "-o", str(pdf)
    )
    assert printed.returncode == 0, printed.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    cast = Counter(card.group for card in cards)
    split = "、".join(f"{g.name}{cast[g.id]}张" for g in meeting.groups if cast[g.id])
    assert f"作废时已收回选票3张（{split}）；原因：{REASON}" in "".join(text.split())
    checked = pingyi(
        "verify", str(pdf), "--ballots", str(tmp_path / "sheet-ballots.csv"),
        "--meeting", str(meeting_path),
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1次作废的测评" in checked.stdout
