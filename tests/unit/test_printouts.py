"""Renders every printout from a sample meeting and reads it back with poppler and zbar.

The signer is tested in test_signing.py, the Excel workbook in test_xlsx.py.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest
from PIL import Image
from pyzbar import pyzbar

from meeting.join_cards import issue_cards, join_url
from printouts.ballot_form import render_ballots
from printouts.card_sheet import render_cards
from printouts.feedback import render_feedback
from printouts.inputs import recompute
from printouts.samples import sample_ballots, sample_meeting
from printouts.tally_sheet import render_tally
from tally.model import SPOILED, Ballot, Group, Member, Rules
from tally.numbers import short

BASE_URL = "https://pingyi.example.org"
DIGESTS = {"meeting_sha256": "a1" * 32, "ballots_sha256": "b2" * 32}


def pdf_text(pdf: bytes, tmp_path: Path, layout: bool = True) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))


def assert_fonts_embedded(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    rows = out.stdout.splitlines()[2:]
    assert rows, "no fonts at all"
    for row in rows:
        emb = row[row.index(" TrueType") :].split()  # type encoding emb sub uni ...
        assert emb[0] == "TrueType" and emb[2] == "yes", row


def decode_qr_pages(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[list[str]]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(path), str(tmp_path / "page")], check=True
    )
    pages = []
    for png in sorted(tmp_path.glob("page-*.png")):
        with Image.open(png) as image:
            pages.append([code.data.decode() for code in pyzbar.decode(image)])
    return pages


@pytest.fixture(scope="module")
def sample():
    meeting = sample_meeting()
    ballots = sample_ballots(meeting)
    return meeting, ballots, recompute(meeting, ballots)


def test_cards_decode_to_their_join_urls_each_token_once(sample, tmp_path):
    meeting = sample[0]
    cards = issue_cards(b"secret", meeting)
    pdf = render_cards(meeting, cards, BASE_URL)
    pages = decode_qr_pages(pdf, tmp_path)
    assert len(pages) == -(-len(cards) // 8)
    decoded = [url for page in pages for url in page]
    assert sorted(decoded) == sorted(join_url(BASE_URL, card.token) for card in cards)
    assert len(set(decoded)) == len(cards) == meeting.seats
    text = pdf_text(pdf, tmp_path)
    for card in cards:
        assert text.count(card.code) == 1
    assert text.count(meeting.title) == len(cards)
    for group in meeting.groups:
        assert text.count(group.name) == group.seats
    for reporter in meeting.reporters:  # cards carry no names
        assert reporter.name not in text
    assert_fonts_embedded(pdf, tmp_path)


def test_a_named_group_s_cards_carry_their_member_s_name_the_others_none(sample, tmp_path):
    """部分实名: each named card says whose it is and that its ballot carries the name."""
    meeting = sample[0]
    members = (Member("wang", "王明"), Member("li", "李华"))
    first = replace(meeting.groups[0], seats=2, named=True, members=members)
    named = replace(meeting, groups=(first, *meeting.groups[1:]))
    cards = issue_cards(b"secret", named)
    text = pdf_text(render_cards(named, cards, BASE_URL), tmp_path, layout=False)
    assert text.count("实名：王明") == text.count("实名：李华") == 1
    assert text.count("本卡实名，选票记录持卡人姓名") == 2
    assert text.count("本卡不记名") == len(cards) - 2


def test_ballot_fits_thirty_reporters_on_one_page_and_continues_after(tmp_path):
    meeting = sample_meeting(30)
    pdf = render_ballots(meeting)
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "述职评议表" in text and "卡号" in text
    for reporter in meeting.reporters:
        line = next(line for line in text.splitlines() if reporter.name in line)
        assert reporter.org in line
        assert ("书面" if reporter.written else "现场") in line
    header = next(line for line in text.splitlines() if "姓名" in line)
    assert re.search(r"好\s+较好\s+一般\s+差", header)
    assert pdf_pages(render_ballots(sample_meeting(31)), tmp_path) == 2
    assert pdf_pages(render_ballots(sample_meeting(61)), tmp_path) == 3
    assert_fonts_embedded(pdf, tmp_path)


def test_ballot_pages_repeat_header_and_list_every_reporter_once(tmp_path):
    meeting = sample_meeting(35)
    text = pdf_text(render_ballots(meeting), tmp_path)
    pages = text.split("\f")
    assert all("卡号" in page and "姓名" in page for page in pages if page.strip())
    for reporter in meeting.reporters:
        assert len(re.findall(rf"\b{re.escape(reporter.name)}\b", text)) == 1


def test_tally_sheet_shows_counts_grades_and_digests(sample, tmp_path):
    meeting, _, result = sample
    pdf = render_tally(meeting, result, DIGESTS, signed_by="自签名证书")
    text = pdf_text(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    for heading in (
        "测评结果汇总表",
        "应到",
        "实到",
        "有效票",
        "法定人数",
        "差票%",
        "得分",
        "基础等次",
        "适用规则",
        "测评等次",
        "名次",
        "等次名额控制",
        "计票人",
        "监票人",
        "主持人",
        "日期",
        meeting.title,
        meeting.date,
        meeting.place,
    ):
        assert heading in flat, heading
    quorum = result["quorum"]
    assert f"应到{quorum['seats']}人，实到{quorum['cast']}人" in flat
    grades = result["grades"]
    for row in result["reporters"]:
        line = next(line for line in text.splitlines() if row["name"] in line)
        cells = line.split()
        votes = sum(row["counts"].values())
        for grade in grades:
            count = row["counts"][grade]
            assert f"{count}({100 * count / votes:.1f}%)" in cells, (row["name"], grade, line)
        assert f"{row['score']:.2f}" in cells
        assert f"{100 * row['poor_share']:.1f}%" in cells
        assert cells[-2:] == [row["final_grade"], str(row["rank"])]
        assert row["base_grade"] in cells
    assert DIGESTS["meeting_sha256"] in flat and DIGESTS["ballots_sha256"] in flat
    assert_fonts_embedded(pdf, tmp_path)


def test_tally_sheet_digest_qr_decodes(sample, tmp_path):
    meeting, _, result = sample
    pages = decode_qr_pages(render_tally(meeting, result, DIGESTS), tmp_path, dpi=200)
    codes = [code for page in pages for code in page]
    assert codes == [
        f"pingyi\nmeeting-sha256={DIGESTS['meeting_sha256']}\n"
        f"ballots-sha256={DIGESTS['ballots_sha256']}"
    ]


def test_tally_sheet_lists_undecided_ties_and_invalid_quorum(sample, tmp_path):
    meeting, _, result = sample
    tied = [r["id"] for r in result["reporters"][:2]]
    changed = dict(
        result,
        valid=False,
        undecided=[{"grade": "好", "reporters": tied, "why": "得分并列，名额只剩1个。"}],
    )
    changed["quorum"] = dict(result["quorum"], met=False)
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, changed, DIGESTS), tmp_path))
    names = "、".join(r["name"] for r in result["reporters"][:2])
    assert f"待定（好）：{names}。得分并列，名额只剩1个。" in flat
    assert "本次测评无效" in flat and "未达到法定人数" in flat


def test_long_tally_sheet_continues_on_more_pages(tmp_path):
    meeting = sample_meeting(40)
    ballots = sample_ballots(meeting)
    result = recompute(meeting, ballots)
    pdf = render_tally(meeting, result, DIGESTS)
    assert pdf_pages(pdf, tmp_path) >= 2
    text = pdf_text(pdf, tmp_path)
    for row in result["reporters"]:
        assert row["name"] in text
    assert text.count("计票人") == 1


def test_feedback_one_page_per_reporter_with_grade_counts_rule_and_comment(sample, tmp_path):
    meeting, _, result = sample
    remarks = [
        {"kind": "comment", "reporter": "r02", "by": "", "text": "抓党建促发展思路清晰，成效明显。"}
    ]
    pdf = render_feedback(meeting, result, remarks)
    pages = pdf_text(pdf, tmp_path).split("\f")
    assert pdf_pages(pdf, tmp_path) == len(meeting.reporters)
    for page, row in zip(pages, result["reporters"], strict=False):
        flat = re.sub(r"\s+", "", page)
        assert f"述职人：{row['name']}" in flat
        assert f"测评等次：{row['final_grade']}" in flat
        assert "本表为会议测评结果，非综合评价等次（综合评价由党组研究确定）" in flat
        assert "综合评价等次：" not in flat and "差票比例：" in flat
        votes = sum(row["counts"].values())
        for grade, count in row["counts"].items():
            assert f"{count}票{100 * count / votes:.1f}%" in flat, grade
        for step in row["steps"]:
            assert re.sub(r"\s+", "", step["why"]) in flat
        others = [r["name"] for r in result["reporters"] if r["id"] != row["id"]]
        assert not any(f"述职人：{name}" in flat for name in others)
    assert "抓党建促发展思路清晰，成效明显。" in re.sub(r"\s+", "", pages[1])
    assert "未录入点评" in pages[0]
    assert_fonts_embedded(pdf, tmp_path)


def test_reporter_without_votes_and_long_comment_still_print(tmp_path):
    meeting = sample_meeting(4)
    ballots = [
        Ballot(b.id, b.group, {k: v for k, v in b.marks.items() if k != "r02"})
        for b in sample_ballots(meeting)
    ]
    result = recompute(meeting, ballots)
    silent = next(r for r in result["reporters"] if r["id"] == "r02")
    assert silent["score"] is None and silent["final_grade"] is None
    tally_text = pdf_text(render_tally(meeting, result, DIGESTS), tmp_path)
    line = next(line for line in tally_text.splitlines() if silent["name"] in line)
    assert "—" in line
    comment = "要进一步压实责任，" * 400 + "完。"
    remarks = [{"kind": "comment", "reporter": "r01", "by": "刘洋（书记）", "text": comment}]
    pdf = render_feedback(meeting, result, remarks)
    pages = [re.sub(r"\s+", "", page) for page in pdf_text(pdf, tmp_path).split("\f")]
    # A long 点评 runs onto continuation pages of its reporter's sheet: nothing is dropped.
    assert pdf_pages(pdf, tmp_path) > 4
    run_on = [
        page for page in pages if "述职评议反馈单（续）述职人：" + meeting.reporters[0].name in page
    ]
    assert run_on and "完。" in run_on[-1]
    name = meeting.reporters[0].name
    joined = re.sub(
        f"（本单仅送述职人本人）|述职评议反馈单（续）述职人：{name}", "", "".join(pages)
    )
    assert joined.count("要进一步压实责任") == 400
    assert "测评等次：未定" in pages[len(run_on) + 1]


def test_other_grade_scales_print_their_own_words(tmp_path):
    scale = ("优秀", "称职", "基本称职", "不称职")
    meeting = replace(sample_meeting(6), rules=Rules(grades=scale))
    ballots = sample_ballots(meeting)
    header = next(
        line for line in pdf_text(render_ballots(meeting), tmp_path).splitlines() if "姓名" in line
    )
    assert header.split()[-4:] == list(scale)
    result = recompute(meeting, ballots)
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert "优秀称职基本称职不称职弃权" in flat
    assert all(row["final_grade"] in scale for row in result["reporters"])


def test_tally_sheet_can_be_checked_with_a_calculator(sample, tmp_path):
    """Weights, points and cutoffs are printed, and so are each group's counts and score:
    from the printed numbers alone, the printed score comes out again."""
    meeting, _, result = sample
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert "等次分值：好100分、较好80分、一般60分、差0分" in flat
    assert "县级领导0.4、部门负责人0.3、党代表0.3" in flat
    assert "得分≥90为好，≥80为较好，≥60为一般，其余为差" in flat
    assert "四舍五入一次" in flat and flat.count("有效票：") == 1
    weights = {}
    for group in result["groups"]:
        found = re.search(rf"{group['name']}（权重([\d.]+)）", flat)
        weights[group["id"]] = F(found.group(1))
    points = dict(zip(result["grades"], (100, 80, 60, 0), strict=True))
    for row in result["reporters"]:
        total = F(0)
        for group in result["groups"]:
            counts = row["counts_by_group"][group["id"]]
            cell = "/".join(str(counts[g]) for g in result["grades"])
            votes = sum(counts.values())
            group_score = F(sum(points[g] * n for g, n in counts.items()), votes)
            assert f"{cell}（{votes}）→{row['score_by_group'][group['id']]:.2f}" in flat
            total += weights[group["id"]] * group_score
        assert f"{round(float(total), 2):.2f}" == f"{row['score']:.2f}", row["name"]


def test_tally_sheet_rounds_each_share_once_so_both_poor_figures_agree(sample, tmp_path):
    meeting, _, result = sample
    text = pdf_text(render_tally(meeting, result, DIGESTS), tmp_path)
    for row in result["reporters"]:
        cells = next(line for line in text.splitlines() if f" {row['name']} " in line).split()
        poor = cells[
            3 + len(result["grades"])
        ]  # 序号 姓名 单位 方式 好 较好 一般 差 弃权 废票 差票%
        assert poor.startswith(f"{row['counts']['差']}(")
        assert cells[6 + len(result["grades"])] == poor[poor.index("(") + 1 : -1], cells
    # 1/69 = 1.449 %: the JSON's 0.0145 would have printed 1.5 % beside 差 1 (1.4 %)
    one = dict(result["reporters"][0], counts={"好": 60, "较好": 5, "一般": 3, "差": 1})
    one.update(poor_share=0.0145, poor_share_of=69, abstain=0, invalid=0, cast=69)
    flat = re.sub(
        r"\s+",
        "",
        pdf_text(render_tally(meeting, dict(result, reporters=[one]), DIGESTS), tmp_path),
    )
    assert "1(1.4%)00" in flat and "1.4%" in flat and "1.5%" not in flat


def test_tally_sheet_is_an_official_form(sample, tmp_path):
    meeting, sampled, _ = sample
    # One ballot spoiled as a whole, one on paper: the split is known.
    spoiled = replace(sampled[0], marks=dict.fromkeys(sampled[0].marks, SPOILED))
    ballots = [spoiled, replace(sampled[1], paper=True), *sampled[2:]]
    result = recompute(meeting, ballots)
    official = replace(meeting, organizer="中共某某县委组织部")
    pdf = render_tally(official, result, DIGESTS, effective=len(ballots) - 1, monitors=3)
    pages = pdf_text(pdf, tmp_path).split("\f")[:-1]
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共{len(pages)}页" in re.sub(r"\s+", "", page)
    flat = re.sub(r"\s+", "", "".join(pages))
    assert flat.count("中共某某县委组织部") == 2  # under the title and over the 公章 box
    assert "（公章）" in flat and flat.count("计票人（签字）") == 1
    assert flat.count("监票人（签字）") == 3 and flat.count("主持人（签字）") == 1
    returned = sum(g["cast"] for g in result["groups"])
    assert f"收回{returned}张，其中整张作废1张。" in flat
    assert f"收回的选票中手机票{returned - 1}张，纸质票1张。" in flat
    for group in result["groups"]:
        weight = short(meeting.group(group["id"]).weight)
        ways = f"{group['phone']}{group['paper']}{group['spoiled']}"
        assert f"{group['name']}{weight}{group['seats']}{group['cast']}{ways}" in flat
    seats = sum(g["seats"] for g in result["groups"])
    assert f"合计1{seats}{returned}{returned - 1}11" in flat
    default = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert default.count("监票人（签字）") == 2 and "填报单位" in default


@pytest.mark.parametrize("reporters", [2, 3])
def test_the_signatures_never_stand_alone_on_a_page(reporters, tmp_path):
    meeting = sample_meeting(reporters)  # sizes whose signatures would just spill over
    result = recompute(meeting, sample_ballots(meeting))
    pages = pdf_text(render_tally(meeting, result, DIGESTS), tmp_path).split("\f")
    signed = next(page for page in pages if "计票人" in page)
    assert "等次名额控制" in signed and "待定" in signed


def test_paper_ballot_has_group_ticks_and_a_ballot_number(sample, tmp_path):
    meeting = sample[0]
    flat = re.sub(r"\s+", "", pdf_text(render_ballots(meeting), tmp_path))
    assert "投票组别：县级领导部门负责人党代表" in flat and "选票编号（计票人填）" in flat
    plain = replace(meeting, groups=(Group("all", "全体", 30),))
    flat = re.sub(r"\s+", "", pdf_text(render_ballots(plain), tmp_path))
    assert "投票组别" not in flat and "选票编号" in flat and "卡号" in flat


def test_the_group_table_says_when_the_ballots_do_not_say_how_they_came(sample, tmp_path):
    meeting, ballots, result = sample  # a ballot file without a via column
    assert all(g["phone"] is None and g["paper"] is None for g in result["groups"])
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert "选票文件未区分手机票与纸质票（无via列），表中记为“—”" in flat
    assert "收回的选票中" not in flat
    head = "投票组别权重应到实到手机纸质废票到会率"
    assert head in flat
    for group in result["groups"]:
        assert f"{group['name']}{short(meeting.group(group['id']).weight)}" in flat
        assert f"{group['seats']}{group['cast']}——{group['spoiled']}" in flat
    # A result saved before these counts existed prints — and no note.
    old = dict(
        result,
        groups=[{k: g[k] for k in ("id", "name", "seats", "cast")} for g in result["groups"]],
    )
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, old, DIGESTS), tmp_path))
    assert "未区分" not in flat and head in flat


def test_a_scale_of_its_own_heads_the_poor_share_with_its_poor_grade(tmp_path):
    scale = ("优秀", "合格", "基本合格", "不合格")
    meeting = replace(sample_meeting(5), rules=Rules(grades=scale, override_flags=("问责",)))
    result = recompute(meeting, sample_ballots(meeting))
    assert result["poor_grade"] == "不合格"
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert "不合格票%" in flat and "差票" not in flat
    assert "不合格票超过有效票的10%定为不合格" in flat and "有“问责”标记的定为不合格" in flat
    assert "名次：先按测评等次，同一等次按得分" in flat and "倒排" not in flat
    feedback = re.sub(r"\s+", "", pdf_text(render_feedback(meeting, result), tmp_path))
    assert "不合格票比例：" in feedback and "差票" not in feedback


@pytest.mark.parametrize(
    ("bottom", "rule", "line"),
    [
        # sample_meeting(5) with r04 voted as r03, the last: ranks 1, 2, 4, 4, 3
        (dict(bottom_count=1), "倒排：名次最后的1名（并列者均列入）", "倒排（后1名；第4名并列，均列入，共2人）："),
        (dict(bottom_count=2), "倒排：名次最后的2名（并列者均列入）", "倒排（后2名）："),
        (dict(bottom_share=F(1, 10)), "倒排：名次最后的10%（人数向上取整，并列者均列入）", "倒排（后10%，即1名；第4名并列，均列入，共2人）："),
    ],
)  # fmt: skip
def test_the_tally_sheet_prints_the_bottom_with_ties_under_the_table(
    tmp_path, bottom: dict, rule: str, line: str
):
    meeting = sample_meeting(5)
    meeting = replace(meeting, rules=replace(meeting.rules, **bottom))
    ballots = [
        Ballot(b.id, b.group, dict(b.marks, r04=b.marks["r03"])) for b in sample_ballots(meeting)
    ]
    result = recompute(meeting, ballots)
    ranks = {r["id"]: r["rank"] for r in result["reporters"]}
    assert ranks["r03"] == ranks["r04"] == max(ranks.values()) == 4  # a tie at the bottom
    names = {r["id"]: r["name"] for r in result["reporters"]}
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert rule in flat
    listed = "、".join(f"{names[rid]}（第{ranks[rid]}名）" for rid in result["bottom"])
    assert line + listed + "。" in flat
    assert flat.index(line) > flat.index("测评等次") and flat.count("倒排（") == 1


def test_a_bottom_with_nobody_ranked_says_so(tmp_path):
    meeting = sample_meeting(2)
    meeting = replace(meeting, rules=replace(meeting.rules, bottom_count=1))
    ballots = [Ballot(b.id, b.group, {r: "" for r in b.marks}) for b in sample_ballots(meeting)]
    result = recompute(meeting, ballots)
    assert result["bottom"] == [] and result["bottom_size"] == 1
    flat = re.sub(r"\s+", "", pdf_text(render_tally(meeting, result, DIGESTS), tmp_path))
    assert "倒排（后1名）：无（没有述职人有名次）。" in flat
