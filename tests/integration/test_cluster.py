"""Meetings on a real Redis Cluster (three primaries, `redis-server --cluster-enabled yes`).

Real `pingyi serve` processes reach the cluster through `REDIS_CLUSTER_URLS`; the phones are
HTTP casts that send a refused ballot again, as the phone page does. Two meetings vote at once
on different slots; a meeting's slot is moved to another primary while it votes; a primary is
killed while its meeting votes and its replica takes over. In each, every ballot that got a
receipt is counted, and none twice.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from meeting.join_cards import Card
from server.record_reader import MeetingRecord, read_record
from server.redis_cluster import ClusterConfigError, seeds, wait_setting
from server.redis_target import check_durability
from server.store import Keys, meeting_key
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting
from testkit import SMALL_MEETING, LocalCluster, ServerProcess, http_json, wait_until

pytestmark = pytest.mark.slow


def meeting_file(directory: Path, title: str) -> tuple[Path, Meeting]:
    text = SMALL_MEETING.format(
        title=title, join="cards", voting="end", leader_seats=10, cadre_seats=60
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "meeting.toml"
    path.write_text(text, encoding="utf-8")
    return path, parse_meeting_text(text)


def events_key(meeting: Meeting) -> str:
    return Keys(meeting_key(meeting)).events


def cast_until_receipted(
    server: ServerProcess,
    card: Card,
    round_id: int,
    refused: list[str] | None = None,
    within: float = 40.0,
) -> str:
    """One phone: sends its ballot until it gets a receipt (a refusal as `unavailable`, or no
    answer, is sent again with the same cid, as the phone page does; each refusal is noted in
    `refused`)."""
    ballot = {
        "token": card.token,
        "round": round_id,
        "marks": {"r01": "好"},
        "cid": f"cluster-{card.code}-xxxxxxxx",
    }
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            status, body = http_json(f"{server.base}/api/cast", ballot)
        except OSError as error:
            last = error
        else:
            if status == 200:
                return str(body["receipt"])
            last = body
            assert body["error"]["code"] == "unavailable", body
        if refused is not None:
            refused.append(card.code)
        time.sleep(0.1)
    raise AssertionError(f"no receipt for {card.code}: {last}")


async def cast_all(
    server: ServerProcess, cards: list[Card], round_id: int, refused: list[str] | None = None
) -> list[str]:
    return list(
        await asyncio.gather(
            *(
                asyncio.to_thread(cast_until_receipted, server, card, round_id, refused)
                for card in cards
            )
        )
    )


async def cast_while(
    busy: threading.Thread,
    server: ServerProcess,
    cards: list[Card],
    round_id: int,
    refused: list[str],
    receipted_at: list[float] | None = None,
) -> list[str]:
    """Two phones at a time, one pair after the other, while `busy` runs (a fault under way):
    the receipts (and when each pair got them, in `receipted_at`). Stops when the cards run
    out."""
    receipts: list[str] = []
    while busy.is_alive() and len(receipts) < len(cards):
        pair = cards[len(receipts) : len(receipts) + 2]
        receipts += await cast_all(server, pair, round_id, refused)
        if receipted_at is not None:
            receipted_at += [time.monotonic()] * len(pair)
        await asyncio.sleep(0.1)
    return receipts


def turnout(server: ServerProcess) -> int:
    """The ballots the server's projection has seen (it follows the stream)."""
    return int(http_json(f"{server.base}/api/view?role=screen")[1]["view"]["turnout"]["cast"])


def record_of(cluster: LocalCluster, meeting: Meeting, server: ServerProcess) -> MeetingRecord:
    client = cluster.client()
    try:
        return read_record(meeting, client, teller_private=server.teller.private)
    finally:
        client.close()


def close_and_count(
    cluster: LocalCluster, meeting: Meeting, server: ServerProcess, receipts: list[str]
) -> MeetingRecord:
    """Closes the round; every receipt is stored once, and the result counts every ballot."""
    status, body = server.chair("close", force=True)
    assert status == 200, body
    wait_until(lambda: record_of(cluster, meeting, server).result is not None, timeout=20)
    record = record_of(cluster, meeting, server)
    stored = [ballot.id for ballot in record.ballots]
    assert len(stored) == len(set(stored)), "a ballot is stored twice"
    assert sorted(stored) == sorted(receipts), "stored ballots and receipts differ"
    assert record.result is not None
    counts = record.result["reporters"][0]["counts"]
    assert counts["好"] == len(receipts)
    return record


