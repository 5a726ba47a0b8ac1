"""An image recipe: Debian packages plus a few files, hashed so a rebuild happens only on change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = ["RECIPE_FORMAT", "ImageRecipe", "recipe_hash"]

#: bump when the builder itself changes how a recipe becomes an image
RECIPE_FORMAT = 1
_RECIPES_ROOT = resources.files("drillbook.images") / "recipes"


@dataclass(frozen=True)
class ImageRecipe:
    """How to build one lab base image from Debian packages with mmdebstrap + ``docker import``.

    ``files`` maps a path inside the image to a file under ``drillbook/images/recipes/``;
    ``upstream`` names the registry image used instead when the lab's image source is
    ``upstream`` (``None``: built there from ``debian:<suite>-slim`` with the same packages).
    """

    name: str
    packages: tuple[str, ...]
    suite: str = "bookworm"
    files: tuple[tuple[str, str], ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    workdir: str = "/"
    expose: tuple[int, ...] = ()
    upstream: str | None = None
    description: str = field(default="", compare=False)

    @property
    def repository(self) -> str:
        return f"drillbook/{self.name}"

    @property
    def tag(self) -> str:
        """The local image reference: ``drillbook/<name>:<recipe hash>``."""
        return f"{self.repository}:{recipe_hash(self)}"

    def file_source(self, relative: str) -> Path:
        return Path(str(_RECIPES_ROOT / relative))

    def canonical(self) -> dict[str, object]:
        """Everything that decides the image's content, in a stable JSON-able form."""
        return {
            "format": RECIPE_FORMAT,
            "name": self.name,
            "suite": self.suite,
            "packages": sorted(self.packages),
            "files": {
                dest: hashlib.sha256(self.file_source(src).read_bytes()).hexdigest()
                for dest, src in sorted(self.files)
            },
            "entrypoint": list(self.entrypoint),
            "cmd": list(self.cmd),
            "env": sorted(self.env),
            "workdir": self.workdir,
            "expose": sorted(self.expose),
        }


def recipe_hash(recipe: ImageRecipe) -> str:
    """First 12 hex digits of the SHA-256 of the recipe's canonical form (files by content)."""
    blob = json.dumps(recipe.canonical(), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]
