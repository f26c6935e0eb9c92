"""The generalization report (``edftools generalize``): the ordering statement, the verdict
matrix, every cell's tests and medians, and (HTML) the matrix and the regimes' EDF panels.
Formatting only: every number comes from the
:class:`~edftools.analysis.regimes.GeneralizeResult`, every figure from :mod:`edftools.plot`."""

from __future__ import annotations

from matplotlib.figure import Figure

from edftools.analysis.regimes import GeneralizeResult, RegimeCell
from edftools.analysis.seednoise import WITHIN_NOISE
from edftools.report import htmldoc, seednoise_table
from edftools.report.format import ci, num, pvalue

TITLE = "Does the ordering generalize? (edftools generalize)"


def matrix_rows(result: GeneralizeResult) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the verdict matrix: one row per step, one column per regime."""
    headers = ["step", *result.regimes]
    rows = []
    for step in result.steps:
        row = [f"{step[0]} → {step[1]}"]
        for regime in result.regimes:
            c = result.cell(regime, step)
            at = f" (decided at n = {c.decided_at})" if c.decided_at is not None else ""
            if c.n_needed is not None:
                at = f" (n ≈ {c.n_needed} would decide)"
            if c.within_seed_noise:
                at += f"; {WITHIN_NOISE}"
            row.append(c.verdict + at)
        rows.append(row)
    status = {o.regime: o.status for o in result.orderings}
    rows.append(["ordering", *(f"{result.ordering_of(r)} ({status[r]})" for r in result.regimes)])
    return headers, rows


CELL_HEADERS: tuple[str, ...] = (
    "regime",
    "step",
    "n (parent, restricted)",
    "median parent [95% CI]",
    "median restricted [95% CI]",
    "better: KS D+ (p vs level)",
    "worse: KS D− (p vs level)",
    "largest loss, pp (no-loss p vs level)",
    "verdict",
)


def _against(p: float, level: float | None, adjusted: float | None) -> str:
    if level is not None:
        return f"{pvalue(p)} vs {level:.2g}"
    return f"{pvalue(p)}, adj. {pvalue(adjusted).removeprefix('p=')}"


def cell_row(c: RegimeCell) -> list[str]:
    """One row of the cells table."""
    levels = c.levels or (None, None, None)
    return [
        c.regime,
        f"{c.parent} → {c.restricted}",
        f"{c.n_parent}, {c.n_restricted}",
        f"{num(c.median_parent)} {ci(*c.median_parent_ci)}",
        f"{num(c.median_restricted)} {ci(*c.median_restricted_ci)}",
        f"{num(c.d_better, 3)} ({_against(c.p_better, levels[0], c.p_better_adj)})",
        f"{num(c.d_worse, 3)} ({_against(c.p_worse, levels[1], c.p_worse_adj)})",
        f"{num(c.loss)} ({_against(c.p_no_loss, levels[2], c.p_no_loss_adj)})",
        c.verdict + (f" (n ≈ {c.n_needed} would decide)" if c.n_needed is not None else ""),
    ]


NOISE_HEADERS: tuple[str, ...] = ("regime", *seednoise_table.HEADERS)


def noise_rows(result: GeneralizeResult) -> list[list[str]]:
    """The seed-noise rows of every regime with reruns (regime first)."""
    return [
        [regime, *row]
        for regime, table in result.seed_noise.items()
        if table is not None
        for row in seednoise_table.cells(table)
    ]


def noise_note(result: GeneralizeResult) -> list[str]:
    """How the seed noise was measured (one table's notes), when any regime has reruns."""
    table = next((t for t in result.seed_noise.values() if t is not None), None)
    return seednoise_table.notes(table) if table is not None else []


def footnotes(result: GeneralizeResult) -> list[str]:
    """What each regime is, how the family-wise error is bounded, and how to read the table."""
    cfg = result.settings
    fam = result.family
    notes = []
    for r in result.regimes:
        what = result.descriptions.get(r)
        notes.append(f"{r}: {what}" if what else f"{r}: runs with {result.regime_column} = {r}")
    seq = fam["sequential_alpha"]
    parts = []
    if seq:
        shares = ", ".join(f"{r} {a:.4g}" for r, a in seq.items())
        parts.append(
            f"sequential regimes keep the verdicts of their looks, each study spending its own "
            f"α ({shares}) over its steps and looks"
        )
    if fam["fixed_regimes"]:
        parts.append(
            f"the fixed-n regimes ({', '.join(fam['fixed_regimes'])}) are tested in one "
            "weighted Holm step-down (the refinement's) over "
            f"{3 * len(result.steps) * len(fam['fixed_regimes'])} hypotheses at α = "
            f"{fam['fixed_alpha']:.4g}"
        )
    notes.append(
        "Family-wise error: "
        + "; ".join(parts)
        + f"; so P(any false claim in the matrix) ≤ {fam['fwer']:.4g} (Bonferroni over the parts)."
    )
    notes.append(
        f"Tests per cell: one-sided KS both ways (permutation p-values within complexity "
        f"strata) and the no-loss test against the margin {cfg.margin_rule.describe()}, on "
        f"{cfg.describe_normalization()}; error column {cfg.error_column}. Medians: normalized, "
        f"with percentile-bootstrap 95% CIs ({cfg.n_boot} resamples, seed {cfg.seed})."
    )
    notes.append(
        "Ordering: improves '>', no loss '≥', worse '<', mixed '×', inconclusive '?' (the "
        f"restricted space against its parent); a regime holds the reference ordering "
        f"({result.reference}) when every step it decided has its verdict, breaks it when a "
        "step contradicts it (a claim of the opposite direction), and is undecided otherwise; "
        "steps whose verdicts contradict each other across regimes are named (regimes "
        "disagree)."
    )
    if any(c.n_needed is not None for c in result.cells):
        notes.append(
            "n ≈ k would decide: models per space that would decide an inconclusive cell with "
            "probability 0.8 in a fixed-n design at its α (no loss if the spaces are equal, "
            "improves if the restricted one is better by the margin), simulated by "
            "`edftools plan` from the parent space as a pilot, never from the observed "
            "difference."
        )
    return notes


def to_markdown(result: GeneralizeResult) -> str:
    """The whole report as Markdown (what ``edftools generalize`` prints and writes)."""
    headers, rows = matrix_rows(result)
    parts = [
        f"# {TITLE}",
        "",
        htmldoc.md_text(result.statement()),
        "",
        "## Verdict matrix",
        "",
        htmldoc.md_table(headers, rows),
        "",
        *(f"- {htmldoc.md_text(line)}" for line in result.step_summary()),
        "",
        "## Tests per regime and step",
        "",
        htmldoc.md_table(CELL_HEADERS, [cell_row(c) for c in result.cells]),
        "",
        *(f"{i}. {htmldoc.md_text(n)}" for i, n in enumerate(footnotes(result), start=1)),
        "",
    ]
    rows = noise_rows(result)
    if rows:
        parts += [f"## {seednoise_table.TITLE}", "", htmldoc.md_table(NOISE_HEADERS, rows), ""]
        parts += [f"- {htmldoc.md_text(n)}" for n in noise_note(result)] + [""]
    return "\n".join(parts)


def _matrix_figure(result: GeneralizeResult) -> Figure:
    """The verdict matrix on a figure of its own (not pyplot's)."""
    from edftools import plot

    width = 3.2 + 1.5 * len(result.regimes)
    fig = Figure(figsize=(width, 1.2 + 0.6 * len(result.steps)), layout="constrained")
    plot.verdict_matrix(result, ax=fig.subplots())
    return fig


def render(result: GeneralizeResult) -> str:
    """The complete self-contained HTML report."""
    from edftools import plot

    headers, rows = matrix_rows(result)
    blocks = [
        htmldoc.paragraph(result.statement()),
        htmldoc.heading("Verdict matrix"),
        htmldoc.table(headers, rows, table_id="verdict-matrix"),
        htmldoc.bullet_list(result.step_summary()),
        htmldoc.figure(
            plot.to_png(_matrix_figure(result)),
            "The verdict of each step in each regime (colour), the models per space that "
            "decided a sequential step, and each regime's status against the reference.",
        ),
        htmldoc.heading("EDFs by regime"),
        htmldoc.figure(
            plot.to_png(plot.regimes(result)),
            "Normalized error EDFs of the chain's spaces in each regime, with pointwise 95% "
            "bootstrap bands, up to the first space's 0.95 quantile (the models beyond are "
            "counted in each panel); the title gives what the regime changes and its ordering.",
        ),
        htmldoc.heading("Tests per regime and step"),
        htmldoc.table(
            CELL_HEADERS,
            [cell_row(c) for c in result.cells],
            table_id="regime-cells",
            verdict_column=len(CELL_HEADERS) - 1,
        ),
        htmldoc.bullet_list(footnotes(result)),
    ]
    rows = noise_rows(result)
    if rows:
        blocks += [
            htmldoc.heading(seednoise_table.TITLE),
            htmldoc.table(NOISE_HEADERS, rows, table_id="seed-noise-table"),
            htmldoc.bullet_list(noise_note(result)),
        ]
    return htmldoc.document("Does the ordering generalize?", blocks)
