"""Calibration of ``edftools.generalize`` by simulation (numbers for the README, issue 20).

A chain A → B → C in R regimes; per regime and space, ``n`` models with errors
``6 + shift + Gamma(2, 1)`` points and flops uniform on the regime's band (normalized EDFs,
8 bins, margin 1 pp at quantile levels 0.1–0.5, α = 0.05 over the whole matrix). Each rate is
printed with its Monte-Carlo standard error.

Scenarios:

* ``null``: no true difference anywhere, R = 4, n = 100: P(any false claim — improves, worse
  or mixed — anywhere in the 2 × 4 matrix) ≤ α;
* ``null-heavy``: the same with 5% of every space's models diverged at 90% error;
* ``null-unequal``: the same with n = 80, 120, 160, 250 in the four regimes;
* ``reversal``: A → B improves by 2 pp in every regime and B → C is equal, except in the last
  regime, where C is 2 pp worse than B: P(the statement reports that regime as breaking the
  ordering), and P(it calls any other regime breaking) (≤ α: a false claim);
* ``null-r8``: the null with R = 8 regimes (48 hypotheses).

Usage: python benchmarks/bench_generalize.py [--reps 200] [--scenarios null,reversal]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd

from edftools.analysis.generalization import generalize_runs
from edftools.analysis.settings import Settings

FALSE_CLAIMS = ("improves", "worse", "mixed")


def simulate(
    shifts: list[tuple[float, float, float]],
    ns: list[int],
    rng: np.random.Generator,
    diverged: float = 0.0,
) -> pd.DataFrame:
    """Long-form runs of spaces A, B, C in ``len(shifts)`` regimes."""
    parts = []
    for k, (shift, n) in enumerate(zip(shifts, ns, strict=True)):
        for space, s in zip("ABC", shift, strict=True):
            errors = 6.0 + s + rng.gamma(2.0, 1.0, n)
            errors[rng.random(n) < diverged] = 90.0
            flops = rng.uniform(1e6, 2e6, n) * 2**k
            parts.append(
                pd.DataFrame({"sweep": f"r{k}", "space": space, "error": errors, "flops": flops})
            )
    return pd.concat(parts, ignore_index=True)


def run(name: str, reps: int, seed: int) -> list[tuple[str, float, float, str]]:
    """(label, rate, MC standard error, bound) rows of one scenario."""
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    regimes = 8 if name == "null-r8" else 4
    ns = [80, 120, 160, 250] if name == "null-unequal" else [100] * regimes
    shifts = [(0.0, 0.0, 0.0)] * regimes
    if name == "reversal":
        shifts = [(0.0, -2.0, -2.0)] * (regimes - 1) + [(0.0, -2.0, 0.0)]
    diverged = 0.05 if name == "null-heavy" else 0.0
    false_any = found = false_break = 0
    for i in range(reps):
        runs = simulate(shifts, ns, rng, diverged)
        settings = Settings(n_boot=20, seed=seed * 100_000 + i)
        res = generalize_runs(runs, ["A", "B", "C"], settings=settings)
        if name == "reversal":
            status = {o.regime: o.status for o in res.orderings}
            last = res.regimes[-1]
            found += status[last] == "breaks"
            false_break += any(status[r] == "breaks" for r in res.regimes[:-1])
        else:
            false_any += any(c.verdict in FALSE_CLAIMS for c in res.cells)
    if name == "reversal":
        return [
            ("reversing regime reported as breaking", found / reps, _se(found, reps), "power"),
            ("another regime called breaking", false_break / reps, _se(false_break, reps), "≤ α"),
        ]
    return [("any false claim in the matrix", false_any / reps, _se(false_any, reps), "≤ α")]


def _se(k: int, n: int) -> float:
    p = k / n
    return math.sqrt(max(p * (1 - p), 1.0 / n) / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", default="null,null-heavy,null-unequal,reversal,null-r8")
    args = parser.parse_args()
    print(f"generalize calibration: {args.reps} simulated studies per scenario, α = 0.05")
    for name in args.scenarios.split(","):
        start = time.perf_counter()
        for label, rate, se, bound in run(name, args.reps, args.seed):
            print(f"  {name:13s} {label:40s} {rate:.3f} ± {se:.3f}  ({bound})")
        per_study = (time.perf_counter() - start) / args.reps
        print(f"  {name:13s} {'seconds per study':40s} {per_study:.2f}")


if __name__ == "__main__":
    main()
