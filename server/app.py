"""The app factory: the one place where the meeting, Redis, the service and the routes meet."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting.join_cards import issue_cards
from meeting.room_code import room_keys
from server import gc_policy
from server.datadir import DataDir
from server.http_api import EXCEPTION_HANDLERS, routes
from server.hub import Hub
from server.ratelimit import FailureLimiter
from server.redis_supervisor import RedisSupervisor
from server.redis_target import RedisTarget, check_durability, open_target
from server.service import MeetingService
from server.store import Keys, Store, meeting_key
from server.ws import websocket_endpoint
from tally.model import Meeting

log = logging.getLogger("pingyi")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # a ballot page's URL carries the card's token
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


@dataclass(frozen=True)
class Settings:
    meeting: Meeting
    data_dir: DataDir
    redis_url: str | None = None  # None: REDIS_URL from the environment, else embedded
    public_url: str = "http://127.0.0.1:8000"  # what join cards and the join QR point at
    meeting_digest: str = ""  # SHA-256 of the meeting file's bytes: recorded at each open
    # The 监票人's public key: each round's marks are sealed to it (b"": rounds in the clear).
    teller_public: bytes = b""
    # Its private half, given only to recover rounds whose opening process has gone.
    teller_private: bytes | None = None
    # The page's files by kind (`GET /api/download/{kind}`: file name, bytes, media type),
    # made by the command that started the server, since the server layer does not print
    # (None: not offered). Unknown kind: KeyError; not yet possible: tally.errors.InputError.
    make_download: Callable[[str], tuple[str, bytes, str]] | None = None
    # The base URLs phones in the hall may open (the LAN addresses served on), for the chair
    # console (`GET /api/addresses`); and whether `public_url` opens on this machine only.
    lan_urls: tuple[str, ...] = ()
    public_url_loopback: bool = False
    # A rehearsal (演练, `pingyi serve --rehearsal`): the meeting in a namespace of its own
    # (`meeting_key(meeting, rehearsal=True)`), wiped at each start, with its own card secret;
    # every view says `rehearsal: true`, every HTTP answer carries `X-Pingyi-Rehearsal: 1`.
    rehearsal: bool = False


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


REHEARSAL_HEADER = (b"x-pingyi-rehearsal", b"1")


class RehearsalHeader:
    """On a rehearsal server every HTTP answer, pages included, says so: a page that has no
    view yet (the join page, the 会后 page) shows the 演练 banner from it (common.js)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), REHEARSAL_HEADER]
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(settings: Settings, target: RedisTarget | None = None) -> Starlette:
    """The Starlette app. Pass `target` to share a Redis the caller owns (and will stop)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = target is None
        redis_target = target or open_target(settings.data_dir, settings.redis_url)
        follower: asyncio.Task[None] | None = None
        supervisor = RedisSupervisor(redis_target)  # restarts an embedded Redis that dies
        try:  # a start that fails stops what it started, its embedded Redis included
            service = await _start_service(settings, redis_target)
            app.state.service = service
            app.state.settings = settings  # what the downloads and the addresses need
            app.state.failed_logins = FailureLimiter(limit=20, window=60)
            # Seats bound open joins anyway; this only stops a script from spinning (a whole
            # hall may share one address behind NAT, so the bound is generous).
            app.state.join_attempts = FailureLimiter(limit=300, window=60)
            data = settings.data_dir  # the room codes and the screen key: docs/security.md
            secret = data.card_secret(rehearsal=settings.rehearsal)
            app.state.room_keys = room_keys(secret, data.chair_key())
            follower = asyncio.create_task(service.follow_forever())
            if owned:
                supervisor.start()
            yield
        finally:
            await supervisor.stop()  # first: a shutdown never restarts the Redis it stops
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
            await redis_target.aclose()
            if owned:
                redis_target.shutdown_embedded(force=True)

    app = Starlette(
        routes=[*routes(), WebSocketRoute("/ws", websocket_endpoint)],
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,  # every HTTP error is JSON
    )
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # phones' first load: ~20 KB
    app.add_middleware(SecurityHeaders)
    if settings.rehearsal:
        app.add_middleware(RehearsalHeader)
    return app


async def _start_service(settings: Settings, redis_target: RedisTarget) -> MeetingService:
    """The meeting service on this Redis, its stream replayed and its keys in place."""
    if redis_target.url:  # an external Redis must keep a receipted ballot through a crash
        client = redis_target.sync_client()
        warning = await asyncio.to_thread(check_durability, client)
        client.close()
        if warning:
            log.warning(warning)
    meeting = settings.meeting
    store = Store(redis_target.async_client(), Keys(meeting_key(meeting, settings.rehearsal)))
    if settings.rehearsal:  # a rehearsal starts from a clean slate: that is its reset
        wiped = await store.wipe()
        log.warning("演练：已清除上次演练的数据（%d 个键），从头开始", wiped)
    join_url = f"{settings.public_url.rstrip('/')}/join"
    secret = settings.data_dir.card_secret(rehearsal=settings.rehearsal)
    service = MeetingService(
        meeting,
        store,
        Hub(),
        join_url=join_url,
        meeting_digest=settings.meeting_digest,
        card_secret=secret,
        teller_public=settings.teller_public,
        teller_private=settings.teller_private,
        rehearsal=settings.rehearsal,
    )
    # Before the replay, so that a restart mid-vote keeps the collector out of it too.
    service.projection.event_observers.append(gc_policy.observer(lambda: service.state))
    cards, generation = None, ""
    if meeting.join == "cards":
        cards = issue_cards(secret, meeting)
        generation = hashlib.sha256(b"pingyi-cards:" + secret).hexdigest()[:16]
    await service.prepare(cards, generation, settings.data_dir.chair_key())
    return service
