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
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis import curves
from edftools.analysis import samples as measure
from edftools.analysis.runs import select_runs
from edftools.analysis.seednoise import NoiseFlag, SeedNoiseTable, from_selected, noise_flags
from edftools.analysis.settings import Settings
from edftools.errors import EdftoolsError, StoreError
from edftools.stats import Margin
from edftools.stats.compare import anderson, differences
from edftools.stats.verdicts import IMPROVES, INCONCLUSIVE, MIXED, NO_LOSS, WORSE

BEST_K = 32
DEFAULT_PARAMS: tuple[str, ...] = ("d", "w0", "wm")


@dataclass(frozen=True)
class CompareOptions:
    """What a comparison analyses: the spaces (the first is the reference), which runs
    (``sweep``, ``dataset``), the parameters whose good ranges and trends it shows, and how
    (:class:`Settings`)."""

    spaces: tuple[str, ...]
    settings: Settings = field(default_factory=Settings)
    sweep: str | None = None
    dataset: str | None = None
    params: tuple[str, ...] = DEFAULT_PARAMS

    @property
    def margin(self) -> Margin:
        """The no-loss margin of the settings."""
        return self.settings.margin_rule


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
    ``p_*_adj``: p-values after the weighted step-down over all pairs; ``median_diff`` = median(a) −
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


