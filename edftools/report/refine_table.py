"""The refinement table as text: column headers, formatted cells and footnotes (shared by the
Markdown and the HTML report), and the Markdown page section."""

from __future__ import annotations

from collections.abc import Sequence

from edftools.analysis.refinement import BEST_K, RefineResult, RefineRow
from edftools.report import seednoise_table
from edftools.report.format import (
    SMALL_MARK,
    ci,
    num,
    pvalue,
    readable_formula,
    sci,
    small_sample_note,
)
from edftools.stats import Margin
from edftools.stats.verdicts import INCONCLUSIVE


def headers(margin: Margin, sequential: bool = False) -> tuple[str, ...]:
    """The table's column headers (the loss column names the margin's unit; a sequential
    table shows raw p-values against their look's levels)."""
    unit = "pp" if margin.unit == "pp" else "EDF"
    p = "p vs level" if sequential else "adj. p"
    return (
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
        f"best of {BEST_K} [95% CI]",
        f"better: KS D+ ({p})",
        f"worse: KS D− ({p})",
        f"largest loss, {unit} (no-loss {p})",
        "verdict",
    )


def verdict_text(row: RefineRow, margin: Margin) -> str:
    """The verdict cell: the word, qualified when borderline, inconclusive or noted."""
    if row.verdict == "baseline":
        return "—"
    word = row.verdict
    if row.decided_at is not None:
        word += f" (decided at n = {row.decided_at:,})"
    if row.verdict == INCONCLUSIVE:
        need = (
            f"n ≈ {row.n_needed:,} per space"
            if row.n_needed
            else "more than 20,000 models per space"
        )
        word = f"inconclusive ({row.note + '; ' if row.note else ''}{need})"
    if row.borderline:
        word += " (borderline: a p-value within Monte-Carlo error of its threshold)"
    return word


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


def table_cells(rows: Sequence[RefineRow], margin: Margin) -> list[list[str]]:
    """The table's rows as formatted strings (shared by Markdown and HTML)."""
    by_name = {r.space: r for r in rows}
    out = []
    for r in rows:
        parent = by_name[r.parent].restriction if r.parent else None
        tests = ["—", "—", "—"]
        if r.d_better is not None:
            digits = 2 if margin.unit == "pp" else 3
            if r.levels is not None:  # sequential: the raw p-value against its look's level
                ps = [
                    f"{pvalue(p)} vs {lv:.2g}"
                    for p, lv in zip((r.p_better, r.p_worse, r.p_no_loss), r.levels, strict=True)
                ]
            else:
                ps = [pvalue(p) for p in (r.p_better_adj, r.p_worse_adj, r.p_no_loss_adj)]
            tests = [
                f"{num(r.d_better, 3)} ({ps[0]})",
                f"{num(r.d_worse, 3)} ({ps[1]})",
                f"{num(r.loss, digits)} ({ps[2]})",
            ]
        out.append(
            [
                r.space,
                readable_formula(restriction_step(r.restriction, parent)),
                "—" if r.dim is None else str(r.dim),
                readable_formula(r.combinations) or "—",
                sci(r.paper_total),
                sci(r.exact_total, digits=3),
                str(r.n) + (SMALL_MARK if r.n < BEST_K else ""),
                num(r.min_error),
                num(r.mean_error),
                f"{num(r.median_error)} {ci(r.median_low, r.median_high)}",
                f"{num(r.best_of_k)} {ci(r.best_of_k_low, r.best_of_k_high)}"
                + (SMALL_MARK if r.n < BEST_K else ""),
                *tests,
                verdict_text(r, margin),
            ]
        )
    return out


