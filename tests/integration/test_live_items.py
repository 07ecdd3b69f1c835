"""A meeting with item checklists, live (issue 17): the 三评 example served as it is; phones
cast grades and item answers by WebSocket and HTTP, each group on its own form; every answer
that does not fit the form is refused naming it; a paper ballot may spoil an item; the result
at close is exactly `pingyi tally` on the export; and the export prints a 三评 sheet that
`pingyi verify` recounts. Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from cli.files import read_meeting
from meeting.join_cards import Card
from tally.item_csv import grade_columns, item_columns
from tally.model import Meeting
from testkit import Peer, ServerProcess, http_json, http_raw, stop_embedded_redis, wait_until
from testkit.commands import pingyi
from testkit.net import http_file
from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"


@dataclass
class Live:
    server: ServerProcess
    meeting: Meeting
    path: Path
    info: dict[str, Any]
    round: int
    cards: list[Card]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("items")
    shutil.copy(EXAMPLES / "sanping-meeting.toml", folder / "meeting.toml")
    shutil.copytree(EXAMPLES / "items", folder / "items")
    meeting, _ = read_meeting(folder / "meeting.toml")
    server = ServerProcess(folder / "meeting.toml", folder / "data")
    try:
        server.start()
        info = http_json(f"{server.base}/api/meeting")[1]
        round_id = server.vote_step()
        yield Live(server, meeting, folder / "meeting.toml", info, round_id, server.cards(meeting))
    finally:
        server.stop()
        stop_embedded_redis(folder / "data")


def ballot(live: Live, card: Card, n: int) -> tuple[dict, dict]:
    """What card n fills in on its group's form: grades and answers varying with n."""
    forms = live.info["ballot_forms"][card.group]
    marks, items = {}, {}
    for k, reporter in enumerate(live.meeting.reporters):
        form = live.info["forms"][forms[reporter.id]]
        if form["kind"] in ("grade", "both"):
            marks[reporter.id] = live.info["grades"][(n + k) % 4]
        if form["kind"] in ("items", "both"):
            options = form["options"]
            items[reporter.id] = {
                item["id"]: options[(n + k + j) % 3 == 0]
                for j, item in enumerate(form["items"])
                if (n + j) % 7  # every seventh left blank: 弃权
            }
    return marks, items


def cast(live: Live, card: Card, n: int, **change: Any) -> tuple[int, dict]:
    marks, items = ballot(live, card, n)
    body = {"token": card.token, "round": live.round, "marks": marks, "items": items}
    body |= {"cid": f"{card.token}-{n}"[:64].ljust(16, "x")} | change
    return http_json(f"{live.server.base}/api/cast", body)


def test_the_meeting_tells_each_group_its_form(live: Live) -> None:
    forms = live.info["ballot_forms"]
    assert forms["town"]["r03"] == "cun-both" and forms["firms"]["r03"] == "grade"
    assert forms["rural"]["r01"] == "zhen-items"
    assert len(live.info["forms"]["zhen-items"]["items"]) == 26


@pytest.mark.parametrize(
    ("group", "change", "code", "field", "says"),
    [
        ("town", {"items": None}, 422, "items", "须提交 items"),
        ("town", {"items": {"r03": {"a99": "能"}}}, 422, "items", "没有项目“a99”"),
        ("town", {"items": {"r01": {"b01": "能"}}}, 422, "items", "应为是/不是"),
        ("town", {"items": {"r03": {"a01": "废"}}}, 422, "items", "无效"),
        ("town", {"marks": {"r01": "好"}}, 422, "marks", "只作逐项测评"),
        ("firms", {"items": {"r01": {"b01": "是"}}}, 422, "items", "没有测评项目"),
        ("town", {"items": {"r03": ["能"]}}, 422, "items", "items"),
        ("town", {"items": {"r03": {"a01": "能" * 65}}}, 422, "items", "items 最多"),
    ],
    ids=[
        "missing",
        "unknown-item",
        "other-checklist-word",
        "phone-spoils",
        "grade-not-asked",
        "items-not-asked",
        "not-a-map",
        "too-long",
    ],
)
def test_an_answer_that_does_not_fit_the_form_is_refused(
    live: Live, group: str, change: dict, code: int, field: str, says: str
) -> None:
    card = next(c for c in live.cards if c.group == group)
    body_change = dict(change)
    if body_change.get("items", "") is None:
        body_change.pop("items")
        marks, _ = ballot(live, card, 0)
        status, reply = http_json(
            f"{live.server.base}/api/cast",
            {"token": card.token, "round": live.round, "marks": marks, "cid": "z" * 16},
        )
    else:
        status, reply = cast(live, card, 0, **body_change)
    assert status == code, reply
    assert reply["error"]["field"] == field
    assert says in reply["error"]["msg"]


IMPORTED: set[str] = set()  # cards whose ballot came in the tellers' file


def test_the_tellers_file_of_paper_ballots_carries_the_items(live: Live) -> None:
    """`POST /api/paper-ballots` with the item ballot CSV: checked whole, one bad answer
    refuses the file naming its line, then every row entered with its answers."""
    cards = [c for c in live.cards if c.group == "rural"][-2:]
    grades, items = grade_columns(live.meeting), item_columns(live.meeting)
    header = ["ballot", "group", "card", *grades, *(f"{r}.{i}" for r, i in items)]
    rows = []
    for n, card in enumerate(cards):
        answers = {r: dict(a) for r, a in ballot(live, card, 50 + n)[1].items()}
        cells = [f"P{n}", card.group, card.code, *("" for _ in grades)]
        cells += [answers[r].get(i, "") for r, i in items]
        rows.append(cells)
    bad = [list(row) for row in rows]
    bad[1][header.index("r01.b01")] = "能"  # a word of the other checklist
    url = f"{live.server.base}/api/paper-ballots"
    refused = http_raw(url, _csv([header, *bad]), live.server.chair_key)
    assert refused[0] == 422, refused
    assert refused[1]["error"]["msg"].startswith("纸质选票.csv:3:")  # the file, line and column
    assert "r01.b01" in refused[1]["error"]["msg"]
    status, answer = http_raw(url, _csv([header, *rows]), live.server.chair_key)
    assert status == 200, answer
    assert [line["receipt"] is not None for line in answer["lines"]] == [True, True]
    IMPORTED.update(card.token for card in cards)


