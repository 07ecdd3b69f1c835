"""What an operator holding Redis, its data directory and the server's log can learn after a
meeting: no ballot links to a token, a card code, a connection or a time finer than the round,
and the stored order of ballots (and of the spent tokens) has nothing to do with the cast order.

40 phones vote one after another, in a known shuffled order, with known marks; then everything
Redis holds (SCAN, TYPE, contents), its append-only file and the log are searched."""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis

from meeting.ballot_checks import receipt_score
from meeting.join_cards import card_hash_key, token_hash
from server.codec import unpack
from server.datadir import DataDir
from server.stored_ballots import SCHEMA
from testkit import Peer, ServerProcess, wait_until, write_meeting
from testkit.dumps import dump, redis_settings, resp_commands

GRADES = ("好", "较好", "一般", "差")


def kendall_tau(order: list[int]) -> float:
    """Kendall's tau between positions 0..n-1 and `order` (1: same order, -1: reversed)."""
    n = len(order)
    concordant = sum(1 if order[i] < order[j] else -1 for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def stored_hash(server: ServerProcess, token: str) -> str:
    """The token's hash as the store keeps it: keyed with the meeting's secret."""
    return token_hash(token, card_hash_key(DataDir(server.data).card_secret()))


def spend_next_to_ballot(commands: list[list[bytes]]) -> int:
    """How many ballot writes sit right next to the spending of a token."""
    pairs, last_spend = 0, -10
    for index, command in enumerate(commands):
        name = command[0].upper()
        if name == b"HSET" and b":spent:" in command[1]:
            last_spend = index
        elif name == b"ZADD" and b":ballots:" in command[1] and index - last_spend <= 2:
            pairs += 1
    return pairs


@pytest.fixture
def server(tmp_path: Path, servers: list[ServerProcess]) -> Iterator[ServerProcess]:
    path, _ = write_meeting(tmp_path, title="匿名性测试会议")
    started = ServerProcess(path, tmp_path / "data").start()
    servers.append(started)
    yield started
    started.stop()
    with contextlib.suppress(OSError, ValueError, KeyError, StopIteration):
        pid = Path(redis_settings(started.data)["pidfile"]).read_text().strip()
        os.kill(int(pid), signal.SIGKILL)  # an embedded Redis left behind


async def test_a_full_dump_after_the_meeting_links_no_ballot_to_anyone(
    server: ServerProcess,
) -> None:
    _, meeting = write_meeting(server.data.parent, title="匿名性测试会议")
    cards = server.cards(meeting)
    order = list(range(len(cards)))
    random.Random(20261228).shuffle(order)  # the known order in which the cards vote
    round_id = server.vote_step()

    cast: list[dict[str, Any]] = []  # in cast order: card, cid, marks, receipt
    for position, card_number in enumerate(order):
        card = cards[card_number]
        marks = {"r01": GRADES[position % 4], "r02": GRADES[(position // 4) % 4], "r03": None}
        cid = secrets.token_hex(16)  # what a phone sends: 128 random bits
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": marks, "cid": cid}
            )
        assert reply["t"] == "receipt"
        cast.append({"card": card, "cid": cid, "marks": marks, "receipt": reply["receipt"]})

    redis_dir = server.data / "redis"
    aof_path = redis_dir / "appendonly.aof"
    during = aof_path.read_bytes()
    # During voting the AOF is a log of writes in order: each ballot sits next to its spend.
    # That is what an operator copying the data directory *during* voting can see (see
    # docs/security.md); the close below must take it away.
    assert spend_next_to_ballot(resp_commands(during)) == len(cast)
    inode_during = aof_path.stat().st_ino

    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: aof_path.read_bytes().startswith(b"REDIS"), timeout=20)
    settings = redis_settings(server.data)
    client = redis.Redis(unix_socket_path=settings["unixsocket"])
    wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=20)

    # ---- the data directory after close ------------------------------------------------
    after = aof_path.read_bytes()
    assert after.startswith(b"REDIS")  # the rewritten file starts with the RDB preamble
    assert aof_path.stat().st_ino != inode_during  # the old file was replaced, not appended to
    leftovers = {p.name for p in redis_dir.iterdir()} - {"appendonly.aof", "pingyi.db.settings"}
    assert not leftovers, leftovers  # no temp-rewriteaof-*.aof, no RDB snapshot
    assert spend_next_to_ballot(resp_commands(after)) == 0
    assert not any(c[0].upper() in (b"HSET", b"ZADD") for c in resp_commands(after))

    # ---- every key Redis holds ---------------------------------------------------------
    everything = dump(client)
    blob = repr(everything).encode() + b"".join(repr(v).encode() for v in everything.values())
    raw = msgpack.packb([[k, v] for k, v in everything.items()], default=repr)
    for ballot in cast:
        card = ballot["card"]
        plain = token_hash(card.token)  # what anyone who has seen the card can compute
        for secret in (card.token, card.code, card.code.replace("-", ""), ballot["cid"], plain):
            assert secret.encode() not in blob and secret.encode() not in raw, secret

    ballots_key = next(k for k in everything if k.endswith(f":ballots:{round_id}".encode()))
    kind, members = everything[ballots_key]
    assert kind == "zset" and len(members) == len(cast)
    stored_receipts = []
    for member, score in members:
        assert member[0] == SCHEMA  # the schema byte, then exactly these three:
        receipt, group, marks = unpack(member[1:])  # no time, no token, no cid
        assert score == receipt_score(receipt)  # the order is the receipts' random order
        assert group in ("leaders", "cadres") and len(marks) == 3  # a byte per reporter
        stored_receipts.append(receipt)
    for key, (_, content) in everything.items():  # a receipt appears in the ballot and nowhere else
        if key != ballots_key:
            for ballot in cast:
                assert ballot["receipt"].encode() not in repr(content).encode(), key

    events_key = next(k for k in everything if k.endswith(b":events"))
    for _, fields in everything[events_key][1]:
        if fields[b"t"] == b"BallotCast":
            # counts only (and whether on paper), never marks
            assert set(unpack(fields[b"p"])) == {"round", "group", "paper"}

    # The spent tokens: the hashes of the cards that voted, each with its ballot's keyed
    # fingerprint and receipt attempt (never the receipt), in an order that is not the cast order.
    spent_key = next(k for k in everything if k.endswith(f":spent:{round_id}".encode()))
    spent = everything[spent_key][1]
    assert {f.decode() for f, _ in spent} == {stored_hash(server, b["card"].token) for b in cast}
    assert all(re.fullmatch(rb"[0-9a-f]{48}:0", v) for _, v in spent), spent
    fingerprints = {v.split(b":")[0] for _, v in spent}
    assert len(fingerprints) == len(cast)
    for receipt in stored_receipts:
        code = receipt.replace("-", "").encode()
        assert not any(code in f.upper() for f in fingerprints)
    cast_position = {stored_hash(server, b["card"].token): n for n, b in enumerate(cast)}
    spent_order = [cast_position[f.decode()] for f, _ in spent]
    assert abs(kendall_tau(spent_order)) < 0.5, spent_order
    # No other per-round key: nothing else (no live counters) keeps marks in their arrival order.
    per_round = {k.rsplit(b":", 2)[-2] for k in everything if k.endswith(f":{round_id}".encode())}
    assert per_round == {b"ballots", b"spent"}, per_round

    # Ballots are stored in an order unrelated to the order they were cast in.
    by_receipt = {b["receipt"]: n for n, b in enumerate(cast)}
    stored_order = [by_receipt[r] for r in stored_receipts]
    assert sorted(stored_order) == list(range(len(cast)))  # a permutation of the casts
    assert stored_order not in (sorted(stored_order), sorted(stored_order, reverse=True))
    assert abs(kendall_tau(stored_order)) < 0.5, stored_order
    client.close()

    # ---- the server's log --------------------------------------------------------------
    time.sleep(0.2)
    log = server.log()
    for ballot in cast:
        card = ballot["card"]
        for secret in (card.token, card.code, ballot["cid"], ballot["receipt"]):
            assert secret not in log
        assert stored_hash(server, card.token) not in log
    for _, value in spent:
        assert value.decode().split(":")[0] not in log


async def test_an_external_redis_is_rewritten_at_close_too(
    tmp_path: Path, servers: list[ServerProcess], redis_server: Any
) -> None:
    path, meeting = write_meeting(tmp_path, title="外部Redis匿名会议")
    server = ServerProcess(path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    for number, card in enumerate(cards[:12]):
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            marks = {"r01": GRADES[number % 4], "r03": GRADES[(number + 1) % 4]}
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": marks, "cid": secrets.token_hex(16)}
            )
            assert reply["t"] == "receipt"
    aof_path = redis_server.directory / "appendonly.aof"
    assert spend_next_to_ballot(resp_commands(aof_path.read_bytes())) == 12
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: aof_path.read_bytes().startswith(b"REDIS"), timeout=20)
    client = redis.Redis.from_url(redis_server.url)
    wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=20)
    assert spend_next_to_ballot(resp_commands(aof_path.read_bytes())) == 0
    assert not list(redis_server.directory.glob("temp-*"))
    spent_key = next(client.scan_iter(f"*:spent:{round_id}"))
    fields = list(client.hgetall(spent_key))
    assert fields == sorted(fields) and len(fields) == 12
    client.close()


