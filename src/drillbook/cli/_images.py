"""``drillbook images build | list``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from drillbook.cli._table import table
from drillbook.engine import docker_client
from drillbook.images import RECIPES, ImageBuilder, get_recipe, recipe_hash

__all__ = ["register"]


def register(sub: Any) -> None:
    images = sub.add_parser("images", help="build and list the lab's air-gapped base images")
    isub = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    build = isub.add_parser("build", help="build images whose recipe changed (or all with --force)")
    build.add_argument("names", nargs="*", metavar="NAME", help="images to build (default: all)")
    build.add_argument(
        "--force", action="store_true", help="rebuild even if the recipe is unchanged"
    )
    build.add_argument("--jobs", type=int, default=2, help="builds at a time (default 2)")
    build.set_defaults(handler=_build)
    prune = isub.add_parser("prune", help="remove images of older recipes and untagged leftovers")
    prune.set_defaults(handler=_prune)
    lst = isub.add_parser("list", help="show what is built from which recipe")
    lst.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lst.set_defaults(handler=_list)


def _build(args: argparse.Namespace) -> int:
    recipes = [get_recipe(n) for n in args.names] if args.names else list(RECIPES)
    builder = ImageBuilder(docker_client())
    for result in builder.build_all(recipes, force=args.force, jobs=args.jobs):
        verb = "built" if result.built else "up to date"
        print(f"{result.recipe.name:<10} {result.tag:<32} {verb} ({result.seconds:.1f}s)")
    return 0


def _prune(args: argparse.Namespace) -> int:
    removed = ImageBuilder(docker_client()).prune()
    print(f"removed {len(removed)} image(s)" + "".join(f"\n  {r}" for r in removed))
    return 0


def _list(args: argparse.Namespace) -> int:
    statuses = ImageBuilder(docker_client()).statuses()
    if args.json:
        payload = [
            {
                "image": s.recipe.name,
                "tag": s.tag,
                "recipe_hash": recipe_hash(s.recipe),
                "built": s.built,
                "size_mb": s.size_mb,
                "created": s.created,
                "packages": sorted(s.recipe.packages),
                "upstream": s.recipe.upstream,
                "stale_tags": list(s.stale_tags),
            }
            for s in statuses
        ]
        json.dump(payload, sys.stdout, indent=2)
        print()
        return 0
    rows = [
        (
            s.recipe.name,
            s.tag,
            "yes" if s.built else "NO",
            f"{s.size_mb} MB" if s.size_mb else "-",
            s.created or "-",
            f"{len(s.recipe.packages)} packages"
            + (f", upstream {s.recipe.upstream}" if s.recipe.upstream else ""),
        )
        for s in statuses
    ]
    print(table(["image", "tag (recipe hash)", "built", "size", "created", "recipe"], rows))
    return 0 if all(s.built for s in statuses) else 1
