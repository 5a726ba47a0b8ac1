"""Build lab base images from Debian packages: mmdebstrap | docker import, tagged by recipe hash."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docker
import docker.errors

from drillbook.errors import ConfigError, ImageError
from drillbook.images._catalog import RECIPES
from drillbook.images._recipe import ImageRecipe, recipe_hash

__all__ = [
    "BuildResult",
    "ImageBuilder",
    "ImageSource",
    "ImageStatus",
    "dockerfile_for",
    "image_source_from_env",
    "import_changes",
    "mmdebstrap_command",
    "recipe_for_reference",
]

ImageSource = Literal["local", "upstream"]
LABEL_IMAGE = "drillbook.image"
LABEL_HASH = "drillbook.recipe-hash"
_DPKG_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/man/*",
    "/usr/share/info/*",
    "/usr/share/locale/*",
)


def image_source_from_env() -> ImageSource:
    """``DRILLBOOK_IMAGE_SOURCE``: ``local`` (default, air-gapped build) or ``upstream``."""
    value = os.environ.get("DRILLBOOK_IMAGE_SOURCE", "local")
    if value not in ("local", "upstream"):
        raise ConfigError(
            f"DRILLBOOK_IMAGE_SOURCE={value!r} is not an image source",
            hint="use 'local' (images built here from Debian packages) or 'upstream' "
            "(postgres:15, redis:7, rabbitmq:3-management from a registry)",
        )
    return "upstream" if value == "upstream" else "local"


@dataclass(frozen=True)
class ImageStatus:
    """What is built for a recipe: its current tag and whether that tag exists in the engine."""

    recipe: ImageRecipe
    tag: str
    built: bool
    size_mb: float | None
    created: str | None
    stale_tags: tuple[str, ...]


@dataclass(frozen=True)
class BuildResult:
    recipe: ImageRecipe
    tag: str
    built: bool  # False: the tag already existed (cache hit)
    seconds: float


def mmdebstrap_command(recipe: ImageRecipe, mmdebstrap: str = "mmdebstrap") -> list[str]:
    """The mmdebstrap invocation writing the recipe's root file system as a tar to stdout."""
    cmd = [mmdebstrap, "--variant=apt", "--quiet", f"--include={','.join(recipe.packages)}"]
    cmd += [f"--dpkgopt=path-exclude={p}" for p in _DPKG_EXCLUDES]
    for dest, src in recipe.files:
        cmd.append(f"--customize-hook=upload {recipe.file_source(src)} {dest}")
        cmd.append(f'--customize-hook=chroot "$1" chmod 0755 {dest}')
    cmd += [recipe.suite, "-"]
    return cmd


def import_changes(recipe: ImageRecipe) -> list[str]:
    """Dockerfile instructions applied by ``docker import --change``."""

    changes = [f"ENV {k}={v}" for k, v in recipe.env]
    if recipe.entrypoint:
        changes.append(f"ENTRYPOINT {json.dumps(list(recipe.entrypoint))}")
    if recipe.cmd:
        changes.append(f"CMD {json.dumps(list(recipe.cmd))}")
    changes.append(f"WORKDIR {recipe.workdir}")
    changes += [f"EXPOSE {p}" for p in recipe.expose]
    changes.append(f"LABEL {LABEL_IMAGE}={recipe.name} {LABEL_HASH}={recipe_hash(recipe)}")
    return changes


def dockerfile_for(recipe: ImageRecipe) -> str:
    """The registry path for a recipe with no upstream image: the same packages on debian-slim."""

    lines = [
        f"FROM debian:{recipe.suite}-slim",
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        "--no-install-recommends "
        + " ".join(sorted(recipe.packages))
        + " && rm -rf /var/lib/apt/lists/*",
    ]
    for dest, src in recipe.files:
        lines.append(f"COPY --chmod=0755 {src} {dest}")
    lines += [f"ENV {k}={v}" for k, v in recipe.env]
    lines.append(f"WORKDIR {recipe.workdir}")
    if recipe.entrypoint:
        lines.append(f"ENTRYPOINT {json.dumps(list(recipe.entrypoint))}")
    if recipe.cmd:
        lines.append(f"CMD {json.dumps(list(recipe.cmd))}")
    lines.append(f"LABEL {LABEL_IMAGE}={recipe.name} {LABEL_HASH}={recipe_hash(recipe)}")
    return "\n".join(lines) + "\n"


