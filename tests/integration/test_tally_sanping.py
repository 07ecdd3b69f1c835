"""`pingyi tally` on the 三评 example: item ballots, experts, indicators and the composite,
as the installed command and in-process; the printed tables and the JSON checked."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MEETING = EXAMPLES / "sanping-meeting.toml"
BALLOTS = EXAMPLES / "sanping-ballots.csv"
EXPERTS = EXAMPLES / "sanping-experts.csv"
INDICATORS = EXAMPLES / "sanping-indicators.csv"
ARGS = [str(MEETING), str(BALLOTS), "--experts", str(EXPERTS), "--indicators", str(INDICATORS)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("sanping") / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "cli", "tally", *ARGS, "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_the_printout_has_the_grade_table_and_the_composite_table(run: tuple[str, dict]) -> None:
    printed, _ = run
    lines = printed.splitlines()
    assert lines[0].startswith("中共青川县2026年度镇村党组织书记抓基层党建工作“三评”述职评议会")
    assert lines[1] == "应到18  实到17  要求80%  →  有效"
    assert lines[2] == "镇机关干部 6/6  企业代表 4/4  农村党员群众代表 7/8"
    head = next(line for line in lines if line.startswith("综合名次"))
    for column in (
        "镇机关干部",
        "企业代表",
        "农村党员群众代表",
        "群众测评",
        "项目指标",
        "专家点评",
    ):
        assert column in head
    assert "综合得分（群众测评40%、项目指标40%、专家点评20%；各组得分为百分制）" in printed
    assert any(line.startswith("刘海燕：否决项") for line in lines)


def test_the_json_adds_groups_items_sources_and_the_composite(run: tuple[str, dict]) -> None:
    _, result = run
    assert result["valid"] is True and result["quorum"] == {
        "cast": 17,
        "seats": 18,
        "required": 0.8,
        "met": True,
    }
    assert [s["id"] for s in result["appraisal"]["sources"]] == ["vote", "indicators", "experts"]
    assert [f["kind"] for f in result["appraisal"]["forms"]] == ["grade", "items", "both", "items"]
    by_id = {r["id"]: r for r in result["reporters"]}
    assert {r["category"] for r in by_id.values()} == {"镇党委", "村党支部书记"}
    assert len(by_id["r01"]["items"]) == 26 and len(by_id["r03"]["items"]) == 28
    assert by_id["r03"]["by_group"]["town"]["form"] == "cun-both"
    assert by_id["r03"]["by_group"]["firms"]["kind"] == "grade"
    assert by_id["r01"]["by_group"]["town"]["weight"] == 0.5  # 镇党委's own weight
    for r in by_id.values():
        groups = r["by_group"]
        weights = {g: F(str(v["weight"])) for g, v in groups.items() if v["score"] is not None}
        total = sum(weights.values())
        vote = sum(w / total * F(str(groups[g]["score"])) for g, w in weights.items())
        assert abs(float(vote) - r["vote_score"]) <= 0.01
        composite = sum(F(str(w)) * F(str(r["sources"][s])) for s, w in r["weights"].items())
        assert abs(float(composite) - r["composite_score"]) <= 0.01
        assert r["composite_steps"] and r["composite_decided_by"]
    # r04: 差票 in the grade part and a decisive item: 差 whatever the score
    r04 = by_id["r04"]
    assert r04["final_grade"] == "差" and r04["composite_grade"] == "差"
    assert r04["composite_decided_by"].startswith("否决项“能不能遵守廉洁自律规定")
    assert [s["rule"] for s in r04["composite_steps"]][-2:] == ["poor_share", "decisive"]
    # r05 has no 越级信访件数: left out, its weight spread, with the reason
    assert "越级信访件数无实际值" in r05_reason(by_id)
    # r04 had four experts: the plain mean
    assert r04["source_steps"]["experts"][-1]["why"].startswith("专家4人（不足5人，不去分）")
    ranks = sorted(r["composite_rank"] for r in by_id.values())
    assert ranks == [1, 2, 3, 4, 5, 6]


def r05_reason(by_id: dict) -> str:
    return by_id["r05"]["source_steps"]["indicators"][-1]["why"]


def test_in_process_the_same_json(run: tuple[str, dict], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    printed, result = run
    out = tmp_path / "r.json"
    assert main(["tally", *ARGS, "--json", str(out)]) == 0
    assert capsys.readouterr().out == printed
    assert json.loads(out.read_text(encoding="utf-8")) == result


def test_a_bad_expert_score_names_the_cell(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "专家评分.csv"
    bad.write_text("reporter,e1,e2\nr01,90,120\n", encoding="utf-8")
    assert main(["tally", str(MEETING), str(BALLOTS), "--experts", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"错误：{bad}:2:3：评分120超出范围；应在0到100之间（e2列）\n"
    )


def test_a_missing_items_file_names_it(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    meeting = tmp_path / "m.toml"
    meeting.write_text(MEETING.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["tally", str(meeting), str(BALLOTS)]) == 2
    assert (
        capsys.readouterr().err == f"错误：{tmp_path / 'items' / '村书记28项.toml'}：文件不存在\n"
    )


def test_without_the_files_the_sources_are_left_out(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "r.json"
    assert main(["tally", str(MEETING), str(BALLOTS), "--json", str(out)]) == 0
    capsys.readouterr()
    result = json.loads(out.read_text(encoding="utf-8"))
    r01 = result["reporters"][0]
    assert r01["weights"] == {"vote": 1.0}
    assert r01["composite_score"] == r01["vote_score"]
    assert (
        r01["composite_steps"][0]["why"] == "项目指标、专家点评缺失，其权重去掉，其余来源按比例折算"
    )


@pytest.mark.parametrize(
    "command",
    [
        ("print", "evaluation", "MEETING", "--data", "DATA", "-o", "OUT"),
        ("archive", "MEETING", "--data", "DATA", "-o", "OUT"),
    ],
    # the live record's tally sheet: test_appraisal_sheet.py; the xlsx and the feedback
    # sheets, which carry the composite now: test_appraisal_outputs.py
    ids=["evaluation", "archive"],
)
def test_what_needs_the_record_asks_for_it_for_such_a_meeting(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """Every printout carries a 三评 meeting now (the 综合评价结果表 and the 备案 package:
    tests/integration/test_sanping_evaluation.py); without its record they stop, saying so,
    and no longer refuse the meeting as grades-only."""
    names = {
        "MEETING": str(EXAMPLES / "sanping-meeting.toml"),
        "DATA": str(tmp_path / "data"),
        "OUT": str(tmp_path / "out"),
        "BALLOTS": str(EXAMPLES / "sanping-ballots.csv"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli", *(names.get(part, part) for part in command)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "数据目录不存在" in done.stderr and "暂只支持" not in done.stderr
    assert not (tmp_path / "out").exists()
