"""One deployment, many meetings (`pingyi serve --meetings DIR`).

Each meeting is the single-meeting app (`server.app.create_app`) with its own settings: its
cards, chair key, signing key and data directory, its keys in Redis under its own hash tag.
It is mounted under `/m/<id>`, so its pages, socket and API are the single meeting's below
that prefix (the pages find the prefix in their own address: `BASE` in common.js); the
files in /static are shared. With an organisation file the deployment also serves the
season's pages (`server.season_app`). Every meeting starts and stops with the deployment.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from meeting import season
from meeting.views import latest_result
from server import season_app
from server.app import SecurityHeaders, Settings, create_app
from server.http_api import EXCEPTION_HANDLERS, NO_STORE, KioskFiles, _page
from server.record_reader import fixed_evaluation
from server.store import meeting_key
from tally.errors import InputError

PREFIX = "/m/{id}"


@dataclass(frozen=True)
class Hosted:
    id: str  # [a-z0-9-]: the URL prefix /m/<id> and the data directory <data>/meetings/<id>
    settings: Settings  # public_url already ends in /m/<id>


def create_deployment(
    hosted: list[Hosted],
    season_settings: Callable[[dict[str, Starlette]], season_app.SeasonSettings] | None = None,
) -> Starlette:
    """The deployment's app. `season_settings` is given the meetings' apps (their services
    exist once the deployment has started) and returns the season's settings; None: no
    organisation file, the meetings alone."""
    _no_shared_keys(hosted)
    apps = {h.id: create_app(h.settings) for h in hosted}
    site = Starlette(
        routes=[
            Route("/", _page("meetings")),
            Route("/healthz", _health(apps)),
            *(season_app.routes() if season_settings else []),
            Mount("/static", KioskFiles(directory=_static(), check_dir=False), name="static"),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    site.add_middleware(SecurityHeaders)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for sub in apps.values():  # one by one: a start that fails stops those started
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            if season_settings is not None:
                site.state.season = season_app.SeasonService(season_settings(apps))
            yield

    mounts = [Mount(PREFIX.format(id=meeting_id), app=sub) for meeting_id, sub in apps.items()]
    return Starlette(routes=[*mounts, Mount("", app=site)], lifespan=lifespan)


def hosted_outcomes(apps: dict[str, Starlette]) -> dict[str, season.Outcome]:
    """Each hosted meeting as the roll-up sees it: its latest result and fixed 综合评价."""
    found = {}
    for meeting_id, sub in apps.items():
        service = sub.state.service
        state = service.state
        result = latest_result(state, revealed_only=False)
        found[meeting_id] = season.outcome(
            service.meeting, result, fixed_evaluation(state.evaluation)
        )
    return found


def chair_links(apps: dict[str, Starlette]) -> dict[str, dict[str, str]]:
    """Each hosted meeting's chair console and 会后 page, with its chair key."""
    links = {}
    for meeting_id, sub in apps.items():
        key = sub.state.settings.data_dir.chair_key()
        base = PREFIX.format(id=meeting_id)
        links[meeting_id] = {
            "title": sub.state.service.meeting.title,
            "chair_url": f"{base}/chair?key={key}",
            "after_url": f"{base}/after?key={key}",
        }
    return links


def _no_shared_keys(hosted: list[Hosted]) -> None:
    """Two meetings with the same title and date would share their keys in Redis."""
    seen: dict[str, str] = {}
    for h in hosted:
        key = meeting_key(h.settings.meeting, h.settings.rehearsal)
        if key in seen:
            raise InputError(
                f"{h.id}.toml",
                f"与 {seen[key]}.toml 的会议名称和日期相同，两场会议不能同名同日（请改 title）",
            )
        seen[key] = h.id


def _health(apps: dict[str, Starlette]) -> Callable[[Request], object]:
    async def health(request: Request) -> Response:
        meetings = {}
        for meeting_id, sub in apps.items():
            meetings[meeting_id] = await sub.state.service.store_reachable()
        ok = all(meetings.values())
        body = {"ok": ok, "meetings": meetings}
        return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)

    return health


def _static() -> str:
    return str(resources.files("kiosk").joinpath("static"))
