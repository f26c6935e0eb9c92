"""Sweep planning (pure, no torch): seeded configs, per-run seeds and run ids.

For each space of a recipe, configs are sampled in fixed blocks of
:data:`SAMPLE_BLOCK`: block ``b`` is ``space.sample(SAMPLE_BLOCK, seed=derive_seed(seed,
"configs", label, b), bands=...)`` and run ``i`` takes config ``i % SAMPLE_BLOCK`` of block
``i // SAMPLE_BLOCK``. So the config of run ``i`` does not depend on ``n``: ``--n 4`` then
``--n 8`` plans the same first four runs and resumes.

Per-run seed: ``seed_i = derive_seed(recipe.seed, "run", label, i)``.

Run id: the first 20 hex digits of ``sha256(canonical_json({"v": 1, **recipe.training_key(),
"space": label, "config": config.to_dict(), "seed": seed_i}))``, where ``training_key`` is the
sweep name, dataset name and options and the full schedule, ``threads`` included when it is
not 1 (:meth:`~edftools.recipe.Recipe.training_key` says why). So a run id means one
computation whatever ``--workers``, the backend or the machine's core count. Not in the id
(resume may change them): n, workers, device, dataset path, retries and timeouts, description.
The driver (:mod:`edftools.train.sweep`) trains the planned runs.

Reruns (the recipe's ``reruns = {fraction, seeds}``, :mod:`edftools.recipe.reruns`): index
``i`` of space ``L`` is re-trained iff ``derive_seed(recipe.seed, "rerun", L, i) / 2**31 <
fraction``; its replicate ``s = 1..seeds`` trains the same config with seed
``derive_seed(recipe.seed, "run", L, i, "rerun", s)``, so its run id differs from the
original's, and its :class:`PlannedRun` has ``rerun_of`` = the original's run id and
``replicate = s`` (originals: ``rerun_of`` None, ``replicate`` 0). A plan lists the originals
first, then the reruns of the planned originals; the selection depends on neither ``n`` nor
``fraction`` of the other indices, so more models plan more reruns and resume.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edftools.errors import RecipeError, SpaceError
from edftools.recipe import Recipe, SpaceSpec, canonical_json
from edftools.spaces.config import NetConfig

SAMPLE_BLOCK = 128
RUN_ID_VERSION = 1


def derive_seed(seed: int, *keys: Any) -> int:
    """A 31-bit seed from a parent seed and keys: ``int(sha256(json([seed, *keys]))[:8]) >> 1``.

    Stable across processes and Python versions (unlike ``hash``), independent per key tuple.
    """
    digest = hashlib.sha256(canonical_json([int(seed), *keys]).encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def run_id(recipe: Recipe | dict[str, Any], space: str, config: NetConfig, seed: int) -> str:
    """``sha256(canonical_json({v, sweep, dataset, schedule, space, config, seed}))[:20]``.

    ``recipe`` may be the recipe or its precomputed :meth:`Recipe.training_key` (faster).
    """
    training = recipe.training_key() if isinstance(recipe, Recipe) else recipe
    key = {
        "v": RUN_ID_VERSION,
        **training,
        "space": space,
        "config": config.to_dict(),
        "seed": int(seed),
    }
    return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: which network, with which seed, under which id."""

    run_id: str
    space: str
    index: int
    config: NetConfig
    seed: int
    flops: int
    params: int
    acts: int
    rerun_of: str | None = None
    replicate: int = 0

    @property
    def is_rerun(self) -> bool:
        """Whether this run re-trains another run's config with another seed."""
        return self.rerun_of is not None


@dataclass(frozen=True)
class SweepPlan:
    """Every planned run of a recipe, in execution order (spaces interleaved by index, then
    the reruns of the planned originals)."""

    recipe: Recipe
    runs: tuple[PlannedRun, ...]

    @property
    def originals(self) -> tuple[PlannedRun, ...]:
        """The planned runs that are not reruns (the EDF samples)."""
        return tuple(r for r in self.runs if r.rerun_of is None)

    @property
    def reruns(self) -> tuple[PlannedRun, ...]:
        """The planned reruns (seed-noise replicates of planned originals)."""
        return tuple(r for r in self.runs if r.rerun_of is not None)

    def pending(self, finished: set[str]) -> list[PlannedRun]:
        """Planned runs whose id is not in ``finished`` (the ids a resume must not re-run)."""
        return [r for r in self.runs if r.run_id not in finished]


