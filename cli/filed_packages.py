"""Reading a 备案 package filed with a deployment (`server.season_app`): verified whole, as
`pingyi verify 备案.zip` does, then what the roll-up needs taken from its signed sheets."""

from __future__ import annotations

import io
import json
import zipfile

from printouts import archive
from printouts.evaluation_sheet import ATTACHMENT as EVALUATION_RECORD
from printouts.sheet_record import ATTACHMENT as TALLY_RECORD
from printouts.sheet_record import read_attached
from printouts.verify_archive import verify_archive
from server.season_app import FiledPackage
from tally.errors import InputError

REFUSED = "备案包未通过核验，未接收："


def read_package(package: bytes) -> FiledPackage:
    """The package's meeting file, result and 综合评价 record; InputError with the verdict's
    failed checks when it does not verify."""
    verdict = verify_archive(package, name="备案包")
    if not verdict.ok:
        failed = [f"{c.name}：{c.detail}" for c in verdict.checks if not c.ok]
        raise InputError("package", REFUSED + "；".join(failed or [verdict.report()]))
    with zipfile.ZipFile(io.BytesIO(package)) as zipped:  # verified: names and sizes are sound
        files = {name: zipped.read(name) for name in zipped.namelist()}
    tally = _record(files[archive.TALLY_FILE], TALLY_RECORD)
    evaluation = None
    if archive.EVALUATION_FILE in files:
        evaluation = _record(files[archive.EVALUATION_FILE], EVALUATION_RECORD)["evaluation"]
    manifest = json.loads(files[archive.MANIFEST_FILE])
    return FiledPackage(
        meeting_text=files[archive.MEETING_FILE].decode("utf-8").removeprefix("\ufeff"),
        result=tally["result"],
        evaluation=evaluation,
        report=verdict.report(),
        signer_sha256=str(manifest.get("signer_sha256", "")),
    )


def _record(pdf: bytes, name: str) -> dict:
    from pyhanko.pdf_utils.reader import PdfFileReader

    record = read_attached(PdfFileReader(io.BytesIO(pdf), strict=False), name)
    assert record is not None  # the verdict read it already
    return record
