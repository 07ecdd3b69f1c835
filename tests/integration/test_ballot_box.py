"""Casting against a real server and Redis: one ballot per card per round, whatever the race."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from testkit import Peer, ServerProcess, http_json, write_meeting


async def test_the_same_card_on_twenty_connections_at_once_casts_one_ballot(
    tmp_path: Path, servers
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="并发重复投票测试")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    async with contextlib.AsyncExitStack() as stack:
        phones = [
            await stack.enter_async_context(
                Peer.connect(server.ws_url, role="phone", token=card.token)
            )
            for _ in range(20)
        ]
        casts = [
            phone.request(
                {
                    "t": "cast",
                    "round": round_id,
                    "marks": {"r01": "好"},
                    "cid": f"phone-{n:02d}-" + "c" * 20,
                }
            )
            for n, phone in enumerate(phones)
        ]
        replies = await asyncio.gather(*casts)
    accepted = [r for r in replies if r["t"] == "receipt"]
    refused = [r for r in replies if r["t"] == "error"]
    assert len(accepted) == 1 and len(refused) == 19
    assert {r["code"] for r in refused} == {"already_voted"}
    assert all("已投票" in r["msg"] for r in refused)
    record = server.record(meeting)
    assert [b.id for b in record.ballots] == [accepted[0]["receipt"]]


async def test_http_fallback_and_paper_ballot_entry(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="纸质票录入测试")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    first, second, third = server.cards(meeting)[:3]
    round_id = server.vote_step()

    status, body = http_json(
        f"{server.base}/api/cast",
        {
            "token": first.token,
            "round": round_id,
            "marks": {"r01": "较好"},
            "cid": "http-ballot-" + "h" * 20,
        },
    )
    assert status == 200 and body["again"] is False
    status, body = http_json(
        f"{server.base}/api/cast",
        {"token": "x" * 22, "round": round_id, "marks": {}, "cid": "y" * 20},
    )
    assert status == 403 and body["error"]["code"] == "bad_token"

    paper = {
        "code": second.code.lower().replace("-", " "),
        "round": round_id,
        "marks": {"r01": "好", "r02": "废", "r03": "差"},
    }
    status, body = http_json(f"{server.base}/api/paper", paper, key=server.chair_key)
    assert status == 200 and body["receipt"], body
    status, body = http_json(f"{server.base}/api/paper", paper, key=server.chair_key)
    assert status == 409 and body["error"]["code"] == "already_voted"
    status, body = http_json(
        f"{server.base}/api/paper", {**paper, "code": "ZZZZ-ZZZZ"}, key=server.chair_key
    )
    assert status == 404 and body["error"]["code"] == "bad_code"
    status, body = http_json(f"{server.base}/api/paper", paper, key="wrong-key")
    assert status == 401 and body["error"]["code"] == "bad_key"

    # The card used on paper cannot vote from its phone any more; a fresh card still can.
    async with Peer.connect(server.ws_url, role="phone", token=second.token) as phone:
        assert phone.welcome["voted"] == [round_id]
        reply = await phone.request({"t": "cast", "round": round_id, "marks": {}, "cid": "p" * 32})
        assert reply["code"] == "already_voted"
    async with Peer.connect(server.ws_url, role="phone", token=third.token) as phone:
        assert phone.welcome["voted"] == []

    record = server.record(meeting)
    assert sorted(b.marks["r02"] for b in record.ballots) == ["", "废"]


async def test_voting_after_each_report_gives_a_cumulative_result(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="一述一评一测", voting="each")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)[:4]
    async with Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair:
        for action in ("start", "next", "next"):
            assert (await chair.request({"t": "chair", "action": action}))["t"] == "ok"
        for round_reporters in (["r01"], ["r02"], ["r03"]):
            view = await chair.view_where(lambda v: v["phase"] == "vote")
            assert view["round"]["reporters"] == round_reporters
            await chair.request({"t": "chair", "action": "open"})
            for n, card in enumerate(cards):
                status, _ = http_json(
                    f"{server.base}/api/cast",
                    {
                        "token": card.token,
                        "round": view["round"]["id"],
                        "marks": {round_reporters[0]: "好" if n else "一般"},
                        "cid": f"{card.code}-{view['round']['id']}-xxxxxx",
                    },
                )
                assert status == 200
            await chair.request({"t": "chair", "action": "close", "force": True})
            view = await chair.view_where(
                lambda v: v["result"] is not None and v["round"]["status"] == "closed"
            )
            assert [r["id"] for r in view["result"]["reporters"]] == ["r01", "r02", "r03"][
                : len(view["result"]["reporters"])
            ]
            await chair.request({"t": "chair", "action": "reveal"})
            reply = await chair.request({"t": "chair", "action": "next"})
            assert reply["t"] == "ok"
            if round_reporters == ["r02"]:
                for _ in ("report", "comment"):
                    await chair.request({"t": "chair", "action": "next"})
        view = await chair.view_where(lambda v: v["state"] == "finished")
        assert [r["id"] for r in view["result"]["reporters"]] == ["r01", "r02", "r03"]
        assert view["result"]["reporters"][2]["final_grade"] == "差"  # 问责
    record = server.record(meeting)
    assert len(record.ballots) == 12 and all(len(b.marks) == 1 for b in record.ballots)


async def test_open_join_binds_fresh_tokens_up_to_the_seats(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(
        tmp_path, title="扫码入场测试", join="open", leader_seats=2
    )
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    room = http_json(f"{server.base}/api/room", key=server.chair_key)[1]["room"]  # 入场码
    tokens = []
    for _ in range(2):
        status, body = http_json(f"{server.base}/api/join", {"group": "leaders", "room": room})
        assert status == 200 and body["url"].endswith(body["token"])
        tokens.append(body["token"])
    status, body = http_json(f"{server.base}/api/join", {"group": "leaders", "room": room})
    assert (
        status == 409
        and body["error"]["code"] == "group_full"
        and "名额已满" in body["error"]["msg"]
    )
    status, body = http_json(f"{server.base}/api/join", {"group": "nobody", "room": room})
    assert status == 422 and body["error"]["code"] == "bad_group"
    async with Peer.connect(server.ws_url, role="phone", token=tokens[0]) as phone:
        assert phone.welcome["group"] == "leaders"
    async with Peer.connect(server.ws_url, role="screen") as screen:
        assert screen.welcome["view"]["join_url"].endswith("/join")
    with __import__("urllib.request").request.urlopen(f"{server.base}/api/join-qr.svg") as response:
        assert response.read().startswith(b"<?xml")


async def test_a_ballot_is_accepted_while_the_meeting_is_paused(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="暂停时投票")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    assert server.chair("pause")[0] == 200
    assert server.chair("next")[0] == 409  # the agenda does not move while paused
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        cast = {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": "p" * 20}
        assert (await phone.request(cast))["t"] == "receipt"
    assert server.chair("resume")[0] == 200 and server.chair("close", force=True)[0] == 200
    assert len(server.record(meeting).ballots) == 1
