"""voting = "each": a vote after every reporter. Each phone ballot lists only that round's
reporter, the projector's results grow round by round, match `pingyi tally` and show the
quota tie the meeting must decide."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "中共测试镇委2026年度村党组织书记述职评议会"
date = "2026-12-29"
place = "镇政府三楼会议室"
join = "cards"
voting = "each"

[[reporters]]
id = "a"
name = "孙晓东"
org = "东风村党支部"

[[reporters]]
id = "b"
name = "胡玉兰"
org = "红星村党支部"

[[groups]]
id = "all"
name = "全体参会人员"
seats = 3

[rules.quota]
"好" = 0.5
"""

# The same marks for both: once both are tallied, one 好 for two is a tie nobody can break.
MARKS = {"a": ["好", None, "好"], "b": ["好", None, "好"]}


def test_a_vote_after_each_reporter(browser, serve, artifacts: Path, no_overflow) -> None:
    live = serve(MEETING)
    screen_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone_context = [
        browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        for _ in live.cards
    ]
    try:
        screen = screen_context.new_page()
        screen.goto(f"{live.url}/screen")
        phones = [context.new_page() for context in phone_context]
        for phone, card in zip(phones, live.cards, strict=True):
            phone.goto(f"{live.url}/j/{card.token}")
            expect(phone.locator("#now-label")).to_have_text("会议尚未开始")
        live.chair("start")
        for n, (rid, name) in enumerate((("a", "孙晓东"), ("b", "胡玉兰"))):
            expect(screen.locator("#name")).to_have_text(name)
            live.chair("next")
            expect(screen.locator("#phase")).to_have_text("点评")
            live.chair("next")
            expect(screen.locator("#turnout-title")).to_have_text("即将开始投票")
            live.chair("open")
            for phone, grade in zip(phones, MARKS[rid], strict=True):
                expect(phone.locator("#ballot li")).to_have_count(1)
                expect(phone.locator("#ballot .name")).to_have_text(name)
                if grade:
                    phone.locator(f"#ballot button[data-grade='{grade}']").tap()
                phone.locator("#to-review").click()
                phone.locator("#confirm").click()
                expect(phone.locator("#done")).to_be_visible()
            expect(screen.locator("#cast")).to_have_text("3")
            live.chair("close", force=True)
            live.chair("reveal")
            expect(screen.locator("#rtable .rows .row")).to_have_count(n + 1)
            no_overflow(screen)
            screen.screenshot(path=artifacts / f"round{n + 1}-results-screen.png")
            for phone in phones:
                expect(phone.locator("#results-list li")).to_have_count(n + 1)
            live.chair("next")
        phones[0].screenshot(path=artifacts / "end-phone.png", full_page=True)

        out, tallied = live.workdir / "ballots.csv", live.workdir / "tally.json"
        live.pingyi("export", str(live.toml), str(out), "--data", str(live.data))
        live.pingyi("tally", str(live.toml), str(out), "--json", str(tallied))
        for r in json.loads(tallied.read_text(encoding="utf-8"))["reporters"]:
            row = screen.locator(f"#rtable .rows .row[data-key='{r['id']}']")
            expect(row.locator(".grade")).to_have_text(r["final_grade"] or "待定")
            expect(row.locator(".why")).to_have_text(r["decided_by"])
        [tie] = json.loads(tallied.read_text(encoding="utf-8"))["undecided"]
        expect(screen.locator("#undecided")).to_contain_text(
            f"待会议决定（好）：孙晓东、胡玉兰 — {tie['why']}"
        )

        # the store goes away: every page says so (and keeps trying)
        os.kill(live.redis_pid(), signal.SIGKILL)
        expect(screen.locator("#net")).to_have_text("系统暂不可用，正在重连", timeout=20000)
        expect(phones[0].locator("#net")).to_have_text("系统暂不可用，正在重连")
        screen.screenshot(path=artifacts / "redis-down-screen.png")
    finally:
        screen_context.close()
        for context in phone_context:
            context.close()
