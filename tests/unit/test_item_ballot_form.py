"""The paper ballot of a meeting with forms (`printouts.item_ballot_form`), read back with
poppler: every reporter, item and answer on it, nothing cut, the CSV columns a clerk types
into, the pages as planned; and `pingyi print ballots` on a grade-only meeting unchanged."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cli import main
from cli.files import read_meeting
from printouts import item_ballot_form
from printouts.ballot_form import render_ballots
from printouts.item_ballot_form import papers, render_item_ballots
from printouts.layout import mm
from tally.item_csv import ITEM_SEPARATOR, grade_columns, item_columns, parse_item_ballots_csv
from tally.meeting_file import parse_meeting_text
from tally.model import Meeting

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INSTRUCTIONS = "在选定的方框内打“√”，每项只选一个；不选视为弃权"
# Item texts of every length: one line, two lines, and one that needs three in a narrow column.
TEXTS = (
    "能不能履行党建第一责任人职责",
    "能不能按时召开支部委员会、党员大会，落实“三会一课”，做到有记录、有检查、有整改",
    "能不能带头讲党课，宣传党的路线方针政策，组织党员学习2026年度重点任务并逐项落实到人、"
    "落实到事、落实到村民小组，确保每一项工作都有人抓、有人管、有人负责",
    "能不能团结村“两委”班子",
)


def pdf_text(pdf: bytes, tmp_path: Path, mode: str = "-layout") -> str:
    path = tmp_path / "ballots.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", mode, str(path), "-"], check=True, capture_output=True)
    return done.stdout.decode()


def squash(text: str) -> str:
    """Text without any whitespace or line break: a wrapped item reads as one string."""
    return "".join(text.split())


def footers(text: str) -> list[tuple[int, int]]:
    return [(int(n), int(m)) for n, m in re.findall(r"第(\d+)页 共(\d+)页", text)]


def synthetic(
    kind: str,
    options: tuple[str, ...],
    extra: str = "",
    items: int = 28,
    texts: tuple[str, ...] = TEXTS,
) -> Meeting:
    """Ten reporters, two groups on one form, `items` items cycling through `texts`."""
    reporters = "".join(
        f'[[reporters]]\nid = "r{n:02d}"\nname = "述职人{n:02d}"\norg = "第{n}村党支部"\n'
        + ('mode = "written"\n' if n == 10 else "")
        for n in range(1, 11)
    )
    groups = "".join(
        f'[[groups]]\nid = "{gid}"\nname = "{name}"\nseats = 5\nweight = 0.5\nform = "f"\n'
        for gid, name in (("town", "镇机关干部"), ("rural", "农村党员群众代表"))
    )
    listed = ", ".join(
        f'{{ id = "a{n:02d}", text = "{texts[(n - 1) % len(texts)]}（{n}）" }}'
        for n in range(1, items + 1)
    )
    quoted = ", ".join(f'"{o}"' for o in options)
    form = (
        f'[[forms]]\nid = "f"\nname = "测试测评表"\nkind = "{kind}"\noptions = [{quoted}]\n'
        f"items = [{listed}]\n{extra}"
    )
    text = f'[meeting]\ntitle = "测试述职评议会"\ndate = "2026-12-29"\n{reporters}{groups}{form}'
    return parse_meeting_text(text, "synthetic.toml")


def item_texts(meeting: Meeting) -> dict[str, list[str]]:
    """{reporter id: the texts of the items answered on them}."""
    out: dict[str, list[str]] = {}
    for reporter in meeting.reporters:
        for group in meeting.groups:
            form = meeting.appraisal.form_for(reporter.id, group.id)
            if form.checklist is not None:
                out[reporter.id] = [item.text for item in form.checklist.items]
    return out


# kind, options, extra keys, the pages. A block of 28 of these items (a quarter of them on three
# lines, a quarter on two) is taller than a page, so each continues on the next page and the
# next block starts under it; the more answer columns, the narrower the text and the more lines.
FORMS = [
    pytest.param("items", ("能", "不能"), "", 11, id="yes-no"),
    pytest.param(
        "items",
        ("0", "1", "2", "3", "4", "5"),
        'scoring = "points"\npoints = [0, 1, 2, 3, 4, 5]\n',
        13,
        id="points-0-5",
    ),
    pytest.param("items", ("好", "较好", "一般", "差"), "", 13, id="grade-scale"),
    pytest.param(
        "both", ("是", "不是"), "grade_weight = 0.3\nitems_weight = 0.7\n", 12, id="both-parts"
    ),
]


@pytest.mark.parametrize(("kind", "options", "extra", "pages"), FORMS)
def test_28_items_for_10_reporters_read_back_whole(
    kind: str, options: tuple[str, ...], extra: str, pages: int, tmp_path: Path
) -> None:
    meeting = synthetic(kind, options, extra)
    pdf = render_item_ballots(meeting)
    text = pdf_text(pdf, tmp_path)
    # both groups fill in the same form: one paper, a tick box each
    assert [[g.id for g in p.groups] for p in papers(meeting)] == [["town", "rural"]]
    assert "镇机关干部述职评议表" not in text and "测试述职评议会" in text
    assert "投票组别" in text and "镇机关干部" in text and "农村党员群众代表" in text
    assert INSTRUCTIONS in squash(text) and "投票组别勾选一项" in text
    assert "测试测评表（28项）" in text
    for reporter in meeting.reporters:
        assert re.search(rf"\d+\. {reporter.name}\s+{reporter.org}\s+(现场|书面)", text)
    assert "10. 述职人10" in text and "书面" in text
    header = re.compile(r"序号\s+测评项目\s+" + r"\s+".join(options) + r"\s+录入列")
    assert len(header.findall(text)) >= 10  # each block's header, and again after a page break
    if kind == "both":
        assert text.count("测评等次：") == 10 and all(g in text for g in meeting.rules.grades)
    # the column a clerk types each answer into, every one, once
    printed = re.findall(r"r\d\d\.a\d\d", text)
    assert printed == [f"{r}{ITEM_SEPARATOR}{i}" for r, i in item_columns(meeting)]
    # no item text cut: in drawing order (-raw) each wrapped text reads back whole
    raw = squash(pdf_text(pdf, tmp_path, "-raw"))
    for texts in item_texts(meeting).values():
        for item in texts:
            assert squash(item) in raw
    assert raw.count(squash(TEXTS[2])) == 10 * 7  # the three-line text: 7 per block
    numbers = footers(text)
    assert numbers == [(n, pages) for n in range(1, pages + 1)]
    assert _pdfinfo_pages(tmp_path) == pages


def _pdfinfo_pages(tmp_path: Path) -> int:
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "ballots.pdf")], check=True, capture_output=True, text=True
    ).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def test_a_block_that_fits_a_page_is_never_split(tmp_path: Path) -> None:
    """28 one-line items: each reporter's block on a page of its own, none continued."""
    meeting = synthetic("items", ("能", "不能"), texts=(TEXTS[0], TEXTS[3]))
    text = pdf_text(render_item_ballots(meeting), tmp_path)
    pages = text.split("\f")[:-1]
    assert len(pages) == 10 and "（续）" not in text
    for number, page in enumerate(pages, 1):
        assert f"{number}. 述职人{number:02d}" in page
        assert f"r{number:02d}.a01" in page and f"r{number:02d}.a28" in page


