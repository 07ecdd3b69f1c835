"""A rehearsal (演练, issue 18): `pingyi serve --rehearsal` runs the whole meeting with test
cards in a namespace of its own. Every view says so, the official files are refused, a real
card opens nothing there, and afterwards the meeting's record is untouched: no ballot in the
export, no count for the tally sheet, every real card unspent. A restart starts clean, and
`pingyi rehearsal-reset` clears what the last rehearsal left."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from meeting.join_cards import Card, issue_cards
from server.datadir import DataDir
from server.redis_target import open_target
from server.store import Keys, meeting_key
from tally.model import Meeting
from testkit import ServerProcess, http_json, stop_embedded_redis, wait_until, write_meeting
from testkit.net import http_file
from testkit.peers import Peer
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

REHEARSAL = ("--rehearsal",)
OFFICIAL = ("tally", "evaluation", "feedback", "xlsx", "export", "archive")


def pingyi(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER_URLS")},
    )


def fetch(base: str, path: str, key: str | None = None) -> tuple[int, dict[str, str], bytes]:
    return http_file(f"{base}{path}", key)


def rehearsal_cards(data: Path, meeting: Meeting) -> list[Card]:
    return issue_cards(DataDir(data).card_secret(rehearsal=True), meeting)


def cast(base: str, card: Card, round_id: int, reporters: list[str]) -> tuple[int, Any]:
    marks = {rid: "好" for rid in reporters}
    body = {"token": card.token, "round": round_id, "marks": marks, "cid": card.token}
    return http_json(f"{base}/api/cast", body)


def key_count(data: Path, keys: Keys) -> int:
    """How many keys of this namespace the data directory's Redis holds (no server running)."""
    target = open_target(DataDir(data))
    try:
        return len(list(target.sync_client().scan_iter(match=keys.pattern, count=1000)))
    finally:
        target.shutdown_embedded()


async def views_of(server: ServerProcess, card: Card) -> dict[str, dict[str, Any]]:
    """Each role's view as a WebSocket client first gets it."""
    got = {}
    async with Peer.connect(server.ws_url, role="chair", key=server.chair_key) as chair:
        got["chair"] = chair.welcome["view"]
    async with Peer.connect(server.ws_url, role="screen") as screen:
        got["screen"] = screen.welcome["view"]
    async with Peer.connect(server.ws_url, role="phone", token=card.token) as phone:
        got["phone"] = phone.welcome["view"]
    return got


