"""Sweep scaling: models/hour with 1 worker vs 2 workers on the same small digits plan.

Both sweeps train the same planned configs (``recipes/digits_tiny.toml`` scaled to a few epochs)
into fresh temporary stores, through the real driver (``execute_plan``: plan, train in spawned
worker processes, write each run to DuckDB). Before the clock starts, each worker is spawned and
trains one warm-up model of another seed (a worker's first run pays about 4-6 s of one-time
imports: torch, scikit-learn, torch._inductor), so the ratio measures the steady-state
throughput of a long sweep; the start-up time is printed beside it. Every run trains with the
recipe's one torch thread whatever the worker count (the thread count is part of a run), so 1
worker uses one core and 2 workers two. Target on a 2-core machine: 2 workers >= 1.7x the
models/hour of 1.

    .venv/bin/python benchmarks/bench_sweep_scaling.py [--n 24] [--epochs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from edftools.recipe import load_recipe
from edftools.store import open_store
from edftools.train.executors import LocalProcessExecutor
from edftools.train.plan import plan_sweep
from edftools.train.sweep import execute_plan

ROOT = Path(__file__).resolve().parents[1]


def models_per_hour(plan, warm, workers: int, store_dir: Path) -> tuple[float, float, float]:
    """Run ``plan`` with ``workers`` processes; return (models/hour, seconds, start-up s)."""
    t0 = time.perf_counter()
    with LocalProcessExecutor(workers) as executor:
        executor.warm_up()
        with open_store(store_dir / f"warm{workers}.duckdb") as store:
            execute_plan(warm, store, executor, progress=False)
        t1 = time.perf_counter()
        with open_store(store_dir / f"w{workers}.duckdb") as store:
            summary = execute_plan(plan, store, executor, progress=False)
        seconds = time.perf_counter() - t1
    assert summary.statuses.get("ok", 0) == len(plan.runs), summary.line()
    return len(plan.runs) * 3600 / seconds, seconds, t1 - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="models per sweep")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per model")
    args = parser.parse_args()
    recipe = load_recipe(ROOT / "recipes" / "digits_tiny.toml")
    recipe = dataclasses.replace(
        recipe, schedule=dataclasses.replace(recipe.schedule, epochs=args.epochs)
    )
    plan = plan_sweep(recipe, n=args.n)
    warm = plan_sweep(dataclasses.replace(recipe, seed=recipe.seed + 1), n=2)
    with tempfile.TemporaryDirectory() as tmp:
        one, s1, up1 = models_per_hour(plan, warm, 1, Path(tmp))
        two, s2, up2 = models_per_hour(plan, warm, 2, Path(tmp))
    print(f"sweep of {len(plan.runs)} digits models, {args.epochs} epochs each")
    print(f"1 worker : {one:8.0f} models/hour ({s1:.1f} s, +{up1:.1f} s start-up)")
    print(f"2 workers: {two:8.0f} models/hour ({s2:.1f} s, +{up2:.1f} s start-up)")
    print(f"scaling ratio 2 vs 1 workers: {two / one:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
