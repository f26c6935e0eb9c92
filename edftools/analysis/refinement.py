"""Sequential restriction testing: the A → B → C → D → E → RegNetX refinement table.

Each step of the chain (parent → restricted space) gets a verdict from
:func:`edftools.stats.family_test`: one-sided KS tests both ways (is the restricted space better
somewhere? worse somewhere?) and the no-loss equivalence test against the margin, on
complexity-normalized EDFs (permutations within complexity bins), all 3·m hypotheses of the
m steps under one weighted step-down so the family-wise error is ≤ α. An inconclusive step
says how many models per space would decide it, from :func:`edftools.stats.plan` run on the
parent space as a pilot (never from the observed difference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis import curves, epoch_verdicts
from edftools.analysis import samples as measure
from edftools.analysis.history import StepHistory, design_of, step_histories
from edftools.analysis.runs import DEFAULT_CHAIN, resolve_space, select_runs
from edftools.analysis.seednoise import NoiseFlag, SeedNoiseTable, from_selected, noise_flags
from edftools.analysis.settings import Settings
from edftools.errors import StoreError
from edftools.stats import Margin, PlanResult, StepResult
from edftools.stats.verdicts import INCONCLUSIVE

BEST_K = 32
#: Spaces tested beside the chain's last one, against its parent (RegNetY beside RegNetX), when
#: the runs have them.
DEFAULT_BESIDE: tuple[str, ...] = ("RegNetY",)


@dataclass(frozen=True)
class RefineOptions:
    """What a refinement analyses: the chain, the spaces beside its last one, which runs
    (``sweep``, ``dataset``), and how (:class:`Settings`; all shown in the footnotes)."""

    chain: tuple[str, ...] = DEFAULT_CHAIN
    beside: tuple[str, ...] = DEFAULT_BESIDE
    settings: Settings = field(default_factory=Settings)
    sweep: str | None = None
    dataset: str | None = None

    @property
    def margin(self) -> Margin:
        """The no-loss margin of the settings."""
        return self.settings.margin_rule


@dataclass(frozen=True)
class RefineRow:
    """One row of the refinement table (the first space of the chain has no test).

    ``d_better``/``d_worse``: one-sided KS D+ = sup(F_R − F_P), D− = sup(F_P − F_R);
    ``loss``: the largest loss in the margin's unit; ``p_*``: raw p-values; ``p_*_adj``: after
    the weighted step-down over the chain; ``n_needed``: models per space that would decide an
    inconclusive step (``stats.plan``). From a sequential sweep: ``levels`` are the rejection
    levels of the step's last look, ``decided_at`` the models per space of the deciding look
    (None while undecided), and the adjusted p-values are None.
    """

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
    d_better: float | None = None
    d_worse: float | None = None
    loss: float | None = None
    p_better: float | None = None
    p_worse: float | None = None
    p_no_loss: float | None = None
    p_better_adj: float | None = None
    p_worse_adj: float | None = None
    p_no_loss_adj: float | None = None
    n_perm: int | None = None
    borderline: bool = False
    verdict: str = "baseline"
    note: str = ""
    n_needed: int | None = None
    levels: tuple[float, float, float] | None = None
    decided_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN → None)."""
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