def sample_space_configs(
    spec: SpaceSpec, seed: int, n: int
) -> list[tuple[NetConfig, int, int, int]]:
    """The first ``n`` ``(config, flops, params, acts)`` of a space, block-wise (see above)."""
    space = spec.build()
    bands = {k: (lo, hi) for k, (lo, hi) in spec.bands.items()}
    out: list[tuple[NetConfig, int, int, int]] = []
    for block in range(math.ceil(n / SAMPLE_BLOCK)):
        block_seed = derive_seed(seed, "configs", spec.label, block)
        try:
            batch = space.sample_batch(SAMPLE_BLOCK, seed=block_seed, bands=bands)
        except SpaceError as exc:  # e.g. a band the space cannot reach: say which recipe space
            if spec.label == space.name:
                raise
            raise SpaceError(f"recipe space {spec.label!r}: {exc}") from None
        if len(batch.configs) != SAMPLE_BLOCK:
            raise SpaceError(
                f"space {spec.label!r}: sampler returned {len(batch.configs)} of "
                f"{SAMPLE_BLOCK} configs"
            )
        out.extend(
            zip(
                batch.configs,
                batch.flops.tolist(),
                batch.params.tolist(),
                batch.acts.tolist(),
                strict=True,
            )
        )
    return out[:n]


def rerun_selected(recipe: Recipe, label: str, index: int) -> bool:
    """Whether the recipe re-trains index ``index`` of space ``label`` (module docstring)."""
    if recipe.reruns is None:
        return False
    return recipe.reruns.selects(derive_seed(recipe.seed, "rerun", label, index) / 2**31)


def plan_reruns(recipe: Recipe, originals: Sequence[PlannedRun]) -> list[PlannedRun]:
    """The reruns of ``originals`` that the recipe's ``reruns`` option selects, in order."""
    if recipe.reruns is None:
        return []
    training = recipe.training_key()
    out = []
    for run in originals:
        if run.rerun_of is not None or not rerun_selected(recipe, run.space, run.index):
            continue
        for s in range(1, recipe.reruns.seeds + 1):
            seed = derive_seed(recipe.seed, "run", run.space, run.index, "rerun", s)
            rid = run_id(training, run.space, run.config, seed)
            out.append(
                dataclasses.replace(run, run_id=rid, seed=seed, rerun_of=run.run_id, replicate=s)
            )
    return out


def plan_sweep(
    recipe: Recipe,
    n: int | Mapping[str, int] | None = None,
    spaces: Sequence[str] | None = None,
    reruns: bool = True,
) -> SweepPlan:
    """Plan a recipe's runs: ``n`` overrides every space's n (or, a mapping, the n of each of
    its labels), ``spaces`` selects labels; ``reruns`` adds the reruns of the planned runs
    (when the recipe asks for them)."""
    if isinstance(n, Mapping):  # per-space counts: the labels with a positive count
        given = {label: int(v) for label, v in n.items() if int(v) > 0}
        spaces = [label for label in (spaces or list(given)) if label in given]
        if not spaces:
            return SweepPlan(recipe, ())
    elif n is not None and n < 1:
        raise RecipeError(f"n must be >= 1, got {n}")
    specs = [recipe.space(s) for s in spaces] if spaces else list(recipe.spaces)
    training = recipe.training_key()
    per_space: list[list[PlannedRun]] = []
    for spec in specs:
        count = given[spec.label] if isinstance(n, Mapping) else (n or spec.n)
        runs = []
        for i, (cfg, flops, params, acts) in enumerate(
            sample_space_configs(spec, recipe.seed, count)
        ):
            seed = derive_seed(recipe.seed, "run", spec.label, i)
            runs.append(
                PlannedRun(
                    run_id=run_id(training, spec.label, cfg, seed),
                    space=spec.label,
                    index=i,
                    config=cfg,
                    seed=seed,
                    flops=int(flops),
                    params=int(params),
                    acts=int(acts),
                )
            )
        per_space.append(runs)
    longest = max((len(r) for r in per_space), default=0)
    ordered = [runs[i] for i in range(longest) for runs in per_space if i < len(runs)]
    if reruns:
        ordered += plan_reruns(recipe, ordered)
    return SweepPlan(recipe, tuple(ordered))
