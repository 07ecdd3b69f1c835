"""The typed message schemas against a real server: messages of every type, good or wrong at
every depth (tests/message_strategies.py), over the WebSocket and the HTTP API.

Every reply is a protocol answer: an error with a documented code and a Chinese message (a
`pong` for a valid ping), never a 500, never a plain-text body, never an abnormal close; a
message the schema refuses gets `bad_field` or `unknown_type`; nothing in Redis changes; and
the socket answers a ping afterwards."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgpack
import pytest
import redis
import websockets
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from meeting.join_cards import Card
from testkit import Peer, RedisServer, ServerProcess, http_json, http_raw, write_meeting
from testkit.dumps import snapshot
from tests.helpers import ROOT
from tests.message_strategies import CHAIR_ACTIONS, valid
from tests.message_strategies import messages as drawn

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
CODES = set(re.findall(r"^\| `(\w+)` \|", DOC.split("### Error codes")[1], re.M))
SCHEMA_CODES = {"bad_field", "unknown_type"}  # what the schema itself answers
CJK = re.compile(r"[\u4e00-\u9fff]")
SPENT_CID = "spent~ballot~" + "~" * 10  # no drawn cid is this: no fuzzed cast matches it
FRAME_MAX = 60_000  # under the 64 KiB a frame or body may have (over it: 1009 or 413)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Hall:
    server: ServerProcess
    redis: redis.Redis
    spent: Card  # has voted in the open round: no fuzzed cast can add a ballot

    def snapshot(self) -> tuple[Any, ...]:
        """Every key and what it holds: a refused message must leave all of it as it was."""
        return snapshot(self.redis)


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    tmp = tmp_path_factory.mktemp("schema-fuzz")
    store = RedisServer(tmp / "redis").start()
    path, parsed = write_meeting(tmp, title="消息模式测试会议")
    server = ServerProcess(path, tmp / "data", redis_url=store.url).start()
    try:
        round_id = server.vote_step()
        spent = server.cards(parsed)[0]
        ballot = {"token": spent.token, "round": round_id, "marks": {"r01": "好"}, "cid": SPENT_CID}
        assert http_json(f"{server.base}/api/cast", ballot)[0] == 200
        client = redis.Redis.from_url(store.url)
        yield Hall(server, client, spent)
        client.close()
    finally:
        server.stop()
        store.kill()


def harmless(message: dict[Any, Any]) -> dict[Any, Any]:
    """The message, unable to change the meeting: a chair action that exists is swapped for one
    that does not (the cards it could cast with have voted; a paper needs a real card code)."""
    if message.get("action") in CHAIR_ACTIONS:  # whatever `t` says: HTTP may drop it
        return {**message, "action": "launch"}
    return message


def check_answer(reply: dict[str, Any], sent: Any, kind: str | None = None) -> None:
    """A protocol answer: a pong to a valid ping, else an error in the documented words."""
    if valid(sent, kind) and (kind or sent["t"]) == "ping":
        assert reply["t"] == "pong", reply
        return
    assert reply["t"] == "error" and reply["code"] in CODES, reply
    assert isinstance(reply["msg"], str) and CJK.search(reply["msg"]), reply
    if not valid(sent, kind):
        assert reply["code"] in SCHEMA_CODES, (reply, sent)
        assert reply.get("field") or "" in sent, reply  # (an empty key names no field)


async def answer(peer: Peer) -> dict[str, Any]:
    """The reply to what was just sent (views that happen to arrive meanwhile are skipped)."""
    while True:
        reply = await peer.recv()
        if reply["t"] in ("error", "pong"):
            return reply


@FUZZ
@given(role=st.sampled_from(["phone", "screen", "chair"]), message=drawn())
def test_every_frame_is_answered_in_the_protocol_and_the_socket_carries_on(
    hall: Hall, role: str, message: dict[Any, Any]
) -> None:
    raw = msgpack.packb(harmless(message), use_bin_type=True)
    assume(len(raw) < FRAME_MAX)
    sent = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    hello = {"phone": {"token": hall.spent.token}, "chair": {"key": hall.server.chair_key}}

    async def run() -> dict[str, Any]:
        async with Peer.connect(hall.server.ws_url, role=role, **hello.get(role, {})) as peer:
            await peer.connection.send(raw)
            reply = await answer(peer)
            assert (await peer.request({"t": "ping"}))["t"] == "pong"  # still open and serving
            return reply

    before = hall.snapshot()
    reply = asyncio.run(run())
    check_answer(reply, sent)
    if valid(sent) and sent["t"] not in ("cast", "paper", "chair", "unseal"):  # no domain to ask
        assert reply["t"] == "pong" or reply["code"] == "unknown_type", reply
    assert hall.snapshot() == before


@settings(FUZZ, max_examples=100)
@given(message=drawn())
def test_a_first_frame_that_is_no_valid_hello_is_refused_with_a_policy_close(
    hall: Hall, message: dict[Any, Any]
) -> None:
    raw = msgpack.packb(message, use_bin_type=True)
    sent = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    assume(len(raw) < FRAME_MAX and not (sent["t"] == "hello" and valid(sent)))

    async def run() -> tuple[dict[str, Any], int | None, dict[str, Any]]:
        async with websockets.connect(hall.server.ws_url, compression=None) as ws:
            await ws.send(raw)
            refused = msgpack.unpackb(await ws.recv(), raw=False)
            if sent["t"] == "hello":  # a hello that cannot be one: goodbye, with a policy code
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
                return refused, ws.close_code, {}
            await ws.send(msgpack.packb({"t": "hello", "role": "screen"}))  # the session is new
            return refused, None, msgpack.unpackb(await ws.recv(), raw=False)

    before = hall.snapshot()
    refused, code, welcome = asyncio.run(run())
    assert refused["t"] == "error" and CJK.search(refused["msg"]), refused
    if sent["t"] == "hello":
        assert refused["code"] == "bad_field" and (refused.get("field") or "" in sent), refused
        assert code == 1008
    else:
        assert refused["code"] == "hello_first", refused
        assert welcome["t"] == "welcome"
    assert hall.snapshot() == before


@FUZZ
@given(kind=st.sampled_from(["cast", "chair", "paper"]), data=st.data())
def test_every_http_body_is_answered_with_a_json_error(
    hall: Hall, kind: str, data: st.DataObject
) -> None:
    message = harmless(data.draw(drawn(kinds=(kind,))))
    if data.draw(st.booleans()):  # the path names the type; a body may still say it
        message.pop("t")
    if kind == "cast":  # a good token, or one the schema refuses (a card guess would count)
        token = st.just(hall.spent.token) | st.integers() | st.just("t" * 65) | st.none()
        message["token"] = data.draw(token)
    body = json.dumps(message, default=lambda b: b.hex()).encode()  # JSON has no bytes
    assume(len(body) < FRAME_MAX)
    sent = json.loads(body)
    key = hall.server.chair_key if kind != "cast" else None
    before = hall.snapshot()
    status, reply = http_raw(f"{hall.server.base}/api/{kind}", body, key)  # JSON, or it raises
    assert 400 <= status < 500, (status, reply)
    error = reply["error"]
    assert error["code"] in CODES and CJK.search(error["msg"]), reply
    if not valid(sent, kind, http=True):
        assert error["code"] in SCHEMA_CODES | {"bad_frame"}, (reply, sent)
    assert hall.snapshot() == before
    assert http_json(f"{hall.server.base}/healthz")[0] == 200
