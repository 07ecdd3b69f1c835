"""Benchmarks, run as modules from the repository's root: `python -m bench.load`,
`python -m bench.tally_bench` (they import the project and `testkit` as installed packages)."""
