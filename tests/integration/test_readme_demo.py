"""The README's two top commands: the test command is what CI runs; the demo really serves,
through the `./pingyi` launcher the README names."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

from testkit import free_port, http_json, stop_embedded_redis, wait_until
from tests.helpers import ROOT


def top_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < 200, "the two commands stand at the top"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    setup_and_demo, test = top_commands()
    assert setup_and_demo == "bash scripts/setup && ./pingyi serve --demo"
    assert test in (ROOT / ".ci" / "run").read_text().replace("exec ", "")


def test_the_demo_meeting_serves(tmp_path: Path) -> None:
    demo = shlex.split(top_commands()[0].split("&&")[1])  # ./pingyi serve --demo
    assert demo[0] == "./pingyi"
    port, data = free_port(), tmp_path / "demo-data"
    command = [*demo, "--port", str(port), "--data", str(data)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _up(port), timeout=40)
        status, body = http_json(f"http://127.0.0.1:{port}/api/meeting")
        assert status == 200 and len(body["reporters"]) >= 8
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
        stop_embedded_redis(data)
    assert f"http://127.0.0.1:{port}/screen" in output
    assert f"http://127.0.0.1:{port}/chair?key=" in output
    assert "/j/" in output  # demo phone links


def test_the_launcher_says_what_to_run_when_the_environment_is_missing(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "pingyi", tmp_path / "pingyi")  # a checkout without .venv
    done = subprocess.run(
        [str(tmp_path / "pingyi"), "--help"], capture_output=True, text=True, timeout=10
    )
    assert done.returncode != 0
    assert "run 'bash scripts/setup' first" in done.stderr


def _up(port: int) -> bool:
    try:
        return http_json(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False
