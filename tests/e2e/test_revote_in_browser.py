"""重新测评 end to end in Debian's Chromium (issue 14): the chair closes a round, then voids it
from the console (the dialog will not void without a written reason); the projector says the
earlier round was voided and why, the phone that voted asks for a new ballot and votes again;
the new round is counted and revealed, never the voided one; the export writes the voided
ballots beside the count and the signed sheet reports the void, which `pingyi verify` accepts.
The console, projector and phone are checked by axe and shot (docs/img with
PINGYI_DOC_IMAGES=1)."""

from __future__ import annotations

import re
import subprocess

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "重新测评演示会议"
date = "2026-12-28"
place = "县委党校报告厅"
seats = 4

[[reporters]]
id = "r01"
name = "王建国"
org = "城关镇党委"

[[reporters]]
id = "r02"
name = "李秀英"
org = "青溪镇党委"
mode = "written"
"""
REASON = "投票设备故障，两位参会人员未能投票"
RECEIPT = re.compile(r"^[0-9A-Z]{4,}-[0-9A-Z]{4,}$")


def vote_on_phone(phone, grade: str) -> None:
    for rid in ("r01", "r02"):
        phone.locator(f"#ballot li[data-key='{rid}'] button[data-grade='{grade}']").tap()
    phone.locator("#to-review").click()
    phone.locator("#confirm").click()
    expect(phone.locator("#receipt")).to_have_text(RECEIPT)


def test_a_round_voided_from_the_console_is_held_again(
    browser, serve, doc_shot, axe_clean, tmp_path
) -> None:
    live = serve(MEETING)
    chair_context = browser.new_context(viewport={"width": 1366, "height": 768})
    screen_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    phone_context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    errors: list[str] = []
    try:
        chair = chair_context.new_page()
        screen = screen_context.new_page()
        phone = phone_context.new_page()
        for page in (chair, screen, phone):
            page.on("pageerror", lambda error: errors.append(str(error)))
        chair.goto(f"{live.url}/chair?key={live.chair_key}")
        screen.goto(f"{live.url}/screen")
        phone.goto(f"{live.url}/j/{live.cards[0].token}")
        assert "error" not in live.chair("start")
        while live.screen_view()["phase"] != "vote":
            assert "error" not in live.chair("next")
        assert "error" not in live.chair("open")
        first = live.screen_view()["round"]["id"]
        vote_on_phone(phone, "差")
        other = live.http(
            "POST",
            "/api/cast",
            {
                "token": live.cards[1].token,
                "round": first,
                "marks": {"r01": "差", "r02": "差"},
                "cid": "1" * 32,
            },
        )
        assert "receipt" in other, other
        assert "error" not in live.chair("close", force=True)
        expect(chair.locator("#result-card")).to_be_visible()
        # a 书面述职 reporter has no speaking step: the step list says so, it is not skipped
        expect(chair.locator("#steps")).to_have_attribute("data-written", "书面述职：李秀英")

        # ---- 重新测评 is offered; the dialog will not void without a reason
        void = chair.locator("#action-others button[data-action='void']")
        expect(void).to_have_text("重新测评")
        void.click()
        dialog = chair.locator("#void")
        expect(dialog).to_be_visible()
        expect(chair.locator("#void-text")).to_contain_text("印在测评结果汇总表上")
        chair.locator("#void-ok").click()
        expect(chair.locator("#void-warn")).to_have_text("请写明重新测评的原因")
        expect(dialog).to_be_visible()
        assert live.screen_view()["round"]["status"] == "closed"
        chair.locator("#void-reason").fill(REASON)
        expect(chair.locator("#void-warn")).to_be_hidden()
        axe_clean(chair, "chair void dialog")
        doc_shot(chair, "chair-void-dialog")
        chair.locator("#void-ok").click()
        expect(dialog).to_be_hidden()

        # ---- everyone is told; the voided result is shown nowhere
        expect(chair.locator("#action-label")).to_have_text("开启投票")
        expect(chair.locator("#round-status")).to_contain_text(REASON)
        expect(chair.locator("#result-card")).to_be_hidden()
        expect(screen.locator("#redo")).to_have_text(
            f"重新测评：上次测评已作废（已收回2票），原因：{REASON}"
        )
        expect(phone.locator("#now-label")).to_have_text("重新测评 · 即将开始投票")
        expect(phone.locator("#now-who")).to_have_text("上次测评已作废，请重新投票")
        axe_clean(screen, "screen redo")
        axe_clean(phone, "phone redo")
        doc_shot(screen, "screen-redo-1920")
        doc_shot(phone, "phone-redo-360")
        phone.set_viewport_size({"width": 320, "height": 640})
        phone.wait_for_timeout(150)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 320
        doc_shot(phone, "phone-redo-320")
        phone.set_viewport_size({"width": 360, "height": 740})

        # ---- the same phone votes again in the new round, which is counted and revealed
        chair.locator("#action-main").click()
        expect(chair.locator("#action-label")).to_have_text("结束投票")
        second = live.screen_view()["round"]["id"]
        assert second != first
        expect(phone.locator("#ballot li")).to_have_count(2)
        vote_on_phone(phone, "好")
        expect(chair.locator("#turnout-total")).to_have_text("1 / 4")
        assert "error" not in live.chair("close", force=True)
        expect(chair.locator("#result-card")).to_be_visible()
        expect(chair.locator("#result-body tr").first).to_contain_text("王建国1000")
        axe_clean(chair, "chair after the redo")
        doc_shot(chair, "chair-after-redo")
        assert "error" not in live.chair("reveal")
        expect(screen.locator("#results")).to_be_visible()
        expect(screen.locator("#b-cast")).to_have_text("1")
        assert errors == [], errors

        # ---- the export and the signed sheet account for the voided round
        exported = tmp_path / "ballots.csv"
        done = live.pingyi("export", str(live.toml), str(exported), "--data", str(live.data))
        assert exported.read_text(encoding="utf-8").count("\n") == 2  # header + 1 ballot
        assert (tmp_path / f"ballots-voided-{first}.csv").read_text("utf-8").count("差") == 4
        assert REASON in done.stdout
        pdf = tmp_path / "sheet.pdf"
        live.pingyi("print", "tally", str(live.toml), "--data", str(live.data), "-o", str(pdf))
        text = "".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True
            ).stdout.split()
        )
        assert f"原因：{REASON}" in text and "作废时已收回选票2张" in text
        checked = live.pingyi(
            "verify", str(pdf), "--ballots", str(tmp_path / "sheet-ballots.csv"),
            "--meeting", str(live.toml),
        )  # fmt: skip
        assert "1次作废的测评" in checked.stdout
    finally:
        for context in (chair_context, screen_context, phone_context):
            context.close()
