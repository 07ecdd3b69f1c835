"""HTTP routes: the pages, the JSON API (fallbacks for the WebSocket messages) and health."""

from __future__ import annotations

import io
import json
from importlib import resources
from typing import Any

import qrcode
import qrcode.image.svg
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server import messages
from server.cards import looks_like_token, token_hash
from server.errors import ProtocolError
from server.service import MeetingService

NO_STORE = {"Cache-Control": "no-store"}


def _service(request: Request) -> MeetingService:
    return request.app.state.service


def error_response(error: ProtocolError) -> JSONResponse:
    body = {"code": error.code, "msg": error.msg}
    if error.field:
        body["field"] = error.field
    return JSONResponse({"error": body}, status_code=error.status, headers=NO_STORE)


def _page(name: str, private: bool = False):  # type: ignore[no-untyped-def]
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
        raise ProtocolError("bad_frame", "请求过大（最多 64 KiB）", None, 413)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ProtocolError("bad_frame", "请求体应为 JSON", None, 400) from None
    if not isinstance(body, dict):
        raise ProtocolError("bad_frame", "请求体应为 JSON 对象", None, 400)
    return body


def _require_chair(request: Request) -> None:
    header = request.headers.get("authorization", "")
    key = header[7:] if header.lower().startswith("bearer ") else None
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise ProtocolError("rate_limited", "尝试次数过多，请稍后再试", None, 429)
    if not _service(request).check_chair_key(key):
        failures.record(address)
        raise ProtocolError("bad_key", "主持人密钥错误", "key", 401)


def _handled(handler):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ProtocolError as error:
            return error_response(error)

    return endpoint


@_handled
async def meeting_info(request: Request) -> Response:
    meeting = _service(request).meeting
    return JSONResponse(
        {
            "title": meeting.title,
            "date": meeting.date,
            "place": meeting.place,
            "join": meeting.join,
            "voting": meeting.voting,
            "reporters": [
                {"id": r.id, "name": r.name, "org": r.org, "mode": r.mode}
                for r in meeting.reporters
            ],
            "groups": [{"id": g.id, "name": g.name, "seats": g.seats} for g in meeting.groups],
            "grades": list(meeting.rules.grades),
        }
    )


@_handled
async def view(request: Request) -> Response:
    service = _service(request)
    role = request.query_params.get("role", "screen")
    if role == "chair":
        _require_chair(request)
        body = service.message(await service.chair_view())
    elif role == "screen":
        body = service.message(service.screen_view())
    else:
        raise ProtocolError("bad_field", "role 应为 screen 或 chair", "role")
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def cast(request: Request) -> Response:
    service = _service(request)
    body = await _json_body(request)
    token = body.pop("token", None)
    if not isinstance(token, str):
        raise ProtocolError("bad_field", "缺少参会卡 token", "token")
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise ProtocolError("rate_limited", "尝试次数过多，请稍后再试", None, 429)
    try:
        group = (
            await service.store.token_group(token_hash(token)) if looks_like_token(token) else None
        )
    except (RedisError, OSError):
        raise ProtocolError("unavailable", "系统暂不可用，正在重连", None, 503) from None
    if group is None:
        failures.record(address)
        raise ProtocolError("bad_token", "参会卡无效", "token", 403)
    body["t"] = "cast"
    messages.check_fields(body)
    answer = await messages.answer_cast(service, token_hash(token), group, body)
    return JSONResponse(
        {"receipt": answer["receipt"], "round": answer["round"], "again": answer["again"]},
        headers=NO_STORE,
    )


def _chair_call(kind: str):  # type: ignore[no-untyped-def]
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
        raise ProtocolError("rate_limited", "请求过于频繁，请稍后再试", None, 429)
    failures.record(address)
    body = await _json_body(request)
    token = await _service(request).join_open(body.get("group"))
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"token": token, "url": f"{base}/j/{token}"}, headers=NO_STORE)


@_handled
async def join_qr(request: Request) -> Response:
    service = _service(request)
    if service.meeting.join != "open" or not service.join_url:
        raise ProtocolError("not_open_mode", "本次会议使用参会卡入场", None, 404)
    image = qrcode.make(service.join_url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return Response(out.getvalue(), media_type="image/svg+xml")


async def health(request: Request) -> Response:
    service = _service(request)
    try:
        await service.store.redis.ping()
        ok = True
    except (RedisError, OSError):
        ok = False
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