@dataclass
class Rehearsed:
    tmp: Path
    meeting: Meeting
    meeting_path: Path
    data: Path
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    http_views: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    downloads: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    casts: dict[str, tuple[int, Any]] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    log: str = ""
    keys_after: dict[str, int] = field(default_factory=dict)
    restarted: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsed]:
    """A whole rehearsal: test cards vote, the chair closes and reveals; then it is stopped."""
    tmp = tmp_path_factory.mktemp("rehearsal")
    meeting_path, meeting = write_meeting(tmp, title="彩排测试会议", leader_seats=2, cadre_seats=3)
    data = tmp / "data"
    made = Rehearsed(tmp, meeting, meeting_path, data)
    server = ServerProcess(meeting_path, data, extra_args=REHEARSAL)
    try:
        server.start()
        key = server.chair_key
        cards = rehearsal_cards(data, meeting)
        real = server.cards(meeting)  # the real cards: same data directory, other secret
        assert {c.token for c in cards}.isdisjoint(c.token for c in real)
        for path in ("/", "/api/meeting", "/screen", f"/j/{cards[0].token}"):
            made.headers[path] = fetch(server.base, path)[1]
        made.views["before"] = asyncio.run(views_of(server, cards[0]))
        for kind in ("cards", "ballots", *OFFICIAL):
            made.downloads[kind] = fetch(server.base, f"/api/download/{kind}", key)
        round_id = server.vote_step()
        reporters = [r.id for r in meeting.reporters]
        for number, card in enumerate(cards):
            made.casts[f"test card {number}"] = cast(server.base, card, round_id, reporters)
        made.casts["real card"] = cast(server.base, real[0], round_id, reporters)
        assert server.chair("close", force=True)[0] == 200
        wait_until(
            lambda: http_json(f"{server.base}/api/view?role=chair", key=key)[1]["view"]["result"],
            timeout=20,
        )
        made.result = http_json(f"{server.base}/api/view?role=chair", key=key)[1]["view"]["result"]
        assert server.chair("reveal")[0] == 200, server.chair("reveal")
        made.views["revealed"] = asyncio.run(views_of(server, cards[0]))
        for role in ("screen", "chair"):
            body = http_json(f"{server.base}/api/view?role={role}", key=key)[1]
            made.http_views[role] = body["view"]
        made.downloads["official after the vote"] = fetch(server.base, "/api/download/tally", key)
        server.stop()
        made.log = server.log()
        real_keys = Keys(meeting_key(meeting))
        rehearsal_keys = Keys(meeting_key(meeting, rehearsal=True))
        made.keys_after = {"real": key_count(data, real_keys)}
        made.keys_after["rehearsal"] = key_count(data, rehearsal_keys)
        # Started again: the last rehearsal is gone.
        again = ServerProcess(meeting_path, data, extra_args=REHEARSAL)
        try:
            again.start()
            made.restarted["view"] = http_json(f"{again.base}/api/view?role=screen")[1]["view"]
            made.restarted["chair"] = http_json(f"{again.base}/api/view?role=chair", key=key)[1]
            made.restarted["cast"] = cast(again.base, cards[0], round_id, reporters)
        finally:
            again.stop()
        yield made
    finally:
        server.stop()
        stop_embedded_redis(data)


def test_every_view_says_rehearsal(rehearsed: Rehearsed) -> None:
    for stage, views in rehearsed.views.items():
        for role, view in views.items():
            assert view["meeting"]["rehearsal"] is True, (stage, role)
    for role, view in rehearsed.http_views.items():
        assert view["meeting"]["rehearsal"] is True, role
    for path, headers in rehearsed.headers.items():
        assert headers.get("x-pingyi-rehearsal") == "1", path


def test_the_rehearsal_is_a_whole_meeting(rehearsed: Rehearsed) -> None:
    for name, (status, reply) in rehearsed.casts.items():
        if name.startswith("test card"):
            assert status == 200, (name, reply)
    assert rehearsed.result is not None
    revealed = rehearsed.views["revealed"]
    assert revealed["screen"]["round"]["status"] == "revealed", revealed["screen"]["round"]
    assert "演练" in rehearsed.log


def test_a_real_card_opens_nothing_in_a_rehearsal(rehearsed: Rehearsed) -> None:
    status, reply = rehearsed.casts["real card"]
    assert status == 403, reply
    assert reply["error"]["code"] == "bad_token", reply


def test_official_files_are_refused_and_the_cards_are_marked(rehearsed: Rehearsed) -> None:
    for kind in OFFICIAL:
        status, _, body = rehearsed.downloads[kind]
        assert status == 409, kind
        assert "演练不生成正式文件" in json.loads(body)["error"]["msg"], kind
    status, _, body = rehearsed.downloads["official after the vote"]
    assert status == 409 and "演练不生成正式文件" in json.loads(body)["error"]["msg"]
    status, headers, pdf = rehearsed.downloads["cards"]
    assert status == 200 and "%E6%BC%94%E7%BB%83" in headers["content-disposition"]  # 演练
    assert pdf.startswith(b"%PDF")
    text = pdf_text(rehearsed.tmp, pdf)
    assert text.count("演练") >= 5, text[:500]  # on every card (5 seats) and the sheet
    status, headers, _ = rehearsed.downloads["ballots"]
    assert status == 200 and "%E6%BC%94%E7%BB%83" in headers["content-disposition"]