def test_a_block_continues_under_its_name_and_headers(tmp_path: Path) -> None:
    """Forty items do not fit a page: the block goes on under "（续）" with the headers again,
    and no item is split between the pages."""
    meeting = synthetic("items", ("能", "不能"), items=40)
    pdf = render_item_ballots(meeting)
    pages = pdf_text(pdf, tmp_path).split("\f")[:-1]
    assert len(pages) > 10
    continued = [page for page in pages if "（续）" in page]
    assert continued
    for page in continued:
        top = page.split("录入列")[0]  # the page starts with the continued block, headed again
        assert re.search(r"\d+\. 述职人\d\d（续）", top)
        assert re.search(r"序号\s+测评项目\s+能\s+不能\s+录入列", page)
    raw = squash(pdf_text(pdf, tmp_path, "-raw"))
    for item in item_texts(meeting)["r01"]:
        assert squash(item) in raw


def test_the_sanping_example_has_a_paper_per_group_and_a_section_per_form(
    tmp_path: Path,
) -> None:
    meeting, _ = read_meeting(EXAMPLES / "sanping-meeting.toml")
    pdf = render_item_ballots(meeting)
    text = pdf_text(pdf, tmp_path)
    # three groups on different forms: three papers, each titled with its group
    assert [[g.name for g in p.groups] for p in papers(meeting)] == [
        ["镇机关干部"],
        ["企业代表"],
        ["农村党员群众代表"],
    ]
    for group in meeting.groups:
        assert f"{group.name}述职评议表" in text
    for form in meeting.appraisal.forms:
        assert form.name in text
    # 镇机关干部: the 镇党委 under 26 是/不是 items, the 村书记 under a grade and 28 能/不能
    town = text.split("企业代表述职评议表")[0]
    assert "镇党委书记“是不是”测评表（26项）" in town
    assert "村党支部书记等次和“能不能”测评表（28项）" in town
    assert town.count("测评等次：") == 4  # r03–r06, the 村书记
    for word in ("是", "不是", "能", "不能", *meeting.rules.grades):
        assert word in town
    for reporter in meeting.reporters:
        assert text.count(f"{reporter.name}   {reporter.org}") >= 2  # town and rural
        assert reporter.name in text.split("企业代表述职评议表")[1]
    # every printed column is the item CSV's, and each of its columns is printed for both
    # groups that answer items (town and rural)
    printed = re.findall(r"r\d\d\.[ab]\d\d", text)
    columns = [f"{r}{ITEM_SEPARATOR}{i}" for r, i in item_columns(meeting)]
    assert sorted(printed) == sorted(columns * 2)
    raw = squash(pdf_text(pdf, tmp_path, "-raw"))
    for texts in item_texts(meeting).values():
        assert all(squash(item) in raw for item in texts)
    # each paper numbers its own pages: 6 (镇机关), 1 (企业), 6 (农村)
    totals = [m for n, m in footers(text) if n == 1]
    assert totals == [6, 1, 6] and len(footers(text)) == 13 == _pdfinfo_pages(tmp_path)
    assert "企业代表　等次测评表　第1页 共1页" in text.replace("   ", "　")


