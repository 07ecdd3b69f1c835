"""A new user's whole meeting in Debian's Chromium (issue 18, Must show, first point): from no
meeting file to a signed sheet that `pingyi verify` accepts, driving the pages as a newcomer
would.

1. `pingyi serve` with no meeting file, in an empty working directory: the printed setup page
   and key.
2. The setup page: 下载名单模板; a roster filled in from that template with three mistakes (a
   missing name, a bad 述职方式, a non-number 应到人数): every one listed with its row and column,
   nothing imported; then the good roster (4 reporters, 3 groups, 28 seats), the meeting's
   details, two rules (差票 limit 15 %, quorum 2/3) and 保存并启动.
3. The chair console that opens: 参会卡 from 下载与打印 (one card per seat), 开始会议, 下一项
   through the reports and comments (no comment typed), 开启投票.
4. 20 phones: 3 real phone pages (360×740) open their card URLs and vote; the other 17 vote
   through `POST /api/cast` with their card tokens (the phones' own fallback endpoint), so that
   this 2-core machine is not swamped by 20 browser contexts.
5. 6 paper ballots on the 计票台 (the chair console's link): each typed twice, one typed
   differently the second time (both versions side by side, the first taken); the 回收 count
   per group; the panel shows phone 20, paper 6.
6. 结束投票 with its confirmation, the count, 测评结果汇总表（签名） and 选票导出（CSV） from the
   chair console, and `pingyi verify <sheet> --ballots <export> --meeting meeting.toml`: exit 0,
   全部一致; the export holds 26 ballots, 6 of them 纸质.

Every wait has a timeout; screenshots land in tests/artifacts/<test name>/."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from meeting.join_cards import issue_cards
from server.datadir import DataDir
from tally.meeting_file import parse_meeting_text

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect
openpyxl = pytest.importorskip("openpyxl")

ROOT = Path(__file__).resolve().parents[2]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
TITLE = "2026年度基层党组织书记抓基层党建工作述职评议会"

# The roster the secretariat types into the template: (序号, 编号, 姓名, 单位, 述职方式, 标记).
REPORTERS = [
    (1, "", "王建国", "城关镇党委", "现场", ""),
    (2, "", "李秀英", "河东镇党委", "现场", ""),
    (3, "", "赵刚", "县教育局党组", "书面", ""),
    (4, "", "刘海燕", "县卫健局党组", "现场", ""),
]
GROUPS = [  # (编号, 名称, 应到人数, 权重)
    ("leaders", "县级领导", 6, 0.3),
    ("cadres", "部门代表", 10, 0.3),
    ("grassroots", "基层代表", 12, 0.4),
]
SEATS = sum(g[2] for g in GROUPS)  # 28: 20 phones + 6 paper + 2 never returned
PHONES = {"leaders": 4, "cadres": 7, "grassroots": 9}  # 20
PAPER = {"leaders": 2, "cadres": 2, "grassroots": 2}  # 6
GRADES = ["好", "较好", "一般", "差"]
# What the voters mark, most of them 好 or 较好, now and then 一般, rarely 差 (about 1 in 11).
MIX = ["好", "较好", "好", "好", "较好", "一般", "好", "较好", "好", "差", "较好"]


def fill_template(template: Path, out: Path, reporters: list, groups: list) -> Path:
    """The downloaded 名单模板.xlsx, filled in as in Excel, saved under another name."""
    book = openpyxl.load_workbook(template)
    for row in reporters:
        book["述职人"].append(list(row))
    for row in groups:
        book["投票组别"].append(list(row))
    book.save(out)
    return out


def save(page, button: str, name: str, folder: Path) -> Path:
    """Clicks a 下载与打印 button; the file the browser saved, under the server's name."""
    try:
        with page.expect_download(timeout=60_000) as waiting:
            page.click(button)
        download = waiting.value
    except Exception as exc:  # what the page said instead (未生成：…), for the report
        said = page.locator(f"{button}-result").inner_text()
        raise AssertionError(f"{button}: no download; the page says {said!r}") from exc
    assert download.suggested_filename == name
    path = folder / name
    download.save_as(path)
    expect(page.locator(f"{button}-result")).to_contain_text(f"已下载 {name}", timeout=10_000)
    return path


def marks_for(n: int, rids: list[str]) -> dict[str, str]:
    """A varied ballot: mostly 好 and 较好, now and then 一般 or 差."""
    return {rid: MIX[(n * 7 + i * 3) % len(MIX)] for i, rid in enumerate(rids)}


def type_ballot(station, code: str, marks: dict[str, str]) -> None:
    station.fill("#entry-code", code)
    for rid, mark in marks.items():
        station.locator(f'#entry-marks input[name="entry-{rid}"][value="{mark}"]').check()
    station.click("#entry-submit")


