"""The "Seed noise" section of the refinement and comparison reports (Markdown and HTML).

Shown only when the runs have reruns (:mod:`edftools.analysis.seednoise`): per space the
seed-noise SD with its CI next to the EDF's SD and IQR, and each step or pair whose
|Δ median error| is below the seed-noise SD flagged "within seed noise". Formatting only.
"""

from __future__ import annotations

from collections.abc import Sequence

from edftools.analysis.seednoise import WITHIN_NOISE, NoiseFlag, SeedNoiseTable
from edftools.report import htmldoc
from edftools.report.format import ci, num

TITLE = "Seed noise"
HEADERS = (
    "space",
    "configs re-trained",
    "runs",
    "seed-noise SD [95% CI]",
    "robust seed SD",
    "EDF SD",
    "EDF IQR",
    "seed / EDF SD",
)
FLAG_HEADERS = ("step", "|Δ median error|", "robust seed SD", "")


def cells(table: SeedNoiseTable) -> list[list[str]]:
    """One formatted row per space with reruns."""
    return [
        [
            space,
            str(r.n_configs),
            str(r.n_runs),
            f"{num(r.sd)} {ci(r.low, r.high)}",
            num(r.robust),
            num(r.edf_sd),
            num(r.iqr),
            num(r.ratio),
        ]
        for space, r in table.per_space.items()
    ]


def flag_cells(flags: Sequence[NoiseFlag]) -> list[list[str]]:
    """One formatted row per step or pair with a seed-noise SD."""
    return [
        [
            f"{f.a} → {f.b}",
            num(abs(f.median_difference)),
            num(f.seed_sd),
            WITHIN_NOISE if f.within else "larger than seed noise",
        ]
        for f in flags
    ]


def notes(table: SeedNoiseTable) -> list[str]:
    """How the numbers were computed."""
    level = f"{100 * table.level:g}%"
    return [
        "Seed noise: some configs were re-trained with other seeds (reruns; they never enter "
        "the EDFs). Seed-noise SD = pooled within-config SD, sqrt(Σ_c Σ_r (e_cr − ē_c)² / "
        f"Σ_c (m_c − 1)) over the configs with m_c ≥ 2 runs (the original counts), with its "
        f"{level} chi-square CI; robust seed SD = median over configs of each config's SD, "
        "scaled to estimate σ under normal errors (a few diverged seeds inflate the pooled SD, "
        f"not this one); EDF SD and IQR: of the space's original errors "
        f"(`{table.error_column}`, unweighted).",
        f"A step whose |Δ median error| is below the robust seed SD (over both spaces' configs) "
        f"is flagged {WITHIN_NOISE}: retraining one model with another seed moves its error "
        "that much.",
    ]


def markdown(table: SeedNoiseTable | None, flags: Sequence[NoiseFlag]) -> list[str]:
    """The Markdown section's lines (none without reruns)."""
    if table is None:
        return []
    lines = ["", f"## {TITLE}", "", htmldoc.md_table(HEADERS, cells(table)), ""]
    if flags:
        lines += [htmldoc.md_table(FLAG_HEADERS, flag_cells(flags)), ""]
    lines += [f"- {htmldoc.md_text(n)}" for n in notes(table)]
    return lines


def html(table: SeedNoiseTable | None, flags: Sequence[NoiseFlag]) -> list[str]:
    """The HTML section's blocks (none without reruns)."""
    if table is None:
        return []
    blocks = [
        htmldoc.heading(TITLE),
        htmldoc.table(HEADERS, cells(table), table_id="seed-noise-table"),
    ]
    if flags:
        blocks.append(htmldoc.table(FLAG_HEADERS, flag_cells(flags), table_id="seed-noise-steps"))
    blocks.append(htmldoc.bullet_list(notes(table)))
    return blocks
