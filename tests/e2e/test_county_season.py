"""A county's season in Chromium: one deployment (`pingyi serve --meetings`) hosting the
county's meeting, a town's meeting run on its own laptop (a separate data directory) and filed
as a 备案 package, and a town that has not met.

The county meeting runs under its prefix (/m/county): phones vote on their pages, the chair
closes on the console. On the admin page a tampered package is refused, naming the file, and
the town's own is received; the roll-up shows the right counts per level and the late town;
the town's secretariat sees the county's decision on its secretary on its feedback page.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from printouts import archive as a
from testkit.after_meeting import cast_ballots, enter_and_fix_evaluation
from testkit.net import http_json, wait_until
from testkit.season import Deployment, Season, town_package

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def tampered(package: bytes) -> bytes:
    """One 好 turned into 较好 in the ballots: the package no longer verifies."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == a.BALLOTS_FILE:
                data = data.replace("较好".encode(), "一般".encode(), 1)
            target.writestr(name, data)
    return out.getvalue()


def test_a_county_season(browser, tmp_path: Path, artifacts: Path, axe_clean, doc_shot) -> None:
    package = town_package(tmp_path / "chengguan")  # 城关镇's laptop, its own data directory
    (tmp_path / "upload").mkdir()
    good = tmp_path / "upload" / "备案-城关镇.zip"
    good.write_bytes(package)
    bad = tmp_path / "upload" / "备案-城关镇-改动.zip"
    bad.write_bytes(tampered(package))
    season = Season(tmp_path / "season").write()
    deployment = Deployment(season.folder, tmp_path / "data").start()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    phones = browser.new_context(**PHONE, locale="zh-CN")
    try:
        county = deployment.meeting("county", season.folder / "county.toml")
        meeting = season.county
        # ---- the county's meeting, under its prefix: the chair console, two phones, the rest
        chair = context.new_page()
        chair.goto(f"{deployment.base}/m/county/chair?key={county.chair_key}")
        expect(chair.locator("#title")).to_have_text(meeting.title)
        round_id = county.vote_step()
        cards = county.cards(meeting)
        for card in cards[-2:]:
            phone = phones.new_page()
            phone.goto(f"{county.base}/j/{card.token}")
            for reporter in meeting.reporters:
                item = f"#ballot li[data-key='{reporter.id}'] button[data-grade='好']"
                phone.locator(item).tap()
            phone.locator("#to-review").click()
            phone.locator("#confirm").click()
            expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
        cast_ballots(county, meeting, round_id, [r.id for r in meeting.reporters], voters=3)
        expect(chair.locator("#turnout-total")).to_have_text("5 / 6")
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        chair.click("#action-main")
        chair.click("#confirm-ok")
        expect(chair.locator("#result-state")).to_have_text("尚未公布")
        wait_until(lambda: _vote_grades(county), timeout=30)
        enter_and_fix_evaluation(county, studied_on=meeting.date, rectify_by="2099-12-31")

        # ---- the admin page: the late town, a tampered package refused, the good one received
        admin = context.new_page()
        admin.goto(f"{deployment.base}/admin?key={deployment.admin_key}")
        rows = admin.locator("#meetings tr[data-meeting]")
        expect(rows).to_have_count(3)
        late = admin.locator("#meetings tr[data-meeting='qingxi']")
        expect(late).to_have_class(_has("late"))
        expect(late).to_contain_text("逾期")
        expect(admin.locator("#meetings tr[data-meeting='county']")).to_contain_text("已备案")
        town = admin.locator("#meetings tr[data-meeting='chengguan']")
        town.locator("input[type=file]").set_input_files(str(bad))
        town.get_by_role("button", name="上传备案包").click()
        result = town.locator(".upload-result")
        expect(result).to_contain_text("未接收", timeout=60_000)
        expect(result).to_contain_text(a.BALLOTS_FILE)
        expect(town).not_to_contain_text("已备案")
        town.locator("input[type=file]").set_input_files(str(good))
        town.get_by_role("button", name="上传备案包").click()
        expect(result).to_contain_text("已接收", timeout=60_000)
        expect(town).to_contain_text("已备案")
        expect(admin.locator("#late-count")).to_contain_text("1")

        # ---- the roll-up: counts per level as the two records say
        towns = Counter(_vote_grades(county).values())
        villages = Counter(r["final_grade"] for r in _package_reporters(deployment))
        for level, counts, kind in (("镇党委", towns, "vote"), ("村党支部", villages, "final")):
            for grade, count in counts.items():
                cell = admin.locator(
                    f"#rollup [data-level='{level}'][data-kind='{kind}'][data-grade='{grade}']"
                )
                expect(cell).to_have_text(str(count))
        for grade, count in towns.items():  # the county's reporters carry a category
            cell = (
                f"#categories [data-category='镇党委书记'][data-kind='vote'][data-grade='{grade}']"
            )
            expect(admin.locator(cell)).to_have_text(str(count))
        expect(admin.locator("#rows")).to_contain_text("王建国")
        expect(admin.locator("#rows")).to_contain_text("赵春生")
        axe_clean(admin, "admin page")
        doc_shot(admin, "admin-season", full_page=True)

        # ---- 城关镇's secretariat: the county's decision on its secretary
        link = admin.locator("#units tr", has_text="城关镇党委").first.locator("a.feedback-link")
        feedback_url = link.get_attribute("href")
        assert feedback_url and feedback_url.startswith("/unit/chengguan?key=")
        unit = phones.new_page()
        unit.goto(deployment.base + feedback_url)
        entry = unit.locator("#feedback .feedback-entry")
        expect(entry).to_have_count(1)
        expect(entry).to_contain_text("王建国")
        expect(entry).to_contain_text("抓党建促发展成效明显")
        axe_clean(unit, "unit feedback page")
        doc_shot(unit, "unit-feedback", full_page=True)
    finally:
        context.close()
        phones.close()
        deployment.stop()


def _vote_grades(county) -> dict[str, str]:
    reporters = http_json(f"{county.base}/api/evaluation", key=county.chair_key)[1]["reporters"]
    grades = {r["id"]: r["vote_grade"] for r in reporters}
    return grades if all(grades.values()) else {}


def _package_reporters(deployment: Deployment) -> list[dict]:
    view = http_json(f"{deployment.base}/api/admin/season", key=deployment.admin_key)[1]
    return [row for row in view["rows"] if row["meeting"] == "chengguan"]


def _has(name: str):  # type: ignore[no-untyped-def]
    import re

    return re.compile(rf"(^|\s){name}(\s|$)")
