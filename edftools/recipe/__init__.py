"""TOML recipes: one file describes a whole sweep (spaces, band, dataset, schedule, seed).

A recipe is parsed into a frozen :class:`Recipe` and validated strictly: an unknown key, a value
of the wrong type or an impossible band raises :class:`~edftools.errors.RecipeError` with a
one-line message that names the offending key (``schedule.lr``, ``spaces[2].band.flops``, ...).

Full example (every key shown; only ``name``, ``n``, ``dataset.name`` and at least one space
are required)::

    name = "digits_refinement"      # sweep name, the ``sweep`` column of the store
    description = "AnyNetX A-E and RegNetX/Y at 8x8 digits scale"
    seed = 0                        # sweep seed: configs and per-run seeds derive from it
    n = 100                         # models per space (each space may override it)
    workers = 2                     # runs trained at once (``--workers`` overrides); capped at
                                    #   the pending runs and the usable cores / threads
    device = "cpu"                  # "cpu", "cuda", "cuda:1"
    reruns = { fraction = 0.1, seeds = 2 }  # re-train 10 % of the configs with 2 other seeds
                                    #   each (seed noise; edftools.recipe.reruns; optional)

    [dataset]                       # edftools.train.load_dataset(name, path, **options)
    name = "digits"                 # digits | cifar10 | cifar100 | imagefolder
    # path = "/data/imagenet"       # required by cifar10/100 / imagefolder; ~ is expanded
    # split_seed = 0                # options: digits train/test split seed,
    # test_fraction = 0.333         #   digits test fraction,
    # resolution = 32               #   image size (cifar / imagefolder, default 32 / 224),
    # augment = true                #   pycls's training augmentation (cifar / imagefolder),
    # loader = "auto"               #   auto | memory | stream (cifar; imagefolder streams),
    # loader_workers = 8            #   DataLoader workers (not part of run ids)

    [schedule]                      # any field of edftools.recipe.TrainSchedule
    epochs = 4
    base_lr = 0.1
    batch_size = 64
    # threads = 1                   # torch CPU threads per run (default 1): part of what a run
                                    #   computes, never changed by --workers or the backend

    [band]                          # complexity band(s) every space is conditioned on
    flops = ["2M", "4M"]            # [lo, hi]; numbers or strings with K/M/G suffixes
    # params = [10000, 200000]      # params and acts bands are allowed too

    [failure]                       # what to do when a run fails (a failed run's kind,
                                    #   environment or config, decides whether the next
                                    #   invocation re-runs it: see edftools.records)
    retries = 0                     # re-run a failed run (exception or worker crash) this often
    timeout_s = 600                 # a run longer than this is killed and counts as failed
    num_cpus = 1                    # resources per task, for a cluster executor (Ray);
    num_gpus = 0                    #   num_cpus defaults to schedule.threads

    [[spaces]]                      # a catalog space with overrides (edftools.spaces.get_space)
    name = "AnyNetX_A"              # label stored in the ``space`` column (unique per recipe)
    catalog = "AnyNetX_A"           # defaults to ``name``
    # n = 200                       # per-space n
    # band = { flops = ["2M", "3M"] }   # per-space band, replaces the recipe band
    [spaces.overrides]              # checked when the recipe is read: an unknown key is an
    preset = "digits"               #   error naming it (spaces[0].overrides.foo); the
    stem_width = 16                 #   dataset sets resolution, in_channels and num_classes
                                    #   of a catalog space unless the overrides set them

    [[spaces]]                      # or a full definition (edftools.spaces.space_from_dict)
    name = "MyRegNet"
    [spaces.definition]
    base = "RegNetX"
    # ... restrictions and ranges in the table format of edftools/spaces/space.py

A single space may also be written as one ``[space]`` table instead of ``[[spaces]]``.

``[[regimes]]`` tables (after the others) make the recipe a study of the same spaces in several
regimes, each a sweep of its own named ``<name>.<regime>`` (:mod:`edftools.recipe.regimes`)::

    [[regimes]]
    name = "base"
    [[regimes]]
    name = "flops4x"
    band = { flops = ["8M", "16M"] }

What identifies a run (see :mod:`edftools.train.sweep`) is the sweep name, the space label, the
dataset name and options, the full schedule (defaults filled in, ``threads`` included), the
network config and the per-run seed. ``workers``, ``device``, ``failure``, ``description``,
``n``, ``reruns`` and ``dataset.path`` do not change run ids: a sweep can be resumed on another
machine, with more workers, more models, or the data moved elsewhere, and every run still
computes the same thing (``reruns`` adds runs of their own, with ids of their own).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import edftools.spaces as spaces
from edftools.errors import EdftoolsError, RecipeError, SpaceError
from edftools.recipe.fields import (
    RecipeTable,
    canonical_json,
    freeze,
    parse_bands,
    parse_schedule,
    thaw,
)
from edftools.recipe.reruns import RerunSpec, parse_reruns
from edftools.recipe.schedule import DIGITS_SCHEDULE, TrainSchedule
from edftools.registry import LOADERS, check_device, dataset_input, dataset_kind
from edftools.spaces.catalog import UnknownOverrideError

if TYPE_CHECKING:
    from edftools.recipe.regimes import RegimeInfo
    from edftools.recipe.sequential import SequentialSpec

#: Names of this package loaded on first use: ``[sequential]`` and ``[[regimes]]`` bring in
#: the statistics (numpy-heavy, ~80 ms), which a sweep's workers and a recipe without those
#: tables never need.
_LAZY: dict[str, str] = {
    "RegimeInfo": "edftools.recipe.regimes",
    "SequentialSpec": "edftools.recipe.sequential",
}

__all__ = [
    "DIGITS_SCHEDULE",
    "DatasetSpec",
    "FailurePolicy",
    "Recipe",
    "RegimeInfo",
    "RerunSpec",
    "SequentialSpec",
    "SpaceSpec",
    "TrainSchedule",
    "canonical_json",
    "freeze",
    "load_recipe",
    "parse_recipe",
    "recipe_from_dict",
    "thaw",
]


def __getattr__(name: str) -> Any:
    """Load a :data:`_LAZY` name on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edftools.recipe' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the :data:`_LAZY` ones."""
    return sorted({*globals(), *_LAZY})


