"""The 备案 package's pure parts: the manifest, the names, the 点评 text, the 整改方案 template,
and a package made offline from the demo meeting checked by `verify_archive`."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import pytest
from docx import Document

from printouts import archive as a
from printouts import signing
from printouts.evaluation_sheet import render_evaluation
from printouts.inputs import parse_ballots, recompute, sha256
from printouts.rectification_plan import plan_name, render_plan
from printouts.tally_sheet import effective_ballots, render_tally
from printouts.verify_archive import _bad_name, verify_archive
from tally.meeting_file import parse_meeting_text
from tests.helpers import ROOT

MEETING_BYTES = (ROOT / "examples" / "demo-meeting.toml").read_bytes()
BALLOTS_BYTES = (ROOT / "examples" / "demo-ballots.csv").read_bytes()
MEETING = parse_meeting_text(MEETING_BYTES.decode("utf-8"))
MADE_AT = 1798000000.0  # 2026-12-23 Beijing time


def test_manifest_lists_each_file_with_its_digest_and_size() -> None:
    files = {"a.txt": b"abc", "整改方案/01-王.docx": b""}
    manifest = a.make_manifest(
        files, MEETING, filing_deadline="2027-01-04", made_at=MADE_AT, signer_sha256="ff"
    )
    assert manifest["files"] == [
        {"name": "a.txt", "sha256": sha256(b"abc"), "size": 3},
        {"name": "整改方案/01-王.docx", "sha256": sha256(b""), "size": 0},
    ]
    assert manifest["meeting"] == {
        "title": MEETING.title,
        "date": "2026-12-28",
        "organizer": MEETING.organizer,
    }
    assert manifest["filing_deadline"] == "2027-01-04" and manifest["made_at"].endswith("+08:00")
    assert json.loads(a.manifest_bytes(manifest)) == manifest
    assert "会议" not in a.manifest_bytes(manifest).decode(
        "ascii", "replace"
    )  # UTF-8, not \u escapes


def test_archive_name_is_safe_for_a_file_system() -> None:
    organised = replace(MEETING, organizer="中共青川县委组织部")
    assert a.archive_name(organised) == "备案-2026-12-28-中共青川县委组织部.zip"
    assert a.archive_name(MEETING) == f"备案-2026-12-28-{MEETING.title}.zip"  # no organizer
    untitled = replace(MEETING, organizer="", title='县委/组织部:"述职"')
    assert a.archive_name(untitled) == "备案-2026-12-28-县委_组织部__述职_.zip"
    assert a.safe_name("..") == "_" and a.safe_name(" a\x00b ") == "a_b"


def test_remarks_name_who_gave_each() -> None:
    first, second = MEETING.reporters[:2]
    remarks = [
        {"kind": "comment", "reporter": first.id, "by": "张书记", "text": "成效明显。"},
        {"kind": "together", "reporter": "", "by": "张书记", "text": "总体较好。"},
        {"kind": "speech", "reporter": "", "by": "县委书记", "text": "抓好整改。"},
    ]
    text = a.remarks_text(
        MEETING,
        remarks + [{"kind": "comment", "reporter": second.id, "by": "", "text": "有短板。"}],
    )
    assert f"【点评】述职人：{first.name}（{first.org}）\n点评人：张书记\n成效明显。" in text
    assert "【集中点评】\n点评人：张书记\n总体较好。" in text
    assert "【讲话】\n讲话人：县委书记\n抓好整改。" in text
    # A 点评 from before named commenters: its giver is not on record.
    assert "点评人：（记录未载明）\n有短板。" in text
    assert "没有记录点评或讲话" in a.remarks_text(MEETING, [])


def test_zip_names_that_leave_the_folder_are_named() -> None:
    assert _bad_name("选票.csv") == "" and _bad_name("整改方案/01-王.docx") == ""
    assert "“..”" in _bad_name("../x") and "“..”" in _bad_name("a/../../x")
    assert "绝对路径" in _bad_name("/etc/passwd") and "绝对路径" in _bad_name("C:/x")
    assert "不允许" in _bad_name("a\\b")


def test_rectification_plan_template() -> None:
    reporter = MEETING.reporters[2]
    entry = {
        "grade": "一般",
        "vote_grade": "较好",
        "opinion": {"成绩": "有成绩", "问题": "问题一\n问题二", "要求": "限期整改"},
    }
    fixed = {"studied_on": "2026-12-30", "rectify_by": "2027-01-31"}
    document = Document(io.BytesIO(render_plan(MEETING, reporter, entry, fixed)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "综合评价等次：一般（经党组于2026-12-30研究确定）" in text
    assert "限期整改：须于2027-01-31前完成整改" in text
    assert "问题一" in text and "限期整改" in text and "有成绩" not in text
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["问题", "整改措施", "责任人", "完成时限"]
    assert [r.cells[0].text for r in table.rows[1:3]] == ["问题一", "问题二"]
    assert all(not any(c.text for c in r.cells[1:]) for r in table.rows[1:])
    assert len(table.rows) == 1 + 2 + 3  # the header, the problems, three blank rows
    assert plan_name(3, reporter) == f"整改方案/03-{reporter.name}.docx"


def evaluation(result: dict) -> dict:
    """A fixed 综合评价 as the record holds it: each reporter given the 测评等次."""
    entries = {
        row["id"]: {
            "reporter": row["id"],
            "vote_grade": row["final_grade"],
            "sources": {},
            "grade": row["final_grade"],
            "opinion": {"成绩": "成效明显", "问题": "有短板", "要求": "限期整改"},
            "reason": "",
            "entered_by": "李敏",
            "at": MADE_AT + number,
        }
        for number, row in enumerate(result["reporters"])
    }
    fixed = {"studied_on": "2026-12-30", "entered_by": "李敏", "at": MADE_AT + 100}
    return {
        "fixed": {**fixed, "rectify_by": "2027-01-31"},
        "entries": entries,
        "history": list(entries.values()),
    }


@pytest.fixture(scope="module")
def package() -> tuple[bytes, bytes]:
    """A package made offline from the demo meeting, signed with a new key; and its cert."""
    key_pem, cert_pem = signing.make_identity(MEETING)
    cert = signing.load_certificate(cert_pem)
    ballots = parse_ballots(BALLOTS_BYTES, MEETING, "demo-ballots.csv")
    result = recompute(MEETING, ballots)
    digests = {"meeting_sha256": sha256(MEETING_BYTES), "ballots_sha256": sha256(BALLOTS_BYTES)}
    tally = render_tally(
        MEETING,
        result,
        digests,
        signed_by=signing.signer_name(cert),
        effective=effective_ballots(ballots),
        signer_sha256=signing.fingerprint(cert),
    )
    decided = render_evaluation(
        MEETING,
        result,
        evaluation(result),
        digests,
        signed_by=signing.signer_name(cert),
        signer_sha256=signing.fingerprint(cert),
    )
    files = {
        a.MEETING_FILE: MEETING_BYTES,
        a.BALLOTS_FILE: BALLOTS_BYTES,
        a.TALLY_FILE: signing.sign_pdf(tally, key_pem, cert_pem),
        a.EVALUATION_FILE: signing.sign_pdf(decided, key_pem, cert_pem),
        a.REMARKS_FILE: a.remarks_text(MEETING, []).encode(),
    }
    made = a.build_archive(
        files,
        MEETING,
        filing_deadline="2027-01-04",
        made_at=MADE_AT,
        signer_sha256=signing.fingerprint(cert),
        sign=lambda pdf: signing.sign_pdf(pdf, key_pem, cert_pem),
    )
    return made, cert_pem


def test_an_offline_package_verifies(package: tuple[bytes, bytes]) -> None:
    made, cert_pem = package
    names = zipfile.ZipFile(io.BytesIO(made)).namelist()
    assert names == [
        a.MEETING_FILE,
        a.BALLOTS_FILE,
        a.TALLY_FILE,
        a.EVALUATION_FILE,
        a.REMARKS_FILE,
        a.MANIFEST_FILE,
        a.LIST_FILE,
    ]
    verdict = verify_archive(made, cert_pem)
    assert verdict.ok, verdict.report()
    checks = [c.name for c in verdict.checks]
    assert checks[:3] == ["备案包", "备案清单.pdf：数字签名", "manifest.json"]
    assert "测评结果汇总表.pdf：重新计票" in checks
    assert "综合评价结果表.pdf：结果运用" in checks
    assert "备案包完整" in verdict.report()
    unpinned = verify_archive(made)
    assert unpinned.ok and "签名者未核实" in unpinned.note


def test_reserved_names_and_not_a_zip(package: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError):
        a.build_archive(
            {a.MANIFEST_FILE: b"{}"},
            MEETING,
            filing_deadline="2027-01-04",
            made_at=MADE_AT,
            signer_sha256="",
            sign=lambda pdf: pdf,
        )
    from tally.errors import InputError

    with pytest.raises(InputError, match="不是zip文件"):
        verify_archive(b"%PDF-1.7")
    broken = verify_archive(package[0][:2000])
    assert not broken.ok and broken.checks[0].name == "备案包"


def test_a_package_without_the_evaluation_sheet_fails(package: tuple[bytes, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(package[0])) as made:
        files = {name: made.read(name) for name in made.namelist()}
    for name in (a.EVALUATION_FILE, a.MANIFEST_FILE, a.LIST_FILE):
        del files[name]
    key_pem, cert_pem = signing.make_identity(MEETING)
    fingerprint = signing.fingerprint(signing.load_certificate(cert_pem))
    again = a.build_archive(
        files,
        MEETING,
        filing_deadline="2027-01-04",
        made_at=MADE_AT,
        signer_sha256=fingerprint,
        sign=lambda pdf: signing.sign_pdf(pdf, key_pem, cert_pem),
    )
    verdict = verify_archive(again)  # the sheets inside are signed with another key
    assert not verdict.ok
    assert [c.name for c in verdict.checks if not c.ok] == [a.EVALUATION_FILE]
