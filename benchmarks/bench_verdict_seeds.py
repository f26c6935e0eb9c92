"""Does the shipped refinement table depend on the permutation seed? (issue 9, item 4)

The shipped reference is a sequential sweep: this replays its looks from
``data/reference`` with 20 permutation seeds (the recipe's runs and design unchanged) and
prints, per step, the final verdicts and the look that decided them, how often a p-value
needed more than 999 permutations, and whether every seed that disagrees with seed 0 flagged
the step ``borderline``. ``--fixed`` does the same for the fixed design (one look on all runs,
default 1-point margin), as ``edftools refine --fixed`` tests it.

Usage: python benchmarks/bench_verdict_seeds.py [--seeds 20] [--fixed]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

from edftools.analysis import samples as measure
from edftools.analysis.runs import DEFAULT_CHAIN, select_runs
from edftools.recipe import load_recipe
from edftools.report.writers import read_reference_runs
from edftools.stats import Margin
from edftools.study import replay, study_plan, study_steps

REPO = Path(__file__).resolve().parents[1]


def sequential(runs, seeds: int) -> bool:
    """Replay the reference study with each seed; True when every disagreement is flagged."""
    recipe = load_recipe(REPO / "recipes/digits_refinement.toml")
    plan = study_plan(recipe)
    chains = [replay(recipe, runs, plan, perm_seed=seed).chain for seed in range(seeds)]
    stable = True
    for i, (parent, restricted) in enumerate(study_steps(recipe)):
        records = [[r for r in chain.history if r.step == i] for chain in chains]
        last = [rs[-1] for rs in records]
        first = last[0]
        unflagged = sum(
            (r.verdict != first.verdict or len(rs) != len(records[0]))
            and not any(x.result.borderline for x in rs + records[0])
            for r, rs in zip(last, records, strict=True)
        )
        stable &= unflagged == 0
        print(
            f"{parent} → {restricted}: {dict(Counter(r.verdict for r in last))}; decided at look "
            f"{dict(Counter(len(rs) for rs in records))}; borderline in "
            f"{sum(any(x.result.borderline for x in rs) for rs in records)}/{seeds}; "
            f"permutations > 999 in {sum(any(x.result.n_perm > 999 for x in rs) for rs in records)}"
            f"/{seeds}; unflagged disagreements {unflagged}"
        )
    return stable


def fixed(runs, seeds: int) -> bool:
    """The fixed-design verdicts with each seed; True when every disagreement is flagged."""
    frame, names = select_runs(runs, DEFAULT_CHAIN)
    samples = measure.build_samples(frame, names)
    pairs = [(samples[i - 1], samples[i]) for i in range(1, len(samples))]
    per_seed = [
        measure.verdicts(pairs, Margin(), 0.05, np.random.SeedSequence([seed, 2]))
        for seed in range(seeds)
    ]
    stable = True
    for i, (parent, restricted) in enumerate(pairs):
        results = [steps[i] for steps in per_seed]
        first = results[0].verdict
        unflagged = sum(
            r.verdict != first and not (r.borderline or results[0].borderline) for r in results
        )
        stable &= unflagged == 0
        print(
            f"{parent.name} → {restricted.name}: {dict(Counter(r.verdict for r in results))}; "
            f"borderline in {sum(r.borderline for r in results)}/{len(results)}; permutations "
            f"{dict(Counter(r.n_perm for r in results))}; unflagged disagreements {unflagged}"
        )
    return stable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--fixed", action="store_true", help="the fixed design instead")
    args = parser.parse_args()
    runs = read_reference_runs(REPO / "data/reference")
    start = time.perf_counter()
    stable = (fixed if args.fixed else sequential)(runs, args.seeds)
    print(f"{args.seeds} seeds in {time.perf_counter() - start:.1f} s")
    print("verdicts stable or flagged borderline:", stable)


if __name__ == "__main__":
    main()
