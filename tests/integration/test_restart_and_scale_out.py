"""Crashes and more than one process: Redis is the one source of truth, the state a replay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path

from testkit import Peer, ServerProcess, http_json, stop_embedded_redis, write_meeting


def cast(card, round_id: int) -> dict:  # type: ignore[no-untyped-def]
    return {
        "t": "cast",
        "id": f"cast-{card.code}",
        "round": round_id,
        "marks": {"r01": "好", "r03": "差"},
        "cid": f"burst-{card.code}-xxxxxxxx",
    }


async def receipt_of(phone: Peer, card) -> str | None:  # type: ignore[no-untyped-def]
    """The receipt answering this card's cast, if one arrives (None once the connection is gone)."""
    with contextlib.suppress(Exception):
        reply = await phone.expect("receipt", timeout=10, id=f"cast-{card.code}")
        return reply["receipt"]
    return None


async def cast_burst(server: ServerProcess, cards, round_id: int, first: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Every card on its own WebSocket. The first `first` cast and are receipted; then the rest
    cast at once, and the server is killed as soon as their casts are on the wire. The receipts
    that came back (including any the server sent before it died)."""
    async with contextlib.AsyncExitStack() as stack:
        phones = [
            await stack.enter_async_context(
                Peer.connect(server.ws_url, role="phone", token=card.token)
            )
            for card in cards
        ]
        pairs = list(zip(phones, cards, strict=True))
        for phone, card in pairs[:first]:
            await phone.send(cast(card, round_id))
        answered = [await receipt_of(phone, card) for phone, card in pairs[:first]]
        assert all(answered), "the server did not receipt the first casts"
        burst = pairs[first:]
        await asyncio.gather(*(phone.send(cast(card, round_id)) for phone, card in burst))
        os.kill(server.process.pid, signal.SIGKILL)  # the burst is in flight
        server.process.wait(10)
        late = await asyncio.gather(*(receipt_of(phone, card) for phone, card in burst))
        assert None in late, "every cast was receipted before the kill: it did not land mid-burst"
        return [r for r in [*answered, *late] if r]


async def test_kill_9_mid_burst_loses_no_receipt_and_counts_none_twice(
    tmp_path: Path, servers
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="宕机重启测试")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    early = []
    for card in cards[:5]:  # five phones that voted before the crash, and know it
        status, body = http_json(
            f"{server.base}/api/cast",
            {
                "token": card.token,
                "round": round_id,
                "marks": {"r01": "较好"},
                "cid": f"early-{card.code}-xxxxxx",
            },
        )
        assert status == 200
        early.append(body["receipt"])
    burst = await cast_burst(server, cards[5:], round_id, first=5)

    server.start()  # the same data directory: attaches to the embedded Redis (or replays its AOF)
    seen = early + burst
    record = server.record(meeting)
    stored = [b.id for b in record.ballots]
    assert len(stored) == len(set(stored))  # none twice
    assert set(seen) <= set(stored)  # every receipt a phone saw is counted
    _, view = http_json(f"{server.base}/api/view?role=screen")
    assert view["view"]["turnout"]["cast"] == len(stored)  # the replayed projection agrees
    async with Peer.connect(server.ws_url, role="phone", token=cards[0].token) as phone:
        assert phone.welcome["voted"] == [round_id]  # still shows that it voted
        assert phone.welcome["view"]["round"]["status"] == "open"


async def test_kill_9_of_the_embedded_redis_loses_no_receipt(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="Redis宕机测试")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)[:8]
    round_id = server.vote_step()
    receipts = []
    for card in cards:
        status, body = http_json(
            f"{server.base}/api/cast",
            {
                "token": card.token,
                "round": round_id,
                "marks": {"r02": "一般"},
                "cid": f"aof-{card.code}-xxxxxxx",
            },
        )
        assert status == 200
        receipts.append(body["receipt"])
    settings = json.loads((server.data / "redis" / "pingyi.db.settings").read_text())
    redis_pid = int(Path(settings["pidfile"]).read_text())
    os.kill(redis_pid, signal.SIGKILL)  # power cut for Redis: only its AOF remains
    server.stop(signal.SIGKILL)
    stop_embedded_redis(server.data)
    server.start()
    assert sorted(b.id for b in server.record(meeting).ballots) == sorted(receipts)


async def test_two_processes_on_one_redis_share_one_meeting(
    tmp_path: Path, servers, redis_server
) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="双进程测试")
    data = tmp_path / "data"  # shared, as behind a load balancer on one host
    first = ServerProcess(meeting_path, data, redis_url=redis_server.url).start()
    servers.append(first)
    second = ServerProcess(meeting_path, data, redis_url=redis_server.url).start()
    servers.append(second)
    card = first.cards(meeting)[0]
    async with (
        Peer.connect(first.ws_url, role="chair", key=first.chair_key) as chair,
        Peer.connect(second.ws_url, role="phone", token=card.token) as phone,
        Peer.connect(first.ws_url, role="screen") as screen,
    ):
        await chair.request({"t": "chair", "action": "start"})
        view = await phone.view_where(lambda v: v["phase"] == "report")  # on the other process
        assert view["reporter"] == "r01"
        for _ in range(4):
            await chair.request({"t": "chair", "action": "next"})
        await chair.request({"t": "chair", "action": "open"})
        view = await phone.view_where(lambda v: v["round"] and v["round"]["status"] == "open")
        reply = await phone.request(
            {
                "t": "cast",
                "round": view["round"]["id"],
                "marks": {"r01": "好"},
                "cid": "two-processes-ballot",
            }
        )
        assert reply["t"] == "receipt"
        await screen.view_where(lambda v: v["turnout"]["cast"] == 1)
        # A stale `expect` from a console that missed an update is refused, not applied twice.
        stale = await chair.request({"t": "chair", "action": "close", "expect": 0, "force": True})
        assert stale["code"] == "conflict"
        status, body = second.chair("close", force=True)  # closing through the other process
        assert status == 200
        view = await chair.view_where(lambda v: v["result"] is not None)
        assert view["result"]["reporters"][0]["counts"]["好"] == 1
