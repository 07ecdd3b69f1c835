"""Property-based fuzzing of the WebSocket protocol and the HTTP API against a real server.

Every bad frame or request gets a clear error (a documented code and a Chinese message),
changes nothing (every Redis key, the event version, ballots and spent tokens among them, is
compared before and after), and the server and its other clients carry on."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meeting.join_cards import Card
from server.errors import ERRORS
from testkit import Peer, RedisServer, ServerProcess, http_json, http_raw, write_meeting
from testkit.dumps import snapshot
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
CODES = set(re.findall(r"^\| `(\w+)` \|", DOC.split("### Error codes")[1], re.M))
CODES |= {"not_open_mode", "bad_group", "group_full"}  # the join endpoint's, documented above
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CJK = re.compile(r"[\u4e00-\u9fff]")

# Values of every msgpack type, nested a little.
ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what msgpack can carry
scalars = (
    st.none()
    | st.booleans()
    | ints
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.binary(max_size=30)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | ints, inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["t", "round", "marks", "cid", "action", "text", "expect", "code", "role", "token"]


@dataclass
class Meeting:
    server: ServerProcess
    redis: redis.Redis
    cards: list[Card]
    round_id: int
    spent: Card  # has voted in the open round: no fuzzed cast can add a ballot for it
    fresh: Card  # has not voted: only bad marks are ever sent with it

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a bad request must leave untouched."""
        return snapshot(self.redis)


@pytest.fixture(scope="module")
def meeting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meeting]:
    tmp = tmp_path_factory.mktemp("fuzz")
    store = RedisServer(tmp / "redis").start()
    path, parsed = write_meeting(tmp, title="模糊测试会议")
    server = ServerProcess(path, tmp / "data", redis_url=store.url).start()
    try:
        round_id = server.vote_step()
        cards = server.cards(parsed)
        status, _ = http_json(
            f"{server.base}/api/cast",
            {"token": cards[0].token, "round": round_id, "marks": {"r01": "好"}, "cid": "s" * 32},
        )
        assert status == 200
        client = redis.Redis.from_url(store.url)
        yield Meeting(server, client, cards, round_id, spent=cards[0], fresh=cards[1])
        client.close()
    finally:
        server.stop()
        store.kill()


def check_error(reply: dict[str, Any], *codes: str) -> None:
    assert reply["t"] == "error", reply
    assert reply["code"] in CODES, reply
    assert not codes or reply["code"] in codes, reply
    assert isinstance(reply["msg"], str) and CJK.search(reply["msg"]), reply


async def exchange(
    meeting: Meeting, role: str, frames: list[bytes | str], replies: int
) -> list[dict[str, Any]]:
    """Sends raw frames from one client and reads `replies` answers; a bystander on another
    connection must still get its pong, and the sender too (the connection stays open)."""
    hello: dict[str, Any] = {"role": role}
    if role == "phone":
        hello["token"] = meeting.spent.token
    async with (
        Peer.connect(meeting.server.ws_url, role="screen") as bystander,
        Peer.connect(meeting.server.ws_url, **hello) as peer,
    ):
        for frame in frames:
            await peer.connection.send(frame)
        got = [await peer.recv() for _ in range(replies)]
        assert (await peer.request({"t": "ping"}))["t"] == "pong"
        assert (await bystander.request({"t": "ping"}))["t"] == "pong"
    return got


@FUZZ
@given(raw=st.binary(min_size=0, max_size=300))
def test_malformed_msgpack_gets_bad_frame(meeting: Meeting, raw: bytes) -> None:
    try:
        decoded = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception:
        decoded = None
    before = meeting.snapshot()
    [reply] = asyncio.run(exchange(meeting, "phone", [raw], 1))
    if isinstance(decoded, dict) and isinstance(decoded.get("t"), str):
        assert reply["t"] in ("error", "pong")
    else:
        check_error(reply, "bad_frame")
    assert meeting.snapshot() == before


@FUZZ
@given(text=st.text(max_size=200))
def test_text_frames_get_bad_frame(meeting: Meeting, text: str) -> None:
    before = meeting.snapshot()
    [reply] = asyncio.run(exchange(meeting, "screen", [text], 1))
    check_error(reply, "bad_frame")
    assert meeting.snapshot() == before


