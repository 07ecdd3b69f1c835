"""A file of paper ballots already checked, entered line by line: a card that voted by phone
between the check and the entry (or a store gone away) refuses its own line only."""

from __future__ import annotations

from typing import Any

from meeting.errors import AlreadyVoted, Unavailable
from server.paper_import import Line, enter_lines, paper_cid
from tally.ballot_csv import BallotRow
from tally.model import Ballot


class Service:
    receipt_key = b"k" * 32

    def __init__(self) -> None:
        self.entered: list[tuple[str, int, dict[str, str], str]] = []

    async def paper(
        self, code: str, round_id: int, marks: Any, cid: str, items: Any = None
    ) -> tuple[str, bool]:
        assert items is None  # a grade-only meeting's rows carry no item answers
        self.entered.append((code, round_id, marks, cid))
        if code == "RACE-0000":
            raise AlreadyVoted("已投票：此参会卡本轮已经投过票")
        if code == "GONE-0000":
            raise Unavailable()
        return "AAAAA-BBBBB", code == "SENT-0000"


def line(number: int, code: str) -> Line:
    return Line(BallotRow(number, code, Ballot(str(number), "all", {"r1": "好"})), code=code)


async def test_a_line_refused_at_entry_is_refused_alone() -> None:
    service = Service()
    lines = [line(2, "GOOD-0000"), line(3, "RACE-0000"), line(4, "SENT-0000"), line(5, "GONE-0000")]
    status, body = await enter_lines(service, 7, lines)  # type: ignore[arg-type]
    assert status == 409
    assert body["counts"] == {"rows": 4, "entered": 1, "again": 1, "refused": 2}
    assert body["error"]["code"] == "already_voted"
    assert body["error"]["msg"].startswith("以下各行未能录入，其余各行已录入")
    assert "第3行：参会卡 RACE-0000 本轮已投票，此纸质选票不计入" in body["error"]["msg"]
    assert [n["error"] and n["error"]["code"] for n in body["lines"]] == [
        None,
        "already_voted",
        None,
        "unavailable",
    ]
    assert body["lines"][3]["error"]["msg"] == "第5行：系统暂不可用，正在重连"
    assert [n["receipt"] for n in body["lines"]] == ["AAAAA-BBBBB", None, "AAAAA-BBBBB", None]
    # Each card's ballot id is the same however often the file is sent, and its own.
    cids = [cid for _, _, _, cid in service.entered]
    assert cids[0] == paper_cid(Service.receipt_key, 7, "GOOD-0000") and len(set(cids)) == 4
    assert 16 <= len(cids[0]) <= 64
