"""Does a verdict generalize? The same steps tested in several regimes under one family-wise
error rate (the DDS paper's §3.3 check: RegNetX vs AnyNetX_E vs AnyNetX_A at higher flops, more
epochs, other stage counts and block types).

A *regime* is a set of runs (a sweep, a dataset, or any label of a ``regime`` column) in which
the same spaces were sampled and trained. For a chain ``s_0 → s_1 → … → s_m`` and R regimes the
verdict matrix has m × R cells; each cell is a step's verdict (improves, no loss, worse, mixed,
inconclusive) on that regime's runs, from the tests of :func:`edftools.stats.family_test`
(one-sided KS both ways with permutation p-values within complexity strata, and the no-loss
test against the margin).

The family (what "family-wise" covers):

* regimes run with ``sweep --until-decided`` keep the sequential verdicts of their ``looks``
  table; such a regime's study spent its own α_r over its steps and looks (a regimes recipe
  gives each regime α / R: :mod:`edftools.recipe.regimes`);
* every other regime's steps are tested together, 3 hypotheses per step and regime, under one
  weighted Holm step-down (the refinement's) at the α left, α_fixed = α − Σ α_r;

so by Bonferroni over the two parts P(any false claim in the matrix) ≤ α_fixed + Σ α_r = α
(and ≤ Σ α_r, stated as such, when sequential regimes spent more than α).

The ordering statement reads each regime's verdicts as relations between neighbouring spaces
(improves ">", no loss "≥", worse "<", mixed "×", inconclusive "?") and compares them with the
*reference* regime (the first): a regime **holds** the ordering when every step that the
reference decided (not inconclusive: an inconclusive reference step claims nothing) has the
reference's verdict, **breaks** it when a step contradicts it (the reference says improves or
no loss and the regime worse or mixed; the reference worse and the regime improves or no
loss; the reference mixed and the regime improves), and is **undecided** otherwise (an
inconclusive step, or improves where the reference had no loss, or the other way round).
A break is quantified by the step's largest loss (pp at the margin's quantile levels) and its
normalized medians. Whatever the reference says, a step whose decided verdicts contradict each
other across regimes is named with the regimes on each side ("regimes disagree").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis import samples as measure
from edftools.analysis.changes import describe_changes
from edftools.analysis.history import design_of, step_histories
from edftools.analysis.regimes import RELATION, GeneralizeResult, RegimeCell
from edftools.analysis.runs import DEFAULT_CHAIN, resolve_space, select_runs
from edftools.analysis.seednoise import SeedNoiseTable, from_selected
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError, StoreError
from edftools.stats.verdicts import INCONCLUSIVE


def generalize_runs(
    runs: pd.DataFrame,
    chain: Sequence[str],
    *,
    regime: str = "sweep",
    regimes: Sequence[str] | None = None,
    settings: Settings | None = None,
    looks: pd.DataFrame | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> GeneralizeResult:
    """The verdict matrix of ``chain``'s steps over the regimes of ``runs`` (see the module
    docstring).

    ``runs``: long-form runs with a ``space`` column, the settings' error column, the
    complexity column when normalizing, and the ``regime`` column (default ``sweep``);
    ``regimes``: which labels and in which order (default: order of first appearance; the
    first is the reference); ``looks``: a ``looks`` table (column ``sweep`` = regime label)
    whose final looks give the sequential verdicts of the regimes it covers;
    ``descriptions``: a line per regime (what it changes) for the reports.
    Raises :class:`StatsInputError` for fewer than two regimes or spaces, or a regime
    without usable runs of a space.
    """
    cfg = settings or Settings()
    if len(chain) < 2:
        raise StatsInputError("a generalization needs a chain of at least two spaces")
    if regime not in runs.columns:
        raise StatsInputError(f"the runs have no regime column {regime!r}")
    labels = runs[regime].astype(str)
    order = list(regimes) if regimes else list(dict.fromkeys(labels.tolist()))
    if len(order) < 2:
        raise StatsInputError(
            f"a generalization needs at least two regimes (values of {regime!r}), got "
            f"{len(order)}: {', '.join(order) or '(none)'}"
        )
    missing = [r for r in order if r not in set(labels)]
    if missing:
        raise StatsInputError(f"no runs in regime {missing[0]!r} (column {regime!r})")
    steps = list(itertools.pairwise(chain))
    known = sorted(str(x) for x in runs["space"].dropna().unique()) if "space" in runs else []
    try:
        resolved = tuple(resolve_space(name, known) for name in chain)
    except StoreError as exc:
        raise StatsInputError(str(exc)) from None
    sequential = _sequential_regimes(looks, order, resolved)
    if sequential:  # the matrix is read on the basis its sequential verdicts were reached on
        first = next(iter(sequential.values()))[2]
        stored = Settings.from_design(first)
        cfg = cfg.updated(
            margin=stored.margin_value,
            margin_unit=stored.margin_unit,
            margin_range=stored.margin_range,
            normalize=stored.normalize,
            bins=stored.bins,
            error_column=stored.error_column,
        )
    samples: dict[str, tuple[measure.SpaceSample, ...]] = {}
    noise: dict[str, SeedNoiseTable | None] = {}
    for r in order:
        part = runs[labels == r]
        try:
            frame, names = select_runs(part, resolved, cfg.error_column)
            samples[r] = tuple(measure.build_samples(frame, names, cfg.normalize, cfg.bins))
        except (StoreError, StatsInputError) as exc:
            raise StatsInputError(f"regime {r!r}: {exc}") from None
        noise[r] = from_selected(part, frame, names, cfg.error_column)
    seq_alpha = sum(a for _, a, _ in sequential.values())
    fixed = [r for r in order if r not in sequential]
    fixed_alpha = cfg.alpha - seq_alpha
    if fixed and fixed_alpha <= 0:
        raise StatsInputError(
            f"the sequential regimes spend α = {seq_alpha:g} ≥ {cfg.alpha:g}; nothing is left "
            "for the fixed-n regimes (raise --alpha or analyse them apart)"
        )
    fixed_pairs = [(samples[r][i], samples[r][i + 1]) for r in fixed for i in range(len(steps))]
    fixed_steps = (
        measure.verdicts(fixed_pairs, cfg.margin_rule, fixed_alpha, _seed(cfg.seed, 2))
        if fixed_pairs
        else []
    )
    medians = {
        r: [
            measure.summarize(s, _seed(cfg.seed, 1, k, i), cfg.n_boot).median
            for i, s in enumerate(samples[r])
        ]
        for k, r in enumerate(order)
    }
    cells: list[RegimeCell] = []
    for r in order:
        for i, (p, q) in enumerate(itertools.pairwise(resolved)):
            sp, sq = samples[r][i], samples[r][i + 1]
            mp, mq = medians[r][i], medians[r][i + 1]
            base: dict[str, Any] = {
                "regime": r,
                "parent": p,
                "restricted": q,
                "n_parent": sp.n,
                "n_restricted": sq.n,
                "median_parent": mp.value,
                "median_parent_ci": (mp.low, mp.high),
                "median_restricted": mq.value,
                "median_restricted_ci": (mq.low, mq.high),
            }
            if r in sequential:
                history = sequential[r][0][(p, q)]
                f = history.final
                verdict = str(f["verdict"])
                base.update(n_parent=int(f["n_parent"]), n_restricted=int(f["n_restricted"]))
                cells.append(
                    RegimeCell(
                        **base,
                        verdict=verdict,
                        relation=RELATION[verdict],
                        d_better=float(f["d_better"]),
                        d_worse=float(f["d_worse"]),
                        loss=float(f["loss"]),
                        p_better=float(f["p_better"]),
                        p_worse=float(f["p_worse"]),
                        p_no_loss=float(f["p_no_loss"]),
                        sequential=True,
                        levels=(
                            float(f["level_better"]),
                            float(f["level_worse"]),
                            float(f["level_no_loss"]),
                        ),
                        decided_at=history.n if history.decided else None,
                        alpha=sequential[r][1],
                    )
                )
            else:
                s = fixed_steps[fixed.index(r) * len(steps) + i]
                cells.append(
                    RegimeCell(
                        **base,
                        verdict=s.verdict,
                        relation=RELATION[s.verdict],
                        d_better=s.better,
                        d_worse=s.worse,
                        loss=s.loss,
                        p_better=s.p_better,
                        p_worse=s.p_worse,
                        p_no_loss=s.p_no_loss,
                        sequential=False,
                        p_better_adj=s.adjusted[0],
                        p_worse_adj=s.adjusted[1],
                        p_no_loss_adj=s.adjusted[2],
                        alpha=fixed_alpha,
                    )
                )
    cells = _with_plans(cells, samples, resolved, cfg, len(steps) * max(1, len(fixed)))
    cells = [_with_noise(c, noise[c.regime]) for c in cells]
    family = _family(cfg, sequential, fixed, fixed_alpha, len(steps))
    return GeneralizeResult(
        tuple(resolved),
        tuple(order),
        tuple(cells),
        cfg,
        family,
        samples,
        dict(descriptions or {}),
        regime,
        noise,
    )


def _with_plans(
    cells: list[RegimeCell],
    samples: Mapping[str, tuple[measure.SpaceSample, ...]],
    chain: Sequence[str],
    cfg: Settings,
    fixed_steps: int,
) -> list[RegimeCell]:
    """Each inconclusive cell with the models per space that would decide it
    (:func:`measure.models_needed` on its parent as the pilot, at the cell's α, in a family
    of its part's steps: the regime's own for a sequential regime, all fixed-n steps else)."""
    out = []
    for k, c in enumerate(cells):
        if c.verdict != INCONCLUSIVE or c.alpha is None:
            out.append(c)
            continue
        pilot = samples[c.regime][list(chain).index(c.parent)]
        steps = len(chain) - 1 if c.sequential else fixed_steps
        plan = measure.models_needed(pilot, cfg.margin_rule, c.alpha, steps, cfg.seed + k)
        out.append(replace(c, n_needed=plan.n))
    return out


def _with_noise(cell: RegimeCell, table: SeedNoiseTable | None) -> RegimeCell:
    """The cell with the seed-noise SD of its two spaces (pooled) and whether its
    |Δ median| is below it (unchanged without reruns)."""
    if table is None:
        return cell
    sd = table.threshold(cell.parent, cell.restricted)
    if sd is None:
        return cell
    return replace(cell, seed_sd=sd, within_seed_noise=abs(cell.median_difference) < sd)


def _sequential_regimes(
    looks: pd.DataFrame | None, order: Sequence[str], chain: Sequence[str]
) -> dict[str, tuple[dict[tuple[str, str], Any], float, dict[str, Any]]]:
    """The regimes whose looks cover every step of ``chain``: their histories, the α their
    design spent, and the design."""
    if looks is None or not len(looks) or "sweep" not in looks.columns:
        return {}
    wanted = list(itertools.pairwise(chain))
    out = {}
    for r in order:
        part = looks[looks["sweep"].astype(str) == r]
        if not len(part):
            continue
        found = step_histories(part, chain)
        if all(w in found for w in wanted):
            design = design_of(part)
            alpha = float(design.get("alpha", np.nan))
            if not np.isfinite(alpha):
                continue
            out[r] = ({w: found[w] for w in wanted}, alpha, design)
    return out


def _family(
    cfg: Settings,
    sequential: Mapping[str, tuple[Any, float, Any]],
    fixed: Sequence[str],
    fixed_alpha: float,
    steps: int,
) -> dict[str, Any]:
    """How the matrix's family-wise error is bounded (for the footnotes and JSON)."""
    seq = {r: a for r, (_, a, _) in sequential.items()}
    fwer = sum(seq.values()) + (fixed_alpha if fixed else 0.0)
    kind = "sequential" if not fixed else "fixed-n" if not seq else "sequential + fixed-n"
    return {
        "kind": kind,
        "fwer": float(fwer),
        "alpha": float(cfg.alpha),
        "hypotheses": 3 * steps * (len(seq) + len(fixed)),
        "sequential_alpha": {r: float(a) for r, a in seq.items()},
        "fixed_alpha": float(fixed_alpha) if fixed else None,
        "fixed_regimes": list(fixed),
    }


