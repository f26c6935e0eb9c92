"""Verdicts through training: the verdict of every refinement step at every epoch.

A study trains each network for a few epochs and judges the spaces on the final epoch's test
error. The per-epoch test errors are stored too (the store's ``epochs`` table; an export's
``epoch_log`` column; pycls's ``test_epoch`` lists, imported as ``epochs`` rows), so the same
question can be asked at every epoch k: would the verdict have been the same after k epochs?

At each epoch k the errors e_i(k) of the runs that logged epoch k replace ``error`` and the
step verdicts are computed exactly as :func:`edftools.analysis.refinement.refine` computes
them with a fixed n (:func:`edftools.analysis.samples.verdicts`, i.e.
:func:`edftools.stats.family_test`): the NDS normalization (the refinement's complexity range
and K bins, bin k mass 1/K, w_i = (1/K)/n_k), one-sided KS tests both ways with labels permuted
within complexity strata, the no-loss test against the margin, and the 3·m hypotheses of the
m steps under one weighted Holm step-down at α — with the same settings and the same
permutation seed at every epoch (so the final epoch, on the same runs, reproduces
``refine --fixed``).

**Each epoch's family is tested at α on its own.** Nothing controls the error over epochs: at
each epoch the probability of any false claim among that epoch's verdicts is ≤ α, and the
strip is a *description* of how those verdicts evolve, not a test over the epochs (with 5
epochs, up to 5 chances of a false claim per step). "Decided from epoch k on" is the first
epoch from which the verdict equals the final epoch's at every later epoch (None when the final
verdict is inconclusive): a summary of the strip, not a claim with its own error rate.

Runs and epochs: the strip uses the runs the refinement uses (status ok, the chosen sweep and
dataset); at epoch k, those that logged a test error at epoch k (imported runs that stopped
early, or runs trained for different numbers of epochs, are left out of the later epochs; the
result counts them per epoch and space and says so). Epoch numbers are the stored ones
(edftools sweeps count from 0, pycls from 1). The per-epoch error is the test error at epoch k
for the ``error`` column, and the lowest test error up to epoch k for ``best_error``; the EMA
columns have no per-epoch log.

Cost: the complexity range and bins are fixed once for all epochs; per epoch only the errors
change (the strata are re-cut from the same complexities). With the same runs at the final
epoch the refinement's own fixed-n step results are reused rather than recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis.runs import DEFAULT_CHAIN, select_runs
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError, StoreError
from edftools.stats import Normalization, StepResult, family_test, unstratified
from edftools.stats.strata import Stratified, common_range, stratify
from edftools.stats.verdicts import INCONCLUSIVE

#: The per-epoch error column of the store's ``epochs`` rows (and of an ``epoch_log`` entry).
EPOCH_ERROR = "test_error"
#: The column of an export's per-run epoch log (a JSON list of epoch objects).
EPOCH_LOG = "epoch_log"
#: The verdict of a step at an epoch where one of its spaces has no usable sample.
UNTESTED = "not tested"
#: Per error column of a store, what its per-epoch counterpart is.
EPOCH_ERRORS: dict[str, str] = {
    "error": "test error at epoch k",
    "best_error": "lowest test error up to epoch k",
}


@dataclass(frozen=True)
class EpochStep:
    """One step (parent → restricted) at one epoch: its verdict and the numbers behind it.

    ``p_*``: raw p-values; ``p_*_adj``: step-down adjusted over that epoch's family;
    ``n_parent``/``n_restricted``: models used; ``verdict`` :data:`UNTESTED` with a ``note``
    when a space has no usable sample at that epoch (the p-values are then None).
    """

    parent: str
    restricted: str
    epoch: int
    verdict: str
    n_parent: int
    n_restricted: int
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
    note: str = ""

    @property
    def step(self) -> str:
        """``parent → restricted``."""
        return f"{self.parent} → {self.restricted}"


@dataclass(frozen=True)
class EpochCoverage:
    """How many of a space's runs logged a usable error at an epoch (``n_runs`` of
    ``n_total``)."""

    epoch: int
    space: str
    n_runs: int
    n_total: int


@dataclass(frozen=True, eq=False, repr=False)
class EpochVerdicts:
    """The verdict of each step at each epoch (see the module docstring: every epoch's family
    is tested at α on its own; the strip is descriptive across epochs).

    ``to_frame()``: long form, one row per (step, epoch) with the verdict, p-values, n and
    the step's ``decided_from``; ``to_dict()``: all of it as plain JSON.
    """

    steps: tuple[tuple[str, str], ...]
    epochs: tuple[int, ...]
    cells: tuple[EpochStep, ...]
    coverage: tuple[EpochCoverage, ...]
    settings: Settings
    error: str = EPOCH_ERRORS["error"]

    def cell(self, step: int, epoch: int) -> EpochStep:
        """Step number ``step`` (0-based, in chain order) at ``epoch``."""
        return self.cells[step * len(self.epochs) + self.epochs.index(epoch)]

    def verdicts(self, step: int) -> tuple[str, ...]:
        """Step number ``step``'s verdict at every epoch, in epoch order."""
        n = len(self.epochs)
        return tuple(c.verdict for c in self.cells[step * n : (step + 1) * n])

    @property
    def final(self) -> tuple[str, ...]:
        """Each step's verdict at the final epoch."""
        return tuple(self.verdicts(i)[-1] for i in range(len(self.steps)))

    @property
    def decided_from(self) -> tuple[int | None, ...]:
        """Per step: the first epoch from which its verdict equals the final epoch's at every
        later epoch; None when the final verdict is inconclusive (or not tested)."""
        return tuple(decided_from(self.verdicts(i), self.epochs) for i in range(len(self.steps)))

    @property
    def partial_epochs(self) -> tuple[int, ...]:
        """The epochs at which some of the runs have no logged error."""
        return tuple(
            sorted({c.epoch for c in self.coverage if c.n_runs < c.n_total}, key=self.epochs.index)
        )

    def notes(self) -> list[str]:
        """Sentences on the runs each epoch uses (empty when every run logged every epoch)."""
        out = []
        for epoch in self.partial_epochs:
            parts = [
                f"{c.space} {c.n_runs:,} of {c.n_total:,}"
                for c in self.coverage
                if c.epoch == epoch and c.n_runs < c.n_total
            ]
            out.append(f"epoch {epoch} uses the runs that logged it: {', '.join(parts)}")
        for c in self.cells:
            if c.verdict == UNTESTED:
                out.append(f"{c.step} at epoch {c.epoch}: not tested ({c.note})")
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per (step, epoch): step, parent, restricted, epoch, verdict, the tests'
        statistics and raw/adjusted p-values, n, and the step's ``decided_from``."""
        decided = dict(zip(self.steps, self.decided_from, strict=True))
        rows = []
        for c in self.cells:
            row = {"step": c.step, **asdict(c)}
            row["decided_from"] = decided[(c.parent, c.restricted)]
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Every number as plain JSON: settings, epochs, per step its cells and
        ``decided_from``, the coverage per epoch and space, and the notes."""
        n = len(self.epochs)
        return {
            "settings": self.settings.to_dict(),
            "error": self.error,
            "epochs": list(self.epochs),
            "steps": [
                {
                    "parent": p,
                    "restricted": r,
                    "final_verdict": self.final[i],
                    "decided_from": self.decided_from[i],
                    "epochs": [
                        {k: v for k, v in asdict(c).items() if k not in ("parent", "restricted")}
                        for c in self.cells[i * n : (i + 1) * n]
                    ],
                }
                for i, (p, r) in enumerate(self.steps)
            ],
            "coverage": [asdict(c) for c in self.coverage],
            "notes": self.notes(),
        }

    def __repr__(self) -> str:
        parts = []
        for (p, r), word, k in zip(self.steps, self.final, self.decided_from, strict=True):
            since = f" from epoch {k}" if k is not None else ""
            parts.append(f"{p}→{r}: {word}{since}")
        return (
            f"EpochVerdicts({len(self.steps)} steps × {len(self.epochs)} epochs "
            f"{self.epochs[0]}–{self.epochs[-1]}, {'; '.join(parts)})"
        )


def decided_from(verdicts: Sequence[str], epochs: Sequence[int]) -> int | None:
    """The first epoch from which ``verdicts`` (in epoch order) all equal the last one; None
    when the last is inconclusive or not tested."""
    if not verdicts or verdicts[-1] in (INCONCLUSIVE, UNTESTED):
        return None
    start = len(verdicts) - 1
    while start > 0 and verdicts[start - 1] == verdicts[-1]:
        start -= 1
    return int(epochs[start])


# --- runs → one row per (run, epoch) ---------------------------------------------------------


def epoch_errors(
    frame: pd.DataFrame, epochs: pd.DataFrame | None = None, error_column: str = "error"
) -> pd.DataFrame | None:
    """The per-epoch errors of the selected runs ``frame`` (one row per run): a frame with
    ``run`` (the run's row position in ``frame``), ``epoch`` and ``err``, one row per logged
    epoch with a finite test error, in ``frame``'s run order then epoch order.

    The logs come from ``epochs`` (the store's ``epochs`` rows: ``run_id``, ``epoch``,
    ``test_error``) or else from ``frame``'s ``epoch_log`` column (JSON lists of epoch objects,
    as an export writes them). ``err`` is the test error at the epoch for ``error_column``
    ``error`` and its running minimum for ``best_error``. None when there are no logs (or the
    error column has no per-epoch counterpart: the EMA columns).
    """
    if error_column not in EPOCH_ERRORS:
        return None
    if epochs is not None and len(epochs) and "run_id" in frame.columns:
        position = pd.Series(np.arange(len(frame)), index=frame["run_id"].astype(str))
        logs = epochs[["run_id", "epoch", EPOCH_ERROR]].copy()
        logs["run"] = position.reindex(logs["run_id"].astype(str)).to_numpy()
        logs = logs.dropna(subset=["run"])
        out = pd.DataFrame(
            {
                "run": logs["run"].to_numpy(dtype=np.int64),
                "epoch": logs["epoch"].to_numpy(dtype=np.int64),
                "err": pd.to_numeric(logs[EPOCH_ERROR], errors="coerce").to_numpy(dtype=float),
            }
        )
    elif EPOCH_LOG in frame.columns:
        out = _from_logs(frame[EPOCH_LOG])
    else:
        return None
    out = out[np.isfinite(out["err"].to_numpy())]
    if out.empty:
        return None
    out = out.sort_values(["run", "epoch"], kind="stable").reset_index(drop=True)
    if error_column == "best_error":
        out["err"] = out.groupby("run")["err"].cummin()
    return out


def _from_logs(logs: pd.Series) -> pd.DataFrame:
    """(run, epoch, err) from a column of epoch logs (JSON text or lists of mappings)."""
    runs: list[int] = []
    epochs: list[int] = []
    errors: list[float] = []
    for i, log in enumerate(logs.tolist()):
        if log is None or (isinstance(log, float) and np.isnan(log)):
            continue
        entries = json.loads(log) if isinstance(log, str) else list(log)
        for entry in entries:
            value = entry.get(EPOCH_ERROR)
            if entry.get("epoch") is None:
                continue
            runs.append(i)
            epochs.append(int(entry["epoch"]))
            errors.append(np.nan if value is None else float(value))
    return pd.DataFrame(
        {
            "run": np.asarray(runs, dtype=np.int64),
            "epoch": np.asarray(epochs, dtype=np.int64),
            "err": np.asarray(errors, dtype=float),
        }
    )


# --- the strip -------------------------------------------------------------------------------


def strip(
    frame: pd.DataFrame,
    errors: pd.DataFrame,
    steps: Sequence[tuple[str, str]],
    settings: Settings,
    rule: Normalization | None = None,
    final: Sequence[StepResult] | None = None,
    totals: Mapping[str, int] | None = None,
) -> EpochVerdicts:
    """The verdict of every step at every epoch (module docstring).

    ``frame``: the selected runs (one row per run: ``space`` and, when normalized, the
    ``settings.normalize`` column); ``errors``: their per-epoch errors (:func:`epoch_errors`:
    ``run``, ``epoch``, ``err``); ``rule``: the normalization (default: K bins over the range
    every space's runs cover); ``final``: the fixed-n step results of the same runs' final
    errors, reused at the last epoch when every run's error there is that same error.
    """
    if not steps:
        raise StatsInputError("verdicts by epoch need at least one step")
    names = list(dict.fromkeys(name for step in steps for name in step))
    space = frame["space"].astype(str).to_numpy()
    complexity = None
    if settings.normalized:
        complexity = pd.to_numeric(frame[settings.normalize], errors="coerce").to_numpy(float)
        for s in names:
            if not np.isfinite(complexity[space == s]).all():
                raise StatsInputError(
                    f"space {s!r} has runs without a numeric {settings.normalize}; "
                    "use normalize none"
                )
        if rule is None:
            rule = Normalization(
                settings.bins, common_range([complexity[space == s] for s in names])
            )
    run = errors["run"].to_numpy()
    epoch = errors["epoch"].to_numpy()
    err = errors["err"].to_numpy(dtype=float)
    all_epochs = tuple(int(k) for k in np.unique(epoch))
    totals = dict(totals or {s: int((space == s).sum()) for s in names})
    final_errors = frame["err"].to_numpy(dtype=float) if "err" in frame.columns else None
    cells: list[list[EpochStep]] = [[] for _ in steps]
    coverage: list[EpochCoverage] = []
    for k in all_epochs:
        at = epoch == k
        samples: dict[str, Stratified | str] = {}
        same_as_final = final is not None and final_errors is not None
        for s in names:
            mine = at & (space[run] == s)
            rows, e = run[mine], err[mine]
            coverage.append(EpochCoverage(k, s, int(e.size), totals[s]))
            if same_as_final and (
                e.size != int((space == s).sum()) or not np.array_equal(e, final_errors[space == s])  # type: ignore[index]
            ):
                same_as_final = False
            samples[s] = _sample(s, k, e, None if complexity is None else complexity[rows], rule)
        testable = [
            i
            for i, (p, r) in enumerate(steps)
            if not isinstance(samples[p], str) and not isinstance(samples[r], str)
        ]
        if same_as_final and k == all_epochs[-1] and len(testable) == len(steps):
            results: list[StepResult] = list(final)  # type: ignore[arg-type]
        elif testable:
            results = family_test(
                [(samples[steps[i][0]], samples[steps[i][1]]) for i in testable],  # type: ignore[misc]
                settings.margin_rule,
                settings.alpha,
                np.random.SeedSequence([int(settings.seed), 2]),
            )
        else:
            results = []
        by_step = dict(zip(testable, results, strict=True))
        for i, (p, r) in enumerate(steps):
            if i in by_step:
                cells[i].append(_cell(p, r, k, by_step[i]))
            else:
                sp, sr = samples[p], samples[r]
                why = sp if isinstance(sp, str) else sr
                cells[i].append(EpochStep(p, r, k, UNTESTED, _n(sp), _n(sr), note=str(why)))
    return EpochVerdicts(
        tuple((str(p), str(r)) for p, r in steps),
        all_epochs,
        tuple(c for row in cells for c in row),
        tuple(coverage),
        settings,
        EPOCH_ERRORS.get(settings.error_column, settings.error_column),
    )


def _sample(
    space: str, epoch: int, errors: np.ndarray, complexity: np.ndarray | None, rule: Any
) -> Stratified | str:
    """One space's sample at one epoch, or why there is none."""
    if errors.size == 0:
        return f"no run of {space} logged epoch {epoch}"
    if complexity is None:
        return unstratified(errors, f"space {space!r} errors")
    try:
        return stratify(errors, complexity, rule, f"space {space!r} at epoch {epoch}")
    except StatsInputError as exc:
        return str(exc)


def _n(sample: Stratified | str) -> int:
    return 0 if isinstance(sample, str) else sample.n


def _cell(parent: str, restricted: str, epoch: int, step: StepResult) -> EpochStep:
    return EpochStep(
        parent,
        restricted,
        epoch,
        step.verdict,
        step.n_parent,
        step.n_restricted,
        d_better=step.better,
        d_worse=step.worse,
        loss=_finite(step.loss),
        p_better=step.p_better,
        p_worse=step.p_worse,
        p_no_loss=step.p_no_loss,
        p_better_adj=step.adjusted[0],
        p_worse_adj=step.adjusted[1],
        p_no_loss_adj=step.adjusted[2],
        n_perm=step.n_perm,
        borderline=step.borderline,
        note=step.note,
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def chain_steps(names: Sequence[str], chain_length: int) -> list[tuple[str, str]]:
    """The (parent, restricted) steps of ``names``: the chain's first ``chain_length`` names
    step by step, each name after them tested against the chain's last parent (as
    ``refine`` does with RegNetY beside RegNetX)."""
    last = chain_length - 1
    return [
        (names[i - 1] if i <= last else names[last - 1], names[i]) for i in range(1, len(names))
    ]


# --- the library entry point -------------------------------------------------------------------


def verdicts_by_epoch(
    data: Any,
    chain: Sequence[str] | None = None,
    settings: Settings | None = None,
    *,
    epoch: str = "epoch",
    error: str | None = None,
    complexity: str | None = None,
    space: str = "space",
    beside: Sequence[str] = (),
    epochs: pd.DataFrame | None = None,
    sweep: str | None = None,
    dataset: str | None = None,
    **setting_values: Any,
) -> EpochVerdicts:
    """The verdict of each step of ``chain`` at every epoch (module docstring).

    ``data`` is one of:

    - a long-form frame with one row per run per epoch (seaborn's rule): ``epoch`` names its
      epoch column, ``error`` its error column (default ``test_error`` when there is one,
      else ``error``), spaces are the labels of ``space``;
    - a runs frame (one row per run, as ``Store.runs_frame`` or an export gives them) with an
      ``epoch_log`` column, or with the store's ``epochs`` rows given as ``epochs=``;
    - a path to an edftools store (its ok runs and their ``epochs`` rows; imported pycls
      sweeps included) or to an exported Parquet/CSV file.

    ``complexity`` names the normalization column (default: ``settings.normalize`` when
    ``settings`` is given, else plain EDFs, as ``edftools.refine``); ``bins=``, ``margin=``,
    ``alpha=``, ``seed=``... override single settings. ``beside``: spaces tested against the
    chain's last parent too. Each epoch's family of verdicts is tested at α on its own.
    """
    from edftools.analysis.library import is_path, load_runs, settings_of

    cfg = settings_of(settings, **setting_values)
    normalize = complexity or (cfg.normalize if settings is not None else "none")
    cfg = cfg.updated(normalize=normalize)
    names = [*(chain if chain is not None else DEFAULT_CHAIN), *beside]
    if is_path(data) and epochs is None:
        runs, epochs = _store_or_file(data)
    else:
        runs = load_runs(data)
    if space != "space":
        runs = runs.drop(columns=[c for c in ("space",) if c in runs.columns])
        runs = runs.rename(columns={space: "space"})
    if epoch in runs.columns and EPOCH_LOG not in runs.columns and epochs is None:
        column = error or (EPOCH_ERROR if EPOCH_ERROR in runs.columns else "error")
        frame, resolved = select_runs(runs, names, column, sweep, dataset)
        frame = frame.reset_index(drop=True)
        errors = pd.DataFrame(
            {
                "run": np.arange(len(frame)),
                "epoch": pd.to_numeric(frame[epoch], errors="coerce").to_numpy(),
                "err": frame["err"].to_numpy(dtype=float),
            }
        )
        errors = errors[np.isfinite(errors["epoch"].to_numpy(dtype=float))]
        errors["epoch"] = errors["epoch"].astype(np.int64)
        frame = frame.drop(columns=["err"])
        cfg = cfg.updated(error_column=column)
        per_epoch = errors.assign(space=frame["space"].to_numpy()[errors["run"].to_numpy()])
        totals = per_epoch.groupby(["space", "epoch"]).size().groupby(level=0).max().to_dict()
    else:
        if cfg.error_column not in EPOCH_ERRORS:
            raise StatsInputError(
                f"error column {cfg.error_column!r} has no per-epoch log; use "
                f"{' or '.join(EPOCH_ERRORS)}"
            )
        frame, resolved = select_runs(runs, names, cfg.error_column, sweep, dataset)
        found = epoch_errors(frame, epochs, cfg.error_column)
        if found is None:
            raise StoreError(
                "the runs have no epoch logs: give a long-form frame with an epoch column "
                f"(epoch={epoch!r}), an {EPOCH_LOG!r} column, or the store's epochs rows"
            )
        errors = found
        totals = None
    if settings is not None or complexity is not None:
        _check_normalize(frame, cfg)
    length = len(names) - len(beside)
    return strip(frame, errors, chain_steps(resolved, length), cfg, totals=totals)


def _check_normalize(frame: pd.DataFrame, cfg: Settings) -> None:
    if cfg.normalized and cfg.normalize not in frame.columns:
        raise StatsInputError(
            f"no complexity column {cfg.normalize!r} to normalize by; give complexity= or "
            "normalize none"
        )


def _store_or_file(path: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A store's ok runs and their epochs rows, or a table file's rows (no epochs rows)."""
    from pathlib import Path

    from edftools.analysis.library import is_store, load_runs

    if not is_store(path):
        return load_runs(path), None
    from edftools.store import open_store

    if not Path(path).exists():
        raise StoreError(f"no such store: {path}")
    store = open_store(path, read_only=True)
    try:
        return store.runs_frame(), store_epochs(store)
    finally:
        store.close()


def store_epochs(store: Any, sweep: str | None = None) -> pd.DataFrame:
    """The ``run_id``, ``epoch`` and ``test_error`` of every stored epoch (of ``sweep``)."""
    return store.query(
        f"SELECT run_id, epoch, {EPOCH_ERROR} FROM run_epochs WHERE ? IS NULL OR sweep = ? "
        "ORDER BY run_id, epoch",
        [sweep, sweep],
    )
