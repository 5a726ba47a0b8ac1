"""Air-gapped lab images: recipes of Debian packages, built with mmdebstrap and docker import."""

from drillbook.images._builder import (
    BuildResult,
    ImageBuilder,
    ImageSource,
    ImageStatus,
    dockerfile_for,
    image_source_from_env,
    import_changes,
    mmdebstrap_command,
    recipe_for_reference,
)
from drillbook.images._catalog import NODE_RECIPE, RECIPES, get_recipe
from drillbook.images._recipe import ImageRecipe, recipe_hash

__all__ = [
    "NODE_RECIPE",
    "RECIPES",
    "BuildResult",
    "ImageBuilder",
    "ImageRecipe",
    "ImageSource",
    "ImageStatus",
    "dockerfile_for",
    "get_recipe",
    "image_source_from_env",
    "import_changes",
    "mmdebstrap_command",
    "recipe_for_reference",
    "recipe_hash",
]
