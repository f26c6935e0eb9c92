"""Calibration of the step verdicts by simulation (numbers for the README).

For the scenarios of :mod:`edftools.stats.scenarios` (plain EDFs, and normalized EDFs of spaces
with different complexity distributions), a single step at α = 0.05 with the default margin
(1 pp at quantile levels 0.1–0.5):

* identical spaces at n = 200: false improves / worse / mixed, each ≤ α;
* a loss equal to the margin (uniform shift, and a bump that touches the margin at one error):
  P(no loss) ≤ α;
* identical spaces at the n that ``plan`` gives: P(no loss) ≥ power − 5 pp;
* an improvement of the design effect (1 pp) at the n that ``plan`` gives: P(improves) ≥
  power − 5 pp;
* crossing EDFs (more good and more bad models): P(improves) ≤ α.

Usage: python benchmarks/bench_calibration.py [--reps 1000] [--n-perm 999]
Each rate is printed with its Monte-Carlo standard error.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from edftools.stats import plan
from edftools.stats.scenarios import Scenario, verdict_rates


def pilot(normalized: bool, seed: int = 99) -> tuple[np.ndarray, np.ndarray | None]:
    """A 200-model pilot of the parent space (as a user would have from a first sweep)."""
    ep, cp, _, _ = Scenario("identical", normalized=normalized).draw(
        200, np.random.default_rng(seed)
    )
    return ep, (cp if normalized else None)


def line(label: str, rate: float, reps: int, bound: str) -> str:
    se = math.sqrt(max(rate * (1 - rate), 1e-12) / reps)
    return f"  {label:<58s} {rate:6.3f} ± {se:.3f}   ({bound})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--n-perm", type=int, default=999)
    args = parser.parse_args()
    reps, n_perm = args.reps, args.n_perm
    start = time.perf_counter()
    for normalized in (False, True):
        kind = "normalized, different complexity distributions" if normalized else "plain EDFs"
        print(f"== {kind} (reps = {reps}, {n_perm} permutations)")
        rates = verdict_rates(
            Scenario("identical", normalized=normalized), 200, reps, n_perm=n_perm
        )
        for v in ("improves", "worse", "mixed"):
            print(line(f"identical, n=200: P({v})", rates[v], reps, "≤ 0.05"))
        for kind_, amount, label in (
            ("shift", 1.0, "uniform +1 pp"),
            ("bump", 1.0, "+1 pp at one error"),
        ):
            sc = Scenario(kind_, amount, normalized)
            r = verdict_rates(sc, 200, reps, n_perm=n_perm, seed=1)
            print(line(f"loss = margin ({label}), n=200: P(no loss)", r["no loss"], reps, "≤ 0.05"))
            r = verdict_rates(sc, 800, reps, n_perm=n_perm, seed=2)
            print(line(f"loss = margin ({label}), n=800: P(no loss)", r["no loss"], reps, "≤ 0.05"))
        r = verdict_rates(Scenario("cross", 1.5, normalized), 200, reps, n_perm=n_perm, seed=3)
        print(line("crossing EDFs, n=200: P(improves)", r["improves"], reps, "≤ 0.05"))
        print(line("crossing EDFs, n=200: P(mixed)", r["mixed"], reps, "power to see both"))
        e, c = pilot(normalized)
        p = plan(e, pilot_complexity=c, margin=1.0, power=0.8)
        print(
            f"  plan from a 200-model pilot: no loss at n = {p.n_no_loss}, "
            f"improves at n = {p.n_improves}"
        )
        r = verdict_rates(
            Scenario("identical", normalized=normalized), p.n_no_loss, reps, n_perm=n_perm, seed=4
        )
        print(line(f"identical, planned n={p.n_no_loss}: P(no loss)", r["no loss"], reps, "≥ 0.75"))
        r = verdict_rates(
            Scenario("shift", -1.0, normalized), p.n_improves, reps, n_perm=n_perm, seed=5
        )
        print(
            line(
                f"improvement 1 pp, planned n={p.n_improves}: P(improves)",
                r["improves"],
                reps,
                "≥ 0.75",
            )
        )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
