"""Benchmarks: `skillgrove bench ...` (kept apart from the packages they measure)."""
