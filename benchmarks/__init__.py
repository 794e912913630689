"""Benchmarks: scripts that measure (not tests). Run with `python -m benchmarks.<name>`."""
