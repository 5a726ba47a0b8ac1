"""The lab an experiment acts on, named in the experiment's configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from chaoslib.exceptions import ActivityFailed

from drillbook.environments.docker import DockerLab, LabSettings
from drillbook.errors import DrillbookError

__all__ = ["activity", "lab_from"]

F = TypeVar("F", bound=Callable[..., Any])


def lab_from(configuration: Mapping[str, Any] | None) -> DockerLab:
    """The running Docker lab named by ``drillbook_lab`` (default: ``drillbook``)."""
    name = str((configuration or {}).get("drillbook_lab") or "drillbook")
    lab = DockerLab(LabSettings(name=name))
    if not lab.is_up():
        raise ActivityFailed(
            f"drillbook lab {name!r} is not up: start it with `drillbook lab up --name {name}`"
        )
    return lab


def activity(func: F) -> F:
    """Wrap drillbook's own errors (and the engine's) as Chaos Toolkit's ActivityFailed."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ActivityFailed:
            raise
        except (DrillbookError, KeyError, OSError) as exc:
            raise ActivityFailed(f"{func.__name__}: {exc}") from exc
        except Exception as exc:  # the docker client's errors are foreign too
            raise ActivityFailed(f"{func.__name__}: {type(exc).__name__}: {exc}") from exc

    return wrapper  # type: ignore[return-value]
