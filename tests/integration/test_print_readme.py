"""The README's printout commands run as written (from a directory holding `examples/`)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Printouts") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.startswith("./pingyi ")]


def test_readme_printout_commands_run(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    commands = readme_commands()
    assert {shlex.split(c)[1] for c in commands} >= {"print", "verify"}
    for command in commands:
        args = [sys.executable, "-m", "cli", *shlex.split(command)[1:]]
        done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert (
        "结论：全部一致"
        in subprocess.run(
            [sys.executable, "-m", "cli", *shlex.split(commands[3])[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    )
    for name in ("cards.pdf", "ballots.pdf", "tally.pdf", "feedback.pdf"):
        assert (tmp_path / name).stat().st_size > 1000


def test_docs_images_render_one_page_of_each_printout(tmp_path):
    """`python -m cli.doc_images DIR` (docs/printouts.md) writes the README's four images."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.doc_images", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    names = ("cards", "ballot", "tally", "feedback")
    # the README's four, then every page of a two-page and a one-page tally sheet
    sheets = ("tally-demo-1", "tally-demo-2", "tally-one-page-1")
    assert done.stdout.split() == [
        str(tmp_path / f"printout-{name}.png") for name in (*names, *sheets)
    ]
    names += sheets
    for name in names:
        with Image.open(tmp_path / f"printout-{name}.png") as fresh:
            with Image.open(ROOT / "docs" / "img" / f"printout-{name}.png") as documented:
                assert fresh.size == documented.size, name  # A4 at 100 dpi, the same way up