def on_cluster(meeting_path: Path, data: Path, cluster: LocalCluster, **env: str) -> ServerProcess:
    return ServerProcess(meeting_path, data, env={"REDIS_CLUSTER_URLS": cluster.urls, **env})


async def test_two_meetings_vote_at_once_on_different_slots(tmp_path: Path, servers) -> None:
    with LocalCluster(tmp_path / "cluster") as cluster:
        # Two meetings whose slots lie on different primaries.
        first_path, first = meeting_file(tmp_path / "a", "集群会议甲")
        for n in range(50):
            second_path, second = meeting_file(tmp_path / "b", f"集群会议乙{n}")
            slots = [cluster.keyslot(events_key(m)) for m in (first, second)]
            if cluster.primary_of(slots[0]).port != cluster.primary_of(slots[1]).port:
                break
        assert slots[0] != slots[1]
        for meeting, slot in zip((first, second), slots, strict=True):  # every key: one slot
            keys = Keys(meeting_key(meeting))
            for key in (keys.events, keys.tokens, keys.ballots(1), keys.spent(1), keys.meta):
                assert cluster.keyslot(key) == slot
        # Meeting 甲 behind two processes (a load balancer's pair), 乙 on one.
        a1 = on_cluster(first_path, tmp_path / "a" / "data", cluster).start()
        servers.append(a1)
        a2 = on_cluster(first_path, tmp_path / "a" / "data", cluster).start()
        servers.append(a2)
        b1 = on_cluster(second_path, tmp_path / "b" / "data", cluster).start()
        servers.append(b1)
        round_a, round_b = a1.vote_step(), b1.vote_step()
        cards_a, cards_b = a1.cards(first)[:24], b1.cards(second)[:24]
        half = len(cards_a) // 2
        receipts_a1, receipts_a2, receipts_b = await asyncio.gather(
            cast_all(a1, cards_a[:half], round_a),
            cast_all(a2, cards_a[half:], round_a),
            cast_all(b1, cards_b, round_b),
        )
        close_and_count(cluster, first, a1, receipts_a1 + receipts_a2)
        close_and_count(cluster, second, b1, receipts_b)


async def test_a_slot_migration_during_a_vote_loses_and_doubles_nothing(
    tmp_path: Path, servers
) -> None:
    with LocalCluster(tmp_path / "cluster") as cluster:
        meeting_path, meeting = meeting_file(tmp_path / "m", "集群迁移会议")
        slot = cluster.keyslot(events_key(meeting))
        server = on_cluster(meeting_path, tmp_path / "m" / "data", cluster).start()
        servers.append(server)
        round_id = server.vote_step()
        cards = server.cards(meeting)[:36]
        before = await cast_all(server, cards[:12], round_id)
        source = cluster.primary_of(slot)
        target = next(n for n in cluster.live_primaries() if n.port != source.port)
        # One key at a time, a pause between: the casts below land while the slot is split.
        moving = threading.Thread(
            target=cluster.migrate_slot, args=(slot, target), kwargs={"pause": 0.2}
        )
        moving.start()
        refused: list[str] = []
        try:
            during = await cast_while(moving, server, cards[12:30], round_id, refused)
        finally:
            moving.join(60)
        assert not moving.is_alive()
        assert len(during) >= 4, "too few ballots were cast while the slot moved"
        assert cluster.primary_of(slot).port == target.port
        after = await cast_all(server, cards[12 + len(during) :], round_id)
        receipts = before + during + after
        wait_until(lambda: turnout(server) == len(receipts), timeout=10)
        close_and_count(cluster, meeting, server, receipts)
        assert http_json(f"{server.base}/healthz")[0] == 200


