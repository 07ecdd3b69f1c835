"""Open join mode's room code (入场码) over a real `pingyi serve` and a real Redis on 127.0.0.1:
/api/join takes the projector's code of now or of the window before, nothing older; only the
projector opened from the chair console (screen key) is told the code."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import qrcode
import qrcode.image.svg

from meeting.room_code import WINDOW, RoomKeys, code_for, room_keys, screen_key, window_of
from server.datadir import DataDir
from testkit import Peer, ServerProcess, http_json, write_meeting

T = TypeVar("T")
CJK = re.compile(r"[\u4e00-\u9fff]")


def open_meeting(tmp_path: Path, servers: list[ServerProcess]) -> tuple[ServerProcess, RoomKeys]:
    path, _ = write_meeting(tmp_path, title="入场码测试", join="open", leader_seats=5)
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    return server, room_keys(DataDir(server.data).card_secret(), server.chair_key)


def in_one_window(attempt: Callable[[int], T]) -> T:
    """attempt(window) with the server's window of now; again if the window turned meanwhile
    (the server runs on this machine's clock)."""
    for _ in range(3):
        window = window_of(time.time())
        result = attempt(window)
        if window_of(time.time()) == window:
            return result
    raise AssertionError("the 30-second window turned three times in a row")


def join(server: ServerProcess, room: Any, group: str = "leaders") -> tuple[int, Any]:
    body = {"group": group} if room is None else {"group": group, "room": room}
    return http_json(f"{server.base}/api/join", body)


def version(server: ServerProcess) -> int:
    return http_json(f"{server.base}/healthz")[1]["v"]


def test_join_takes_the_code_of_now_or_of_the_window_before(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    server, keys = open_meeting(tmp_path, servers)
    before = version(server)

    status, body = join(server, None)
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "bad_room_code", "room")
    assert "入场码" in body["error"]["msg"]
    status, body = join(server, 123456)
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "bad_field", "room")

    def refused(code_of: Callable[[int], str]) -> tuple[int, Any]:
        def attempt(window: int) -> tuple[int, Any]:
            code = code_of(window)
            assert code not in (
                code_for(keys.code_key, window),
                code_for(keys.code_key, window - 1),
            )
            return join(server, code)

        return in_one_window(attempt)

    for code_of in (
        lambda w: code_for(keys.code_key, w - 2),  # two windows old: 30 to 60 seconds expired
        lambda w: code_for(keys.code_key, w + 1),  # the next one: not shown yet
        lambda w: next(
            c for c in ("000000", "123456", "999999") if c != code_for(keys.code_key, w)
        ),
    ):
        status, body = refused(code_of)
        assert (status, body["error"]["code"], body["error"]["field"]) == (
            403,
            "bad_room_code",
            "room",
        )
        assert "入场码不正确或已过期" in body["error"]["msg"], body
    for room in ("12345", "abcdef", ""):
        status, body = join(server, room)
        assert (status, body["error"]["code"]) == (403, "bad_room_code")
    assert version(server) == before  # no refused request issued a token

    # The previous window's code (a voter who scanned at second 29) and today's, typed with a
    # space, are both accepted.
    status, body = in_one_window(lambda w: join(server, code_for(keys.code_key, w - 1)))
    assert status == 200 and body["url"].endswith(f"/j/{body['token']}")
    code = in_one_window(lambda w: code_for(keys.code_key, w))
    status, body = join(server, f"{code[:3]} {code[3:]}", group="cadres")
    assert status == 200, body
    # A code does not get around a full group or a group that does not exist.
    for _ in range(4):
        assert in_one_window(lambda w: join(server, code_for(keys.code_key, w)))[0] == 200
    status, body = in_one_window(lambda w: join(server, code_for(keys.code_key, w)))
    assert (status, body["error"]["code"]) == (409, "group_full")
    status, body = in_one_window(lambda w: join(server, code_for(keys.code_key, w), "nobody"))
    assert (status, body["error"]["code"]) == (422, "bad_group")
    assert version(server) == before + 6  # six tokens, six TokenJoined events


def test_a_meeting_with_cards_says_so_whatever_the_room(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    path, _ = write_meeting(tmp_path, title="凭卡入场不用入场码")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    for room in (None, "123456"):
        status, body = join(server, room)
        assert (status, body["error"]["code"]) == (404, "not_open_mode")
    status, body = http_json(f"{server.base}/api/room", key=server.chair_key)
    assert (status, body["error"]["code"]) == (404, "not_open_mode")


async def test_only_the_projector_opened_from_the_chair_console_sees_the_code(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    server, keys = open_meeting(tmp_path, servers)

    # The console's link to the projector carries the screen key, never the chair key.
    status, body = http_json(f"{server.base}/api/screen-link")
    assert (status, body["error"]["code"]) == (401, "bad_key")
    status, link = http_json(f"{server.base}/api/screen-link", key=server.chair_key)
    assert status == 200 and link["key"] == keys.screen_key == screen_key(server.chair_key)
    assert link["url"] == f"/screen?key={link['key']}" and server.chair_key not in link["url"]

    # The keyed projector is told the code, when it changes and the QR code's address.
    for key in (link["key"], server.chair_key):
        status, shown = http_json(f"{server.base}/api/room", key=key)
        assert status == 200, shown
        window = window_of(shown["now"])
        assert shown["room"] == code_for(keys.code_key, window)
        assert shown["until"] == (window + 1) * WINDOW and 0 < shown["until"] - shown["now"] <= 30
        assert shown["join_url"] == f"{server.base}/join?room={shown['room']}"
    qr = svg(f"{server.base}/api/join-qr.svg?room={shown['room']}")
    assert qr == svg_of(shown["join_url"])
    assert svg(f"{server.base}/api/join-qr.svg") == svg_of(shown["join_url"].split("?")[0])
    status, body = http_json(f"{server.base}/api/join-qr.svg?room=12")
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "bad_room_code", "room")

    # Without the key: no code; the screen key opens nothing of the chair's.
    for key in (None, "wrong", link["key"][:-1]):
        status, body = http_json(f"{server.base}/api/room", key=key)
        assert (status, body["error"]["code"]) == (401, "bad_key") and CJK.search(
            body["error"]["msg"]
        )
    status, body = http_json(f"{server.base}/api/view?role=chair", key=link["key"])
    assert (status, body["error"]["code"]) == (401, "bad_key")
    status, body = http_json(f"{server.base}/api/chair", {"action": "start"}, link["key"])
    assert (status, body["error"]["code"]) == (401, "bad_key")

    # The keyless screen view, over HTTP and WebSocket, holds no room code.
    def no_code_in(view: Any) -> None:
        text = json.dumps(view, ensure_ascii=False)
        window = window_of(time.time())
        for w in range(window - 2, window + 2):
            assert code_for(keys.code_key, w) not in text
        assert "room" not in text and link["key"] not in text

    status, view = http_json(f"{server.base}/api/view?role=screen")
    assert status == 200 and view["view"]["join_url"].endswith("/join")
    no_code_in(view)
    async with Peer.connect(server.ws_url, role="screen") as screen:
        no_code_in(screen.welcome)


def svg(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"] == "image/svg+xml"
        return response.read()


def svg_of(url: str) -> bytes:
    """The QR code the server draws for this URL (same library, same settings)."""
    out = io.BytesIO()
    qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(out)
    return out.getvalue()
