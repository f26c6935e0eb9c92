"""Comparing any spaces (or imported sweeps) of a store: summaries, pairwise tests, verdicts.

For every pair (a, b) of the listed spaces (a listed first = the reference) the step verdict of
b against a (``stats.family_test``: one-sided KS both ways and the no-loss test, all pairs in
one family with the family-wise error ≤ α), the two-sided KS test, the Anderson–Darling test
(plain EDFs) and the difference of medians with a bootstrap CI, phrased as "b better",
"a better", "b no worse than a", "mixed" or "inconclusive".
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from edftools.errors import StoreError
from edftools.report import measure
from edftools.report.data import DEFAULT_ERROR_COLUMN, select_runs
from edftools.report.format import ci, num, pvalue
from edftools.report.htmldoc import md_table
from edftools.stats import Margin
from edftools.stats.compare import anderson, differences
from edftools.stats.verdicts import IMPROVES, INCONCLUSIVE, MIXED, NO_LOSS, WORSE

BEST_K = 32
DEFAULT_PARAMS: tuple[str, ...] = ("d", "w0", "wm")


@dataclass(frozen=True)
class CompareOptions:
    """Settings of a comparison report."""

    spaces: tuple[str, ...]
    normalize: str = "flops"
    bins: int = measure.DEFAULT_BINS
    margin: Margin = field(default_factory=Margin)
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
    """One pairwise comparison of b against the reference a (``improves`` = b better).

    ``ks_d``/``p_two_sided``: the two-sided KS test; ``d_better``/``d_worse``: one-sided
    D+ = sup(F_b − F_a), D− = sup(F_a − F_b); ``loss``: b's largest loss in the margin's unit;
    ``p_*_adj``: p-values after Shaffer–Holm over all pairs; ``median_diff`` = median(a) −
    median(b) with its CI; ``n_needed``: models per space that would decide an inconclusive pair.
    """

    a: str
    b: str
    ks_d: float
    p_two_sided: float
    method: str
    ad_p_value: float | None
    d_better: float
    d_worse: float
    loss: float
    p_better_adj: float
    p_worse_adj: float
    p_no_loss_adj: float
    median_diff: float
    median_diff_low: float
    median_diff_high: float
    verdict: str
    note: str
    borderline: bool
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
    """A step verdict rephrased for a pair (b against a): improves → "b better", worse →
    "a better", no loss → "b no worse than a", mixed → "mixed (EDFs cross)"."""
    return {
        IMPROVES: f"{b} better",
        WORSE: f"{a} better",
        NO_LOSS: f"{b} no worse than {a}",
        MIXED: "mixed (EDFs cross)",
    }.get(word, word)


def compare_spaces(runs: pd.DataFrame, options: CompareOptions) -> ComparisonResult:
    """Summaries of each space and the verdict of every pair (one family: FWER ≤ α)."""
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
    pairs = []
    if pairs_idx:
        seed = np.random.SeedSequence([options.seed, 2])
        steps = measure.verdicts(
            [(samples[i], samples[j]) for i, j in pairs_idx], options.margin, options.alpha, seed
        )
        for k, ((i, j), step) in enumerate(zip(pairs_idx, steps, strict=True)):
            pairs.append(
                _pair_row(samples[i], samples[j], summaries[i], summaries[j], step, options, k)
            )
    return ComparisonResult(
        options, tuple(rows), tuple(pairs), frame, tuple(samples), tuple(summaries)
    )


def _pair_row(
    a: measure.SpaceSample,
    b: measure.SpaceSample,
    sum_a: Any,
    sum_b: Any,
    step: Any,
    options: CompareOptions,
    k: int,
) -> PairRow:
    med = differences(sum_a, sum_b)["q0.5"]
    needed = None
    if step.verdict == INCONCLUSIVE:
        steps = len(options.spaces) * (len(options.spaces) - 1) // 2
        needed = measure.models_needed(a, options.margin, options.alpha, steps, options.seed + k).n
    ad = None
    if a.rule is None:
        ad = anderson(a.stratified.errors, b.stratified.errors).pvalue
    return PairRow(
        a.name,
        b.name,
        max(step.better, step.worse),
        step.p_two_sided,
        step.method,
        ad,
        step.better,
        step.worse,
        step.loss,
        *step.adjusted,
        med.value,
        med.low,
        med.high,
        pair_verdict(step.verdict, a.name, b.name),
        step.note,
        step.borderline,
        needed,
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
    "KS D (p)",
    "AD p",
    "median a − b [95% CI]",
    "b better: D+ (adj. p)",
    "b worse: D− (adj. p)",
    "b's largest loss (no-loss adj. p)",
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
        if p.note:
            word = f"{word} ({p.note})"
        if p.n_needed:
            word = f"{word} (n ≈ {p.n_needed:,} per space)"
        if p.borderline:
            word += " (borderline)"
        out.append(
            [
                p.a,
                p.b,
                f"{num(p.ks_d, 3)} ({pvalue(p.p_two_sided)})",
                pvalue(p.ad_p_value),
                f"{num(p.median_diff)} {ci(p.median_diff_low, p.median_diff_high)}",
                f"{num(p.d_better, 3)} ({pvalue(p.p_better_adj)})",
                f"{num(p.d_worse, 3)} ({pvalue(p.p_worse_adj)})",
                f"{num(p.loss, 2)} ({pvalue(p.p_no_loss_adj)})",
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
        "Verdicts as in `edftools refine` (b against the reference a): one-sided KS tests both "
        "ways (labels permuted within complexity bins when normalized, scipy's ks_2samp "
        f"otherwise) and the no-loss test with margin {o.margin.describe()}; the 3 hypotheses "
        f"of each of the {len(result.pairs)} pairs under one Shaffer–Holm step-down "
        f"(family-wise error ≤ {o.alpha:g}). KS D (p) is the two-sided test; AD = "
        "Anderson–Darling k-sample (plain EDFs only).",
        f"CIs: percentile bootstrap, {o.n_boot} resamples (normalization weights recomputed in "
        f"each), seed {o.seed}.",
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
