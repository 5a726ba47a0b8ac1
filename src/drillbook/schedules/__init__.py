"""Randomized fault schedules: Hypothesis-generated sequences of faults with invariants."""
