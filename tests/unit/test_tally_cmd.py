"""`pingyi tally`: in-process through the dispatcher, and as the installed command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main

ROOT = Path(__file__).resolve().parents[2]
MEETING = ROOT / "examples" / "demo-meeting.toml"
BALLOTS = ROOT / "examples" / "demo-ballots.csv"


SMALL_MEETING = """
[meeting]
title = "测试评议"
date = "2026-12-28"
seats = 5

[[reporters]]
id = "a"
name = "张三"
org = "甲镇党委"

[[reporters]]
id = "b"
name = "李四"
org = "乙镇党委"
mode = "written"

[rules]
quorum = 0.8
"""
SMALL_BALLOTS = "ballot,a,b\n1,好,较好\n2,好,差\n3,较好,较好\n4,好,\n"

# Worked out by hand. 张三: 3 好 and 1 较好 = 95 → 好. 李四: 2 较好, 1 差 and a blank = 160/3 =
# 53.33 → 差, and 1 of 3 votes 差 = 33.3% > 10% → 差. 4 of 5 is the 80% quorum.
SMALL_PRINTED = """\
测试评议（2026-12-28）
应到5  实到4  要求80%  →  有效
全体 4/5

名次  述职人  方式  好  较好  一般  差  弃权  废票  差票%   得分  基础  测评等次  依据
----  ------  ----  --  ----  ----  --  ----  ----  -----  -----  ----  --------  ----
   1  张三    现场   3     1     0   0     0     0    0.0  95.00  好    好        得分95.00 ≥ 90
   2  李四    书面   0     2     0   1     1     0   33.3  53.33  差    差        差票 1/3=33.3% > 10%（占有效票）→ 差