def test_a_new_user_runs_a_whole_meeting(browser, first_run, tmp_path, artifacts) -> None:
    base, log, data = first_run
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    printed = log.read_text()
    setup_url = re.search(r"设置页面\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
    assert setup_url.startswith(f"{base}/setup?key=")
    errors: list[str] = []
    contexts = []

    def new_page(viewport: dict, mobile: bool = False):
        options: dict = {"viewport": viewport, "locale": "zh-CN", "accept_downloads": True}
        if mobile:
            options |= {"is_mobile": True, "has_touch": True}
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    try:
        # ---- 2. the setup page, opened from the printed address
        page = new_page(LAPTOP)
        page.goto(setup_url)
        expect(page.locator("#setup")).to_be_visible()
        assert "key=" not in page.url
        expect(page.locator("#reporters-body tr")).to_have_count(0)

        with page.expect_download() as waiting:
            page.click("#template")
        assert waiting.value.suggested_filename == "名单模板.xlsx"
        template = downloads / "名单模板.xlsx"
        waiting.value.save_as(template)

        # a roster with three mistakes: a missing name, a bad 述职方式, a non-number 应到人数
        broken = fill_template(
            template,
            tmp_path / "名单-有错.xlsx",
            [
                REPORTERS[0],
                (2, "", "", "河东镇党委", "现场", ""),
                (3, "", "赵刚", "县教育局党组", "视频", ""),
            ],
            [GROUPS[0], ("cadres", "部门代表", "十个", 0.3), GROUPS[2]],
        )
        page.set_input_files("#roster-file", str(broken))
        expect(page.locator("#roster-errors")).to_be_visible()
        expect(page.locator("#roster-result")).to_contain_text("有 3 处错误，未导入任何一行")
        rows = page.locator("#roster-errors-body tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("述职人")
        expect(rows.nth(0)).to_contain_text("第3行")
        expect(rows.nth(0)).to_contain_text("C（姓名）")
        expect(rows.nth(1)).to_contain_text("第4行")
        expect(rows.nth(1)).to_contain_text("E（述职方式）")
        expect(rows.nth(2)).to_contain_text("投票组别")
        expect(rows.nth(2)).to_contain_text("第3行")
        expect(rows.nth(2)).to_contain_text("C（应到人数）")
        expect(page.locator("#reporters-body tr")).to_have_count(0)  # nothing imported
        expect(page.locator("#groups-body tr")).to_have_count(1)  # the one group it opens with
        expect(page.locator("#groups-body input").nth(1)).not_to_have_value("县级领导")
        page.locator("#roster-errors").scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "01-setup-roster-errors.png")

        # the roster put right
        good = fill_template(template, tmp_path / "名单.xlsx", REPORTERS, GROUPS)
        page.set_input_files("#roster-file", str(good))
        expect(page.locator("#roster-result")).to_contain_text(
            "已从 名单.xlsx 导入 4 位述职人、3 个投票组别"
        )
        expect(page.locator("#roster-errors")).to_be_hidden()
        expect(page.locator("#reporters-body tr")).to_have_count(4)
        expect(page.locator("#groups-body tr")).to_have_count(3)

        # the meeting's details and two rules
        page.fill("#m-title", TITLE)
        page.fill("#m-date", "2026-12-28")
        page.fill("#m-place", "县委大会议室")
        page.fill("#m-organizer", "中共某某县委组织部")
        expect(page.locator("#m-join")).to_have_value("cards")
        expect(page.locator("#m-voting")).to_have_value("end")
        page.fill("#r-poor-limit", "15")
        page.fill("#r-quorum", "66.67")
        expect(page.locator("#check")).to_contain_text(
            f"检查通过：共4位述职人（现场3位、书面1位），3个投票组别，应到{SEATS}人"
        )
        page.screenshot(path=artifacts / "02-setup-ready.png")

        # ---- 3. save and start: the chair console opens with the meeting
        page.click("#save")
        chair = page
        expect(chair.locator("#action-label")).to_have_text("开始会议", timeout=60_000)
        expect(chair.locator("#title")).to_have_text(TITLE)
        assert "/chair" in chair.url and "key=" not in chair.url
        toml = tmp_path / "meeting.toml"
        meeting = parse_meeting_text(toml.read_text(encoding="utf-8"))
        assert [r.name for r in meeting.reporters] == [r[2] for r in REPORTERS]
        assert [(g.name, g.seats) for g in meeting.groups] == [(g[1], g[2]) for g in GROUPS]
        assert meeting.rules.poor_share_limit * 100 == 15
        assert abs(meeting.rules.quorum - 2 / 3) < 0.001
        rids = [r.id for r in meeting.reporters]
        # the cards the server issues, read as tests/e2e/conftest.py's start_meeting does
        cards = issue_cards(DataDir(data).card_secret(), meeting)
        assert len(cards) == SEATS

        # 参会卡 from 下载与打印: one card per seat. Served on 127.0.0.1, the card first says
        # (once /api/addresses answers) that no phone in the hall could open the cards' address;
        # the console has made its first requests when that line and 打开大屏 are there.
        expect(chair.locator("#address-warn")).to_contain_text(f"手机扫码地址 {base} 仅本机可访问")
        expect(chair.locator("#screen-open")).to_be_visible()
        expect(chair.locator("#dl-cards-row")).to_be_visible()
        pdf = save(chair, "#dl-cards", "参会卡.pdf", downloads)
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        assert all(card.code in text for card in cards)
        found = set(re.findall(r"\b[0-9A-Z]{4,}-[0-9A-Z]{4,}\b", text))
        assert found >= {card.code for card in cards}
        assert len(found & {card.code for card in cards}) == SEATS

        # 开始会议, 下一项 through the reports and comments (none typed), 开启投票
        chair.click("#action-main")
        expect(chair.locator("#action-label")).not_to_have_text("开始会议")
        moved = """(before) => {
          const now = document.querySelector('#action-label').textContent + '|' +
            document.querySelector('#action-hint').textContent;
          return now !== before && !document.querySelector('#action-main').disabled;
        }"""
        for _ in range(20):  # 下一项 keeps its label; its hint names the next step
            label = chair.locator("#action-label").inner_text()
            if label == "开启投票":
                break
            assert label == "下一项", label
            before = label + "|" + chair.locator("#action-hint").inner_text()
            chair.click("#action-main")
            chair.wait_for_function(moved, arg=before, timeout=10_000)
        expect(chair.locator("#action-label")).to_have_text("开启投票")
        chair.screenshot(path=artifacts / "03-chair-vote-ready.png")
        chair.click("#action-main")
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        expect(chair.locator("#turnout-total")).to_have_text(re.compile(rf"^0 / {SEATS}"))

        # ---- 4. 20 phones: 3 real phone pages, 17 through /api/cast
        by_group = {gid: [c for c in cards if c.group == gid] for gid in PHONES}
        phone_cards = [c for gid, n in PHONES.items() for c in by_group[gid][:n]]
        paper_cards = [
            c for gid, n in PAPER.items() for c in by_group[gid][PHONES[gid] : PHONES[gid] + n]
        ]
        assert len(phone_cards) == 20 and len(paper_cards) == 6
        receipt_re = re.compile(r"^[0-9A-Z]{4,}-[0-9A-Z]{4,}$")
        phones = [new_page(PHONE, mobile=True) for _ in range(3)]
        for phone, card in zip(phones, phone_cards[:3], strict=True):
            phone.goto(f"{base}/j/{card.token}")
            expect(phone.locator("#ballot li")).to_have_count(len(rids))
        receipts: list[str] = []
        for n, phone in enumerate(phones):
            for rid, grade in marks_for(n, rids).items():
                phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()
            phone.locator("#to-review").click()
            expect(phone.locator("#review")).to_be_visible()
            if n == 0:
                phone.screenshot(path=artifacts / "04-phone-review.png")
            phone.locator("#confirm").click()
            expect(phone.locator("#done-title")).to_have_text("您的投票已记录")
            expect(phone.locator("#receipt")).to_have_text(receipt_re)
            receipts.append(phone.locator("#receipt").inner_text())
        phones[0].screenshot(path=artifacts / "05-phone-receipt.png")
        with urllib.request.urlopen(f"{base}/api/view?role=screen", timeout=10) as answer:
            round_id = json.loads(answer.read())["view"]["round"]["id"]
        for n, card in enumerate(phone_cards[3:], start=3):
            body = {
                "token": card.token,
                "round": round_id,
                "marks": marks_for(n, rids),
                "cid": f"{n:032d}",
            }
            request = urllib.request.Request(
                f"{base}/api/cast",
                json.dumps(body).encode(),
                {"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                reply = json.loads(answer.read())
            assert "receipt" in reply, reply
            receipts.append(reply["receipt"])
        assert len(set(receipts)) == 20
        expect(chair.locator("#turnout-total")).to_have_text(re.compile(rf"^20 / {SEATS}"))

        # ---- 5. the 计票台, from the chair console's 纸质票录入 card
        expect(chair.locator("#count-links")).to_be_visible()
        count_url = chair.locator("#count-link").get_attribute("href")
        assert count_url and count_url.startswith("/count?key=")
        station = new_page(LAPTOP)
        station.goto(base + count_url)
        expect(station.locator("#badge")).to_have_text("计票台 · 计票人")
        expect(station.locator("#round-state")).to_have_text("投票进行中")
        expect(station.locator("#entry-marks li")).to_have_count(len(rids))
        paper_marks = {card.code: marks_for(100 + n, rids) for n, card in enumerate(paper_cards)}
        for n, card in enumerate(paper_cards):
            marks = paper_marks[card.code]
            type_ballot(station, card.code, marks)
            expect(station.locator("#entry-title")).to_have_text("第二遍录入")
            expect(station.locator("#entry-code")).to_have_value("")
            if n == 2:  # the second pass reads 李秀英's mark wrong
                wrong = GRADES[(GRADES.index(marks[rids[1]]) + 1) % 4]
                type_ballot(station, card.code, {**marks, rids[1]: wrong})
                expect(station.locator("#compare")).to_be_visible()
                differing = station.locator("#versions-body tr.diff")
                expect(differing).to_have_count(1)
                expect(differing.locator("th")).to_contain_text("李秀英")
                expect(differing.locator("td")).to_have_text([marks[rids[1]], wrong])
                station.screenshot(path=artifacts / "06-count-mismatch.png")
                # nothing stored before the clerk chooses: the two ballots before it only
                expect(chair.locator("#turnout-total")).to_have_text(
                    re.compile(rf"^{20 + n} / {SEATS}")
                )
                station.click("#take-first")  # the paper says what the first pass typed
            else:
                type_ballot(station, card.code, marks)
            expect(station.locator("#entry-result")).to_contain_text("已录入")
            expect(station.locator("#entry-title")).to_have_text("第一遍录入")
        expect(station.locator("#entered-list li")).to_have_count(6)

        station.fill("#returned-by", "张三")
        for gid, count in PAPER.items():
            station.fill(f"#returned-{gid}", str(count))
            station.click(f"#returned-save-{gid}")
            name = next(g[1] for g in GROUPS if g[0] == gid)
            expect(station.locator("#returned-result")).to_have_text(
                f"已保存：{name}回收 {count} 张"
            )
        for gid, name, seats, _ in GROUPS:
            expect(station.locator("#reconcile-body tr", has_text=name).locator("td")).to_have_text(
                [
                    str(seats),
                    str(PHONES[gid]),
                    str(PAPER[gid]),
                    str(PAPER[gid]),
                    "计票后",
                    str(seats - PHONES[gid] - PAPER[gid]),
                ]
            )
        expect(station.locator("#reconcile-total td")).to_have_text(
            [str(SEATS), "20", "6", "6", "计票后", str(SEATS - 26)]
        )
        expect(station.locator("#warnings .warning")).to_have_count(0)
        station.screenshot(path=artifacts / "07-count-panel.png", full_page=True)
        expect(chair.locator("#turnout-total")).to_have_text(re.compile(rf"^26 / {SEATS}"))

        # ---- 6. 结束投票, confirmed; the count; the signed sheet and the export
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        chair.click("#action-main")
        expect(chair.locator("#confirm")).to_be_visible()
        expect(chair.locator("#confirm-title")).to_have_text("确认结束投票？")
        expect(chair.locator("#confirm-warn")).to_be_hidden()  # 26 of 28 meets 2/3
        chair.screenshot(path=artifacts / "08-chair-confirm-close.png")
        chair.locator("#confirm-ok").click()
        expect(chair.locator("#dl-counted")).to_be_visible(timeout=30_000)
        expect(station.locator("#round-state")).to_have_text("投票已结束", timeout=10_000)
        expect(station.locator("#reconcile-total td")).to_have_text(
            [str(SEATS), "20", "6", "6", "0", str(SEATS - 26)], timeout=15_000
        )
        sheet = save(chair, "#dl-tally", "测评结果汇总表.pdf", downloads)
        export = save(chair, "#dl-export", "选票.csv", downloads)
        chair.locator("#downloads").scroll_into_view_if_needed()
        chair.screenshot(path=artifacts / "09-chair-downloads.png")

        rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8"))))
        assert len(rows) == 26
        paper = [row for row in rows if row["via"] == "纸质"]
        assert len(paper) == 6
        assert {row["ballot"] for row in rows if row["via"] != "纸质"} == set(receipts)
        typed = sorted(tuple(row[rid] for rid in rids) for row in paper)
        assert typed == sorted(tuple(m[rid] for rid in rids) for m in paper_marks.values())

        verified = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "verify",
                str(sheet),
                "--ballots",
                str(export),
                "--meeting",
                str(toml),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        output = verified.stdout + verified.stderr
        (artifacts / "verify.txt").write_text(output, encoding="utf-8")
        assert verified.returncode == 0, output
        assert "全部一致" in output, output
        assert errors == [], errors
    finally:
        for context in contexts:
            context.close()
