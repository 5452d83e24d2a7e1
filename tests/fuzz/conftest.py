"""Hypothesis profiles of the fuzz suite (issue 19).

`make test` runs the "ci" profile: a modest number of examples per property, derandomized
(the same examples on every machine, so a failure in CI reproduces locally), no deadline
(the machine is shared). `SKILLGROVE_FUZZ=long` runs the "long" profile: 40 times the
examples, random, with the seed printed on failure (`--hypothesis-seed=N` replays it).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = "long" if os.environ.get("SKILLGROVE_FUZZ") == "long" else "ci"
settings.load_profile(PROFILE)