async def test_a_restart_after_a_crash_at_close_still_forgets_the_order(
    tmp_path: Path, servers: list[ServerProcess], redis_server: Any
) -> None:
    """A server killed between closing a round and rewriting the log leaves the cast order in
    Redis; the next start finishes the job."""
    path, meeting = write_meeting(tmp_path, title="重启遗忘顺序会议")
    server = ServerProcess(path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    cards = server.cards(meeting)[:10]
    round_id = server.vote_step()
    for number, card in enumerate(cards):
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            marks = {"r01": GRADES[number % 4]}
            cid = secrets.token_hex(16)
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": marks, "cid": cid}
            )
            assert reply["t"] == "receipt"
    assert server.chair("close", force=True)[0] == 200
    client = redis.Redis.from_url(redis_server.url)
    spent_key = next(client.scan_iter(f"*:spent:{round_id}"))
    wait_until(lambda: list(client.hgetall(spent_key)) == sorted(client.hgetall(spent_key)))
    wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0)
    server.stop()
    # What the store looked like before the close-time work: the cards in the order they voted.
    in_cast_order = [stored_hash(server, card.token).encode() for card in cards]
    spent = client.hgetall(spent_key)
    client.delete(spent_key)
    for field in in_cast_order:
        client.hset(spent_key, field, spent[field])
    assert list(client.hgetall(spent_key)) == in_cast_order
    aof_path = redis_server.directory / "appendonly.aof"
    assert any(c[0] == b"HSET" for c in resp_commands(aof_path.read_bytes()))

    again = ServerProcess(path, server.data, redis_url=redis_server.url).start()
    servers.append(again)
    wait_until(lambda: list(client.hgetall(spent_key)) == sorted(in_cast_order))
    wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0)
    wait_until(lambda: not any(c[0] == b"HSET" for c in resp_commands(aof_path.read_bytes())))
    client.close()
