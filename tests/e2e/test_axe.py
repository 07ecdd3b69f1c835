"""axe-core on every page in every state, in a real Chromium (issue 14): no serious or critical
violation (contrast, names, roles, ...) on the phone (waiting, ballot with grades selected,
review, receipt, results), /check, the chair console (before, during and after voting) and the
projector (idle, speaking, voting, results, and the results of an invalid appraisal: a
meeting whose quorum was missed). The projector is shot at 1920×1080 (docs/img with
PINGYI_DOC_IMAGES=1)."""

from __future__ import annotations

import pytest

from tests.e2e.test_voter_truth import close_round

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

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
name = "李秀英"
org = "青溪镇党委"

[[reporters]]
id = "r3"
name = "赵刚"
org = "沙州镇党委"
mode = "written"

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
"""
VOTES = [
    {"r1": "好", "r2": "较好", "r3": "一般"},
    {"r1": "较好", "r2": "差", "r3": "好"},
    {"r1": "好", "r2": "一般"},
    {"r1": "一般", "r2": "好", "r3": "差"},
    {"r1": "好", "r2": "好", "r3": "较好"},
]


def open_pages(browser, live, phones: int):
    contexts, errors = [], []

    def page(viewport: dict, mobile: bool = False):
        options = {"viewport": viewport, "locale": "zh-CN"}
        if mobile:
            options |= {"is_mobile": True, "has_touch": True}
        context = browser.new_context(**options)
        contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda error: errors.append(str(error)))
        return opened

    chair = page({"width": 1366, "height": 768})
    screen = page({"width": 1920, "height": 1080})
    phone_pages = [page({"width": 360, "height": 740}, mobile=True) for _ in range(phones)]
    chair.goto(f"{live.url}/chair?key={live.chair_key}")
    expect(chair.locator("#console")).to_be_visible()
    screen.goto(f"{live.url}/screen")
    for phone, card in zip(phone_pages, live.cards, strict=False):
        phone.goto(f"{live.url}/j/{card.token}")
        expect(phone.locator("#now-label")).to_have_text("会议尚未开始")
    return chair, screen, phone_pages, contexts, errors


def vote(phone, marks: dict[str, str]) -> None:
    for rid, grade in marks.items():
        phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()
    phone.locator("#to-review").click()
    phone.locator("#confirm").click()
    expect(phone.locator("#done-title")).to_have_text("您的投票已记录")


def walk_to_vote(live, screen, axe_clean, doc_shot) -> None:
    assert "error" not in live.chair("start")
    expect(screen.locator("#name")).to_have_text("王建国")
    axe_clean(screen, "projector speaking")
    doc_shot(screen, "screen-speaking")
    for _ in range(20):
        if live.screen_view()["phase"] == "vote":
            return
        assert "error" not in live.chair("next")


def test_axe_on_every_page_and_state(browser, serve, axe_clean, doc_shot) -> None:
    live = serve(MEETING.format(quorum=0))
    chair, screen, phones, contexts, errors = open_pages(browser, live, len(VOTES))
    try:
        axe_clean(chair, "chair before the meeting")
        doc_shot(chair, "chair-before")
        expect(screen.locator("#idle-title")).to_have_text("会议即将开始")
        axe_clean(screen, "projector idle")
        doc_shot(screen, "screen-idle")
        axe_clean(phones[0], "phone waiting")

        walk_to_vote(live, screen, axe_clean, doc_shot)
        axe_clean(phones[0], "phone waiting, someone speaking")
        axe_clean(chair, "chair, someone speaking")
        doc_shot(chair, "chair-vote-ready")
        assert "error" not in live.chair("open")
        expect(screen.locator("#turnout-title")).to_have_text("投票进行中")
        phone = phones[0]
        expect(phone.locator("#ballot li")).to_have_count(3)
        for rid, grade in VOTES[0].items():
            phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()
        axe_clean(phone, "phone ballot with grades selected")
        phone.locator("#to-review").click()
        expect(phone.locator("#review")).to_be_visible()
        axe_clean(phone, "phone review")
        phone.locator("#confirm").click()
        expect(phone.locator("#receipt")).to_be_visible()
        axe_clean(phone, "phone receipt")
        for other, marks in zip(phones[1:], VOTES[1:], strict=True):
            vote(other, marks)
        expect(screen.locator("#cast")).to_have_text(str(len(VOTES)))
        axe_clean(chair, "chair during voting")
        doc_shot(chair, "chair-voting")
        axe_clean(screen, "projector voting")
        doc_shot(screen, "screen-voting")

        close_round(live)
        expect(chair.locator("#result-state")).to_have_text("尚未公布")
        axe_clean(chair, "chair after voting (closed)")
        doc_shot(chair, "chair-closed")
        axe_clean(phones[1], "phone voting closed")
        assert "error" not in live.chair("reveal")
        expect(screen.locator("#results")).to_be_visible()
        expect(phone.locator("#results-list li")).to_have_count(3)
        axe_clean(screen, "projector results")
        doc_shot(screen, "screen-results")
        axe_clean(phone, "phone results")
        axe_clean(chair, "chair after voting (revealed)")
        doc_shot(chair, "chair-revealed")
        phone.goto(f"{live.url}/check")
        expect(phone.locator("ol.receipts li")).to_have_count(len(VOTES))
        axe_clean(phone, "/check")
        assert errors == [], errors
    finally:
        for context in contexts:
            context.close()


def test_axe_on_invalid_results(browser, serve, axe_clean, doc_shot) -> None:
    live = serve(MEETING.format(quorum=0.9))
    chair, screen, phones, contexts, errors = open_pages(browser, live, 1)
    try:
        assert "error" not in live.chair("start")
        for _ in range(20):
            if live.screen_view()["phase"] == "vote":
                break
            assert "error" not in live.chair("next")
        assert "error" not in live.chair("open")
        expect(phones[0].locator("#ballot li")).to_have_count(3)
        vote(phones[0], VOTES[0])
        close_round(live)
        assert "error" not in live.chair("reveal")
        expect(screen.locator("#results")).to_be_visible()
        assert live.screen_view()["result"]["valid"] is False
        axe_clean(screen, "projector invalid results")
        doc_shot(screen, "screen-invalid")
        axe_clean(chair, "chair invalid results")
        axe_clean(phones[0], "phone invalid results")
        assert errors == [], errors
    finally:
        for context in contexts:
            context.close()


def test_axe_on_the_open_join_pages(browser, serve, axe_clean, doc_shot) -> None:
    """Open mode: the join page (room code, the groups, the confirmation) and the projector
    showing the room code."""
    live = serve(MEETING.format(quorum=0).replace('join = "cards"', 'join = "open"'))
    contexts = []
    try:
        screen_context = browser.new_context(viewport={"width": 1920, "height": 1080})
        phone_context = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True, has_touch=True
        )
        contexts += [screen_context, phone_context]
        screen = screen_context.new_page()
        link = live.http("GET", "/api/screen-link", chair=True)
        screen.goto(live.url + link["url"])
        expect(screen.locator("#room-code")).to_be_visible()
        axe_clean(screen, "projector idle, open mode (room code)")
        phone = phone_context.new_page()
        phone.goto(f"{live.url}/join")
        expect(phone.locator("#room-form")).to_be_visible()
        expect(phone.get_by_role("button", name="县级领导")).to_be_visible()
        axe_clean(phone, "join page: room code and groups")
        for width, height in ((360, 740), (320, 640)):
            phone.set_viewport_size({"width": width, "height": height})
            doc_shot(phone, f"phone-join-{width}")
        room = live.http("GET", "/api/room", chair=True)["room"]
        phone.fill("#room", room)
        phone.get_by_role("button", name="县级领导").tap()
        expect(phone.locator("#confirm")).to_be_visible()
        axe_clean(phone, "join page: confirm the group")
        for width, height in ((360, 740), (320, 640)):
            phone.set_viewport_size({"width": width, "height": height})
            doc_shot(phone, f"phone-join-confirm-{width}")
    finally:
        for context in contexts:
            context.close()
