"""Which 监票人 key `pingyi serve` seals rounds to: one given, the one kept in the data
directory, or one made at the first start (shown once, never stored); `pingyi teller-key`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cli import main
from cli.teller_keys import read_private, serve_keys
from server.datadir import DataDir
from server.sealing import TellerKeys, key_text, parse_key_text
from tally.errors import InputError


def args(public: str | None = None, private: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(teller_public=public, teller_key=private)


def test_the_first_start_makes_a_pair_keeps_the_public_half_and_shows_the_private_once(
    tmp_path: Path,
) -> None:
    data = DataDir(tmp_path / "data").ensure()
    first = serve_keys(args(), data)
    assert first.made is not None and first.private is None
    private = parse_key_text("private", first.made, "key")
    assert TellerKeys.from_private(private).public == first.public
    assert first.made not in "".join(p.read_text() for p in data.root.rglob("*") if p.is_file())
    assert data.teller_public_path.stat().st_mode & 0o777 == 0o600
    later = serve_keys(args(), data)  # the next start seals to the same key and shows nothing
    assert (later.public, later.private, later.made) == (first.public, None, None)


def test_a_given_public_key_replaces_the_kept_one(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data").ensure()
    serve_keys(args(), data)
    teller = TellerKeys.generate()
    given = serve_keys(args(public=key_text("public", teller.public)), data)
    assert (given.public, given.made) == (teller.public, None)
    assert serve_keys(args(), data).public == teller.public


def test_a_private_key_file_gives_both_halves(tmp_path: Path) -> None:
    teller = TellerKeys.generate()
    key_file = tmp_path / "teller.key"
    key_file.write_text(key_text("private", teller.private).lower() + "\n")
    keys = serve_keys(args(private=key_file), DataDir(tmp_path / "data").ensure())
    assert (keys.public, keys.private, keys.made) == (teller.public, teller.private, None)
    assert read_private(key_file) == teller.private


def test_a_public_key_where_the_private_one_belongs_is_refused(tmp_path: Path) -> None:
    teller = TellerKeys.generate()
    key_file = tmp_path / "teller.key"
    key_file.write_text(key_text("public", teller.public))
    with pytest.raises(InputError, match="这是监票人公钥") as caught:
        serve_keys(args(private=key_file), DataDir(tmp_path / "data").ensure())
    assert caught.value.where == "--teller-key"


def test_teller_key_prints_a_pair_or_writes_the_private_half_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teller-key"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines()[:2])
    private = parse_key_text("private", lines["监票人私钥"], "key")
    assert TellerKeys.from_private(private).public == parse_key_text(
        "public", lines["监票人公钥"], "k"
    )

    out = tmp_path / "stick" / "teller.key"
    assert main(["teller-key", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert read_private(out) and key_text("private", read_private(out)) not in printed
    assert out.stat().st_mode & 0o777 == 0o600
