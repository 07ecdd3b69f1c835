"""Times decoding and checking one client message, the first thing the server does with it.

    .venv/bin/python -m bench.messages

A `cast` as a phone sends it (a msgpack frame on the WebSocket, its JSON twin for
`POST /api/cast`) with one reporter's mark or thirty, decoded by `server.messages` into its
schema with every nested value checked; a refused one (a list inside `marks`) too, and plain
`msgpack.unpackb` of the same frame for scale. Best of 7 `timeit` runs, µs per message.
Figures in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import platform
import timeit
from collections.abc import Callable
from typing import Any

import msgpack

from server import messages

REPORTERS = (1, 30)


def cast(reporters: int) -> dict[str, Any]:
    marks = {f"r{i:02d}": "好" for i in range(1, reporters + 1)}
    return {"t": "cast", "round": 3, "marks": marks, "cid": "c" * 32, "id": "r1234567890"}


def best(run: Callable[[], object]) -> float:
    """µs per call, the best of 7 runs (a busy neighbour on the machine only slows some)."""
    timer = timeit.Timer(run)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=7, number=number)) / number * 1e6


def cases() -> list[tuple[str, Callable[[], object]]]:
    found: list[tuple[str, Callable[[], object]]] = []
    for n in REPORTERS:
        frame = msgpack.packb(cast(n))
        body = json.dumps({**cast(n), "token": "A" * 22}).encode()
        refused = msgpack.packb({**cast(n), "marks": {**cast(n)["marks"], "r01": ["好"]}})
        assert isinstance(messages.decode_frame(frame), messages.Cast)
        assert isinstance(messages.decode_frame(refused), messages.Faulty)
        found += [
            (f"cast, {n} marks: `msgpack.unpackb` alone", lambda f=frame: msgpack.unpackb(f)),
            (f"cast, {n} marks: WebSocket frame", lambda f=frame: messages.decode_frame(f)),
            (
                f"cast, {n} marks: HTTP body",
                lambda b=body: messages.decode_body(messages.CastBody, b),
            ),
            (f"cast, {n} marks: refused frame", lambda f=refused: messages.decode_frame(f)),
        ]
    return found


def main() -> None:
    print("| message | µs |\n|---|---:|")
    for name, run in cases():
        print(f"| {name} | {best(run):.2f} |")
    load = os.getloadavg()[0]
    print(f"\n{os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f}")


if __name__ == "__main__":
    main()
