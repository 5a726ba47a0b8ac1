"""The Chaos Toolkit bridge: drillbook's faults, probes and remediation verbs as activities.

Experiments under ``experiments/*.yaml`` use ``drillbook.experiments.actions`` and
``drillbook.experiments.probes``; ``chaos discover drillbook`` lists them.
"""

from __future__ import annotations

from typing import Any

from drillbook.experiments._check import ExperimentSummary, check_experiment
from drillbook.experiments.journal import convert_chaos_journal

__all__ = ["ExperimentSummary", "check_experiment", "convert_chaos_journal", "discover"]
__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Describe this extension's activities for ``chaos discover``."""
    from chaoslib.discovery.discover import (
        discover_actions,
        discover_probes,
        initialize_discovery_result,
    )

    discovery: dict[str, Any] = initialize_discovery_result("drillbook", __version__, "drillbook")
    discovery["activities"].extend(discover_actions("drillbook.experiments.actions"))
    discovery["activities"].extend(discover_probes("drillbook.experiments.probes"))
    return discovery
