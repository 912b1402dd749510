"""Benchmark scripts: speed of the data layer, and (later) policies compared on history.

Run them as modules, e.g. ``python -m benchmarks.bench_synthetic``; results go to
``benchmarks/results/``.
"""