class ImageBuilder:
    """Builds, finds and lists the lab's base images in one Docker engine."""

    def __init__(self, client: docker.DockerClient, *, mmdebstrap: str = "mmdebstrap") -> None:
        self._client = client
        self._mmdebstrap = mmdebstrap

    def exists(self, tag: str) -> bool:
        try:
            self._client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        return True

    def status(self, recipe: ImageRecipe) -> ImageStatus:
        tag = recipe.tag
        images = self._client.images.list(name=recipe.repository)
        current = next((i for i in images if tag in i.tags), None)
        stale = tuple(t for i in images for t in i.tags if t != tag)
        return ImageStatus(
            recipe=recipe,
            tag=tag,
            built=current is not None,
            size_mb=round(current.attrs["Size"] / 1e6, 1) if current else None,
            created=current.attrs["Created"][:19] if current else None,
            stale_tags=stale,
        )

    def statuses(self, recipes: Iterable[ImageRecipe] = RECIPES) -> list[ImageStatus]:
        return [self.status(r) for r in recipes]

    def build(self, recipe: ImageRecipe, *, force: bool = False) -> BuildResult:
        """Build ``recipe`` unless its tag exists (or ``force``). Raises :class:`ImageError`."""
        start = time.monotonic()
        tag = recipe.tag
        if not force and self.exists(tag):
            return BuildResult(recipe, tag, built=False, seconds=time.monotonic() - start)
        self._check_tools()
        with tempfile.TemporaryFile() as mm_err, tempfile.TemporaryFile() as imp_out:
            mm = subprocess.Popen(
                mmdebstrap_command(recipe, self._mmdebstrap),
                stdout=subprocess.PIPE,
                stderr=mm_err,
            )
            imp_cmd = ["docker", "import"]
            for change in import_changes(recipe):
                imp_cmd += ["--change", change]
            imp = subprocess.Popen(
                [*imp_cmd, "-", tag], stdin=mm.stdout, stdout=imp_out, stderr=imp_out
            )
            assert mm.stdout is not None
            mm.stdout.close()  # docker import owns the pipe now; mmdebstrap sees EPIPE if it dies
            imp_rc = imp.wait()
            mm_rc = mm.wait()
            if mm_rc != 0 or imp_rc != 0:
                mm_err.seek(0)
                imp_out.seek(0)
                failed = "mmdebstrap" if mm_rc != 0 else "docker import"
                log = (mm_err.read() if mm_rc != 0 else imp_out.read()).decode(errors="replace")
                tail = "\n".join("    " + ln for ln in log.strip().splitlines()[-12:])
                if imp_rc == 0:
                    self._remove_quietly(tag)  # a tag from a truncated tar must not count as built
                raise ImageError(
                    f"building image {recipe.name!r} failed: {failed} exited "
                    f"{mm_rc if mm_rc != 0 else imp_rc}\n{tail}",
                    hint="check the recipe's package names (apt-cache policy NAME) and that "
                    "Debian's archive answers; rebuild with `drillbook images build --force "
                    f"{recipe.name}`",
                )
        self._prune_dangling(recipe)
        return BuildResult(recipe, tag, built=True, seconds=time.monotonic() - start)

    def build_all(
        self, recipes: Sequence[ImageRecipe] = RECIPES, *, force: bool = False, jobs: int = 2
    ) -> list[BuildResult]:
        """Build several recipes, ``jobs`` at a time; the first failure is raised after all end."""
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(self.build, r, force=force) for r in recipes]
            return [f.result() for f in futures]

    def resolve(self, recipe: ImageRecipe, source: ImageSource) -> str:
        """The image reference a lab container runs for ``recipe`` under ``source``."""
        if source == "upstream" and recipe.upstream:
            return recipe.upstream
        if source == "upstream":
            return self._build_upstream(recipe)
        if not self.exists(recipe.tag):
            raise ImageError(
                f"image {recipe.tag} for {recipe.name!r} is not built",
                hint="run `drillbook images build` (or `make bootstrap`); "
                "with a registry, DRILLBOOK_IMAGE_SOURCE=upstream uses upstream images instead",
            )
        return recipe.tag

    def reference(
        self, ref: str, source: ImageSource, *, build: Path | None = None, who: str = ""
    ) -> str:
        """The image a container runs for ``ref``: a recipe name (``postgres``), a recipe's
        repository (``drillbook/postgres``) or an upstream name a recipe stands in for
        (``postgres:16`` runs the local PostgreSQL recipe: there is no registry here), an
        image built from ``build`` (a Compose ``build:`` context, tagged ``ref``), or an
        image the engine already has. Raises :class:`ImageError` saying which it tried."""
        recipe = recipe_for_reference(ref)
        if recipe is not None and build is None:
            return self.resolve(recipe, source)
        if build is not None:
            try:
                self._client.images.build(path=str(build), tag=ref, rm=True)
            except docker.errors.DockerException as exc:
                raise ImageError(
                    f"{who or ref}: building {ref} from {build} failed: {exc}",
                    hint="its FROM image must be on this machine (there is no registry): "
                    "`docker images` lists them, `drillbook images build` adds drillbook/NAME",
                ) from exc
            return ref
        if self.exists(ref):
            return ref
        known = ", ".join(r.name for r in RECIPES)
        raise ImageError(
            f"{who or ref}: image {ref!r} is not on this machine and is no drillbook image",
            hint=f"build it (`docker build -t {ref} ...`, or a Compose build: context), or use "
            f"one of drillbook's images by name: {known} (also as drillbook/NAME, or "
            "postgres:TAG, redis:TAG, rabbitmq:TAG, python:TAG)",
        )

    def _build_upstream(self, recipe: ImageRecipe) -> str:
        tag = f"{recipe.repository}-upstream:{recipe_hash(recipe)}"
        if self.exists(tag):
            return tag
        with tempfile.TemporaryDirectory() as ctx:
            for _dest, src in recipe.files:
                target = Path(ctx) / src
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(recipe.file_source(src), target)
            (Path(ctx) / "Dockerfile").write_text(dockerfile_for(recipe))
            try:
                self._client.images.build(path=ctx, tag=tag, rm=True)
            except docker.errors.DockerException as exc:
                raise ImageError(
                    f"building {tag} from debian:{recipe.suite}-slim failed: {exc}",
                    hint="the upstream image source needs a reachable registry; "
                    "air-gapped, use DRILLBOOK_IMAGE_SOURCE=local",
                ) from exc
        return tag

    def prune(self, recipes: Iterable[ImageRecipe] = RECIPES) -> list[str]:
        """Remove images of older recipes (stale tags) and untagged leftovers; return what went."""
        removed: list[str] = []
        for recipe in recipes:
            for tag in self.status(recipe).stale_tags:
                self._remove_quietly(tag)
                removed.append(tag)
            removed += self._prune_dangling(recipe)
        return removed

    def _prune_dangling(self, recipe: ImageRecipe) -> list[str]:
        # a --force rebuild leaves the previous image untagged; it is only disk
        flt = {"dangling": True, "label": f"{LABEL_IMAGE}={recipe.name}"}
        try:
            result = self._client.images.prune(filters=flt)
        except docker.errors.DockerException:
            return []
        return [
            d.get("Deleted", "") for d in (result.get("ImagesDeleted") or []) if d.get("Deleted")
        ]

    def _check_tools(self) -> None:
        if shutil.which(self._mmdebstrap) is None:
            raise ImageError(
                f"{self._mmdebstrap} is not installed, so lab images cannot be built here",
                hint="run `make bootstrap` (it installs mmdebstrap), "
                "or `apt-get install mmdebstrap`",
            )
        if shutil.which("docker") is None:
            raise ImageError(
                "the docker command line is not installed", hint="apt-get install docker.io"
            )

    def _remove_quietly(self, tag: str) -> None:
        with contextlib.suppress(docker.errors.DockerException):
            self._client.images.remove(tag, force=True)


def recipe_for_reference(ref: str) -> ImageRecipe | None:
    """The recipe an image reference names or stands for: ``postgres``, ``drillbook/postgres``,
    ``drillbook/postgres:<hash>``, or an upstream repository (``postgres:16``,
    ``docker.io/library/redis:7``); None for any other image."""
    name = ref.split("@", 1)[0]
    repo, _, _tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    for prefix in ("docker.io/", "library/"):
        repo = repo.removeprefix(prefix)
    for recipe in RECIPES:
        upstream = (recipe.upstream or "").split(":", 1)[0]
        if repo in (recipe.name, recipe.repository) or (upstream and repo == upstream):
            return recipe
    return None
