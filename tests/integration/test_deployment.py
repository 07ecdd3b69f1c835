"""`pingyi serve --meetings DIR`: one deployment, many meetings, and the season's filing.

A real deployment process with an embedded Redis per meeting: two meetings vote at once,
each counted alone; a town's 备案 package, made by a meeting run on its own data directory,
is filed and counted, and every package that does not verify or is not the unit's is refused
with the reason; each unit sees the level above's decision on its secretary.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from printouts import archive as a
from printouts import signing
from tally.meeting_file import parse_meeting_text
from testkit.after_meeting import cast_ballots
from testkit.net import http_json, http_raw, wait_until
from testkit.season import Deployment, Season, hold_and_fix, town_meeting, town_package
from tests.helpers import ROOT

UPLOAD = "/api/admin/package?meeting={}"
LAST_SEASON = {
    "meeting": "county",
    "unit": "城关镇党委",
    "level": "镇党委",
    "name": "王建国",
    "org": "城关镇党委",
    "vote_grade": "一般",
    "final_grade": "一般",
    "bottom": True,
    "category": "",
}


@dataclass
class Filed:
    season: Season
    deployment: Deployment
    package: bytes  # 城关镇's, as `pingyi archive` wrote it
    other_town: bytes  # a meeting whose organizer is another unit
    no_organizer: bytes  # a meeting file that names no organizer


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filed]:
    tmp = tmp_path_factory.mktemp("season")
    package = town_package(tmp / "chengguan")
    other = town_package(tmp / "elsewhere", organizer="青溪镇党委")
    nobody = town_package(tmp / "nobody", organizer="")
    season = Season(tmp / "season").write()
    earlier = tmp / "data" / "seasons" / "2025" / "rollup.json"  # what last season's page kept
    earlier.parent.mkdir(parents=True)
    earlier.write_text(json.dumps([LAST_SEASON], ensure_ascii=False), "utf-8")
    deployment = Deployment(season.folder, tmp / "data")
    try:
        deployment.start()
        yield Filed(season, deployment, package, other, nobody)
    finally:
        deployment.stop()


def upload(filed: Filed, meeting: str, package: bytes, key: str | None = None) -> tuple[int, dict]:
    url = filed.deployment.base + UPLOAD.format(meeting)
    headers = {"Content-Type": "application/zip"}
    return http_raw(url, package, key or filed.deployment.admin_key, headers, timeout=120)


def season_view(filed: Filed) -> dict:
    code, body = http_json(
        f"{filed.deployment.base}/api/admin/season", key=filed.deployment.admin_key
    )
    assert code == 200, body
    return body


def members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return out.getvalue()


def changed(package: bytes, name: str) -> bytes:
    files = members(package)
    data = files[name]
    middle = len(data) // 2
    files[name] = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    return rezip(files)


def re_signed(package: bytes) -> bytes:
    """The whole package made again and signed with another self-made key: it verifies on its
    own, but it is not signed by the unit that filed before."""
    files = members(package)
    meeting = parse_meeting_text(files[a.MEETING_FILE].decode("utf-8"))
    key_pem, cert_pem = signing.make_identity(meeting)
    manifest = json.loads(files[a.MANIFEST_FILE])
    manifest["signer_sha256"] = signing.fingerprint(signing.load_certificate(cert_pem))
    files[a.MANIFEST_FILE] = a.manifest_bytes(manifest)
    files[a.LIST_FILE] = signing.sign_pdf(a.render_list(manifest), key_pem, cert_pem)
    return rezip(files)


# ---- the season: filing, refusals, roll-up, feedback ------------------------------------------


def test_the_season_needs_the_admin_key(filed: Filed) -> None:
    base = filed.deployment.base
    assert http_json(f"{base}/api/admin/season")[0] == 401
    assert http_json(f"{base}/api/admin/season", key="wrong")[0] == 401
    assert upload(filed, "chengguan", filed.package, key="wrong")[0] == 401


@pytest.mark.parametrize(
    "name", [a.BALLOTS_FILE, a.MEETING_FILE, a.TALLY_FILE, a.EVALUATION_FILE, a.LIST_FILE]
)
def test_a_package_with_any_file_changed_is_refused_naming_it(filed: Filed, name: str) -> None:
    code, body = upload(filed, "chengguan", changed(filed.package, name))
    assert code == 422, body
    assert body["error"]["code"] == "package_refused"
    assert "备案包未通过核验，未接收" in body["error"]["msg"]
    assert name in body["error"]["msg"]
    assert not (filed.deployment.data / "seasons/2026/packages/chengguan.json").exists()


@pytest.mark.parametrize(
    ("meeting", "package", "code", "says"),
    [
        ("qingxi", "package", 422, "是“城关镇党委”，不是“青溪镇党委”"),  # for 青溪镇
        ("chengguan", "other_town", 422, "是“青溪镇党委”，不是“城关镇党委”"),
        ("chengguan", "no_organizer", 422, "未写明（organizer）"),
        ("county", "package", 409, "在本系统中举行"),
        ("nowhere", "package", 422, "没有编号为“nowhere”的会议"),
        ("chengguan", "not a zip", 422, "不是zip文件"),
    ],
    ids=[
        "for-another-unit",
        "of-another-unit",
        "no-organizer",
        "a-hosted-meeting",
        "no-such-meeting",
        "no-zip",
    ],
)
def test_a_package_for_the_wrong_meeting_is_refused(
    filed: Filed, meeting: str, package: str, code: int, says: str
) -> None:
    data = getattr(filed, package) if package != "not a zip" else b"%PDF-1.7 not a zip"
    status, body = upload(filed, meeting, data)
    assert status == code, body
    assert says in body["error"]["msg"]


@pytest.mark.parametrize(
    ("path", "body", "code", "error"),
    [
        ("/api/admin/package", b"PK", 422, "bad_field"),  # no ?meeting=
        ("/api/admin/package?meeting=", b"PK", 422, "bad_field"),
        ("/api/admin/package?meeting=chengguan", b"", 422, "package_refused"),
        ("/api/admin/package?meeting=chengguan", b"PK" + b"\0" * (64 << 20), 413, "bad_frame"),
        ("/api/unit/nowhere", None, 404, "not_found"),
        ("/api/unit/..%2Fadmin", None, 404, "not_found"),
        ("/api/admin/season", b"{}", 405, "method_not_allowed"),
    ],
    ids=["no-meeting", "empty-meeting", "empty-body", "over-64-MiB", "no-unit", "dot-dot", "post"],
)
def test_every_odd_request_is_refused_with_its_reason(
    filed: Filed, path: str, body: bytes | None, code: int, error: str
) -> None:
    url = filed.deployment.base + path
    headers = {"Content-Type": "application/zip"} if body is not None else None
    status, answer = http_raw(url, body, filed.deployment.admin_key, headers, timeout=120)
    assert status == code, answer
    assert answer["error"]["code"] == error
    assert answer["error"]["msg"]


def test_a_verified_package_is_counted_and_a_re_signed_one_refused(filed: Filed) -> None:
    code, body = upload(filed, "chengguan", filed.package)
    assert code == 200, body
    assert "结论：全部一致" in body["report"]
    view = season_view(filed)
    town = next(m for m in view["meetings"] if m["meeting"] == "chengguan")
    assert town["stage"] == "filed" and not town["late"]
    assert view["rollup"]["levels"]["村党支部"]["reporters"] == 2
    assert body["replaced"] is False
    # the same package again replaces it, the first kept; one signed by someone else is refused
    code, body = upload(filed, "chengguan", filed.package)
    assert code == 200 and body["replaced"] is True, body
    kept = filed.deployment.data / "seasons/2026/packages/replaced"
    assert [p.read_bytes() for p in kept.glob("chengguan-*.zip")] == [filed.package]
    code, body = upload(filed, "chengguan", re_signed(filed.package))
    assert code == 422, body
    assert "签名证书" in body["error"]["msg"] and "不是城关镇党委的" in body["error"]["msg"]


def test_the_hosted_meeting_the_roll_up_and_the_feedback(filed: Filed) -> None:
    county = filed.deployment.meeting("county", filed.season.folder / "county.toml")
    before = season_view(filed)
    assert next(m for m in before["meetings"] if m["meeting"] == "county")["stage"] == "planned"
    hold_and_fix(county, filed.season.county)
    view = season_view(filed)
    stages = {m["meeting"]: (m["stage"], m["late"]) for m in view["meetings"]}
    assert stages["county"] == ("filed", False)
    assert stages["qingxi"] == ("planned", True)  # planned three days ago, nothing since
    assert "逾期" in next(m for m in view["meetings"] if m["meeting"] == "qingxi")["note"]
    towns = view["rollup"]["levels"]["镇党委"]
    assert towns["reporters"] == 2
    assert sum(towns["vote"].values()) == sum(towns["final"].values()) == 2
    seasons = view["history"]["王建国（城关镇党委）"]
    assert [(s["season"], s["vote_grade"]) for s in seasons][0] == ("2025", "一般")
    assert [s["season"] for s in seasons] == ["2025", "2026"]
    assert "李秀英（青溪镇党委）" in view["history"]  # this season only
    # the county's decision on 城关镇's secretary, on 城关镇's own page
    units = {u["id"]: u for u in view["units"]}
    url = units["chengguan"]["feedback_url"]
    key = url.split("key=")[1]
    base = filed.deployment.base
    assert http_json(f"{base}/api/unit/chengguan", key="wrong")[0] == 401
    assert http_json(f"{base}/api/unit/qingxi", key=key)[0] == 401  # one unit's key only
    code, body = http_json(f"{base}/api/unit/chengguan", key=key)
    assert code == 200, body
    assert [(f["name"], f["org"]) for f in body["feedback"]] == [("王建国", "城关镇党委")]
    assert body["feedback"][0]["opinion"]["成绩"]
    assert body["feedback"][0]["final_grade"] in ("好", "较好", "一般", "差")


def test_the_pages_are_served_under_each_prefix(filed: Filed) -> None:
    base = filed.deployment.base
    for path in ("/m/county/chair", "/m/county/after", "/admin", "/unit/chengguan", "/"):
        code, _, _ = _get(base + path)
        assert code == 200, path
    assert _get(base + "/static/common.js")[0] == 200
    assert _get(base + "/m/county/static/common.js")[0] == 200
    assert _get(base + "/m/nowhere/chair")[0] == 404
    code, body = http_json(f"{base}/m/county/api/meeting")
    assert code == 200 and body["title"] == filed.season.county.title
    assert http_json(f"{base}/healthz")[1] == {"ok": True, "meetings": {"county": True}}


def _get(url: str) -> tuple[int, dict, bytes]:
    from testkit.net import http_file

    return http_file(url)


# ---- many meetings at once -------------------------------------------------------------------


def test_two_meetings_vote_at_once_each_counted_alone(tmp_path: Path) -> None:
    folder = tmp_path / "meetings"
    folder.mkdir()
    texts = {
        "east": town_meeting().replace("城关镇村党支部书记述职评议会", "东片述职评议会"),
        "west": town_meeting().replace("城关镇村党支部书记述职评议会", "西片述职评议会"),
    }
    for meeting_id, text in texts.items():
        (folder / f"{meeting_id}.toml").write_text(text, encoding="utf-8")
    deployment = Deployment(folder, tmp_path / "data").start()
    try:
        hosted = {i: deployment.meeting(i, folder / f"{i}.toml") for i in texts}
        meetings = {i: parse_meeting_text(t) for i, t in texts.items()}
        rounds = {i: hosted[i].vote_step() for i in texts}
        voters = {"east": 6, "west": 4}
        threads = [
            threading.Thread(
                target=cast_ballots,
                args=(hosted[i], meetings[i], rounds[i], ["r01", "r02"], voters[i]),
            )
            for i in texts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for meeting_id, server in hosted.items():
            assert server.chair("close", force=True)[0] == 200

            def counted(server=server) -> dict | None:
                view = http_json(f"{server.base}/api/view?role=chair", key=server.chair_key)
                return view[1]["view"].get("result")

            wait_until(counted, timeout=30)
            result = counted()
            assert result is not None
            assert result["quorum"]["cast"] == voters[meeting_id], result["quorum"]
        # a card of one meeting is nobody in the other
        card = hosted["east"].cards(meetings["east"])[0]
        marks = {"r01": "好", "r02": "好"}
        body = {"token": card.token, "round": rounds["west"], "marks": marks, "cid": "x" * 16}
        code, reply = http_json(f"{hosted['west'].base}/api/cast", body)
        assert code == 403 and reply["error"]["code"] == "bad_token", reply
    finally:
        deployment.stop()


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"East.toml": "east"}, "只能含小写字母"),
        ({"a.toml": "same", "b.toml": "same"}, "两场会议不能同名同日"),
        ({"a.toml": "east", "organisation.toml": "[season]\nid = 1\n"}, "season.id"),
        ({"a.toml": "east", "organisation.toml": "units"}, "organisation.toml:1"),
        ({}, "没有会议文件"),
    ],
    ids=["upper-case-name", "same-title-and-date", "bad-organisation", "toml-error", "empty"],
)
def test_a_bad_meetings_directory_is_refused_before_serving(
    tmp_path: Path, files: dict[str, str], says: str
) -> None:
    for name, content in files.items():
        text = content
        if content in ("east", "same"):
            text = town_meeting().replace("城关镇村党支部书记述职评议会", f"{content}会")
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--meetings", str(tmp_path)]
        + ["--data", str(tmp_path / "data"), "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert says in run.stderr, run.stderr
