"""Comparing any spaces (or imported sweeps) of a store: summaries, pairwise tests, verdicts.

For every pair (a, b) of the listed spaces (a listed first = the reference), ``stats.compare``
gives the two-sided KS test, the difference of medians with a bootstrap CI and b's worst EDF
deficit bound; the p-values of all pairs are Holm-adjusted together and each pair gets a
verdict in the words of :mod:`edftools.report.verdict` ("b better", "a better", ...).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from edftools.errors import StoreError
from edftools.report import measure, verdict
from edftools.report.data import DEFAULT_ERROR_COLUMN, select_runs
from edftools.report.format import ci, num, pvalue
from edftools.report.htmldoc import md_table

BEST_K = 32
DEFAULT_PARAMS: tuple[str, ...] = ("d", "w0", "wm")


@dataclass(frozen=True)
class CompareOptions:
    """Settings of a comparison report."""

    spaces: tuple[str, ...]
    normalize: str = "flops"
    bins: int = measure.DEFAULT_BINS
    margin: float = 0.05
    alpha: float = 0.05
    error_column: str = DEFAULT_ERROR_COLUMN
    sweep: str | None = None
    dataset: str | None = None
    seed: int = 0
    n_boot: int = 1000
    params: tuple[str, ...] = DEFAULT_PARAMS


@dataclass(frozen=True)
class SpaceRow:
    """One space's summary (errors in %)."""

    space: str
    n: int
    n_runs: int
    min_error: float
    mean_error: float
    mean_low: float
    mean_high: float
    median_error: float
    median_low: float
    median_high: float
    best_of_k: float
    best_of_k_low: float
    best_of_k_high: float


@dataclass(frozen=True)
class PairRow:
    """One pairwise comparison; ``median_diff`` = median(a) − median(b) with its CI."""

    a: str
    b: str
    ks_d: float
    p_value: float
    p_holm: float
    method: str
    ad_p_value: float | None
    median_diff: float
    median_diff_low: float
    median_diff_high: float
    gain: float
    deficit: float
    deficit_upper: float
    verdict: str
    n_needed: int | None


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """The numbers of a comparison plus what the figures need."""

    options: CompareOptions
    spaces: tuple[SpaceRow, ...]
    pairs: tuple[PairRow, ...]
    frame: pd.DataFrame
    samples: tuple[measure.SpaceSample, ...]
    summaries: tuple[Any, ...]


def pair_verdict(word: str, a: str, b: str) -> str:
    """A step verdict rephrased for a pair: improves → "b better", worse → "a better"."""
    return {
        verdict.IMPROVES: f"{b} better",
        verdict.WORSE: f"{a} better",
        verdict.NO_LOSS: f"{b} no worse than {a}",
    }.get(word, word)


def compare_spaces(runs: pd.DataFrame, options: CompareOptions) -> ComparisonResult:
    """Summaries of each space and tests of every pair (Holm over the pairs)."""
    if not options.spaces:
        raise StoreError("name at least one space to compare")
    frame, names = select_runs(
        runs, options.spaces, options.error_column, options.sweep, options.dataset
    )
    samples = measure.build_samples(frame, names, options.normalize, options.bins)
    summaries = [
        measure.summarize(s, np.random.SeedSequence([options.seed, 1, i]), options.n_boot)
        for i, s in enumerate(samples)
    ]
    rows = []
    for s, summ in zip(samples, summaries, strict=True):
        best = summ.best_of_k.at(BEST_K)
        rows.append(
            SpaceRow(
                s.name,
                s.n,
                int(s.errors.size),
                summ.min.value,
                summ.mean.value,
                summ.mean.low,
                summ.mean.high,
                summ.median.value,
                summ.median.low,
                summ.median.high,
                best.value,
                best.low,
                best.high,
            )
        )
    pairs_idx = list(itertools.combinations(range(len(samples)), 2))
    results = [
        measure.compare_result(
            samples[i],
            samples[j],
            np.random.SeedSequence([options.seed, 2, i, j]),
            options.n_boot,
        )
        for i, j in pairs_idx
    ]
    p_holm, rejected = verdict.holm([r.ks.pvalue for r in results], options.alpha)
    pairs = []
    for k, ((i, j), res) in enumerate(zip(pairs_idx, results, strict=True)):
        a, b = samples[i], samples[j]
        test = measure.StepTest(
            res.ks.statistic,
            res.ks.pvalue,
            res.ks.method,
            measure.gain(a, b),
            res.deficit.statistic,
            res.deficit.upper,
        )
        word = verdict.step_verdict(
            bool(rejected[k]), test.gain, test.deficit, test.deficit_upper, options.margin
        )
        needed = None
        if word == verdict.INCONCLUSIVE:
            needed = measure.models_needed(test, options.margin, options.alpha / len(results))
        md = res.median_difference
        pairs.append(
            PairRow(
                a.name,
                b.name,
                test.ks_d,
                test.p_value,
                float(p_holm[k]),
                test.method,
                None if res.anderson is None else res.anderson.pvalue,
                md.value,
                md.low,
                md.high,
                test.gain,
                test.deficit,
                test.deficit_upper,
                pair_verdict(word, a.name, b.name),
                needed,
            )
        )
    return ComparisonResult(
        options, tuple(rows), tuple(pairs), frame, tuple(samples), tuple(summaries)
    )


