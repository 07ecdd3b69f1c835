"""Bad frames get an error frame or a close code; the server and the other clients carry on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import msgpack
import pytest
import websockets

from testkit import Peer, ServerProcess, http_json, http_raw, stop_embedded_redis, write_meeting


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("bad-frames")
    meeting_path, _ = write_meeting(directory, title="坏帧测试")
    started = ServerProcess(meeting_path, directory / "data").start()
    yield started
    started.stop()
    stop_embedded_redis(started.data)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xc1\xff not msgpack", "bad_frame"),
        (msgpack.packb([1, 2, 3]), "bad_frame"),
        (msgpack.packb({"no": "type"}), "bad_frame"),
        (msgpack.packb({"t": "launch"}), "unknown_type"),
        (msgpack.packb({"t": "chair", "action": "start"}), "unknown_type"),  # not for a screen
        (msgpack.packb({"t": "ping", "extra": 1}), "bad_field"),
        (msgpack.packb({"t": "ping", "id": [1]}), "bad_field"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_session_carries_on(server, frame, code) -> None:  # type: ignore[no-untyped-def]
    async with Peer.connect(server.ws_url, role="screen") as screen:
        await screen.connection.send(frame)
        error = await screen.expect("error")
        assert error["code"] == code and error["msg"]
        assert (await screen.request({"t": "ping"}))["t"] == "pong"


async def test_text_frames_wrong_types_and_hello_first(server) -> None:  # type: ignore[no-untyped-def]
    async with websockets.connect(server.ws_url) as raw:
        await raw.send("hello as text")
        assert msgpack.unpackb(await raw.recv())["code"] == "bad_frame"
        await raw.send(msgpack.packb({"t": "ping"}))
        assert msgpack.unpackb(await raw.recv())["code"] == "hello_first"
        await raw.send(msgpack.packb({"t": "hello", "role": 7}))
        assert msgpack.unpackb(await raw.recv())["field"] == "role"
        await raw.wait_closed()
        assert raw.close_code == 1008


async def test_wrong_token_and_wrong_key_close_with_1008(server) -> None:  # type: ignore[no-untyped-def]
    for hello in ({"role": "phone", "token": "A" * 22}, {"role": "chair", "key": "guess"}):
        async with websockets.connect(server.ws_url) as raw:
            await raw.send(msgpack.packb({"t": "hello", **hello}))
            await raw.wait_closed()
            assert raw.close_code == 1008 and raw.close_reason in ("bad_token", "bad_key")


async def test_a_frame_over_64_kib_is_closed_with_1009_and_others_carry_on(server) -> None:  # type: ignore[no-untyped-def]
    async with Peer.connect(server.ws_url, role="screen") as bystander:
        async with Peer.connect(server.ws_url, role="screen") as sender:
            await sender.connection.send(msgpack.packb({"t": "ping", "pad": "x" * 70_000}))
            await sender.connection.wait_closed()
            assert sender.connection.close_code == 1009
        assert (await bystander.request({"t": "ping"}))["t"] == "pong"


async def test_a_flood_is_rate_limited(server) -> None:  # type: ignore[no-untyped-def]
    async with Peer.connect(server.ws_url, role="screen") as flooder:
        for _ in range(120):
            await flooder.send({"t": "ping"})
        replies = [await flooder.recv() for _ in range(120)]
        limited = [r for r in replies if r.get("code") == "rate_limited"]
        assert 35 <= 120 - len(limited) <= 60 and limited  # a burst of 40, then 20/s


async def test_an_id_is_echoed_only_when_the_protocol_allows_it(server) -> None:  # type: ignore[no-untyped-def]
    async with Peer.connect(server.ws_url, role="screen") as screen:
        for good in ("x" * 64, 7, -(2**63)):
            await screen.send({"t": "ping", "id": good})
            assert (await screen.expect("pong"))["id"] == good
        for bad in ("x" * 60_000, "x" * 65, 2**63, True, 1.5, {"a": 1}):
            await screen.send({"t": "ping", "id": bad})
            error = await screen.expect("error")
            assert (error["code"], error["field"]) == ("bad_field", "id") and "id" not in error
        await screen.send({"t": "ping", "k" * 60_000: 1})
        error = await screen.expect("error")
        assert error["code"] == "bad_field" and len(error["field"]) == 64


async def test_a_rate_limited_request_is_answered_with_its_id(server) -> None:  # type: ignore[no-untyped-def]
    async with Peer.connect(server.ws_url, role="screen") as flooder:
        for n in range(60):
            await flooder.send({"t": "ping", "id": n})
        replies = [await flooder.recv() for _ in range(60)]
        limited = [r for r in replies if r.get("code") == "rate_limited"]
        assert limited and all(isinstance(r["id"], int) for r in limited)
        assert sorted(r["id"] for r in replies) == list(range(60))


@pytest.mark.parametrize(
    "marks",
    [{"r01": ["好"]}, {"r01": {"好": 1}}, {"r01": 3}, {"r01": b"\x00"}, {"r01": [[[[]]]]}],
    ids=["list", "map", "int", "bytes", "nested"],
)
async def test_marks_of_the_wrong_shape_are_refused_and_the_phone_carries_on(
    tmp_path_factory: pytest.TempPathFactory, marks: dict
) -> None:
    directory = tmp_path_factory.mktemp("marks")
    meeting_path, meeting = write_meeting(directory, title="错误形状的标记")
    started = ServerProcess(meeting_path, directory / "data").start()
    try:
        card = started.cards(meeting)[0]
        round_id = started.vote_step()
        async with Peer.connect(started.ws_url, role="phone", token=card.token) as phone:
            cid = "shape-test-" + "c" * 16
            reply = await phone.request(
                {"t": "cast", "round": round_id, "marks": marks, "cid": cid}
            )
            # The edge's schema refuses a mark that is not a string (or nil) as a wrong type.
            assert (reply["t"], reply["code"], reply["field"]) == ("error", "bad_field", "marks")
            good = {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": cid}
            assert (await phone.request(good))["t"] == "receipt"
        if not isinstance(marks["r01"], bytes):  # JSON has no bytes
            body = {"token": card.token, "round": round_id, "marks": marks, "cid": cid}
            status, answer = http_json(f"{started.base}/api/cast", body)
            assert (status, answer["error"]["code"]) == (422, "bad_field")
    finally:
        started.stop()
        stop_embedded_redis(started.data)


@pytest.mark.parametrize("path", ["/api/cast", "/api/chair", "/api/paper", "/api/join"])
def test_json_nested_30000_deep_is_a_json_error_not_a_crash(server, path: str) -> None:  # type: ignore[no-untyped-def]
    deep = b"[" * 30_000 + b"]" * 30_000
    status, body = http_raw(f"{server.base}{path}", deep, server.chair_key)
    assert status in (400, 404) and body["error"]["code"] in ("bad_frame", "not_open_mode")


async def test_a_socket_that_never_says_hello_is_closed(server) -> None:  # type: ignore[no-untyped-def]
    async with websockets.connect(server.ws_url) as silent:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(silent.recv(), timeout=15)
        assert (silent.close_code, silent.close_reason) == (1008, "hello_timeout")
