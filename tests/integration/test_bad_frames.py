"""Bad frames get an error frame or a close code; the server and the other clients carry on."""

from __future__ import annotations

from collections.abc import Iterator

import msgpack
import pytest
import websockets

from testkit import Peer, ServerProcess, stop_embedded_redis, write_meeting


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