def _seed(seed: int, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), 7, *keys])


def shared_chain(runs: pd.DataFrame, regime: str, regimes: Sequence[str]) -> tuple[str, ...]:
    """The default chain: the spaces of the paper's chain (AnyNetX_A … E, RegNetX, then
    RegNetY) that every regime has, in that order; else every space all regimes share, in
    order of first appearance. :class:`StatsInputError` when fewer than two are shared."""
    labels = runs[regime].astype(str)
    sets = [set(runs.loc[labels == r, "space"].astype(str)) for r in regimes]
    shared = set.intersection(*sets) if sets else set()
    paper = [s for s in (*DEFAULT_CHAIN, "RegNetY") if s in shared]
    if len(paper) >= 2:
        return tuple(paper)
    ordered = [s for s in dict.fromkeys(runs["space"].astype(str)) if s in shared]
    if len(ordered) < 2:
        raise StatsInputError(
            f"the regimes share {len(ordered)} space(s) ({', '.join(sorted(shared)) or 'none'}); "
            "a generalization needs two (name the chain)"
        )
    return tuple(ordered)


def regime_sweeps(sweeps: pd.DataFrame, study: str | None = None) -> list[tuple[str, str]]:
    """The (sweep name, description) of each regime of ``study`` in the store's ``sweeps``
    table (columns ``name``, ``recipe``), in the study's regime order; ``study`` None: the
    regimes study when the store has exactly one, else []. :class:`StatsInputError` for an
    unknown study (naming the studies there are)."""
    found: dict[str, list[tuple[int, str, str]]] = {}
    for name, text in zip(sweeps["name"], sweeps["recipe"], strict=True):
        info = _regime_record(str(text))
        if info is not None:
            found.setdefault(str(info["study"]), []).append(
                (int(info["index"]), str(name), _description(info))
            )
    if study is None:
        if len(found) != 1:
            return []
        study = next(iter(found))
    if study not in found:
        known = ", ".join(sorted(found)) or "none"
        raise StatsInputError(f"no regimes study {study!r} in the store; studies: {known}")
    return [(name, text) for _, name, text in sorted(found[study])]


