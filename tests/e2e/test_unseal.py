"""After a crash mid-vote the chair console asks for the 监票人's key, in Chromium: the round is
closed, the card 需要监票人密钥 appears, a wrong key is refused in Chinese, the right one
(typed in lower case, with spaces) counts every ballot and the result shows."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from server.sealing import TellerKeys, key_text
from testkit import ServerProcess, http_json, stop_embedded_redis, write_meeting

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def cast_ballots(server: ServerProcess, tokens: list[str], round_id: int) -> None:
    """Over HTTP (the browser's event loop runs in this thread: no WebSocket client here)."""
    for token in tokens:
        body = {"token": token, "round": round_id, "marks": {"r01": "好", "r03": "差"}}
        status, reply = http_json(f"{server.base}/api/cast", body | {"cid": secrets.token_hex(16)})
        assert status == 200, reply


def test_the_chair_console_takes_the_teller_key_after_a_crash(
    browser, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    path, meeting = write_meeting(tmp_path, title="监票人密钥测试会议")
    server = ServerProcess(path, tmp_path / "data").start()
    servers.append(server)
    tokens = [card.token for card in server.cards(meeting)[:3]]
    round_id = server.vote_step()
    cast_ballots(server, tokens[:2], round_id)
    server.stop(sig=9)  # the server and its Redis die mid-vote: the round's key is gone
    stop_embedded_redis(server.data)

    again = ServerProcess(path, server.data).start()
    servers.append(again)
    cast_ballots(again, tokens[2:], round_id)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        chair = context.new_page()
        chair.goto(f"{again.base}/chair?key={again.chair_key}")
        expect(chair.locator("#action-main")).to_contain_text("结束投票")
        chair.click("#action-main")
        chair.click("#confirm-ok")  # 结束投票 asks first
        expect(chair.locator("#unseal-card")).to_be_visible(timeout=15_000)
        expect(chair.locator("#result-card")).to_be_hidden()

        chair.fill("#unseal-key", key_text("private", TellerKeys.generate().private))
        chair.click("#unseal-submit")
        expect(chair.locator("#unseal-result")).to_contain_text("打不开")
        typed = key_text("private", again.teller.private).lower().replace("-", " ")
        chair.fill("#unseal-key", typed)
        chair.click("#unseal-submit")
        expect(chair.locator("#result-card")).to_be_visible(timeout=10_000)
        expect(chair.locator("#unseal-card")).to_be_hidden()
        first = chair.locator("#result-body tr").first
        expect(first.locator("td").nth(1)).to_have_text("3")  # every ballot: 好 × 3 for r01
    finally:
        context.close()
