"""`pingyi tally`: in-process through the dispatcher, and as the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main
from tally.report import format_table

ROOT = Path(__file__).resolve().parents[2]
MEETING = ROOT / "examples" / "demo-meeting.toml"
BALLOTS = ROOT / "examples" / "demo-ballots.csv"


def test_demo_tally_prints_the_table_and_writes_json(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "result.json"
    assert main(["tally", str(MEETING), str(BALLOTS), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "述职评议大会" in printed and "实到72" in printed and "有效" in printed
    text = out.read_text(encoding="utf-8")
    assert "王建国" in text  # ensure_ascii=False
    result = json.loads(text)
    assert result["valid"] is True and len(result["reporters"]) == 10
    assert printed.endswith(format_table(result))


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
    ("csv_text", "where"),
    [
        ("ballot,group,r01\n", "1:4"),
        (
            "ballot,group,r01,r02,r03,r04,r05,r06,r07,r08,r09,r10\n1,leaders,好,好,好,好,好,好,好,好,好,優\n",
            "2:12",
        ),
    ],
)
def test_bad_ballots_exit_2_naming_the_cell(
    tmp_path: Path, capsys, csv_text: str, where: str
) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text, encoding="utf-8")
    out = tmp_path / "out.json"
    assert main(["tally", str(MEETING), str(bad), "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"错误：{bad}:{where}：")
    assert captured.out == "" and not out.exists()  # nothing tallied


def test_bad_meeting_file_names_the_key(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "m.toml"
    bad.write_text(
        MEETING.read_text(encoding="utf-8").replace('id = "r02"', 'id = "r01"'), encoding="utf-8"
    )
    assert main(["tally", str(bad), str(BALLOTS)]) == 2
    assert f"{bad} reporters[2].id：述职人编号“r01”重复" in capsys.readouterr().err


def test_missing_unreadable_unwritable_and_non_utf8_files(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["tally", str(tmp_path / "none.toml"), str(BALLOTS)]) == 2
    assert "文件不存在" in capsys.readouterr().err
    assert main(["tally", str(tmp_path), str(BALLOTS)]) == 2  # a directory
    assert f"错误：{tmp_path}：是目录，不是文件" in capsys.readouterr().err
    assert main(["tally", str(MEETING), str(BALLOTS), "--json", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert f"错误：{tmp_path}：无法写入" in captured.err and captured.out == ""
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("ballot,group,r01\n1,leaders,好\n".encode("gbk"))
    assert main(["tally", str(MEETING), str(gbk)]) == 2
    assert "不是UTF-8编码" in capsys.readouterr().err


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
