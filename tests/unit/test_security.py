"""The pieces the security promises rest on, checked in-process: receipts, rate limits, the
chair key comparison, the embedded Redis's durability settings, the headers, and input files
that are not what they should be (each refused with a message that says where)."""

from __future__ import annotations

import inspect
import random
import re
import secrets
from pathlib import Path

import pytest

from cli import main
from cli.serve_cmd import read_meeting
from meeting.ballot_checks import ballot_fingerprint, check_cid, receipt_for, receipt_score
from meeting.errors import BadField
from server.app import CSP
from server.ratelimit import FailureLimiter, TokenBucket
from server.redis_target import EMBEDDED_CONFIG
from server.service import MeetingService, hash_key
from tally.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
MEETING = ROOT / "examples" / "demo-meeting.toml"
BALLOTS = ROOT / "examples" / "demo-ballots.csv"


def kendall_tau(order: list[int]) -> float:
    n = len(order)
    concordant = sum(1 if order[i] < order[j] else -1 for i in range(n) for j in range(i + 1, n))
    return concordant / (n * (n - 1) / 2)


def test_stored_order_is_unrelated_to_cast_order() -> None:
    """Ballots are stored by receipt; receipts are a keyed hash of random ballot ids, so the
    stored order is a random permutation of the cast order: over many meetings Kendall's tau
    between the two averages 0, and no single meeting comes near sorted or reversed."""
    rng = random.Random(6)
    taus = []
    for _ in range(200):
        key = rng.randbytes(32)
        cids = [rng.randbytes(16).hex() for _ in range(40)]  # in the order they are cast
        tokens = [rng.randbytes(32).hex() for _ in range(40)]  # the cards, in the same order
        stored = sorted(
            range(40), key=lambda n: receipt_score(receipt_for(key, 1, tokens[n], cids[n]))
        )
        taus.append(kendall_tau(stored))
    assert abs(sum(taus) / len(taus)) < 0.03
    assert max(abs(t) for t in taus) < 0.5


def test_receipts_are_stable_per_ballot_and_say_nothing_else() -> None:
    key, cid, token = secrets.token_bytes(32), secrets.token_hex(16), secrets.token_hex(32)
    receipt = receipt_for(key, 1, token, cid)
    assert receipt == receipt_for(key, 1, token, cid)  # a resubmission gets the same receipt
    assert receipt != receipt_for(secrets.token_bytes(32), 1, token, cid)  # keyed per meeting
    spent = ballot_fingerprint(key, 1, token, cid, {"r01": "好"})
    assert receipt.replace("-", "") not in spent.upper()  # the spent entry ≠ the receipt
    assert len({receipt_for(key, 1, token, secrets.token_hex(16)) for _ in range(2000)}) == 2000


@pytest.mark.parametrize("cid", [None, 7, "", "short", "x" * 65, "票" * 20, b"x" * 20])
def test_a_ballot_id_must_be_16_to_64_ascii_characters(cid: object) -> None:
    with pytest.raises(BadField) as caught:
        check_cid(cid)
    assert caught.value.field == "cid"


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=20, burst=40, clock=lambda: now[0])
    assert sum(bucket.take() for _ in range(100)) == 40
    now[0] += 0.5
    assert sum(bucket.take() for _ in range(100)) == 10
    now[0] += 100
    assert sum(bucket.take() for _ in range(100)) == 40  # never more than the burst


def test_failure_limiter_blocks_an_address_for_its_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=20, window=60, clock=lambda: now[0])
    for _ in range(19):
        limiter.record("10.0.0.7")
    assert not limiter.blocked("10.0.0.7")
    limiter.record("10.0.0.7")
    assert limiter.blocked("10.0.0.7") and not limiter.blocked("10.0.0.8")
    now[0] += 61
    assert not limiter.blocked("10.0.0.7")


def test_the_chair_key_is_compared_in_constant_time_on_hashes() -> None:
    service = MeetingService.__new__(MeetingService)
    service.chair_key_hash = hash_key("correct horse")
    assert service.check_chair_key("correct horse")
    for wrong in ("correct hors", "correct horse ", "", None, 7, ["correct horse"]):
        assert not service.check_chair_key(wrong)
    service.chair_key_hash = ""  # no key set: nobody is chair
    assert not service.check_chair_key("")
    assert "hmac.compare_digest" in inspect.getsource(MeetingService.check_chair_key)


def test_embedded_redis_keeps_every_ballot_and_no_snapshots() -> None:
    assert EMBEDDED_CONFIG["appendonly"] == "yes"
    assert EMBEDDED_CONFIG["appendfsync"] == "always"  # a receipt means it is on disk
    assert EMBEDDED_CONFIG["save"] == '""'  # no RDB snapshots taken during voting
    assert EMBEDDED_CONFIG["auto-aof-rewrite-percentage"] == "0"  # rewrites only at close
    assert EMBEDDED_CONFIG["aof-use-rdb-preamble"] == "yes"  # a rewrite keeps no write order


def test_content_security_policy_allows_no_inline_code_or_other_origins() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP and "http" not in CSP and "*" not in CSP


# ---- input files that are not what they should be -------------------------------------------

GBK_MEETING = '[meeting]\ntitle = "述职评议大会"\ndate = "2026-12-28"\n'


def test_a_meeting_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "会议.toml"
    path.write_bytes(GBK_MEETING.encode("gbk"))
    with pytest.raises(InputError) as caught:
        read_meeting(path)
    assert caught.value.where == str(path) and "UTF-8" in caught.value.message


@pytest.mark.parametrize("encoding", ["gbk", "utf-16"])
def test_tally_names_the_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    ballots = tmp_path / "ballots.csv"
    ballots.write_bytes(BALLOTS.read_text(encoding="utf-8").encode(encoding))
    assert main(["tally", str(MEETING), str(ballots)]) == 2
    error = capsys.readouterr().err
    assert str(ballots) in error and "不是UTF-8编码" in error and "CSV UTF-8" in error
    meeting = tmp_path / "meeting.toml"
    meeting.write_bytes(MEETING.read_text(encoding="utf-8").encode(encoding))
    assert main(["tally", str(meeting), str(BALLOTS)]) == 2
    assert str(meeting) in capsys.readouterr().err


def test_a_csv_with_a_duplicate_id_and_an_unknown_grade_names_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = BALLOTS.read_text(encoding="utf-8").splitlines()
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    assert main(["tally", str(MEETING), str(ballots)]) == 2
    error = capsys.readouterr().err
    assert f"{ballots}:{len(lines) + 1}:1" in error and "重复" in error
    header, first = lines[0].split(","), lines[1].split(",")
    first[-1] = "优秀"
    ballots.write_text("\n".join([lines[0], ",".join(first)]) + "\n", encoding="utf-8")
    assert main(["tally", str(MEETING), str(ballots)]) == 2
    error = capsys.readouterr().err
    assert f"{ballots}:2:{len(header)}" in error and "优秀" in error


def test_every_test_named_here_exists() -> None:
    """docs/security.md names the test behind each promise: each of them must exist."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", doc)
    assert len(named) >= 30
    for path, function in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {function}\(", source, re.M), f"{path}::{function}"
