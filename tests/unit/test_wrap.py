"""Line breaking on the printouts: CJK anywhere, Latin at spaces, never inside a date or a
number (a 限期整改 date split over two lines, "2027-02-2 / 8前", reads as another date)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from printouts.layout import fonts, wrap

RUN = re.compile(r"[0-9A-Za-z\-./:%]+")


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["整改", "完成", "于", "前", "，", "得分"]),
            st.dates().map(lambda day: day.isoformat()),
            st.decimals(min_value=0, max_value=100, places=2).map(str),
        ),
        max_size=30,
    ),
    st.integers(min_value=40, max_value=200),
)
@settings(max_examples=200, deadline=None)
def test_no_line_breaks_inside_a_date_or_number(parts: list[str], width: int) -> None:
    text = "".join(parts)
    lines = wrap(text, 10, width)
    assert "".join(lines) == text  # nothing lost, nothing added
    font = fonts()
    for line in lines:
        assert font.width(line, 10) <= width or len(line) == 1 or RUN.fullmatch(line)
    for before, after in zip(lines, lines[1:], strict=False):
        split = before and after and RUN.fullmatch(before[-1]) and RUN.fullmatch(after[0])
        if split:  # allowed only where the run alone is wider than a line
            run = RUN.findall(before)[-1] + RUN.findall(after)[0]
            assert font.width(run, 10) > width, (before, after)


def test_a_date_moves_whole_to_the_next_line() -> None:
    text = "请于2027-02-28前完成整改"
    width = fonts().width("请于2027-02-2", 10)
    lines = wrap(text, 10, width)
    assert lines[0] == "请于" and lines[1].startswith("2027-02-28")
