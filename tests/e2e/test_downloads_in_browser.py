"""下载与打印 on the chair console in Debian's Chromium (issue 18): the console served from
127.0.0.1 says its cards' address opens on no phone; the join cards download at once; after a
short vote the signed tally sheet and the ballot export download, and `pingyi verify` accepts
the one with the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MEETING = """
[meeting]
title = "下载演示会议"
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
"""


def save(page, button: str, name: str, folder: Path) -> Path:
    """Clicks a download button; the file the browser saved, under the server's name."""
    with page.expect_download(timeout=120_000) as waiting:
        page.click(button)
    download = waiting.value
    assert download.suggested_filename == name
    path = folder / name
    download.save_as(path)
    expect(page.locator(f"{button}-result")).to_contain_text(f"已下载 {name}")
    return path


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def test_the_chair_downloads_the_cards_and_the_signed_sheet(
    browser, serve, axe_clean, doc_shot, tmp_path
) -> None:
    live = serve(MEETING)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    try:
        chair = context.new_page()
        chair.on("pageerror", lambda error: errors.append(str(error)))
        chair.goto(f"{live.url}/chair?key={live.chair_key}")

        # ---- served on 127.0.0.1: the console says no phone in the hall can open the cards
        warning = chair.locator("#address-warn")
        expect(warning).to_contain_text(f"手机扫码地址 {live.url} 仅本机可访问")
        expect(warning).to_contain_text("--host 0.0.0.0")

        # ---- before the vote: the cards and the paper ballot, nothing counted yet
        expect(chair.locator("#dl-cards-row")).to_be_visible()
        expect(chair.locator("#dl-counted")).to_be_hidden()
        expect(chair.locator("#dl-later")).to_be_visible()
        axe_clean(chair, "chair downloads")
        cards = pdf_text(save(chair, "#dl-cards", "参会卡.pdf", tmp_path))
        assert all(card.code in cards for card in live.cards)

        # ---- a short vote: two ballots, closed
        assert "error" not in live.chair("start")
        while live.screen_view()["phase"] != "vote":
            assert "error" not in live.chair("next")
        assert "error" not in live.chair("open")
        round_id = live.screen_view()["round"]["id"]
        for number, card in enumerate(live.cards[:2]):
            grade = ("好", "较好")[number]
            body = {
                "token": card.token,
                "round": round_id,
                "marks": {"r01": grade, "r02": "好"},
                "cid": f"{number}" * 32,
            }
            assert "receipt" in live.http("POST", "/api/cast", body)
        assert "error" not in live.chair("close", force=True)

        # ---- counted: the signed sheet and the export it is checked against
        expect(chair.locator("#dl-counted")).to_be_visible()
        expect(chair.locator("#dl-later")).to_be_hidden()
        sheet = save(chair, "#dl-tally", "测评结果汇总表.pdf", tmp_path)
        export = save(chair, "#dl-export", "选票.csv", tmp_path)
        chair.locator("#downloads").scroll_into_view_if_needed()
        doc_shot(chair, "chair-downloads")
        assert len(export.read_text(encoding="utf-8").splitlines()) == 1 + 2
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
                str(live.toml),
                "--cert",
                str(live.data / "signing" / "cert.pem"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "王建国" in pdf_text(sheet)
        assert errors == []
    finally:
        context.close()
