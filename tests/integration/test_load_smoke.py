"""The load benchmark, small: 200 phones vote through real servers; every receipted ballot is
counted exactly once in the record (no timing is asserted: the machine is shared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_small_load_run_counts_every_receipted_ballot_exactly_once(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    doc = ROOT / "docs" / "benchmarks.md"
    before = doc.read_bytes()
    command = [sys.executable, "-m", "bench.load", "--phones", "200", "--reporters", "5"]
    # Its work directory under tmp_path: a process it left behind is found by the session check.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    subprocess.run([*command, "--json", str(out)], cwd=ROOT, env=env, check=True, timeout=240)
    assert doc.read_bytes() == before, "a run without --record wrote docs/benchmarks.md"
    run = json.loads(out.read_text(encoding="utf-8"))
    assert run["command"] == "python -m bench.load --phones 200 --reporters 5"
    for kind in ("burst", "steady"):
        meeting = run[kind]
        assert meeting["join"]["connected"] == 200, meeting["join"]
        assert meeting["ballots"]["accepted"] == 200, meeting["ballots"]["outcomes"]
        record = meeting["verify"]
        assert record["exactly_once"], record
        assert record["receipts"] == record["stored"] == 200, record
        assert record["missing"] == record["doubled"] == record["unreceipted"] == 0, record
    assert run["burst"]["close_to_result"] > 0
    assert all(s["delivered"] == 200 for s in run["burst"]["fanout"])
