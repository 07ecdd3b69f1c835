"""How many client messages one pass of the event loop hands to the app.

asyncio runs, in one pass, every callback that became ready during the pass before. When
thousands of phones cast at once, that is every ballot that arrived meanwhile: a pass of a
saturated server grew to 180–240 ms (docs/benchmarks.md), and whatever else was ready (a
chair's action, a timer, the turnout on the projector) waited for all of it. So the wire
(`server.wire`) hands at most `PER_PASS` messages to the app per pass; a connection whose
message found the pass full holds it (and stops reading), and gets it handed over at the start
of a later pass, connections in the order they were held. The work is the same, in passes of
a few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Protocol

# ~150 µs of the app's work a message (a ballot's checks, sealing and batching), and as much again
# for its receipt a pass or two later: ~15 ms a pass.
PER_PASS = 50


class Holder(Protocol):
    def release(self, limit: int) -> int:
        """Hands up to `limit` held messages to the app; how many it handed."""

    def holds(self) -> bool:
        """Whether messages are still held."""


class Admission:
    """The messages left for this pass, and the connections waiting for the next ones."""

    def __init__(self, per_pass: int = PER_PASS) -> None:
        self.per_pass = per_pass
        self.left = per_pass
        self.waiting: collections.deque[Holder] = collections.deque()
        self._refill_due = False

    def take(self) -> bool:
        """Whether one more message may go to the app in this pass."""
        self._next_pass()
        if self.left > 0:
            self.left -= 1
            return True
        return False

    def wait(self, holder: Holder) -> None:
        """`holder` holds messages now; they are handed over as later passes allow."""
        self.waiting.append(holder)
        self._next_pass()

    def refill(self) -> None:
        """At the start of a pass: a full allowance, the waiting connections served first."""
        self._refill_due = False
        self.left = self.per_pass
        while self.waiting and self.left > 0:
            holder = self.waiting[0]
            self.left -= holder.release(self.left)
            if holder.holds():
                break  # the allowance is spent: it goes on first next time
            self.waiting.popleft()
        if self.waiting:
            self._next_pass()

    def _next_pass(self) -> None:
        # Scheduled from within a pass, a callback runs at the start of the next one.
        if not self._refill_due:
            self._refill_due = True
            asyncio.get_running_loop().call_soon(self.refill)
