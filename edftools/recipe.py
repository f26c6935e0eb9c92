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
    workers = 2                     # default worker processes (``--workers`` overrides)
    device = "cpu"                  # "cpu", "cuda", "cuda:1", "mps"

    [dataset]                       # edftools.train.load_dataset(name, path, **options)
    name = "digits"                 # digits | cifar10 | imagefolder
    # path = "/data/imagenet"       # required by cifar10 / imagefolder; ~ is expanded
    # split_seed = 0                # options: digits train/test split seed,
    # test_fraction = 0.333         #   digits test fraction,
    # resolution = 32               #   resize images (cifar10 / imagefolder)

    [schedule]                      # any field of edftools.train.schedule.TrainSchedule
    epochs = 4                      # (``threads`` is set per worker by the sweep)
    base_lr = 0.1
    batch_size = 64

    [band]                          # complexity band(s) every space is conditioned on
    flops = ["2M", "4M"]            # [lo, hi]; numbers or strings with K/M/G suffixes
    # params = [10000, 200000]      # params and acts bands are allowed too

    [failure]                       # what to do when a run fails
    retries = 0                     # re-run a failed run (exception or worker crash) this often
    timeout_s = 600                 # a run longer than this is killed and counts as failed
    num_cpus = 1                    # resources per task, for a cluster executor (Ray)
    num_gpus = 0

    [[spaces]]                      # a catalog space with overrides (edftools.spaces.get_space)
    name = "AnyNetX_A"              # label stored in the ``space`` column (unique per recipe)
    catalog = "AnyNetX_A"           # defaults to ``name``
    # n = 200                       # per-space n
    # band = { flops = ["2M", "3M"] }   # per-space band, replaces the recipe band
    [spaces.overrides]
    resolution = 8
    in_channels = 1
    num_classes = 10

    [[spaces]]                      # or a full definition (edftools.spaces.space_from_dict)
    name = "MyRegNet"
    [spaces.definition]
    base = "RegNetX"
    # ... restrictions and ranges in the table format of edftools/spaces/space.py

A single space may also be written as one ``[space]`` table instead of ``[[spaces]]``.

What identifies a run (see :mod:`edftools.train.sweep`) is the sweep name, the space label, the
dataset name and options, the full schedule (defaults filled in), the network config and the
per-run seed. ``workers``, ``device``, ``failure``, ``description``, ``n`` and ``dataset.path``
do not change run ids: a sweep can be resumed on another machine, with more workers, more
models, or the data moved elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from edftools.errors import RecipeError

BAND_METRICS: tuple[str, ...] = ("flops", "params", "acts")
DATASETS: tuple[str, ...] = ("digits", "cifar10", "imagefolder")
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
_NUMBER_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([KMGBT]?)\s*$", re.I)
_DEVICE_RE = re.compile(r"^(cpu|mps|cuda(:[0-9]+)?)$")


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
    effective values (recipe-level ones unless the space overrides them).
    """

    label: str
    n: int
    bands: Mapping[str, tuple[float, float]]
    catalog: str | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    definition: Mapping[str, Any] | None = None

    def build(self) -> Any:
        """The :class:`edftools.spaces.Space` this spec describes (spaces API errors pass)."""
        import edftools.spaces as spaces

        if self.definition is not None:
            return spaces.space_from_dict(_thaw(self.definition))
        return spaces.get_space(self.catalog, **_thaw(self.overrides))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (used for run planning and the canonical recipe text)."""
        return {
            "label": self.label,
            "n": self.n,
            "bands": {k: list(v) for k, v in self.bands.items()},
            "catalog": self.catalog,
            "overrides": _thaw(self.overrides),
            "definition": None if self.definition is None else _thaw(self.definition),
        }


