"""The setup page's app: `pingyi serve` with no meeting file (or with --setup) serves this
instead of the meeting, so that a secretariat creates the meeting in a browser.

Routes, all but the page itself behind the one-time setup key (``Authorization: Bearer``):
    GET  /setup                the page (kiosk/static/setup.html)
    GET  /api/setup/meeting    the meeting to start from (the file's, when editing), where it
                               will be saved and whether that file exists
    GET  /api/setup/template   the roster template (名单模板.xlsx)
    POST /api/setup/roster     an uploaded roster (the xlsx bytes as the body) → its reporters
                               and groups, or every error with its sheet, row and column
    POST /api/setup/check      {"meeting": {...}} → ok, or the error and the key path it names
                               (the meeting file's own messages: `tally.meeting_file`)
    POST /api/setup/save       {"meeting": {...}, "overwrite": bool} → the meeting file written
                               (by the command's `save`: the server layer writes no files),
                               then the app stops and the command serves the meeting

The meeting travels as the dict `tally.meeting_file.parse_meeting` takes (JSON: numbers as
decimals, the date as text) and is saved as `tally.meeting_toml.to_toml` writes it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server.app import SecurityHeaders
from server.ratelimit import FailureLimiter
from server.roster_xlsx import XLSX_TYPE, read_roster_xlsx, roster_template
from tally.errors import InputError
from tally.meeting_file import parse_meeting, parse_meeting_text
from tally.meeting_toml import to_toml
from tally.roster import RosterRejected, read_roster

NO_STORE = {"Cache-Control": "no-store"}
SOURCE = "meeting.toml"  # the name the messages start with; stripped from the key path
MAX_JSON = 512 * 1024
MAX_XLSX = 2 * 1024 * 1024


class FileExists(Exception):
    """`save` found a file at the path and was not asked to overwrite it."""


@dataclass
class SetupSettings:
    key: str
    out_name: str  # where the meeting will be saved, as the page shows it
    out_exists: Callable[[], bool]
    # Writes the meeting file's bytes (FileExists when there is one and overwrite is False).
    save: Callable[[bytes, bool], None]
    # Called once the save's answer has gone out: the command stops this app and serves.
    saved: Callable[[], None]
    chair_url: Callable[[], str]  # the chair console with its key, where the page goes next
    initial: dict[str, Any] | None = None  # the meeting file being edited, as a dict
    editing: bool = False
    # Reads an items file a form names (`items = "items/….toml"`), beside the meeting file.
    read_items: Callable[[str], str] | None = None
    # The addresses phones could open (this machine's LAN addresses), the chosen one first:
    # the page offers them, and the meeting is served with the one picked (cards, join QR).
    addresses: tuple[str, ...] = ()
    choose_address: Callable[[str], None] = lambda url: None


def create_setup_app(settings: SetupSettings) -> Starlette:
    failures = FailureLimiter(limit=20, window=60)
    done: list[str] = []  # the path once saved: the key is spent, nothing more is taken

    def authorised(request: Request) -> JSONResponse | None:
        if done:
            return _error(401, "会议已保存，设置密钥已失效")
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        address = request.client.host if request.client else "?"
        if failures.blocked(address):
            return _error(429, "尝试次数过多，请稍后再试")
        if not hmac.compare_digest(key.encode(), settings.key.encode()):
            failures.record(address)
            return _error(401, "设置密钥错误：请用启动时终端上显示的设置页面地址或密钥")
        return None

    async def page(request: Request) -> Response:
        source = resources.files("kiosk").joinpath("static/setup.html")
        return Response(
            source.read_bytes(), media_type="text/html; charset=utf-8", headers=NO_STORE
        )

    async def home(request: Request) -> Response:
        return RedirectResponse("/setup", status_code=303)

    async def meeting(request: Request) -> Response:
        if (refused := authorised(request)) is not None:
            return refused
        body = {
            "meeting": settings.initial,
            "editing": settings.editing,
            "out": settings.out_name,
            "exists": settings.out_exists(),
            "addresses": list(settings.addresses),
        }
        return JSONResponse(body, headers=NO_STORE)

    async def template(request: Request) -> Response:
        if (refused := authorised(request)) is not None:
            return refused
        name = quote("名单模板.xlsx")
        headers = {**NO_STORE, "Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        return Response(roster_template(), media_type=XLSX_TYPE, headers=headers)

    async def roster(request: Request) -> Response:
        if (refused := authorised(request)) is not None:
            return refused
        data = await _read(request, MAX_XLSX)
        if data is None:
            return _error(413, "文件过大（最多 2 MB）")
        try:
            found = read_roster(read_roster_xlsx(data))
        except RosterRejected as rejected:
            errors = [error.as_dict() for error in rejected.errors]
            return JSONResponse({"ok": False, "errors": errors}, 422, headers=NO_STORE)
        return JSONResponse({"ok": True, **found}, headers=NO_STORE)

    async def check(request: Request) -> Response:
        if (refused := authorised(request)) is not None:
            return refused
        body = await _json(request)
        if isinstance(body, Response):
            return body
        try:
            summary = _summary(body.get("meeting"), settings.read_items)
            return JSONResponse({"ok": True, **summary}, headers=NO_STORE)
        except InputError as error:
            return JSONResponse({"ok": False, "error": _where(error)}, headers=NO_STORE)

    async def save(request: Request) -> Response:
        if (refused := authorised(request)) is not None:
            return refused
        body = await _json(request)
        if isinstance(body, Response):
            return body
        data = body.get("meeting")
        address = body.get("address") or ""
        if address and address not in settings.addresses:
            msg = "所选的手机扫码地址不是本机的地址，请从列表中选择"
            return JSONResponse({"ok": False, "error": {"path": "", "msg": msg}}, 422)
        try:
            text = meeting_text(data, settings.read_items)
        except InputError as error:
            return JSONResponse({"ok": False, "error": _where(error)}, 422, headers=NO_STORE)
        try:
            settings.save(text.encode("utf-8"), bool(body.get("overwrite")) or settings.editing)
        except FileExists:
            msg = (
                f"{settings.out_name} 已存在：勾选“覆盖已有文件”后再保存，"
                "或用 --meeting-out 指定另一个文件名重新启动"
            )
            return JSONResponse({"ok": False, "error": {"path": "", "msg": msg}}, 409)
        except InputError as error:
            return JSONResponse({"ok": False, "error": {"path": "", "msg": str(error)}}, 500)
        done.append(settings.out_name)
        if address:
            settings.choose_address(address)
        answer = {"ok": True, "path": settings.out_name, "chair": settings.chair_url()}
        return JSONResponse(answer, headers=NO_STORE, background=BackgroundTask(settings.saved))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return _error(404, "设置页面已打开：会议尚未保存（请打开 /setup）")
        if status == 405:
            return _error(405, f"该地址不接受 {request.method} 请求")
        return _error(500, "服务器内部错误，请稍后重试")

    static = resources.files("kiosk").joinpath("static")
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/setup", page),
            Route("/api/setup/meeting", meeting),
            Route("/api/setup/template", template),
            Route("/api/setup/roster", roster, methods=["POST"]),
            Route("/api/setup/check", check, methods=["POST"]),
            Route("/api/setup/save", save, methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ],
        exception_handlers={HTTPException: not_found, Exception: not_found},
    )
    app.add_middleware(SecurityHeaders)
    return app


def meeting_text(data: Any, read_items: Callable[[str], str] | None = None) -> str:
    """The meeting file's text for a meeting dict, or the InputError that refuses it; the text
    is read back and must give the same meeting."""
    if not isinstance(data, dict):
        raise InputError(SOURCE, "请求中缺少会议（meeting）")
    expected = parse_meeting(data, SOURCE, read_items)
    try:
        text = to_toml(data)
    except (TypeError, ValueError) as error:
        raise InputError(SOURCE, f"无法写成会议文件：{error}") from None
    if (
        parse_meeting_text(text, SOURCE, read_items) != expected
    ):  # pragma: no cover - to_toml's promise
        raise InputError(SOURCE, "写成的会议文件读回后与所填不一致，未保存")
    return text


def _summary(data: Any, read_items: Callable[[str], str] | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(SOURCE, "请求中缺少会议（meeting）")
    parsed = parse_meeting(data, SOURCE, read_items)
    onsite = sum(1 for r in parsed.reporters if not r.written)
    text = (
        f"共{len(parsed.reporters)}位述职人（现场{onsite}位、书面{len(parsed.reporters) - onsite}位），"
        f"{len(parsed.groups)}个投票组别，应到{parsed.seats}人"
    )
    return {"summary": text}


def _where(error: InputError) -> dict[str, str]:
    """The key path the error names (``reporters[3].id``; "" for the file as a whole)."""
    where = error.where
    path = where[len(SOURCE) :].strip() if where.startswith(SOURCE) else where
    return {"path": path, "msg": error.message}


async def _json(request: Request) -> dict[str, Any] | Response:
    raw = await _read(request, MAX_JSON)
    if raw is None:
        return _error(413, "请求过大")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        return _error(400, "请求体应为 JSON")
    if not isinstance(body, dict):
        return _error(400, "请求体应为 JSON 对象")
    return body


async def _read(request: Request, limit: int) -> bytes | None:
    """The body, or None once it grows past `limit` (the rest is not read into memory)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, msg: str) -> JSONResponse:
    return JSONResponse({"error": {"msg": msg}}, status_code=status, headers=NO_STORE)
