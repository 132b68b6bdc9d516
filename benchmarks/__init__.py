"""Benchmarks run by ``make bench`` (``python -m benchmarks``).

Each module ``benchmarks/bench_*.py`` defines ``main(size: str) -> dict`` that
prints its figures and returns them. Every benchmark compares against its named
baseline in the same run and prints the ratio, because shared machines are noisy.
"""
