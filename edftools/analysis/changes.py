"""What a regime changes, in one line (light: the recipe reads it without pandas or scipy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_changes(changes: Mapping[str, Any]) -> str:
    """``band.flops = ['1M', '2M']; schedule.epochs = 10``: a regime's changes in one line."""
    parts: list[str] = []
    for key, value in changes.items():
        if isinstance(value, Mapping):
            parts.extend(f"{key}.{k} = {_short(v)}" for k, v in value.items())
        else:
            parts.append(f"{key} = {_short(value)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)
