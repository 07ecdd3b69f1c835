"""A whole 述职评议 meeting in a real Chromium: the chair console, the projector at 1920×1080
and six phones at 360×740 follow 一述一评 through every reporter, vote (one with a blank, one
reloading mid-ballot, one dropping its connection at submit), a paper ballot is entered, the
chair closes and reveals; every page is checked and screenshot at every phase, and the grades
shown equal `pingyi tally` on the `pingyi export`ed ballots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

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

[[reporters]]
id = "r4"
name = "刘海燕"
org = "县卫生健康局党组"

[[groups]]
id = "leaders"
name = "县级领导"
seats = 3
weight = 0.4

[[groups]]
id = "members"
name = "部门代表"
seats = 5
weight = 0.6
"""

SPEAKERS = [("r1", "王建国"), ("r2", "李秀英"), ("r4", "刘海燕")]
REPORTERS = ["r1", "r2", "r3", "r4"]
NAMES = {"r1": "王建国", "r2": "李秀英", "r3": "赵刚", "r4": "刘海燕"}
# What each phone marks (None: left blank, i.e. 弃权).
VOTES = [
    {"r1": "好", "r2": "好", "r3": "较好", "r4": "一般"},
    {"r1": "好", "r2": "较好", "r3": None, "r4": "好"},  # one blank
    {"r1": "较好", "r2": "好", "r3": "好", "r4": "差"},  # reloads mid-ballot
    {"r1": "好", "r2": "好", "r3": "好", "r4": "好"},
    {"r1": "较好", "r2": "一般", "r3": "好", "r4": "差"},  # offline when it confirms
    {"r1": "好", "r2": "较好", "r3": "较好", "r4": "较好"},  # later clears its storage
]
TWIN = {"r1": "较好", "r2": "较好", "r3": "较好", "r4": "较好"}
PAPER = {"r1": "好", "r2": "废", "r3": "一般", "r4": None}
STORED_DRAFT = """() => {
  const key = Object.keys(localStorage).find((k) => k.includes(":draft:"));
  return key ? [key, JSON.parse(localStorage.getItem(key))] : null;
}"""
LOSE_RECEIPT = """([key, draft]) => {
  for (const k of Object.keys(localStorage)) if (k.includes(":receipt:")) localStorage.removeItem(k);
  localStorage.setItem(key, JSON.stringify(draft));
}"""
RECEIPT = re.compile(r"^[0-9A-Z]{4,}-[0-9A-Z]{4,}$")


class Pages:
    """The open pages and a camera for them."""

    def __init__(self, browser, live, artifacts: Path, chair_viewport: dict) -> None:
        self.live = live
        self.browser = browser
        self.artifacts = artifacts
        self.contexts = []
        self.chair = self._page(browser, chair_viewport, mobile=chair_viewport["width"] < 600)
        self.screen = self._page(browser, {"width": 1920, "height": 1080})
        self.phones = [
            self._page(browser, {"width": 360, "height": 740}, mobile=True)
            for _ in range(len(VOTES))
        ]
        self.errors: list[str] = []
        for page in [self.chair, self.screen, *self.phones]:
            page.on("pageerror", lambda error: self.errors.append(str(error)))
            page.on("console", self._console)

    def _console(self, msg) -> None:
        # Script errors and anything the Content-Security-Policy blocked; a WebSocket that
        # fails while the phone is offline is expected.
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.errors.append(msg.text)

    def _page(self, browser, viewport: dict, mobile: bool = False):
        options = {"viewport": viewport, "locale": "zh-CN"}
        if mobile:
            options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        context = browser.new_context(**options)
        self.contexts.append(context)
        return context.new_page()

    def extra_phones(self, count: int) -> list:
        return [
            self._page(self.browser, {"width": 360, "height": 740}, mobile=True)
            for _ in range(count)
        ]

    def shoot(self, phase: str) -> None:
        self.chair.screenshot(path=self.artifacts / f"{phase}-chair.png", full_page=True)
        self.screen.screenshot(path=self.artifacts / f"{phase}-screen.png")
        for i in (0, 1):
            self.phones[i].screenshot(path=self.artifacts / f"{phase}-phone{i}.png")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def phone_marks(phone, votes: dict) -> None:
    for rid, grade in votes.items():
        if grade is not None:
            phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()


