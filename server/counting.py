"""The counting station (计票台, `/count`): its page, the reconciliation panel
(`GET /api/count`), the paper ballots it enters (`POST /api/count/paper`, the `paper`
message's body and answer) and the 回收 figures it types (`POST /api/count/returned`).

Three keys open it (docs/security.md): the 计票人's count key, which enters and reads; the
监票人's observer key, which only reads; and the chair key, which does both. The first two are
derived from the chair key (`meeting.room_code`), so nothing new is stored, and the chair
console hands them out (`GET /api/count-links`).
"""

from __future__ import annotations

from typing import Any, Literal

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meeting import count_view as station
from meeting import room_code
from meeting.errors import Unavailable
from server import messages
from server.errors import BadKey, RateLimited
from server.http_api import NO_STORE, _bearer, _body, _handled, _json_body, _page, _require_chair
from server.messages import Paper
from server.service import MeetingService

Role = Literal["chair", "count", "observer"]
RETURNED_FIELDS = ("group", "count", "by")


def _service(request: Request) -> MeetingService:
    return request.app.state.service


def _role(request: Request) -> Role:
    """Whose key the request carries: the chair's, the 计票人's or the 监票人's."""
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    key = _bearer(request)
    keys: room_code.RoomKeys = request.app.state.room_keys
    if room_code.is_count_key(keys, key):
        return "count"
    if room_code.is_observer_key(keys, key):
        return "observer"
    if _service(request).check_chair_key(key):
        return "chair"
    failures.record(address)
    raise BadKey("计票台密钥错误：请从主持人控制台的“计票台”或“监票人”链接打开", "key")


def _require_writer(request: Request) -> Role:
    role = _role(request)
    if role == "observer":
        raise BadKey("监票人密钥只能查看核对表，不能录入", "key")
    return role


@_handled
async def count(request: Request) -> Response:
    role = _role(request)
    service = _service(request)
    body = {
        "role": role,
        "v": service.state.version,
        "now": service.clock(),
        "view": station.count_view(service.meeting, service.state),
    }
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def paper(request: Request) -> Response:
    _require_writer(request)
    raw, service = await _body(request), _service(request)
    reply = await messages.answer_paper(service, messages.decode_body(Paper, raw))
    reply.pop("t")
    return JSONResponse(reply, headers=NO_STORE)


@_handled
async def returned(request: Request) -> Response:
    _require_writer(request)
    body = await _json_body(request)
    unknown = sorted(str(name) for name in body if name not in RETURNED_FIELDS)
    if unknown:
        raise messages.unknown_field(unknown[0])
    service = _service(request)
    event = station.decide_returned(
        service.meeting,
        service.state,
        body.get("group"),
        body.get("count"),
        body.get("by", ""),
        service.clock(),
    )
    try:
        version, _ = await service.store.append([event], expect=None)
        await service.projection.catch_up()
    except (RedisError, OSError):
        raise Unavailable() from None
    return JSONResponse({"v": max(version, service.state.version)}, headers=NO_STORE)


@_handled
async def links(request: Request) -> Response:
    """The chair console's links to the station: the 计票人's and the 监票人's."""
    _require_chair(request)
    keys: room_code.RoomKeys = request.app.state.room_keys
    body: dict[str, Any] = {
        "count_key": keys.count_key,
        "count_url": f"/count?key={keys.count_key}",
        "observer_key": keys.observer_key,
        "observer_url": f"/count?key={keys.observer_key}",
    }
    return JSONResponse(body, headers=NO_STORE)


def routes() -> list[Any]:
    return [
        Route("/count", _page("count", private=True)),
        Route("/api/count", count),
        Route("/api/count/paper", paper, methods=["POST"]),
        Route("/api/count/returned", returned, methods=["POST"]),
        Route("/api/count-links", links),
    ]
