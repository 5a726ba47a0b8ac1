"""Game days: plans of scenarios run with humans in the loop (or rehearsed by automation)."""
