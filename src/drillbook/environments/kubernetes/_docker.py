"""The ``docker`` command line, as the real-node cluster and its images use it: one call, its
output, a LabError naming the command when it fails (or "" with ``check=False``)."""

from __future__ import annotations

import subprocess

from drillbook.errors import LabError

__all__ = ["docker", "image_exists"]


def docker(*args: str, check: bool = True, timeout: float = 300) -> str:
    try:
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        if not check:
            return ""
        raise LabError(f"docker {' '.join(args[:3])}: {exc}") from exc
    if done.returncode != 0:
        if not check:
            return ""
        raise LabError(
            f"docker {' '.join(args[:4])} failed: {done.stderr.strip()[-800:]}",
            hint="is the Docker engine up? (make bootstrap starts one)",
        )
    return done.stdout


def image_exists(ref: str) -> bool:
    return bool(docker("image", "inspect", "--format", "{{.Id}}", ref, check=False).strip())
