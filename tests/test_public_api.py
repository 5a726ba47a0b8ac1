from __future__ import annotations

import subprocess
import sys

import pytest

import drillbook
from drillbook import environments, errors, images
from drillbook.environments import docker


@pytest.mark.parametrize("module", [drillbook, environments, docker, images, errors])
def test_all_names_resolve(module: object) -> None:
    exported = module.__all__  # type: ignore[attr-defined]
    assert exported, module
    for name in exported:
        assert getattr(module, name) is not None, f"{module}.{name}"


def test_lazy_exports_match_all() -> None:
    assert sorted(drillbook.__all__) == sorted(drillbook._EXPORTS)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        drillbook.Nope  # noqa: B018


def test_importing_the_plugin_stays_cheap() -> None:
    code = (
        "import sys, drillbook.pytest_plugin; "
        "print('docker' in sys.modules, 'testcontainers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
