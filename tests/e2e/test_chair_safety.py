"""The chair's actions are safe, the chair's work is kept, time is visible (issue 14).

In Debian's Chromium against a real `pingyi serve`: a report step with a 3-second budget runs
into overtime (+mm:ss, red) on the projector and the console, a comment step counts down from
its minute, and 后退一项 carries the report's clock on (still overtime); a 点评 typed and
followed at once by 下一项 is recorded; two clicks 250 ms apart on 开启投票 leave the round
open; 结束投票 asks first with the turnout against the quorum (and the red 将导致本次测评无效
while it would miss it), cancel keeps voting open, confirm closes it; the server refuses a
bare close that early (`too_early`); 结束会议 asks too.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "主持人操作安全测试会议"
date = "2026-12-28"
place = "三楼会议室"
seats = 4

[[reporters]]
id = "r01"
name = "王建国"
org = "城关镇党委"

[rules]
quorum = 0.5

[agenda]
report_minutes = 0.05
comment_minutes = 1
"""
COMMENT = "抓基层党建有实招，下一步要补齐短板。"


def test_the_chair_is_safe_and_time_is_visible(browser, serve, artifacts: Path) -> None:
    live = serve(MEETING)
    chair_context = browser.new_context(viewport={"width": 1366, "height": 768})
    screen_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        chair = chair_context.new_page()
        started = time.monotonic()
        panel_asks: list[str] = []  # a meeting without experts: the console asks once, then stops
        chair.on("request", lambda r: panel_asks.append(r.url) if "/api/panel" in r.url else None)
        chair.goto(f"{live.url}/chair?key={live.chair_key}")
        screen = screen_context.new_page()
        screen.goto(f"{live.url}/screen")
        main = chair.locator("#action-main")
        expect(chair.locator("#action-label")).to_have_text("开始会议")
        main.click()

        # ---- a 3-second report budget runs out: +mm:ss in red on both pages
        for page in (screen, chair):
            expect(page.locator("#timer")).to_have_class(re.compile(r"\bovertime\b"), timeout=8000)
            expect(page.locator("#timer")).to_have_text(re.compile(r"^\+00:\d\d$"))
            expect(page.locator("#timer-label")).to_have_text("已超时（限时 00:03）")
        screen.screenshot(path=str(artifacts / "01-screen-overtime.png"))
        chair.screenshot(path=str(artifacts / "01-chair-overtime.png"))

        # ---- the comment step counts down from its minute
        expect(chair.locator("#action-label")).to_have_text("下一项")
        expect(main).to_be_enabled()
        main.click()
        for page in (screen, chair):
            expect(page.locator("#timer")).to_have_text(re.compile(r"^(01:00|00:5\d)$"))
            expect(page.locator("#timer")).not_to_have_class(re.compile(r"\bovertime\b"))
            expect(page.locator("#timer-label")).to_have_text("剩余时间（限时 01:00）")

        # ---- 后退一项 to the report: its clock carries on in overtime, it does not restart
        chair.locator("#action-others button[data-action='back']").click()
        expect(screen.locator("#phase")).to_have_text("述职")
        for page in (screen, chair):
            expect(page.locator("#timer")).to_have_class(re.compile(r"\bovertime\b"))
            expect(page.locator("#timer")).to_have_text(re.compile(r"^\+00:\d\d$"))
        expect(main).to_be_enabled()
        main.click()
        expect(screen.locator("#phase")).to_have_text("点评")
        expect(screen.locator("#timer")).to_have_text(re.compile(r"^(01:00|00:5\d)$"))

        # ---- a 点评 typed, then 下一项 at once: it is recorded before the agenda moves
        expect(main).to_be_enabled()
        chair.locator("#comment-text").fill(COMMENT)
        main.click()
        expect(chair.locator("#action-label")).to_have_text("开启投票")
        view = live.http("GET", "/api/view?role=chair", chair=True)["view"]
        assert view["remarks"] == [
            {"kind": "comment", "reporter": "r01", "by": "", "text": COMMENT}
        ]
        assert view["phase"] == "vote"

        # ---- a double click on 开启投票 (two clicks 250 ms apart) leaves the round open
        expect(main).to_be_enabled()
        box = main.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        chair.mouse.click(x, y)
        chair.wait_for_timeout(250)
        chair.mouse.click(x, y)
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        chair.wait_for_timeout(2000)
        expect(chair.locator("#confirm")).to_be_hidden()
        assert live.screen_view()["round"]["status"] == "open"

        # ---- the voting clock, on the projector and the console
        expect(screen.locator("#vote-clock")).to_have_text(re.compile(r"^已进行 00:0\d$"))
        expect(chair.locator("#vote-clock")).to_have_text(re.compile(r"^投票已进行 00:0\d$"))
        screen.screenshot(path=str(artifacts / "02-screen-voting-clock.png"))

        # ---- a close with no ballot and no confirmation is refused by the server
        refused = live.chair("close")
        assert refused["error"]["code"] == "too_early", refused
        assert refused["error"]["field"] == "force"

        # ---- 结束投票 asks: turnout against the quorum, red while it would be missed; cancel
        expect(main).to_be_enabled()
        main.click()
        dialog = chair.locator("#confirm")
        expect(dialog).to_be_visible()
        expect(chair.locator("#confirm-title")).to_have_text("确认结束投票？")
        expect(chair.locator("#confirm-turnout")).to_contain_text(
            "已投 0 票 / 应到 4 人，参评率 0%"
        )
        expect(chair.locator("#confirm-turnout")).to_contain_text("规定参评率不低于 50%")
        expect(chair.locator("#confirm-warn")).to_have_text("未达到规定参评率，将导致本次测评无效")
        chair.screenshot(path=str(artifacts / "03-chair-confirm-close.png"))
        chair.locator("#confirm-cancel").click()
        expect(dialog).to_be_hidden()
        chair.wait_for_timeout(500)
        assert live.screen_view()["round"]["status"] == "open"

        # ---- two ballots reach the quorum: no warning; confirm closes
        round_id = live.screen_view()["round"]["id"]
        for i, card in enumerate(live.cards[:2]):
            receipt = live.http(
                "POST",
                "/api/cast",
                {
                    "token": card.token,
                    "round": round_id,
                    "marks": {"r01": "好"},
                    "cid": f"{i}" * 32,
                },
            )
            assert "receipt" in receipt, receipt
        expect(chair.locator("#turnout-total")).to_have_text("2 / 4")
        expect(main).to_be_enabled()
        main.click()
        expect(dialog).to_be_visible()
        expect(chair.locator("#confirm-turnout")).to_contain_text(
            "已投 2 票 / 应到 4 人，参评率 50%"
        )
        expect(chair.locator("#confirm-warn")).to_be_hidden()
        chair.locator("#confirm-ok").click()
        expect(dialog).to_be_hidden()
        expect(screen.locator("#turnout-title")).to_have_text("投票已结束，等待公布结果")
        expect(screen.locator("#vote-clock")).to_be_hidden()

        # ---- reveal, then 结束会议 asks too
        expect(chair.locator("#action-label")).to_have_text("公布结果")
        expect(main).to_be_enabled()
        main.click()
        expect(chair.locator("#action-label")).to_have_text("结束会议")
        expect(main).to_be_enabled()
        main.click()
        expect(chair.locator("#confirm-title")).to_have_text("确认结束会议？")
        chair.screenshot(path=str(artifacts / "04-chair-confirm-finish.png"))
        chair.locator("#confirm-ok").click()
        expect(chair.locator("#phase")).to_have_text("会议已结束")
        assert time.monotonic() - started > 11 and len(panel_asks) == 1, panel_asks
    finally:
        chair_context.close()
        screen_context.close()
