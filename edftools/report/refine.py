"""Sequential restriction testing: the A → B → C → D → E → RegNetX refinement table.

For each step of the chain (parent → restricted space) the two (normalized) error EDFs are
compared with a two-sided test; the p-values of all steps are Holm-adjusted together, and a
verdict (improves / no loss / worse / inconclusive) is given per step from the adjusted test,
the direction of the largest EDF difference, and the bootstrap upper bound of the restricted
space's worst deficit sup_e(F_parent − F_restricted) against the margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from edftools.errors import StoreError
from edftools.report import measure, verdict
from edftools.report.data import DEFAULT_CHAIN, DEFAULT_ERROR_COLUMN, select_runs
from edftools.report.format import ci, num, pvalue, sci

BEST_K = 32


@dataclass(frozen=True)
class RefineOptions:
    """Settings of a refinement analysis (all shown in the report's footnote)."""

    chain: tuple[str, ...] = DEFAULT_CHAIN
    normalize: str = "flops"
    bins: int = measure.DEFAULT_BINS
    margin: float = 0.05
    alpha: float = 0.05
    error_column: str = DEFAULT_ERROR_COLUMN
    sweep: str | None = None
    dataset: str | None = None
    seed: int = 0
    n_boot: int = 1000


@dataclass(frozen=True)
class RefineRow:
    """One row of the refinement table (the first space of the chain has no test)."""

    space: str
    parent: str | None
    restriction: str
    dim: int | None
    combinations: str
    paper_total: float | None
    exact_total: float | None
    n: int
    n_runs: int
    min_error: float
    mean_error: float
    median_error: float
    median_low: float
    median_high: float
    best_of_k: float
    best_of_k_low: float
    best_of_k_high: float
    ks_d: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    gain: float | None = None
    deficit: float | None = None
    deficit_upper: float | None = None
    verdict: str = "baseline"
    n_needed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN → None)."""
        out = asdict(self)
        return {k: _finite_or_none(v) for k, v in out.items()}


@dataclass(frozen=True, eq=False)
class RefineResult:
    """The table rows, the options, and what the figures need."""

    rows: tuple[RefineRow, ...]
    options: RefineOptions
    frame: pd.DataFrame
    samples: tuple[measure.SpaceSample, ...]
    summaries: tuple[Any, ...] = field(repr=False)


def static_table() -> dict[str, dict[str, Any]]:
    """The static half of the table, by space name, from ``edftools.spaces.space_table()``."""
    from edftools.spaces import space_table

    table = space_table()
    records = table.to_dict("records") if hasattr(table, "to_dict") else list(table)
    return {str(r["name"]): dict(r) for r in records}


def _seed(seed: int, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), *keys])


def refine(runs: pd.DataFrame, options: RefineOptions | None = None) -> RefineResult:
    """Run the chain of restriction tests on a runs frame (from ``Store.runs_frame``).

    Per step i (parent P = chain[i−1], restricted R = chain[i]): D = sup|F_R − F_P| with
    p-value (``measure.step_test``), Holm-adjusted over all steps; the verdict from
    :func:`edftools.report.verdict.step_verdict`; for an inconclusive step the models per
    space that detect a sup-norm difference of max(margin, D) with power 0.8 at level α/m.
    """
    opts = options or RefineOptions()
    if len(opts.chain) < 2:
        raise StoreError("a refinement chain needs at least two spaces")
    frame, names = select_runs(runs, opts.chain, opts.error_column, opts.sweep, opts.dataset)
    samples = measure.build_samples(frame, names, opts.normalize, opts.bins)
    summaries = [
        measure.summarize(s, _seed(opts.seed, 1, i), opts.n_boot) for i, s in enumerate(samples)
    ]
    tests = [
        measure.step_test(samples[i - 1], samples[i], _seed(opts.seed, 2, i), opts.n_boot)
        for i in range(1, len(samples))
    ]
    p_holm, rejected = verdict.holm([t.p_value for t in tests], opts.alpha)
    static = static_table()
    rows = []
    for i, (sample, summ) in enumerate(zip(samples, summaries, strict=True)):
        info = static.get(sample.name, {})
        best = summ.best_of_k.at(BEST_K)
        row: dict[str, Any] = {
            "space": sample.name,
            "parent": names[i - 1] if i else None,
            "restriction": str(info.get("restriction", "")),
            "dim": _int_or_none(info.get("dim")),
            "combinations": str(info.get("combinations", "")),
            "paper_total": _float_or_none(info.get("paper_total")),
            "exact_total": _float_or_none(info.get("exact_total")),
            "n": sample.n,
            "n_runs": int(sample.errors.size),
            "min_error": summ.min.value,
            "mean_error": summ.mean.value,
            "median_error": summ.median.value,
            "median_low": summ.median.low,
            "median_high": summ.median.high,
            "best_of_k": best.value,
            "best_of_k_low": best.low,
            "best_of_k_high": best.high,
        }
        if i:
            t = tests[i - 1]
            word = verdict.step_verdict(
                bool(rejected[i - 1]), t.gain, t.deficit, t.deficit_upper, opts.margin
            )
            needed = None
            if word == verdict.INCONCLUSIVE:
                needed = measure.models_needed(t, opts.margin, opts.alpha / len(tests))
            row.update(
                ks_d=t.ks_d,
                p_value=t.p_value,
                p_holm=float(p_holm[i - 1]),
                gain=t.gain,
                deficit=t.deficit,
                deficit_upper=t.deficit_upper,
                verdict=word,
                n_needed=needed,
            )
        rows.append(RefineRow(**row))
    return RefineResult(tuple(rows), opts, frame, tuple(samples), tuple(summaries))


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value != value else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


HEADERS: tuple[str, ...] = (
    "space",
    "restriction",
    "dim",
    "combinations",
    "total (paper)",
    "exact total",
    "n",
    "min error",
    "mean error",
    "median error [95% CI]",
    "KS D (p; Holm p)",
    f"best of {BEST_K} [95% CI]",
    "verdict",
)


def verdict_text(row: RefineRow) -> str:
    """The verdict cell: the word, plus the models per space needed when inconclusive."""
    if row.verdict == verdict.INCONCLUSIVE and row.n_needed:
        return f"inconclusive (n ≈ {row.n_needed:,} per space)"
    if row.verdict == "baseline":
        return "—"
    return row.verdict


def restriction_step(restriction: str, parent_restriction: str | None) -> str:
    """The restriction a space adds to its parent, in the paper's "+ ..." style, when the
    parent's (``"; "``-separated) restrictions are a prefix of this space's; else all of it."""
    if not restriction:
        return "—"
    if parent_restriction and parent_restriction != "none":
        head = parent_restriction + "; "
        if restriction.startswith(head):
            return "+ " + restriction[len(head) :]
    if parent_restriction == "none" and parent_restriction != restriction:
        return "+ " + restriction
    return restriction


def table_cells(rows: Sequence[RefineRow]) -> list[list[str]]:
    """The table's rows as formatted strings (shared by Markdown and HTML)."""
    out = []
    for i, r in enumerate(rows):
        parent = rows[i - 1].restriction if i else None
        test = "—"
        if r.ks_d is not None:
            test = f"{num(r.ks_d, 3)} ({pvalue(r.p_value)}; Holm {pvalue(r.p_holm)})"
        out.append(
            [
                r.space,
                restriction_step(r.restriction, parent),
                "—" if r.dim is None else str(r.dim),
                r.combinations or "—",
                sci(r.paper_total),
                sci(r.exact_total, digits=3),
                str(r.n),
                num(r.min_error),
                num(r.mean_error),
                f"{num(r.median_error)} {ci(r.median_low, r.median_high)}",
                test,
                f"{num(r.best_of_k)} {ci(r.best_of_k_low, r.best_of_k_high)}",
                verdict_text(r),
            ]
        )
    return out


