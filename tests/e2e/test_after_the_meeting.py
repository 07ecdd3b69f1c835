"""From the meeting to the filing (issue 16), in Chromium: two named commenters on each report
and a closing 讲话 recorded on the chair console and named on the projector, the vote, the
综合评价 entered on the 会后 page (one grade changed, with its reason) and fixed; then the
综合评价结果表 and 反馈单 printed, the 备案 package downloaded from the page and written by
`pingyi archive`, `pingyi verify` passing on both and failing, naming the file, when any file
in the package is changed."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from printouts import archive as a

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

SECRETARY = "刘洋（县委书记）"
DEPUTY = "陈静（县委副书记）"
SPEAKER = "王强（市委组织部副部长）"

MEETING = f"""
[meeting]
title = "中共测试县委2026年度党组织书记述职评议大会"
date = "2026-12-28"
place = "县委党校报告厅"

[agenda]
commenters = ["{SECRETARY}", "{DEPUTY}"]
closing_speech = "{SPEAKER}"

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
seats = 5
weight = 0.6
"""
ONSITE = [("r1", "王建国", "城关镇党委"), ("r2", "李秀英", "青溪镇党委")]
VOTES = [{"r1": "好", "r2": "较好", "r3": "好"}] * 5 + [
    {"r1": "较好", "r2": "一般", "r3": "好"}
] * 2


def pingyi(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=cwd)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s+", "", out.stdout)


def test_from_the_meeting_to_the_filing(browser, serve, tmp_path: Path, doc_shot) -> None:
    live = serve(MEETING)
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    errors: list[str] = []
    try:
        chair, screen, after = (context.new_page() for _ in range(3))
        for page in (chair, screen, after):
            page.on("pageerror", lambda error: errors.append(str(error)))
        chair.goto(f"{live.url}/chair?key={live.chair_key}")
        screen.goto(f"{live.url}/screen")
        expect(chair.locator("#action-label")).to_have_text("开始会议")
        chair.click("#action-main")
        comment_on_each_report(chair, screen)
        vote(live, chair, screen)
        closing_speech(chair, screen)
        zip_downloaded = evaluate_and_download(live, after, tmp_path, doc_shot)
        assert errors == [], errors
    finally:
        context.close()
    check_the_papers(live, tmp_path, zip_downloaded)


def comment_on_each_report(chair, screen) -> None:
    for rid, name, org in ONSITE:
        expect(screen.locator("#phase")).to_have_text("述职")
        expect(screen.locator("#name")).to_have_text(name)
        chair.click("#action-main")
        expect(screen.locator("#phase")).to_have_text("点评")
        expect(screen.locator("#org")).to_have_text(f"{org} · 点评：{SECRETARY}、{DEPUTY}")
        expect(chair.locator("#comment-who")).to_have_text(name)
        options = chair.locator("#comment-by option")
        expect(options).to_have_text([SECRETARY, DEPUTY, "其他点评人…"])
        chair.fill("#comment-text", f"{name}同志抓党建责任落实到位。")  # the secretary's
        chair.select_option("#comment-by", DEPUTY)  # saves the secretary's text first
        expect(chair.locator("#comment-text")).to_have_value("")
        chair.fill("#comment-text", f"{name}同志党员教育管理有短板。")
        chair.click("#comment-save")
        expect(chair.locator("#comment-saved")).to_have_text("已保存")
        chair.select_option("#comment-by", SECRETARY)  # back: what was saved is there
        expect(chair.locator("#comment-text")).to_have_value(f"{name}同志抓党建责任落实到位。")
        if rid == "r2":  # a third, unplanned commenter, typed in
            chair.select_option("#comment-by", "其他点评人…")
            expect(chair.locator("#comment-text")).to_be_disabled()
            chair.fill("#comment-other", "周敏（县委组织部部长）")
            chair.locator("#comment-other").press("Tab")
            expect(chair.locator("#comment-text")).to_be_enabled()
            chair.fill("#comment-text", "阵地建设要再加强。")
        chair.click("#action-main")  # saves what the box holds before the agenda moves


def vote(live, chair, screen) -> None:
    expect(screen.locator("#turnout-title")).to_have_text("即将开始投票")
    chair.click("#action-main")
    expect(screen.locator("#turnout-title")).to_have_text("投票进行中")
    round_id = live.screen_view()["round"]["id"]
    for number, (card, marks) in enumerate(zip(live.cards, VOTES, strict=False)):
        body = {"token": card.token, "round": round_id, "marks": marks, "cid": f"{number:032x}"}
        assert "receipt" in live.http("POST", "/api/cast", body)
    expect(screen.locator("#cast")).to_have_text("7")
    chair.wait_for_timeout(1600)  # the main button's lock after it changed (test_chair_safety)
    chair.click("#action-main")
    chair.click("#confirm-ok")
    expect(chair.locator("#action-label")).to_have_text("公布结果")
    chair.wait_for_timeout(1600)
    chair.click("#action-main")
    expect(screen.locator("#results")).to_be_visible()
    chair.wait_for_timeout(1600)
    chair.click("#action-main")


def closing_speech(chair, screen) -> None:
    expect(screen.locator("#phase")).to_have_text("讲话")
    expect(screen.locator("#name")).to_have_text(SPEAKER)
    expect(chair.locator("#comment-title")).to_have_text("讲话")
    expect(chair.locator("#comment-by option")).to_have_text([SPEAKER, "其他讲话人…"])
    chair.fill("#comment-text", "各级党组织书记要扛起第一责任人职责，抓好点评问题整改。")
    chair.click("#comment-save")
    expect(chair.locator("#comment-saved")).to_have_text("已保存")
    expect(chair.locator("#steps li .note").last).to_have_text("已记录讲话")
    chair.wait_for_timeout(1600)
    chair.click("#action-main")
    expect(chair.locator("#confirm-title")).to_have_text("确认结束会议？")
    chair.click("#confirm-ok")
    expect(screen.locator("#results h2")).to_have_text("评议结果（会议已结束）")


def evaluate_and_download(live, after, tmp_path: Path, doc_shot) -> Path:
    after.goto(f"{live.url}/after?key={live.chair_key}")
    expect(after.locator("#list-body tr")).to_have_count(3)
    expect(after.locator("#archive-row")).to_be_hidden()
    # 补录: a 点评 nobody typed in the hall is pasted in afterwards, under who gave it
    expect(after.locator("#remarks-list .remark-step")).to_have_count(3)  # 2 点评, the 讲话
    after.select_option("#remark-step", label="李秀英 点评")
    after.fill("#remark-by", "孙明（县委常委、组织部部长）")
    after.fill("#remark-text", "会后补录：基层治理创新值得推广。")
    after.click("#remark-save")
    expect(after.locator("#remark-result")).to_have_text("已保存")
    expect(after.locator("#remarks-list .remark-step").nth(1)).to_contain_text(
        "孙明（县委常委、组织部部长）：会后补录：基层治理创新值得推广。"
    )
    after.fill("#entry-by", "组织科 李敏")
    for rid, grade, reason in [
        ("r1", "较好", "督导调研发现软弱涣散村党组织整顿不到位"),
        ("r2", None, ""),
        ("r3", None, ""),
    ]:
        after.select_option("#entry-reporter", rid)
        vote_grade = after.locator("#entry-vote").inner_text().removeprefix("测评等次：")
        after.select_option("#entry-grade", grade or vote_grade)
        if reason:
            after.fill("#entry-reason", reason)
        after.fill("#opinion-0", "党建引领作用发挥明显")
        after.fill("#opinion-1", "党员教育管理创新不足")
        after.fill("#opinion-2", "聚焦点评问题逐项整改")
        after.click("#entry-submit")
        expect(after.locator("#entry-result")).to_contain_text("已保存")
    after.fill("#fix-date", "2026-12-31")
    after.fill("#fix-rectify", "2027-02-28")
    after.fill("#fix-by", "组织科 李敏")
    after.click("#fix-submit")
    expect(after.locator("#fixed-note")).to_contain_text("限期整改至 2027-02-28")
    expect(after.locator("#archive-row")).to_be_visible()
    doc_shot(after, "after-fixed")
    with after.expect_download(timeout=120_000) as waiting:
        after.click("#archive")
    download = waiting.value
    assert download.suggested_filename == f"备案-2026-12-28-{live.meeting.title}.zip"
    expect(after.locator("#archive-result")).to_contain_text("已下载")
    saved = tmp_path / "downloaded.zip"
    download.save_as(saved)
    return saved


def check_the_papers(live, tmp_path: Path, downloaded: Path) -> None:
    data, toml = live.data, live.toml
    sheet, feedback = tmp_path / "综合评价结果表.pdf", tmp_path / "反馈单.pdf"
    printed = pingyi("print", "evaluation", toml, "--data", data, "-o", sheet, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    text = pdf_text(sheet)
    assert "督导调研发现软弱涣散村党组织整顿不到位" in text and "2027-02-28" in text
    ballots = tmp_path / "综合评价结果表-ballots.csv"
    verified = pingyi("verify", sheet, "--ballots", ballots, "--meeting", toml, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    printed = pingyi("print", "feedback", toml, "--data", data, "-o", feedback, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    first = pdf_text(feedback).split("述职评议反馈单")[1]
    assert "综合评价等次：" in first and "经党组于2026-12-31研究确定" in first
    assert "与测评等次不同的理由：督导调研发现软弱涣散村党组织整顿不到位" in first
    assert f"{SECRETARY}：王建国同志抓党建责任落实到位。" in first
    assert f"{DEPUTY}：王建国同志党员教育管理有短板。" in first

    archived = pingyi("archive", toml, "--data", data, "-o", tmp_path / "备案.zip", cwd=tmp_path)
    assert archived.returncode == 0, archived.stderr
    cert = data / "signing" / "cert.pem"
    for package in (tmp_path / "备案.zip", downloaded):
        verified = pingyi("verify", package, "--cert", cert, cwd=tmp_path)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    with zipfile.ZipFile(tmp_path / "备案.zip") as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    assert {a.REMARKS_FILE, a.EVALUATION_FILE, a.FEEDBACK_FILE} <= files.keys()
    remarks = files[a.REMARKS_FILE].decode()
    assert f"讲话人：{SPEAKER}" in remarks and "点评人：周敏（县委组织部部长）" in remarks
    assert "会后补录：基层治理创新值得推广。" in remarks
    for name in files:
        changed = dict(files)
        data_bytes = changed[name]
        middle = len(data_bytes) // 2
        changed[name] = (
            data_bytes[:middle] + bytes([data_bytes[middle] ^ 1]) + data_bytes[middle + 1 :]
        )
        tampered = tmp_path / "tampered.zip"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for member, content in changed.items():
                archive.writestr(member, content)
        tampered.write_bytes(out.getvalue())
        verified = pingyi("verify", tampered, "--cert", cert, cwd=tmp_path)
        assert verified.returncode == 1, (name, verified.stdout, verified.stderr)
        assert name.split("/")[-1] in verified.stdout, (name, verified.stdout)
