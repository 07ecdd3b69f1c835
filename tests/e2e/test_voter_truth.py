"""Every voter is told the truth, in a real Chromium (issue 14): the refused twin phone (one
card on two phones) says its ballot was not counted and shows no green tick; a voter still on
the review step when voting closes is told the ballot was not counted; offline at submit the
phone says the ballot is kept and will go; the review says 提交后不可修改; an all-blank
ballot gets a second prompt; an invalid card says so instead of 正在连接…; a reload keeps the
voter's place and 跳到未评 finds the one left; the receipt can be found on /check after the
reveal. Each phone state is shot at 360 and 320 px (docs/img with PINGYI_DOC_IMAGES=1)."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

REPORTERS = [
    ("r1", "王建国", "城关镇党委"),
    ("r2", "李秀英", "青溪镇党委"),
    ("r3", "赵刚", "沙州镇党委"),
    ("r4", "刘海燕", "县卫生健康局党组"),
    ("r5", "陈志明", "县教育局党组"),
    ("r6", "杨丽华", "木鱼镇党委"),
    ("r7", "周文斌", "县财政局党组"),
    ("r8", "吴春梅", "县交通运输局党组"),
]
MEETING = (
    """
[meeting]
title = "中共测试县委2026年度党组织书记抓基层党建工作述职评议大会"
date = "2026-12-28"
place = "县委党校报告厅"
join = "cards"
voting = "end"
"""
    + "".join(
        f'\n[[reporters]]\nid = "{rid}"\nname = "{name}"\norg = "{org}"\n'
        + ('mode = "written"\n' if rid in ("r7", "r8") else "")
        for rid, name, org in REPORTERS
    )
    + """
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
"""
)
RECEIPT = re.compile(r"^[0-9A-Z]{4,}-[0-9A-Z]{4,}$")
SIZES = {360: {"width": 360, "height": 740}, 320: {"width": 320, "height": 640}}


def close_round(live) -> None:
    """结束投票, confirmed (`force`) where the server knows it; else after the 10 s guard."""
    deadline = time.monotonic() + 15
    while True:
        body = live.chair("close", force=True)
        if "error" in body and body["error"].get("field") == "force":
            body = live.chair("close")
        if "error" not in body or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "error" not in body, body


def walk_to_vote(live) -> None:
    assert "error" not in live.chair("start")
    for _ in range(40):
        if live.screen_view()["phase"] == "vote":
            return
        assert "error" not in live.chair("next")
    raise AssertionError("no vote step")


class Phones:
    def __init__(self, browser, live, doc_shot, axe_clean) -> None:
        self.browser, self.live, self.doc_shot, self.axe_clean = browser, live, doc_shot, axe_clean
        self.contexts: list = []
        self.errors: list[str] = []

    def open(self, card_index: int | None = None, path: str | None = None):
        context = self.browser.new_context(
            viewport=SIZES[360], locale="zh-CN", is_mobile=True, has_touch=True
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        if path is None:
            assert card_index is not None
            path = f"/j/{self.live.cards[card_index].token}"
        page.goto(self.live.url + path)
        return page

    def shoot(self, page, state: str) -> None:
        """The phone as it is now, at 360 and at 320 px wide; axe finds nothing serious."""
        self.axe_clean(page, f"phone {state}")
        for width, size in SIZES.items():
            page.set_viewport_size(size)
            page.wait_for_timeout(150)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, state
            self.doc_shot(page, f"phone-{state}-{width}")
        page.set_viewport_size(SIZES[360])

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def mark(phone, marks: dict[str, str]) -> None:
    for rid, grade in marks.items():
        phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()


def test_every_voter_is_told_the_truth(browser, serve, doc_shot, axe_clean) -> None:
    live = serve(MEETING)
    phones = Phones(browser, live, doc_shot, axe_clean)
    try:
        run(phones, live)
        assert phones.errors == [], phones.errors
    finally:
        phones.close()


def run(phones: Phones, live) -> None:
    # ---- an invalid card says so plainly, never 正在连接…
    stranger = phones.open(path="/j/AAAAAAAAAAAAAAAAAAAAAA")
    expect(stranger.locator("#refused")).to_be_visible()
    expect(stranger.locator("#title")).to_have_text("参会卡无效")
    expect(stranger.locator("#net")).to_be_hidden()
    expect(stranger.locator("body")).not_to_contain_text("正在连接")
    phones.shoot(stranger, "invalid-card")

    # ---- waiting, then someone speaking
    main = phones.open(0)
    expect(main.locator("#now-label")).to_have_text("会议尚未开始")
    phones.shoot(main, "waiting")
    assert "error" not in live.chair("start")
    expect(main.locator("#now-who")).to_have_text("王建国")
    phones.shoot(main, "speaking")
    for _ in range(40):
        if live.screen_view()["phase"] == "vote":
            break
        assert "error" not in live.chair("next")

    # every other phone opens before voting does
    twin_a, twin_b, twin_c = phones.open(1), phones.open(1), phones.open(1)  # one card, 3 phones
    late = phones.open(2)  # still on the review step when voting closes
    offline = phones.open(3)  # offline at 确认提交
    blank = phones.open(4)  # an all-blank ballot
    assert "error" not in live.chair("open")
    for phone in (main, twin_a, twin_b, twin_c, late, offline, blank):
        expect(phone.locator("#ballot li")).to_have_count(len(REPORTERS))

    # ---- a reload keeps the voter's place; 跳到未评 (n) finds the one left
    marks = {rid: "好" if i % 3 else "较好" for i, (rid, _, _) in enumerate(REPORTERS)}
    del marks["r2"]
    mark(main, {k: v for k, v in marks.items() if k != "r8"})
    mark(main, {"r6": "一般", "r7": "差"})
    phones.shoot(main, "ballot")
    expect(main.locator("#jump")).to_have_text("跳到未评 (2)")
    main.reload()
    expect(main.locator("#ballot button[aria-pressed='true']")).to_have_count(6)
    expect(main.locator("#ballot li[data-key='r7']")).to_be_in_viewport()
    assert main.evaluate("window.scrollY") > 0
    mark(main, {"r8": "好"})
    expect(main.locator("#progress")).to_have_text("已评 7 / 8 人")
    expect(main.locator("#jump")).to_have_text("跳到未评 (1)")
    main.locator("#jump").tap()
    focused = main.locator("#ballot li[data-key='r2'] button.choice").first
    expect(focused).to_be_focused()
    expect(focused).to_be_in_viewport()
    # the focus ring is thick and the sticky bar never covers the focused button
    main.wait_for_timeout(600)  # the smooth scroll
    ring = focused.evaluate("b => getComputedStyle(b).outlineWidth")
    assert float(ring.removesuffix("px")) >= 3, ring
    button_bottom = focused.evaluate("b => b.getBoundingClientRect().bottom")
    bar_top = main.evaluate("document.querySelector('#voting .bar').getBoundingClientRect().top")
    assert button_bottom <= bar_top, (button_bottom, bar_top)
    mark(main, {"r2": "较好"})
    expect(main.locator("#jump")).to_be_hidden()

    # ---- the review says 提交后不可修改; the receipt, with the promise it keeps
    main.locator("#to-review").click()
    expect(main.locator("#review")).to_contain_text("提交后不可修改")
    expect(main.locator("#all-blank")).to_be_hidden()
    expect(main.locator("#confirm")).to_have_text("确认提交")
    phones.shoot(main, "review")
    main.locator("#confirm").click()
    expect(main.locator("#done-title")).to_have_text("您的投票已记录")
    expect(main.locator("#receipt")).to_have_text(RECEIPT)
    receipt = main.locator("#receipt").inner_text()
    phones.shoot(main, "receipt")

    # ---- an all-blank ballot gets an extra prompt
    blank.locator("#to-review").click()
    expect(blank.locator("#all-blank")).to_be_visible()
    expect(blank.locator("#all-blank")).to_contain_text("全部计为弃权")
    expect(blank.locator("#confirm")).to_have_text("确认全部弃权并提交")
    expect(blank.locator("#review-summary")).to_have_text("共 8 人，已评 0 人，弃权 8 人。")
    phones.shoot(blank, "all-blank")
    blank.locator("#back-edit").click()
    mark(blank, {"r1": "一般"})
    blank.locator("#to-review").click()
    expect(blank.locator("#all-blank")).to_be_hidden()
    blank.locator("#confirm").click()
    expect(blank.locator("#done-title")).to_have_text("您的投票已记录")

    # ---- one card on two phones: the refused one is told its ballot did not count
    mark(twin_a, {"r1": "好"})
    twin_a.locator("#to-review").click()
    twin_a.locator("#confirm").click()
    expect(twin_a.locator("#done-title")).to_have_text("您的投票已记录")
    mark(twin_c, {"r3": "一般"})  # marks, never sent: after a reload it is told too
    twin_c.reload()
    expect(twin_c.locator("#done-title")).to_have_text("此卡已在其他设备投票，本机未计入")
    mark(twin_b, {"r1": "差", "r2": "差"})
    twin_b.locator("#to-review").click()
    twin_b.locator("#confirm").click()
    expect(twin_b.locator("#done-title")).to_have_text("此卡已在其他设备投票，本机未计入")
    expect(twin_b.locator("#done")).to_have_class(re.compile(r"\btwin\b"))
    expect(twin_b.locator("#done-icon")).to_have_text("!")
    expect(twin_b.locator("#receipt")).to_be_hidden()
    expect(twin_b.locator("body")).not_to_contain_text("您的投票已记录")
    expect(twin_b.locator("body")).not_to_contain_text("✓")
    green = twin_b.evaluate(
        "getComputedStyle(document.querySelector('#done-icon')).backgroundColor"
    )
    assert green != "rgb(31, 122, 68)", green  # var(--ok)
    phones.shoot(twin_b, "twin")
    twin_b.reload()  # it stays told
    expect(twin_b.locator("#done-title")).to_have_text("此卡已在其他设备投票，本机未计入")

    # ---- offline at 确认提交: kept, and said so; it goes when the network is back
    mark(offline, {"r1": "较好", "r3": "好"})
    offline.locator("#to-review").click()
    offline.context.set_offline(True)
    offline.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(offline.locator("#net")).to_have_text("网络已断开，正在重连…", timeout=15000)
    offline.locator("#confirm").click()
    expect(offline.locator("#pending-note")).to_have_text("已保存，联网后自动提交，请勿关闭")
    expect(offline.locator("#pending-note")).to_be_in_viewport()
    phones.shoot(offline, "offline")
    offline.context.set_offline(False)
    expect(offline.locator("#done-title")).to_have_text("您的投票已记录", timeout=20000)
    expect(offline.locator("#pending-note")).to_be_hidden()

    # the chair console during voting, its agenda longer than its box: axe still content
    context = phones.browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    phones.contexts.append(context)
    chair = context.new_page()
    chair.goto(f"{live.url}/chair?key={live.chair_key}")
    expect(chair.locator("#steps li")).to_have_count(13)
    assert chair.evaluate(
        "(s => s.scrollHeight > s.clientHeight)(document.querySelector('#steps'))"
    )
    phones.axe_clean(chair, "chair during voting, 13 steps")

    # ---- still on the review step when voting closes: not counted, and told so
    mark(late, {"r1": "好", "r2": "好"})
    late.locator("#to-review").click()
    expect(late.locator("#review")).to_be_visible()
    close_round(live)
    expect(late.locator("#missed")).to_be_visible()
    expect(late.locator("#missed h2")).to_have_text("投票已结束，您的选票未提交，未计入")
    expect(late.locator("#done")).to_be_hidden()
    expect(late.locator("#review")).to_be_hidden()
    phones.shoot(late, "missed")
    late.reload()
    expect(late.locator("#missed")).to_be_visible()
    expect(main.locator("#now-label")).to_have_text("投票已结束")

    # ---- after the reveal the receipt can be checked on /check
    assert "error" not in live.chair("reveal")
    expect(main.locator("#results-list li")).to_have_count(len(REPORTERS))
    expect(main.locator("#check-link")).to_be_visible()
    phones.shoot(main, "results")
    expect(late.locator("#missed")).to_be_visible()  # the results do not hide it
    main.locator("#check-link").click()
    expect(main).to_have_url(re.compile(r"/check#"))
    expect(main.locator("#verdict")).to_have_text("✓ 已找到：您的选票已计入")
    expect(main.locator("li.hit")).to_have_text(receipt)
    expect(main.locator(".round-note")).to_have_text("共 4 张选票的回执编号")
    listed = main.locator("ol.receipts li").all_inner_texts()
    assert listed == sorted(listed) and receipt in listed and len(listed) == 4
    phones.shoot(main, "check")
    # typed by hand, lower case, with a space instead of the dash, O for 0
    main.fill("#search", receipt.lower().replace("-", " ").replace("0", "o"))
    expect(main.locator("#verdict")).to_have_text("✓ 已找到：您的选票已计入")
    main.fill("#search", "ZZZZZ-ZZZZZ")
    expect(main.locator("#verdict")).to_contain_text("未找到")
    expect(main.locator("li.hit")).to_have_count(0)
