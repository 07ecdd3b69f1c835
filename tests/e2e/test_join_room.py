"""Open join mode in a real Chromium: the projector opened from the chair console shows the
room code (入场码) and a QR code that carries it, and a new one every 30 seconds; a phone that
scans it picks its group, sees it confirmed, can go back with no token issued, and gets its
ballot only on 确认; a phone with a wrong typed code sees why, in Chinese."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from meeting.room_code import code_for, room_keys, window_of
from server.datadir import DataDir

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "中共测试县委2026年度党组织书记抓基层党建工作述职评议大会"
date = "2026-12-28"
place = "县委党校报告厅"
join = "open"
voting = "end"

[[reporters]]
id = "r1"
name = "王建国"
org = "城关镇党委"

[[reporters]]
id = "r2"
name = "李秀英"
org = "青溪镇党委"

[[groups]]
id = "leaders"
name = "县级领导"
seats = 5
weight = 0.4

[[groups]]
id = "grassroots"
name = "基层党员代表"
seats = 20
weight = 0.6
"""
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}


def version(live) -> int:
    return live.http("GET", "/healthz")["v"]


def test_the_room_code_from_projector_to_phone(
    browser, serve, artifacts: Path, no_overflow
) -> None:
    live = serve(MEETING)
    keys = room_keys(DataDir(live.data).card_secret(), live.chair_key)
    contexts = [
        browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN"),
        browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN"),
        browser.new_context(**PHONE),
        browser.new_context(**PHONE),
    ]
    errors: list[str] = []
    try:
        chair, keyless, scanner, typist = (context.new_page() for context in contexts)
        for page in (chair, keyless, scanner, typist):
            page.on("pageerror", lambda error: errors.append(str(error)))

        # ---- the projector, opened as the chair console opens it
        chair.goto(f"{live.url}/chair?key={live.chair_key}")
        link = chair.locator("#screen-link")
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        assert href.startswith("/screen?key=") and live.chair_key not in href
        with chair.expect_popup() as opened:
            link.click()
        screen = opened.value
        screen.on("pageerror", lambda error: errors.append(str(error)))
        screen.set_viewport_size({"width": 1920, "height": 1080})
        expect(screen).to_have_url(f"{live.url}/screen")  # the key left the address bar
        expect(screen.locator("#room-line")).to_be_visible()
        shown = screen.locator("#room-code").inner_text()
        assert re.fullmatch(r"\d{3} \d{3}", shown), shown
        code = shown.replace(" ", "")
        window = window_of(time.time())
        assert code in (code_for(keys.code_key, window), code_for(keys.code_key, window - 1))
        qr = screen.locator("#join-qr")
        expect(qr).to_have_attribute("src", f"/api/join-qr.svg?room={code}")
        screen.wait_for_function("() => document.getElementById('join-qr').naturalWidth > 0")
        assert screen.evaluate("document.getElementById('join-qr').getBoundingClientRect().height")
        # Legible from the back of the hall: the digits are over a tenth of the screen high.
        height = screen.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('room-code')).fontSize)"
        )
        assert height >= 108, height
        no_overflow(screen)
        screen.screenshot(path=artifacts / "01-projector.png")

        # A projector opened without the key shows no code (and says where to get it).
        keyless.goto(f"{live.url}/screen")
        expect(keyless.locator("#join-title")).to_have_text("本页不显示入场码")
        expect(keyless.locator("#room-line")).to_be_hidden()
        expect(keyless.locator("#join-qr")).to_be_hidden()
        assert code not in keyless.content()
        keyless.screenshot(path=artifacts / "01-projector-without-key.png")

        # ---- a phone scans the QR code: its address carries the code
        room = live.http("GET", "/api/room", chair=True)
        assert room["room"] in (code, code_for(keys.code_key, window_of(time.time())))
        before = version(live)
        scanner.goto(f"{live.url}/join?room={code}")
        expect(scanner.locator("#room-form")).to_be_hidden()
        scanner.get_by_role("button", name="县级领导").tap()
        expect(scanner.locator("#confirm")).to_be_visible()
        expect(scanner.locator("#chosen")).to_have_text("县级领导")
        expect(scanner.locator("#groups")).to_be_hidden()
        assert scanner.evaluate("document.documentElement.scrollWidth") <= 360
        scanner.screenshot(path=artifacts / "02-phone-confirm.png")
        scanner.get_by_role("button", name="返回").tap()  # a mis-tap: back, nothing issued
        expect(scanner.get_by_role("button", name="基层党员代表")).to_be_visible()
        expect(scanner.locator("#confirm")).to_be_hidden()
        assert scanner.evaluate("localStorage.getItem('pingyi:join-token')") is None
        assert version(live) == before
        expect(chair.locator("#round-status")).to_contain_text(
            "已登记手机：县级领导 0/5，基层党员代表 0/20"
        )
        scanner.get_by_role("button", name="基层党员代表").tap()
        expect(scanner.locator("#chosen")).to_have_text("基层党员代表")
        scanner.get_by_role("button", name="确认").tap()
        scanner.wait_for_url(f"{live.url}/j/*")
        expect(scanner.locator("#group")).to_have_text("基层党员代表")
        token = scanner.evaluate("localStorage.getItem('pingyi:join-token')")
        assert scanner.url == f"{live.url}/j/{token}"
        expect(chair.locator("#round-status")).to_contain_text(
            "已登记手机：县级领导 0/5，基层党员代表 1/20"
        )

        # ---- a phone that types the code, wrong first
        typist.goto(f"{live.url}/join")
        expect(typist.locator("#room-form")).to_be_visible()
        assert typist.locator("#room").get_attribute("inputmode") == "numeric"
        typist.get_by_role("button", name="县级领导").tap()  # no code yet: asked for it
        expect(typist.locator("#error")).to_have_text("请先输入大屏幕上显示的6位入场码")
        expect(typist.locator("#confirm")).to_be_hidden()
        now = window_of(time.time())
        valid = {code_for(keys.code_key, w) for w in (now - 1, now, now + 1)}
        wrong = next(c for c in ("000000", "123456", "654321") if c not in valid)
        typist.locator("#room").fill(wrong)
        typist.get_by_role("button", name="县级领导").tap()
        expect(typist.locator("#chosen")).to_have_text("县级领导")
        typist.get_by_role("button", name="确认").tap()
        expect(typist.locator("#error")).to_have_text(
            "入场码不正确或已过期，请输入大屏幕上现在显示的6位入场码"
        )
        expect(typist.locator("#room-form")).to_be_visible()
        expect(typist.locator("#room-form")).to_have_class(re.compile(r"\bbad\b"))
        expect(typist.locator("#room")).to_have_value("")
        expect(typist.locator("#room")).to_be_focused()
        assert typist.evaluate("localStorage.getItem('pingyi:join-token')") is None
        assert typist.evaluate("document.documentElement.scrollWidth") <= 360
        typist.screenshot(path=artifacts / "03-phone-wrong-code.png")
        # The code as it reads on the projector, with its space, works.
        typist.locator("#room").fill(screen.locator("#room-code").inner_text())
        expect(typist.locator("#room")).to_have_value(re.compile(r"^\d{6}$"))
        typist.get_by_role("button", name="县级领导").tap()
        typist.get_by_role("button", name="确认").tap()
        typist.wait_for_url(f"{live.url}/j/*")
        expect(typist.locator("#group")).to_have_text("县级领导")
        assert version(live) == before + 2

        # ---- the projector shows the next code when the window turns (within 30 s)
        expect(screen.locator("#room-code")).not_to_have_text(shown, timeout=40_000)
        code = screen.locator("#room-code").inner_text().replace(" ", "")
        assert code == code_for(keys.code_key, window_of(time.time()))
        expect(qr).to_have_attribute("src", f"/api/join-qr.svg?room={code}")
        assert errors == []
    finally:
        for context in contexts:
            context.close()