async def test_a_killed_primary_loses_no_receipted_ballot(tmp_path: Path, servers) -> None:
    with LocalCluster(tmp_path / "cluster", replicas=1) as cluster:
        meeting_path, meeting = meeting_file(tmp_path / "m", "集群故障切换会议")
        slot = cluster.keyslot(events_key(meeting))
        server = on_cluster(meeting_path, tmp_path / "m" / "data", cluster).start()
        servers.append(server)
        round_id = server.vote_step()
        cards = server.cards(meeting)[:36]
        before = await cast_all(server, cards[:12], round_id)
        primary = cluster.primary_of(slot)
        outcome: dict[str, Any] = {}

        def failover() -> None:
            time.sleep(0.5)  # a few pairs are receipted (and replicated) first
            outcome["kill_at"] = time.monotonic()
            outcome["killed"], outcome["promoted"] = cluster.kill_primary_of(slot)
            # The promoted replica has no replica of its own: receipts wait (WAIT 1) until
            # the old primary is back as its replica; the phones meanwhile hear `unavailable`.
            cluster.restart(outcome["killed"])

        fault = threading.Thread(target=failover)
        fault.start()
        refused: list[str] = []
        receipted_at: list[float] = []
        try:
            during = await cast_while(fault, server, cards[12:30], round_id, refused, receipted_at)
        finally:
            fault.join(90)
        just_before = [t for t in receipted_at if t < outcome["kill_at"]]
        assert len(just_before) >= 2, "no ballot was receipted in the moments before the kill"
        assert outcome["killed"].port == primary.port
        promoted = outcome["promoted"]
        assert promoted.port != primary.port
        assert refused, "no ballot was refused while the slot had no primary or no replica"
        after = await cast_all(server, cards[12 + len(during) :], round_id)
        assert http_json(f"{server.base}/healthz")[0] == 200
        receipts = before + during + after
        # The server follows the promoted primary's stream without a restart.
        wait_until(lambda: turnout(server) == len(receipts), timeout=10)
        close_and_count(cluster, meeting, server, receipts)
        assert cluster.primary_of(slot).port == promoted.port


async def test_no_receipt_before_a_replica_has_the_ballot(tmp_path: Path, servers) -> None:
    """`WAIT 1`: with the meeting's replica frozen the ballot is refused (its write stays);
    sent again once the replica is back, it gets its receipt, stored once."""
    with LocalCluster(tmp_path / "cluster", replicas=1) as cluster:
        meeting_path, meeting = meeting_file(tmp_path / "m", "集群副本确认会议")
        slot = cluster.keyslot(events_key(meeting))
        server = on_cluster(
            meeting_path, tmp_path / "m" / "data", cluster, REDIS_WAIT_TIMEOUT_MS="300"
        ).start()
        servers.append(server)
        round_id = server.vote_step()
        first, second = server.cards(meeting)[:2]
        receipts = [cast_until_receipted(server, first, round_id)]
        (replica,) = cluster.replicas_of(cluster.primary_of(slot))
        ballot = {
            "token": second.token,
            "round": round_id,
            "marks": {"r01": "好"},
            "cid": f"cluster-{second.code}-xxxxxxxx",
        }
        assert replica.process is not None
        replica.process.send_signal(signal.SIGSTOP)  # alive, but it acknowledges nothing
        try:
            status, body = http_json(f"{server.base}/api/cast", ballot)
        finally:
            replica.process.send_signal(signal.SIGCONT)
        assert status == 503 and body["error"]["code"] == "unavailable", body
        cluster.wait_ok(timeout=20)
        status, body = http_json(f"{server.base}/api/cast", ballot)
        assert status == 200, body
        assert body["again"] is True  # the refused attempt's write stayed: its receipt
        receipts.append(body["receipt"])
        close_and_count(cluster, meeting, server, receipts)


def test_durability_is_checked_on_every_node(tmp_path: Path) -> None:
    with LocalCluster(tmp_path / "cluster") as cluster:
        client = cluster.client()
        try:
            assert check_durability(client) is None
            weak = cluster.nodes[1]
            with weak.client() as node:
                node.config_set("appendfsync", "everysec")
            warning = check_durability(client)
        finally:
            client.close()
        assert warning is not None and weak.address in warning


def test_cluster_urls_are_read_or_refused() -> None:
    assert seeds(" redis://10.0.0.5:7000, 10.0.0.6:7001 ,") == [
        ("10.0.0.5", 7000),
        ("10.0.0.6", 7001),
    ]
    for bad in ("", " , ", "http://10.0.0.5:7000"):
        with pytest.raises(ClusterConfigError):
            seeds(bad)
    assert wait_setting({}) is None and wait_setting({"REDIS_WAIT_REPLICAS": "0"}) == 0
    with pytest.raises(ClusterConfigError):
        wait_setting({"REDIS_WAIT_REPLICAS": "-1"})
