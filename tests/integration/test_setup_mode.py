"""`pingyi serve` without a meeting file: the setup page behind a one-time key, the roster, the
live check, the save, and the meeting server that follows on the same address; `--setup` on a
file, refused once a round was opened."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from server.roster_xlsx import roster_example, roster_workbook
from tally.meeting_file import parse_meeting_text
from testkit import ServerProcess, free_port, http_json, http_raw, stop_embedded_redis, wait_until
from testkit.processes import _SOURCE

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class SetupProcess:
    """`pingyi serve` (no file, or a file and --setup) run in `workdir`, its output in a log."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir, self.data, self.port = workdir, workdir / "data", free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        env_path = str(_SOURCE)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cli",
                    "serve",
                    *args,
                    "--port",
                    str(self.port),
                    "--data",
                    str(self.data),
                ],
                cwd=workdir,
                env={**_env(), "PYTHONPATH": env_path},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: self.exited() or self.answers(), timeout=30)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/setup", timeout=2) as page:
                return page.status == 200
        except OSError:
            return False

    def exited(self) -> bool:
        return self.process.poll() is not None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def key(self) -> str:
        found = re.search(r"设置密钥\s+(\S+)（", self.log())
        assert found, self.log()
        return found.group(1)

    def get(self, path: str, key: str | None = None) -> tuple[int, object]:
        return http_json(self.base + path, key=key if key is not None else self.key)

    def post(self, path: str, body: object) -> tuple[int, object]:
        return http_json(self.base + path, body, key=self.key)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        stop_embedded_redis(self.data)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "REDIS_URL"}


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[SetupProcess]]:
    running: list[SetupProcess] = []
    yield running
    for process in running:
        process.stop()


MEETING = {
    "meeting": {"title": "2026年度述职评议会", "date": "2026-12-28", "place": "县委大会议室"},
    "rules": {"poor_share_limit": 0.15, "quota": {"好": 0.3}},
}


def test_setup_page_to_meeting(tmp_path: Path, started: list[SetupProcess]) -> None:
    setup = SetupProcess(tmp_path)
    started.append(setup)
    assert re.search(rf"设置页面\s+{setup.base}/setup\?key=\S+", setup.log())
    assert (setup.data / "setup.key").read_text().strip() == setup.key

    # behind the key
    assert setup.get("/api/setup/meeting", key="wrong")[0] == 401
    assert http_json(setup.base + "/api/setup/meeting")[0] == 401
    status, body = setup.get("/api/setup/meeting")
    assert status == 200 and body == {
        "meeting": None,
        "editing": False,
        "out": "meeting.toml",
        "exists": False,
        "addresses": [setup.base],  # listening on 127.0.0.1: no LAN address to pick
    }
    with urllib.request.urlopen(setup.base + "/setup") as page:
        assert "设置会议" in page.read().decode()

    # the template
    request = urllib.request.Request(
        setup.base + "/api/setup/template", headers={"Authorization": f"Bearer {setup.key}"}
    )
    with urllib.request.urlopen(request) as response:
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(response.read()))
    assert book.sheetnames[:2] == ["述职人", "投票组别"]

    # a broken roster: every error, nothing taken
    broken = roster_workbook(
        [("r01", "王建国", "城关镇党委", "现场", ""), ("r01", "", "河东镇党委", "远程", "")],
        [("a", "县级领导", 15, 0.5), ("b", "基层代表", 40, 0.4)],
    )
    status, body = http_raw(setup.base + "/api/setup/roster", broken, setup.key, XLSX)
    assert status == 422 and body["ok"] is False
    assert [(e["sheet"], e["row"], e["column"]) for e in body["errors"]] == [
        ("述职人", 3, "B（编号）"),
        ("述职人", 3, "C（姓名）"),
        ("述职人", 3, "E（述职方式）"),
        ("投票组别", None, "D（权重）"),
    ]
    too_big = b"x" * (3 * 1024 * 1024)
    assert http_raw(setup.base + "/api/setup/roster", too_big, setup.key, XLSX)[0] == 413
    status, body = http_raw(setup.base + "/api/setup/roster", b"not a workbook", setup.key, XLSX)
    assert status == 422 and body["errors"][0]["sheet"] == "文件"

    # a good roster
    status, roster = http_raw(setup.base + "/api/setup/roster", roster_example(), setup.key, XLSX)
    assert status == 200 and len(roster["reporters"]) == 10 and len(roster["groups"]) == 3
    meeting = {**MEETING, "reporters": roster["reporters"], "groups": roster["groups"]}

    # the live check: the meeting file's own messages, with the key path
    bad = json.loads(json.dumps(meeting))
    bad["reporters"][2]["id"] = "r01"
    assert setup.post("/api/setup/check", {"meeting": bad}) == (
        200,
        {"ok": False, "error": {"path": "reporters[3].id", "msg": "述职人编号“r01”重复"}},
    )
    status, body = setup.post("/api/setup/check", {"meeting": meeting})
    assert body == {
        "ok": True,
        "summary": "共10位述职人（现场8位、书面2位），3个投票组别，应到80人",
    }
    status, body = setup.post("/api/setup/save", {"meeting": bad})
    assert status == 422 and body["error"]["path"] == "reporters[3].id"
    assert not (tmp_path / "meeting.toml").exists()

    # an address phones are to open must be one the page offered
    status, body = setup.post(
        "/api/setup/save", {"meeting": meeting, "address": "http://10.9.9.9:8000"}
    )
    assert status == 422 and "不是本机的地址" in body["error"]["msg"]
    assert not (tmp_path / "meeting.toml").exists()

    # the save, then the meeting on the same address
    status, body = setup.post("/api/setup/save", {"meeting": meeting, "address": setup.base})
    assert (
        status == 200 and body["path"] == "meeting.toml" and body["chair"].startswith("/chair?key=")
    )
    saved = parse_meeting_text((tmp_path / "meeting.toml").read_text(encoding="utf-8"))
    assert saved.title == "2026年度述职评议会" and len(saved.reporters) == 10

    def answers() -> bool:
        try:
            return http_json(setup.base + "/api/meeting")[0] == 200
        except OSError:
            return False

    wait_until(answers, timeout=30)
    status, live = http_json(setup.base + "/api/meeting")
    assert live["title"] == "2026年度述职评议会" and len(live["reporters"]) == 10
    chair_key = body["chair"].split("=", 1)[1]
    assert http_json(setup.base + "/api/chair", {"action": "start"}, chair_key)[0] == 200
    assert not (setup.data / "setup.key").exists()  # spent
    assert "已保存会议文件 meeting.toml" in setup.log()
    assert setup.process.poll() is None


