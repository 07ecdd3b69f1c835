"""The counting station (计票台) in a real Chromium: the chair console hands out its two links;
at the station six paper ballots are typed twice each (one typed differently the second time:
both versions side by side, the right one taken), the 回收 figures are typed, and the panel's
numbers after phones and paper are checked, with the warning when more came back than was
issued; the 监票人's page on a tablet is the same panel, read-only; after the close the export
has those six ballots as 纸质 with the marks typed."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "计票台测试会议"
date = "2026-12-28"
place = "县委党校报告厅"
join = "cards"
voting = "end"

[[reporters]]
id = "r1"
name = "王建国"
org = "城关镇党委"
mode = "written"

[[reporters]]
id = "r2"
name = "李秀英"
org = "青溪镇党委"
mode = "written"

[[reporters]]
id = "r3"
name = "赵刚"
org = "沙州镇党委"
mode = "written"

[[groups]]
id = "leaders"
name = "县级领导"
seats = 4
weight = 0.4

[[groups]]
id = "members"
name = "部门代表"
seats = 8
weight = 0.6

[rules]
quorum = 0
"""

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
SPOILED = {"r1": "废", "r2": "废", "r3": "废"}


def context_page(browser, viewport: dict):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def type_ballot(page, code: str, marks: dict[str, str], spoiled: bool = False) -> None:  # type: ignore[no-untyped-def]
    page.fill("#entry-code", code)
    if spoiled:
        page.check("#entry-spoiled")
    else:
        for rid, mark in marks.items():
            page.locator(f'#entry-marks input[name="entry-{rid}"][value="{mark}"]').check()
    page.click("#entry-submit")


