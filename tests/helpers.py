"""Test-only bits. The harness the tests share with the benchmarks (a real Redis, real
`pingyi serve` processes, WebSocket peers, …) is the `testkit` package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose tests these are