@FUZZ
@given(
    role=st.sampled_from(["phone", "screen"]),
    kind=st.sampled_from(["cast", "chair", "paper", "hello", "ping", "vote", ""]) | st.text(),
    fields=st.dictionaries(st.sampled_from(FIELDS[1:]) | st.text(max_size=10), values, max_size=5),
)
def test_wrong_types_unknown_types_and_extra_fields(
    meeting: Meeting, role: str, kind: str, fields: dict[Any, Any]
) -> None:
    message = {**fields, "t": kind, "id": "fuzz"}
    before = meeting.snapshot()
    [reply] = asyncio.run(exchange(meeting, role, [msgpack.packb(message)], 1))
    assert reply.get("id") == "fuzz"
    if kind == "ping" and set(fields) <= set():
        assert reply["t"] == "pong"
    elif reply["t"] != "pong":
        check_error(reply)
        assert reply["code"] not in ("unavailable",)
        if kind not in ("cast", "chair", "paper", "hello", "ping"):
            assert reply["code"] == "unknown_type"
    assert meeting.snapshot() == before


@FUZZ
@given(
    round_id=ints | values,
    cid=st.text(max_size=80) | values,
    marks=values,
)
def test_casts_with_wrong_fields_change_nothing(
    meeting: Meeting, round_id: Any, cid: Any, marks: Any
) -> None:
    message = {"t": "cast", "round": round_id, "marks": marks, "cid": cid, "id": 1}
    before = meeting.snapshot()
    [reply] = asyncio.run(exchange(meeting, "phone", [msgpack.packb(message)], 1))
    check_error(reply)  # the phone's token has voted: never a receipt
    assert meeting.snapshot() == before


@FUZZ
@given(
    marks=st.dictionaries(
        st.sampled_from(["r01", "r02", "r03", "r04", "R01", "", "r01 "]) | st.text(max_size=6),
        st.sampled_from(["好", "较好", "一般", "差", None, "废", "优", "好 ", ""])
        | st.text(max_size=64),  # longer is bad_field (server.messages.MARK_MAX_CHARS)
        min_size=1,
        max_size=5,
    )
)
def test_grades_not_in_the_scale_and_reporters_not_in_the_round(
    meeting: Meeting, marks: dict[str, Any]
) -> None:
    first_wrong = None
    for reporter, mark in marks.items():  # the server checks in order and names the first
        if reporter not in ("r01", "r02", "r03"):
            first_wrong = "bad_reporter"
            break
        if mark not in ("好", "较好", "一般", "差", None, ""):
            first_wrong = "bad_grade"
            break
    if first_wrong is None:  # all fine so far: add a reporter who is not on this ballot
        marks, first_wrong = {**marks, "r09": "好"}, "bad_reporter"
    message = {"t": "cast", "round": meeting.round_id, "marks": marks, "cid": "m" * 32}

    async def run() -> dict[str, Any]:
        async with Peer.connect(
            meeting.server.ws_url, role="phone", token=meeting.fresh.token
        ) as p:
            return await p.request(message)

    before = meeting.snapshot()
    reply = asyncio.run(run())
    check_error(reply, first_wrong)
    assert reply["field"] == "marks"
    assert meeting.snapshot() == before


@FUZZ
@given(
    message=st.fixed_dictionaries(
        {"t": st.sampled_from(["cast", "chair", "paper", "ping", "x"])},
        optional={"round": values, "action": values, "id": st.text(max_size=5)},
    ),
    hello=st.fixed_dictionaries(
        {"t": st.just("hello")},
        optional={
            "role": ints | st.none() | st.binary(),
            "token": ints | st.lists(st.text(), max_size=2),
            "key": ints | st.booleans(),
            "since": st.text(max_size=4),
        },
    ).filter(lambda h: set(h) - {"t"}),
)
def test_before_hello_and_bad_hellos(
    meeting: Meeting, message: dict[str, Any], hello: dict[str, Any]
) -> None:
    async def run() -> tuple[dict[str, Any], dict[str, Any], int | None]:
        async with websockets.connect(meeting.server.ws_url, compression=None) as ws:
            await ws.send(msgpack.packb(message))
            early = msgpack.unpackb(await ws.recv(), raw=False)
            await ws.send(msgpack.packb(hello))
            refused = msgpack.unpackb(await ws.recv(), raw=False)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return early, refused, closed.rcvd.code if closed.rcvd else None
            return early, refused, None

    before = meeting.snapshot()
    early, refused, code = asyncio.run(run())
    check_error(early, "hello_first")
    check_error(refused, "bad_field")
    assert code == 1008  # a failed hello closes the connection
    assert meeting.snapshot() == before


