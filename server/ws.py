"""The WebSocket endpoint: one explicit session state machine per connection.

`new` accepts only `hello`; `ready` accepts what the role may send. Frames that are not a
msgpack map get an `error` frame and the connection carries on; frames over 64 KiB are closed
with 1009 by uvicorn (`ws_max_size`); floods are rate-limited per connection.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from server import messages
from server.cards import looks_like_token, token_hash
from server.codec import pack, unpack
from server.errors import ProtocolError
from server.hub import Client, connected
from server.ratelimit import TokenBucket
from server.service import MeetingService
from server.wire import EXTENSION

log = logging.getLogger("pingyi")

CLOSE_POLICY = 1008


class SessionState(enum.Enum):
    NEW = "new"
    READY = "ready"


async def websocket_endpoint(websocket: WebSocket) -> None:
    service: MeetingService = websocket.app.state.service
    failures = websocket.app.state.failed_logins
    await websocket.accept()
    bucket = TokenBucket(rate=20, burst=40)
    address = websocket.client.host if websocket.client else "?"
    client: Client | None = None
    try:
        # new: only hello
        while client is None:
            message = await _receive(websocket, bucket)
            if message is None:
                continue
            if message.get("t") != "hello":
                await _send_error(
                    websocket, ProtocolError("hello_first", "请先发送 hello", "t"), message
                )
                continue
            client = await _hello(websocket, service, failures, address, message)
            if client is None:
                return
        async with connected(service.hub, client):
            service.hub.add(client)  # before the welcome is built, so no view is missed
            client.welcome(await _welcome(service, client, message))
            # ready: what the role may send
            while True:
                message = await _receive(websocket, bucket, client)
                if message is not None:
                    await _dispatch(service, client, message)
                    # An idle phone waits here for minutes: holding its last ballot (dozens of
                    # objects) would give the garbage collector 5,000 of them to walk.
                    message = None
    except WebSocketDisconnect:
        return


async def _receive(
    websocket: WebSocket, bucket: TokenBucket, client: Client | None = None
) -> dict[str, Any] | None:
    frame = await websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000))
    reply = client.reply if client else None
    if not bucket.take():
        await _error(
            websocket, reply, ProtocolError("rate_limited", "操作过于频繁，请稍后再试"), None
        )
        return None
    raw = frame.get("bytes")
    if raw is None:
        error = ProtocolError("bad_frame", "只接受 msgpack 编码的二进制帧")
        await _error(websocket, reply, error, None)
        return None
    try:
        message = unpack(raw)
    except Exception:
        message = None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        error = ProtocolError("bad_frame", "无法解析的消息：应为带 t 字段的 msgpack 映射")
        await _error(websocket, reply, error, None)
        return None
    return message


async def _hello(
    websocket: WebSocket,
    service: MeetingService,
    failures: Any,
    address: str,
    message: dict[str, Any],
) -> Client | None:
    try:
        messages.check_fields(message)
    except ProtocolError as error:
        await _send_error(websocket, error, message)
        await websocket.close(CLOSE_POLICY, error.code)
        return None
    role = message["role"]
    client = Client(
        role, websocket.send_bytes, (websocket.scope.get("extensions") or {}).get(EXTENSION)
    )
    if role == "phone":
        token = message.get("token", "")
        if failures.blocked(address):
            await websocket.close(CLOSE_POLICY, "rate_limited")
            return None
        group = (
            await service.store.token_group(token_hash(token)) if looks_like_token(token) else None
        )
        if group is None:
            failures.record(address)
            await websocket.close(CLOSE_POLICY, "bad_token")
            return None
        client.token_hash, client.group = token_hash(token), group
    elif role == "chair":
        if failures.blocked(address) or not service.check_chair_key(message.get("key")):
            failures.record(address)
            await websocket.close(CLOSE_POLICY, "bad_key")
            return None
    elif role != "screen":
        await websocket.close(CLOSE_POLICY, "bad_role")
        return None
    return client


async def _welcome(
    service: MeetingService, client: Client, hello: dict[str, Any]
) -> dict[str, Any]:
    welcome: dict[str, Any] = {"t": "welcome", "role": client.role, "v": service.state.version}
    welcome["now"] = service.clock()
    if client.role == "phone":
        assert client.token_hash is not None and client.group is not None
        welcome["view"] = service.phone_view()
        welcome["group"] = client.group
        welcome["group_name"] = service.meeting.group(client.group).name
        welcome["voted"] = await service.voted_rounds(client.token_hash)
    elif client.role == "screen":
        welcome["view"] = service.screen_view()
    else:
        welcome["view"] = await service.chair_view()
    if "id" in hello:
        welcome["id"] = hello["id"]
    return welcome


async def _dispatch(service: MeetingService, client: Client, message: dict[str, Any]) -> None:
    try:
        kind = messages.check_fields(message)
        if kind not in messages.ROLE_MESSAGES[client.role]:
            raise ProtocolError("unknown_type", f"此角色不能发送 {kind} 消息", "t")
        if kind == "ping":
            answer: dict[str, Any] = {"t": "pong", "now": service.clock()}
        elif kind == "cast":
            assert client.token_hash is not None and client.group is not None
            answer = await messages.answer_cast(service, client.token_hash, client.group, message)
        elif kind == "chair":
            answer = await messages.answer_chair(service, message)
        else:
            answer = await messages.answer_paper(service, message)
    except ProtocolError as error:
        answer = error.as_message()
    if "id" in message:
        answer["id"] = message["id"]
    client.reply(answer)


async def _error(websocket: WebSocket, reply: Any, error: ProtocolError, request: Any) -> None:
    if reply is not None:
        reply(error.as_message())
    else:
        await _send_error(websocket, error, request)


async def _send_error(websocket: WebSocket, error: ProtocolError, request: Any) -> None:
    message = error.as_message()
    if isinstance(request, dict) and "id" in request:
        message["id"] = request["id"]
    await websocket.send_bytes(pack(message))
