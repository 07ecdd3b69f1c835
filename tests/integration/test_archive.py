"""The 备案 package from a real meeting: a real server, ballots over HTTP, the 点评, the
综合评价 entered and fixed over HTTP; then `pingyi archive`, `verify_archive` on it, and every
kind of tampering with it caught and named. `pingyi status` is tested on the same meeting."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from meeting.agenda import plan
from printouts import archive as a
from printouts import signing
from printouts.verify_archive import verify_archive
from tally.model import Meeting
from testkit import ServerProcess, http_json, stop_embedded_redis, wait_until, write_meeting
from testkit.after_meeting import cast_ballots, enter_and_fix_evaluation
from testkit.net import http_file
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

COMMENTER = "张书记"
OPINION = {
    "成绩": "抓党建促发展成效明显",
    "问题": "阵地建设不足\n党员教育不经常",
    "要求": "限期整改",
}


def pingyi(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
    )


def chair_view(server: ServerProcess) -> dict:
    return http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)[1]["view"]


def to_the_vote(server: ServerProcess) -> dict:
    """Walks the agenda to the vote, saving a 点评 on each report; opens the round."""
    commented: set[str] = set()
    for _ in range(40):
        view = chair_view(server)
        if view["round"] and view["round"]["status"] == "open":
            return view["round"]
        if view["phase"] == "comment" and view["reporter"] not in commented:
            text = f"{view['reporter']}的点评：成效明显。"
            code, reply = server.chair("comment", text=text, by=COMMENTER)
            assert code == 200, reply
            commented.add(view["reporter"])
            continue
        code, reply = server.chair(view["actions"][0])
        assert code == 200, reply
    raise AssertionError("the vote was never reached")


@dataclass
class Made:
    meeting: Meeting
    meeting_path: Path
    data: Path
    zip_path: Path
    status: dict[str, str]  # stage -> `pingyi status` output
    refused: subprocess.CompletedProcess[str]  # `pingyi archive` before the fix
    archived: subprocess.CompletedProcess[str]
    # GET /api/archive (the 会后 page's button): before the fix, without the key, after it
    downloads: dict[str, tuple[int, dict[str, str], bytes]]

    @property
    def cert(self) -> bytes:
        return (self.data / "signing" / "cert.pem").read_bytes()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    tmp = tmp_path_factory.mktemp("archive")
    meeting_path, meeting = write_meeting(tmp, title="备案测试会议", leader_seats=3, cadre_seats=5)
    data = tmp / "data"
    server = ServerProcess(meeting_path, data)
    status: dict[str, str] = {}
    try:
        server.start()
        status["before"] = pingyi("status", meeting_path, "--data", data).stdout
        round_info = to_the_vote(server)
        cast_ballots(server, meeting, round_info["id"], round_info["reporters"], voters=6)
        status["voting"] = pingyi("status", meeting_path, "--data", data).stdout
        assert server.chair("close", force=True)[0] == 200
        wait_until(
            lambda: all(
                r["vote_grade"]
                for r in http_json(f"{server.base}/api/evaluation", key=server.chair_key)[1][
                    "reporters"
                ]
            ),
            timeout=20,
        )
        refused = pingyi("archive", meeting_path, "--data", data, cwd=tmp)
        downloads = {"before the fix": download(server, server.chair_key)}
        enter_and_fix_evaluation(server, OPINION)
        downloads["without the key"] = download(server, None)
        downloads["fixed"] = download(server, server.chair_key)
        server.stop()
        archived = pingyi("archive", meeting_path, "--data", data, cwd=tmp)  # the default name
        zip_path = tmp / a.archive_name(meeting)
        status["fixed"] = pingyi("status", meeting_path, "--data", data, cwd=tmp).stdout
        yield Made(meeting, meeting_path, data, zip_path, status, refused, archived, downloads)
    finally:
        server.stop()
        stop_embedded_redis(data)


def download(server: ServerProcess, key: str | None) -> tuple[int, dict[str, str], bytes]:
    return http_file(f"{server.base}/api/archive", key)


def members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    items = files.items() if isinstance(files, dict) else files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: that is the test
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return out.getvalue()


def flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def failed(verdict) -> str:
    return "\n".join(f"{c.name}：{c.detail}" for c in verdict.checks if not c.ok)


def test_the_package_is_written_and_verifies(made: Made) -> None:
    assert made.refused.returncode == 2
    assert "综合评价尚未经党组研究确定，不能生成备案材料" in made.refused.stderr
    assert made.archived.returncode == 0, made.archived.stderr
    assert "已写入并签名备案包" in made.archived.stdout
    files = members(made.zip_path.read_bytes())
    plans = [name for name in files if name.startswith("整改方案/")]
    assert plans == ["整改方案/03-张志强.docx"]  # 问责 → 差: 约谈提醒、限期整改
    expected = {
        a.MEETING_FILE,
        a.BALLOTS_FILE,
        a.TALLY_FILE,
        a.EVALUATION_FILE,
        a.FEEDBACK_FILE,
        a.XLSX_FILE,
        a.REMARKS_FILE,
        a.MANIFEST_FILE,
        a.LIST_FILE,
        *plans,
    }
    assert set(files) == expected
    assert files[a.MEETING_FILE] == made.meeting_path.read_bytes()
    assert len(files[a.BALLOTS_FILE].decode().splitlines()) == 1 + 6
    manifest = json.loads(files[a.MANIFEST_FILE])
    assert manifest["filing_deadline"] == "2027-01-04"
    assert manifest["meeting"]["title"] == "备案测试会议"
    assert {f["name"] for f in manifest["files"]} == set(files) - {a.MANIFEST_FILE, a.LIST_FILE}
    remarks = files[a.REMARKS_FILE].decode()
    assert "r01的点评：成效明显。" in remarks and "r03的点评：成效明显。" in remarks
    assert any("1位述职人各附一份模板" in note for note in manifest["notes"])

    verdict = verify_archive(made.zip_path.read_bytes(), made.cert)
    assert verdict.ok, verdict.report()
    names = [c.name for c in verdict.checks]
    assert "测评结果汇总表.pdf：重新计票" in names and "清单核对" in names
    assert "综合评价结果表.pdf：结果运用" in names
    unpinned = verify_archive(made.zip_path.read_bytes())
    assert unpinned.ok and "签名者未核实" in unpinned.note


def test_half_an_identity_is_refused(made: Made) -> None:
    run = pingyi("archive", made.meeting_path, "--data", made.data, "--key", made.data / "x.pem")
    assert run.returncode == 2 and "须同时给出私钥和证书" in run.stderr


def changed(name: str):
    def tamper(files: dict[str, bytes]) -> dict[str, bytes]:
        data = files[name]
        files[name] = data + b"\n# x\n" if name.endswith((".toml", ".csv", ".txt")) else flip(data)
        return files

    return tamper


def added(files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, "补充说明.txt": "后加的".encode()}


def removed(files: dict[str, bytes]) -> dict[str, bytes]:
    del files[a.FEEDBACK_FILE]
    return files


def manifest_edited(files: dict[str, bytes]) -> dict[str, bytes]:
    manifest = json.loads(files[a.MANIFEST_FILE])
    manifest["filing_deadline"] = "2027-02-28"
    files[a.MANIFEST_FILE] = a.manifest_bytes(manifest)
    return files


TAMPERINGS = {  # case -> (how, the name the report must give)
    "meeting file": (changed(a.MEETING_FILE), a.MEETING_FILE),
    "ballots": (changed(a.BALLOTS_FILE), a.BALLOTS_FILE),
    "tally sheet": (changed(a.TALLY_FILE), a.TALLY_FILE),
    "evaluation sheet": (changed(a.EVALUATION_FILE), a.EVALUATION_FILE),
    "feedback": (changed(a.FEEDBACK_FILE), a.FEEDBACK_FILE),
    "workbook": (changed(a.XLSX_FILE), a.XLSX_FILE),
    "remarks": (changed(a.REMARKS_FILE), a.REMARKS_FILE),
    "plan": (changed("整改方案/03-张志强.docx"), "整改方案/03-张志强.docx"),
    "list pdf": (changed(a.LIST_FILE), a.LIST_FILE),
    "file added": (added, "补充说明.txt"),
    "file removed": (removed, a.FEEDBACK_FILE),
    "manifest edited": (manifest_edited, a.MANIFEST_FILE),
}


@pytest.mark.parametrize("case", list(TAMPERINGS))
def test_each_tampering_fails_and_names_the_file(made: Made, case: str) -> None:
    how, name = TAMPERINGS[case]
    package = rezip(how(members(made.zip_path.read_bytes())))
    verdict = verify_archive(package, made.cert)
    assert not verdict.ok
    assert name in failed(verdict), verdict.report()
    assert "备案包不能作为本次述职评议的备案材料" in verdict.report()


def test_a_list_re_signed_with_another_key(made: Made) -> None:
    """The list made again and signed with a self-made key: whole, so it passes unpinned;
    the meeting's certificate names the forgery."""
    files = members(made.zip_path.read_bytes())
    key_pem, cert_pem = signing.make_identity(made.meeting)
    manifest = json.loads(files[a.MANIFEST_FILE])
    manifest["signer_sha256"] = signing.fingerprint(signing.load_certificate(cert_pem))
    files[a.MANIFEST_FILE] = a.manifest_bytes(manifest)
    files[a.LIST_FILE] = signing.sign_pdf(a.render_list(manifest), key_pem, cert_pem)
    package = rezip(files)
    assert verify_archive(package).ok
    pinned = verify_archive(package, made.cert)
    assert not pinned.ok
    assert "备案清单.pdf：数字签名" in failed(pinned) and "--cert" in failed(pinned)


