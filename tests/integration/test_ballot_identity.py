"""A ballot's identity cannot be chosen or collided by a client (issue: one voter broke a whole
meeting by reusing a `cid`). Every case casts through the documented protocol on a real server
and Redis, then checks what is stored, the tally, and that the server still starts."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import redis

from meeting.ballot_checks import receipt_for, receipt_score
from meeting.join_cards import card_hash_key, token_hash
from server.datadir import DataDir
from server.store import Keys, meeting_key
from testkit import Peer, ServerProcess, http_json, write_meeting

CID = "the-same-cid-for-everyone"  # any client may send any cid


async def cast(server: ServerProcess, token: str, round_id: int, marks: dict, cid: str) -> Any:
    async with Peer.connect(server.ws_url, role="phone", token=token) as phone:
        return await phone.request({"t": "cast", "round": round_id, "marks": marks, "cid": cid})


def next_vote(server: ServerProcess) -> int:
    """Closes the open round, reveals it and walks to the next vote step, which it opens."""
    assert server.chair("close", force=True)[0] == 200
    assert server.chair("reveal")[0] == 200
    for _ in range(20):
        assert server.chair("next")[0] == 200
        view = http_json(f"{server.base}/api/view?role=screen")[1]["view"]
        if view["phase"] == "vote":
            break
    assert server.chair("open")[0] == 200
    return view["round"]["id"]


def restart(server: ServerProcess) -> None:
    server.stop()
    server.start()  # raises if the stored record can no longer be served


async def test_one_card_reusing_its_cid_in_the_next_round(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="每轮同一选票编号", voting="each")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    card = server.cards(meeting)[0]
    first_round = server.vote_step()
    first = await cast(server, card.token, first_round, {"r01": "好"}, CID)
    second_round = next_vote(server)
    second = await cast(server, card.token, second_round, {"r02": "差"}, CID)
    assert (first["t"], second["t"]) == ("receipt", "receipt")
    assert first["receipt"] != second["receipt"]
    assert server.chair("close", force=True)[0] == 200  # the cumulative tally of both rounds
    status, view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)
    grades = {r["id"]: r["final_grade"] for r in view["view"]["result"]["reporters"]}
    assert status == 200 and grades["r01"] == "好" and grades["r02"] == "差"
    assert server.chair("reveal")[0] == 200
    restart(server)
    record = server.record(meeting)
    assert sorted(b.id for b in record.ballots) == sorted([first["receipt"], second["receipt"]])


async def test_cards_of_two_groups_sending_the_same_cid(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="两组同一选票编号")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    leader = next(c for c in cards if c.group == "leaders")
    cadre = next(c for c in cards if c.group == "cadres")
    round_id = server.vote_step()
    replies = [
        await cast(server, leader.token, round_id, {"r01": "好", "r03": "较好"}, CID),
        await cast(server, cadre.token, round_id, {"r01": "一般", "r03": "差"}, CID),
    ]
    assert [r["t"] for r in replies] == ["receipt", "receipt"]
    assert replies[0]["receipt"] != replies[1]["receipt"]
    assert server.chair("close", force=True)[0] == 200 and server.chair("reveal")[0] == 200
    restart(server)
    record = server.record(meeting)
    assert sorted(b.id for b in record.ballots) == sorted(r["receipt"] for r in replies)
    assert record.result is not None
    assert [g["cast"] for g in record.result["groups"]] == [1, 1]


async def test_two_cards_of_one_group_with_the_same_marks_and_cid(tmp_path: Path, servers) -> None:
    meeting_path, meeting = write_meeting(tmp_path, title="同组同票同编号")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    first, second = [c for c in server.cards(meeting) if c.group == "cadres"][:2]
    round_id = server.vote_step()
    marks = {"r01": "好", "r03": "好"}
    replies = [await cast(server, card.token, round_id, marks, CID) for card in (first, second)]
    assert [(r["t"], r["again"]) for r in replies] == [("receipt", False), ("receipt", False)]
    record = server.record(meeting)
    assert sorted(b.id for b in record.ballots) == sorted(r["receipt"] for r in replies)


async def test_the_same_card_sending_again(tmp_path: Path, servers) -> None:
    """The same ballot again: the same receipt (idempotent). Another ballot: refused, and the
    first one stays as it was (never merged, never replaced)."""
    meeting_path, meeting = write_meeting(tmp_path, title="同卡重复提交")
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    marks = {"r01": "好", "r03": "一般"}
    first = await cast(server, card.token, round_id, marks, CID)
    again = await cast(server, card.token, round_id, dict(marks), CID)
    changed = await cast(server, card.token, round_id, {"r01": "差", "r03": "一般"}, CID)
    other_cid = await cast(server, card.token, round_id, marks, "another-cid-" + "x" * 10)
    assert (first["t"], first["again"]) == ("receipt", False)
    assert (again["t"], again["receipt"], again["again"]) == ("receipt", first["receipt"], True)
    assert (changed["t"], changed["code"]) == ("error", "already_voted")
    assert (other_cid["t"], other_cid["code"]) == ("error", "already_voted")
    status, body = http_json(
        f"{server.base}/api/cast",
        {"token": card.token, "round": round_id, "marks": marks, "cid": CID},
    )
    assert status == 200 and (body["receipt"], body["again"]) == (first["receipt"], True)
    record = server.record(meeting)
    (ballot,) = record.ballots
    assert (ballot.id, ballot.marks["r01"], ballot.marks["r03"]) == (first["receipt"], "好", "一般")


async def test_every_card_casting_the_same_cid_gets_a_receipt_of_its_own(
    tmp_path: Path, servers
) -> None:
    meeting_path, meeting = write_meeting(
        tmp_path, title="全场同一编号", leader_seats=4, cadre_seats=8
    )
    server = ServerProcess(meeting_path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(meeting)
    round_id = server.vote_step()
    async with contextlib.AsyncExitStack() as stack:
        phones = [
            await stack.enter_async_context(
                Peer.connect(server.ws_url, role="phone", token=card.token)
            )
            for card in cards
        ]
        replies = [
            await phone.request({"t": "cast", "round": round_id, "marks": {}, "cid": CID})
            for phone in phones
        ]
    receipts = [r["receipt"] for r in replies]
    assert len(set(receipts)) == len(cards) == 12
    assert server.chair("close", force=True)[0] == 200
    record = server.record(meeting)
    assert sorted(b.id for b in record.ballots) == sorted(receipts)


async def test_a_receipt_already_taken_is_never_given_to_a_second_ballot(
    tmp_path: Path, servers, redis_server
) -> None:
    """A receipt is 50 bits: two ballots could derive the same one. The cast script refuses a
    taken receipt, the server derives the card's next, and the same ballot sent again still
    gets that one. Forced here by storing a stand-in ballot under the first receipt."""
    meeting_path, meeting = write_meeting(tmp_path, title="回执冲突")
    server = ServerProcess(meeting_path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    client = redis.Redis.from_url(redis_server.url)
    keys = Keys(meeting_key(meeting))
    receipt_key = bytes.fromhex(client.hget(keys.meta, "receipt_key").decode())
    first = receipt_for(
        receipt_key,
        round_id,
        token_hash(card.token, card_hash_key(DataDir(server.data).card_secret())),
        CID,
        0,
    )
    second = receipt_for(
        receipt_key,
        round_id,
        token_hash(card.token, card_hash_key(DataDir(server.data).card_secret())),
        CID,
        1,
    )
    client.zadd(keys.ballots(round_id), {b"stand-in for another ballot": receipt_score(first)})
    reply = await cast(server, card.token, round_id, {"r01": "好"}, CID)
    again = await cast(server, card.token, round_id, {"r01": "好"}, CID)
    assert (reply["receipt"], reply["again"]) == (second, False)
    assert (again["receipt"], again["again"]) == (second, True)
    assert client.zcard(keys.ballots(round_id)) == 2
    client.close()


async def test_a_record_from_before_the_keyed_hashes_keeps_its_cards(
    tmp_path: Path, servers, redis_server
) -> None:
    """An older version stored plain SHA-256 token hashes: such a record is served to its end
    with them (its cards keep working); a new record gets keyed ones."""
    meeting_path, meeting = write_meeting(tmp_path, title="旧记录的参会卡")
    server = ServerProcess(meeting_path, tmp_path / "data", redis_url=redis_server.url).start()
    servers.append(server)
    cards = server.cards(meeting)
    client = redis.Redis.from_url(redis_server.url)
    keys = Keys(meeting_key(meeting))
    assert client.hget(keys.meta, "hash_scheme") == b"keyed"
    server.stop()
    # What an older version left: plain hashes and no scheme in the meta.
    client.hdel(keys.meta, "hash_scheme")
    client.delete(keys.tokens)
    client.hset(keys.tokens, mapping={token_hash(c.token): c.group for c in cards})
    server.start()
    assert client.hget(keys.meta, "hash_scheme") == b"plain"
    round_id = server.vote_step()
    reply = await cast(server, cards[0].token, round_id, {"r01": "好"}, CID)
    assert reply["t"] == "receipt"
    client.close()