def test_an_existing_file_is_not_overwritten_unless_asked(
    tmp_path: Path, started: list[SetupProcess]
) -> None:
    (tmp_path / "meeting.toml").write_text("# mine\n", encoding="utf-8")
    setup = SetupProcess(tmp_path)
    started.append(setup)
    assert setup.get("/api/setup/meeting")[1]["exists"] is True
    meeting = {
        **MEETING,
        "reporters": [{"id": "r01", "name": "王建国", "org": "城关镇党委"}],
        "groups": [{"id": "all", "name": "全体", "seats": 20}],
    }
    status, body = setup.post("/api/setup/save", {"meeting": meeting})
    assert status == 409 and "覆盖已有文件" in body["error"]["msg"]
    assert (tmp_path / "meeting.toml").read_text(encoding="utf-8") == "# mine\n"
    assert setup.post("/api/setup/save", {"meeting": meeting, "overwrite": True})[0] == 200
    assert parse_meeting_text((tmp_path / "meeting.toml").read_text(encoding="utf-8")).seats == 20


def test_setup_on_a_file_then_locked_once_a_vote_opened(
    tmp_path: Path, started: list[SetupProcess]
) -> None:
    text = (
        '[meeting]\ntitle = "测试会议"\ndate = 2026-12-28\n\n'
        '[[reporters]]\nid = "r01"\nname = "王建国"\norg = "城关镇党委"\n\n'
        '[[reporters]]\nid = "r02"\nname = "李秀英"\norg = "河东镇党委"\n\n'
        '[[groups]]\nid = "all"\nname = "全体"\nseats = 10\n\n[agenda]\nreport_minutes = 8\n'
    )
    (tmp_path / "meeting.toml").write_text(text, encoding="utf-8")
    setup = SetupProcess(tmp_path, "meeting.toml", "--setup")
    started.append(setup)
    status, body = setup.get("/api/setup/meeting")
    assert body["editing"] is True and body["meeting"]["meeting"]["date"] == "2026-12-28"
    assert body["meeting"]["agenda"] == {"report_minutes": 8}  # kept for the save
    edited = json.loads(json.dumps(body["meeting"]))
    edited["meeting"]["place"] = "县委大会议室"
    assert setup.post("/api/setup/save", {"meeting": edited})[0] == 200  # its own file: no question
    saved = parse_meeting_text((tmp_path / "meeting.toml").read_text(encoding="utf-8"))
    assert saved.place == "县委大会议室" and saved.agenda.report_minutes == 8
    wait_until(lambda: "评议 Pingyi — 测试会议" in setup.log(), timeout=30)
    setup.stop()

    server = ServerProcess(tmp_path / "meeting.toml", setup.data).start()
    try:
        server.vote_step(open_it=True)
    finally:
        server.stop()
        stop_embedded_redis(setup.data)
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "serve",
            "meeting.toml",
            "--setup",
            "--data",
            str(setup.data),
            "--port",
            str(free_port()),
        ],
        cwd=tmp_path,
        env={**_env(), "PYTHONPATH": str(_SOURCE)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "本会议已开启过投票（1轮），会议文件已锁定，不能再用设置页面修改" in refused.stderr
    stop_embedded_redis(setup.data)


def test_wrong_combinations_are_refused(tmp_path: Path) -> None:
    from cli import main

    assert main(["serve", "--setup", "--data", str(tmp_path / "d")]) == 2
    assert main(["serve", "--demo", "--setup"]) == 2
