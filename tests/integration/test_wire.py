"""The phone wire (`server.wire`) and the hub's use of it, on a real uvicorn on 127.0.0.1.

A tiny Starlette app runs under uvicorn with `FrameWritingProtocol`, and a real `websockets`
client connects to it: frames written straight to the socket must arrive whole and in order,
and a client that stops reading must get what was queued, in order, once it reads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from server.codec import pack, unpack
from server.hub import Client, Hub, connected
from server.wire import EXTENSION, FrameWritingProtocol, binary_frame
from testkit import free_port


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_binary_frame_is_what_the_websockets_parser_reads(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    reader = StreamReader()
    reader.feed_data(binary_frame(data))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
        raise AssertionError("the parser wanted more bytes than the frame has")
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.BINARY and frame.fin and not frame.rsv1
    assert frame.data == data


@contextlib.asynccontextmanager
async def wire_server(endpoint):  # type: ignore[no-untyped-def]
    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws=FrameWritingProtocol,
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_frames_written_straight_to_the_socket_arrive_whole_and_in_order() -> None:
    seen: dict[str, object] = {}

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        write = websocket.scope["extensions"].get(EXTENSION)
        seen["write"] = write
        assert write is not None
        for n in range(50):
            assert write(binary_frame(pack({"n": n, "pad": "议" * n * 40})))
        await websocket.receive()  # until the client leaves
        seen["after_close"] = write(binary_frame(b"late"))

    async with wire_server(endpoint) as url:
        async with connect(url, compression=None) as client:
            got = [unpack(await asyncio.wait_for(client.recv(), 5)) for _ in range(50)]
        for _ in range(100):
            if "after_close" in seen:
                break
            await asyncio.sleep(0.02)
    assert [m["n"] for m in got] == list(range(50))
    assert got[49]["pad"] == "议" * 49 * 40
    assert seen["after_close"] is False  # a closed connection refuses, the caller queues


async def test_a_phone_that_stops_reading_gets_the_welcome_first_then_only_the_newest_view() -> (
    None
):
    hub = Hub()
    ready = asyncio.Event()
    big = "x" * 30_000  # 300 of them (9 MB) outgrow the socket buffers

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        client = Client("phone", websocket.send_bytes, websocket.scope["extensions"][EXTENSION])
        async with connected(hub, client):
            hub.add(client)
            hub.broadcast("phone", {"t": "view", "v": 0, "view": {}})  # held until the welcome
            client.welcome({"t": "welcome"})
            ready.set()
            with contextlib.suppress(Exception):
                await websocket.receive()

    async with wire_server(endpoint) as url:
        async with connect(url, compression=None, max_size=2**20) as phone:
            await asyncio.wait_for(ready.wait(), 5)
            transport = phone.transport
            transport.pause_reading()
            for v in range(1, 301):
                hub.broadcast("phone", {"t": "view", "v": v, "pad": big})
                await asyncio.sleep(0)
            (client,) = hub.clients["phone"]
            assert client._view is not None, "the buffer never filled: nothing was queued"
            transport.resume_reading()
            frames = []
            while True:
                message = unpack(await asyncio.wait_for(phone.recv(), 10))
                frames.append(message)
                if message.get("v") == 300:
                    break
    assert frames[0]["t"] == "welcome"
    versions = [m["v"] for m in frames[1:]]
    assert versions == sorted(versions), "a view overtook a newer one"
    assert versions[0] == 0 and versions[-1] == 300
    assert len(versions) < 300, "every view was sent: the slow phone was not coalesced"


@pytest.mark.parametrize("goodbye", ["close", "abort"])
async def test_a_departed_phone_is_freed_without_the_garbage_collector(goodbye: str) -> None:
    """The collector walks no connection while a meeting runs (`server.gc_policy`): a phone
    that leaves, with a close frame or by dropping the connection, must be freed by reference
    counting alone, its protocol, transport and sender included."""
    hub = Hub()
    left: list[weakref.ref[object]] = []
    gone = asyncio.Event()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        write = websocket.scope["extensions"][EXTENSION]
        client = Client("phone", websocket.send_bytes, write)
        left.extend(weakref.ref(o) for o in (write.__self__, write.__self__.transport, client))
        async with connected(hub, client):
            hub.add(client)
            client.welcome({"t": "welcome"})
            hub.broadcast("phone", {"t": "view", "v": 1})
            with contextlib.suppress(Exception):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
        gone.set()

    gc.collect()
    gc.disable()
    try:
        async with wire_server(endpoint) as url:
            phone = await connect(url, compression=None)
            assert unpack(await asyncio.wait_for(phone.recv(), 5))["t"] == "welcome"
            assert unpack(await asyncio.wait_for(phone.recv(), 5))["v"] == 1
            if goodbye == "close":
                await phone.close()
            else:
                phone.transport.abort()
            await asyncio.wait_for(gone.wait(), 5)
            for _ in range(50):  # the transport's last callbacks run on the next passes
                if all(ref() is None for ref in left):
                    break
                await asyncio.sleep(0.02)
            assert [ref() for ref in left] == [None, None, None]
            if goodbye == "abort":
                await phone.close()
    finally:
        gc.enable()


async def test_messages_over_a_passs_allowance_reach_the_app_in_order_and_before_a_close(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from server import wire

    monkeypatch.setattr(wire, "_admission", wire.Admission(per_pass=2))
    holds = []
    hold = wire.FrameWritingProtocol._hold
    monkeypatch.setattr(
        wire.FrameWritingProtocol, "_hold", lambda self: holds.append(1) or hold(self)
    )
    got: list[object] = []
    done = asyncio.Event()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            got.append(unpack(message["bytes"])["n"])
        got.append("gone")
        done.set()

    async with wire_server(endpoint) as url:
        async with connect(url, compression=None) as client:
            for n in range(30):  # sent back to back: a few passes' worth in one read
                await client.send(pack({"n": n}))
        await asyncio.wait_for(done.wait(), 5)
    assert holds, "no message found its pass full"
    assert got == [*range(30), "gone"]