def footnotes(result: RefineResult) -> list[str]:
    """The table's footnotes: error column, normalization, tests, multiplicity, margin, seeds."""
    o = result.options
    cfg = result.settings
    m = max(0, len(result.rows) - 1)
    family = int(result.design.get("family_steps", m))
    rule = result.samples[0].rule
    if rule is None or rule.range is None:
        norm = "plain EDFs (no complexity normalization)"
        ks = "one-sided KS tests (scipy.stats.ks_2samp)"
    else:
        lo, hi = rule.range
        norm = (
            f"EDFs normalized by {cfg.normalize}: {cfg.bins} linear bins over "
            f"({lo:.4g}, {hi:.4g}), "
            "the range every space covers; each bin carries mass 1/K (NDS)"
        )
        ks = (
            "one-sided KS tests with permutation p-values, the space labels permuted within "
            "each complexity bin (exact under equal error distributions within bins)"
        )
    unit = (
        f"{o.margin.value:g} error points at every quantile level in "
        f"[{o.margin.q_range[0]:g}, {o.margin.q_range[1]:g}] of the normalized EDF "
        "(largest loss = max over those levels of Q_restricted − Q_parent)"
        if o.margin.unit == "pp"
        else f"{o.margin.value:g} of EDF mass at every error (largest loss = sup of "
        "F_parent − F_restricted)"
    )
    notes = [
        "restriction, dim, combinations, total (paper), exact total: catalog spaces at the "
        "paper's full size (ImageNet, 4 stages; `edftools spaces`), a recipe's own spaces as "
        "its definition says (the paper's formula and the exact count of that space); every "
        "other column is measured on the stored runs, which may come from scaled versions of "
        "the spaces (the sweep's recipe is in the store's `sweeps` table).",
        f"Error: `{cfg.error_column}` ("
        + (
            "top-1 test error of the final epoch"
            if cfg.error_column == "error"
            else "lowest top-1 test error over the epochs"
        )
        + ", %); n = models inside the normalization range.",
        norm + ".",
        f'Tests per step: better = {ks} of "nowhere better" (D+ = sup(F_restricted − '
        f'F_parent)); worse = the same of "nowhere worse" (D− = sup(F_parent − '
        f"F_restricted)); no loss = an intersection–union z-test that the restricted space "
        f"loses less than the margin, {unit}.",
        f"Error control: the 3 hypotheses of each of the {m} steps ({3 * m} in all) go through "
        "one weighted Holm step-down (α/m per step; within a step ½/½ for better/worse and "
        "0.1/0.9 for better/no loss, which cannot be true together with worse), so "
        f"the probability of any false better, worse or no-loss claim in the table is ≤ "
        f"α = {cfg.alpha:g}. Adjusted p-values are shown.",
        "Verdicts: improves = better somewhere, worse nowhere, and no loss beyond the margin; "
        "no loss = no loss beyond the margin, neither better nor worse; worse = worse "
        "somewhere, better nowhere; mixed = better somewhere and worse elsewhere (crossing "
        "EDFs); inconclusive = none of these, with the models per space that would decide the "
        "step with probability 0.8 (no loss if the spaces are equal, improves if the "
        "restricted space is better by the margin), simulated from the parent space as a "
        "pilot by `edftools plan`, never from the observed difference.",
        f"Monte Carlo: at least 999 permutations per step, 4× more (up to 19,999) while a "
        f"p-value is within 3 Monte-Carlo standard errors of its threshold (borderline if "
        f"still so); CIs: percentile "
        f"bootstrap ({cfg.n_boot} resamples, normalization weights recomputed in each, seed "
        f"{cfg.seed}); best of {BEST_K} = expected lowest error of {BEST_K} models drawn at "
        "random (NDS random-search curve).",
    ]
    small = [r.space for r in result.rows if r.n < BEST_K]
    if small:
        notes.append(small_sample_note(BEST_K, small))
    if result.sequential:
        d = result.design
        notes[4] = (
            f"Sequential sweep (`--until-decided`): looks every {d['look_every']} models per "
            f"active space up to {d['max_n']}; after each look every undecided step is tested "
            f"on all its models; each of the {3 * family} hypotheses of its {family} steps "
            f"spends its share of α = "
            f"{cfg.alpha:g} over the looks with a Lan–DeMets {d['spending']} spending function "
            "(the weighted step-down of the fixed design, Bonferroni over looks), so the "
            "probability of any false claim over all steps and all looks is ≤ α. A step is "
            "decided at the first look where it is improves, worse or mixed, or no loss with a "
            "gain of the margin excluded; its space stops receiving models once all its steps "
            "are decided. p-values are shown against the level of the step's last look; the "
            "HTML report draws every look."
        )
    return notes


def to_markdown(result: RefineResult) -> str:
    """The refinement table as Markdown with its footnotes."""
    from edftools.report.htmldoc import md_table, md_text

    margin = result.options.margin
    table = md_table(headers(margin, result.sequential), table_cells(result.rows, margin))
    lines = ["## Refinement table", "", table, ""]
    lines += [f"{i}. {md_text(t)}" for i, t in enumerate(footnotes(result), 1)]
    lines += seednoise_table.markdown(result.seed_noise, result.noise_flags)
    return "\n".join(lines) + "\n"
