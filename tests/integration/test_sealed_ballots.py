"""Nobody reads a ballot while voting runs (docs/security.md, "Sealed ballots").

A real `pingyi serve` with its embedded Redis seals each round to a 监票人 key made here. Mid-vote,
everything someone holding the machine can take (every Redis key, the append-only file, every
file of the data directory, the server's log) is searched for the marks of ballots cast with
known marks: none is there, yet the 监票人's key opens exactly those marks from the same dump.
A crash mid-vote loses nothing: after kill -9 of the server and its Redis, the round is counted
with the 监票人's key (typed into the chair console, or given at the restart), every ballot in.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis

from meeting.join_cards import Card
from server.codec import decode_entry
from server.sealing import (
    BallotOpener,
    RoundSeal,
    TellerKeys,
    is_sealed,
    key_text,
    open_round_key,
)
from server.stored_ballots import SCHEMA, encode_ballot
from testkit import Peer, ServerProcess, http_json, stop_embedded_redis, wait_until, write_meeting
from testkit.dumps import dump, redis_settings
from tests.helpers import ROOT

GRADES = ("好", "较好", "一般", "差")
TITLE = "密封选票测试会议"


@pytest.fixture
def server(tmp_path: Path, servers: list[ServerProcess]) -> Iterator[ServerProcess]:
    """Started with `--teller-public`: the test holds the private half, as the 监票人 does."""
    path, _ = write_meeting(tmp_path, title=TITLE)
    started = ServerProcess(path, tmp_path / "data").start()
    servers.append(started)
    yield started


@pytest.fixture
def teller(server: ServerProcess) -> TellerKeys:
    return server.teller


def cards(server: ServerProcess) -> list[Card]:
    _, meeting = write_meeting(server.data.parent, title=TITLE)
    return server.cards(meeting)


def marks_for(number: int) -> dict[str, str | None]:
    return {"r01": GRADES[number % 4], "r02": GRADES[(number // 4) % 4], "r03": None}


def stored_marks(number: int) -> bytes:
    """The bytes the store keeps for `marks_for(number)`: a grade's index, 0xFE for blank."""
    return bytes([number % 4, (number // 4) % 4, 0xFE])


async def cast(server: ServerProcess, card: Card, round_id: int, number: int, cid: str) -> str:
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        reply = await phone.request(
            {"t": "cast", "round": round_id, "marks": marks_for(number), "cid": cid}
        )
    assert reply["t"] == "receipt", reply
    return reply["receipt"]


def client_of(server: ServerProcess) -> redis.Redis:
    return redis.Redis(unix_socket_path=redis_settings(server.data)["unixsocket"])


def everything_taken(server: ServerProcess) -> list[bytes]:
    """Each thing someone holding the laptop can copy mid-vote, as bytes."""
    client = client_of(server)
    try:
        keys = dump(client)
    finally:
        client.close()
    taken = [repr(keys).encode(), msgpack.packb([[k, v] for k, v in keys.items()], default=repr)]
    taken += [path.read_bytes() for path in server.data.rglob("*") if path.is_file()]
    taken.append(server.log().encode())
    return taken


def seal_of(client: redis.Redis, round_id: int) -> RoundSeal:
    """The round's seal, as its `VotingOpened` event in the stream carries it."""
    stream = next(client.scan_iter("*:events"))
    for _, fields in client.xrange(stream, "-", "+"):
        _, event = decode_entry(fields)
        if type(event).__name__ == "VotingOpened" and event.round == round_id:
            return RoundSeal(event.sealing_key, event.key_for_teller, event.teller_key_id)
    raise AssertionError("no VotingOpened for the round")


def ballot_members(client: redis.Redis, round_id: int) -> list[bytes]:
    return client.zrange(next(client.scan_iter(f"*:ballots:{round_id}")), 0, -1)


def counts_of(result: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {r["id"]: r["counts"] for r in result["reporters"]}


def expected_counts(numbers: list[int]) -> dict[str, dict[str, int]]:
    counts = {reporter: dict.fromkeys(GRADES, 0) for reporter in ("r01", "r02", "r03")}
    for number in numbers:
        for reporter, mark in marks_for(number).items():
            if mark is not None:
                counts[reporter][mark] += 1
    return counts


def chair_view(server: ServerProcess) -> dict[str, Any]:
    status, body = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)
    assert status == 200, body
    return body["view"]


async def test_a_full_dump_mid_vote_reveals_no_marks(
    server: ServerProcess, teller: TellerKeys
) -> None:
    round_id = server.vote_step()
    voters = cards(server)[:24]
    receipts = {}
    for number, card in enumerate(voters):
        receipts[await cast(server, card, round_id, number, secrets.token_hex(16))] = number

    taken = everything_taken(server)
    for receipt, number in receipts.items():
        in_the_clear = encode_ballot(receipt, voters[number].group, stored_marks(number))
        packed_marks = msgpack.packb(stored_marks(number), use_bin_type=True)
        for copy in taken:
            assert in_the_clear not in copy and packed_marks not in copy, receipt
    for copy in taken:
        assert key_text("private", teller.private).encode() not in copy

    # The same dump holds every ballot, sealed: the 监票人's key opens exactly the marks cast.
    client = client_of(server)
    members = ballot_members(client, round_id)
    assert len(members) == len(receipts) and all(is_sealed(m) for m in members)
    round_private = open_round_key(round_id, seal_of(client, round_id), teller.private)
    for copy in taken:
        assert round_private not in copy and round_private.hex().encode() not in copy
    opener = BallotOpener(round_id, round_private)
    opened = {receipt: marks for receipt, _, marks in map(opener.open, members)}
    assert opened == {receipt: stored_marks(n) for receipt, n in receipts.items()}

    exported = export(server)  # nothing can read the round out before it closes either
    assert exported.returncode == 2 and "选票仍在密封中" in exported.stderr, exported.stderr

    # At close the process that opened the round opens its ballots and counts them.
    assert server.chair("close", force=True)[0] == 200
    wait_until(lambda: chair_view(server)["result"] is not None, timeout=20)
    assert counts_of(chair_view(server)["result"]) == expected_counts(list(receipts.values()))
    members = ballot_members(client, round_id)
    assert len(members) == len(receipts) and all(m[0] == SCHEMA for m in members)
    client.close()
    exported = export(server)
    assert exported.returncode == 0, exported.stderr
    assert f"已导出 {len(receipts)} 张选票" in exported.stdout


def export(server: ServerProcess) -> subprocess.CompletedProcess[str]:
    out = server.data.parent / "ballots.csv"
    command = [sys.executable, "-m", "cli", "export", str(server.meeting_path), str(out)]
    return subprocess.run(
        [*command, "--data", str(server.data)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


async def crash_mid_vote(server: ServerProcess, voters: list[Card], round_id: int) -> list[str]:
    """Casts half of `voters`, then kills the server and its Redis with SIGKILL; the cids."""
    cids = [secrets.token_hex(16) for _ in voters]
    for number, card in enumerate(voters[: len(voters) // 2]):
        await cast(server, card, round_id, number, cids[number])
    server.stop(sig=9)
    stop_embedded_redis(server.data)
    return cids


async def test_a_crash_mid_vote_is_counted_with_the_teller_key_typed_in(
    server: ServerProcess, teller: TellerKeys, servers: list[ServerProcess]
) -> None:
    round_id = server.vote_step()
    voters = cards(server)[:20]
    cids = await crash_mid_vote(server, voters, round_id)

    again = ServerProcess(server.meeting_path, server.data).start()
    servers.append(again)
    for number, card in enumerate(voters):  # the first half retries: same ballots, no double
        await cast(again, card, round_id, number, cids[number])
    assert again.chair("close", force=True)[0] == 200
    wait_until(lambda: chair_view(again)["awaiting_teller"] == [round_id], timeout=20)
    assert chair_view(again)["round"]["awaiting_teller"] is True
    status, body = again.chair("reveal")
    assert (status, body["error"]["code"]) == (409, "refused")
    assert "监票人密钥" in body["error"]["msg"]

    unseal = f"{again.base}/api/unseal"
    wrong = key_text("private", TellerKeys.generate().private)
    status, body = http_json(unseal, {"teller_key": wrong}, again.chair_key)
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        422,
        "bad_teller_key",
        "teller_key",
    )
    assert http_json(unseal, {"teller_key": wrong})[0] == 401  # the chair's key first
    async with Peer.connect(again.ws_url, role="chair", key=again.chair_key) as chair:
        written = key_text("private", teller.private)
        typo = written[:-1] + ("B" if written.endswith("A") else "A")  # one letter off, always
        for typed in (wrong, typo, "", 42):
            reply = await chair.request({"t": "unseal", "teller_key": typed})
            assert reply["t"] == "error" and reply["field"] == "teller_key", reply
            assert reply["code"] in ("bad_teller_key", "bad_field")
        reply = await chair.request(
            {"t": "unseal", "teller_key": key_text("private", teller.private).lower()}
        )
        assert (reply["t"], reply["rounds"]) == ("ok", [round_id]), reply
    view = chair_view(again)
    assert view["awaiting_teller"] == [] and view["result"] is not None
    assert counts_of(view["result"]) == expected_counts(list(range(len(voters))))
    assert view["result"]["quorum"]["cast"] == len(voters)
    assert again.chair("reveal")[0] == 200
    assert key_text("private", teller.private) not in again.log()


async def test_a_crash_mid_vote_is_counted_at_once_with_the_teller_key_given_at_restart(
    server: ServerProcess, teller: TellerKeys, servers: list[ServerProcess], tmp_path: Path
) -> None:
    round_id = server.vote_step()
    voters = cards(server)[:12]
    cids = await crash_mid_vote(server, voters, round_id)
    key_file = tmp_path / "teller.key"  # on the 监票人's own stick, not in the data directory
    key_file.write_text(key_text("private", teller.private))

    again = ServerProcess(
        server.meeting_path, server.data, extra_args=("--teller-key", str(key_file))
    ).start()
    servers.append(again)
    for number, card in enumerate(voters[len(voters) // 2 :], start=len(voters) // 2):
        await cast(again, card, round_id, number, cids[number])
    assert again.chair("close", force=True)[0] == 200
    wait_until(lambda: chair_view(again)["result"] is not None, timeout=20)
    assert chair_view(again)["awaiting_teller"] == []
    assert counts_of(chair_view(again)["result"]) == expected_counts(list(range(len(voters))))


async def test_a_round_closed_on_another_process_is_counted_by_the_one_that_opened_it(
    tmp_path: Path, servers: list[ServerProcess], redis_server: Any
) -> None:
    path, meeting = write_meeting(tmp_path, title=TITLE)
    data = tmp_path / "data"
    first = ServerProcess(path, data, redis_url=redis_server.url).start()
    servers.append(first)
    second = ServerProcess(path, data, redis_url=redis_server.url).start()
    servers.append(second)
    round_id = first.vote_step()  # opened by the first process: only it holds the round's key
    voters = first.cards(meeting)[:10]
    for number, card in enumerate(voters):
        await cast(first if number % 2 else second, card, round_id, number, secrets.token_hex(16))
    assert second.chair("close", force=True)[0] == 200
    wait_until(lambda: chair_view(second)["result"] is not None, timeout=20)
    assert chair_view(second)["awaiting_teller"] == []
    assert counts_of(chair_view(second)["result"]) == expected_counts(list(range(len(voters))))
