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
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
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


@dataclass(frozen=True)
class SweepPlan:
    """Every planned run of a recipe, in execution order (spaces interleaved by index)."""

    recipe: Recipe
    runs: tuple[PlannedRun, ...]

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


def plan_sweep(
    recipe: Recipe, n: int | None = None, spaces: Sequence[str] | None = None
) -> SweepPlan:
    """Plan a recipe's runs: ``n`` overrides every space's n, ``spaces`` selects labels."""
    if n is not None and n < 1:
        raise RecipeError(f"n must be >= 1, got {n}")
    specs = [recipe.space(s) for s in spaces] if spaces else list(recipe.spaces)
    training = recipe.training_key()
    per_space: list[list[PlannedRun]] = []
    for spec in specs:
        count = n if n is not None else spec.n
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
    return SweepPlan(recipe, tuple(ordered))