def _csv(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\n" for row in rows).encode("utf-8")


def test_the_vote_counted_is_pingyi_tally_on_the_export(live: Live, tmp_path: Path) -> None:
    by_socket = [c for c in live.cards if c.group == "town"][:2]
    receipts: dict[str, str] = {}

    async def phones() -> None:
        for n, card in enumerate(by_socket):
            async with Peer.connect(live.server.ws_url, role="phone", token=card.token) as peer:
                assert peer.welcome["group"] == "town"
                marks, items = ballot(live, card, n)
                message = {"t": "cast", "round": live.round, "marks": marks, "items": items}
                reply = await peer.request(message | {"cid": f"socket-{n}".ljust(16, "x")})
                assert reply["t"] == "receipt", reply
                receipts[card.token] = reply["receipt"]

    asyncio.run(phones())
    others = [c for c in live.cards if c not in by_socket and c.token not in IMPORTED]
    paper_card, phone_cards = others[0], others[1:]
    for n, card in enumerate(phone_cards, start=2):
        status, reply = cast(live, card, n)
        assert status == 200, reply
        again = cast(live, card, n)  # the same ballot resent: the same receipt
        assert again[1]["receipt"] == reply["receipt"] and again[1]["again"] is True
        changed = cast(live, card, n + 1)  # another ballot from the same card
        assert changed[0] == 409 and changed[1]["error"]["code"] == "already_voted"
    marks, items = ballot(live, paper_card, 99)
    first = next(iter(items))
    items[first] = {**items[first], next(iter(items[first])): "废"}  # a paper ballot may spoil
    paper = {"code": paper_card.code, "round": live.round, "marks": marks, "items": items}
    status, reply = http_json(f"{live.server.base}/api/paper", paper, key=live.server.chair_key)
    assert status == 200, reply
    assert live.server.chair("close", force=True)[0] == 200

    def result() -> dict | None:
        view = http_json(f"{live.server.base}/api/view?role=chair", key=live.server.chair_key)
        return view[1]["view"].get("result")

    wait_until(result, timeout=30)
    counted = result()
    assert counted is not None and counted["quorum"]["cast"] == len(live.cards)
    export = tmp_path / "选票.csv"
    done = pingyi("export", live.path, export, "--data", live.server.data)
    assert done.returncode == 0, done.stderr
    offline = tmp_path / "result.json"
    done = pingyi("tally", live.path, export, "--json", offline)
    assert done.returncode == 0, done.stderr
    assert json.loads(offline.read_text("utf-8")) == counted
    reporter = counted["reporters"][2]
    assert reporter["by_group"]["town"]["item_score"] is not None
    assert "专家点评" in json.dumps(reporter["composite_steps"], ensure_ascii=False)  # missing

    sheet = tmp_path / "汇总表.pdf"
    done = pingyi(
        "print", "tally", live.path, "--ballots", export, "--data", live.server.data, "-o", sheet
    )
    assert done.returncode == 0, done.stderr
    done = pingyi("verify", sheet, "--ballots", export, "--meeting", live.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "全部一致" in done.stdout
    # from the live record: the export written beside the sheet, the same bytes
    from_record = tmp_path / "记录汇总表.pdf"
    done = pingyi("print", "tally", live.path, "--data", live.server.data, "-o", from_record)
    assert done.returncode == 0, done.stderr
    beside = tmp_path / "记录汇总表-ballots.csv"
    assert beside.read_bytes() == export.read_bytes()
    done = pingyi("verify", from_record, "--ballots", beside, "--meeting", live.path)
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
    # and from the chair console's downloads: the same sheet and export
    for kind in ("tally", "export", "ballots"):
        status, headers, body = http_file(
            f"{live.server.base}/api/download/{kind}", live.server.chair_key
        )
        assert status == 200, body[:300]
    # the xlsx and the feedback sheets carry the composite: the result counted at close, the
    # same as `pingyi print xlsx --data` (tests/integration/test_appraisal_outputs.py: figures)
    downloaded = {}
    for kind in ("feedback", "xlsx"):
        status, _, body = http_file(
            f"{live.server.base}/api/download/{kind}", live.server.chair_key
        )
        assert status == 200, body[:300]
        downloaded[kind] = body
    table = tmp_path / "测评结果表.xlsx"
    done = pingyi("print", "xlsx", live.path, "--data", live.server.data, "-o", table)
    assert done.returncode == 0, done.stderr
    for workbook in (io.BytesIO(downloaded["xlsx"]), table):
        rows = list(load_workbook(workbook)["综合结果"].iter_rows(min_row=4, values_only=True))
        graded = [dict(zip(rows[0], row, strict=True))["测评等次"] for row in rows[1:]]
        assert graded == [r["composite_grade"] or "待定" for r in counted["reporters"]]
    # the 综合评价结果表 waits for the 党组 (tests/integration/test_sanping_evaluation.py)
    status, _, body = http_file(
        f"{live.server.base}/api/download/evaluation", live.server.chair_key
    )
    assert status == 409 and "尚未经党组研究确定" in body.decode("utf-8")
