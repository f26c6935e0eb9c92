"""The "Verdicts through training" section of the refinement reports: a table with one row
per step and one column per epoch (verdict words), "decided from epoch k on", and — for a
sequential sweep — its sequential verdict beside the final epoch's fixed-n one; with the
footnotes shared by the Markdown and the HTML report. Formatting only: every number comes
from :attr:`RefineResult.through_training <edftools.analysis.refinement.RefineResult>`."""

from __future__ import annotations

from edftools.analysis.epoch_verdicts import EpochVerdicts
from edftools.analysis.refinement import RefineResult

TITLE = "Verdicts through training"
BORDERLINE_MARK = "*"


def headers(strip: EpochVerdicts, sequential: bool = False) -> list[str]:
    """Step, one column per epoch, the decided-from column (and the sequential verdict)."""
    last = strip.epochs[-1]
    out = ["step"]
    out += [
        f"epoch {k}" + (" (final, fixed n)" if k == last and sequential else "")
        for k in strip.epochs
    ]
    if sequential:
        out.append("sequential verdict (looks)")
    out.append("decided from epoch … on")
    return out


def cells(result: RefineResult) -> list[list[str]]:
    """The table's rows: per step its verdict words per epoch (``*`` = borderline)."""
    strip = result.through_training
    if strip is None:
        return []
    rows = []
    for i, (parent, restricted) in enumerate(strip.steps):
        row = [f"{parent} → {restricted}"]
        for k in strip.epochs:
            c = strip.cell(i, k)
            row.append(c.verdict + (BORDERLINE_MARK if c.borderline else ""))
        if result.sequential:
            row.append(result.rows[i + 1].verdict)
        since = strip.decided_from[i]
        row.append("—" if since is None else f"epoch {since}")
        rows.append(row)
    return rows


def footnotes(result: RefineResult) -> list[str]:
    """What the cells are, the error rate per epoch, the runs per epoch, the sequential case."""
    strip = result.through_training
    if strip is None:
        return []
    cfg = strip.settings
    notes = [
        f"Each cell: the step's verdict from the fixed-n tests of the refinement table on the "
        f"{strip.error} of the same runs (status ok) in place of the final error, with the same "
        f"settings ({cfg.describe_normalization()} over the refinement's complexity range, "
        f"margin {result.options.margin.describe()}, permutation seed {cfg.seed}); epochs as "
        "stored (edftools sweeps count from 0, pycls from 1).",
        f"Error control holds per epoch: each epoch's {3 * len(strip.steps)} hypotheses go "
        f"through their own weighted Holm step-down (the refinement's) at α = {cfg.alpha:g}, "
        "so each column has family-wise error ≤ α; nothing controls the error across epochs — "
        "the strip describes how the verdicts evolve with training, not a test over the epochs.",
        "Decided from epoch k on: the first epoch from which the step's verdict equals the "
        "final epoch's at every later epoch (— when the final verdict is inconclusive); "
        f"{BORDERLINE_MARK} = borderline (a p-value within Monte-Carlo error of its threshold).",
    ]
    if result.sequential:
        notes.append(
            "The refinement table's verdicts come from the sequential sweep's looks (boundaries "
            "spent over the models as they arrived); this strip tests all stored models of "
            "each space at every epoch with the fixed-n design, so its final column can differ "
            "from the sequential verdict shown beside it (both hold at α; the fixed-n test of "
            "all models is not the study's pre-planned analysis)."
        )
    partial = strip.notes()
    notes += (
        [n[0].upper() + n[1:] + "." for n in partial]
        if partial
        else ["Every run logged every epoch."]
    )
    return notes


def to_markdown(result: RefineResult) -> str:
    """The section as Markdown (empty when the runs have no epoch logs)."""
    from edftools.report.htmldoc import md_table, md_text

    strip = result.through_training
    if strip is None:
        return ""
    table = md_table(headers(strip, result.sequential), cells(result))
    lines = [f"## {TITLE}", "", table, ""]
    lines += [f"{i}. {md_text(t)}" for i, t in enumerate(footnotes(result), 1)]
    return "\n".join(lines) + "\n"
