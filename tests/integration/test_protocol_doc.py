"""A whole meeting driven only through what docs/protocol.md describes, against a real server
and a real Redis on 127.0.0.1, with the `websockets` client library."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

from server.errors import ERRORS
from server.http_api import routes
from server.messages import MESSAGE_TYPES
from testkit import Peer, ServerProcess, http_json, write_meeting
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")


def test_every_message_type_endpoint_and_error_code_is_documented() -> None:
    for kind in MESSAGE_TYPES:
        assert f"`{kind}`" in DOC, kind
    for kind in ("welcome", "view", "receipt", "ok", "error", "pong", "status"):
        assert f"`{kind}`" in DOC, kind
    for route in routes():
        assert f"`{route.path}" in DOC, route.path
    documented = {
        code: {int(n) for n in statuses.split(",")}
        for code, statuses in re.findall(r"^\| `(\w+)` \| ([\d, ]+) \|", DOC, re.M)
    }
    in_code: dict[str, set[int]] = {}
    for code, status in ERRORS.values():
        in_code.setdefault(code, set()).add(status)
    assert documented == in_code


async def test_whole_meeting_through_the_documented_protocol(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="协议文档测试会议")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    leaders = [c for c in cards if c.group == "leaders"][:2]
    cadres = [c for c in cards if c.group == "cadres"][:3]

    async with contextlib.AsyncExitStack() as stack:
        screen = await stack.enter_async_context(Peer.connect(server.ws_url, role="screen"))
        chair = await stack.enter_async_context(
            Peer.connect(server.ws_url, role="chair", key=server.chair_key)
        )
        assert screen.welcome["view"]["state"] == "not_started"
        assert chair.welcome["view"]["actions"][0] == "start"
        phones = [
            await stack.enter_async_context(
                Peer.connect(server.ws_url, role="phone", token=card.token)
            )
            for card in leaders + cadres
        ]
        assert phones[0].welcome["group"] == "leaders"
        assert phones[0].welcome["group_name"] == "县级领导"
        assert phones[0].welcome["voted"] == []

        # 一述一评: r01 reports, the chair comments; r02 is written; r03 reports and is commented.
        assert (await chair.request({"t": "chair", "action": "start"}))["t"] == "ok"
        view = await phones[0].view_where(lambda v: v["phase"] == "report")
        assert view["reporter"] == "r01" and view["timer"]["started_at"] > 0
        await chair.request({"t": "chair", "action": "next"})
        await phones[0].view_where(lambda v: v["phase"] == "comment" and v["reporter"] == "r01")
        reply = await chair.request(
            {"t": "chair", "action": "comment", "text": "工作扎实，亮点突出。"}
        )
        assert reply["t"] == "ok"
        await chair.request({"t": "chair", "action": "next"})
        view = await screen.view_where(lambda v: v["reporter"] == "r03")
        assert {r["id"]: r["status"] for r in view["reporters"]} == {
            "r01": "done",
            "r02": "pending",
            "r03": "current",
        }
        refused = await chair.request({"t": "chair", "action": "open"})
        assert refused["t"] == "error" and refused["code"] == "refused"
        await chair.request({"t": "chair", "action": "next"})
        await chair.request({"t": "chair", "action": "next"})
        view = await phones[1].view_where(lambda v: v["phase"] == "vote")
        assert view["round"]["status"] == "ready"
        round_id = view["round"]["id"]

        early = await phones[0].request(
            {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": "c" * 32}
        )
        assert early["code"] == "not_open"
        await chair.request({"t": "chair", "action": "open"})
        for phone in phones:
            view = await phone.view_where(lambda v: v["round"] and v["round"]["status"] == "open")
            assert view["round"]["reporters"] == ["r01", "r02", "r03"]

        marks = [
            {"r01": "好", "r02": "较好", "r03": "一般"},
            {"r01": "好", "r02": None, "r03": "差"},  # a blank for r02
            {"r01": "较好", "r02": "较好", "r03": "差"},
            {"r01": "好", "r02": "一般", "r03": "差"},
            {"r01": "一般", "r02": "好", "r03": "较好"},
        ]
        receipts = []
        for number, (phone, ballot) in enumerate(zip(phones, marks, strict=True)):
            reply = await phone.request(
                {
                    "t": "cast",
                    "round": round_id,
                    "marks": ballot,
                    "cid": f"ballot-{number:02d}-" + "x" * 20,
                }
            )
            assert reply["t"] == "receipt" and reply["again"] is False, reply
            assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", reply["receipt"])
            receipts.append(reply["receipt"])
        again = await phones[0].request(
            {"t": "cast", "round": round_id, "marks": marks[0], "cid": "ballot-00-" + "x" * 20}
        )
        assert again["t"] == "receipt" and again["again"] and again["receipt"] == receipts[0]
        twice = await phones[0].request(
            {"t": "cast", "round": round_id, "marks": marks[1], "cid": "another-ballot-" + "y" * 20}
        )
        assert twice["code"] == "already_voted" and "已投票" in twice["msg"]
        bad = await phones[1].request(
            {"t": "cast", "round": round_id, "marks": {"r09": "好"}, "cid": "z" * 32}
        )
        assert bad["code"] == "bad_reporter"

        view = await screen.view_where(lambda v: v["turnout"]["cast"] == 5)
        assert {g["id"]: g["cast"] for g in view["turnout"]["groups"]} == {
            "leaders": 2,
            "cadres": 3,
        }
        assert view["result"] is None
        chair_view = await chair.view_where(lambda v: v["turnout"]["cast"] == 5)
        assert chair_view["result"] is None and chair_view["round"]["sealed"]  # no count yet

        await chair.request({"t": "chair", "action": "close", "force": True})
        chair_view = await chair.view_where(lambda v: v["result"] is not None)
        assert chair_view["round"]["status"] == "closed"
        counted = {r["id"]: r["counts"] for r in chair_view["result"]["reporters"]}
        assert counted["r03"]["差"] == 3
        late = await phones[2].request(
            {
                "t": "cast",
                "round": round_id,
                "marks": {"r01": "好"},
                "cid": "late-ballot-" + "q" * 20,
            }
        )
        assert late["code"] in ("already_voted", "not_open")
        status, body = http_json(f"{server.base}/api/view?role=screen")
        assert status == 200 and body["view"]["result"] is None  # not before reveal

        await chair.request({"t": "chair", "action": "reveal"})
        screen_view = await screen.view_where(lambda v: v["result"] is not None)
        phone_view = await phones[4].view_where(lambda v: v["results"] is not None)
        finals = {r["id"]: r["final_grade"] for r in screen_view["result"]["reporters"]}
        assert finals["r03"] == "差"  # the 问责 override
        assert {r["id"]: r["final_grade"] for r in phone_view["results"]} == finals
        assert (await phones[0].request({"t": "ping"}))["t"] == "pong"

    # The exported ballots, tallied offline, give exactly the server's result.
    csv_path, json_path, result_path = (
        tmp_path / "ballots.csv",
        tmp_path / "tally.json",
        tmp_path / "server.json",
    )
    cli = [sys.executable, "-m", "cli"]
    subprocess.run(
        [
            *cli,
            "export",
            str(meeting_path),
            str(csv_path),
            "--data",
            str(server.data),
            "--json",
            str(result_path),
        ],
        check=True,
        cwd=ROOT,
    )
    subprocess.run(
        [*cli, "tally", str(meeting_path), str(csv_path), "--json", str(json_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    offline = json.loads(json_path.read_text())
    online = json.loads(result_path.read_text())
    assert offline == online
    assert sorted(line.split(",")[0] for line in csv_path.read_text().splitlines()[1:]) == sorted(
        receipts
    )
