"""Sweep planning and driving: seeded configs, run ids, resume, one writer.

Planning (pure, no torch): for each space of a recipe, configs are sampled in fixed blocks of
:data:`SAMPLE_BLOCK`: block ``b`` is ``space.sample(SAMPLE_BLOCK, seed=derive_seed(seed,
"configs", label, b), bands=...)`` and run ``i`` takes config ``i % SAMPLE_BLOCK`` of block
``i // SAMPLE_BLOCK``. So the config of run ``i`` does not depend on ``n``: ``--n 4`` then
``--n 8`` plans the same first four runs and resumes.

Per-run seed: ``seed_i = derive_seed(recipe.seed, "run", label, i)``.

Run id: the first 20 hex digits of ``sha256(canonical_json({"v": 1, **recipe.training_key(),
"space": label, "config": config.to_dict(), "seed": seed_i}))``, where ``training_key`` is the
sweep name, dataset name and options and the full schedule. Not in the id (resume may change
them): n, workers, device, dataset path, retries and timeouts, description.

Driving: the driver process is the store's only writer. It skips runs whose id the store already
has for the sweep, hands the rest to an :class:`~edftools.train.executors.Executor` in an order
that interleaves spaces (run 0 of every space, then run 1, ...), writes each result in its own
transaction as soon as it arrives, and retries failed runs per the recipe's failure policy.
A ``kill -9`` of the driver loses only the runs in flight; they are re-run on resume.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edftools.errors import RecipeError, SpaceError
from edftools.recipe import Recipe, SpaceSpec, canonical_json
from edftools.records import RunRecord, RunResult
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
        """Planned runs whose id is not in ``finished`` (the store's ids for this sweep)."""
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


def software_versions() -> dict[str, str]:
    """Versions recorded with every run: python, edftools, torch, numpy (no imports)."""
    out = {"python": platform.python_version()}
    for dist in ("edftools", "torch", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def to_record(plan: SweepPlan, run: PlannedRun, result: RunResult) -> RunRecord:
    """The store row for one finished run."""
    recipe = plan.recipe
    return RunRecord(
        run_id=run.run_id,
        sweep=recipe.name,
        space=run.space,
        config=run.config.to_dict(),
        flops=run.flops,
        params=run.params,
        acts=run.acts,
        dataset=recipe.dataset.name,
        epochs=int(recipe.schedule.epochs),
        seed=run.seed,
        result=result,
        versions=software_versions(),
    )


@dataclass
class SweepSummary:
    """Counts of one sweep invocation (``skipped`` = already in the store)."""

    planned: int = 0
    skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    retried: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return sum(self.statuses.values())

    def line(self) -> str:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(self.statuses.items())) or "none"
        return (
            f"{self.done} runs trained ({counts}), {self.skipped} already stored, "
            f"{self.planned} planned, {self.retried} retried, {self.seconds:.1f} s"
        )


def execute_plan(
    plan: SweepPlan,
    store: Any,
    executor: Any,
    progress: bool = True,
    on_record: Callable[[RunRecord], None] | None = None,
) -> SweepSummary:
    """Run the plan's pending runs on ``executor`` and write each result to ``store``.

    ``store`` needs ``ensure_sweep(name, text)`` (given :meth:`Recipe.identity_text`, so a
    changed recipe under the same name is refused), ``finished_run_ids(sweep)`` (ok and
    diverged runs: failed ones are re-run) and ``write_run(record)`` (one transaction);
    ``executor`` is an :class:`~edftools.train.executors.Executor`.
    A failed run is re-submitted up to ``recipe.failure.retries`` times; the last attempt's
    result is what gets stored.
    """
    from edftools.train.executors import RunTask

    recipe = plan.recipe
    start = time.perf_counter()
    store.ensure_sweep(recipe.name, recipe.identity_text())
    finished = set(store.finished_run_ids(recipe.name))
    pending = plan.pending(finished)
    summary = SweepSummary(planned=len(plan.runs), skipped=len(plan.runs) - len(pending))
    by_id = {r.run_id: r for r in pending}
    queue = [RunTask.from_plan(recipe, r) for r in pending]
    queue.reverse()  # pop() from the end takes runs in plan order
    attempts: dict[str, int] = {}
    in_flight = 0
    bar = _progress_bar(len(plan.runs), summary.skipped, progress)
    try:
        while queue or in_flight:
            while queue and in_flight < executor.capacity:
                task = queue.pop()
                attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
                executor.submit(task)
                in_flight += 1
            task, result = executor.next_result()
            in_flight -= 1
            if result.status == "failed" and attempts[task.run_id] <= recipe.failure.retries:
                summary.retried += 1
                queue.append(task)  # retried next
                continue
            record = to_record(plan, by_id[task.run_id], result)
            store.write_run(record)
            if on_record is not None:
                on_record(record)
            summary.statuses[result.status] = summary.statuses.get(result.status, 0) + 1
            if bar is not None:
                bar.set_postfix_str(_postfix(summary), refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        postfix="failed=0 diverged=0",
    )


def _postfix(summary: SweepSummary) -> str:
    failed = summary.statuses.get("failed", 0)
    diverged = summary.statuses.get("diverged", 0)
    return f"failed={failed} diverged={diverged}"
