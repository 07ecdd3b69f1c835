"""Who may do what: chair key, read-only projector, tokens bound to their group and round, rate
limits on failed tokens and keys, and the security headers. Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import websockets

from testkit import Peer, ServerProcess, http_json, http_raw, write_meeting
from tests.helpers import ROOT


def version(server: ServerProcess) -> int:
    return http_json(f"{server.base}/healthz")[1]["v"]


async def refused_hello(url: str, **hello: Any) -> tuple[int, str]:
    """The close code and reason of a hello the server turns down."""
    async with websockets.connect(url, compression=None) as ws:
        await ws.send(msgpack.packb({"t": "hello", **hello}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(5):
                await ws.recv()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason


def headers(url: str, body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture
def server(tmp_path: Path, servers: list[ServerProcess]) -> Iterator[ServerProcess]:
    path, _ = write_meeting(tmp_path, title="权限测试会议")
    started = ServerProcess(path, tmp_path / "data").start()
    servers.append(started)
    yield started
    started.stop()
    for settings in (tmp_path / "data" / "redis").glob("*pingyi.db.settings"):
        with contextlib.suppress(OSError, ValueError, KeyError):  # an embedded Redis left behind
            pid = Path(json.loads(settings.read_text())["pidfile"]).read_text().strip()
            os.kill(int(pid), signal.SIGKILL)


async def test_chair_actions_need_the_chair_key(server: ServerProcess) -> None:
    before = version(server)
    for key in (None, "", "wrong-key", server.chair_key + "x", server.chair_key[:-1]):
        status, body = http_json(f"{server.base}/api/chair", {"action": "start"}, key)
        assert status == 401 and body["error"]["code"] == "bad_key", (key, body)
        status, body = http_json(f"{server.base}/api/paper", {"code": "X", "round": 1}, key)
        assert status == 401 and body["error"]["code"] == "bad_key"
        status, body = http_json(f"{server.base}/api/view?role=chair", key=key)
        assert status == 401 and body["error"]["code"] == "bad_key"
    assert await refused_hello(server.ws_url, role="chair", key="wrong-key") == (1008, "bad_key")
    assert await refused_hello(server.ws_url, role="chair") == (1008, "bad_key")
    assert await refused_hello(server.ws_url, role="admin") == (1008, "bad_role")
    assert version(server) == before  # nothing happened
    async with Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair:
        assert (await chair.request({"t": "chair", "action": "start"}))["t"] == "ok"
    assert version(server) > before


async def test_the_projector_and_phones_cannot_act_as_chair(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="权限测试会议")
    card = server.cards(meeting)[0]
    round_id = server.vote_step(open_it=False)
    before = version(server)
    chair_like = [
        {"t": "chair", "action": "open"},
        {"t": "paper", "code": card.code, "round": round_id, "marks": {"r01": "好"}},
    ]
    async with (
        Peer.connect(server.ws_url, role="screen") as screen,
        Peer.connect(server.ws_url, role="phone", token=card.token) as phone,
    ):
        for message in [
            *chair_like,
            {"t": "cast", "round": round_id, "marks": {}, "cid": "c" * 20},
        ]:
            reply = await screen.request(message)
            assert reply["t"] == "error" and reply["code"] == "unknown_type", reply
        for message in chair_like:
            reply = await phone.request(message)
            assert reply["t"] == "error" and reply["code"] == "unknown_type", reply
        # A phone cannot lift itself to chair by saying hello again.
        reply = await phone.request({"t": "hello", "role": "chair", "key": server.chair_key})
        assert reply["code"] == "unknown_type"
        assert (await screen.request({"t": "ping"}))["t"] == "pong"
    assert version(server) == before
    status, _ = http_json(f"{server.base}/api/view?role=screen")
    assert status == 200  # the projector's view needs no key, and carries no live counts
    assert "live" not in http_json(f"{server.base}/api/view?role=screen")[1]["view"]


async def test_a_token_votes_only_in_its_group_and_open_round(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="权限测试会议")
    cards = server.cards(meeting)
    leader = next(c for c in cards if c.group == "leaders")
    round_id = server.vote_step()
    before = version(server)
    async with Peer.connect(server.ws_url, role="phone", token=leader.token) as phone:
        assert phone.welcome["group"] == "leaders"
        for wrong in (round_id + 1, round_id - 1, 0, 10**12):
            reply = await phone.request(
                {"t": "cast", "round": wrong, "marks": {"r01": "好"}, "cid": "w" * 24}
            )
            assert reply["code"] == "not_open", reply
        # The group comes from the token, never from the phone.
        reply = await phone.request(
            {"t": "cast", "round": round_id, "marks": {}, "cid": "g" * 24, "group": "cadres"}
        )
        assert reply["code"] == "bad_field" and reply["field"] == "group"
        assert version(server) == before
        reply = await phone.request(
            {"t": "cast", "round": round_id, "marks": {"r01": "好"}, "cid": "v" * 24}
        )
        assert reply["t"] == "receipt"
        reply = await phone.request(
            {"t": "cast", "round": round_id, "marks": {"r01": "差"}, "cid": "u" * 24}
        )
        assert reply["code"] == "already_voted"
    view = http_json(f"{server.base}/api/view?role=screen")[1]["view"]
    assert {g["id"]: g["cast"] for g in view["turnout"]["groups"]} == {"leaders": 1, "cadres": 0}
    # The HTTP fallback binds the token the same way.
    status, body = http_json(
        f"{server.base}/api/cast",
        {"token": leader.token, "round": round_id, "marks": {}, "cid": "h" * 24},
    )
    assert status == 409 and body["error"]["code"] == "already_voted"


async def test_failed_tokens_and_keys_are_rate_limited_per_address(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="权限测试会议")
    good = server.cards(meeting)[0]
    guesses = [f"{n:022d}" for n in range(20)]  # well-formed, unknown
    for guess in guesses[:10]:
        assert await refused_hello(server.ws_url, role="phone", token=guess) == (1008, "bad_token")
    for guess in guesses[10:15]:
        status, body = http_json(
            f"{server.base}/api/cast", {"token": guess, "round": 1, "marks": {}, "cid": "x" * 20}
        )
        assert status == 403 and body["error"]["code"] == "bad_token"
    for _ in range(5):  # wrong chair keys count against the same address
        assert http_json(f"{server.base}/api/chair", {"action": "start"}, "nope")[0] == 401
    # 20 failures within a minute: this address is now refused, even with a good token or key.
    assert await refused_hello(server.ws_url, role="phone", token=good.token) == (
        1008,
        "rate_limited",
    )
    status, body = http_json(
        f"{server.base}/api/cast", {"token": good.token, "round": 1, "marks": {}, "cid": "x" * 20}
    )
    assert status == 429 and body["error"]["code"] == "rate_limited"
    status, body = http_json(f"{server.base}/api/chair", {"action": "start"}, server.chair_key)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert version(server) == 1  # only the CardsIssued event: no guess changed anything
    # The projector (no secret to guess) still works.
    async with Peer.connect(server.ws_url, role="screen") as screen:
        assert (await screen.request({"t": "ping"}))["t"] == "pong"


def test_security_headers_and_no_caching_of_ballot_pages(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="权限测试会议")
    card = server.cards(meeting)[0]
    round_id = server.vote_step()
    cast_body = b'{"token": "%s", "round": %d, "marks": {}, "cid": "%s"}' % (
        card.token.encode(),
        round_id,
        b"k" * 24,
    )
    pages = ["/", f"/j/{card.token}", "/screen", "/chair", "/join", "/api/meeting", "/healthz"]
    for path in pages:
        status, got = headers(server.base + path)
        assert status in (200, 404), path
        csp = got["Content-Security-Policy"]
        assert csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert not re.search(r"https?:|\*|(?<![\w-])(ws|wss):", csp), csp  # no other origins
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert got["X-Content-Type-Options"] == "nosniff"
        assert got["Referrer-Policy"] == "no-referrer"
    for path in (f"/j/{card.token}", "/chair"):
        assert headers(server.base + path)[1]["Cache-Control"] == "no-store", path
    status, got = headers(server.base + "/api/cast", cast_body)
    assert status == 200 and got["Cache-Control"] == "no-store"  # a receipt is never cached
    status, got = headers(server.base + "/api/cast", b"{}")
    assert status == 422 and got["Cache-Control"] == "no-store"


def test_pages_have_no_inline_scripts_or_handlers() -> None:
    for page in (ROOT / "kiosk" / "static").glob("*.html"):
        html = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
            assert not tag.strip(), f"{page.name}: inline script"
        assert not re.search(r"<script\b(?![^>]*\bsrc=)", html), f"{page.name}: script without src"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{page.name}: inline event handler"
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html), page.name


async def test_the_chair_sees_no_count_of_marks_while_voting_runs(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="权限测试会议")
    cards = server.cards(meeting)
    round_id = server.vote_step()
    grades = meeting.rules.grades
    async with Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair:
        for number, card in enumerate(cards[:8]):
            async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
                marks = {"r01": grades[number % 4], "r03": grades[(number + 1) % 4]}
                cid = f"privacy-{number}-" + "p" * 20
                reply = await phone.request(
                    {"t": "cast", "round": round_id, "marks": marks, "cid": cid}
                )
                assert reply["t"] == "receipt"
            await chair.view_where(lambda v, n=number: v["turnout"]["cast"] == n + 1)
            status, http_view = http_json(
                f"{server.base}/api/view?role=chair", key=server.chair_key
            )
            assert status == 200 and http_view["view"]["turnout"]["cast"] == number + 1
            for view in (http_view["view"], *[m["view"] for m in chair.seen if "view" in m]):
                assert view["result"] is None and "live" not in view
                assert '"counts"' not in json.dumps(view), view  # nothing per reporter
        assert server.chair("close", force=True)[0] == 200
        counted = await chair.view_where(lambda v: v["result"] is not None)
        assert counted["result"]["reporters"][0]["counts"] == {g: 2 for g in grades}


def chair_with_forwarded_for(server: ServerProcess, key: str, forwarded: str) -> int:
    body = b'{"action": "start"}'
    headers = {"X-Forwarded-For": forwarded}
    return http_raw(f"{server.base}/api/chair", body, key, headers)[0]


def test_a_rotating_x_forwarded_for_does_not_get_around_the_limit(server: ServerProcess) -> None:
    """No proxy was named (`--proxy`), so the header is not trusted, even from 127.0.0.1."""
    statuses = [
        chair_with_forwarded_for(server, "wrong", f"10.0.{n // 250}.{n % 250}") for n in range(25)
    ]
    assert statuses == [401] * 20 + [429] * 5
    assert chair_with_forwarded_for(server, server.chair_key, "10.9.9.9") == 429


def test_join_refuses_keys_it_does_not_know(tmp_path: Path, servers: list[ServerProcess]) -> None:
    path, _ = write_meeting(tmp_path, title="开放入场多余字段", join="open")
    started = ServerProcess(path, tmp_path / "data").start()
    servers.append(started)
    status, body = http_json(f"{started.base}/api/join", {"group": "cadres", "seat": 3})
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "bad_field", "seat")
    room = http_json(f"{started.base}/api/room", key=started.chair_key)[1]["room"]  # 入场码
    status, body = http_json(f"{started.base}/api/join", {"group": "cadres", "room": room})
    assert status == 200 and body["url"].endswith(body["token"])


def test_the_chair_key_is_not_written_to_the_servers_log(server: ServerProcess) -> None:
    log = server.log()
    assert "/chair?key=<密钥>" in log and str(server.data / "chair.key") in log
    assert server.chair_key not in log
