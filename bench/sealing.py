"""Times sealing one ballot's marks (every cast) and opening a round of them (every close).

    .venv/bin/python -m bench.sealing

A ballot of thirty reporters sealed by `server.sealing.BallotSealer` (one AEAD with a fresh
nonce, the key agreed once per process and round), and 5,000 such ballots, sealed by two
processes, opened with the round's key and stored again in the clear form
(`server.stored_ballots.open_members`), as a close does. Best of 7 `timeit` runs. Figures in
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import timeit

from server.sealing import BallotOpener, BallotSealer, TellerKeys, new_round_key
from server.stored_ballots import open_members

MARKS = bytes(range(4)) * 7 + bytes([0, 1])  # thirty reporters
BALLOTS = 5000


def main() -> None:
    private, seal = new_round_key(4, TellerKeys.generate().public)
    sealers = [BallotSealer(4, seal.public) for _ in range(2)]
    one = min(
        timeit.repeat(
            lambda: sealers[0].seal("ABCDE-FGHJK", "cadres", MARKS), number=10_000, repeat=7
        )
    )
    members = [sealers[n % 2].seal(f"R{n:04d}-XXXXX", "cadres", MARKS) for n in range(BALLOTS)]
    opening = min(
        timeit.repeat(lambda: open_members(members, BallotOpener(4, private)), number=1, repeat=7)
    )
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"seal one ballot (30 reporters)      {one / 10_000 * 1e6:8.1f} µs")
    print(f"open {BALLOTS:,} ballots (2 sealers)      {opening * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