@dataclass(frozen=True)
class Recipe:
    """A validated sweep recipe (see the module docstring for the TOML format)."""

    name: str
    n: int
    dataset: DatasetSpec
    schedule: Any  # edftools.train.schedule.TrainSchedule
    spaces: tuple[SpaceSpec, ...]
    seed: int = 0
    workers: int = 1
    device: str = "cpu"
    failure: FailurePolicy = FailurePolicy()
    description: str = ""
    text: str = ""

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
        not change run ids) except ``threads``, which the sweep sets per worker. Dataset
        options count as written (an explicit default option does change ids).
        """
        schedule = dataclasses.asdict(self.schedule)
        schedule.pop("threads", None)  # set per worker; not part of what a run is
        return {
            "sweep": self.name,
            "dataset": {"name": self.dataset.name, "options": _thaw(self.dataset.options)},
            "schedule": schedule,
        }

    def identity(self) -> dict[str, Any]:
        """What a sweep of this name is: its training key, seed and space definitions.

        ``{**training_key(), "seed", "spaces": [{label, catalog, overrides, definition, bands}]}``
        — everything that decides which runs are planned and how they train, but not ``n``,
        ``workers``, ``device``, ``failure``, ``description`` or ``dataset.path``. The store
        keeps :meth:`identity_text` as the sweep's recipe, so resuming with an edited recipe
        that changes any of it is refused, while more models or workers are fine.
        """
        spaces = []
        for spec in self.spaces:
            d = spec.to_dict()
            d.pop("n")
            spaces.append(d)
        return {**self.training_key(), "seed": self.seed, "spaces": spaces}

    def identity_text(self) -> str:
        """:meth:`identity` as indented canonical JSON (stored as the sweep's recipe)."""
        return json.dumps(self.identity(), sort_keys=True, indent=1)


# ---------------------------------------------------------------------------------------------
# Parsing


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
    """Validate a parsed recipe table and build the :class:`Recipe`."""
    t = _Table(table, "")
    name = t.string("name", required=True)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise RecipeError(f"name: use letters, digits, '_', '-' and '.' only, got {name!r}")
    n = t.integer("n", required=True, minimum=1)
    seed = t.integer("seed", default=0, minimum=0)
    workers = t.integer("workers", default=1, minimum=1)
    device = t.string("device", default="cpu")
    if not _DEVICE_RE.match(device):
        raise RecipeError(f"device: expected cpu, mps, cuda or cuda:N, got {device!r}")
    description = t.string("description", default="")
    dataset = _parse_dataset(t.sub("dataset", required=True))
    schedule = _parse_schedule(t.sub("schedule", required=False))
    bands = _parse_bands(t.sub("band", required=False))
    failure = _parse_failure(t.sub("failure", required=False))
    spaces = _parse_spaces(t, n, bands)
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
    )


def parse_quantity(key: str, value: Any) -> float:
    """A non-negative number, or a string with a K/M/G/T suffix: ``"360M"`` -> 3.6e8."""
    if isinstance(value, bool):
        raise RecipeError(f"{key}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str) and (m := _NUMBER_RE.match(value)):
        x = float(m.group(1)) * _SUFFIX[m.group(2).upper()]
    else:
        raise RecipeError(f"{key}: expected a number like 4e6 or '4M', got {value!r}")
    if not math.isfinite(x) or x < 0:
        raise RecipeError(f"{key}: expected a finite number >= 0, got {value!r}")
    return x


def _parse_dataset(t: _Table) -> DatasetSpec:
    name = t.string("name", required=True)
    if name not in DATASETS:
        raise RecipeError(f"dataset.name: unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    path = t.string("path", default=None)
    if path is not None:
        path = os.path.expanduser(path)
    if name != "digits" and not path:
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
    t.check_unknown()
    return DatasetSpec(name=name, path=path, options=_freeze(options))


def _parse_schedule(t: _Table) -> Any:
    from edftools.train.schedule import TrainSchedule

    fields = {f.name: f for f in dataclasses.fields(TrainSchedule)}
    kwargs: dict[str, Any] = {}
    for key, value in t.items():
        if key not in fields:
            raise RecipeError(
                f"{t.where(key)}: unknown schedule field; known: {', '.join(sorted(fields))}"
            )
        kwargs[key] = _coerce_like(t.where(key), value, _default_of(fields[key]))
    try:
        return TrainSchedule(**kwargs)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"schedule: {exc}") from None


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _coerce_like(key: str, value: Any, default: Any) -> Any:
    """Check ``value`` has the type of the field's default (ints are accepted for floats)."""
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise RecipeError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{key}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecipeError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise RecipeError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple | list):
        if not isinstance(value, list):
            raise RecipeError(f"{key}: expected a list, got {value!r}")
        return tuple(value)
    return value


def _parse_bands(t: _Table) -> dict[str, tuple[float, float]]:
    bands: dict[str, tuple[float, float]] = {}
    for key, value in t.items():
        where = t.where(key)
        if key not in BAND_METRICS:
            raise RecipeError(f"{where}: unknown band metric; known: {', '.join(BAND_METRICS)}")
        if not isinstance(value, list) or len(value) != 2:
            raise RecipeError(f"{where}: expected [lo, hi], got {value!r}")
        lo, hi = (parse_quantity(where, v) for v in value)
        if not lo < hi:
            raise RecipeError(
                f"{where}: impossible band, lo {value[0]!r} must be < hi {value[1]!r}"
            )
        bands[key] = (lo, hi)
    return bands