"""


def test_a_small_tally_prints_the_table_and_writes_the_json(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    meeting, ballots, out = tmp_path / "m.toml", tmp_path / "b.csv", tmp_path / "r.json"
    meeting.write_text(SMALL_MEETING, encoding="utf-8")
    ballots.write_text(SMALL_BALLOTS, encoding="utf-8")
    assert main(["tally", str(meeting), str(ballots), "--json", str(out)]) == 0
    assert capsys.readouterr().out == SMALL_PRINTED
    text = out.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '"name": "张三"' in text  # indented, ensure_ascii=False
    result = json.loads(text)
    assert (result["valid"], result["quorum"]) == (
        True,
        {"cast": 4, "seats": 5, "required": 0.8, "met": True},
    )
    a, b = result["reporters"]
    assert (a["score"], a["final_grade"], a["rank"], a["counts"]) == (
        95.0,
        "好",
        1,
        {"好": 3, "较好": 1, "一般": 0, "差": 0},
    )
    assert (b["score"], b["poor_share"], b["base_grade"], b["final_grade"], b["abstain"]) == (
        53.33,
        0.3333,
        "差",
        "差",
        1,
    )
    assert [s["why"] for s in b["steps"]] == [
        "得分53.33 < 60",
        "差票 1/3=33.3% > 10%（占有效票）→ 差",
    ]


def test_demo_tally_prints_the_head_of_the_table_and_writes_json(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "result.json"
    assert main(["tally", str(MEETING), str(BALLOTS), "--json", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    # 72 ballots: 13 + 27 + 32 by group (counted in the CSV); seats 15 + 30 + 35 = 80.
    assert printed[:4] == [
        "中共青川县委2026年度党组织书记抓基层党建工作述职评议大会（2026-12-28，县委党校报告厅）",
        "应到80  实到72  要求80%  →  有效",
        "县级领导 13/15  部门负责人 27/30  基层代表 32/35",
        "",
    ]
    assert len(printed) == 4 + 2 + 10 + 1  # heading, rule, ten reporters, one quota line
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["valid"] is True and len(result["reporters"]) == 10
    assert [g["cast"] for g in result["groups"]] == [13, 27, 32]


def test_the_demo_shows_every_rule() -> None:
    # Run in-process so this stays fast; the subprocess test below covers the real command.
    from tally.ballot_csv import parse_ballots_csv
    from tally.engine import result_to_json, tally
    from tally.meeting_file import parse_meeting_text

    meeting = parse_meeting_text(MEETING.read_text(encoding="utf-8"))
    ballots = parse_ballots_csv(BALLOTS.read_text(encoding="utf-8"), meeting)
    assert len(ballots) >= 70
    result = result_to_json(tally(meeting, ballots))
    fired = {step["rule"] for r in result["reporters"] for step in r["steps"]}
    assert {"base", "poor_share", "override", "quota"} <= fired
    assert result["undecided"] == [] and result["quorum"]["met"]
    assert any(r["invalid"] for r in result["reporters"])
    assert any(r["abstain"] for r in result["reporters"])


@pytest.mark.parametrize(
    ("csv_text", "where", "message"),
    [
        ("ballot,group,r01\n", "1:4", "缺少述职人列：r02、r03、r04、r05、r06、r07、r08、r09、r10"),
        (
            "ballot,group,r01,r02,r03,r04,r05,r06,r07,r08,r09,r10\n1,leaders,好,好,好,好,好,好,好,好,好,優\n",
            "2:12",
            "无效的标记“優”（r10列）；应为：好、较好、一般、差、空白（弃权）、废（废票）或-（不在本张选票上）",
        ),
    ],
)
def test_bad_ballots_exit_2_naming_the_cell(
    tmp_path: Path, capsys, csv_text: str, where: str, message: str
) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text, encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["tally", str(MEETING), str(bad), "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"错误：{bad}:{where}：{message}\n"
    assert captured.out == "" and not out.exists()  # nothing tallied


def test_bad_meeting_file_names_the_key(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "m.toml"
    bad.write_text(
        MEETING.read_text(encoding="utf-8").replace('id = "r02"', 'id = "r01"'), encoding="utf-8"
    )
    assert main(["tally", str(bad), str(BALLOTS)]) == 2
    assert capsys.readouterr().err == f"错误：{bad} reporters[2].id：述职人编号“r01”重复\n"


def test_missing_unreadable_unwritable_and_non_utf8_files(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["tally", str(tmp_path / "none.toml"), str(BALLOTS)]) == 2
    assert capsys.readouterr().err == f"错误：{tmp_path / 'none.toml'}：文件不存在\n"
    assert main(["tally", str(tmp_path), str(BALLOTS)]) == 2  # a directory
    assert capsys.readouterr().err == f"错误：{tmp_path}：是目录，不是文件\n"
    assert main(["tally", str(MEETING), str(BALLOTS), "--json", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert (captured.err, captured.out) == (f"错误：{tmp_path}：无法写入：Is a directory\n", "")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("ballot,group,r01\n1,leaders,好\n".encode("gbk"))  # 好 is byte 28 on
    assert main(["tally", str(MEETING), str(gbk)]) == 2
    assert capsys.readouterr().err == (
        f"错误：{gbk}：不是UTF-8编码（第28个字节处）；请在Excel中另存为“CSV UTF-8”\n"
    )


def pingyi() -> list[str]:
    found = shutil.which("pingyi")
    # Not installed (a bare checkout): the same entry point through the interpreter.
    return [found] if found else [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]


def test_installed_command_on_the_examples(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = subprocess.run(
        [*pingyi(), "tally", str(MEETING), str(BALLOTS), "--json", str(out)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "刘海燕" in done.stdout and "好限30%×10人=3人" in done.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["quorum"]["cast"] == 72


def test_a_reader_that_stops_reading_gets_no_traceback() -> None:
    """`pingyi tally … | head -1`: the pipe's reader is gone before the table is written."""
    reader, writer = os.pipe()
    os.close(reader)  # closed before the command writes a byte: every write is refused
    done = subprocess.run(
        [*pingyi(), "tally", str(MEETING), str(BALLOTS)],
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        check=False,
    )
    os.close(writer)
    assert (done.returncode, done.stderr) == (1, "")


def test_installed_command_exits_2_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "b.csv"
    bad.write_text("ballot,group,r01\n", encoding="utf-8")
    done = subprocess.run(
        [*pingyi(), "tally", str(MEETING), str(bad)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert done.returncode == 2 and "缺少述职人列：r02" in done.stderr


def test_the_demo_ballots_are_what_the_seeded_generator_writes() -> None:
    import importlib.util

    from tally.ballot_csv import format_ballots_csv
    from tally.meeting_file import parse_meeting_text

    spec = importlib.util.spec_from_file_location(
        "make_demo", ROOT / "examples" / "make_demo_ballots.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    meeting = parse_meeting_text(MEETING.read_text(encoding="utf-8"))
    assert format_ballots_csv(meeting, module.make()) == BALLOTS.read_text(encoding="utf-8")
    named = parse_meeting_text((ROOT / "examples" / "named-meeting.toml").read_text("utf-8"))
    text = (ROOT / "examples" / "named-ballots.csv").read_text(encoding="utf-8")
    assert format_ballots_csv(named, module.make_named(named)) == text