SPACE_HEADERS = (
    "space",
    "n",
    "min error",
    "mean error [95% CI]",
    "median error [95% CI]",
    f"best of {BEST_K} [95% CI]",
)
PAIR_HEADERS = (
    "a",
    "b",
    "KS D",
    "p",
    "Holm p",
    "AD p",
    "median a − b [95% CI]",
    "deficit bound of b",
    "verdict",
)


def space_cells(rows: tuple[SpaceRow, ...]) -> list[list[str]]:
    """Formatted per-space rows."""
    return [
        [
            r.space,
            str(r.n),
            num(r.min_error),
            f"{num(r.mean_error)} {ci(r.mean_low, r.mean_high)}",
            f"{num(r.median_error)} {ci(r.median_low, r.median_high)}",
            f"{num(r.best_of_k)} {ci(r.best_of_k_low, r.best_of_k_high)}",
        ]
        for r in rows
    ]


def pair_cells(pairs: tuple[PairRow, ...]) -> list[list[str]]:
    """Formatted pairwise rows."""
    out = []
    for p in pairs:
        word = p.verdict
        if p.n_needed:
            word = f"{word} (n ≈ {p.n_needed:,} per space)"
        out.append(
            [
                p.a,
                p.b,
                num(p.ks_d, 3),
                pvalue(p.p_value),
                pvalue(p.p_holm),
                pvalue(p.ad_p_value),
                f"{num(p.median_diff)} {ci(p.median_diff_low, p.median_diff_high)}",
                num(p.deficit_upper, 3),
                word,
            ]
        )
    return out


def notes(result: ComparisonResult) -> list[str]:
    """How the numbers were computed (shown under the tables)."""
    o = result.options
    rule = result.samples[0].rule
    norm = "plain EDFs (no normalization)"
    if rule is not None:
        lo, hi = rule.range
        norm = f"EDFs normalized by {o.normalize}: {o.bins} linear bins over ({lo:.4g}, {hi:.4g})"
    return [
        f"Error column `{o.error_column}`; {norm}; n = models inside the range.",
        "Tests: two-sided KS (weighted KS with a permutation p-value when normalized), "
        f"Holm-adjusted over the {len(result.pairs)} pairs; AD = Anderson–Darling k-sample "
        "(plain EDFs only).",
        f"Verdicts as in `edftools refine` with margin {o.margin:g} (deficit bound = bootstrap "
        "95% upper bound of sup_e(F_a − F_b)); CIs: percentile bootstrap, "
        f"{o.n_boot} resamples, seed {o.seed}.",
    ]


def to_markdown(result: ComparisonResult) -> str:
    """The Markdown summary: per-space table, pairwise tests, notes."""
    lines = ["## Spaces", "", md_table(SPACE_HEADERS, space_cells(result.spaces)), ""]
    if result.pairs:
        lines += ["## Pairwise tests", "", md_table(PAIR_HEADERS, pair_cells(result.pairs)), ""]
    lines += [f"- {n.replace('<', '&lt;').replace('>', '&gt;')}" for n in notes(result)]
    return "\n".join(lines) + "\n"


def to_json(result: ComparisonResult) -> dict[str, Any]:
    """The numbers: options, per-space summaries with best-of-k curves, pairwise tests."""
    spaces = []
    for row, summ in zip(result.spaces, result.summaries, strict=True):
        bk = summ.best_of_k
        item = _clean(asdict(row))
        item["best_of_k_curve"] = [
            {"k": int(k), "mean": float(m), "low": float(lo), "high": float(hi)}
            for k, m, lo, hi in zip(bk.ks, bk.mean, bk.low, bk.high, strict=True)
        ]
        spaces.append(item)
    return {
        "options": _clean(asdict(result.options)),
        "spaces": spaces,
        "tests": [_clean(asdict(p)) for p in result.pairs],
    }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out