def _parse_failure(t: _Table) -> FailurePolicy:
    retries = t.integer("retries", default=0, minimum=0)
    timeout = t.number("timeout_s", default=None)
    if timeout is not None and not timeout > 0:
        raise RecipeError(f"{t.where('timeout_s')}: must be > 0, got {timeout}")
    num_cpus = t.number("num_cpus", default=1.0)
    num_gpus = t.number("num_gpus", default=0.0)
    if not num_cpus > 0:
        raise RecipeError(f"{t.where('num_cpus')}: must be > 0, got {num_cpus}")
    if num_gpus < 0:
        raise RecipeError(f"{t.where('num_gpus')}: must be >= 0, got {num_gpus}")
    t.check_unknown()
    return FailurePolicy(retries, timeout, num_cpus, num_gpus)


def _parse_spaces(
    t: _Table, n: int, bands: dict[str, tuple[float, float]]
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
        specs.append(_parse_space(_Table(table, where), n, bands))
    labels = [s.label for s in specs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise RecipeError(f"spaces: duplicate space name(s) {', '.join(dupes)}")
    return tuple(specs)


def _parse_space(t: _Table, n: int, bands: dict[str, tuple[float, float]]) -> SpaceSpec:
    label = t.string("name", required=True)
    if not label.strip():
        raise RecipeError(f"{t.where('name')}: must not be empty")
    space_n = t.integer("n", default=n, minimum=1)
    if "band" in t:
        bands = _parse_bands(t.sub("band", required=True))
    definition = t.get("definition", default=None, kind=dict)
    if definition is not None:
        if "catalog" in t or "overrides" in t:
            raise RecipeError(
                f"{t.where('definition')}: give either a definition or catalog/overrides, not both"
            )
        t.check_unknown()
        return SpaceSpec(label, space_n, _freeze(bands), definition=_freeze(definition))
    catalog = t.string("catalog", default=label)
    overrides = t.get("overrides", default={}, kind=dict)
    t.check_unknown()
    return SpaceSpec(label, space_n, _freeze(bands), catalog=catalog, overrides=_freeze(overrides))


class _Table:
    """A TOML table being validated: typed getters that name the key, and unknown-key check."""

    def __init__(self, table: Mapping[str, Any], prefix: str) -> None:
        self._t = dict(table)
        self._prefix = prefix
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def __contains__(self, key: str) -> bool:
        return key in self._t

    def items(self) -> list[tuple[str, Any]]:
        self._seen.update(self._t)
        return list(self._t.items())

    def get(self, key: str, default: Any = None, required: bool = False, kind: type = object):
        self._seen.add(key)
        if key not in self._t:
            if required:
                raise RecipeError(f"{self.where(key)}: missing required key")
            return default
        value = self._t[key]
        if not isinstance(value, kind):
            raise RecipeError(f"{self.where(key)}: expected a {_KIND[kind]}, got {value!r}")
        return value

    def string(self, key: str, default: Any = None, required: bool = False) -> Any:
        return self.get(key, default, required, kind=str)

    def integer(self, key: str, default: Any = None, required: bool = False, minimum: int = 0):
        value = self.get(key, default, required, kind=object)
        if value is default and key not in self._t:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{self.where(key)}: expected an integer, got {value!r}")
        if value < minimum:
            raise RecipeError(f"{self.where(key)}: must be >= {minimum}, got {value}")
        return value

    def number(self, key: str, default: Any = None) -> Any:
        value = self.get(key, default)
        if key not in self._t:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecipeError(f"{self.where(key)}: expected a number, got {value!r}")
        return float(value)

    def sub(self, key: str, required: bool) -> _Table:
        value = self.get(key, {}, required, kind=dict)
        return _Table(value, self.where(key))

    def check_unknown(self) -> None:
        unknown = sorted(set(self._t) - self._seen)
        if unknown:
            raise RecipeError(f"{self.where(unknown[0])}: unknown key")


_KIND = {str: "string", dict: "table", list: "list", object: "value"}


def _freeze(value: Any) -> Any:
    """Deep read-only copy: dicts become mapping proxies, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """Inverse of :func:`_freeze`: plain dicts and lists (JSON-serializable TOML values)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) of a frozen or plain value: equal in, equal out."""
    return json.dumps(_thaw(value), sort_keys=True, separators=(",", ":"), default=str)
