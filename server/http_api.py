"""HTTP routes: the pages, the JSON API (fallbacks for the WebSocket messages) and health."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

import qrcode
import qrcode.image.svg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from meeting import room_code, views
from meeting.errors import BadField, BadToken, NotOpenMode, Rejected
from server import messages, paper_import
from server.errors import (
    BadFrame,
    BadKey,
    BadRoomCode,
    BodyTooLarge,
    Internal,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    error_code,
    error_status,
)
from server.messages import Chair, ClientMessage, Paper, Unseal
from server.service import MeetingService

NO_STORE = {"Cache-Control": "no-store"}
Endpoint = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=ClientMessage)


def _service(request: Request) -> MeetingService:
    return request.app.state.service


def error_response(error: Rejected) -> JSONResponse:
    body = {"code": error_code(error), "msg": error.msg}
    if error.field:
        body["field"] = error.field
    return JSONResponse({"error": body}, status_code=error_status(error), headers=NO_STORE)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, a method an endpoint does not take) in JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(NotFound("找不到该地址", "path"))
    if status == 405:
        return error_response(MethodNotAllowed(f"该地址不接受 {request.method} 请求", "method"))
    return await server_fault(request, exc)


async def server_fault(request: Request, exc: Exception) -> Response:
    """Anything that escaped a handler: a bug (logged by Starlette), answered in JSON."""
    return error_response(Internal("服务器内部错误，请稍后重试"))


EXCEPTION_HANDLERS = {HTTPException: http_error, Exception: server_fault}


def _page(name: str, private: bool = False) -> Endpoint:
    async def page(request: Request) -> Response:
        source = resources.files("kiosk").joinpath(f"static/{name}.html")
        if not source.is_file():
            return Response("页面尚未安装", status_code=404, media_type="text/plain; charset=utf-8")
        headers = NO_STORE if private else {"Cache-Control": "no-cache"}
        return Response(source.read_bytes(), media_type="text/html; charset=utf-8", headers=headers)

    return page


async def _body(request: Request) -> bytes:
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise BodyTooLarge("请求过大（最多 64 KiB）")
    return raw


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await _body(request)
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        raise BadFrame("请求体应为 JSON") from None
    if not isinstance(body, dict):
        raise BadFrame("请求体应为 JSON 对象")
    return body


def _require_chair(request: Request) -> None:
    header = request.headers.get("authorization", "")
    key = header[7:] if header.lower().startswith("bearer ") else None
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    if not _service(request).check_chair_key(key):
        failures.record(address)
        raise BadKey("主持人密钥错误", "key")


def _handled(handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Rejected as error:
            return error_response(error)

    return endpoint


@_handled
async def meeting_info(request: Request) -> Response:
    return JSONResponse(views.meeting_info(_service(request).meeting))


@_handled
async def view(request: Request) -> Response:
    service = _service(request)
    role = request.query_params.get("role", "screen")
    if role == "chair":
        _require_chair(request)
        body = service.views.message(service.views.chair_view())
    elif role == "screen":
        body = service.views.message(service.views.screen_view())
    else:
        raise BadField("role 应为 screen 或 chair", "role")
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def cast(request: Request) -> Response:
    service = _service(request)
    body = messages.decode_body(messages.CastBody, await _body(request))
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    group = await service.card_group(body.token)
    if group is None:
        failures.record(address)
        raise BadToken("参会卡无效", "token")
    answer = await messages.answer_cast(service, service.token_hash(body.token), group, body)
    return JSONResponse(
        {"receipt": answer["receipt"], "round": answer["round"], "again": answer["again"]},
        headers=NO_STORE,
    )


def _chair_call(
    schema: type[M], answer: Callable[[MeetingService, M], Awaitable[dict[str, Any]]]
) -> Endpoint:
    """The HTTP fallback of a chair-console message: its JSON body, the same answer."""

    @_handled
    async def endpoint(request: Request) -> Response:
        _require_chair(request)
        raw, service = await _body(request), _service(request)
        reply = await answer(service, messages.decode_body(schema, raw))
        reply.pop("t")
        return JSONResponse(reply, headers=NO_STORE)

    return endpoint


_enter_evaluation = _chair_call(messages.Evaluate, messages.answer_evaluate)


@_handled
async def evaluation(request: Request) -> Response:
    """综合评价 (the 会后 page), behind the chair key: GET the record as it stands
    (`meeting.views.evaluation_view`), POST one reporter's entry."""
    if request.method == "POST":
        return await _enter_evaluation(request)
    _require_chair(request)
    service = _service(request)
    body = views.evaluation_view(service.meeting, service.state)
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def paper_ballots(request: Request) -> Response:
    """The tellers' file of paper ballots (the ballot CSV) into the open round: all checked,
    then all entered (`server/paper_import.py`); `?name=` names the file in its errors,
    `?round=` refuses it unless that round is the open one."""
    _require_chair(request)
    body = await paper_import.read_body(request.stream())
    asked = request.query_params
    status, answer = await paper_import.enter_file(
        _service(request), body, asked.get("name"), asked.get("round")
    )
    return JSONResponse(answer, status_code=status, headers=NO_STORE)


@_handled
async def join(request: Request) -> Response:
    failures = request.app.state.join_attempts
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("请求过于频繁，请稍后再试")
    failures.record(address)
    body = await _json_body(request)
    unknown = sorted(str(name) for name in body if name not in ("group", "room"))
    if unknown:
        raise messages.unknown_field(unknown[0])
    service = _service(request)
    if service.meeting.join == "open":  # a meeting with cards says so (join_open), room or not
        _check_room_code(request, body.get("room"))
    token = await service.join_open(body.get("group"))
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"token": token, "url": f"{base}/j/{token}"}, headers=NO_STORE)


