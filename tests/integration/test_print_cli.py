"""The `pingyi print` commands on the demo meeting, read back with poppler, zbar and openpyxl."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from pyzbar import pyzbar

from cli import main
from cli.files import read_meeting
from cli.signing_files import ensure_identity
from meeting.join_cards import issue_cards, join_url
from printouts.inputs import parse_ballots, recompute
from server.datadir import DataDir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
URL = "http://192.168.1.10:8000"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(EXAMPLES / "demo-meeting.toml", root / "meeting.toml")
    shutil.copy(EXAMPLES / "demo-ballots.csv", root / "ballots.csv")
    meeting, _ = read_meeting(root / "meeting.toml")
    ballots = parse_ballots((root / "ballots.csv").read_bytes(), meeting, "ballots.csv")
    return root, meeting, recompute(meeting, ballots)


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def qr_codes(pdf: Path, out: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(out / "page")], check=True)
    codes = []
    for png in sorted(out.glob("page-*.png")):
        with Image.open(png) as image:
            codes += [code.data.decode() for code in pyzbar.decode(image)]
    return codes


def test_cards_reprint_same_tokens_and_regenerate_new_ones(demo, tmp_path, capsys):
    root, meeting, _ = demo
    data = tmp_path / "data"
    first, again, fresh = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    base = ["print", "cards", str(root / "meeting.toml"), "--data", str(data), "--url", URL]
    assert main([*base, "-o", str(first)]) == 0
    assert main([*base, "-o", str(again)]) == 0
    (tmp_path / "1").mkdir(), (tmp_path / "2").mkdir(), (tmp_path / "3").mkdir()
    urls = qr_codes(first, tmp_path / "1")
    expected = [join_url(URL, c.token) for c in issue_cards(DataDir(data).card_secret(), meeting)]
    assert sorted(urls) == sorted(expected) and len(set(urls)) == meeting.seats
    assert sorted(qr_codes(again, tmp_path / "2")) == sorted(urls)
    capsys.readouterr()
    assert main([*base, "--regenerate", "-o", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "作废" in out and "服务器须重新启动" in out
    renewed = qr_codes(fresh, tmp_path / "3")
    assert len(set(renewed)) == meeting.seats and not set(renewed) & set(urls)
    text = text_of(fresh)
    assert all(reporter.name not in text for reporter in meeting.reporters)


def test_ballots_command_lists_every_reporter(demo, tmp_path):
    root, meeting, _ = demo
    out = tmp_path / "ballots.pdf"
    assert main(["print", "ballots", str(root / "meeting.toml"), "-o", str(out)]) == 0
    text = text_of(out)
    for reporter in meeting.reporters:
        line = next(line for line in text.splitlines() if reporter.name in line)
        assert reporter.org in line and ("书面" if reporter.written else "现场") in line


def test_tally_command_prints_the_engine_result(demo, tmp_path):
    root, meeting, result = demo
    out = tmp_path / "tally.pdf"
    assert (
        main(
            [
                "print",
                "tally",
                str(root / "meeting.toml"),
                "--ballots",
                str(root / "ballots.csv"),
                "--data",
                str(tmp_path / "data"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    text = text_of(out)
    for row in result["reporters"]:
        line = next(line for line in text.splitlines() if row["name"] in line)
        cells = line.split()
        votes = sum(row["counts"].values())
        for grade, count in row["counts"].items():
            assert f"{count}({100 * count / votes:.1f}%)" in cells, (row["name"], grade)
        assert cells[-2:] == [row["final_grade"], str(row["rank"])]
        assert f"{row['score']:.2f}" in cells and row["base_grade"] in cells
    flat = re.sub(r"\s+", "", text)
    assert f"应到{result['quorum']['seats']}人，实到{result['quorum']['cast']}人" in flat
    assert "计票人" in flat and "监票人" in flat and "主持人" in flat


def test_tally_with_organisation_key_and_cert(demo, tmp_path, capsys):
    root, meeting, _ = demo
    key, cert = ensure_identity(DataDir(tmp_path / "org"), meeting)
    out = tmp_path / "tally.pdf"
    assert (
        main(
            [
                "print",
                "tally",
                str(root / "meeting.toml"),
                "--ballots",
                str(root / "ballots.csv"),
                "--key",
                str(key),
                "--cert",
                str(cert),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "verify",
                str(out),
                "--ballots",
                str(root / "ballots.csv"),
                "--meeting",
                str(root / "meeting.toml"),
                "--cert",
                str(cert),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "print",
                "tally",
                str(root / "meeting.toml"),
                "--ballots",
                str(root / "ballots.csv"),
                "-o",
                str(out),
            ]
        )
        == 2
    )
    assert "--key" in capsys.readouterr().err
    wrong = tmp_path / "wrong.pdf"
    args = ["print", "tally", str(root / "meeting.toml"), "--ballots", str(root / "ballots.csv")]
    assert main([*args, "--key", str(cert), "--cert", str(cert), "-o", str(wrong)]) == 2
    assert "无法读取签名私钥或证书" in capsys.readouterr().err and not wrong.exists()


def test_feedback_command_one_page_each_with_comments(demo, tmp_path):
    root, meeting, result = demo
    comments = tmp_path / "comments.json"
    first = meeting.reporters[0]
    comments.write_text(json.dumps({first.id: "思路清晰，措施有力。"}, ensure_ascii=False))
    out = tmp_path / "feedback.pdf"
    assert (
        main(
            [
                "print",
                "feedback",
                str(root / "meeting.toml"),
                "--ballots",
                str(root / "ballots.csv"),
                "--comments",
                str(comments),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    pages = text_of(out).split("\f")[: len(meeting.reporters)]
    assert len([p for p in text_of(out).split("\f") if p.strip()]) == len(meeting.reporters)
    for page, row in zip(pages, result["reporters"], strict=True):
        flat = re.sub(r"\s+", "", page)
        assert f"述职人：{row['name']}" in flat and f"测评等次：{row['final_grade']}" in flat
        assert "本表为会议测评结果，非综合评价等次（综合评价由党组研究确定）" in flat
    assert "思路清晰，措施有力。" in pages[0]


def test_xlsx_command_writes_the_results_table(demo, tmp_path):
    root, meeting, result = demo
    out = tmp_path / "results.xlsx"
    assert (
        main(
            [
                "print",
                "xlsx",
                str(root / "meeting.toml"),
                "--ballots",
                str(root / "ballots.csv"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    sheet = load_workbook(out)["测评结果"]
    header = [cell.value for cell in sheet[4]]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5)]
    assert len(rows) == len(result["reporters"])
    for values, row in zip(rows, result["reporters"], strict=True):
        record = dict(zip(header, values, strict=True))
        assert record["姓名"] == row["name"]
        assert record["测评等次"] == row["final_grade"] and record["名次"] == row["rank"]
        assert record["得分"] == row["score"]
        for grade, count in row["counts"].items():
            assert record[f"{grade}（票）"] == count


def test_bad_input_exits_2_with_a_chinese_message(demo, tmp_path, capsys):
    root, _, _ = demo
    bad = tmp_path / "ballots.csv"
    bad.write_text("ballot,group,r01\n1,leaders,很好\n", encoding="utf-8")
    assert (
        main(
            [
                "print",
                "feedback",
                str(root / "meeting.toml"),
                "--ballots",
                str(bad),
                "-o",
                str(tmp_path / "f.pdf"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.startswith("错误：")
    assert not (tmp_path / "f.pdf").exists()
    assert main(["print", "xlsx", str(root / "meeting.toml"), "-o", str(tmp_path / "x")]) == 2
    assert (
        main(
            [
                "print",
                "cards",
                str(root / "meeting.toml"),
                "--data",
                str(tmp_path / "d"),
                "--url",
                "192.168.1.10:8000",
                "-o",
                str(tmp_path / "c.pdf"),
            ]
        )
        == 2
    )
    assert "不是网址" in capsys.readouterr().err


def test_more_ballots_than_seats_are_refused_by_tally_and_print(demo, tmp_path, capsys):
    """Finding 3: a 16th ballot in a group of 15 is an error naming the group and the counts;
    no sheet and no table is made."""
    root, meeting, _ = demo
    lines = (root / "ballots.csv").read_text(encoding="utf-8").splitlines()
    leader = next(line for line in lines[1:] if ",leaders," in line)
    seats = meeting.group("leaders").seats
    have = sum(1 for line in lines if ",leaders," in line)
    extra = [f"x{i:03d}" + leader[leader.index(",") :] for i in range(seats - have + 1)]
    over = tmp_path / "over.csv"
    over.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    expected = f"“县级领导”：{seats}个席位，却有{seats + 1}张选票"
    assert main(["tally", str(root / "meeting.toml"), str(over)]) == 2
    out = capsys.readouterr()
    assert expected in out.err and "本次测评" not in out.out and "名次" not in out.out
    pdf = tmp_path / "tally.pdf"
    args = ["print", "tally", str(root / "meeting.toml"), "--ballots", str(over)]
    assert main([*args, "--data", str(tmp_path / "data"), "-o", str(pdf)]) == 2
    assert expected in capsys.readouterr().err and not pdf.exists()


def test_typed_paper_ballots_name_their_group_and_card(demo, tmp_path, capsys):
    root, meeting, _ = demo
    ids = [r.id for r in meeting.reporters]
    marks = ",".join("好" for _ in ids)
    paper = tmp_path / "paper.csv"
    paper.write_text(
        f"ballot,group,card,{','.join(ids)}\n"
        f"p1,县级领导,ABCD-EFGH,{marks}\np2,depts,,{marks}\np3,基层代表,abcdefgh,{marks}\n",
        encoding="utf-8",
    )
    assert main(["tally", str(root / "meeting.toml"), str(paper)]) == 2
    err = capsys.readouterr().err
    assert f"{paper}:4:3" in err and "参会卡“ABCD-EFGH”已在第2行投过票" in err
    paper.write_text(paper.read_text(encoding="utf-8").replace("abcdefgh", "WXYZ-2345"))
    assert (
        main(["tally", str(root / "meeting.toml"), str(paper), "--json", str(tmp_path / "r.json")])
        == 0
    )
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [g["cast"] for g in result["groups"]] == [1, 1, 1]
