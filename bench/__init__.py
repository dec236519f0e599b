"""Benchmarks: run with `make bench`; figures go to bench/RESULTS.md."""
