"""Sequential refinement by simulation: error rates over all steps and looks, power, and the
models saved against the fixed-n design of the same power (issue 12; numbers for the README).

Chains of simulated spaces (errors as in :mod:`edftools.stats.scenarios`: 4 + 3c + Gamma(2, 1.5)
error points), tested with :func:`edftools.stats.sequential.simulate_chain`, looks every 50
models per active space up to 600, α = 0.05, O'Brien–Fleming spending, margin 1 pp:

* null chain: 6 identical spaces (5 steps) — P(any false improves / worse / mixed) ≤ α;
* mixed chain: S0 = S1 (true no loss), S2 = S1 − 1.5 pp (true improvement), S3 = S2 + 1.5 pp
  (true deficit) — P(all three verdicts right) ≥ 0.8, and the expected models per space;
* the saving at equal power: the smallest fixed-n design (one look, the same tests) and the
  smallest sequential ``max_n`` (looks every 50) whose P(all right) reaches ``--power``
  (default 0.9), and E[models, sequential] / models, fixed. (Equal P(all right) with the
  600-model design itself is no target: its Bonferroni-over-looks spending makes fewer false
  claims than a fixed design's α allows, so a fixed design never reaches its 0.99.)

Usage: python benchmarks/bench_sequential.py [--reps 400] [--normalized] [--power 0.9]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats import Margin, family_test, stratify_together
from edftools.stats.defaults import DEFAULT_MAX_PERM
from edftools.stats.scenarios import _base
from edftools.stats.sequential import SequentialDesign, chain_steps, simulate_study

MAX_N = 600
TRUTH = ("no loss", "improves", "worse")
SHIFTS = (0.0, 0.0, -1.5, 0.0)  # S0, S1, S2, S3


def spaces(shifts, rng, normalized, n=MAX_N):
    """Every space's MAX_N models (errors, complexities), drawn once."""
    out = []
    for j, s in enumerate(shifts):
        e, c = _base(n, rng, skewed=normalized and j % 2 == 1)
        out.append((e + s, c))
    return out


def drawer(models, normalized):
    def draw(j, n):
        comps = [models[k][1][:n] for k in range(len(models))] if normalized else None
        errs = [models[k][0][:n] for k in range(len(models))]
        try:
            return stratify_together(errs, comps, 8)[j]
        except StatsInputError:  # a complexity bin still empty at this n: no test this look
            return None

    return draw


def sequential(shifts, reps, normalized, seed, max_n=MAX_N):
    design = SequentialDesign(look_every=50, max_n=max_n)
    verdicts, used = [], []
    for rep in range(reps):
        models = spaces(shifts, np.random.default_rng([seed, rep]), normalized, max_n)
        # normalized samples get permutation p-values: let them grow as in a sweep (up to
        # 19,999) so that late looks' levels (~1e-3) are reachable; plain ones use scipy's KS
        perms = (999, DEFAULT_MAX_PERM) if normalized else (199, 199)
        chain, counts = simulate_study(
            drawer(models, normalized), chain_steps(len(shifts)), design, Margin(), rep, *perms
        )
        verdicts.append(tuple(chain.verdicts))
        used.append(sum(counts))
    return verdicts, np.array(used)


def fixed(shifts, n, reps, normalized, seed):
    right = 0
    for rep in range(reps):
        models = spaces(shifts, np.random.default_rng([seed, rep]), normalized, n)
        comps = [c for _, c in models] if normalized else None
        samples = stratify_together([e for e, _ in models], comps, 8)
        pairs = [(samples[i], samples[i + 1]) for i in range(len(samples) - 1)]
        res = family_test(pairs, Margin(), seed=rep, n_perm=199, max_perm=199)
        right += tuple(r.verdict for r in res) == TRUTH
    return right / reps


def se(p, reps):
    return math.sqrt(max(p * (1 - p), 1e-12) / reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--normalized", action="store_true")
    parser.add_argument("--power", type=float, default=0.9, help="P(all right) to match")
    args = parser.parse_args()
    reps, norm = args.reps, args.normalized
    start = time.perf_counter()
    print(f"== {'normalized' if norm else 'plain'} EDFs, {reps} simulated studies each")
    v, used = sequential((0.0,) * 6, reps, norm, 1)
    false = [any(w in ("improves", "worse", "mixed") for w in vs) for vs in v]
    rate = float(np.mean(false))
    print(
        f"null chain (6 identical spaces): P(any false improves/worse/mixed) = {rate:.3f} "
        f"± {se(rate, reps):.3f} (≤ 0.05); models per space {used.mean() / 6:.0f}"
    )
    v, used = sequential(SHIFTS, reps, norm, 2)
    right = float(np.mean([vs == TRUTH for vs in v]))
    per_step = [float(np.mean([vs[i] == TRUTH[i] for vs in v])) for i in range(3)]
    mean_per_space = used.mean() / 4
    print(
        f"mixed chain: P(all 3 right) = {right:.3f} ± {se(right, reps):.3f} (≥ 0.8); "
        f"per step {', '.join(f'{p:.3f}' for p in per_step)}; "
        f"E[models per space] = {mean_per_space:.0f} (max {MAX_N})"
    )
    target = args.power
    lo, hi = 50, MAX_N
    while fixed(SHIFTS, hi, reps, norm, 3) < target and hi < 4 * MAX_N:
        lo, hi = hi, 2 * hi
    while hi - lo > 10:
        mid = (lo + hi) // 2
        if fixed(SHIFTS, mid, reps, norm, 3) >= target:
            hi = mid
        else:
            lo = mid
    print(f"fixed-n design with P(all right) ≥ {target}: n = {hi} per space ({4 * hi} models)")
    for max_n in (150, 200, 250, 300, 400, 500, MAX_N):
        v, used = sequential(SHIFTS, reps, norm, 4, max_n)
        power = float(np.mean([vs == TRUTH for vs in v]))
        if power >= target:
            break
    print(
        f"sequential design with P(all right) ≥ {target}: max_n = {max_n}, P = {power:.3f}, "
        f"E[models per space] = {used.mean() / 4:.0f}; sequential/fixed = "
        f"{used.mean() / (4 * hi):.2f}"
    )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
