"""The load benchmark, small: 200 phones vote through real servers; every receipted ballot is
counted exactly once in the record (no timing is asserted: the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_small_load_run_counts_every_receipted_ballot_exactly_once(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    command = [sys.executable, "bench/load.py", "--phones", "200", "--reporters", "5"]
    subprocess.run([*command, "--no-write", "--json", str(out)], cwd=ROOT, check=True, timeout=240)
    run = json.loads(out.read_text(encoding="utf-8"))
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
