"""The pages' downloads (`GET /api/download/{kind}`, issue 18) from a real server: each kind,
refused with its reason while it cannot be made yet, and once it can, the same content as the
command that makes it (`pingyi print`, `pingyi export`, `pingyi archive`) on the same data.
PDFs differ in their timestamps and signatures, so they are compared by their text."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

from meeting.join_cards import issue_cards
from printouts.verify_archive import verify_archive
from server.datadir import DataDir
from tally.model import Meeting
from testkit import ServerProcess, http_json, stop_embedded_redis, wait_until, write_meeting
from testkit.after_meeting import cast_ballots, enter_and_fix_evaluation
from testkit.net import http_file
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

Reply = tuple[int, dict[str, str], bytes]


def pingyi(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
    )


def fetch(server: ServerProcess, path: str, key: str | None) -> Reply:
    return http_file(f"{server.base}{path}", key)


def refusal(reply: Reply) -> str:
    return json.loads(reply[2])["error"]["msg"]


@dataclass
class Made:
    tmp: Path
    meeting: Meeting
    meeting_path: Path
    data: Path
    base: str  # the server's public URL: what its cards point at
    # stage -> kind -> the answer of GET /api/download/{kind}
    got: dict[str, dict[str, Reply]] = field(default_factory=dict)
    others: dict[str, Reply] = field(default_factory=dict)  # without a key, unknown kind, …

    def saved(self, stage: str, kind: str, name: str) -> Path:
        path = self.tmp / f"page-{stage}-{name}"
        path.write_bytes(self.got[stage][kind][2])
        return path


BEFORE = ("cards", "ballots", "tally", "feedback", "xlsx", "export", "evaluation", "archive")
COUNTED = ("tally", "feedback", "xlsx", "export", "evaluation", "archive")
FIXED = ("evaluation", "feedback", "xlsx", "archive")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    tmp = tmp_path_factory.mktemp("downloads")
    meeting_path, meeting = write_meeting(tmp, title="下载测试会议", leader_seats=3, cadre_seats=5)
    data = tmp / "data"
    server = ServerProcess(meeting_path, data)
    key = None
    try:
        server.start()
        key = server.chair_key
        made = Made(tmp, meeting, meeting_path, data, server.base)

        def stage(name: str, kinds: tuple[str, ...]) -> None:
            made.got[name] = {kind: fetch(server, f"/api/download/{kind}", key) for kind in kinds}

        stage("before", BEFORE)
        made.others["no key"] = fetch(server, "/api/download/cards", None)
        made.others["wrong key"] = fetch(server, "/api/download/cards", "x" * 24)
        made.others["unknown"] = fetch(server, "/api/download/minutes", key)
        made.others["addresses"] = fetch(server, "/api/addresses", key)
        made.others["addresses without a key"] = fetch(server, "/api/addresses", None)
        round_id = server.vote_step()
        cast_ballots(server, meeting, round_id, [r.id for r in meeting.reporters], voters=6)
        stage("open", ("tally", "export"))
        assert server.chair("close", force=True)[0] == 200
        wait_until(
            lambda: http_json(f"{server.base}/api/view?role=chair", key=key)[1]["view"]["result"],
            timeout=20,
        )
        stage("counted", COUNTED)
        enter_and_fix_evaluation(server)
        stage("fixed", FIXED)
        made.others["archive alias"] = fetch(server, "/api/archive", key)
        server.stop()
        yield made
    finally:
        server.stop()
        stop_embedded_redis(data)


def cli_file(made: Made, name: str, *args: str | Path) -> Path:
    out = made.tmp / f"cli-{name}"
    done = pingyi(*args, "-o", out, cwd=made.tmp)
    assert done.returncode == 0, done.stderr
    return out


def text(path: Path) -> str:
    """The PDF's text, without what differs from one making to the next (the time it was
    made and signed)."""
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?", "<time>", done.stdout)


def ok(reply: Reply, media_type: str, name: str) -> bytes:
    status, headers, body = reply
    assert status == 200, body[:300]
    assert headers["content-type"].startswith(media_type)
    quoted = urllib.parse.quote(name)
    assert headers["content-disposition"] == f"attachment; filename*=UTF-8''{quoted}"
    assert headers["cache-control"] == "no-store"
    return body


def test_what_can_be_had_before_the_vote(made: Made) -> None:
    before = made.got["before"]
    ok(before["cards"], "application/pdf", "参会卡.pdf")
    ok(before["ballots"], "application/pdf", "述职评议表.pdf")
    for kind in ("tally", "feedback", "xlsx", "export"):
        assert before[kind][0] == 409, kind
        assert "尚未投票" in refusal(before[kind]), refusal(before[kind])
    assert before["evaluation"][0] == 409 and "尚未投票" in refusal(before["evaluation"])
    assert before["archive"][0] == 409
    assert "综合评价尚未经党组研究确定" in refusal(before["archive"])


def test_nothing_while_the_round_is_open(made: Made) -> None:
    for kind, reply in made.got["open"].items():
        assert reply[0] == 409, kind
        assert re.search("尚未结束计票|仍在密封中", refusal(reply)), refusal(reply)


def test_the_key_and_the_kind(made: Made) -> None:
    for case in ("no key", "wrong key", "addresses without a key"):
        assert made.others[case][0] == 401, case
    status, _, body = made.others["unknown"]
    assert status == 404 and "minutes" in json.loads(body)["error"]["msg"]
    assert json.loads(body)["error"]["field"] == "kind"


def test_the_addresses(made: Made) -> None:
    status, _, body = made.others["addresses"]
    assert status == 200
    # The server listens on 127.0.0.1 alone: its cards open on no phone, and it says so.
    assert json.loads(body) == {"public_url": made.base, "loopback": True, "lan": []}


def test_the_cards_and_the_ballot_form_are_the_commands(made: Made) -> None:
    page = made.saved("before", "cards", "cards.pdf")
    refused = pingyi(
        "print",
        "cards",
        made.meeting_path,
        "--data",
        made.data,
        "--url",
        made.base,
        "-o",
        made.tmp / "x.pdf",
    )
    assert refused.returncode == 2 and "--url" in refused.stderr
    assert "仅本机可访问" in refused.stderr and "--allow-loopback" in refused.stderr
    args = ("--data", made.data, "--url", made.base, "--allow-loopback")
    cli = cli_file(made, "cards.pdf", "print", "cards", made.meeting_path, *args)
    assert text(page) == text(cli)
    secret = DataDir(made.data).card_secret()
    assert all(card.code in text(page) for card in issue_cards(secret, made.meeting))
    page = made.saved("before", "ballots", "ballots.pdf")
    assert text(page) == text(cli_file(made, "ballots.pdf", "print", "ballots", made.meeting_path))


def test_the_export_is_byte_for_byte_pingyi_export(made: Made) -> None:
    page = ok(made.got["counted"]["export"], "text/csv", "选票.csv")
    out = made.tmp / "cli-export.csv"
    done = pingyi("export", made.meeting_path, out, "--data", made.data)
    assert done.returncode == 0, done.stderr
    assert page == out.read_bytes()
    assert len(page.decode().splitlines()) == 1 + 6


def test_the_signed_tally_sheet_is_the_commands_and_verifies(made: Made) -> None:
    sheet = ok(made.got["counted"]["tally"], "application/pdf", "测评结果汇总表.pdf")
    assert sheet.startswith(b"%PDF")
    page = made.saved("counted", "tally", "tally.pdf")
    export = made.saved("counted", "export", "ballots.csv")
    cli = cli_file(made, "tally.pdf", "print", "tally", made.meeting_path, "--data", made.data)
    assert text(page) == text(cli)
    cert = made.data / "signing" / "cert.pem"
    verified = pingyi(
        "verify", page, "--ballots", export, "--meeting", made.meeting_path, "--cert", cert
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_after_the_fix(made: Made) -> None:
    counted, fixed = made.got["counted"], made.got["fixed"]
    assert counted["evaluation"][0] == 409
    assert "综合评价尚未经党组研究确定" in refusal(counted["evaluation"])
    assert counted["archive"][0] == 409

    ok(fixed["evaluation"], "application/pdf", "综合评价结果表.pdf")
    page = made.saved("fixed", "evaluation", "evaluation.pdf")
    cli = cli_file(
        made, "evaluation.pdf", "print", "evaluation", made.meeting_path, "--data", made.data
    )
    assert text(page) == text(cli)

    ok(fixed["feedback"], "application/pdf", "反馈单.pdf")
    page = made.saved("fixed", "feedback", "feedback.pdf")
    cli = cli_file(
        made, "feedback.pdf", "print", "feedback", made.meeting_path, "--data", made.data
    )
    assert text(page) == text(cli) and "成效明显" in text(page)


def cells(workbook: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_the_workbook_is_the_commands(made: Made) -> None:
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    counted = ok(made.got["counted"]["xlsx"], kind, "测评结果表.xlsx")
    fixed = ok(made.got["fixed"]["xlsx"], kind, "测评结果表.xlsx")
    cli = cli_file(made, "results.xlsx", "print", "xlsx", made.meeting_path, "--data", made.data)
    assert cells(fixed) == cells(cli.read_bytes())
    assert cells(counted) != cells(fixed)  # the 综合评价 is in it once fixed


def test_the_archive_by_either_name(made: Made) -> None:
    from printouts import archive as a

    name = a.archive_name(made.meeting)
    cert = (made.data / "signing" / "cert.pem").read_bytes()
    for reply in (made.got["fixed"]["archive"], made.others["archive alias"]):
        package = ok(reply, "application/zip", name)
        verdict = verify_archive(package, cert)
        assert verdict.ok, verdict.report()
