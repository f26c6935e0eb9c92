"""Does the shipped refinement table depend on the permutation seed? (issue 9, item 4)

Runs the chain's verdicts on ``data/reference`` with 20 seeds and prints, per step, the
verdicts seen, how often each p-value needed more than 999 permutations, and whether every
seed that disagrees with seed 0 flagged the step ``borderline``.

Usage: python benchmarks/bench_verdict_seeds.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from edftools.report import measure
from edftools.report.data import DEFAULT_CHAIN, select_runs
from edftools.stats import Margin

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    files = sorted((REPO / "data/reference").glob("*.parquet"))
    runs = pd.concat(pd.read_parquet(f) for f in files)
    frame, names = select_runs(runs, DEFAULT_CHAIN)
    samples = measure.build_samples(frame, names)
    pairs = [(samples[i - 1], samples[i]) for i in range(1, len(samples))]
    start = time.perf_counter()
    per_seed = [
        measure.verdicts(pairs, Margin(), 0.05, np.random.SeedSequence([seed, 2]))
        for seed in range(args.seeds)
    ]
    print(f"{args.seeds} seeds in {time.perf_counter() - start:.1f} s")
    stable = True
    for i, (parent, restricted) in enumerate(pairs):
        results = [steps[i] for steps in per_seed]
        words = Counter(r.verdict for r in results)
        first = results[0].verdict
        unflagged = sum(
            r.verdict != first and not (r.borderline or results[0].borderline) for r in results
        )
        stable &= unflagged == 0
        perms = Counter(r.n_perm for r in results)
        print(
            f"{parent.name} → {restricted.name}: {dict(words)}; borderline in "
            f"{sum(r.borderline for r in results)}/{len(results)}; permutations {dict(perms)}; "
            f"unflagged disagreements {unflagged}"
        )
    print("verdicts stable or flagged borderline:", stable)


if __name__ == "__main__":
    main()
