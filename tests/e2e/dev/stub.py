"""A throwaway stand-in for the live server, for developing the pages only (not used by tests).

Serves kiosk/static like the real server (same routes, same CSP) and speaks the WebSocket
protocol from an in-memory fold of server.agenda, so the pages can be driven and screenshot
before the real server exists. Run: python3 tests/e2e/dev/stub.py MEETING.toml PORT
Chair key: "dev". Card tokens: printed at start.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path

import msgpack
import qrcode
import qrcode.image.svg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from server import agenda, events  # noqa: E402
from server import commands as cmds  # noqa: E402
from server.cards import issue_cards  # noqa: E402
from server.views import chair_view, phone_view, screen_view  # noqa: E402
from tally.engine import result_to_json, tally  # noqa: E402
from tally.meeting import parse_meeting_text  # noqa: E402
from tally.model import Ballot  # noqa: E402

STATIC = ROOT / "kiosk" / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self' ws: wss:"
)
meeting = parse_meeting_text(Path(sys.argv[1]).read_text())
cards = issue_cards(b"dev-secret", meeting)
tokens = {c.token: c for c in cards}
state = agenda.initial_state(meeting)
ballots: dict[int, dict[str, tuple[str, dict]]] = {}  # round -> token -> (cid, marks)
receipts: dict[str, str] = {}
clients: set[tuple[WebSocket, str]] = set()


def view_for(role: str) -> dict:
    if role == "phone":
        return phone_view(meeting, state)
    if role == "screen":
        return screen_view(meeting, state, "http://127.0.0.1/join")
    live = {}
    held = state.open_round or state.current_round
    if held is not None:
        for _cid, marks in ballots.get(held.id, {}).values():
            for rid, g in marks.items():
                if g:
                    live.setdefault(rid, {}).setdefault(g, 0)
                    live[rid][g] += 1
    return chair_view(meeting, state, "http://127.0.0.1/join", live, time.time())


def apply(evs: list) -> None:
    global state
    for ev in evs:
        state = agenda.evolve(state, ev)
        if isinstance(ev, events.VotingClosed):
            bs = [
                Ballot(str(i), tokens[t].group, {k: v or "" for k, v in m.items()})
                for i, (t, (_c, m)) in enumerate(ballots.get(ev.round, {}).items())
            ]
            result = result_to_json(tally(meeting, bs))
            state = agenda.evolve(state, events.ResultComputed(ev.round, result))


async def broadcast() -> None:
    for ws, role in list(clients):
        try:
            await ws.send_bytes(msgpack.packb({"t": "view", "v": state.version, "now": time.time(), "view": view_for(role)}))
        except Exception:
            clients.discard((ws, role))


async def ws_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    role = None
    token = None
    try:
        while True:
            msg = msgpack.unpackb(await ws.receive_bytes())
            t = msg.get("t")
            reply: dict = {"id": msg["id"]} if "id" in msg else {}
            if t == "hello":
                role = msg["role"]
                if role == "phone":
                    token = msg.get("token")
                    if token not in tokens:
                        await ws.close(1008, "bad_token")
                        return
                if role == "chair" and msg.get("key") != "dev":
                    await ws.close(1008, "bad_key")
                    return
                welcome = {"t": "welcome", "role": role, "v": state.version, "now": time.time(), "view": view_for(role)}
                if role == "phone":
                    g = meeting.group(tokens[token].group)
                    welcome |= {"group": g.id, "group_name": g.name,
                                "voted": [r for r, b in ballots.items() if token in b]}
                clients.add((ws, role))
                await ws.send_bytes(msgpack.packb(welcome | reply))
            elif t == "ping":
                await ws.send_bytes(msgpack.packb({"t": "pong", "now": time.time()} | reply))
            elif t == "cast" or t == "paper":
                if t == "paper":
                    tok = next((c.token for c in cards if c.code == msg["code"].upper()), None)
                    if tok is None:
                        await ws.send_bytes(msgpack.packb({"t": "error", "code": "bad_code", "msg": "卡片短码无效"} | reply))
                        continue
                else:
                    tok = token
                held = state.open_round
                if held is None or held.id != msg["round"]:
                    await ws.send_bytes(msgpack.packb({"t": "error", "code": "not_open", "msg": "当前没有进行中的投票"} | reply))
                    continue
                cid = msg.get("cid") or f"paper-{tok}"
                have = ballots.setdefault(held.id, {}).get(tok)
                if have and have[0] != cid:
                    await ws.send_bytes(msgpack.packb({"t": "error", "code": "already_voted", "msg": "已投票"} | reply))
                    continue
                if not have:
                    ballots[held.id][tok] = (cid, msg["marks"])
                    receipts[cid] = f"K{len(receipts):03d}-9MXD"
                    apply([events.BallotCast(held.id, tokens[tok].group)])
                await ws.send_bytes(msgpack.packb({"t": "receipt", "round": held.id, "receipt": receipts[cid], "again": bool(have)} | reply))
                await broadcast()
            elif t == "chair":
                try:
                    evs = agenda.decide(state, cmds.command_for(msg["action"], msg.get("text")), time.time())
                except agenda.Refused as exc:
                    await ws.send_bytes(msgpack.packb({"t": "error", "code": "refused", "msg": str(exc)} | reply))
                    continue
                apply(evs)
                await ws.send_bytes(msgpack.packb({"t": "ok", "v": state.version} | reply))
                await broadcast()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        clients.discard((ws, role))


def page(name: str):
    async def endpoint(request: Request) -> Response:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    return endpoint


async def api_meeting(request: Request) -> Response:
    return JSONResponse({
        "title": meeting.title, "date": meeting.date, "place": meeting.place,
        "join": meeting.join, "voting": meeting.voting,
        "reporters": [{"id": r.id, "name": r.name, "org": r.org, "mode": r.mode} for r in meeting.reporters],
        "groups": [{"id": g.id, "name": g.name, "seats": g.seats} for g in meeting.groups],
        "grades": list(meeting.rules.grades),
    })


async def api_join(request: Request) -> Response:
    body = await request.json()
    card = next(c for c in cards if c.group == body["group"])
    return JSONResponse({"token": card.token, "url": f"/j/{card.token}"})


async def qr(request: Request) -> Response:
    img = qrcode.make("http://127.0.0.1/join", image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    return Response(buf.getvalue(), media_type="image/svg+xml")


async def api_chair(request: Request) -> Response:
    body = await request.json()
    try:
        evs = agenda.decide(state, cmds.command_for(body["action"], body.get("text")), time.time())
    except agenda.Refused as exc:
        return JSONResponse({"error": {"code": "refused", "msg": str(exc)}}, 409)
    apply(evs)
    await broadcast()
    return JSONResponse({"v": state.version})


async def add_csp(scope, receive, send, app):
    async def send_with(message):
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"content-security-policy", CSP.encode())]
        await send(message)

    await app(scope, receive, send_with)


app = Starlette(routes=[
    Route("/", page("index.html")),
    Route("/j/{token}", page("ballot.html")),
    Route("/join", page("join.html")),
    Route("/screen", page("screen.html")),
    Route("/chair", page("chair.html")),
    Route("/api/meeting", api_meeting),
    Route("/api/join", api_join, methods=["POST"]),
    Route("/api/chair", api_chair, methods=["POST"]),
    Route("/api/join-qr.svg", qr),
    Route("/healthz", api_meeting),
    WebSocketRoute("/ws", ws_endpoint),
    Mount("/static", StaticFiles(directory=STATIC)),
])


async def csp_app(scope, receive, send):
    await add_csp(scope, receive, send, app)


if __name__ == "__main__":
    for c in cards[:8]:
        print(c.group, c.token, c.code)
    asyncio.run(uvicorn.Server(uvicorn.Config(csp_app, port=int(sys.argv[2]), log_level="warning")).serve())
