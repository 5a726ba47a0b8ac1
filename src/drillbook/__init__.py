"""drillbook: prove that runbooks work.

Inject the failure a runbook is written for into a lab copy of the system, run the runbook's
procedure, and assert recovery within the runbook's own SLA times, with evidence.

The public surface is small and re-exported here; it is imported lazily so that loading the
pytest plugin (which imports this package) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "DrillbookError": "drillbook.errors",
    "ConfigError": "drillbook.errors",
    "LabError": "drillbook.errors",
    "WaitTimeout": "drillbook.errors",
    "Check": "drillbook.waiting",
    "Wait": "drillbook.waiting",
    "ServiceSpec": "drillbook.environments",
    "ServiceHandle": "drillbook.environments",
    "Environment": "drillbook.environments",
    "SERVICES": "drillbook.environments",
    "DockerLab": "drillbook.environments.docker",
    "LabSettings": "drillbook.environments.docker",
    "ImageBuilder": "drillbook.images",
    "ImageRecipe": "drillbook.images",
}

__all__ = [
    "SERVICES",
    "Check",
    "ConfigError",
    "DockerLab",
    "DrillbookError",
    "Environment",
    "ImageBuilder",
    "ImageRecipe",
    "LabError",
    "LabSettings",
    "ServiceHandle",
    "ServiceSpec",
    "Wait",
    "WaitTimeout",
]

if TYPE_CHECKING:
    from drillbook.environments import SERVICES, Environment, ServiceHandle, ServiceSpec
    from drillbook.environments.docker import DockerLab, LabSettings
    from drillbook.errors import ConfigError, DrillbookError, LabError, WaitTimeout
    from drillbook.images import ImageBuilder, ImageRecipe
    from drillbook.waiting import Check, Wait


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drillbook' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