def submit(phone) -> str:
    phone.locator("#to-review").click()
    expect(phone.locator("#review")).to_be_visible()
    phone.locator("#confirm").click()
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
    expect(phone.locator("#receipt")).to_have_text(RECEIPT)
    receipt = phone.locator("#receipt").inner_text()
    assert RECEIPT.match(receipt), receipt
    return receipt


def follow_speaker(pages: Pages, name: str, org: str, phase: str) -> None:
    expect(pages.screen.locator("#name")).to_have_text(name)
    expect(pages.screen.locator("#org")).to_have_text(org)
    expect(pages.screen.locator("#phase")).to_have_text(phase)
    expect(pages.chair.locator("#who")).to_have_text(name)
    for phone in pages.phones:
        expect(phone.locator("#now-who")).to_have_text(name)
        expect(phone.locator("#now-label")).to_have_text(f"正在{phase}")


@pytest.mark.parametrize(
    "chair_viewport",
    [{"width": 1440, "height": 900}, {"width": 360, "height": 740}],
    ids=["chair-laptop", "chair-phone"],
)
def test_whole_meeting(browser, serve, artifacts: Path, no_overflow, chair_viewport) -> None:
    live = serve(MEETING)
    pages = Pages(browser, live, artifacts, chair_viewport)
    try:
        run_meeting(pages, live, no_overflow)
        assert pages.errors == [], pages.errors
    finally:
        pages.close()


