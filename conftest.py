"""Project-wide test configuration: Hypothesis profiles and shared markers."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# intensity profiles, chosen with --hypothesis-profile (the Makefile passes ci by default)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("nightly", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
