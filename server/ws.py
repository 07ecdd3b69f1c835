"""The WebSocket endpoint: one session state machine per connection.

A session is `NEW` until its `hello` is accepted, then `READY`; `accepts` says what each state
(and role) may send, and anything else gets an `error` frame naming it. Each frame is decoded
straight into its message's schema (`server.messages`); frames that are not a msgpack map get
an `error` frame and the connection carries on; frames over 64 KiB are closed with 1009 by
uvicorn (`ws_max_size`); floods are rate-limited per connection.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from meeting.errors import Rejected
from server import messages
from server.codec import pack
from server.errors import (
    BadFrame,
    HelloFirst,
    RateLimited,
    UnknownType,
    error_code,
    error_message,
)
from server.hub import Client, connected
from server.ratelimit import FailureLimiter, TokenBucket
from server.service import MeetingService
from server.wire import EXTENSION

log = logging.getLogger("pingyi")

CLOSE_POLICY = 1008
HELLO_TIMEOUT = 10.0  # seconds a new connection has to send hello: pages send it at once
CLOSE_TRY_AGAIN = 1013


class SessionState(enum.Enum):
    NEW = "new"  # waiting for hello
    READY = "ready"  # hello accepted: the role's messages


def accepts(state: SessionState, role: str | None) -> set[str]:
    """The message types a session in this state, of this role, may send."""
    if state is SessionState.NEW:
        return {"hello"}
    return messages.ROLE_MESSAGES[role or ""]


def _check_allowed(
    state: SessionState, role: str | None, received: messages.Message | messages.Faulty
) -> messages.Message:
    """The message, once it fits the session's state and role and its fields check."""
    kind = messages.kind_of(received)
    if state is SessionState.NEW and kind not in accepts(state, role):
        raise HelloFirst("请先发送 hello", "t")  # whatever else is wrong with it
    if isinstance(received, messages.Faulty):
        raise received.error
    if kind not in accepts(state, role):
        raise UnknownType(f"此角色不能发送 {kind} 消息", "t")
    return received


async def websocket_endpoint(websocket: WebSocket) -> None:
    service: MeetingService = websocket.app.state.service
    failures: FailureLimiter = websocket.app.state.failed_logins
    await websocket.accept()
    bucket = TokenBucket(rate=20, burst=40)
    address = websocket.client.host if websocket.client else "?"
    state = SessionState.NEW
    try:
        client: Client | None = None
        hello: messages.Hello | None = None
        try:
            async with asyncio.timeout(HELLO_TIMEOUT):
                while client is None:
                    received = await _receive(websocket, bucket)
                    if received is None:
                        continue
                    try:
                        checked = _check_allowed(state, None, received)
                    except HelloFirst as error:  # the session stays new
                        await _send_error(websocket, error, received)
                        continue
                    except Rejected as error:  # a hello that cannot be one: goodbye
                        await _send_error(websocket, error, received)
                        await websocket.close(CLOSE_POLICY, error_code(error))
                        return
                    assert isinstance(checked, messages.Hello)  # all a new session accepts
                    hello = checked
                    client = await _hello(websocket, service, failures, address, hello)
                    if client is None:
                        return
        except TimeoutError:  # a socket that never says hello holds nothing of ours for long
            await websocket.close(CLOSE_POLICY, "hello_timeout")
            return
        state = SessionState.READY
        async with connected(service.hub, client):
            service.hub.add(client)  # before the welcome is built, so no view is missed
            client.welcome(await _welcome(service, client, hello))
            while True:
                message = await _receive(websocket, bucket, client)
                if message is not None:
                    await _dispatch(service, client, state, message)
                    # An idle phone waits here for minutes: holding its last ballot (dozens of
                    # objects) would give the garbage collector thousands of them to walk.
                    message = None
    except WebSocketDisconnect:
        return


async def _receive(
    websocket: WebSocket, bucket: TokenBucket, client: Client | None = None
) -> messages.Message | messages.Faulty | None:
    """The next frame's message (or what is wrong with it); None once a frame that is no
    message at all, or one over the rate, has been answered."""
    frame = await websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000))
    reply = client.reply if client else None
    raw = frame.get("bytes")
    request: messages.Message | messages.Faulty | None = None
    problem: BadFrame | None = None
    try:
        if raw is None:
            raise BadFrame("只接受 msgpack 编码的二进制帧")
        request = messages.decode_frame(raw)
    except BadFrame as error:
        problem = error
    if not bucket.take():
        await _error(websocket, reply, RateLimited("操作过于频繁，请稍后再试"), request)
        return None
    if problem is not None:
        await _error(websocket, reply, problem)
        return None
    return request