def run_meeting(pages: Pages, live, no_overflow) -> None:
    chair, screen, phones = pages.chair, pages.screen, pages.phones
    org = {r.id: r.org for r in live.meeting.reporters}

    # ---- the chair key: a wrong one is refused, ?key= is taken and removed from the URL
    chair.goto(f"{live.url}/chair?key=wrong-key")
    expect(chair.locator("#login-error")).to_have_text("主持人密钥不正确，请重新输入")
    chair.fill("#key", live.chair_key)
    chair.click("#login button[type=submit]")
    expect(chair.locator("#console")).to_be_visible()
    chair.goto(f"{live.url}/chair?key={live.chair_key}")
    expect(chair.locator("#action-label")).to_have_text("开始会议")
    assert "key=" not in chair.url
    assert chair.evaluate("sessionStorage.getItem('pingyi:chair-key')") == live.chair_key

    # ---- a bad join link, then the six phones and the projector
    stranger = phones[0]
    stranger.goto(f"{live.url}/j/AAAAAAAAAAAAAAAAAAAAAA")
    expect(stranger.locator("#refused")).to_be_visible()
    screen.goto(f"{live.url}/screen")
    expect(screen.locator("#idle-title")).to_have_text("会议即将开始")
    expect(screen.locator("#title")).to_have_text(live.meeting.title)
    for phone, card in zip(phones, live.cards, strict=False):
        phone.goto(f"{live.url}/j/{card.token}")
        expect(phone.locator("#now-label")).to_have_text("会议尚未开始")
        group = live.meeting.group(card.group).name
        expect(phone.locator("#group")).to_have_text(group)
        expect(phone.locator("#agenda li")).to_have_count(4)
    expect(phones[0].locator("#agenda li[data-key='r3']")).to_have_class(re.compile("written"))
    expect(phones[0].locator("#agenda li.st-pending")).to_have_count(4)
    expect(screen.locator("#agenda li.st-pending")).to_have_count(4)
    expect(screen.locator("#agenda li[data-key='r3'] .tag")).to_have_text("书面述职")
    pages.shoot("01-before")

    # ---- 一述一评 through every reporter; the pages edit their elements in place (no flicker)
    kept = [
        screen.locator("#agenda li[data-key='r1']").element_handle(),
        phones[0].locator("#agenda li[data-key='r1']").element_handle(),
    ]
    chair.click("#action-main")
    expect(screen.locator("#name")).to_have_text("王建国", timeout=1000)
    for i, (rid, name) in enumerate(SPEAKERS):
        follow_speaker(pages, name, org[rid], "述职")
        expect(screen.locator(f"#agenda li[data-key='{rid}']")).to_have_class(
            re.compile("st-current")
        )
        if i == 0:
            pages.shoot("02-report")
            no_overflow(screen)
            screen.wait_for_timeout(1200)
            assert screen.locator("#timer").inner_text() != "00:00"
            # pause: the timer stops on every page, then resume
            chair.locator("#action-others button[data-action='pause']").click()
            expect(screen.locator("#paused")).to_be_visible()
            expect(phones[0].locator("#now-label")).to_have_text("会议暂停 · 正在述职")
            frozen = screen.locator("#timer").inner_text()
            screen.wait_for_timeout(1200)
            assert screen.locator("#timer").inner_text() == frozen
            expect(chair.locator("#action-label")).to_have_text("继续会议")
            chair.click("#action-main")
            expect(screen.locator("#paused")).to_be_hidden()
        chair.click("#action-main")
        follow_speaker(pages, name, org[rid], "点评")
        if i == 0:
            # back and forth
            chair.locator("#action-others button[data-action='back']").click()
            follow_speaker(pages, name, org[rid], "述职")
            chair.click("#action-main")
            follow_speaker(pages, name, org[rid], "点评")
            pages.shoot("03-comment")
            assert chair.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        chair.fill("#comment-text", f"{name}同志抓基层党建工作思路清晰，措施有力。")
        chair.click("#comment-save")
        expect(chair.locator("#comment-saved")).to_have_text("已保存")
        expect(chair.locator("#flash")).to_have_text("点评已保存")
        expect(screen.locator(f"#agenda li[data-key='{rid}']")).to_have_class(
            re.compile("st-current")
        )
        chair.click("#action-main")
        if i < len(SPEAKERS) - 1:
            expect(screen.locator(f"#agenda li[data-key='{rid}']")).to_have_class(
                re.compile("st-done")
            )
    expect(chair.locator("#steps li .note")).to_have_text(
        ["已记录点评" if i % 2 else "" for i in range(7)]
    )
    assert all(node.evaluate("n => n.isConnected") for node in kept)

    # ---- the vote step: ready, then open
    expect(screen.locator("#turnout-title")).to_have_text("即将开始投票")
    expect(phones[0].locator("#now-label")).to_have_text("即将开始投票")
    expect(chair.locator("#action-label")).to_have_text("开启投票")
    chair.click("#action-main")
    expect(screen.locator("#turnout-title")).to_have_text("投票进行中", timeout=1000)
    expect(screen.locator("#seats")).to_have_text("8")
    expect(screen.locator("#cast")).to_have_text("0")
    for phone in phones:
        expect(phone.locator("#ballot li")).to_have_count(4)
    expect(phones[0].locator("#ballot li[data-key='r3'] .tag")).to_have_text("书面述职")
    no_overflow(screen)
    for phone in phones:
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    expect(chair.locator("#turnout-total")).to_have_text(re.compile(r"^0 / "))
    pages.shoot("04-voting")

    receipts = {}
    # phone 0: a full ballot
    phone_marks(phones[0], VOTES[0])
    receipts[0] = submit(phones[0])
    expect(screen.locator("#cast")).to_have_text("1", timeout=1000)
    expect(screen.locator("#groups li[data-key='leaders'] .count")).to_have_text("1 / 3")

    # phone 1: one blank, shown as 弃权 in the review
    phone_marks(phones[1], VOTES[1])
    expect(phones[1].locator("#progress")).to_have_text("已评 3 / 4 人")
    phones[1].locator("#to-review").click()
    expect(phones[1].locator("#review-summary")).to_have_text("共 4 人，已评 3 人，弃权 1 人。")
    expect(phones[1].locator("#review-list li[data-key='r3'] .grade")).to_have_text("弃权")
    pages.shoot("05-review")
    phones[1].locator("#back-edit").click()
    receipts[1] = submit(phones[1])

    # phone 2: half a ballot, a reload, the marks are back
    phone = phones[2]
    phone_marks(phone, {"r1": VOTES[2]["r1"], "r2": VOTES[2]["r2"]})
    phone.reload()
    expect(phone.locator("#ballot button[aria-pressed='true']")).to_have_count(2)
    expect(phone.locator("#ballot li[data-key='r1'] button[data-grade='较好']")).to_have_attribute(
        "aria-pressed", "true"
    )
    phone_marks(phone, {"r3": VOTES[2]["r3"], "r4": VOTES[2]["r4"]})
    receipts[2] = submit(phone)

    # phone 3: tapping the chosen grade again clears it
    phone = phones[3]
    choice = phone.locator("#ballot li[data-key='r1'] button[data-grade='差']")
    choice.tap()
    expect(choice).to_have_attribute("aria-pressed", "true")
    choice.tap()
    expect(choice).to_have_attribute("aria-pressed", "false")
    phone_marks(phone, VOTES[3])
    receipts[3] = submit(phone)

    # the chair sees the turnout, and no count of marks while voting runs (they are sealed)
    expect(chair.locator("#turnout-total")).to_have_text(re.compile(r"^4 / "))
    expect(chair.locator("#result-card")).to_be_hidden()
    expect(chair.locator("table.counts:visible")).to_have_count(0)

    # phone 4: the connection drops as it confirms; it says so and submits on reconnect
    phone = phones[4]
    phone_marks(phone, VOTES[4])
    phone.locator("#to-review").click()
    phone.context.set_offline(True)
    phone.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(phone.locator("#net")).to_have_text("网络已断开，正在重连…", timeout=15000)
    phone.locator("#confirm").click()
    expect(phone.locator("#confirm")).to_have_text("正在提交…")
    pages.phones[4].screenshot(path=pages.artifacts / "06-offline-phone4.png")
    phone.context.set_offline(False)
    expect(phone.locator("#done")).to_be_visible(timeout=20000)
    expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
    expect(phone.locator("#net")).to_be_hidden()
    receipts[4] = phone.locator("#receipt").inner_text()

    # phone 5: votes, but the receipt is lost (the phone died just after sending): on reload
    # the pending ballot goes again with the same cid and the server answers the same receipt
    phone = phones[5]
    phone_marks(phone, VOTES[5])
    draft = phone.evaluate(STORED_DRAFT)
    receipts[5] = submit(phone)
    phone.evaluate(LOSE_RECEIPT, [draft[0], {**draft[1], "pending": True, "stage": "review"}])
    phone.reload()
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#receipt")).to_have_text(receipts[5])
    assert phone.evaluate(STORED_DRAFT) is None
    # then it loses its storage altogether: the server still knows it voted
    phone.evaluate("localStorage.clear()")
    phone.reload()
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done-title")).to_have_text("您已投票")
    expect(phone.locator("#voting")).to_be_hidden()

    # one card open on two phones: the second ballot is refused with 已投票
    twin_a, twin_b = pages.extra_phones(2)
    for twin in (twin_a, twin_b):
        twin.goto(f"{live.url}/j/{live.cards[len(VOTES) + 1].token}")
        expect(twin.locator("#ballot li")).to_have_count(4)
    phone_marks(twin_a, TWIN)
    receipts["twin"] = submit(twin_a)
    phone_marks(twin_b, {"r1": "差"})
    twin_b.locator("#to-review").click()
    twin_b.locator("#confirm").click()
    expect(twin_b.locator("#error")).to_contain_text("已投票")
    # never a green "您已投票" on the phone whose ballot was not counted (issue 14, finding 4)
    expect(twin_b.locator("#done-title")).to_have_text("此卡已在其他设备投票，本机未计入")
    twin_b.screenshot(path=pages.artifacts / "07-already-voted-phone.png")

    # a paper ballot against an unused card; a card that already voted is refused
    paper_card = live.cards[len(VOTES)]
    chair.fill("#paper-code", paper_card.code)
    for rid, grade in PAPER.items():
        chair.check(f"#paper-marks input[name='paper-{rid}'][value='{grade or ''}']")
    chair.click("#paper-submit")
    expect(chair.locator("#paper-result")).to_contain_text(f"已录入 {paper_card.code}，回执编号")
    # nothing is preset: a row left unticked is not sent as 弃权, the teller is told which
    chair.fill("#paper-code", live.cards[0].code)
    expect(chair.locator("#paper-marks input:checked")).to_have_count(0)
    chair.check("#paper-marks input[name='paper-r1'][value='好']")
    chair.click("#paper-submit")
    expect(chair.locator("#paper-result")).to_contain_text("未录入：请按纸质票为每位述职人选一项")
    expect(chair.locator("#paper-result")).to_contain_text("李秀英、赵刚、刘海燕")
    expect(chair.locator("#paper-marks input[name='paper-r2']").first).to_be_focused()
    for rid in ("r2", "r3", "r4"):
        chair.check(f"#paper-marks input[name='paper-{rid}'][value='']")
    chair.click("#paper-submit")  # a card that already voted by phone is refused
    expect(chair.locator("#paper-result")).to_contain_text("未录入")
    expect(chair.locator("#paper-result")).to_contain_text("已投票")
    expect(screen.locator("#cast")).to_have_text("8")
    expect(chair.locator("#turnout-total")).to_have_text("8 / 8")
    assert len(set(receipts.values())) == len(VOTES) + 1
    pages.shoot("07-voted")
    assert chair.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # ---- close: counted, not yet shown
    expect(chair.locator("#action-label")).to_have_text("结束投票")
    chair.click("#action-main")
    expect(chair.locator("#confirm-turnout")).to_contain_text("已投 8 票 / 应到 8 人")
    chair.click("#confirm-ok")  # 结束投票 asks first (tests/e2e/test_chair_safety.py)
    expect(screen.locator("#turnout-title")).to_have_text("投票已结束，等待公布结果")
    expect(chair.locator("#result-state")).to_have_text("尚未公布")
    expect(chair.locator("#result-body tr")).to_have_count(4)
    expect(screen.locator("#results")).to_be_hidden()
    expect(phones[0].locator("#now-label")).to_have_text("投票已结束")
    expect(phones[0].locator("#receipt")).to_have_text(receipts[0])
    expect(phones[0].locator("#results")).to_be_hidden()
    pages.shoot("08-closed")

    # ---- reveal
    expect(chair.locator("#action-label")).to_have_text("公布结果")
    chair.click("#action-main")
    expect(screen.locator("#results")).to_be_visible()
    expect(screen.locator("#rtable .rows .row")).to_have_count(4)
    for phone in phones:
        expect(phone.locator("#results-list li")).to_have_count(4)
    no_overflow(screen)
    pages.shoot("09-revealed")
    assert chair.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # the grades on every page are `pingyi tally` on the exported ballots
    out = live.workdir / "ballots.csv"
    live.pingyi("export", str(live.toml), str(out), "--data", str(live.data))
    tallied = live.workdir / "tally.json"
    live.pingyi("tally", str(live.toml), str(out), "--json", str(tallied))
    result = json.loads(tallied.read_text(encoding="utf-8"))
    assert len(out.read_text(encoding="utf-8").strip().splitlines()) == 1 + 8
    for r in result["reporters"]:
        grade = r["final_grade"] or "待定"
        row = screen.locator(f"#rtable .rows .row[data-key='{r['id']}']")
        expect(row.locator(".name")).to_have_text(NAMES[r["id"]])
        expect(row.locator(".grade")).to_have_text(grade)
        expect(row.locator(".why")).to_have_text(r["decided_by"])
        expect(chair.locator(f"#result-body tr[data-key='{r['id']}'] .grade")).to_have_text(grade)
        for phone in phones:
            expect(phone.locator(f"#results-list li[data-key='{r['id']}'] .grade")).to_have_text(
                grade
            )
    counted = {r["id"]: r["counts"] for r in result["reporters"]}
    assert counted["r1"]["好"] == 1 + sum(v["r1"] == "好" for v in VOTES)
    assert {r["id"]: r["abstain"] for r in result["reporters"]}["r3"] == 1
    assert {r["id"]: r["invalid"] for r in result["reporters"]}["r2"] == 1

    # ---- the end of the meeting
    row = screen.locator("#rtable .rows .row[data-key='r1']").element_handle()
    expect(chair.locator("#action-label")).to_have_text("结束会议")
    chair.click("#action-main")
    expect(chair.locator("#confirm-title")).to_have_text("确认结束会议？")
    chair.click("#confirm-ok")
    expect(screen.locator("#results-title")).to_have_text("评议结果（会议已结束）")
    expect(phones[0].locator("#now-label")).to_have_text("会议已结束")
    expect(chair.locator("#phase")).to_have_text("会议已结束")
    assert row.evaluate("n => n.isConnected")
    pages.shoot("10-finished")