def panel_row(page, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    row = page.locator("#reconcile-body tr", has_text=name)
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def fits_width(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_paper_ballots_typed_twice_at_the_counting_station(
    browser, serve, artifacts: Path, axe_clean
) -> None:
    live = serve(MEETING)
    leaders = [c for c in live.cards if c.group == "leaders"]
    members = [c for c in live.cards if c.group == "members"]
    assert live.chair("start").get("v") and live.chair("open").get("v")
    round_id = live.screen_view()["round"]["id"]

    # Two phones of 部门代表 vote.
    for n, card in enumerate(members[:2]):
        body = {"token": card.token, "round": round_id, "cid": f"phone-ballot-{n:04d}"}
        answer = live.http(
            "POST", "/api/cast", {**body, "marks": {"r1": "好", "r2": "好", "r3": "好"}}
        )
        assert "receipt" in answer, answer

    # The chair console's 纸质票录入 card links to the station and to the 监票人's view.
    chair = context_page(browser, LAPTOP)
    chair.goto(f"{live.url}/chair?key={live.chair_key}")
    expect(chair.locator("#count-links")).to_be_visible()
    count_url = chair.locator("#count-link").get_attribute("href")
    observer_url = chair.locator("#observer-link").get_attribute("href")
    assert count_url.startswith("/count?key=") and observer_url.startswith("/count?key=")
    assert live.chair_key not in count_url + observer_url

    station = context_page(browser, LAPTOP)
    station.goto(live.url + count_url)
    expect(station.locator("#badge")).to_have_text("计票台 · 计票人")
    expect(station.locator("#round-state")).to_have_text("投票进行中")
    assert "key=" not in station.url  # the key left the address bar at once
    expect(station.locator("#entry-marks li")).to_have_count(3)
    expect(station.locator("#entry-marks input:checked")).to_have_count(0)  # nothing preset
    axe_clean(station, "计票台：第一遍录入")
    station.screenshot(path=artifacts / "01-station.png", full_page=True)

    ballots = [
        (leaders[0].code, {"r1": "好", "r2": "较好", "r3": "一般"}, False),
        (leaders[1].code, {"r1": "较好", "r2": "", "r3": "差"}, False),
        (leaders[2].code, {"r1": "一般", "r2": "好", "r3": "好"}, False),
        (members[2].code, {"r1": "好", "r2": "好", "r3": "较好"}, False),
        (members[3].code, {"r1": "差", "r2": "废", "r3": "一般"}, False),
        (members[4].code, SPOILED, True),
    ]
    receipts: dict[str, str] = {}
    for n, (code, marks, spoiled) in enumerate(ballots):
        type_ballot(station, code, marks, spoiled)
        # the first version is hidden: the form is empty and asks for the second
        expect(station.locator("#entry-title")).to_have_text("第二遍录入")
        expect(station.locator("#entry-code")).to_have_value("")
        expect(station.locator("#entry-marks input:checked")).to_have_count(0)
        expect(station.locator("#entry-spoiled")).not_to_be_checked()
        if n == 1:  # the same card typed another way (case, spaces): still the same ballot
            type_ballot(station, code.lower().replace("-", " "), marks, spoiled)
        elif n == 3:  # the second clerk reads 李秀英's mark wrong
            type_ballot(station, code, {**marks, "r2": "一般"}, spoiled)
            expect(station.locator("#compare")).to_be_visible()
            expect(station.locator("#entry-form")).to_be_hidden()
            differing = station.locator("#versions-body tr.diff")
            expect(differing).to_have_count(1)
            expect(differing.locator("th")).to_contain_text("李秀英")
            expect(differing.locator("td")).to_have_text(["好", "一般"])
            expect(station.locator("#versions-body tr")).to_have_count(5)  # code, 整张废票, 3
            axe_clean(station, "计票台：两遍不一致")
            station.screenshot(path=artifacts / "02-mismatch.png", full_page=True)
            # nothing is stored before the clerk chooses
            assert live.screen_view()["turnout"]["cast"] == 2 + n
            station.click("#take-first")  # the paper says 好: the first version
        else:
            type_ballot(station, code, marks, spoiled)
        result = station.locator("#entry-result")
        expect(result).to_contain_text("已录入")
        receipt = re.search(r"回执编号 (\S{5}-\S{5})", result.inner_text())
        assert receipt, result.inner_text()
        receipts[receipt[1]] = code
        expect(station.locator("#entry-title")).to_have_text("第一遍录入")
    expect(station.locator("#entered-list li")).to_have_count(6)

    # 回收: the box holds 3 of 县级领导 and 3 of 部门代表; 5 of 县级领导 would be more than the
    # 4 cards issued, with 0 phones: the panel says so in red.
    station.fill("#returned-by", "张三")
    station.fill("#returned-leaders", "5")
    station.click("#returned-save-leaders")
    expect(station.locator("#returned-result")).to_have_text("已保存：县级领导回收 5 张")
    warning = station.locator("#warnings .warning")
    expect(warning).to_have_text("⚠ 县级领导：回收票数超过发出票数（手机0张＋回收5张＞应到4张）")
    expect(station.locator("#warnings")).to_have_attribute("role", "alert")
    expect(station.locator("#reconcile-body tr.warn")).to_have_count(1)
    axe_clean(station, "计票台：警告")
    station.fill("#returned-leaders", "3")
    station.click("#returned-save-leaders")
    station.fill("#returned-members", "3")
    station.press("#returned-members", "Enter")
    expect(station.locator("#returned-result")).to_have_text("已保存：部门代表回收 3 张")
    expect(warning).to_have_count(0)

    # The panel after 2 phones and 6 paper ballots: 应到, 手机, 纸质已录入, 纸质回收, 废票, 未回收.
    expect(station.locator("#reconcile-body tr", has_text="县级领导").locator("td")).to_have_text(
        ["4", "0", "3", "3", "计票后", "1"]
    )
    expect(station.locator("#reconcile-body tr", has_text="部门代表").locator("td")).to_have_text(
        ["8", "2", "3", "3", "计票后", "3"]
    )
    expect(station.locator("#reconcile-total td")).to_have_text(
        ["12", "2", "6", "6", "计票后", "4"]
    )
    assert fits_width(station)
    station.screenshot(path=artifacts / "03-panel.png", full_page=True)

    # The 监票人, on a tablet: the same panel, nothing to enter.
    observer = context_page(browser, TABLET)
    observer.goto(live.url + observer_url)
    expect(observer.locator("#badge")).to_have_text("计票台 · 监票人")
    expect(observer.locator("#observer-note")).to_be_visible()
    expect(observer.locator("#entry-col")).to_be_hidden()
    expect(observer.locator("input:visible")).to_have_count(0)
    expect(observer.locator("button:visible")).to_have_count(0)
    expect(observer.locator("#reconcile-total td")).to_have_text(
        ["12", "2", "6", "6", "计票后", "4"]
    )
    assert fits_width(observer)
    axe_clean(observer, "监票人")
    observer.screenshot(path=artifacts / "04-observer-tablet.png", full_page=True)
    # the station on a tablet too
    station.set_viewport_size(TABLET)
    assert fits_width(station)

    # Closed and counted: entry stops, the spoiled ballot shows.
    assert live.chair("close", force=True).get("v")
    expect(station.locator("#round-state")).to_have_text("投票已结束", timeout=10_000)
    expect(station.locator("#entry-submit")).to_be_disabled()
    expect(observer.locator("#reconcile-total td")).to_have_text(
        ["12", "2", "6", "6", "1", "4"], timeout=15_000
    )

    # The export: the six ballots as 纸质, with the marks agreed on.
    out = live.workdir / "ballots.csv"
    live.pingyi("export", str(live.toml), str(out), "--data", str(live.data))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 8
    paper = {row["ballot"]: row for row in rows if row["via"] == "纸质"}
    assert set(paper) == set(receipts)
    typed = {code: (marks, spoiled) for code, marks, spoiled in ballots}
    for receipt, code in receipts.items():
        marks, _ = typed[code]
        row = paper[receipt]
        assert {rid: row[rid] for rid in ("r1", "r2", "r3")} == marks, (code, row)
        group = "leaders" if code in {c.code for c in leaders} else "members"
        assert row["group"] == group
    assert sum(row["via"] == "手机" for row in rows) == 2