async def test_frames_over_64_kib_close_with_1009(meeting: Meeting) -> None:
    before = meeting.snapshot()
    async with Peer.connect(meeting.server.ws_url, role="screen") as bystander:
        async with Peer.connect(
            meeting.server.ws_url, role="phone", token=meeting.fresh.token
        ) as p:
            # Just under the limit: an answer, and the connection stays.
            big = {"t": "cast", "round": meeting.round_id, "cid": "b" * 32, "marks": {}}
            big["marks"] = {"r01": "好" * 20000}
            assert len(msgpack.packb(big)) < 64 * 1024
            check_error(await p.request(big), "bad_field")  # a grade word is at most 64
            huge = {"t": "cast", "round": meeting.round_id, "cid": "h" * 32, "pad": "x" * 70000}
            await p.send(huge)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                for _ in range(5):
                    await p.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert (await bystander.request({"t": "ping"}))["t"] == "pong"
    body = json.dumps({"token": meeting.fresh.token, "pad": "x" * 70000}).encode()
    status, reply = post(meeting, "/api/cast", body)
    assert status == 413 and reply["error"]["code"] == "bad_frame"
    assert "64 KiB" in reply["error"]["msg"]
    assert meeting.snapshot() == before


async def test_a_flood_from_one_connection_is_rate_limited(meeting: Meeting) -> None:
    before = meeting.snapshot()
    async with (
        Peer.connect(meeting.server.ws_url, role="screen") as bystander,
        Peer.connect(meeting.server.ws_url, role="phone", token=meeting.fresh.token) as flooder,
    ):
        cast = {"t": "cast", "round": meeting.round_id, "marks": {"r01": "优"}, "cid": "f" * 32}
        started = time.monotonic()
        for number in range(200):
            await flooder.send({**cast, "id": number} if number % 2 else {"t": "ping"})
        answers = [await flooder.recv() for _ in range(200)]
        elapsed = time.monotonic() - started
        limited = [a for a in answers if a.get("code") == "rate_limited"]
        served = [a for a in answers if a.get("code") != "rate_limited"]
        assert limited and all(a["t"] == "error" and CJK.search(a["msg"]) for a in limited)
        assert len(served) <= 40 + 20 * elapsed + 1  # the burst, then 20 a second
        assert all(a["t"] == "pong" or a["code"] == "bad_grade" for a in served)
        assert (await bystander.request({"t": "ping"}))["t"] == "pong"  # others carry on
        await asyncio.sleep(1.0)
        assert (await flooder.request({"t": "ping"}))["t"] == "pong"  # and so does it, later
    assert meeting.snapshot() == before


# ---- HTTP ---------------------------------------------------------------------------------


def post(meeting: Meeting, path: str, body: bytes, key: str | None = None) -> tuple[int, Any]:
    return http_raw(meeting.server.base + path, body, key)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CHAIR_ACTIONS = {"start", "next", "back", "open", "close", "reveal", "pause", "resume", "comment"}


