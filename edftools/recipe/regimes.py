"""The ``[[regimes]]`` tables of a recipe: one study of the same spaces in several regimes.

The DDS paper designs RegNet in one regime (400MF, 10 epochs, 4 stages, block X) and then
checks that the ordering of the design spaces holds in others (§3.3: higher flops, more
epochs, 5 stages, other block types). A recipe declares those regimes after its base tables::

    name = "digits_regimes"
    ...                                   # dataset, schedule, band, spaces, [sequential]
    [[regimes]]
    name = "base"                         # the first regime is the reference ordering
    [[regimes]]
    name = "flops4x"
    band = { flops = ["1M", "2M"] }       # replaces the recipe's [band]
    [[regimes]]
    name = "epochs10"
    schedule = { epochs = 10 }            # merged into the recipe's [schedule]
    [[regimes]]
    name = "block_r"
    overrides = { block_type = "R" }      # merged into every catalog space's overrides
    # n = 100, seed = 1, description = "...", dataset = { ... } (merged) are allowed too

Each regime is a sweep of its own, named ``<recipe name>.<regime name>`` in the store,
resumable as any sweep; ``edftools sweep`` runs them in order (``--regime`` picks some).
Its identity records the regime (``regime = {study, name, index, changes}``), so that
``edftools generalize`` finds the regimes of a study in a store.

With a ``[sequential]`` table every regime runs its own sequential study at
``alpha / R`` (R regimes): the probability of any false claim over all regimes, steps and
looks is then ≤ alpha (Bonferroni over the regimes; within a regime the study's own
weighted Holm step-down and alpha spending).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edftools.analysis.changes import describe_changes
from edftools.errors import RecipeError
from edftools.recipe.fields import thaw

#: Keys a ``[[regimes]]`` table may set.
REGIME_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "n",
    "seed",
    "dataset",
    "schedule",
    "band",
    "overrides",
)


@dataclass(frozen=True)
class RegimeInfo:
    """Which regime of which study a recipe is: ``study`` (the recipe's name), ``name``,
    ``index`` (0 = the reference regime), ``count`` (regimes in the study) and ``changes``
    (what the regime sets, as written)."""

    study: str
    name: str
    index: int
    count: int
    changes: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (part of the regime sweep's identity)."""
        return {
            "study": self.study,
            "name": self.name,
            "index": self.index,
            "count": self.count,
            "changes": thaw(self.changes),
        }

    def describe(self) -> str:
        """``flops4x (band.flops = [1M, 2M])``: the name and what it changes."""
        if not self.changes:
            return f"{self.name} (the recipe as written)"
        return f"{self.name} ({describe_changes(self.changes)})"


def regime_tables(
    table: Mapping[str, Any],
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each regime's name, full recipe table and changes, from a recipe table with
    ``[[regimes]]`` (see the module docstring). Raises :class:`RecipeError` naming the key
    (``regimes[2].schedule``) for a malformed regime; the merged tables are validated by the
    caller as recipes of their own."""
    raw = table.get("regimes")
    if not isinstance(raw, list) or not raw:
        raise RecipeError("regimes: expected one or more [[regimes]] tables")
    base = {k: v for k, v in table.items() if k != "regimes"}
    names: list[str] = []
    out = []
    for i, regime in enumerate(raw):
        where = f"regimes[{i}]"
        if not isinstance(regime, dict):
            raise RecipeError(f"{where}: expected a table, got {regime!r}")
        unknown = sorted(set(regime) - set(REGIME_KEYS))
        if unknown:
            raise RecipeError(
                f"{where}.{unknown[0]}: unknown regime key; known: {', '.join(REGIME_KEYS)}"
            )
        name = regime.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
            raise RecipeError(
                f"{where}.name: a regime needs a name of letters, digits, '_' and '-', got {name!r}"
            )
        if name in names:
            raise RecipeError(f"{where}.name: duplicate regime name {name!r}")
        names.append(name)
        merged = {k: _copy(v) for k, v in base.items()}
        changes = {k: _copy(v) for k, v in regime.items() if k != "name"}
        for key in ("description", "n", "seed"):
            if key in regime:
                merged[key] = regime[key]
        for key in ("dataset", "schedule"):
            if key in regime:
                merged[key] = {**_table(base.get(key, {}), key), **_table(regime[key], where)}
        if "band" in regime:
            merged["band"] = _table(regime["band"], f"{where}.band")
        if "overrides" in regime:
            merged["spaces"] = _with_overrides(
                base, _table(regime["overrides"], f"{where}.overrides"), where
            )
        out.append((name, merged, changes))
    return out


def _with_overrides(
    base: Mapping[str, Any], overrides: Mapping[str, Any], where: str
) -> list[dict[str, Any]]:
    """The recipe's spaces with ``overrides`` merged into each catalog space's overrides."""
    spaces = base.get("spaces")
    if spaces is None and "space" in base:
        spaces = [base["space"]]
    if not isinstance(spaces, list):
        raise RecipeError(f"{where}.overrides: the recipe has no [[spaces]] to override")
    out = []
    for j, space in enumerate(spaces):
        if not isinstance(space, dict):
            raise RecipeError(f"spaces[{j}]: expected a table, got {space!r}")
        if "definition" in space:
            raise RecipeError(
                f"{where}.overrides: regime overrides apply to catalog spaces; "
                f"spaces[{j}] has a definition"
            )
        own = _table(space.get("overrides", {}), f"spaces[{j}].overrides")
        out.append({**_copy(space), "overrides": {**own, **_copy(overrides)}})
    return out


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecipeError(f"{where}: expected a table, got {value!r}")
    return dict(value)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def split_alpha(merged: dict[str, Any], alpha: float, count: int) -> None:
    """Give a regime's ``[sequential]`` table its share ``alpha / count`` of the study's α."""
    sequential = merged.get("sequential")
    if isinstance(sequential, dict):
        merged["sequential"] = {**sequential, "alpha": alpha / count}
