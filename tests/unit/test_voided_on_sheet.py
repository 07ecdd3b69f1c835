"""A voided round (重新测评) as the tally sheet prints and attaches it: its ballots in all and
per voter group, the reason, and the time in Beijing time whatever the machine's zone."""

from __future__ import annotations

import subprocess

import pytest

from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
from printouts.sheet_record import beijing_time, read_attached, voided_entry
from printouts.tally_sheet import render_tally
from tests.unit.test_printouts import DIGESTS


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        (0.0, "1970-01-01 08:00"),
        (1_794_999_960.0, "2026-11-18 19:06"),
        (1_795_000_019.9, "2026-11-18 19:06"),  # minutes, never rounded up
    ],
)
def test_the_time_is_beijing_time(at: float, shown: str, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert beijing_time(at) == shown


def test_an_entry_counts_its_ballots_in_all_and_per_group() -> None:
    entry = voided_entry(7, ["r01"], {"depts": 2, "leaders": 1, "grassroots": 0}, "故障", 0.0)
    assert entry == {
        "round": 7,
        "reporters": ["r01"],
        "cast": 3,
        "groups": {"depts": 2, "leaders": 1},
        "reason": "故障",
        "at": "1970-01-01 08:00",
    }


def test_the_sheet_prints_and_attaches_every_void() -> None:
    meeting = sample_meeting()
    result = recompute(meeting, sample_ballots(meeting))
    names = {g.id: g.name for g in meeting.groups}
    leaders, depts = (g.id for g in meeting.groups[:2])
    voided = [
        voided_entry(10, ["r01", "r02"], {leaders: 1, depts: 2}, "设备故障", 0.0),
        voided_entry(11, ["r01", "r02"], {leaders: 4}, "计票人员更换", 60.0),
    ]
    pdf = render_tally(meeting, result, DIGESTS, voided=voided)
    text = "".join(
        subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    who = "、".join(r.name for r in meeting.reporters[:2])
    assert f"重新测评：对{who}的一次测评已于1970-01-0108:00由主持人作废" in text, text
    assert f"作废时已收回选票3张（{names[leaders]}1张、{names[depts]}2张）；原因：设备故障" in text
    assert f"作废时已收回选票4张（{names[leaders]}4张）；原因：计票人员更换" in text
    assert read_attached_record(pdf)["voided"] == voided


def read_attached_record(pdf: bytes) -> dict:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    return read_attached(PdfFileReader(io.BytesIO(pdf)))