DEFAULT_THREADS = 1
"""Torch threads per run when a recipe does not say: the value left out of run ids."""


@dataclass(frozen=True)
class DatasetSpec:
    """The dataset every run trains on: ``load_dataset(name, path, **options)``."""

    name: str
    path: str | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FailurePolicy:
    """Retries and per-task resources (``num_cpus``/``num_gpus`` are for a cluster executor)."""

    retries: int = 0
    timeout_s: float | None = None
    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass(frozen=True)
class SpaceSpec:
    """One design space of a recipe: a catalog name with overrides, or a full definition.

    ``label`` is what the store records in its ``space`` column; ``n`` and ``bands`` are the
    effective values (recipe-level ones unless the space overrides them). ``dataset_input``:
    the recipe dataset's ``in_channels``, ``num_classes`` and ``resolution``
    (:func:`edftools.registry.dataset_input`), which a catalog space takes unless its
    explicit overrides set them (they win over a preset's values); not part of
    :meth:`to_dict`, since the dataset is part of the recipe already.
    """

    label: str
    n: int
    bands: Mapping[str, tuple[float, float]]
    catalog: str | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    definition: Mapping[str, Any] | None = None
    dataset_input: Mapping[str, int] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )

    def build(self) -> spaces.Space:
        """The :class:`edftools.spaces.Space` this spec describes (spaces API errors pass).

        A catalog space: the dataset's input settings, then the overrides (a preset's
        values give way to the dataset's, explicit override keys to nothing).
        """
        if self.definition is not None:
            return spaces.space_from_dict(thaw(self.definition))
        assert self.catalog is not None  # a spec without a definition names its catalog space
        return spaces.get_space(self.catalog, **{**self.dataset_input, **thaw(self.overrides)})

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (used for run planning and the canonical recipe text)."""
        return {
            "label": self.label,
            "n": self.n,
            "bands": {k: list(v) for k, v in self.bands.items()},
            "catalog": self.catalog,
            "overrides": thaw(self.overrides),
            "definition": None if self.definition is None else thaw(self.definition),
        }


@dataclass(frozen=True)
class Recipe:
    """A validated sweep recipe (see the module docstring for the TOML format)."""

    name: str
    n: int
    dataset: DatasetSpec
    schedule: TrainSchedule
    spaces: tuple[SpaceSpec, ...]
    seed: int = 0
    workers: int = 1
    device: str = "cpu"
    failure: FailurePolicy = FailurePolicy()
    description: str = ""
    text: str = ""
    sequential: SequentialSpec | None = None
    regime: RegimeInfo | None = None
    regimes: tuple[Recipe, ...] = ()
    reruns: RerunSpec | None = None

    def regime_named(self, names: Sequence[str] = ()) -> tuple[Recipe, ...]:
        """The regimes called ``names`` (all when empty), in the recipe's order;
        :class:`RecipeError` listing the known ones for an unknown name."""
        if not self.regimes:
            raise RecipeError(f"recipe {self.name!r} declares no [[regimes]]")
        known = [r.regime.name if r.regime is not None else r.name for r in self.regimes]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise RecipeError(
                f"recipe {self.name!r} has no regime {unknown[0]!r}; it has: {', '.join(known)}"
            )
        return tuple(r for r, k in zip(self.regimes, known, strict=True) if not names or k in names)

    def space(self, label: str) -> SpaceSpec:
        """The space with this label, or :class:`RecipeError` listing the known labels."""
        for spec in self.spaces:
            if spec.label == label:
                return spec
        known = ", ".join(s.label for s in self.spaces)
        raise RecipeError(f"recipe {self.name!r} has no space {label!r}; it has: {known}")

    def training_key(self) -> dict[str, Any]:
        """The recipe content that changes what a run trains (part of every run id).

        ``{"sweep": name, "dataset": {"name", "options"}, "schedule": asdict(schedule)}`` with
        every schedule field present (defaults filled in, so writing a default explicitly does
        not change run ids). Dataset options count as written (an explicit default option does
        change ids).

        ``threads`` is part of what a run computes, so it is part of its id, with one
        exception kept for compatibility: the default :data:`DEFAULT_THREADS` = 1 is left out
        of the key. Run ids from before threads counted (``RUN_ID_VERSION`` 1, whose shipped
        reference runs all trained with one thread) therefore keep their meaning, and any other
        thread count gives other ids. No executor, ``--workers`` value or machine changes it.
        """
        schedule = dataclasses.asdict(self.schedule)
        if schedule["threads"] == DEFAULT_THREADS:
            del schedule["threads"]  # the compatible default: see the docstring
        runtime = dataset_kind(self.dataset.name).runtime_options  # e.g. loader_workers
        options = {k: v for k, v in thaw(self.dataset.options).items() if k not in runtime}
        return {
            "sweep": self.name,
            "dataset": {"name": self.dataset.name, "options": options},
            "schedule": schedule,
        }

    def identity(self) -> dict[str, Any]:
        """What a sweep of this name is: its training key, seed and space definitions.

        ``{**training_key(), "seed", "spaces": [{label, catalog, overrides, definition, bands}]}``
        — everything that decides which runs are planned and how they train, but not ``n``,
        ``reruns``, ``workers``, ``device``, ``failure``, ``description`` or ``dataset.path``
        — and the ``[sequential]`` design when there is one (a study cannot change its design
        midway). The store keeps :meth:`identity_text` as the sweep's recipe, so resuming with
        an edited recipe that changes any of it is refused, while more models or workers (or
        reruns) are fine.
        """
        spaces = []
        for spec in self.spaces:
            d = spec.to_dict()
            d.pop("n")
            spaces.append(d)
        out = {**self.training_key(), "seed": self.seed, "spaces": spaces}
        if self.sequential is not None:
            out["sequential"] = self.sequential.to_dict()
        if self.regime is not None:
            out["regime"] = self.regime.to_dict()
        return out

    def identity_text(self) -> str:
        """:meth:`identity` as indented canonical JSON (stored as the sweep's recipe)."""
        return json.dumps(self.identity(), sort_keys=True, indent=1)


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    """Read and validate a TOML recipe file (:class:`RecipeError` on any problem)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"recipe file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read recipe {p}: {exc}") from None
    return parse_recipe(text, source=str(p))


def parse_recipe(text: str, source: str = "<recipe>") -> Recipe:
    """Parse and validate recipe TOML text; the text is kept verbatim in ``Recipe.text``."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{source}: invalid TOML: {exc}") from None
    return recipe_from_dict(table, text=text)


