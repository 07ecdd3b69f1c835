"""The projector with a big meeting: 30 reporters in open mode must fit 1920×1080 in every
phase with no text overflowing; phones join through /join and the 30-line ballot fits 360 px."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

ORGS = [
    "城关镇党委",
    "县发展和改革局党组",
    "县住房和城乡建设局党组",
    "经济技术开发区党工委",
    "县市场监督管理局党组",
    "青溪镇党委",
    "县卫生健康局党组",
    "县农业农村局党组",
    "县人力资源和社会保障局党组",
    "木鱼镇党委",
]
NAMES = [
    "王建国",
    "李秀英",
    "张志强",
    "刘海燕",
    "陈明",
    "杨丽",
    "赵刚",
    "黄静",
    "周伟",
    "吴红梅",
    "徐立新",
    "孙晓东",
    "胡玉兰",
    "朱德华",
    "高峰",
    "林雪梅",
    "何振宇",
    "郭建华",
    "马丽娟",
    "罗成",
    "梁永刚",
    "宋佳怡",
    "郑国强",
    "谢婷",
    "韩卫东",
    "唐晓燕",
    "冯志远",
    "于海波",
    "董秀芳",
    "欧阳明远",
]


def big_meeting() -> str:
    lines = [
        "[meeting]",
        'title = "中共青川县委2026年度党组织书记抓基层党建工作述职评议大会"',
        'date = "2026-12-28"',
        'place = "县委党校报告厅"',
        'join = "open"',
        'voting = "end"',
    ]
    for i, name in enumerate(NAMES, 1):
        lines += ["", "[[reporters]]", f'id = "r{i:02d}"', f'name = "{name}"']
        lines.append(f'org = "{ORGS[i % len(ORGS)]}"')
        if i % 7 == 0:
            lines.append('mode = "written"')
    for gid, name, seats, weight in (
        ("leaders", "县级领导", 15, 0.4),
        ("depts", "部门负责人", 30, 0.3),
        ("grassroots", "基层党员代表", 35, 0.3),
    ):
        lines += ["", "[[groups]]", f'id = "{gid}"', f'name = "{name}"', f"seats = {seats}"]
        lines.append(f"weight = {weight}")
    lines += ["", "[rules]", "[rules.quota]", '"好" = 0.3', ""]
    return "\n".join(lines)


def test_thirty_reporters_fit_the_projector(browser, serve, artifacts: Path, no_overflow) -> None:
    live = serve(big_meeting())
    screen_context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    phone_context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        screen = screen_context.new_page()
        phone = phone_context.new_page()
        run(live, screen, phone, artifacts, no_overflow)
    finally:
        screen_context.close()
        phone_context.close()


def run(live, screen, phone, artifacts: Path, no_overflow) -> None:
    # ---- before: the join QR code and the room code on the projector (opened as the chair
    # console opens it); a phone joins through the QR code's /join?room=
    screen.goto(live.url + live.http("GET", "/api/screen-link", chair=True)["url"])
    expect(screen.locator("#idle-title")).to_have_text("会议即将开始")
    expect(screen.locator("#join")).to_be_visible()
    expect(screen.locator("#room-line")).to_be_visible()
    screen.wait_for_function("() => document.getElementById('join-qr').naturalWidth > 0")
    expect(screen.locator("#agenda li")).to_have_count(30)
    no_overflow(screen)
    screen.screenshot(path=artifacts / "01-before-screen.png")

    phone.goto(live.http("GET", "/api/room", chair=True)["join_url"])
    phone.get_by_role("button", name="部门负责人").tap()
    phone.get_by_role("button", name="确认").tap()
    phone.wait_for_url(f"{live.url}/j/*")
    token = phone.evaluate("localStorage.getItem('pingyi:join-token')")
    assert phone.url == f"{live.url}/j/{token}"
    expect(phone.locator("#group")).to_have_text("部门负责人")
    token_url = phone.url
    phone.goto(f"{live.url}/join")  # joined once: straight back to the same ballot
    expect(phone).to_have_url(token_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts / "01-before-phone.png", full_page=True)
    # The chair sees the phones registered per group, against the seats.
    chair = screen.context.new_page()
    chair.goto(f"{live.url}/chair?key={live.chair_key}")
    expect(chair.locator("#round-status")).to_have_text(
        "尚未进入投票环节 · 已登记手机：县级领导 0/15，部门负责人 1/30，基层党员代表 0/35"
    )
    chair.close()

    # ---- speaking: the longest name on the projector
    assert live.chair("start").get("v")
    expect(screen.locator("#name")).to_have_text("王建国")
    while screen.locator("#name").inner_text() != "欧阳明远":
        assert "v" in live.chair("next")
        screen.wait_for_timeout(50)
    expect(screen.locator("#phase")).to_have_text("述职")
    # the 4 written (书面述职, no speaking step) are passed with their tag, not left as skipped
    expect(screen.locator("#agenda li.st-done")).to_have_count(29)
    expect(screen.locator("#agenda li.written.st-done .tag.written")).to_have_count(4)
    expect(screen.locator("#agenda li.st-current")).to_have_count(1)
    no_overflow(screen)
    screen.screenshot(path=artifacts / "02-report-screen.png")

    # ---- voting: the 30-line ballot on the phone, turnout on the projector
    live.chair("next")
    live.chair("next")
    assert "v" in live.chair("open"), "expected the vote step after the last comment"
    expect(phone.locator("#ballot li")).to_have_count(30)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for i in range(1, 31):
        phone.locator(f"#ballot li[data-key='r{i:02d}'] button[data-grade='好']").tap()
    phone.screenshot(path=artifacts / "02-ballot-phone.png")
    phone.locator("#to-review").click()
    phone.locator("#confirm").click()
    expect(phone.locator("#done")).to_be_visible()

    rng = random.Random(7)
    view = live.screen_view()
    round_id = view["round"]["id"]
    for n in range(24):  # /api/join allows 30 a minute from one address
        group = ("leaders", "depts", "grassroots")[n % 3]
        joined = live.http("POST", "/api/join", {"group": group, "room": room(live)})
        marks = {
            f"r{i:02d}": rng.choices(["好", "较好", "一般", "差", None], [6, 3, 1, 0.5, 0.3])[0]
            for i in range(1, 31)
        }
        cast = live.http(
            "POST",
            "/api/cast",
            {"token": joined["token"], "round": round_id, "marks": marks, "cid": f"{n:032x}"},
        )
        assert "receipt" in cast, cast
    expect(screen.locator("#cast")).to_have_text("25")
    assert first_load_bytes(phone.context.browser, live) < 150 * 1024
    expect(screen.locator("#turnout-title")).to_have_text("投票进行中")
    no_overflow(screen)
    screen.screenshot(path=artifacts / "03-voting-screen.png")

    # ---- results: thirty rows, bars, grades and reasons, all inside 1920×1080
    live.chair("close", force=True)
    live.chair("reveal")
    expect(screen.locator("#rtable .rows .row")).to_have_count(30)
    result = live.screen_view()["result"]
    for r in result["reporters"]:
        row = screen.locator(f"#rtable .rows .row[data-key='{r['id']}']")
        expect(row.locator(".grade")).to_have_text(r["final_grade"] or "待定")
    no_overflow(screen)
    screen.screenshot(path=artifacts / "04-results-screen.png")
    for width, height in ((1280, 720), (1600, 900)):
        screen.set_viewport_size({"width": width, "height": height})
        screen.wait_for_timeout(200)
        no_overflow(screen)
    screen.set_viewport_size({"width": 1920, "height": 1080})
    expect(phone.locator("#results-list li")).to_have_count(30)
    phone.screenshot(path=artifacts / "04-results-phone.png", full_page=True)


def room(live) -> str:
    """The room code (入场码) the projector shows now."""
    return live.http("GET", "/api/room", chair=True)["room"]


def first_load_bytes(browser, live) -> int:
    """What a fresh phone downloads to show the open 30-line ballot: HTTP and WebSocket."""
    joined = live.http("POST", "/api/join", {"group": "leaders", "room": room(live)})
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    frames: list[int] = []
    try:
        page = context.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
        page.goto(f"{live.url}/j/{joined['token']}")
        expect(page.locator("#ballot li")).to_have_count(30)
        http = page.evaluate(
            """() => performance.getEntriesByType("navigation").concat(
                 performance.getEntriesByType("resource")).reduce((n, e) => n + e.transferSize, 0)"""
        )
    finally:
        context.close()
    assert http > 20_000, "the msgpack library alone is over 20 KB: the measure is wrong"
    return http + sum(frames)
