"""Benchmarks: poll cycle, matcher, memory (see bench/README.md)."""
