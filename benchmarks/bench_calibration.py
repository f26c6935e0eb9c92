"""Calibration of the step verdicts by simulation (numbers for the README, issues 7 and 16).

Scenarios of :mod:`edftools.stats.scenarios` (errors 4 + 3c + Gamma(2, 1.5) points), a single
step at α = 0.05, margin 1 pp at quantile levels 0.1–0.5 unless a row says otherwise. Every
rate is printed with its Monte-Carlo standard error and the bound it must meet. Sections
(``--sections``, default all):

* ``basic``: identical spaces (false improves / worse / mixed; "no loss" for identical plain
  spaces at n = 200 is the power in the middle), a loss equal to the margin (uniform, and a
  point loss at q = 0.3), crossing EDFs — plain and normalized;
* ``edges``: a loss of exactly the margin at the edge of the margin's range, q = 0.1 and
  q = 0.5 — a point loss, and a loss that fades out by q = 0.25 (from q = 0.1) or q = 0.35
  (from q = 0.5) — margins 0.25 / 0.5 / 1 pp, n = 200 / 1,000, plain: P("no loss" or
  "improves") ≤ 0.05;
* ``sequential``: the same edge losses under the sequential design (looks every 50 up to
  600, O'Brien–Fleming), and the fixed n = 600 design's P("worse") beside it;
* ``confounded``: normalized nulls where error depends on complexity *inside* the 8 bins and
  the spaces' complexity laws differ (linear / log-uniform, complexity ranges 2× and 10×), at
  n = 100 / 200 / 1,000 / 10,000 / 20,000 (``--sizes``), ``--reps`` studies per cell:
  P(false improves, worse or mixed) ≤ 0.05; the same with the 8 bins as the only test strata
  at n = 10,000 (``--bins-only-reps``); and the power for a real gain of 0.3 pp at n = 10,000
  (≥ 0.9, max(100, reps / 4) studies);
* ``plan``: ``plan`` for power 0.8 from 100-model pilots (plain, heavy-tailed: 5% diverged
  at 90% error, discretized: 0.1 pp lattice, normalized): the power achieved at the planned
  n (P("no loss") for equal spaces at n_no_loss, P("improves") for a 1 pp gain at
  n_improves), read off the true power curve simulated on a grid of n, averaged over
  ``--pilots`` pilots: 0.80 ± 0.05; and the time of one ``plan`` on a normalized pilot;
* ``ks``: plain ``step_test`` with 1,000 against 3,000 models: time (≤ 0.05 s) and warnings
  (none), against scipy's exact one-sided ``ks_2samp`` in the same run.

Usage: python benchmarks/bench_calibration.py [--reps 400] [--sections edges,plan] [--sizes 1000]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from edftools.stats import Margin, plan, step_test, strata
from edftools.stats.scenarios import FlopsLaw, Scenario, verdict_rates
from edftools.stats.sequential import SequentialDesign, simulate_study
from edftools.stats.strata import unstratified

SECTIONS = ("basic", "edges", "sequential", "confounded", "plan", "ks")
PLAN_GRID = (50, 70, 100, 140, 200, 280, 400)
PILOT_LAWS = {"plain": "smooth", "heavy-tailed": "heavy", "discretized": "lattice"}


def line(label: str, rate: float, reps: int, bound: str) -> str:
    se = math.sqrt(max(rate * (1 - rate), 1e-12) / reps)
    return f"  {label:<66s} {rate:6.3f} ± {se:.3f}   ({bound})"


def basic(reps: int, n_perm: int) -> None:
    for normalized in (False, True):
        kind = "normalized, different complexity distributions" if normalized else "plain EDFs"
        print(f"== basic: {kind} (reps = {reps}, {n_perm} permutations)")
        rates = verdict_rates(
            Scenario("identical", normalized=normalized), 200, reps, n_perm=n_perm
        )
        for v in ("improves", "worse", "mixed"):
            print(line(f"identical, n=200: P({v})", rates[v], reps, "≤ 0.05"))
        print(line("identical, n=200: P(no loss)", rates["no loss"], reps, "≥ 0.90 (plain)"))
        for kind_, amount, label in (
            ("shift", 1.0, "uniform +1 pp"),
            ("bump", 1.0, "+1 pp at q = 0.3 only"),
        ):
            sc = Scenario(kind_, amount, normalized)
            r = verdict_rates(sc, 200, reps, n_perm=n_perm, seed=1)
            claim = r["no loss"] + r["improves"]
            print(
                line(
                    f"loss = margin ({label}), n=200: P(no loss or improves)", claim, reps, "≤ 0.05"
                )
            )
        # "better" is tested at (1 − ω)·α = 0.005 while the loss is not excluded: a permutation
        # p-value needs the default 999 permutations (and Monte-Carlo control) to reach it
        r = verdict_rates(
            Scenario("cross", 1.5, normalized), 200, reps, n_perm=999, max_perm=19_999, seed=3
        )
        print(line("crossing EDFs, n=200: P(improves)", r["improves"], reps, "≤ 0.05"))
        print(line("crossing EDFs, n=200: P(mixed)", r["mixed"], reps, "power to see both"))


def edge_scenarios() -> list[tuple[str, Scenario]]:
    out = []
    for at, fade_to in ((0.1, 0.25), (0.5, 0.35)):
        out.append((f"point loss at q={at}", Scenario("bump", 1.0, at=at)))
        out.append(
            (f"loss fading from q={at} to {fade_to}", Scenario("fade", 1.0, at=at, fade_to=fade_to))
        )
    return out


def edges(reps: int, n_perm: int) -> None:
    print(f"== edges: a loss of exactly the margin at the range's edge, plain (reps = {reps})")
    for label, base in edge_scenarios():
        for n, margin in ((200, 1.0), (200, 0.5), (1000, 0.5), (1000, 0.25)):
            sc = Scenario(base.kind, margin, at=base.at, fade_to=base.fade_to)
            r = verdict_rates(sc, n, reps, Margin(margin), n_perm=n_perm, seed=7)
            claim = r["no loss"] + r["improves"]
            print(
                line(
                    f"{label}, margin {margin:g}, n={n}: P(no loss/improves)", claim, reps, "≤ 0.05"
                )
            )


def sequential_study(sc: Scenario, margin: float, reps: int, seed: int) -> tuple[float, float]:
    """P(no loss or improves) of a sequential single-step study, and E[models per space]."""
    design = SequentialDesign(look_every=50, max_n=600)
    claims, used = 0, []
    for rep in range(reps):
        ep, _, er, _ = sc.draw(600, np.random.default_rng([seed, rep]))

        def draw(j: int, n: int, samples: tuple = (ep, er)) -> object:
            return unstratified(samples[j][:n])

        chain, counts = simulate_study(draw, ((0, 1),), design, Margin(margin), rep, 199, 199)
        claims += chain.verdicts[0] in ("no loss", "improves")
        used.append(counts[0])
    return claims / reps, float(np.mean(used))


def sequential(reps: int, n_perm: int) -> None:
    print(f"== sequential: edge losses, looks every 50 up to 600, O'Brien–Fleming (reps = {reps})")
    for label, base in edge_scenarios():
        for margin in (1.0, 0.5):
            sc = Scenario(base.kind, margin, at=base.at, fade_to=base.fade_to)
            rate, used = sequential_study(sc, margin, reps, 11)
            print(
                line(
                    f"{label}, margin {margin:g}: P(no loss/improves), sequential",
                    rate,
                    reps,
                    "≤ 0.05",
                )
                + f"  E[n] = {used:.0f}"
            )
            r = verdict_rates(sc, 600, reps, Margin(margin), n_perm=n_perm, seed=12)
            print(line(f"{label}, margin {margin:g}: P(worse), fixed n=600", r["worse"], reps, "—"))


CONFOUNDED_SIZES = (100, 200, 1000, 10_000, 20_000)
CONFOUNDED_LAWS: tuple[tuple[FlopsLaw, float], ...] = (
    ("linear", 2.0),
    ("linear", 10.0),
    ("log-uniform", 2.0),
    ("log-uniform", 10.0),
)


def confounded(reps: int, n_perm: int, sizes: tuple[int, ...], bins_only_reps: int) -> None:
    """P(false improves, worse or mixed) for the four complexity laws at each n, ``reps``
    studies per cell (seed 5); the 8-bin strata alone at n = 10,000 (``bins_only_reps``
    studies, 0: skipped); the power for a 0.3 pp gain at n = 10,000 (reps // 4 ≥ 100)."""
    print(
        f"== confounded normalized nulls: error varies with complexity inside bins "
        f"(reps = {reps}, {n_perm} permutations)"
    )
    for n in sizes:
        for law, ratio in CONFOUNDED_LAWS:
            sc = Scenario("identical", flops_law=law, flops_ratio=ratio)
            start = time.perf_counter()
            r = verdict_rates(sc, n, reps, n_perm=n_perm, seed=5)
            false = r["improves"] + r["worse"] + r["mixed"]
            label = f"{law} complexity law, range {ratio:g}×, n={n}: P(false difference)"
            print(line(label, false, reps, "≤ 0.05") + f"  {time.perf_counter() - start:.0f} s")
    if bins_only_reps:
        saved = strata.SUBSTRATUM_SCALE
        strata.SUBSTRATUM_SCALE = math.inf  # one test stratum per bin: the NDS 8-bin shuffle
        try:
            for law, ratio in CONFOUNDED_LAWS:
                sc = Scenario("identical", flops_law=law, flops_ratio=ratio)
                r = verdict_rates(sc, 10_000, bins_only_reps, n_perm=n_perm, seed=5)
                false = r["improves"] + r["worse"] + r["mixed"]
                label = f"{law}, range {ratio:g}×, n=10000, 8-bin strata only: P(false)"
                print(line(label, false, bins_only_reps, "— (the bias the strata remove)"))
        finally:
            strata.SUBSTRATUM_SCALE = saved
    power_reps = max(100, reps // 4)
    sc = Scenario("shift", -0.3, flops_law="linear", flops_ratio=10.0)
    r = verdict_rates(sc, 10_000, power_reps, n_perm=n_perm, seed=6)
    print(
        line(
            "gain of 0.3 pp, linear law, range 10×, n=10,000: P(improves)",
            r["improves"],
            power_reps,
            "≥ 0.90",
        )
    )


def true_curves(law: str, normalized: bool, reps: int, n_perm: int) -> tuple[list, list]:
    same, better = [], []
    for n in PLAN_GRID:
        sc = Scenario("identical", normalized=normalized, error_law=law)
        same.append(verdict_rates(sc, n, reps, n_perm=n_perm, seed=4)["no loss"])
        sc = Scenario("shift", -1.0, normalized=normalized, error_law=law)
        better.append(verdict_rates(sc, n, reps, n_perm=n_perm, seed=5)["improves"])
    return same, better


def plan_calibration(reps: int, n_perm: int, pilots: int) -> None:
    print(f"== plan: power 0.8 from 100-model pilots ({pilots} pilots; {reps} studies per n)")
    logs = np.log(PLAN_GRID)
    kinds = [*PILOT_LAWS.items(), ("normalized", "smooth")]
    for name, law in kinds:
        normalized = name == "normalized"
        same, better = true_curves(law, normalized, reps, n_perm)
        got_same, got_better, ns, times = [], [], [], []
        for i in range(pilots):
            sc = Scenario("identical", normalized=normalized, error_law=law)
            ep, cp, _, _ = sc.draw(100, np.random.default_rng([99, i]))
            start, cpu = time.perf_counter(), time.process_time()
            res = plan(ep, pilot_complexity=cp if normalized else None, margin=1.0, power=0.8)
            times.append((time.perf_counter() - start, time.process_time() - cpu))
            ns.append((res.n_no_loss, res.n_improves))
            got_same.append(np.interp(np.log(res.n_no_loss), logs, same))
            got_better.append(np.interp(np.log(res.n_improves), logs, better))
        curve = ", ".join(
            f"{n}: {a:.2f}/{b:.2f}" for n, a, b in zip(PLAN_GRID, same, better, strict=True)
        )
        print(f"  {name}: true P(no loss)/P(improves) at n = {curve}")
        n_same = int(np.median([a for a, _ in ns]))
        n_better = int(np.median([b for _, b in ns]))
        print(
            line(
                f"{name}: P(no loss) at the planned n (median {n_same})",
                float(np.mean(got_same)),
                reps,
                "0.80 ± 0.05",
            )
        )
        print(
            line(
                f"{name}: P(improves) at the planned n (median {n_better})",
                float(np.mean(got_better)),
                reps,
                "0.80 ± 0.05",
            )
        )
        wall, cpu = np.median(times, axis=0)
        print(
            f"  {name}: plan time median {wall:.2f} s wall, {cpu:.2f} s CPU, max "
            f"{np.max(times, axis=0)[1]:.2f} s CPU (normalized ≤ 1 s)"
        )


def ks_unequal() -> None:
    from scipy.stats import ks_2samp

    print("== plain step_test, 1,000 against 3,000 models")
    rng = np.random.default_rng(0)
    parent, restricted = rng.normal(8, 2, 1000), rng.normal(7.9, 2, 3000)
    step_test(parent, restricted)  # imports
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        times = []
        for _ in range(5):
            start = time.perf_counter()
            step_test(parent, restricted)
            times.append(time.perf_counter() - start)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as scipy_caught:
        warnings.simplefilter("always")
        for alternative in ("greater", "less"):
            ks_2samp(restricted, parent, alternative=alternative, method="exact")
    base = time.perf_counter() - start
    print(
        f"  step_test: {min(times):.3f} s (best of 5; ≤ 0.05 s), {len(caught)} warnings; "
        f"scipy's exact one-sided ks_2samp both ways: {base:.3f} s, {len(scipy_caught)} warnings"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--n-perm", type=int, default=199)
    parser.add_argument("--pilots", type=int, default=12)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, CONFOUNDED_SIZES)),
        help="models per space of the confounded nulls",
    )
    parser.add_argument(
        "--bins-only-reps", type=int, default=100, help="confounded: 8-bin strata studies (0: none)"
    )
    args = parser.parse_args()
    chosen = args.sections.split(",")
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")
    start = time.perf_counter()
    reps, n_perm = args.reps, args.n_perm
    if "basic" in chosen:
        basic(reps, n_perm)
    if "edges" in chosen:
        edges(reps, n_perm)
    if "sequential" in chosen:
        sequential(max(50, reps // 2), n_perm)
    if "confounded" in chosen:
        sizes = tuple(int(x) for x in args.sizes.split(","))
        confounded(reps, n_perm, sizes, args.bins_only_reps)
    if "plan" in chosen:
        plan_calibration(max(100, reps // 2), n_perm, args.pilots)
    if "ks" in chosen:
        ks_unequal()
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
