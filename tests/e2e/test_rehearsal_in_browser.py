"""A rehearsal in a real Chromium (issue 18): on `pingyi serve --rehearsal` the chair console,
the projector, a phone, the 会后 page, the 计票台, the join page, /check, the expert page and
the start page all show the 演练 banner at their top, and stay axe-clean with it; a phone
still votes through it. The same pages of the real meeting on the same data directory show no
banner."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from meeting.join_cards import issue_cards
from server.datadir import DataDir
from testkit import ServerProcess, stop_embedded_redis, write_meeting
from tests.e2e.conftest import CHROMIUM

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

BANNER = "演练 · 模拟测评，不计入正式结果"


def test_every_page_of_a_rehearsal_says_so(browser, tmp_path: Path, axe_clean) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}")
    meeting_path, meeting = write_meeting(tmp_path, title="彩排浏览器测试", leader_seats=1)
    data = tmp_path / "data"
    server = ServerProcess(meeting_path, data, extra_args=("--rehearsal",))
    errors: list[str] = []
    contexts: list[Any] = []

    def page(viewport: dict[str, int], mobile: bool = False) -> Any:
        options: dict[str, Any] = {"viewport": viewport, "locale": "zh-CN"}
        if mobile:
            options |= {"is_mobile": True, "has_touch": True}
        context = browser.new_context(**options)
        contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda error: errors.append(str(error)))
        return opened

    try:
        server.start()
        card = issue_cards(DataDir(data).card_secret(rehearsal=True), meeting)[0]
        chair = page({"width": 1366, "height": 768})
        screen = page({"width": 1920, "height": 1080})
        phone = page({"width": 360, "height": 740}, mobile=True)
        chair.goto(f"{server.base}/chair?key={server.chair_key}")
        expect(chair.locator("#console")).to_be_visible()
        screen.goto(f"{server.base}/screen")
        phone.goto(f"{server.base}/j/{card.token}")
        expect(phone.locator("#now-label")).to_have_text("会议尚未开始")
        for name, opened in (("chair", chair), ("projector", screen), ("phone", phone)):
            banner = opened.locator("#rehearsal")
            expect(banner).to_have_text(BANNER)
            expect(banner).to_be_visible()
            box = banner.bounding_box()
            assert box is not None and box["y"] < 5, (name, box)  # at the very top
            axe_clean(opened, f"{name} in a rehearsal")

        server.vote_step()
        expect(phone.locator("#ballot li")).to_have_count(3)
        for reporter in meeting.reporters:
            phone.locator(f"#ballot li[data-key='{reporter.id}'] button[data-grade='好']").tap()
        phone.locator("#to-review").click()
        phone.locator("#confirm").click()
        expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
        expect(phone.locator("#rehearsal")).to_have_text(BANNER)
        axe_clean(phone, "phone receipt in a rehearsal")

        for path in ("/after", "/check", "/count", "/join", "/expert", "/"):  # the header says it
            other = page({"width": 1366, "height": 768})
            other.goto(f"{server.base}{path}")
            expect(other.locator("#rehearsal")).to_have_text(BANNER)
            axe_clean(other, f"{path} in a rehearsal")
        server.stop()

        real = ServerProcess(meeting_path, data)
        try:
            real.start()
            plain = page({"width": 1366, "height": 768})
            plain.goto(f"{real.base}/chair?key={real.chair_key}")
            expect(plain.locator("#console")).to_be_visible()
            plain.goto(f"{real.base}/screen")
            expect(plain.locator("#idle-title")).to_have_text("会议即将开始")
            plain.wait_for_timeout(500)
            assert plain.locator("#rehearsal").count() == 0
        finally:
            real.stop()
        assert errors == []
    finally:
        for context in contexts:
            context.close()
        server.stop()
        stop_embedded_redis(data)