async def _hello(
    websocket: WebSocket,
    service: MeetingService,
    failures: FailureLimiter,
    address: str,
    message: messages.Hello,
) -> Client | None:
    """The client a checked hello asks for; None (the connection closed) if it is refused."""
    role = message.role
    client = Client(
        role, websocket.send_bytes, (websocket.scope.get("extensions") or {}).get(EXTENSION)
    )
    if role == "phone":
        token = message.token
        if failures.blocked(address):
            await websocket.close(CLOSE_POLICY, "rate_limited")
            return None
        try:
            group = await service.card_group(token)
        except Rejected as error:  # the store is unreachable: the phone will try again
            await _send_error(websocket, error, message)
            await websocket.close(CLOSE_TRY_AGAIN, error_code(error))
            return None
        if group is None:
            failures.record(address)
            await websocket.close(CLOSE_POLICY, "bad_token")
            return None
        client.token_hash, client.group = service.token_hash(token), group
    elif role == "chair":
        if failures.blocked(address) or not service.check_chair_key(message.key):
            failures.record(address)
            await websocket.close(CLOSE_POLICY, "bad_key")
            return None
    elif role == "expert":
        expert = None if failures.blocked(address) else service.expert_for_key(message.key)
        if expert is None:
            failures.record(address)
            await websocket.close(CLOSE_POLICY, "bad_key")
            return None
        client.expert = expert
    elif role != "screen":
        await websocket.close(CLOSE_POLICY, "bad_role")
        return None
    return client


async def _welcome(
    service: MeetingService, client: Client, hello: messages.Hello | None
) -> dict[str, Any]:
    welcome: dict[str, Any] = {"t": "welcome", "role": client.role, "v": service.state.version}
    welcome["now"] = service.clock()
    if client.role == "phone":
        assert client.token_hash is not None and client.group is not None
        welcome["view"] = service.views.phone_view()
        welcome["group"] = client.group
        welcome["group_name"] = service.meeting.group(client.group).name
        welcome["voted"] = await service.voted_rounds(client.token_hash)
        voter = service.voter_of(client.token_hash)
        if voter:  # 部分实名: the member is told their ballot carries their name
            welcome["voter_name"] = service.meeting.member(voter).name
    elif client.role == "screen":
        welcome["view"] = service.views.screen_view()
    elif client.role == "expert":
        assert client.expert is not None
        welcome["view"] = service.views.expert_view(client.expert)
    else:
        welcome["view"] = service.views.chair_view()
    _echo_id(welcome, hello)
    return welcome


async def _dispatch(
    service: MeetingService,
    client: Client,
    state: SessionState,
    received: messages.Message | messages.Faulty,
) -> None:
    try:
        message = _check_allowed(state, client.role, received)
        if isinstance(message, messages.Cast):
            assert client.token_hash is not None and client.group is not None
            answer = await messages.answer_cast(service, client.token_hash, client.group, message)
        elif isinstance(message, messages.Chair):
            answer = await messages.answer_chair(service, message)
        elif isinstance(message, messages.Paper):
            answer = await messages.answer_paper(service, message)
        elif isinstance(message, messages.Unseal):
            answer = await messages.answer_unseal(service, message)
        elif isinstance(message, messages.Score):
            assert client.expert is not None
            answer = await messages.answer_score(service, client.expert, message)
        else:  # ping: the one other message a ready session may send
            answer = {"t": "pong", "now": service.clock()}
    except Rejected as error:
        answer = error_message(error)
    _echo_id(answer, received)
    client.reply(answer)


def _echo_id(reply: dict[str, Any], request: messages.Message | messages.Faulty | None) -> None:
    found = messages.reply_id(request)
    if found is not None:
        reply["id"] = found


async def _error(
    websocket: WebSocket,
    reply: Any,
    error: Rejected,
    request: messages.Message | messages.Faulty | None = None,
) -> None:
    if reply is not None:
        message = error_message(error)
        _echo_id(message, request)
        reply(message)
    else:
        await _send_error(websocket, error, request)


async def _send_error(
    websocket: WebSocket, error: Rejected, request: messages.Message | messages.Faulty | None
) -> None:
    message = error_message(error)
    _echo_id(message, request)
    await websocket.send_bytes(pack(message))
