"""A vote and the 综合评价 driven over HTTP, as the tests of the printouts, downloads and the
备案 package need them: bounded, with every refusal failing the test at once."""

from __future__ import annotations

from tally.model import Meeting
from testkit.net import http_json
from testkit.processes import ServerProcess

OPINION = {"成绩": "抓党建促发展成效明显", "问题": "阵地建设不足", "要求": "限期整改"}
GRADES = ("好", "较好", "好", "一般")  # a ballot's marks, shifted by voter and reporter


def cast_ballots(
    server: ServerProcess, meeting: Meeting, round_id: int, reporters: list[str], voters: int
) -> None:
    """`voters` cards vote in the open round, each with its own mix of grades."""
    for number, card in enumerate(server.cards(meeting)[:voters]):
        marks = {rid: GRADES[(number + i) % 4] for i, rid in enumerate(reporters)}
        body = {"token": card.token, "round": round_id, "marks": marks, "cid": card.token}
        code, reply = http_json(f"{server.base}/api/cast", body)
        assert code == 200, reply


def enter_and_fix_evaluation(
    server: ServerProcess,
    opinion: dict[str, str] = OPINION,
    studied_on: str = "2026-12-30",
    rectify_by: str = "2027-01-31",
) -> None:
    """Each reporter's 综合评价 at their 测评等次 (好 with a reason where it is 待定), then fixed
    by the 党组 on `studied_on` with 限期整改 to `rectify_by`."""
    url = f"{server.base}/api/evaluation"
    for reporter in http_json(url, key=server.chair_key)[1]["reporters"]:
        body = {
            "reporter": reporter["id"],
            "grade": reporter["vote_grade"] or "好",
            "opinion": opinion,
            "entered_by": "李敏",
        }
        if not reporter["vote_grade"]:
            body["reason"] = "测评待定"
        code, reply = http_json(url, body, server.chair_key)
        assert code == 200, reply
    fix = {"studied_on": studied_on, "entered_by": "李敏", "rectify_by": rectify_by}
    code, reply = http_json(f"{url}/fix", fix, server.chair_key)
    assert code == 200, reply