def recipe_from_dict(table: Mapping[str, Any], text: str = "") -> Recipe:
    """Validate a parsed recipe table and build the :class:`Recipe` (with its
    :attr:`Recipe.regimes` when it has ``[[regimes]]``: :mod:`edftools.recipe.regimes`)."""
    if "regimes" in table:
        return _with_regimes(table, text)
    t = RecipeTable(table, "")
    name = t.string("name", required=True)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise RecipeError(f"name: use letters, digits, '_', '-' and '.' only, got {name!r}")
    n = t.integer("n", required=True, minimum=1)
    seed = t.integer("seed", default=0, minimum=0)
    workers = t.integer("workers", default=1, minimum=1)
    device = t.string("device", default="cpu")
    try:
        check_device(device)
    except EdftoolsError as exc:
        raise RecipeError(f"device: {exc}") from None
    description = t.string("description", default="")
    dataset = _parse_dataset(t.sub("dataset", required=True))
    schedule = parse_schedule(t.sub("schedule", required=False))
    bands = parse_bands(t.sub("band", required=False))
    failure = _parse_failure(t.sub("failure", required=False), schedule)
    given = dataset_input(dataset.name, dataset.path, dataset.options)
    spaces = _parse_spaces(t, n, bands, given)
    sequential = None
    if "sequential" in t:
        from edftools.recipe.sequential import parse_sequential

        sequential = parse_sequential(t.sub("sequential", required=True), [s.label for s in spaces])
    reruns = parse_reruns(t.sub("reruns", required=True)) if "reruns" in t else None
    t.check_unknown()
    return Recipe(
        name=name,
        n=n,
        dataset=dataset,
        schedule=schedule,
        spaces=spaces,
        seed=seed,
        workers=workers,
        device=device,
        failure=failure,
        description=description,
        text=text,
        sequential=sequential,
        reruns=reruns,
    )


