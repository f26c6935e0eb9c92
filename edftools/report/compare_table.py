"""The comparison as text: column headers, formatted cells and notes (shared by the Markdown
and the HTML report), and the Markdown summary. Formatting only: every number comes from
:class:`edftools.analysis.comparison.ComparisonResult`."""

from __future__ import annotations

from edftools.analysis.comparison import BEST_K, ComparisonResult, PairRow, SpaceRow
from edftools.report import seednoise_table
from edftools.report.format import SMALL_MARK, ci, num, pvalue, small_sample_note
from edftools.report.htmldoc import md_table, md_text

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
            str(r.n) + (SMALL_MARK if r.n < BEST_K else ""),
            num(r.min_error),
            f"{num(r.mean_error)} {ci(r.mean_low, r.mean_high)}",
            f"{num(r.median_error)} {ci(r.median_low, r.median_high)}",
            f"{num(r.best_of_k)} {ci(r.best_of_k_low, r.best_of_k_high)}"
            + (SMALL_MARK if r.n < BEST_K else ""),
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
    cfg = result.settings
    rule = result.samples[0].rule
    norm = "plain EDFs (no normalization)"
    if rule is not None and rule.range is not None:
        lo, hi = rule.range
        norm = (
            f"EDFs normalized by {cfg.normalize}: {cfg.bins} linear bins over ({lo:.4g}, {hi:.4g})"
        )
    return [
        f"Error column `{cfg.error_column}`; {norm}; n = models inside the range.",
        "Verdicts as in `edftools refine` (b against the reference a): one-sided KS tests both "
        "ways (labels permuted within complexity bins when normalized, scipy's ks_2samp "
        f"otherwise) and the no-loss test with margin {o.margin.describe()}; the 3 hypotheses "
        f"of each of the {len(result.pairs)} pairs under one weighted Holm step-down "
        f"(family-wise error ≤ {cfg.alpha:g}). KS D (p) is the two-sided test; AD = "
        "Anderson–Darling k-sample (plain EDFs only).",
        f"CIs: percentile bootstrap, {cfg.n_boot} resamples (normalization weights recomputed in "
        f"each), seed {cfg.seed}.",
    ]


def to_markdown(result: ComparisonResult) -> str:
    """The Markdown summary: per-space table, pairwise tests, notes."""
    lines = ["## Spaces", "", md_table(SPACE_HEADERS, space_cells(result.spaces)), ""]
    if result.pairs:
        lines += ["## Pairwise tests", "", md_table(PAIR_HEADERS, pair_cells(result.pairs)), ""]
    small = [r.space for r in result.spaces if r.n < BEST_K]
    extra = [small_sample_note(BEST_K, small)] if small else []
    lines += [f"- {md_text(n)}" for n in [*notes(result), *extra]]
    lines += seednoise_table.markdown(result.seed_noise, result.noise_flags)
    return "\n".join(lines) + "\n"
