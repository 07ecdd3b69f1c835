"""`/check` and `GET /api/receipts`: once the chair reveals a round, anyone can find their
receipt in the list of the round's receipts; before, nothing. The list holds receipts only
(no mark, group, card or time), sorted, so it says nothing of who voted when. Also: static
files are gzipped and revalidated (`no-cache` + ETag), ballot pages and receipts `no-store`.
Real server, real Redis, 127.0.0.1."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit import ServerProcess, http_json, write_meeting


@pytest.fixture
def server(tmp_path: Path, servers: list[ServerProcess]) -> Iterator[ServerProcess]:
    write_meeting(tmp_path, title="回执核对测试")
    started = ServerProcess(tmp_path / "meeting.toml", tmp_path / "data").start()
    servers.append(started)
    yield started
    started.stop()
    for settings in (tmp_path / "data" / "redis").glob("*pingyi.db.settings"):
        with contextlib.suppress(OSError, ValueError, KeyError):  # an embedded Redis left behind
            pid = Path(json.loads(settings.read_text())["pidfile"]).read_text().strip()
            os.kill(int(pid), signal.SIGKILL)


def close_round(server: ServerProcess) -> None:
    """结束投票, confirmed (`force`) where the server knows it; else after the 10 s guard."""
    deadline = time.monotonic() + 15
    while True:
        status, body = server.chair("close", force=True)
        if status == 422 and body["error"].get("field") == "force":
            status, body = server.chair("close")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200, body


def get(url: str, encoding: str | None = None) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url)
    if encoding:
        request.add_header("Accept-Encoding", encoding)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def test_receipts_of_revealed_rounds_only(server: ServerProcess) -> None:
    _, meeting = write_meeting(server.data.parent, title="回执核对测试")
    cards = server.cards(meeting)
    base = server.base
    # before any round: an empty list; a round that does not exist or a bad number: JSON errors
    assert http_json(f"{base}/api/receipts") == (200, {"rounds": []})
    status, body = http_json(f"{base}/api/receipts?round=1")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert body["error"]["field"] == "round"
    for bad in ("x", "-1", "1.5", "9" * 30):
        status, body = http_json(f"{base}/api/receipts?round={bad}")
        assert status == 422 and body["error"]["code"] == "bad_field", bad

    round_id = server.vote_step()
    receipts = []
    for i, card in enumerate(cards[:5]):
        marks = {"r01": "好", "r02": "较好" if i % 2 else None, "r03": "差"}
        status, body = http_json(
            f"{base}/api/cast",
            {"token": card.token, "round": round_id, "marks": marks, "cid": f"{i:02d}" * 10},
        )
        assert status == 200, body
        receipts.append(body["receipt"])
    # open, then closed: still nothing to see (the result is not public yet)
    status, body = http_json(f"{base}/api/receipts?round={round_id}")
    assert status == 404 and body["error"]["field"] == "round"
    close_round(server)
    assert http_json(f"{base}/api/receipts") == (200, {"rounds": []})
    assert http_json(f"{base}/api/receipts?round={round_id}")[0] == 404

    assert server.chair("reveal")[0] == 200
    status, headers, raw = get(f"{base}/api/receipts?round={round_id}")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    body = json.loads(raw)
    assert body == json.loads(get(f"{base}/api/receipts")[2])
    [listed] = body["rounds"]
    assert set(listed) == {"round", "reporters", "receipts"}  # no marks, groups or times
    assert listed["round"] == round_id and listed["reporters"] == ["r01", "r02", "r03"]
    assert listed["receipts"] == sorted(receipts)  # sorted: the order of casting is gone
    assert not any(grade in raw.decode() for grade in ("好", "较好", "差", "leaders", "cadres"))


def test_check_page_and_static_caching(server: ServerProcess) -> None:
    base = server.base
    status, headers, raw = get(f"{base}/check")
    assert status == 200 and b"/static/check.js" in raw
    # static files: gzipped for a browser that asks, revalidated with their ETag
    status, headers, raw = get(f"{base}/static/ballot.js", "gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "no-cache" and headers.get("ETag")
    plain = get(f"{base}/static/ballot.js")[2]
    assert gzip.decompress(raw) == plain and len(raw) < len(plain) / 2
    request = urllib.request.Request(f"{base}/static/ballot.js")
    request.add_header("If-None-Match", headers["ETag"])
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request, timeout=10)
    assert not_modified.value.code == 304
    not_modified.value.close()
    # a ballot page stays private, gzipped or not
    _, meeting = write_meeting(server.data.parent, title="回执核对测试")
    token = server.cards(meeting)[0].token
    for encoding in (None, "gzip"):
        status, headers, _ = get(f"{base}/j/{token}", encoding)
        assert status == 200 and headers["Cache-Control"] == "no-store"