def _with_regimes(table: Mapping[str, Any], text: str) -> Recipe:
    """The base recipe (the tables without ``[[regimes]]``) holding one recipe per regime."""
    from edftools.recipe.regimes import RegimeInfo, regime_tables, split_alpha

    base = recipe_from_dict({k: v for k, v in table.items() if k != "regimes"}, text=text)
    expanded = regime_tables(table)
    regimes = []
    for i, (name, merged, changes) in enumerate(expanded):
        merged["name"] = f"{base.name}.{name}"
        if base.sequential is not None:
            split_alpha(merged, base.sequential.design.alpha, len(expanded))
        try:
            recipe = recipe_from_dict(merged, text=text)
        except RecipeError as exc:
            raise RecipeError(f"regimes[{i}] ({name}): {exc}") from None
        info = RegimeInfo(base.name, name, i, len(expanded), freeze(changes))
        regimes.append(dataclasses.replace(recipe, regime=info))
    return dataclasses.replace(base, regimes=tuple(regimes))


def _parse_dataset(t: RecipeTable) -> DatasetSpec:
    name = t.string("name", required=True)
    try:
        kind = dataset_kind(name)
    except EdftoolsError as exc:
        raise RecipeError(f"dataset.name: {exc}") from None
    path = t.string("path", default=None)
    if path is not None:
        path = os.path.expanduser(path)
    if kind.needs_path and not path:
        raise RecipeError(f"dataset.path: dataset {name!r} needs a path")
    options: dict[str, Any] = {}
    if "split_seed" in t:
        options["split_seed"] = t.integer("split_seed", minimum=0)
    if "resolution" in t:
        options["resolution"] = t.integer("resolution", minimum=1)
    if "test_fraction" in t:
        frac = t.number("test_fraction")
        if not 0 < frac < 1:
            raise RecipeError(f"{t.where('test_fraction')}: must be in (0, 1), got {frac}")
        options["test_fraction"] = frac
    if "augment" in t:
        options["augment"] = t.get("augment", kind=bool)
    if "loader" in t:
        options["loader"] = t.string("loader")
        if options["loader"] not in LOADERS:
            raise RecipeError(f"{t.where('loader')}: must be one of {', '.join(LOADERS)}")
    if "loader_workers" in t:
        options["loader_workers"] = t.integer("loader_workers", minimum=0)
    for key in options:
        if key not in kind.options:
            raise RecipeError(f"{t.where(key)}: not an option of dataset {name!r}")
    t.check_unknown()
    return DatasetSpec(name=name, path=path, options=freeze(options))


