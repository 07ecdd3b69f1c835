"""部分实名 and 分管, live: the 党组 members vote with their own cards and their ballots carry
their names; the other groups stay anonymous, their ballots exactly as before. A leader's mark
on a unit they supervise counts in the 分管 constituency with its own weight, on the server,
in `pingyi tally` on the export and on the verified tally sheet alike. Real server, real
Redis, 127.0.0.1."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from openpyxl import load_workbook

from cli.files import read_meeting
from meeting.join_cards import Card
from server.codec import unpack
from tally.model import SUPERVISION_GROUP
from testkit import Peer, ServerProcess, http_json, http_raw, stop_embedded_redis, wait_until
from testkit.commands import pingyi
from testkit.dumps import dump, redis_settings
from testkit.meetings import NAMED_MEETING

GRADES = ("好", "较好", "一般", "差")


def paper_file(server: ServerProcess, card: Card, marks: dict[str, str]) -> dict:
    """The tellers' CSV (`POST /api/paper-ballots`) with one named member's paper ballot: the
    card says whose it is; a voter column naming someone else is refused, naming the line."""
    url = f"{server.base}/api/paper-ballots"
    cells = ",".join(marks[r] for r in ("r01", "r02", "r03"))
    wrong = f"ballot,group,card,voter,r01,r02,r03\nP1,dangzu,{card.code},wang,{cells}\n"
    status, answer = http_raw(url, wrong.encode(), server.chair_key)
    assert status == 422 and "与参会卡" in answer["lines"][0]["error"]["msg"], answer
    right = f"ballot,group,card,r01,r02,r03\nP1,dangzu,{card.code},{cells}\n"
    status, answer = http_raw(url, right.encode(), server.chair_key)
    assert status == 200, answer
    return {"t": "receipt", "receipt": answer["lines"][0]["receipt"]}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    (tmp_path / "meeting.toml").write_text(NAMED_MEETING, "utf-8")
    started = ServerProcess(tmp_path / "meeting.toml", tmp_path / "data").start()
    try:
        yield started
    finally:
        started.stop()
        stop_embedded_redis(tmp_path / "data")


async def test_named_ballots_carry_their_voter_and_anonymous_ones_nothing_more(
    server: ServerProcess, tmp_path: Path
) -> None:
    meeting, _ = read_meeting(tmp_path / "meeting.toml")
    cards = server.cards(meeting)
    assert [c.member for c in cards if c.group == "dangzu"] == ["wang", "li", "zhao"]
    round_id = server.vote_step()
    # wang marks his own r01 差 and li her r02 好: their marks count as 分管, not as 党组成员
    marks_of = {
        "wang": {"r01": "差", "r02": "好", "r03": "较好"},
        "li": {"r01": "好", "r02": "好", "r03": "一般"},
        "zhao": {"r01": "好", "r02": "较好", "r03": "好"},
    }
    voters: dict[str, str] = {}  # receipt -> member ("" for an anonymous ballot)
    for n, card in enumerate(cards):
        marks = marks_of.get(card.member) or {
            r.id: GRADES[(n + k) % 3] for k, r in enumerate(meeting.reporters)
        }
        if card.member == "zhao":  # a member's paper ballot, in the tellers' file: by his card
            reply = paper_file(server, card, marks)
        else:
            async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
                said = phone.welcome.get("voter_name")
                assert said == (meeting.member(card.member).name if card.member else None)
                cast = {
                    "t": "cast",
                    "round": round_id,
                    "marks": marks,
                    "cid": secrets.token_hex(16),
                }
                reply = await phone.request(cast)
        assert reply["t"] == "receipt", reply
        voters[reply["receipt"]] = card.member
    assert server.chair("close", force=True)[0] == 200

    # ---- what the store keeps: the voter beside a named ballot, nothing beside the others
    client = redis.Redis(unix_socket_path=redis_settings(server.data)["unixsocket"])
    with contextlib.closing(client):
        key = f":ballots:{round_id}".encode()
        wait_until(lambda: any(k.endswith(key) for k in dump(client)), timeout=20)
        everything = dump(client)
    members = next(v for k, v in everything.items() if k.endswith(key))[1]
    for member, _ in members:
        fields = unpack(member[1:])
        receipt, group = fields[0], fields[1]
        if group == "dangzu":
            assert len(fields) == 4 and fields[3] == voters[receipt]
        else:
            assert len(fields) == 3 and voters[receipt] == ""

    # ---- the export: a voter column, filled for named ballots only
    export = tmp_path / "选票.csv"
    done = pingyi("export", tmp_path / "meeting.toml", export, "--data", server.data)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(export.read_text("utf-8-sig"))))
    column = next(name for name in rows[0] if "voter" in name or "实名" in name)
    assert sorted(r[column] for r in rows if r[column]) == ["li", "wang", "zhao"]
    assert all(r[column] == "" for r in rows if voters[r[next(iter(rows[0]))]] == "")

    # ---- the count: 分管 marks apart, with its weight; the same offline from the export
    def result() -> dict | None:
        view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)[1]
        return view["view"].get("result")

    wait_until(result, timeout=30)
    counted = result()
    assert counted is not None
    r01 = next(r for r in counted["reporters"] if r["id"] == "r01")
    assert r01["counts_by_group"][SUPERVISION_GROUP] == {"好": 0, "较好": 0, "一般": 0, "差": 1}
    assert sum(r01["counts_by_group"]["dangzu"].values()) == 2  # li and zhao, not wang
    r03 = next(r for r in counted["reporters"] if r["id"] == "r03")
    assert sum(r03["counts_by_group"]["dangzu"].values()) == 3  # nobody supervises r03
    offline = tmp_path / "result.json"
    done = pingyi("tally", tmp_path / "meeting.toml", export, "--json", offline)
    assert done.returncode == 0, done.stderr
    assert json.loads(offline.read_text("utf-8"))["reporters"] == counted["reporters"]

    # ---- the Excel table: 分管 a row of its own, its weight among the groups'
    workbook = tmp_path / "结果.xlsx"
    done = pingyi("print", "xlsx", tmp_path / "meeting.toml", "--data", server.data, "-o", workbook)
    assert done.returncode == 0, done.stderr
    rows = [list(r) for r in load_workbook(workbook)["分组票数"].iter_rows(values_only=True)]
    assert ["分管领导", None, None, 0.2] == rows[3][:4] and rows[4][3] == 1  # then 合计
    assert ["王建国", "分管领导（权重0.2）", 0, 0, 0, 1, 1, 0] in rows

    # ---- 王建国's 反馈单 says his score has the 分管 share in it, in words
    sheets = tmp_path / "反馈单.pdf"
    done = pingyi(
        "print", "feedback", tmp_path / "meeting.toml", "--data", server.data, "-o", sheets
    )
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", str(sheets), "-"], capture_output=True, text=True).stdout
    assert "· 分管领导评价：分管领导（王明）的评价单列，权重0.2" in text

    # ---- the signed tally sheet verifies against the export
    sheet = tmp_path / "汇总表.pdf"
    done = pingyi("print", "tally", tmp_path / "meeting.toml", "--data", server.data, "-o", sheet)
    assert done.returncode == 0, done.stderr
    beside = tmp_path / "汇总表-ballots.csv"
    done = pingyi("verify", sheet, "--meeting", tmp_path / "meeting.toml", "--ballots", beside)
    assert done.returncode == 0, done.stdout + done.stderr
