"""专家点评 and 项目指标 over HTTP (`meeting.panel`; docs/protocol.md "The panel").

- `/expert?key=` (an expert's page) and `GET /api/expert`: this expert's reporters and own
  scores, behind the expert's personal key; `POST /api/expert` {reporter, score}: a score
  (null clears it). With the chair key instead, {expert, reporter, score, entered_by}: a
  score typed in from the expert's paper, saying who typed it.
- `GET /api/panel` (chair key): each expert's link and how many reporters they scored, and
  what indicator file was imported.
- `POST /api/indicators?name=` (chair key): the organisers' indicator values, a CSV
  (`reporter` then one column per `[[indicators]]` id) or the same as an Excel sheet.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meeting import panel, views
from meeting.errors import BadField, Refused
from server.errors import BadKey, BodyTooLarge, RateLimited
from server.http_api import NO_STORE, _handled, _page, _require_chair, _service
from server.roster_xlsx import read_roster_xlsx
from server.service import MeetingService
from tally.errors import InputError
from tally.item_csv import parse_indicators_csv
from tally.roster import RosterRejected

MAX_BYTES = 1024 * 1024
NO_PANEL = "本次会议没有专家评审组（会议文件[experts] members）"


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def _expert(request: Request) -> str:
    """The expert whose key the request carries; BadKey (rate-limited) otherwise."""
    service = _service(request)
    if not panel.members(service.meeting):
        raise Refused(NO_PANEL, "expert")
    failures = request.app.state.failed_logins
    address = request.client.host if request.client else "?"
    if failures.blocked(address):
        raise RateLimited("尝试次数过多，请稍后再试")
    expert = service.expert_for_key(_key(request))
    if expert is None:
        failures.record(address)
        raise BadKey("专家密钥错误", "key")
    return expert


def _view(service: MeetingService, expert: str) -> dict[str, Any]:
    return views.expert_view(service.meeting, service.state, expert)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > 4096:
        raise BodyTooLarge("请求过大（最多 4 KiB）")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise BadField("请求体应为 JSON 对象", "body") from None
    if not isinstance(body, dict):
        raise BadField("请求体应为 JSON 对象", "body")
    return body


@_handled
async def expert(request: Request) -> Response:
    service = _service(request)
    if request.method == "GET":
        return JSONResponse(_view(service, _expert(request)), headers=NO_STORE)
    body = await _json(request)
    who, entered_by = _scorer(request, body)
    command = panel.ScoreReporter(who, body.get("reporter"), body.get("score"), entered_by)
    version = await service.record_panel(command)
    return JSONResponse({"v": version, **_view(service, who)}, headers=NO_STORE)


def _scorer(request: Request, body: dict[str, Any]) -> tuple[str, str]:
    """Who scores and who typed it: the expert whose key it is (""), or with the chair key the
    expert the body names and the person typing it in from the expert's paper."""
    service = _service(request)
    if service.expert_for_key(_key(request)) is not None or not service.check_chair_key(
        _key(request)
    ):
        return _expert(request), ""
    _require_chair(request)
    who, entered_by = body.get("expert"), body.get("entered_by")
    if not isinstance(who, str):
        raise BadField("expert 应为专家编号", "expert")
    if not isinstance(entered_by, str) or not entered_by.strip():
        raise BadField("代专家录入时须写明录入人（entered_by）", "entered_by")
    return who, entered_by


@_handled
async def panel_links(request: Request) -> Response:
    _require_chair(request)
    service = _service(request)
    body = _panel(service)
    for entry in body["experts"]:
        entry["url"] = f"/expert?key={service.expert_key(entry['id'])}"
    return JSONResponse(body, headers=NO_STORE)


@_handled
async def indicators(request: Request) -> Response:
    _require_chair(request)
    service = _service(request)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BYTES:
            raise BodyTooLarge("文件过大（最多 1 MiB）")
    name = (request.query_params.get("name") or "项目指标.csv")[:80]
    try:
        values = parse_indicators_csv(_as_csv(raw, name), service.meeting, name)
    except InputError as error:
        raise BadField(str(error), "indicators") from None
    version = await service.record_panel(panel.ImportIndicators(values, name))
    return JSONResponse({"v": version, **_panel(service)}, headers=NO_STORE)


def _panel(service: MeetingService) -> dict[str, Any]:
    return {
        **panel.panel_view(service.state.panel, service.meeting),
        "has_indicators": bool(service.meeting.appraisal.indicators),
    }


def _as_csv(raw: bytes, name: str) -> str:
    """The file as CSV text: an Excel workbook's first sheet, or the UTF-8 CSV itself."""
    if raw.startswith(b"PK"):
        try:
            sheets = read_roster_xlsx(raw)
        except RosterRejected:
            raise InputError(name, "不是可读取的Excel工作簿（.xlsx）") from None
        rows = next(iter(sheets.values()), [])
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(name, "应为 UTF-8 编码的 CSV 或 Excel 工作簿（.xlsx）") from None


def routes() -> list[Any]:
    return [
        Route("/expert", _page("expert", private=True)),
        Route("/api/expert", expert, methods=["GET", "POST"]),
        Route("/api/panel", panel_links),
        Route("/api/indicators", indicators, methods=["POST"]),
    ]
