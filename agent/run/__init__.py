"""Run: the scene and goal of a run, run records, curricula."""
