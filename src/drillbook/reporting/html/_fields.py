"""Typed access to the journal's JSON objects, with errors that name the file and the field."""

from __future__ import annotations

import json
from typing import Any

from drillbook.errors import ConfigError

__all__ = ["Fields"]


class Fields:
    """Typed access to one JSON object with errors that name the file and the field."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object, found {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def _bad(self, key: str, expected: str) -> ConfigError:
        found = self.data.get(key)
        return ConfigError(
            f"{self.where}.{key}: expected {expected}, found {json.dumps(found)[:80]}",
            hint="the journal is written by drillbook run; a hand-edited one must keep its types",
        )

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, "a string or null")
        return value

    def num(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(key, "a number")
        return float(value)

    def opt_num(self, key: str) -> float | None:
        return None if self.data.get(key) is None else self.num(key)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def mapping(self, key: str) -> Fields | None:
        """The object at ``key``, None when absent or null."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._bad(key, "an object")
        return Fields(value, f"{self.where}.{key}")

    def texts(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings")
        return list(value)

    def items(self, key: str) -> list[Fields]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._bad(key, "a list")
        return [Fields(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def numbers(self, key: str) -> dict[str, float]:
        value = self.data.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        ):
            raise self._bad(key, "an object of numbers")
        return {str(k): float(v) for k, v in value.items()}
