"""The setup page in Debian's Chromium (issue 18, “where do I type the names?”): a new user
runs `pingyi serve` with no meeting file, opens the printed setup page, types the key,
downloads the roster template, imports a broken roster (every error shown with its row and
column, nothing imported), then the example roster, sets a rule, fixes the one mistake the
live check names, and saves: the meeting server starts on the same address and the chair
console opens with the meeting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.roster_xlsx import roster_workbook
from tally.meeting_file import parse_meeting_text

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "名单示例.xlsx"


def test_a_new_user_sets_up_the_meeting(browser, first_run, axe_clean, doc_shot, tmp_path) -> None:
    base, log, _ = first_run
    printed = log.read_text()
    url = re.search(r"设置页面\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
    key = re.search(r"设置密钥\s+(\S+)（", printed).group(1)  # type: ignore[union-attr]
    assert url == f"{base}/setup?key={key}"
    broken = tmp_path / "名单-有错.xlsx"
    broken.write_bytes(
        roster_workbook(
            [("r01", "王建国", "城关镇党委", "现场", ""), ("r02", "", "河东镇党委", "视频", "")],
            [("a", "县级领导", 15, 0.5), ("b", "基层代表", 40, 0.4)],
        )
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))

        # ---- the key: a wrong one is refused, then typed as printed
        page.goto(f"{base}/setup")
        expect(page.locator("#login")).to_be_visible()
        page.fill("#key", "wrong")
        page.click("#login button[type=submit]")
        expect(page.locator("#login-error")).to_contain_text("设置密钥不正确")
        page.fill("#key", key)
        page.click("#login button[type=submit]")
        expect(page.locator("#setup")).to_be_visible()
        expect(page.locator("#r-grades")).to_have_value("好、较好、一般、差")
        expect(page.locator("#r-poor-limit")).to_have_value("10")
        expect(page.locator("#check")).to_contain_text("meeting.title")
        doc_shot(page, "setup-empty", full_page=True)

        # ---- the template downloads
        with page.expect_download() as waiting:
            page.click("#template")
        assert waiting.value.suggested_filename == "名单模板.xlsx"
        expect(page.locator("#roster-result")).to_contain_text("已下载 名单模板.xlsx")

        # ---- a broken roster: every error with its row and column, nothing imported
        page.set_input_files("#roster-file", str(broken))
        expect(page.locator("#roster-errors")).to_be_visible()
        expect(page.locator("#roster-result")).to_contain_text("有 3 处错误，未导入任何一行")
        rows = page.locator("#roster-errors-body tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("第3行")
        expect(rows.nth(0)).to_contain_text("C（姓名）")
        expect(rows.nth(1)).to_contain_text("E（述职方式）")
        expect(rows.nth(2)).to_contain_text("各组权重之和应为1")
        expect(page.locator("#reporters-body tr")).to_have_count(0)
        axe_clean(page, "setup: roster errors")
        doc_shot(page, "setup-roster-errors")

        # ---- the example roster
        page.set_input_files("#roster-file", str(EXAMPLE))
        expect(page.locator("#roster-result")).to_contain_text(
            "已从 名单示例.xlsx 导入 10 位述职人、3 个投票组别"
        )
        expect(page.locator("#roster-errors")).to_be_hidden()
        expect(page.locator("#reporters-body tr")).to_have_count(10)
        expect(page.locator("#groups-body tr")).to_have_count(3)

        # ---- the meeting's details, a rule, and the live check
        page.fill("#m-title", "2026年度基层党组织书记述职评议会")
        page.fill("#m-date", "2026-12-28")
        page.fill("#m-place", "县委大会议室")
        page.fill("#r-poor-limit", "15")
        page.fill("#quota-0", "30")
        expect(page.locator("#check")).to_contain_text(
            "检查通过：共10位述职人（现场8位、书面2位），3个投票组别，应到80人"
        )
        page.locator("#reporters-body tr").nth(2).locator("input").nth(0).fill("r01")
        error = page.locator("#reporters-body .row-error")
        expect(error).to_have_text("述职人编号“r01”重复")
        expect(page.locator("#check")).to_contain_text("reporters[3].id")
        axe_clean(page, "setup: a field error")
        error.evaluate("node => node.scrollIntoView({ block: 'center' })")
        doc_shot(page, "setup-field-error")
        page.locator("#reporters-body tr").nth(2).locator("input").nth(0).fill("r03")
        expect(page.locator("#check")).to_contain_text("检查通过")
        expect(error).to_have_count(0)
        page.fill("#r-cutoffs", "90、80")  # a rule: the message beside its box
        rule_error = page.locator("#r-cutoffs + .field-error")
        expect(rule_error).to_have_text("应有3个分数线（比grades少一个），实际为2个")
        expect(page.locator("#r-cutoffs")).to_have_attribute("aria-invalid", "true")
        page.fill("#r-cutoffs", "90、80、60")
        expect(rule_error).to_have_count(0)
        expect(page.locator("#check")).to_contain_text("检查通过")
        # a long page scrolls down, never sideways
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        axe_clean(page, "setup: ready")
        doc_shot(page, "setup-ready", full_page=True)

        # ---- save and start: the chair console opens with the meeting
        page.click("#save")
        expect(page.locator("#action-label")).to_have_text("开始会议", timeout=60_000)
        expect(page.locator("#title")).to_have_text("2026年度基层党组织书记述职评议会")
        assert "/chair" in page.url and "key=" not in page.url
        page.click("#action-main")
        expect(page.locator("#action-label")).not_to_have_text("开始会议")
        saved = parse_meeting_text((tmp_path / "meeting.toml").read_text(encoding="utf-8"))
        assert saved.rules.poor_share_limit == saved.rules.quota[0][1] / 2  # 0.15 and 0.30
        assert [r.name for r in saved.reporters][:2] == ["王建国", "李秀英"]
        assert saved.place == "县委大会议室"
        assert errors == []
    finally:
        context.close()
