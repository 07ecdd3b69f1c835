"""The tally benchmark's synthetic meetings stay countable (a bench no test runs breaks
unseen: the seat check once broke its 50,000-ballot case)."""

from __future__ import annotations

from bench.tally_bench import section, synthetic, synthetic_items
from tally.appraisal import appraise
from tally.engine import tally


def test_the_grade_meeting_is_counted() -> None:
    meeting, ballots = synthetic(reporters=5, ballots=90)
    result = tally(meeting, ballots)
    assert [r.reporter.id for r in result.reporters] == [r.id for r in meeting.reporters]
    assert all(r.cast == 90 for r in result.reporters)


def test_the_item_meeting_is_appraised_with_every_answer() -> None:
    meeting, ballots = synthetic_items(reporters=3, ballots=30)
    assert all(len(answers) == 28 for b in ballots for answers in b.items.values())
    result = appraise(meeting, ballots)
    assert [r["id"] for r in result["reporters"]] == ["r000", "r001", "r002"]
    assert all(r["item_score"] is not None for r in result["reporters"])


def test_the_recorded_section_names_both_tables() -> None:
    text = section([(30, 5000, 25, 0.015)], [(30, 5000, 3, 1.0)])
    assert "| 30 | 5,000 | 150,000 | 25 | 15.0 ms |" in text
    assert "| 30 | 5,000 | 28 | 2,800,000 | 3 | 1,000.0 ms |" in text