@dataclass(frozen=True, eq=False, repr=False)
class RefineResult:
    """Every number of a refinement: the table rows, the options, the step results, and the
    numbers the figures show (bands, good ranges, e_fit; computed on first use, seeded).

    ``to_frame()``: the table, one row per space with its verdict; ``to_dict()``: all of it as
    plain JSON (what ``edftools refine --json`` prints). ``seed_noise``: the seed noise of the
    spaces with reruns (None without; then ``to_dict`` has no ``seed_noise`` key).
    """

    rows: tuple[RefineRow, ...]
    options: RefineOptions
    frame: pd.DataFrame
    samples: tuple[measure.SpaceSample, ...]
    summaries: tuple[Any, ...] = ()
    steps: tuple[StepResult, ...] = ()
    plans: tuple[PlanResult | None, ...] = ()
    histories: tuple[StepHistory, ...] = ()
    design: dict[str, Any] = field(default_factory=dict)
    seed_noise: SeedNoiseTable | None = None
    #: The selected runs' per-epoch errors (``epoch_verdicts.epoch_errors``), None without logs.
    epoch_errors: pd.DataFrame | None = None

    @property
    def noise_flags(self) -> tuple[NoiseFlag, ...]:
        """Each step whose spaces have reruns: |Δ median error| against the seed-noise SD
        (empty without reruns)."""
        medians = {r.space: r.median_error for r in self.rows}
        return noise_flags(
            self.seed_noise, [(p, r, medians[r] - medians[p]) for p, r in self.step_pairs]
        )

    @property
    def sequential(self) -> bool:
        """Whether the verdicts come from a sequential sweep's looks."""
        return bool(self.histories)

    @property
    def settings(self) -> Settings:
        """The settings the verdicts were computed with."""
        return self.options.settings

    @property
    def verdicts(self) -> dict[str, str]:
        """Each tested space's verdict against its parent."""
        return {r.space: r.verdict for r in self.rows[1:]}

    @property
    def step_pairs(self) -> list[tuple[str, str]]:
        """The (parent, restricted) names of every step, in table order."""
        return [(str(r.parent), r.space) for r in self.rows[1:]]

    @cached_property
    def bands(self) -> curves.Bands:
        """Each space's (normalized) EDF with its pointwise 95% bootstrap band."""
        return curves.edf_bands(self.samples, self.settings.seed)

    @cached_property
    def windows(self) -> tuple[curves.ErrorWindow, ...]:
        """Per step: the error axis that decides (up to the parent's 95th percentile)."""
        index = {s.name: s for s in self.samples}
        return tuple(
            curves.error_window(
                index[p].stratified.errors,
                [index[p].stratified.errors, index[r].stratified.errors],
            )
            for p, r in self.step_pairs
        )

    @cached_property
    def crossings(self) -> tuple[tuple[float, ...], ...]:
        """Per step: the errors where the EDFs of a mixed step cross (empty otherwise)."""
        b = self.bands
        return tuple(
            curves.crossings(b.grid, b.of(p).estimate, b.of(r).estimate)
            if row.verdict == "mixed"
            else ()
            for (p, r), row in zip(self.step_pairs, self.rows[1:], strict=True)
        )

    @cached_property
    def through_training(self) -> epoch_verdicts.EpochVerdicts | None:
        """The verdict of every step at every epoch (fixed-n tests on the runs that logged
        each epoch, every epoch's family at α on its own; also for a sequential sweep, whose
        own verdicts come from its looks), or None when the runs have no epoch logs."""
        if self.epoch_errors is None:
            return None
        rule = self.samples[0].rule
        return epoch_verdicts.strip(
            self.frame,
            self.epoch_errors,
            self.step_pairs,
            self.settings,
            rule,
            final=None if self.sequential else self.steps,
        )

    @cached_property
    def good_ranges(self) -> tuple[curves.GoodRange, ...]:
        """The good range of each step's tied parameter (store runs with per-stage columns)."""
        return tuple(curves.tied_ranges(self.frame, self.step_pairs))

    @cached_property
    def efit(self) -> pd.DataFrame:
        """e_fit of up to 60 models of each AnyNetX_C/D/E space present (columns space,
        e_fit, err)."""
        return curves.efit_frame(self.frame, self.settings.seed)

    def to_frame(self) -> pd.DataFrame:
        """The refinement table: one row per space (verdict, tests, summaries)."""
        return pd.DataFrame([asdict(r) for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        """Every number the reports show, as plain JSON."""
        efit = self.efit
        out: dict[str, Any] = {
            "settings": self.settings.to_dict(),
            "chain": list(self.options.chain),
            "sweep": self.options.sweep,
            "dataset": self.options.dataset,
            "sequential": self.sequential,
            "design": self.design,
            "rows": [r.to_json() for r in self.rows],
            "best_of_k": [
                _best_of_k_json(s.name, summ)
                for s, summ in zip(self.samples, self.summaries, strict=True)
            ],
            "bands": self.bands.to_dict(),
            "steps": [
                {
                    "parent": p,
                    "restricted": r,
                    "window": asdict(w),
                    "window_note": w.note(),
                    "crossings": list(c),
                }
                for (p, r), w, c in zip(self.step_pairs, self.windows, self.crossings, strict=True)
            ],
            "good_ranges": [g.to_dict() for g in self.good_ranges],
            "efit": [
                {"space": str(s), "e_fit": float(e), "error": float(x)}
                for s, e, x in zip(efit["space"], efit["e_fit"], efit["err"], strict=True)
            ],
            "history": [h.to_dict() for h in self.histories],
        }
        if self.through_training is not None:  # runs with epoch logs only
            out["through_training"] = self.through_training.to_dict()
        if self.seed_noise is not None:
            out["seed_noise"] = {
                **self.seed_noise.to_dict(),
                "steps": [f.to_dict() for f in self.noise_flags],
            }
        return out

    def __repr__(self) -> str:
        words = ", ".join(f"{r.parent}→{r.space}: {r.verdict}" for r in self.rows[1:])
        kind = "sequential" if self.sequential else "fixed-n"
        return (
            f"RefineResult({len(self.rows)} spaces, {kind}, "
            f"{self.settings.describe_normalization()}, {words})"
        )


def _best_of_k_json(name: str, summary: Any) -> dict[str, Any]:
    bk = summary.best_of_k
    return {
        "space": name,
        "curve": [
            {"k": int(k), "mean": float(m), "low": float(lo), "high": float(hi)}
            for k, m, lo, hi in zip(bk.ks, bk.mean, bk.low, bk.high, strict=True)
        ],
    }


def static_table(
    spaces: Mapping[str, Any] | None = None, names: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """The static half of the table, by space name: ``edftools.spaces.space_table()`` for the
    catalog spaces, and ``space_row`` (exact total counted; distinct networks not) of each of
    ``names`` that ``spaces`` defines (a recipe's own spaces, built by the caller, e.g.
    :func:`edftools.commands.report.recipe_spaces`)."""
    from edftools.spaces import space_table
    from edftools.spaces.count import exact_total, space_row

    table = {str(r["name"]): dict(r) for r in space_table()}
    for name in names:
        space = (spaces or {}).get(name)
        if space is not None and name not in table:
            table[name] = space_row(space, (exact_total(space), None))
    return table


def _seed(seed: int, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), *keys])


def refine(
    runs: pd.DataFrame,
    options: RefineOptions | None = None,
    looks: pd.DataFrame | None = None,
    spaces: Mapping[str, Any] | None = None,
    epochs: pd.DataFrame | None = None,
) -> RefineResult:
    """Run the chain of restriction tests on a runs frame (from ``Store.runs_frame``).

    Per step i (parent P = chain[i−1], restricted R = chain[i]) the verdict of
    :func:`edftools.stats.family_test` over the whole chain — or, when ``looks`` (a sequential
    sweep's ``looks`` table) covers every step of the chain, the sequential verdicts of its
    final looks (with their design's margin); for an inconclusive step the models per space
    that would decide it (:func:`measure.models_needed`). ``spaces``: the definitions of
    spaces not in the catalog, by label (``edftools refine`` reads them from the stored
    recipes), for their restriction, dim and size columns. ``epochs``: the store's epoch rows
    (``run_id``, ``epoch``, ``test_error``; else the runs' ``epoch_log`` column is read), for
    the verdicts through training (:attr:`RefineResult.through_training`).
    """
    opts = options or RefineOptions()
    if len(opts.chain) < 2:
        raise StoreError("a refinement chain needs at least two spaces")
    beside = _present(runs, opts.beside, opts.chain)
    frame, names = select_runs(
        runs, (*opts.chain, *beside), opts.settings.error_column, opts.sweep, opts.dataset
    )
    last = len(opts.chain) - 1
    parents = [i - 1 if i <= last else last - 1 for i in range(len(names))]
    histories: list[StepHistory] = []
    design: dict[str, Any] = {}
    if looks is not None and len(looks):
        found = step_histories(looks, names)
        wanted = [(names[parents[i]], names[i]) for i in range(1, len(names))]
        if all(w in found for w in wanted):
            histories = [found[w] for w in wanted]
            design = design_of(looks)
            design["family_steps"] = int(looks.groupby(["parent", "restricted"]).ngroups)
            stored = Settings.from_design(design)
            settings = opts.settings.updated(
                margin=stored.margin_value,
                margin_unit=stored.margin_unit,
                margin_range=stored.margin_range,
                alpha=stored.alpha,
            )
            opts = replace(opts, settings=settings)
    cfg = opts.settings
    noise = from_selected(runs, frame, names, cfg.error_column)
    samples = measure.build_samples(frame, names, cfg.normalize, cfg.bins)
    summaries = [
        measure.summarize(s, _seed(cfg.seed, 1, i), cfg.n_boot) for i, s in enumerate(samples)
    ]
    pairs = [(samples[parents[i]], samples[i]) for i in range(1, len(samples))]
    steps = [] if histories else measure.verdicts(pairs, opts.margin, cfg.alpha, _seed(cfg.seed, 2))
    verdicts = [str(h.final["verdict"]) for h in histories] or [s.verdict for s in steps]
    plans: list[PlanResult | None] = [
        measure.models_needed(p, opts.margin, cfg.alpha, len(pairs), cfg.seed + i)
        if word == INCONCLUSIVE
        else None
        for i, ((p, _), word) in enumerate(zip(pairs, verdicts, strict=True))
    ]
    static = static_table(spaces, names)
    rows = []
    for i, (sample, summ) in enumerate(zip(samples, summaries, strict=True)):
        info = static.get(sample.name, {})
        best = summ.best_of_k.at(BEST_K)
        row: dict[str, Any] = {
            "space": sample.name,
            "parent": names[parents[i]] if i else None,
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
        if i and histories:
            row.update(history_fields(histories[i - 1], plans[i - 1]))
        elif i:
            row.update(step_fields(steps[i - 1], plans[i - 1]))
        rows.append(RefineRow(**row))
    return RefineResult(
        tuple(rows),
        opts,
        frame,
        tuple(samples),
        tuple(summaries),
        tuple(steps),
        tuple(plans),
        tuple(histories),
        design,
        noise,
        epoch_verdicts.epoch_errors(frame, epochs, cfg.error_column),
    )


def step_fields(step: StepResult, plan: PlanResult | None) -> dict[str, Any]:
    """The row fields of one step's result (and its plan when inconclusive)."""
    return {
        "d_better": step.better,
        "d_worse": step.worse,
        "loss": step.loss,
        "p_better": step.p_better,
        "p_worse": step.p_worse,
        "p_no_loss": step.p_no_loss,
        "p_better_adj": step.adjusted[0],
        "p_worse_adj": step.adjusted[1],
        "p_no_loss_adj": step.adjusted[2],
        "n_perm": step.n_perm,
        "borderline": step.borderline,
        "verdict": step.verdict,
        "note": step.note,
        "n_needed": None if plan is None else plan.n,
    }


def history_fields(history: StepHistory, plan: PlanResult | None) -> dict[str, Any]:
    """The row fields of a sequential step: its final look, the levels used there, the n at
    which it was decided (and the plan's n when it never was)."""
    f = history.final
    return {
        "d_better": float(f["d_better"]),
        "d_worse": float(f["d_worse"]),
        "loss": float(f["loss"]),
        "p_better": float(f["p_better"]),
        "p_worse": float(f["p_worse"]),
        "p_no_loss": float(f["p_no_loss"]),
        "n_perm": int(f["n_perm"]),
        "borderline": bool(f["borderline"]),
        "verdict": str(f["verdict"]),
        "note": "",
        "n_needed": None if plan is None else plan.n,
        "levels": (float(f["level_better"]), float(f["level_worse"]), float(f["level_no_loss"])),
        "decided_at": history.n if history.decided else None,
    }


def _present(runs: pd.DataFrame, beside: Sequence[str], chain: Sequence[str]) -> list[str]:
    """The ``beside`` spaces the runs have (resolved like the chain's names), in order."""
    known = sorted(str(x) for x in runs["space"].dropna().unique()) if "space" in runs else []
    out = []
    for name in beside:
        try:
            resolved = resolve_space(name, known)
        except StoreError:
            continue
        if resolved not in chain and resolved not in out:
            out.append(resolved)
    return out


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value != value else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def to_json(result: RefineResult) -> dict[str, Any]:
    """Every number of the result as JSON (``rows``: the table, keys include space,
    restriction, dim, paper_total, exact_total, n, min_error, mean_error, d_better, d_worse,
    loss, p_*, verdict; then bands, windows, good ranges, e_fit, the sequential history)."""
    return result.to_dict()
