from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from drillbook.errors import ConfigError
from drillbook.images import (
    RECIPES,
    ImageRecipe,
    dockerfile_for,
    get_recipe,
    import_changes,
    mmdebstrap_command,
    recipe_hash,
)

PG = get_recipe("postgres")


def test_hash_is_stable_and_short() -> None:
    assert recipe_hash(PG) == recipe_hash(dataclasses.replace(PG))
    assert len(recipe_hash(PG)) == 12
    assert PG.tag == f"drillbook/postgres:{recipe_hash(PG)}"


def test_hash_ignores_package_order_and_description() -> None:
    shuffled = dataclasses.replace(PG, packages=tuple(reversed(PG.packages)), description="x")
    assert recipe_hash(shuffled) == recipe_hash(PG)


@pytest.mark.parametrize(
    "change",
    [
        {"packages": (*PG.packages, "strace")},
        {"suite": "trixie"},
        {"cmd": ("postgres", "-c", "fsync=off")},
        {"env": (*PG.env, ("X", "1"))},
        {"entrypoint": ("/bin/sh",)},
    ],
)
def test_hash_changes_when_the_recipe_changes(change: dict[str, object]) -> None:
    assert recipe_hash(dataclasses.replace(PG, **change)) != recipe_hash(PG)


def test_hash_follows_file_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = ImageRecipe(name="t", packages=("a",), files=(("/x", "f.sh"),))
    target = tmp_path / "f.sh"
    monkeypatch.setattr(ImageRecipe, "file_source", lambda self, rel: target)
    target.write_text("echo one\n")
    first = recipe_hash(recipe)
    target.write_text("echo two\n")
    assert recipe_hash(recipe) != first


def test_catalog_holds_the_lab_images() -> None:
    names = {r.name for r in RECIPES}
    assert {"postgres", "redis", "rabbitmq", "python", "monitoring"} <= names
    assert "postgresql-15" in get_recipe("postgres").packages
    assert "redis-server" in get_recipe("redis").packages
    assert "rabbitmq-server" in get_recipe("rabbitmq").packages
    py = get_recipe("python").packages
    assert {"python3", "python3-aiohttp", "python3-asyncpg"} <= set(py)


def test_recipe_files_exist_and_are_shipped() -> None:
    for recipe in RECIPES:
        for _dest, src in recipe.files:
            assert recipe.file_source(src).is_file(), src


def test_unknown_image_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="postgres, redis, rabbitmq, python, monitoring"):
        get_recipe("mysql")


def test_mmdebstrap_command_uploads_files_and_writes_tar_to_stdout() -> None:
    cmd = mmdebstrap_command(PG)
    assert cmd[0] == "mmdebstrap"
    assert cmd[-2:] == ["bookworm", "-"]
    assert any(c.startswith("--include=") and "postgresql-15" in c for c in cmd)
    assert any(
        c.startswith("--customize-hook=upload ")
        and c.endswith(" /usr/local/bin/docker-entrypoint.sh")
        for c in cmd
    )


def test_import_changes_are_dockerfile_instructions_with_labels() -> None:
    changes = import_changes(PG)
    assert 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' in changes
    assert 'CMD ["postgres"]' in changes
    assert f"LABEL drillbook.image=postgres drillbook.recipe-hash={recipe_hash(PG)}" in changes
    entry = next(c for c in changes if c.startswith("CMD "))
    assert json.loads(entry[4:]) == ["postgres"]


def test_upstream_dockerfile_installs_the_same_packages() -> None:
    py = get_recipe("python")
    text = dockerfile_for(py)
    assert text.startswith("FROM debian:bookworm-slim\n")
    for pkg in py.packages:
        assert pkg in text
    assert "WORKDIR /app" in text
    assert get_recipe("postgres").upstream == "postgres:15"
    assert get_recipe("redis").upstream == "redis:7"
    assert get_recipe("rabbitmq").upstream == "rabbitmq:3-management"