def footnotes(result: RefineResult) -> list[str]:
    """The table's footnotes: error column, normalization, test, Holm, margin, seeds."""
    o = result.options
    m = max(0, len(result.rows) - 1)
    rule = result.samples[0].rule
    if rule is None:
        norm = "plain EDFs (no complexity normalization)"
    else:
        lo, hi = rule.range
        norm = (
            f"EDFs normalized by {o.normalize}: {o.bins} linear bins over ({lo:.4g}, {hi:.4g}), "
            "the range every space covers; each bin carries mass 1/K (NDS)"
        )
    return [
        "restriction, dim, combinations, total (paper), exact total: the spaces at the paper's "
        "full size (ImageNet, 4 stages; `edftools spaces`); every other column is measured on "
        "the stored runs, which may come from scaled versions of the spaces (the sweep's recipe "
        "is in the store's `sweeps` table).",
        f"Error: `{o.error_column}` ("
        + (
            "top-1 test error of the final epoch"
            if o.error_column == "error"
            else "lowest top-1 test error over the epochs"
        )
        + ", %); n = models inside the normalization range.",
        norm + ".",
        "KS D: two-sample Kolmogorov–Smirnov statistic sup|F_restricted − F_parent| between each "
        "space and the one above it; p-values Holm-adjusted over the "
        f"{m} steps of the chain (family-wise error ≤ α = {o.alpha:g}).",
        f"Verdicts: improves = Holm-significant and the restricted EDF lies above its parent's; "
        f"no loss = the bootstrap 95% upper bound of sup_e(F_parent − F_restricted) is below the "
        f"margin {o.margin:g}; worse = Holm-significant deficit; inconclusive = neither, with the "
        "models per space that would settle it if the observed difference were the truth: the "
        f"fewer of those that detect D with power 0.8 at level α/{m} and those that bring the "
        "deficit bound below the margin.",
        f"CIs: percentile bootstrap ({o.n_boot} resamples, seed {o.seed}); best of {BEST_K} = "
        f"expected lowest error of {BEST_K} models drawn at random (NDS random-search curve).",
    ]


def to_markdown(result: RefineResult) -> str:
    """The refinement table as Markdown with its footnotes."""
    from edftools.report.htmldoc import md_table

    lines = ["## Refinement table", "", md_table(HEADERS, table_cells(result.rows)), ""]
    lines += [f"{i}. {md_text(t)}" for i, t in enumerate(footnotes(result), 1)]
    return "\n".join(lines) + "\n"


def md_text(text: str) -> str:
    """Footnote text for Markdown: ``< > &`` escaped (backticks are kept)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_json(result: RefineResult) -> list[dict[str, Any]]:
    """The rows as JSON objects (keys include space, restriction, dim, paper_total,
    exact_total, n, min_error, mean_error, ks_d, p_value, verdict)."""
    return [r.to_json() for r in result.rows]
