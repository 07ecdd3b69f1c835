"""The phone ballot with item checklists (逐项测评) in Chromium, on the 三评 example served
live: one reporter per screen, a progress bar, 全部选“是” only after a confirm, nothing
pre-filled; the review says what is left blank; the ballot stored is exactly what was tapped
(read back from `pingyi export`)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from cli.files import read_meeting
from testkit import ServerProcess, stop_embedded_redis
from testkit.commands import pingyi
from tests.helpers import ROOT

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}


def test_a_checklist_ballot_on_a_phone(browser, tmp_path: Path, axe_clean, doc_shot) -> None:
    shutil.copy(ROOT / "examples" / "sanping-meeting.toml", tmp_path / "meeting.toml")
    shutil.copytree(ROOT / "examples" / "items", tmp_path / "items")
    meeting, _ = read_meeting(tmp_path / "meeting.toml")
    server = ServerProcess(tmp_path / "meeting.toml", tmp_path / "data")
    context = browser.new_context(**PHONE, locale="zh-CN")
    try:
        server.start()
        card = next(c for c in server.cards(meeting) if c.group == "town")
        server.vote_step()
        phone = context.new_page()
        phone.goto(f"{server.base}/j/{card.token}")
        page = phone.locator("section.reporter-page")
        expect(page).to_have_attribute("data-reporter", "r01")
        expect(phone.locator("#ballot")).to_be_hidden()
        # nothing pre-filled
        expect(phone.locator("button.option[aria-pressed='true']")).to_have_count(0)
        expect(phone.locator("#items-count")).to_contain_text("已答 0 /")
        axe_clean(phone, "a reporter's checklist")
        doc_shot(phone, "page-ballot-items")

        # r01 (镇党委, 26 是不是 items): all 是 after the confirm, then one changed to 不是
        phone.locator("#all-first").click()
        dialog = phone.locator("#confirm-all-dialog")
        expect(dialog).to_be_visible()
        phone.locator("#cancel-all").click()  # cancelled: still nothing chosen
        expect(phone.locator("button.option[aria-pressed='true']")).to_have_count(0)
        phone.locator("#all-first").click()
        phone.locator("#confirm-all").click()
        expect(page.locator("button.option[data-option='是'][aria-pressed='true']")).to_have_count(
            26
        )
        page.locator("li.item-row[data-item='b02'] button.option[data-option='不是']").tap()
        phone.locator("#next-reporter").click()

        # r02: two items answered, the rest left blank
        expect(page).to_have_attribute("data-reporter", "r02")
        page.locator("li.item-row[data-item='b01'] button.option[data-option='不是']").tap()
        page.locator("li.item-row[data-item='b03'] button.option[data-option='是']").tap()
        page.locator("li.item-row[data-item='b03'] button.option[data-option='是']").tap()  # undone
        page.locator("li.item-row[data-item='b05'] button.option[data-option='是']").tap()
        phone.locator("#next-reporter").click()

        # r03-r06 (村党支部书记: a grade and 28 能不能 items): a grade each, one item each
        for rid, grade in (("r03", "好"), ("r04", "较好"), ("r05", "一般"), ("r06", "好")):
            expect(page).to_have_attribute("data-reporter", rid)
            page.locator(f".grade-row button.choice[data-grade='{grade}']").tap()
            page.locator("li.item-row[data-item='a01'] button.option[data-option='能']").tap()
            phone.locator("#next-reporter").click()

        # the review: what is answered and what is left blank, per reporter
        expect(phone.locator("#review")).to_be_visible()
        lines = phone.locator("#review-list li.item-review")
        expect(lines).to_have_count(6)
        expect(lines.nth(0)).to_contain_text("已答 26 / 26 项")
        expect(lines.nth(1)).to_contain_text("已答 2 / 26 项，弃权 24 项")
        expect(lines.nth(2)).to_contain_text("好")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        axe_clean(phone, "the checklist review")
        phone.locator("#confirm").click()
        expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
        receipt = phone.locator("#receipt").inner_text()

        assert server.chair("close", force=True)[0] == 200
        export = tmp_path / "选票.csv"
        done = pingyi("export", tmp_path / "meeting.toml", export, "--data", server.data)
        assert done.returncode == 0, done.stderr
        (row,) = [r for r in csv.DictReader(io.StringIO(export.read_text("utf-8")))]
        assert row["ballot"] == receipt and row["group"] == "town"
        r01 = {k: v for k, v in row.items() if k.startswith("r01.")}
        assert r01["r01.b02"] == "不是" and sum(v == "是" for v in r01.values()) == 25
        r02 = {k.split(".")[1]: v for k, v in row.items() if k.startswith("r02.") and v}
        assert r02 == {"b01": "不是", "b05": "是"}
        assert [row[r] for r in ("r03", "r04", "r05", "r06")] == ["好", "较好", "一般", "好"]
        assert row["r03.a01"] == "能" and row["r03.a02"] == ""
    finally:
        context.close()
        server.stop()
        stop_embedded_redis(tmp_path / "data")
