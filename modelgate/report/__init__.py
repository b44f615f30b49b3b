"""Benchmark reports for people: JSON-native tables, a latency plot, a markdown report and Parquet records."""