def pdf_text(tmp: Path, pdf: bytes) -> str:
    path = tmp / "page.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_nothing_reaches_the_record(rehearsed: Rehearsed) -> None:
    assert rehearsed.keys_after["real"] == 0
    assert rehearsed.keys_after["rehearsal"] > 0
    out = rehearsed.tmp / "ballots.csv"
    done = pingyi("export", rehearsed.meeting_path, out, "--data", rehearsed.data)
    assert done.returncode == 0, done.stderr
    assert "已导出 0 张选票" in done.stdout, done.stdout
    assert len(out.read_text(encoding="utf-8").strip().splitlines()) == 1  # the header only
    # As before any vote: the tally sheet finds no count (it says so) and no ballot.
    sheet = rehearsed.tmp / "tally.pdf"
    done = pingyi("print", "tally", rehearsed.meeting_path, "--data", rehearsed.data, "-o", sheet)
    assert "服务器尚未计票" in done.stderr, (done.stdout, done.stderr)
    export = rehearsed.tmp / "tally-ballots.csv"
    assert len(export.read_text(encoding="utf-8").strip().splitlines()) == 1


def test_a_restart_starts_clean(rehearsed: Rehearsed) -> None:
    view = rehearsed.restarted["view"]
    assert view["state"] == "not_started" and view["meeting"]["rehearsal"] is True
    assert rehearsed.restarted["chair"]["view"]["result"] is None
    status, reply = rehearsed.restarted["cast"]
    assert status != 200, reply  # the round of the last rehearsal is gone


def test_the_real_cards_are_unspent_and_reset_clears(rehearsed: Rehearsed) -> None:
    """Run last: it resets the rehearsal, then serves the real meeting on the same data."""
    done = pingyi("rehearsal-reset", rehearsed.meeting_path, "--data", rehearsed.data)
    assert done.returncode == 0, done.stderr
    assert "已清除演练数据" in done.stdout
    assert key_count(rehearsed.data, Keys(meeting_key(rehearsed.meeting, rehearsal=True))) == 0
    server = ServerProcess(rehearsed.meeting_path, rehearsed.data)
    try:
        server.start()
        assert "x-pingyi-rehearsal" not in fetch(server.base, "/api/meeting")[1]
        view = http_json(f"{server.base}/api/view?role=screen")[1]["view"]
        assert "rehearsal" not in view["meeting"]
        assert view["state"] == "not_started"
        round_id = server.vote_step()
        reporters = [r.id for r in rehearsed.meeting.reporters]
        for card in server.cards(rehearsed.meeting):
            status, reply = cast(server.base, card, round_id, reporters)
            assert status == 200, reply
        test_card = rehearsal_cards(rehearsed.data, rehearsed.meeting)[0]
        status, reply = cast(server.base, test_card, round_id, reporters)
        assert reply["error"]["code"] == "bad_token", (status, reply)
    finally:
        server.stop()


def test_print_cards_never_mixes_the_two(rehearsed: Rehearsed) -> None:
    """`pingyi print cards --rehearsal` prints the test cards, marked 演练; without it, only the
    real cards, with no 演练 on them."""
    texts = {}
    for name, flag in (("test", ("--rehearsal",)), ("real", ())):
        out = rehearsed.tmp / f"cards-{name}.pdf"
        args = ("--data", rehearsed.data, "--url", "http://192.168.1.10:8000", *flag, "-o", out)
        done = pingyi("print", "cards", rehearsed.meeting_path, *args)
        assert done.returncode == 0, done.stderr
        texts[name] = pdf_text(rehearsed.tmp, out.read_bytes())
    test_codes = {c.code for c in rehearsal_cards(rehearsed.data, rehearsed.meeting)}
    real_codes = {
        c.code for c in issue_cards(DataDir(rehearsed.data).card_secret(), rehearsed.meeting)
    }
    assert all(code in texts["test"] for code in test_codes)
    assert not any(code in texts["test"] for code in real_codes)
    assert all(code in texts["real"] for code in real_codes)
    assert not any(code in texts["real"] for code in test_codes)
    assert texts["test"].count("演练") >= 2 * len(test_codes)
    assert "演练" not in texts["real"]
