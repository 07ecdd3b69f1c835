"""Keys people type or pass on a command line (the chair key, the setup key): a key starting
with "-" made `pingyi paper-import --chair-key <key>` fail in argparse, now and then."""

from __future__ import annotations

import argparse

from hypothesis import given, settings
from hypothesis import strategies as st

from server.datadir import typed_key


@settings(max_examples=300, deadline=None)
@given(st.integers())
def test_a_typed_key_is_never_read_as_an_option(_: int) -> None:
    key = typed_key()
    assert len(key) == 24 and key[0].isalnum()
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--chair-key")
    assert parser.parse_args(["--chair-key", key]).chair_key == key
