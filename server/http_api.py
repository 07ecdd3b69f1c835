"""HTTP routes: the pages, the JSON API (fallbacks for the WebSocket messages) and health."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from meeting import views
from meeting.errors import BadField, BadToken, NotOpenMode, Rejected
from server import messages
from server.errors import BadFrame, BadKey, BodyTooLarge, RateLimited, error_code, error_status
from server.service import MeetingService

NO_STORE = {"Cache-Control": "no-store"}
Endpoint = Callable[[Request], Awaitable[Response]]


def _service(request: Request) -> MeetingService:
    return request.app.state.service


def error_response(error: Rejected) -> JSONResponse:
    body = {"code": error_code(error), "msg": error.msg}
    if error.field:
        body["field"] = error.field
    return JSONResponse({"error": body}, status_code=error_status(error), headers=NO_STORE)


def _page(name: str, private: bool = False) -> Endpoint:
    async def page(request: Request) -> Response:
        source = resources.files("kiosk").joinpath(f"static/{name}.html")
        if not source.is_file():
            return Response("页面尚未安装", status_code=404, media_type="text/plain; charset=utf-8")
        headers = NO_STORE if private else {"Cache-Control": "no-cache"}
        return Response(source.read_bytes(), media_type="text/html; charset=utf-8", headers=headers)

    return page


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise BodyTooLarge("请求过大（最多 64 KiB）")
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
        body = service.views.message(await service.views.chair_view())
    elif role == "screen":
        body = service.views.message(service.views.screen_view())
    else:
        raise BadField("role 应为 screen 或 chair", "role")
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def cast(request: Request) -> Response:
    service = _service(request)
    body = await _json_body(request)
    token = body.pop("token", None)
    if not isinstance(token, str):
        raise BadField("缺少参会卡 token", "token")
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    group = await service.card_group(token)
    if group is None:
        failures.record(address)
        raise BadToken("参会卡无效", "token")
    body["t"] = "cast"
    messages.check_fields(body)
    answer = await messages.answer_cast(service, service.token_hash(token), group, body)
    return JSONResponse(
        {"receipt": answer["receipt"], "round": answer["round"], "again": answer["again"]},
        headers=NO_STORE,
    )


def _chair_call(kind: str) -> Endpoint:
    @_handled
    async def endpoint(request: Request) -> Response:
        _require_chair(request)
        body = await _json_body(request)
        body["t"] = kind
        messages.check_fields(body)
        answer = await (messages.answer_chair if kind == "chair" else messages.answer_paper)(
            _service(request), body
        )
        answer.pop("t")
        return JSONResponse(answer, headers=NO_STORE)

    return endpoint


@_handled
async def join(request: Request) -> Response:
    failures = request.app.state.join_attempts
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("请求过于频繁，请稍后再试")
    failures.record(address)
    body = await _json_body(request)
    unknown = sorted(str(name) for name in body if name != "group")
    if unknown:
        raise messages.unknown_field(unknown[0])
    token = await _service(request).join_open(body.get("group"))
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"token": token, "url": f"{base}/j/{token}"}, headers=NO_STORE)


@_handled
async def join_qr(request: Request) -> Response:
    service = _service(request)
    if service.meeting.join != "open" or not service.views.join_url:
        raise NotOpenMode("本次会议使用参会卡入场")
    image = qrcode.make(
        service.views.join_url, image_factory=qrcode.image.svg.SvgPathImage, border=2
    )
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), media_type="image/svg+xml")


async def health(request: Request) -> Response:
    service = _service(request)
    ok = await service.store_reachable()
    body = {"ok": ok, "redis": ok, "v": service.state.version}
    return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)


def routes() -> list[Any]:
    static_dir = resources.files("kiosk").joinpath("static")
    return [
        Route("/", _page("index")),
        Route("/j/{token}", _page("ballot", private=True)),
        Route("/join", _page("join", private=True)),
        Route("/screen", _page("screen")),
        Route("/chair", _page("chair", private=True)),
        Route("/api/meeting", meeting_info),
        Route("/api/view", view),
        Route("/api/cast", cast, methods=["POST"]),
        Route("/api/chair", _chair_call("chair"), methods=["POST"]),
        Route("/api/paper", _chair_call("paper"), methods=["POST"]),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/join-qr.svg", join_qr),
        Route("/healthz", health),
        Mount("/static", StaticFiles(directory=str(static_dir), check_dir=False), name="static"),
    ]