def test_what_each_paper_asks_is_what_its_row_in_the_csv_holds() -> None:
    """A clerk types each paper as the item CSV's row: every box the paper prints is a cell
    its group may fill, and every other cell stays blank; the tally reads the row back."""
    meeting, _ = read_meeting(EXAMPLES / "sanping-meeting.toml")
    columns = [*grade_columns(meeting), *(f"{r}.{i}" for r, i in item_columns(meeting))]
    lines = [",".join(["ballot", "group", "via", *columns])]
    expected = []
    for number, paper in enumerate(papers(meeting), 1):
        cells = dict.fromkeys(columns, "")
        for section in paper.sections:
            for _, reporter in section.reporters:
                if section.form.has_grade:
                    cells[reporter.id] = meeting.rules.grades[0]
                if section.form.checklist is not None:
                    for item in section.form.checklist.items:
                        cells[f"{reporter.id}.{item.id}"] = section.form.checklist.options[-1]
        first = paper.groups[0]
        lines.append(",".join([f"P{number}", first.name, "纸质", *cells.values()]))
        expected.append((first.id, {k: v for k, v in cells.items() if v}))
    ballots = parse_item_ballots_csv("\n".join(lines) + "\n", meeting, "typed.csv")
    for ballot, (group_id, filled) in zip(ballots, expected, strict=True):
        assert ballot.group == group_id and ballot.paper
        read = dict(ballot.marks)
        read.update({f"{r}.{i}": a for r, items in ballot.items.items() for i, a in items.items()})
        assert read == filled


def test_every_font_is_embedded_and_the_boxes_are_big_enough(tmp_path: Path) -> None:
    meeting, _ = read_meeting(EXAMPLES / "sanping-meeting.toml")
    path = tmp_path / "b.pdf"
    path.write_bytes(render_item_ballots(meeting))
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = listing.stdout.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows)
    assert item_ballot_form.BOX >= 4 * mm and item_ballot_form.TEXT_SIZE >= 9
    assert item_ballot_form.A4 == (595.2755905511812, 841.8897637795277)  # portrait


def test_print_ballots_with_forms_writes_the_item_form(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "b.pdf"
    assert main(["print", "ballots", str(EXAMPLES / "sanping-meeting.toml"), "-o", str(out)]) == 0
    assert "述职评议表3种" in capsys.readouterr().out
    meeting, _ = read_meeting(EXAMPLES / "sanping-meeting.toml")
    assert out.read_bytes() == render_item_ballots(meeting)


def test_print_ballots_without_forms_is_the_grade_ballot_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "b.pdf"
    assert main(["print", "ballots", str(EXAMPLES / "demo-meeting.toml"), "-o", str(out)]) == 0
    meeting, _ = read_meeting(EXAMPLES / "demo-meeting.toml")
    assert out.read_bytes() == render_ballots(meeting)
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "测评项目" not in text and "录入列" not in text and "第1页/共1页" in text
    for reporter in meeting.reporters:
        assert reporter.name in text