def _regime_record(text: str) -> dict[str, Any] | None:
    """The ``regime`` record of a stored recipe identity (JSON), or None."""
    import json

    try:
        identity = json.loads(text)
    except ValueError:
        return None
    regime = identity.get("regime") if isinstance(identity, dict) else None
    return regime if isinstance(regime, dict) and "study" in regime else None


def _description(info: Mapping[str, Any]) -> str:
    changes = info.get("changes") or {}
    return describe_changes(changes) if changes else "the recipe as written"


def generalize(
    data: Any,
    chain: Sequence[str] | None = None,
    *,
    regime: str = "sweep",
    regimes: Sequence[str] | None = None,
    study: str | None = None,
    error: Any = "error",
    complexity: Any = None,
    space: str = "space",
    bins: int | None = None,
    margin: float | None = None,
    margin_unit: str | None = None,
    margin_range: tuple[float, float] | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    n_boot: int | None = None,
    settings: Settings | None = None,
    fixed: bool = False,
) -> GeneralizeResult:
    """Does the verdict of each step generalize across regimes? The verdict matrix (step ×
    regime) under one family-wise error rate, and the ordering statement (see the module
    docstring).

    ``data``: long-form runs with a ``regime`` column (default ``sweep``; ``"dataset"`` or any
    label column works), or a store path (its runs; the regimes of ``study`` when given or
    when the store holds exactly one regimes study, else every sweep; the sequential looks
    unless ``fixed``). ``chain`` default: the paper's spaces that every regime has
    (:func:`shared_chain`); ``regimes``: which and in which order (the first is the
    reference). Other keywords as :func:`edftools.refine`.
    """
    from edftools.analysis.library import analysed, is_store, settings_of, store_looks

    cfg = settings_of(
        settings,
        bins=bins,
        margin=margin,
        margin_unit=margin_unit,
        margin_range=margin_range,
        alpha=alpha,
        seed=seed,
        n_boot=n_boot,
    )
    frame, cfg = analysed(data, error, complexity, space, cfg)
    looks = None
    descriptions: dict[str, str] = {}
    if is_store(data):
        if not fixed and regime == "sweep":  # a looks table is per sweep
            looks = store_looks(Path(data), None)
        found = regime_sweeps(_store_sweeps(Path(data)), study)
        if found and regimes is None and regime == "sweep":
            regimes = [name for name, _ in found]
        descriptions = dict(found)
    elif study is not None:
        raise StatsInputError("study= selects the regimes of a store; data is not a store")
    if regime not in frame.columns:
        raise StatsInputError(f"data has no regime column {regime!r}; name it with regime=")
    order = list(regimes) if regimes else list(dict.fromkeys(frame[regime].astype(str)))
    names = tuple(chain) if chain else shared_chain(frame, regime, order)
    return generalize_runs(
        frame,
        names,
        regime=regime,
        regimes=order,
        settings=cfg,
        looks=looks,
        descriptions=descriptions,
    )


def _store_sweeps(path: Path) -> pd.DataFrame:
    from edftools.store import open_store

    store = open_store(path, read_only=True)
    try:
        return store.query("SELECT name, recipe, created_at FROM sweeps ORDER BY created_at")
    finally:
        store.close()
