"""A whole 三评 meeting in Chromium (issue 17): three constituencies on different forms (镇机关
with a grade and the 28-item checklist, 企业 with the grade, 农村 with the items), an expert
panel of five scoring on their own pages, the indicator values imported from an Excel file on
the chair console, phones answering on their checklists, the projector showing the result per
constituency and combined, and the printed 三评 sheet verified by `pingyi verify`."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from cli.files import read_meeting
from testkit import ServerProcess, http_json, stop_embedded_redis
from testkit.commands import pingyi
from testkit.sanping import filled_in
from tests.helpers import ROOT

expect = pytest.importorskip("playwright.sync_api").expect

EXAMPLES = ROOT / "examples"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def indicators_workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO((EXAMPLES / "sanping-indicators.csv").read_text("utf-8"))):
        sheet.append([c if not c.replace(".", "").isdigit() else float(c) for c in row])
    book.save(path)


def test_a_sanping_meeting(browser, tmp_path: Path, axe_clean, doc_shot) -> None:
    text = (EXAMPLES / "sanping-meeting.toml").read_text("utf-8")
    (tmp_path / "meeting.toml").write_text(text)
    shutil.copytree(EXAMPLES / "items", tmp_path / "items")
    indicators_workbook(tmp_path / "项目指标.xlsx")
    meeting, _ = read_meeting(tmp_path / "meeting.toml")
    server = ServerProcess(tmp_path / "meeting.toml", tmp_path / "data")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    phones = browser.new_context(**PHONE, locale="zh-CN")
    try:
        server.start()
        chair = desk.new_page()
        chair.goto(f"{server.base}/chair?key={server.chair_key}")

        # ---- the chair console: five expert links, the indicators from Excel
        card = chair.locator("#panel-card")
        expect(card).to_be_visible()
        links = card.locator("#panel-experts a")
        expect(links).to_have_count(5)
        urls = links.evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
        chair.locator("#panel-indicators-file").set_input_files(str(tmp_path / "项目指标.xlsx"))
        card.get_by_role("button", name="导入项目指标").click()
        expect(chair.locator("#panel-indicators-result")).to_have_text(
            "已导入 6 位述职人的项目指标"
        )

        # ---- five experts, each on their own page
        scores = list(csv.DictReader(io.StringIO((EXAMPLES / "sanping-experts.csv").read_text())))
        for n, url in enumerate(urls, 1):
            page = desk.new_page()
            page.goto(server.base + url)
            expect(page.locator("#who")).to_contain_text("专家：")
            for row in scores:
                given = row[f"e{n}"]
                if not given:
                    continue  # r04: e5 did not score
                item = page.locator(f"li[data-reporter='{row['reporter']}']")
                item.locator("input").fill(given)
                item.get_by_role("button", name="保存").click()
                expect(item.locator(".saved")).to_have_text(f"已保存：{given} 分")
            if n == 1:
                axe_clean(page, "an expert's page")
                doc_shot(page, "page-expert")
                first_expert = page  # stays open: it hears the close over its WebSocket
            else:
                page.close()
        expect(card.locator("#panel-experts li").first).to_contain_text(
            "已评 6 / 6 人", timeout=15_000
        )

        # ---- the vote: one phone per constituency on its own form, the rest over HTTP
        round_id = server.vote_step()
        cards = server.cards(meeting)
        by_phone = [next(c for c in cards if c.group == g) for g in ("town", "firms", "rural")]
        for voter in by_phone:
            phone = phones.new_page()
            phone.goto(f"{server.base}/j/{voter.token}")
            if voter.group == "firms":  # the grade form: today's ballot
                for r in meeting.reporters:
                    phone.locator(f"#ballot li[data-key='{r.id}'] button[data-grade='较好']").tap()
                phone.locator("#to-review").click()
            else:
                page = phone.locator("section.reporter-page")
                for r in meeting.reporters:
                    expect(page).to_have_attribute("data-reporter", r.id)
                    grade_row = page.locator(".grade-row button.choice[data-grade='好']")
                    if grade_row.count():
                        grade_row.tap()
                    phone.locator("#all-first").click()
                    phone.locator("#confirm-all").click()
                    phone.locator("#next-reporter").click()
            expect(phone.locator("#review")).to_be_visible()
            phone.locator("#confirm").click()
            expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
        info = http_json(f"{server.base}/api/meeting")[1]
        for n, voter in enumerate(c for c in cards if c not in by_phone):
            marks, items = filled_in(info, meeting, voter.group, n, every=5)
            body = {"token": voter.token, "round": round_id, "marks": marks, "items": items}
            assert http_json(f"{server.base}/api/cast", body | {"cid": voter.token})[0] == 200

        # ---- close and reveal on the console; the projector per constituency and combined
        screen = desk.new_page()
        screen.set_viewport_size({"width": 1920, "height": 1080})
        screen.goto(f"{server.base}/screen")
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        chair.click("#action-main")
        chair.click("#confirm-ok")
        expect(chair.locator("#action-label")).to_have_text("公布结果", timeout=30_000)
        locked = first_expert.locator("li[data-reporter='r01']")
        expect(locked.locator(".saved")).to_contain_text("已计票，评分已锁定")
        expect(locked.locator("input")).to_be_disabled()
        chair.click("#action-main")
        table = screen.locator("#stable")
        expect(table).to_be_visible()
        result = http_json(f"{server.base}/api/view?role=screen")[1]["view"]["result"]
        for r in result["reporters"]:
            row = table.locator(f".rows .row[data-reporter='{r['id']}']")
            expect(row.locator("[data-col='composite']")).to_have_text(
                f"{r['composite_score']:.2f}"
            )
            expect(row.locator("[data-col='grade']")).to_have_text(r["composite_grade"])
            for source in ("experts", "indicators"):
                assert r["sources"][source] is not None  # both entered live, both counted
            for group in ("town", "firms", "rural"):
                expect(row.locator(f"[data-col='{group}']")).to_have_text(
                    f"{r['by_group'][group]['score']:.2f}"
                )
        doc_shot(screen, "screen-sanping-meeting")

        # ---- the signed 三评 sheet from the record, verified against the files beside it
        sheet = tmp_path / "汇总表.pdf"
        done = pingyi(
            "print", "tally", tmp_path / "meeting.toml", "--data", server.data, "-o", sheet
        )
        assert done.returncode == 0, done.stderr
        beside = [tmp_path / f"汇总表-{kind}.csv" for kind in ("ballots", "experts", "indicators")]
        done = pingyi(
            "verify", sheet, "--meeting", tmp_path / "meeting.toml", "--ballots", beside[0],
            "--experts", beside[1], "--indicators", beside[2],
        )  # fmt: skip
        assert done.returncode == 0 and "全部一致" in done.stdout, done.stdout + done.stderr
    finally:
        desk.close()
        phones.close()
        server.stop()
        stop_embedded_redis(tmp_path / "data")
