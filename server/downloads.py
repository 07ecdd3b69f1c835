"""The pages' files and addresses, behind the chair key: `GET /api/download/{kind}` (the join
cards, the paper ballot, the signed sheets, the feedback, the workbook, the ballot export, the
备案 package), `GET /api/archive` (its older name for the package) and `GET /api/addresses`.

The files are made by the callable the command that started the server handed it
(`Settings.make_download`: `cli.page_downloads`), since the server layer prints nothing.
A rehearsal server (演练) makes only the cards and the paper ballot: the signed and official
files are refused here, whatever the maker would do.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meeting.errors import Refused
from server.errors import NotFound
from server.http_api import NO_STORE, _handled, _require_chair
from tally.errors import InputError

REHEARSAL_KINDS = ("cards", "ballots")
NOT_IN_REHEARSAL = "演练不生成正式文件：测评结果和备案材料只在正式会议中生成"


async def _send(request: Request, kind: str) -> Response:
    settings = request.app.state.settings
    make = settings.make_download
    if make is None:
        raise NotFound("本服务器不提供文件下载，请用 pingyi print / export / archive 命令", "kind")
    if settings.rehearsal and kind not in REHEARSAL_KINDS:
        raise Refused(NOT_IN_REHEARSAL, "kind")
    try:
        # In a thread: signing a sheet takes seconds, and the votes must not wait for it.
        name, body, media_type = await asyncio.to_thread(make, kind)
    except KeyError as error:
        if error.args != (kind,):  # a KeyError of the maker's own is a bug, not a 404
            raise
        raise NotFound(f"没有名为“{kind}”的下载文件", "kind") from None
    except InputError as error:  # e.g. the vote not yet counted, the 综合评价 not yet fixed
        raise Refused(error.message, "kind") from None
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    headers = {**NO_STORE, "Content-Disposition": disposition}
    return Response(body, media_type=media_type, headers=headers)


@_handled
async def download(request: Request) -> Response:
    _require_chair(request)
    return await _send(request, request.path_params["kind"])


@_handled
async def archive(request: Request) -> Response:
    """The 备案 package under the name the 会后 page first used."""
    _require_chair(request)
    return await _send(request, "archive")


@_handled
async def addresses(request: Request) -> Response:
    """Where phones reach this server: the chair console warns when the join cards' and the
    QR code's address (`public_url`) opens on this machine only."""
    _require_chair(request)
    settings = request.app.state.settings
    body = {
        "public_url": settings.public_url,
        "loopback": settings.public_url_loopback,
        "lan": list(settings.lan_urls),
    }
    return JSONResponse(body, headers=NO_STORE)


def routes() -> list[Any]:
    return [
        Route("/api/download/{kind}", download),
        Route("/api/archive", archive),
        Route("/api/addresses", addresses),
    ]
