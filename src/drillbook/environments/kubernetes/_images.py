"""The images a real-node cluster runs besides the lab's base images: the stack's code on the
``python`` base image as one thin layer (``docker build`` of a streamed context: nothing is
pulled, the base is local), tagged by the content of the base and of every file copied in, so a
code change makes a new tag and nothing else does.

On the Docker lab the code is mounted into the ``python`` image instead; a pod cannot mount the
host's checkout (the node is a container), so here it is copied in.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

from drillbook.environments.kubernetes._docker import docker, image_exists
from drillbook.errors import LabError

__all__ = [
    "STACK_IMAGE_NAMES",
    "cluster_images",
    "code_image",
    "stack_layers",
    "tag_cluster_images",
]

#: what the reference stack's manifests call the code image (fixtures/k8s)
STACK_IMAGE_NAMES = ("trading-bot/backend:v1.0.0", "trading-bot/frontend:v1.0.0")


def stack_layers(root: Path) -> dict[str, Path]:
    """The reference stack's code as the Docker lab mounts it: ``fixtures/stack`` at ``/app``,
    the fake exchange at ``/app/fake_exchange``."""
    return {"app": root / "fixtures" / "stack", "app/fake_exchange": root / "src" / "fake_exchange"}


def _files(layers: Mapping[str, Path]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for target, source in sorted(layers.items()):
        if not source.is_dir():
            raise LabError(f"code image: {source} is not a directory")
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out.append((f"{target}/{path.relative_to(source).as_posix()}", path))
    return out


def code_image(
    base: str, layers: Mapping[str, Path], say: Callable[[str], None] = print, name: str = "stack"
) -> str:
    """``drillbook/<name>:<hash>``: ``base`` with each directory of ``layers`` (path in the
    image, relative to / -> a host directory) copied in; built only when missing."""
    files = _files(layers)
    digest = hashlib.sha256(base.encode())
    for arcname, path in files:
        digest.update(arcname.encode() + b"\0" + path.read_bytes() + b"\0")
    ref = f"drillbook/{name}:{digest.hexdigest()[:12]}"
    if image_exists(ref):
        return ref
    say(f"making image {ref}: {base} with {', '.join('/' + t for t in sorted(layers))}")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dockerfile = f"FROM {base}\nCOPY ctx/ /\n".encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        for arcname, path in files:
            entry = tar.gettarinfo(str(path), arcname=f"ctx/{arcname}")
            entry.uid = entry.gid = 0
            entry.uname = entry.gname = "root"
            entry.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            with path.open("rb") as fh:
                tar.addfile(entry, fh)
    done = subprocess.run(
        ["docker", "build", "-q", "-t", ref, "-"],
        input=buf.getvalue(),
        capture_output=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise LabError(
            f"docker build of {ref} failed: {done.stderr.decode()[-500:]}",
            hint=f"is {base} built? (`drillbook images build`)",
        )
    return ref


def cluster_images(
    recipes: tuple[str, ...],
    root: Path,
    say: Callable[[str], None] = print,
    *,
    code: bool = True,
) -> dict[str, tuple[str, ...]]:
    """Docker reference -> the names the stack's manifests use for it: each lab image
    (``drillbook/<name>:lab``) and, with ``code``, the stack's code image on the python image
    (its release tags), built when missing. LabError when a lab image is not built."""
    from drillbook.images import get_recipe

    refs: dict[str, tuple[str, ...]] = {}
    for name in recipes:
        recipe = get_recipe(name)
        if not image_exists(recipe.tag):
            raise LabError(
                f"image {recipe.tag} is not built",
                hint="run `drillbook images build` (make bootstrap does)",
            )
        refs[recipe.tag] = (f"{recipe.repository}:lab",)
    if code and "python" in recipes:
        stack = code_image(get_recipe("python").tag, stack_layers(root), say)
        refs[stack] = ("drillbook/stack:lab", *STACK_IMAGE_NAMES)
    return refs


def tag_cluster_images(images: Mapping[str, tuple[str, ...]]) -> list[str]:
    """``docker tag`` each image with the names the manifests use (for ``kind load
    docker-image``, which loads what the local engine has by name); those names."""
    names = []
    for ref, aliases in images.items():
        for alias in aliases:
            docker("tag", ref, alias)
            names.append(alias)
    return names