def _check_room_code(request: Request, room: Any) -> None:
    """The room code on the projector now, or the one before it (docs/security.md)."""
    if room is None:
        raise BadRoomCode("请输入大屏幕上显示的6位入场码", "room")
    if not isinstance(room, str):
        raise BadField("room 应为字符串：大屏幕上的6位入场码", "room")
    keys: room_code.RoomKeys = request.app.state.room_keys
    if not room_code.accepts(keys.code_key, room, _service(request).clock()):
        raise BadRoomCode("入场码不正确或已过期，请输入大屏幕上现在显示的6位入场码", "room")


@_handled
async def join_qr(request: Request) -> Response:
    """The join page's QR code; with `?room=`, the URL carries that code. Any well-formed code
    is drawn, valid or not: this endpoint says nothing about which codes are valid."""
    service = _service(request)
    if service.meeting.join != "open" or not service.views.join_url:
        raise NotOpenMode("本次会议使用参会卡入场")
    url = service.views.join_url
    room = request.query_params.get("room")
    if room is not None:
        code = room_code.normalise(room)
        if code is None:
            raise BadRoomCode("入场码应为6位数字", "room")
        url = f"{url}?room={code}"
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), media_type="image/svg+xml")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


@_handled
async def room(request: Request) -> Response:
    """The projector opened from the chair console asks for the room code: with the screen
    key (or the chair key), at start and whenever the code is due to change (`until`)."""
    service = _service(request)
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    key = _bearer(request)
    keys: room_code.RoomKeys = request.app.state.room_keys
    if not (room_code.is_screen_key(keys, key) or service.check_chair_key(key)):
        failures.record(address)
        raise BadKey("大屏密钥错误：请从主持人控制台的“打开大屏”链接打开大屏", "key")
    if service.meeting.join != "open" or not service.views.join_url:
        raise NotOpenMode("本次会议使用参会卡入场，没有入场码")
    now = service.clock()
    shown = room_code.current(keys.code_key, now)
    body = {
        "room": shown.code,
        "until": shown.until,
        "now": now,
        "join_url": f"{service.views.join_url}?room={shown.code}",
    }
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def screen_link(request: Request) -> Response:
    """The chair console's link to the projector: it carries the screen key, never the
    chair key (the projector's address bar may be on the wall)."""
    _require_chair(request)
    key = request.app.state.room_keys.screen_key
    return JSONResponse({"key": key, "url": f"/screen?key={key}"}, headers=NO_STORE)


@_handled
async def receipts(request: Request) -> Response:
    """The receipts of the revealed rounds (the `/check` page), sorted so that the list says
    nothing of the order ballots came in; never a mark, a group or a card. `?round=N`: that
    round only, and only once its result is revealed."""
    service = _service(request)
    revealed = sorted(r.id for r in service.state.rounds.values() if r.status == "revealed")
    asked = request.query_params.get("round")
    if asked is not None:
        if not asked.isdigit() or len(asked) > 9:
            raise BadField("round 应为投票轮次的编号", "round")
        if int(asked) not in revealed:
            raise NotFound(f"第 {int(asked)} 轮的结果尚未公布，回执暂不可查", "round")
        revealed = [int(asked)]
    rounds = []
    for round_id in revealed:
        found = await service.receipts(round_id)
        held = service.state.rounds[round_id]
        rounds.append({"round": round_id, "reporters": list(held.reporters), "receipts": found})
    return JSONResponse({"rounds": rounds}, headers=NO_STORE)


async def health(request: Request) -> Response:
    service = _service(request)
    ok = await service.store_reachable()
    body = {"ok": ok, "redis": ok, "v": service.state.version}
    return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)


class KioskFiles(StaticFiles):
    """The pages' scripts and styles, revalidated on every load (`no-cache`: the browser keeps
    them and asks with their ETag, a 304 costs ~200 bytes). Their names carry no version, so a
    `max-age` would keep an old script across a server upgrade (docs/pages.md)."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Any, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response


def routes() -> list[Any]:
    # they build on this module's helpers: imported here
    from server import counting, downloads, panel_api

    static_dir = resources.files("kiosk").joinpath("static")
    return [
        Route("/", _page("index")),
        Route("/j/{token}", _page("ballot", private=True)),
        Route("/join", _page("join", private=True)),
        Route("/screen", _page("screen")),
        Route("/chair", _page("chair", private=True)),
        Route("/after", _page("after", private=True)),
        Route("/api/meeting", meeting_info),
        Route("/api/view", view),
        Route("/api/cast", cast, methods=["POST"]),
        Route("/api/chair", _chair_call(Chair, messages.answer_chair), methods=["POST"]),
        Route("/api/paper", _chair_call(Paper, messages.answer_paper), methods=["POST"]),
        Route("/api/paper-ballots", paper_ballots, methods=["POST"]),
        Route("/api/unseal", _chair_call(Unseal, messages.answer_unseal), methods=["POST"]),
        Route("/api/evaluation", evaluation, methods=["GET", "POST"]),
        Route(
            "/api/evaluation/fix",
            _chair_call(messages.FixEvaluation, messages.answer_fix_evaluation),
            methods=["POST"],
        ),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/join-qr.svg", join_qr),
        Route("/api/room", room),
        Route("/api/screen-link", screen_link),
        Route("/check", _page("check")),
        Route("/api/receipts", receipts),
        Route("/healthz", health),
        *downloads.routes(),
        *counting.routes(),
        *panel_api.routes(),
        Mount("/static", KioskFiles(directory=str(static_dir), check_dir=False), name="static"),
    ]