@dataclass(frozen=True, eq=False, repr=False)
class ComparisonResult:
    """Every number of a comparison: per-space summaries, pairwise tests, and the numbers the
    figures show (bands, weights, good ranges, trends; computed on first use, seeded).

    ``to_frame()``: one row per space; ``pairs_frame()``: one row per pair with its verdict;
    ``to_dict()``: all of it as plain JSON (what ``edftools compare --json`` prints).
    ``seed_noise``: the seed noise of the spaces with reruns (None without; then ``to_dict``
    has no ``seed_noise`` key).
    """

    options: CompareOptions
    spaces: tuple[SpaceRow, ...]
    pairs: tuple[PairRow, ...]
    frame: pd.DataFrame
    samples: tuple[measure.SpaceSample, ...]
    summaries: tuple[Any, ...]
    seed_noise: SeedNoiseTable | None = None

    @property
    def noise_flags(self) -> tuple[NoiseFlag, ...]:
        """Each pair whose spaces have reruns: |median a − b| against the seed-noise SD
        (empty without reruns)."""
        return noise_flags(self.seed_noise, [(p.a, p.b, p.median_diff) for p in self.pairs])

    @property
    def settings(self) -> Settings:
        """The settings the numbers were computed with."""
        return self.options.settings

    @property
    def verdict(self) -> str:
        """The verdict of the first pair (the only one when two spaces are compared)."""
        return self.pairs[0].verdict if self.pairs else "no pair"

    @cached_property
    def bands(self) -> tuple[curves.Bands, ...]:
        """EDFs with pointwise 95% bands: normalized (when normalized), then raw."""
        seed = self.settings.seed
        normalized = self.samples[0].rule is not None
        kinds = [(0, True)] if normalized else []
        kinds.append((len(kinds), False))
        return tuple(curves.edf_bands(self.samples, seed, k + 1, n) for k, n in kinds)

    @cached_property
    def window(self) -> curves.ErrorWindow:
        """The error axis that decides: up to the reference (first) space's 95th percentile."""
        errors = [s.stratified.errors for s in self.samples]
        return curves.error_window(errors[0], errors)

    @cached_property
    def weighted_frame(self) -> pd.DataFrame:
        """The selected runs with each model's normalization ``weight`` (1 when plain, 0
        outside the normalization range)."""
        frame = self.frame.copy()
        frame["weight"] = 1.0
        for s in self.samples:
            mask = (frame["space"] == s.name).to_numpy()
            if s.weights is not None:
                frame.loc[mask, "weight"] = s.weights
        return frame

    @cached_property
    def ranges_and_trends(
        self,
    ) -> tuple[tuple[curves.GoodRange, ...], tuple[curves.Trend, ...], tuple[str, ...]]:
        """Good ranges and trends of ``options.params`` per space; notes for skipped ones."""
        return _ranges_and_trends(self)

    @property
    def good_ranges(self) -> tuple[curves.GoodRange, ...]:
        """Good range of each parameter in each space."""
        return self.ranges_and_trends[0]

    @property
    def trends(self) -> tuple[curves.Trend, ...]:
        """Trend of each parameter with complexity in each space."""
        return self.ranges_and_trends[1]

    def to_frame(self) -> pd.DataFrame:
        """One row per space (n, min, mean and median error with CIs, best of k)."""
        return pd.DataFrame([asdict(r) for r in self.spaces])

    def pairs_frame(self) -> pd.DataFrame:
        """One row per pair (tests, adjusted p-values, verdict)."""
        return pd.DataFrame([asdict(p) for p in self.pairs])

    def to_dict(self) -> dict[str, Any]:
        """Every number the reports show, as plain JSON."""
        return to_json(self)

    def __repr__(self) -> str:
        names = " vs ".join(s.name for s in self.samples)
        words = "; ".join(f"{p.a}–{p.b}: {p.verdict}" for p in self.pairs)
        return (
            f"ComparisonResult({names}, {self.settings.describe_normalization()}"
            f"{', ' + words if words else ''})"
        )


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
    cfg = options.settings
    frame, names = select_runs(
        runs, options.spaces, cfg.error_column, options.sweep, options.dataset
    )
    noise = from_selected(runs, frame, names, cfg.error_column)
    samples = measure.build_samples(frame, names, cfg.normalize, cfg.bins)
    summaries = [
        measure.summarize(s, np.random.SeedSequence([cfg.seed, 1, i]), cfg.n_boot)
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
        seed = np.random.SeedSequence([cfg.seed, 2])
        steps = measure.verdicts(
            [(samples[i], samples[j]) for i, j in pairs_idx], options.margin, cfg.alpha, seed
        )
        for k, ((i, j), step) in enumerate(zip(pairs_idx, steps, strict=True)):
            pairs.append(
                _pair_row(samples[i], samples[j], summaries[i], summaries[j], step, options, k)
            )
    return ComparisonResult(
        options, tuple(rows), tuple(pairs), frame, tuple(samples), tuple(summaries), noise
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
        cfg = options.settings
        needed = measure.models_needed(a, options.margin, cfg.alpha, steps, cfg.seed + k).n
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
        step.adjusted[0],
        step.adjusted[1],
        step.adjusted[2],
        med.value,
        med.low,
        med.high,
        pair_verdict(step.verdict, a.name, b.name),
        step.note,
        step.borderline,
        needed,
    )


def _ranges_and_trends(
    result: ComparisonResult,
) -> tuple[tuple[curves.GoodRange, ...], tuple[curves.Trend, ...], tuple[str, ...]]:
    frame = result.frame
    cfg = result.settings
    xcol = cfg.normalize if cfg.normalized else "flops"
    ranges, trends, skipped = [], [], []
    for name in result.options.params:
        values_all = curves.param_values(frame, name)
        for space in (s.name for s in result.samples):
            mask = (frame["space"] == space).to_numpy()
            v, e = values_all[mask], frame["err"].to_numpy(dtype=float)[mask]
            item = curves.good_range_of(space, name, name, v, e, log_x=False)
            if item is None:
                skipped.append(f"{name} in {space}: not varied or missing")
                continue
            ranges.append(item)
            if xcol not in frame.columns:
                skipped.append(f"trend of {name} in {space}: the runs have no {xcol!r} column")
                continue
            x = pd.to_numeric(frame.loc[mask, xcol], errors="coerce").to_numpy(dtype=float)
            try:
                trends.append(curves.trend_of(space, name, xcol, x, v, e))
            except EdftoolsError as exc:  # too few distinct good models for a line
                skipped.append(f"trend of {name} in {space}: {exc}")
    return tuple(ranges), tuple(trends), tuple(skipped)


def to_json(result: ComparisonResult) -> dict[str, Any]:
    """Every number of a comparison: settings and options, per-space summaries with best-of-k
    curves, pairwise tests, EDF bands, the decision window, good ranges and trends."""
    spaces = []
    for row, summ in zip(result.spaces, result.summaries, strict=True):
        bk = summ.best_of_k
        item = _clean(asdict(row))
        item["best_of_k_curve"] = [
            {"k": int(k), "mean": float(m), "low": float(lo), "high": float(hi)}
            for k, m, lo, hi in zip(bk.ks, bk.mean, bk.low, bk.high, strict=True)
        ]
        spaces.append(item)
    o = result.options
    ranges, trends, skipped = result.ranges_and_trends
    window = result.window
    out: dict[str, Any] = {
        "options": {
            "spaces": list(o.spaces),
            "sweep": o.sweep,
            "dataset": o.dataset,
            "params": list(o.params),
            **result.settings.to_dict(),
        },
        "spaces": spaces,
        "tests": [_clean(asdict(p)) for p in result.pairs],
        "bands": [b.to_dict() for b in result.bands],
        "window": {**asdict(window), "note": window.note()},
        "good_ranges": [g.to_dict() for g in ranges],
        "trends": [t.to_dict() for t in trends],
        "skipped": list(skipped),
    }
    if result.seed_noise is not None:
        out["seed_noise"] = {
            **result.seed_noise.to_dict(),
            "pairs": [f.to_dict() for f in result.noise_flags],
        }
    return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out