@pytest.mark.parametrize(
    "bad",
    [
        [("../x", b"x")],
        [("/etc/x", b"x")],
        [(a.REMARKS_FILE, b"again")],  # a duplicate name
    ],
    ids=["dot-dot", "absolute", "duplicate"],
)
def test_names_that_escape_or_repeat_are_refused(made: Made, bad: list) -> None:
    files = list(members(made.zip_path.read_bytes()).items()) + bad
    verdict = verify_archive(rezip(files), made.cert)
    assert not verdict.ok and verdict.checks[0].name == "备案包"
    assert bad[0][0] in verdict.checks[0].detail
    assert len(verdict.checks) == 1  # nothing in it was read further


def test_a_zip_bomb_is_refused(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    from printouts import verify_archive as module

    monkeypatch.setattr(module, "MAX_TOTAL", 4 * 1024 * 1024)
    files = {**members(made.zip_path.read_bytes()), "bomb.txt": bytes(8 * 1024 * 1024)}
    verdict = verify_archive(rezip(files), made.cert)
    assert not verdict.ok and "压缩炸弹" in verdict.checks[0].detail


def test_status_at_each_stage(made: Made) -> None:
    before, voting, fixed = made.status["before"], made.status["voting"], made.status["fixed"]
    steps = plan(made.meeting)
    vote = next(i for i, step in enumerate(steps) if step.kind == "vote") + 1
    assert "会议：备案测试会议（2026-12-28，测试会场）" in before
    assert f"议程：尚未开始（共{len(steps)}项）" in before and "投票：尚未开启" in before
    assert "综合评价：已录入0/3位述职人，尚未经党组研究确定" in before
    assert "备案期限：2027-01-04前" in before and "备案包：尚未生成" in before
    assert f"议程：进行中，第{vote}项/共{len(steps)}项：测评投票（3位述职人）" in voting
    assert "投票第1轮：投票中；已投6张" in voting
    assert "投票第1轮：已结束投票，未公布结果；已投6张" in fixed
    assert (
        "综合评价：已录入3/3位述职人，已经党组于2026-12-30研究确定，限期整改至2027-01-31" in fixed
    )
    assert f"备案包：已生成 {made.zip_path}" in fixed


def test_the_after_meeting_page_downloads_the_same_package(made: Made) -> None:
    status, _, body = made.downloads["before the fix"]
    assert status == 409 and "综合评价尚未经党组研究确定" in json.loads(body)["error"]["msg"]
    assert made.downloads["without the key"][0] == 401
    status, headers, package = made.downloads["fixed"]
    assert status == 200 and headers["content-type"] == "application/zip"
    name = urllib.parse.quote(a.archive_name(made.meeting))
    assert headers["content-disposition"] == f"attachment; filename*=UTF-8''{name}"
    verdict = verify_archive(package, made.cert)
    assert verdict.ok, verdict.report()
    downloaded, written = members(package), members(made.zip_path.read_bytes())
    assert downloaded.keys() == written.keys()
    for same in (a.MEETING_FILE, a.BALLOTS_FILE, a.REMARKS_FILE):
        assert downloaded[same] == written[same]
