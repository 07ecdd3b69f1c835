"""Renders the documentation's printout images from the demo meeting (examples/).

python -m cli.doc_images docs/img

One page of each printout (join cards, paper ballot, tally sheet, feedback sheet) as a
~100 dpi PNG (`printout-<name>.png`), made with poppler's `pdftoppm`; and every page of two
tally sheets, for docs/printouts.md: the demo meeting's (two pages,
`printout-tally-demo-<page>.png`) and a small one-group meeting's from `printouts.samples`
(one page, `printout-tally-one-page-1.png`).

For docs/after-the-meeting.md and docs/printouts.md, the demo meeting's 综合评价结果表
with the fixed record of `printouts.samples.sample_evaluation` (the one the feedback sheet
carries): its first page, the table (`printout-evaluation.png`), and its last, the 结果运用
with the signature lines and the digests (`printout-evaluation-end.png`). For the item
checklists on paper (docs/printouts.md), the first page of the 三评 example's paper ballot
(`printout-ballot-items.png`). Standard output lists the first set only (what
tests/integration/test_print_readme.py pins); the others are named on standard error.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

from cli.files import read_bytes, read_meeting
from meeting.join_cards import issue_cards
from printouts import ballot_form, card_sheet, evaluation_sheet, feedback, tally_sheet
from printouts.inputs import digests, parse_ballots, recompute, sha256
from printouts.item_ballot_form import render_item_ballots
from printouts.samples import sample_ballots, sample_evaluation, sample_meeting
from printouts.sheet_record import BEIJING
from tally.model import Meeting

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# No real certificate signs a documentation image: a fixed stand-in, so that a re-render
# changes nothing.
DOC_SIGNER_SHA256 = sha256(b"pingyi documentation: no certificate")


def _demo() -> tuple[Meeting, bytes, bytes, dict]:
    """The demo meeting, its bytes, its ballots' bytes and its result."""
    meeting, meeting_bytes = read_meeting(EXAMPLES / "demo-meeting.toml")
    ballots_path = EXAMPLES / "demo-ballots.csv"
    ballots_bytes = read_bytes(ballots_path)
    result = recompute(meeting, parse_ballots(ballots_bytes, meeting, str(ballots_path)))
    return meeting, meeting_bytes, ballots_bytes, result


def _demo_evaluation(meeting: Meeting, result: dict) -> dict:
    """`sample_evaluation` stamped with plausible times (Beijing): the entries the day before
    the 党组研究, one a minute from 09:00, the fix at 16:00 on its day. The sample's own stamps
    are seconds after 1970, which the sheet would print as such."""
    evaluation = sample_evaluation(meeting, result)
    studied = datetime.date.fromisoformat(evaluation["fixed"]["studied_on"])
    day_before = datetime.datetime.combine(studied, datetime.time(9), BEIJING).timestamp() - 86400
    history = [
        {**entry, "at": day_before + 60 * i} for i, entry in enumerate(evaluation["history"])
    ]
    fixed_at = datetime.datetime.combine(studied, datetime.time(16), BEIJING).timestamp()
    return {
        **evaluation,
        "history": history,
        "entries": {entry["reporter"]: entry for entry in history},
        "fixed": {**evaluation["fixed"], "at": fixed_at},
    }


def render_docs_images(out_dir: Path) -> list[Path]:
    """One page of each printout as a ~100 dpi PNG (for README and docs)."""
    meeting, meeting_bytes, ballots_bytes, result = _demo()
    first = meeting.reporters[0].id
    remarks = [
        {
            "kind": "comment",
            "reporter": first,
            "by": "刘洋（县委书记）",
            "text": "抓基层党建责任落实到位，村级组织阵地建设成效明显；"
            "下一步要在发展壮大村级集体经济上再下功夫。",
        },
        {
            "kind": "comment",
            "reporter": first,
            "by": "陈静（县委副书记）",
            "text": "党员教育管理还有薄弱环节，流动党员管理要建立台账、落实到人。",
        },
    ]
    pdfs = {
        "cards": card_sheet.render_cards(
            meeting, issue_cards(b"docs", meeting)[:8], "https://pingyi.example.org"
        ),
        "ballot": ballot_form.render_ballots(meeting),
        "tally": tally_sheet.render_tally(
            meeting, result, digests(meeting_bytes, ballots_bytes), signed_by="自签名证书"
        ),
        "feedback": feedback.render_feedback(
            meeting, result, remarks, only=first, evaluation=_demo_evaluation(meeting, result)
        ),
    }
    small = sample_meeting(6, grouped=False)
    small_ballots = sample_ballots(small)
    every_page = {
        "tally-demo": pdfs["tally"],
        "tally-one-page": tally_sheet.render_tally(
            small,
            recompute(small, small_ballots),
            {"meeting_sha256": "0" * 64, "ballots_sha256": "1" * 64},
            signed_by="自签名证书",
            effective=tally_sheet.effective_ballots(small_ballots),
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pdf in pdfs.items():
            source = Path(tmp) / f"{name}.pdf"
            source.write_bytes(pdf)
            target = out_dir / f"printout-{name}"
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "100",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(source),
                    str(target),
                ],
                check=True,
            )
            written.append(target.with_suffix(".png"))
        for name, pdf in every_page.items():
            source = Path(tmp) / f"{name}.pdf"
            source.write_bytes(pdf)
            target = out_dir / f"printout-{name}"
            subprocess.run(["pdftoppm", "-png", "-r", "100", str(source), str(target)], check=True)
            written += sorted(out_dir.glob(f"printout-{name}-*.png"))
    return written


def render_after_images(out_dir: Path) -> list[Path]:
    """The demo meeting's 综合评价结果表: its first page and its last (the 结果运用, the
    signature lines, the digests and the fingerprint)."""
    meeting, meeting_bytes, ballots_bytes, result = _demo()
    pdf = evaluation_sheet.render_evaluation(
        meeting,
        result,
        _demo_evaluation(meeting, result),
        digests(meeting_bytes, ballots_bytes),
        signed_by="自签名证书",
        signer_sha256=DOC_SIGNER_SHA256,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "evaluation.pdf"
        source.write_bytes(pdf)
        pages = _page_count(source)
        for name, page in (("evaluation", 1), ("evaluation-end", pages)):
            target = out_dir / f"printout-{name}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "100", "-f", str(page), "-l", str(page)]
                + ["-singlefile", str(source), str(target)],
                check=True,
            )
            written.append(target.with_suffix(".png"))
    return written


def render_item_ballot_image(out_dir: Path) -> Path:
    """The first page of the 三评 example's paper ballot (逐项测评: the grid of tick boxes)."""
    meeting, _ = read_meeting(EXAMPLES / "sanping-meeting.toml")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "printout-ballot-items"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ballot-items.pdf"
        source.write_bytes(render_item_ballots(meeting))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile"]
            + [str(source), str(target)],
            check=True,
        )
    return target.with_suffix(".png")


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    return next(
        int(line.split()[1]) for line in info.stdout.splitlines() if line.startswith("Pages:")
    )


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
    for path in render_docs_images(target):
        print(path)
    for path in render_after_images(target):
        print(path, file=sys.stderr)
    print(render_item_ballot_image(target), file=sys.stderr)
