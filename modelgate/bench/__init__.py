"""Benchmark engine: workloads, load generation, per-request records and metrics."""
