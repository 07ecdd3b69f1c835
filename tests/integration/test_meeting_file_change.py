"""A meeting file edited after voting began must not reinterpret the ballots stored so far."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit import ServerProcess, embedded_redis, write_meeting


def test_reordering_the_grades_after_voting_began_is_refused(tmp_path: Path) -> None:
    meeting_path, _ = write_meeting(tmp_path)
    data = tmp_path / "data"
    server = ServerProcess(meeting_path, data).start()
    try:
        server.vote_step()
        assert embedded_redis(data)
    finally:
        server.stop()
    assert not embedded_redis(data), "the server stopped, its embedded Redis still runs"
    text = meeting_path.read_text(encoding="utf-8")
    assert "grades" not in text  # the defaults: 好 较好 一般 差
    swapped = text.replace(
        "[rules]\n", '[rules]\ngrades = ["较好", "好", "一般", "差"]\npoor_grade = "差"\n', 1
    )
    meeting_path.write_text(swapped, encoding="utf-8")
    again = ServerProcess(meeting_path, data)
    with pytest.raises(RuntimeError, match="rules.grades"):
        again.start()
    assert "会议开始后不能修改等次或其顺序" in again.log()
    # A refused start stops the embedded Redis it started (the session's check would catch
    # it too, at the end of the run; this names the test).
    assert not embedded_redis(data), "a refused start left its embedded Redis running"
