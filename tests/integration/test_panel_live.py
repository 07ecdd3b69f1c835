"""专家点评 and 项目指标 live (issue 17): five named experts score on their own keys, the
secretariat types one score in from paper, the indicator values come in as an Excel sheet;
every bad input is refused naming it; the scores close with the vote; the result at close is
`pingyi tally` on the exported files, and the printed 三评 sheet verifies against them.
Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from openpyxl import Workbook

from cli.files import read_meeting
from tally.model import Meeting
from testkit import ServerProcess, http_json, http_raw, stop_embedded_redis, wait_until
from testkit.commands import pingyi
from testkit.peers import Peer
from testkit.sanping import filled_in
from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"


@dataclass
class Live:
    server: ServerProcess
    meeting: Meeting
    path: Path
    links: dict


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("panel")
    text = (EXAMPLES / "sanping-meeting.toml").read_text("utf-8")
    text = text
    (folder / "meeting.toml").write_text(text, "utf-8")
    shutil.copytree(EXAMPLES / "items", folder / "items")
    meeting, _ = read_meeting(folder / "meeting.toml")
    server = ServerProcess(folder / "meeting.toml", folder / "data")
    try:
        server.start()
        code, links = http_json(f"{server.base}/api/panel", key=server.chair_key)
        assert code == 200, links
        yield Live(server, meeting, folder / "meeting.toml", links)
    finally:
        server.stop()
        stop_embedded_redis(folder / "data")


def key_of(live: Live, expert: str) -> str:
    entry = next(e for e in live.links["experts"] if e["id"] == expert)
    return entry["url"].split("key=")[1]


def score(live: Live, key: str, body: dict) -> tuple[int, dict]:
    return http_json(f"{live.server.base}/api/expert", body, key)


def test_the_chair_gets_one_link_per_expert(live: Live) -> None:
    assert [(e["id"], e["name"], e["scored"]) for e in live.links["experts"]][:2] == [
        ("e1", "张教授", 0),
        ("e2", "李研究员", 0),
    ]
    keys = {key_of(live, e["id"]) for e in live.links["experts"]}
    assert len(keys) == 5  # each expert a key of their own
    assert http_json(f"{live.server.base}/api/panel")[0] == 401
    assert http_json(f"{live.server.base}/api/panel", key=key_of(live, "e1"))[0] == 401


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"reporter": "r01", "score": 101}, "score", "0到100"),
        ({"reporter": "r01", "score": -1}, "score", "0到100"),
        ({"reporter": "r01", "score": "九十"}, "score", "0到100"),
        ({"reporter": "r01", "score": True}, "score", "0到100"),
        ({"reporter": "r01", "score": [90]}, "score", "0到100"),
        ({"reporter": "r99", "score": 90}, "reporter", "r99"),
        ({"reporter": None, "score": 90}, "reporter", "不在本次会议中"),
    ],
    ids=["over", "negative", "words", "bool", "list", "reporter", "no-reporter"],
)
def test_a_bad_score_is_refused_naming_it(live: Live, body: dict, field: str, says: str) -> None:
    code, reply = score(live, key_of(live, "e1"), body)
    assert code == 422, reply
    assert reply["error"]["field"] == field and says in reply["error"]["msg"]


def test_an_expert_sees_only_their_own_scores_and_a_wrong_key_nothing(live: Live) -> None:
    assert score(live, "0" * 24, {"reporter": "r01", "score": 90})[0] == 401
    code, mine = score(live, key_of(live, "e2"), {"reporter": "r02", "score": 70})
    assert code == 200 and mine["scores"] == {"r02": "70"}
    code, cleared = score(live, key_of(live, "e2"), {"reporter": "r02", "score": None})
    assert code == 200 and cleared["scores"] == {}
    code, other = http_json(f"{live.server.base}/api/expert", key=key_of(live, "e3"))
    assert code == 200 and other["expert"]["name"] == "王处长" and other["scores"] == {}


def test_an_expert_scores_over_the_websocket_and_each_page_hears_only_its_own(
    live: Live,
) -> None:
    """`hello role="expert"`: the welcome is the expert's page, `score` saves and answers with
    it, another device of the same expert hears the change, another expert hears nothing of it;
    a wrong key is closed like a wrong chair key, and an expert may send nothing else."""

    async def run() -> None:
        url = live.server.ws_url
        async with (
            Peer.connect(url, role="expert", key=key_of(live, "e4")) as first,
            Peer.connect(url, role="expert", key=key_of(live, "e4")) as second,
            Peer.connect(url, role="expert", key=key_of(live, "e3")) as other,
        ):
            assert first.welcome["view"]["expert"] == {"id": "e4", "name": "赵书记"}
            reply = await first.request({"t": "score", "reporter": "r03", "score": "88.5"})
            assert reply["t"] == "ok" and reply["view"]["scores"] == {"r03": "88.5"}, reply
            seen = await second.view_where(lambda v: v["scores"].get("r03") == "88.5")
            assert seen["expert"]["id"] == "e4"
            for bad, field in (({"reporter": "r03", "score": 101}, "score"),
                               ({"reporter": "r99", "score": 1}, "reporter"),
                               ({"reporter": "r03", "score": [1]}, "score")):  # fmt: skip
                reply = await first.request({"t": "score", **bad})
                assert reply["t"] == "error" and reply.get("field") == field, (bad, reply)
            reply = await first.request({"t": "cast", "round": 1, "marks": {}, "cid": "x" * 16})
            assert reply["t"] == "error" and reply["code"] == "unknown_type", reply
            cleared = await first.request({"t": "score", "reporter": "r03", "score": None})
            assert cleared["view"]["scores"] == {}
            assert all("r03" not in m.get("view", {}).get("scores", {}) for m in other.seen)
        async with Peer.connect(url) as stranger:
            await stranger.send({"t": "hello", "role": "expert", "key": "0" * 24})
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await stranger.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.reason == "bad_key"

    asyncio.run(run())


def test_the_secretariat_types_a_score_in_from_paper_saying_who(live: Live) -> None:
    chair = live.server.chair_key
    body = {"expert": "e5", "reporter": "r01", "score": 86}
    code, reply = score(live, chair, body)
    assert code == 422 and reply["error"]["field"] == "entered_by"
    code, reply = score(live, chair, {**body, "entered_by": "会务组 李敏"})
    assert code == 200 and reply["scores"]["r01"] == "86"
    code, reply = score(live, chair, {**body, "expert": "e9", "entered_by": "李敏"})
    assert code == 422 and reply["error"]["field"] == "expert"


def indicators_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO((EXAMPLES / "sanping-indicators.csv").read_text("utf-8"))):
        sheet.append([float(c) if c.replace(".", "").isdigit() else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_indicators_come_in_as_an_excel_sheet_and_a_bad_one_is_refused(live: Live) -> None:
    url = f"{live.server.base}/api/indicators?name={urllib.parse.quote('项目指标.xlsx')}"
    bad = (EXAMPLES / "sanping-indicators.csv").read_text("utf-8").replace("income", "incomes")
    code, reply = http_raw(url, bad.encode("utf-8"), live.server.chair_key)
    assert code == 422 and "incomes" in reply["error"]["msg"], reply
    assert http_raw(url, indicators_xlsx(), key_of(live, "e1"))[0] == 401
    code, reply = http_raw(url, indicators_xlsx(), live.server.chair_key)
    assert code == 200, reply
    assert reply["indicators"] == "项目指标.xlsx" and reply["indicator_rows"] == 6


def test_the_result_counts_the_panel_and_the_sheet_verifies(live: Live, tmp_path: Path) -> None:
    experts = list(csv.DictReader(io.StringIO((EXAMPLES / "sanping-experts.csv").read_text())))
    for row in experts:  # every expert scores every reporter, e5's r01 already typed in
        for expert in ("e1", "e2", "e3", "e4", "e5"):
            if (expert, row["reporter"]) != ("e5", "r01") and row[expert]:  # r04: e5 did not
                body = {"reporter": row["reporter"], "score": row[expert]}
                assert score(live, key_of(live, expert), body)[0] == 200
    info = http_json(f"{live.server.base}/api/meeting")[1]
    round_id = live.server.vote_step()
    for n, card in enumerate(live.server.cards(live.meeting)):
        marks, items = filled_in(info, live.meeting, card.group, n)
        body = {"token": card.token, "round": round_id, "marks": marks, "items": items}
        code, reply = http_json(f"{live.server.base}/api/cast", body | {"cid": card.token})
        assert code == 200, reply
    assert live.server.chair("close", force=True)[0] == 200

    def result() -> dict | None:
        view = http_json(f"{live.server.base}/api/view?role=chair", key=live.server.chair_key)
        return view[1]["view"].get("result")

    wait_until(result, timeout=30)
    counted = result()
    assert counted is not None
    assert all(r["sources"]["experts"] is not None for r in counted["reporters"])
    assert all(r["sources"]["indicators"] is not None for r in counted["reporters"])
    # closed with the vote
    code, reply = score(live, key_of(live, "e1"), {"reporter": "r01", "score": 60})
    assert code == 409 and "已计入结果" in reply["error"]["msg"]

    export = tmp_path / "选票.csv"
    done = pingyi("export", live.path, export, "--data", live.server.data)
    assert done.returncode == 0, done.stderr
    files = (tmp_path / "选票-experts.csv", tmp_path / "选票-indicators.csv")
    offline = tmp_path / "result.json"
    done = pingyi(
        "tally", live.path, export, "--experts", files[0], "--indicators", files[1],
        "--json", offline,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    offline_result = json.loads(offline.read_text("utf-8"))
    for mine, theirs in zip(offline_result["reporters"], counted["reporters"], strict=True):
        for key in mine:
            assert mine[key] == theirs[key], (mine["id"], key, mine[key], theirs[key])
    assert offline_result == counted

    sheet = tmp_path / "汇总表.pdf"
    done = pingyi("print", "tally", live.path, "--data", live.server.data, "-o", sheet)
    assert done.returncode == 0, done.stderr
    beside = [tmp_path / f"汇总表-{kind}.csv" for kind in ("ballots", "experts", "indicators")]
    done = pingyi(
        "verify", sheet, "--meeting", live.path, "--ballots", beside[0],
        "--experts", beside[1], "--indicators", beside[2],
    )  # fmt: skip
    assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