def _parse_failure(t: RecipeTable, schedule: TrainSchedule) -> FailurePolicy:
    retries = t.integer("retries", default=0, minimum=0)
    timeout = t.number("timeout_s", default=None)
    if timeout is not None and not timeout > 0:
        raise RecipeError(f"{t.where('timeout_s')}: must be > 0, got {timeout}")
    num_cpus = t.number("num_cpus", default=float(schedule.threads))
    num_gpus = t.number("num_gpus", default=0.0)
    if not num_cpus > 0:
        raise RecipeError(f"{t.where('num_cpus')}: must be > 0, got {num_cpus}")
    if num_gpus < 0:
        raise RecipeError(f"{t.where('num_gpus')}: must be >= 0, got {num_gpus}")
    t.check_unknown()
    return FailurePolicy(retries, timeout, num_cpus, num_gpus)


def _parse_spaces(
    t: RecipeTable,
    n: int,
    bands: dict[str, tuple[float, float]],
    given: Mapping[str, int] | None = None,
) -> tuple[SpaceSpec, ...]:
    if "space" in t and "spaces" in t:
        raise RecipeError("spaces: write either one [space] table or [[spaces]] tables, not both")
    if "space" in t:
        tables = [t.get("space", kind=dict)]
        prefix = ["space"]
    else:
        raw = t.get("spaces", required=True, kind=list)
        if not raw:
            raise RecipeError("spaces: a recipe needs at least one space")
        tables = raw
        prefix = [f"spaces[{i}]" for i in range(len(raw))]
    specs: list[SpaceSpec] = []
    for where, table in zip(prefix, tables, strict=True):
        if not isinstance(table, dict):
            raise RecipeError(f"{where}: expected a table, got {table!r}")
        specs.append(_parse_space(RecipeTable(table, where), n, bands, given or {}))
    labels = [s.label for s in specs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise RecipeError(f"spaces: duplicate space name(s) {', '.join(dupes)}")
    return tuple(specs)


def _parse_space(
    t: RecipeTable, n: int, bands: dict[str, tuple[float, float]], given: Mapping[str, int]
) -> SpaceSpec:
    label = t.string("name", required=True)
    if not label.strip():
        raise RecipeError(f"{t.where('name')}: must not be empty")
    space_n = t.integer("n", default=n, minimum=1)
    if "band" in t:
        bands = parse_bands(t.sub("band", required=True))
    definition = t.get("definition", default=None, kind=dict)
    if definition is not None:
        if "catalog" in t or "overrides" in t:
            raise RecipeError(
                f"{t.where('definition')}: give either a definition or catalog/overrides, not both"
            )
        t.check_unknown()
        spec = SpaceSpec(label, space_n, freeze(bands), definition=freeze(definition))
        _check_builds(spec, t.where("definition"))
        return spec
    catalog = t.string("catalog", default=label)
    overrides = t.get("overrides", default={}, kind=dict)
    t.check_unknown()
    try:
        spaces.get_space(catalog)
    except SpaceError as exc:
        raise RecipeError(f"{t.where('catalog')}: {exc}") from None
    spec = SpaceSpec(
        label,
        space_n,
        freeze(bands),
        catalog=catalog,
        overrides=freeze(overrides),
        dataset_input=freeze(dict(given)),
    )
    _check_builds(spec, t.where("overrides"))
    return spec


def _check_builds(spec: SpaceSpec, where: str) -> None:
    """Build the space now, so a bad override or definition is an error naming its key."""
    try:
        spec.build()
    except UnknownOverrideError as exc:
        known = ", ".join(exc.known)
        raise RecipeError(f"{where}.{exc.key}: unknown override; known: {known}") from None
    except SpaceError as exc:
        raise RecipeError(f"{where}: {exc}") from None