@FUZZ
@given(
    path=st.sampled_from(["/api/cast", "/api/chair", "/api/paper", "/api/join"]),
    body=st.binary(max_size=100)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.dictionaries(
        st.sampled_from(["round", "marks", "cid", "action", "text", "expect", "code", "group"]),
        json_values,
    ).map(lambda d: json.dumps(d).encode()),
)
def test_http_endpoints_refuse_bad_bodies_and_change_nothing(
    meeting: Meeting, path: str, body: bytes
) -> None:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if (
        isinstance(parsed, dict)
        and path == "/api/chair"
        and str(parsed.get("action")) in CHAIR_ACTIONS
    ):
        parsed["action"] = "not-an-action"  # a valid chair action would rightly change things
        body = json.dumps(parsed).encode()
    if isinstance(parsed, dict) and path == "/api/cast":
        parsed["token"] = meeting.spent.token  # bad tokens are counted per address elsewhere
        body = json.dumps(parsed).encode()
    key = meeting.server.chair_key if path in ("/api/chair", "/api/paper") else None
    before = meeting.snapshot()
    status, reply = post(meeting, path, body, key)
    assert 400 <= status < 500, (status, reply)
    assert reply["error"]["code"] in CODES and CJK.search(reply["error"]["msg"]), reply
    assert meeting.snapshot() == before
    assert http_json(f"{meeting.server.base}/healthz")[0] == 200


async def test_votes_before_open_and_after_close_change_nothing(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    path, parsed = write_meeting(tmp_path, title="开闭测试会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    cards = server.cards(parsed)
    assert server.chair("start")[0] == 200

    async def cast(card: Card, round_id: int) -> dict[str, Any]:
        async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
            return await phone.request(
                {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": "o" * 20}
            )

    for round_id in range(0, 8):  # no round is open yet, whatever its number
        check_error(await cast(cards[0], round_id), "not_open")
    for _ in range(10):
        view = http_json(f"{server.base}/api/view?role=screen")[1]["view"]
        if view["phase"] == "vote":
            break
        server.chair("next")
    round_id = view["round"]["id"]
    check_error(await cast(cards[0], round_id), "not_open")  # ready, not yet open
    assert server.chair("open")[0] == 200
    assert (await cast(cards[0], round_id))["t"] == "receipt"
    assert server.chair("close", force=True)[0] == 200
    version = http_json(f"{server.base}/healthz")[1]["v"]
    check_error(await cast(cards[1], round_id), "not_open")
    status, body = http_json(
        f"{server.base}/api/cast",
        {"token": cards[2].token, "round": round_id, "marks": {}, "cid": "p" * 20},
    )
    assert status == 409 and body["error"]["code"] == "not_open"
    assert http_json(f"{server.base}/healthz")[1]["v"] == version
    view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)[1]["view"]
    assert view["turnout"]["cast"] == 1


@FUZZ
@given(
    path=st.sampled_from(
        ["/api/view?role=", "/j/", "/api/meeting?x=", "/static/", "/api/join-qr.svg?"]
    ),
    tail=st.text(alphabet=st.characters(codec="ascii", exclude_characters="#"), max_size=40),
)
def test_http_gets_with_odd_paths_and_queries_never_fail_the_server(
    meeting: Meeting, path: str, tail: str
) -> None:
    if path == "/api/view?role=" and tail.startswith("chair"):
        tail = "x" + tail  # a chair view without a key would count as a failed key
    url = meeting.server.base + path + urllib.parse.quote(tail, safe="=&?/")
    before = meeting.snapshot()
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        with error:
            status, body = error.code, json.loads(error.read())  # every error is JSON
        assert body["error"]["code"] in {code for code, _ in ERRORS.values()}, body
    assert status < 500, (url, status)
    assert meeting.snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/cast", 405, "method_not_allowed"),
        ("PUT", "/api/chair", 405, "method_not_allowed"),
        ("POST", "/api/view", 405, "method_not_allowed"),
        ("DELETE", "/api/join", 405, "method_not_allowed"),
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("GET", "/static/no-such-file.js", 404, "not_found"),
        ("POST", "/no/such/page", 404, "not_found"),
    ],
)
def test_starlettes_own_refusals_are_json_too(
    meeting: Meeting, method: str, path: str, status: int, code: str
) -> None:
    request = urllib.request.Request(meeting.server.base + path, data=b"{}", method=method)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value as error:
        assert error.code == status
        assert error.headers["Content-Type"] == "application/json"
        body = json.loads(error.read())
    assert body["error"]["code"] == code and body["error"]["msg"]
