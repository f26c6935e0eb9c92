"""Sequential sweeps (``edftools sweep RECIPE --until-decided``): train in looks until every
step of the recipe's chain is decided. (It drives training, the store and the statistics
together, so it sits above all of them, beside the CLI.)

The study is replayed from the store before every round, so a decision never depends on
process history: for each look n = look_every, 2·look_every, … ≤ max_n, the spaces that take
part in an undecided step must hold their first n planned runs (in plan order, each settled:
ok, diverged, or failed for its own config); their ok runs are the samples, and
:class:`~edftools.stats.sequential.SequentialChain` tests the undecided steps. The first look
not yet trained is the next round: its needed spaces are planned up to n and trained. The
``looks`` table is rewritten after every replay. A kill loses at most the runs in flight.

Seed-noise reruns (the recipe's ``reruns`` option) never count in a look: a look waits for the
originals only and tests only them. A round trains the reruns of its look's runs with them,
and an invocation first trains the reruns missing for the looks already taken
(:func:`missing_reruns`) — so adding ``reruns`` to the recipe of a finished study and running
``sweep --until-decided`` again trains just the reruns of the models the study used.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edftools.analysis.runs import originals, select_runs
from edftools.analysis.samples import build_samples
from edftools.errors import RecipeError, StatsInputError
from edftools.recipe import Recipe, SequentialSpec
from edftools.records import needs_run
from edftools.stats.sequential import SequentialChain
from edftools.store.looks import look_rows, replace_looks
from edftools.train.plan import SweepPlan, plan_sweep
from edftools.train.sweep import pending_runs

if TYPE_CHECKING:
    from edftools.store.store import Store


@dataclass(frozen=True)
class Replay:
    """The study as the store has it: the chain's decisions, the models per space used by
    the last look, and the next look to train (None: finished, or max_n reached)."""

    chain: SequentialChain
    counts: dict[str, int]
    next_n: int | None
    needed: tuple[str, ...]


def study_steps(recipe: Recipe) -> tuple[tuple[str, str], ...]:
    """The recipe's steps: ``[sequential] steps`` or its spaces in order as a chain."""
    spec = recipe.sequential
    if spec is None:
        raise RecipeError(f"recipe {recipe.name!r} has no [sequential] table (--until-decided)")
    if spec.steps:
        return spec.steps
    labels = [s.label for s in recipe.spaces]
    return tuple(itertools.pairwise(labels))


def study_spaces(recipe: Recipe) -> list[str]:
    """The space labels that take part in the study's steps, in first-use order."""
    return list(dict.fromkeys(label for step in study_steps(recipe) for label in step))


def study_plan(recipe: Recipe) -> SweepPlan:
    """The recipe planned up to ``max_n`` per space of the study (what :func:`replay` takes)."""
    spec: SequentialSpec = recipe.sequential  # type: ignore[assignment]
    return plan_sweep(recipe, n=spec.design.max_n, spaces=study_spaces(recipe))


def next_round(recipe: Recipe, store: Any) -> SweepPlan | None:
    """The plan of the next round, as the store's runs replay: the reruns missing for the looks
    already taken (:func:`missing_reruns`), else the next look (None: every step is decided or
    max_n is reached, and no rerun is missing); what ``sweep --until-decided`` announces."""
    state = replay(recipe, stored_runs(store, recipe.name), study_plan(recipe))
    catch_up = missing_reruns(recipe, store, state)
    if catch_up is not None:
        return catch_up
    if state.next_n is None:
        return None
    return plan_sweep(recipe, n=state.next_n, spaces=list(state.needed))


def missing_reruns(recipe: Recipe, store: Any, state: Replay) -> SweepPlan | None:
    """The reruns of the models the looks taken so far used (``state.counts`` per space) that
    the store does not settle, as a plan (None: none missing, or no ``reruns`` option)."""
    if recipe.reruns is None:
        return None
    planned = plan_sweep(recipe, n=state.counts)
    plan = SweepPlan(recipe, planned.reruns)
    return plan if pending_runs(plan, store).runs else None


def _indexed(plan: SweepPlan) -> dict[str, list[str]]:
    """run ids of the originals (no reruns) per space in plan (index) order."""
    out: dict[str, list[str]] = {}
    for run in sorted(plan.originals, key=lambda r: (r.space, r.index)):
        out.setdefault(run.space, []).append(run.run_id)
    return out


def replay(
    recipe: Recipe, runs: pd.DataFrame, plan: SweepPlan, perm_seed: int | None = None
) -> Replay:
    """Recompute every look the store's runs allow (see the module docstring).

    ``runs`` = the sweep's stored runs (every status, with ``failure_kind``); ``plan`` = the
    recipe planned up to ``max_n`` per space; ``perm_seed`` = the permutation tests' seed
    (default: the recipe's seed; another one checks that no decision rests on Monte-Carlo
    noise, ``benchmarks/bench_verdict_seeds.py``).
    """
    spec: SequentialSpec = recipe.sequential  # type: ignore[assignment]
    steps = study_steps(recipe)
    labels = study_spaces(recipe)
    index = {label: i for i, label in enumerate(labels)}
    chain = SequentialChain(
        tuple((index[a], index[b]) for a, b in steps),
        spec.design,
        spec.margin,
        recipe.seed if perm_seed is None else perm_seed,
    )
    ids = _indexed(plan)
    stored = runs.set_index("run_id")
    counts = dict.fromkeys(labels, 0)
    for n in spec.design.looks:
        needed = [labels[j] for j in sorted(chain.spaces_needed())]
        if not needed:
            break
        if not all(_settled(stored, ids[label][:n]) for label in needed):
            return Replay(chain, counts, n, tuple(needed))
        for label in needed:
            counts[label] = n
        sizes = [min(counts[a], counts[b]) for a, b in steps]
        chain.look(_pairs(recipe, spec, steps, stored, ids, counts, chain), sizes)
        if chain.finished:
            break
    return Replay(chain, counts, None, ())


def _settled(stored: pd.DataFrame, run_ids: Sequence[str]) -> bool:
    for rid in run_ids:
        if rid not in stored.index:
            return False
        row = stored.loc[rid]
        status, kind = row["status"], row.get("failure_kind")
        if needs_run(
            None if pd.isna(status) else str(status),
            None if kind is None or pd.isna(kind) else str(kind),
        ):
            return False
    return True


def _pairs(
    recipe: Recipe,
    spec: SequentialSpec,
    steps: Sequence[tuple[str, str]],
    stored: pd.DataFrame,
    ids: dict[str, list[str]],
    counts: dict[str, int],
    chain: SequentialChain,
) -> list[Any]:
    """The (parent, restricted) samples of the undecided steps at the current counts."""
    used = [label for label in counts if counts[label]]
    chosen = [rid for label in used for rid in ids[label][: counts[label]]]
    frame = stored.loc[chosen].reset_index()
    frame, names = select_runs(frame, used, spec.error_column)
    try:
        built = build_samples(frame, names, spec.normalize, spec.bins)
    except StatsInputError:  # a complexity bin still without models: test at the next look
        return [None] * len(steps)
    samples = dict(zip(names, built, strict=True))
    return [
        (samples[a].stratified, samples[b].stratified) if i in chain.active else None
        for i, (a, b) in enumerate(steps)
    ]


def stored_runs(store: Store, sweep: str) -> pd.DataFrame:
    """Every stored run of ``sweep`` (any status; empty before the first round)."""
    return store.query("SELECT * FROM runs WHERE sweep = ?", [sweep])


def design_record(recipe: Recipe) -> dict[str, Any]:
    """The design stored with every look (JSON)."""
    spec: SequentialSpec = recipe.sequential  # type: ignore[assignment]
    d = spec.design
    cfg = spec.settings
    return {
        "look_every": d.look_every,
        "max_n": d.max_n,
        "alpha": d.alpha,
        "spending": d.spending,
        "margin": {
            "value": cfg.margin_value,
            "unit": cfg.margin_unit,
            "q_range": list(cfg.margin_range),
        },
        "normalize": cfg.normalize,
        "bins": cfg.bins,
        "error_column": cfg.error_column,
    }


def record_looks(store: Store, recipe: Recipe, state: Replay) -> None:
    """Rewrite the sweep's ``looks`` rows from a replay."""
    steps = study_steps(recipe)
    rows = look_rows(recipe.name, state.chain.history, steps, design_record(recipe))
    replace_looks(store, recipe.name, rows)


@dataclass
class StudyOutcome:
    """How a sequential sweep ended."""

    replay: Replay
    steps: tuple[tuple[str, str], ...]
    rounds: int
    trained: int
    seconds: float
    stopped_by: str  # "decided", "max_n" or "budget"

    def line(self) -> str:
        words = ", ".join(
            f"{a} → {b}: {v}"
            for (a, b), v in zip(self.steps, self.replay.chain.verdicts, strict=True)
        )
        counts = ", ".join(f"{k} {v}" for k, v in self.replay.counts.items())
        return (
            f"stopped ({self.stopped_by}) after {self.rounds} round(s), {self.trained} runs "
            f"trained in {self.seconds:.0f} s; models per space: {counts}; {words}"
        )


def run_until_decided(
    recipe: Recipe,
    store: Store,
    train_round: Callable[[SweepPlan, float | None], int],
    budget_s: float | None = None,
    echo: Callable[[str], None] | None = None,
) -> StudyOutcome:
    """Replay, record the looks, train the next look's runs, repeat until every step is
    decided, ``max_n`` is reached or the budget is spent.

    ``train_round(plan, deadline)`` trains a plan's pending runs, starting none that would
    end after ``deadline`` (a :func:`time.monotonic` value, None without a budget), and
    returns how many it trained (the sweep's executor, or a simulated one in tests).
    ``budget_s`` cuts the look in flight to the runs that fit (its other runs are not
    started) and stops before the next one. The study stays valid: a look is tested only once
    all its runs are stored, so a cut look is neither tested nor lost; the next invocation
    trains the rest of it.
    """
    spec: SequentialSpec | None = recipe.sequential
    if spec is None:
        raise RecipeError(f"recipe {recipe.name!r} has no [sequential] table (--until-decided)")
    steps = study_steps(recipe)
    for a, b in steps:
        recipe.space(a), recipe.space(b)  # unknown labels fail here, before any training
    start = time.perf_counter()
    deadline = None if budget_s is None else time.monotonic() + budget_s
    full = study_plan(recipe)
    store.ensure_sweep(recipe.name, recipe.identity_text())
    rounds = trained = 0
    cut = False  # the last round left runs of its look unstarted: the budget is spent
    caught_up = False  # the reruns of the looks already taken were trained (once per call)
    say = echo or (lambda text: print(text, file=sys.stderr))
    while True:
        state = replay(recipe, stored_runs(store, recipe.name), full)
        record_looks(store, recipe, state)
        say(progress_text(state, steps, store, recipe, time.perf_counter() - start))
        catch_up = None if caught_up else missing_reruns(recipe, store, state)
        caught_up = True
        if catch_up is not None and not cut:
            pending = len(pending_runs(catch_up, store).runs)
            say(f"reruns of the looks taken: {pending} to train")
            done = train_round(catch_up, deadline)
            trained += done
            rounds += 1
            cut = deadline is not None and done < pending
            continue
        if state.next_n is None:
            stopped = "decided" if state.chain.finished else "max_n"
            break
        if cut or (deadline is not None and time.monotonic() >= deadline):
            stopped = "budget"
            break
        round_plan = plan_sweep(recipe, n=state.next_n, spaces=list(state.needed))
        pending = len(pending_runs(round_plan, store).runs)
        done = train_round(round_plan, deadline)
        trained += done
        rounds += 1
        cut = deadline is not None and done < pending
    return StudyOutcome(state, steps, rounds, trained, time.perf_counter() - start, stopped)


def progress_text(
    state: Replay,
    steps: Sequence[tuple[str, str]],
    store: Store,
    recipe: Recipe,
    elapsed: float,
) -> str:
    """Per-space n, each step's current verdict, and an ETA for the next look (the runs it still
    needs: next n minus the runs stored, per space it needs)."""
    counts = "  ".join(f"{k}={v}" for k, v in state.counts.items())
    verdicts = "; ".join(
        f"{a}→{b}: {v}" for (a, b), v in zip(steps, state.chain.verdicts, strict=True)
    )
    eta = ""
    if state.next_n is not None:
        runs = stored_runs(store, recipe.name)
        per_run = float(np.nanmedian(runs["train_seconds"])) if len(runs) else math.nan
        trained = originals(runs)["space"].value_counts() if len(runs) else pd.Series(dtype=int)
        todo = sum(max(0, state.next_n - int(trained.get(label, 0))) for label in state.needed)
        workers = max(1, recipe.workers)
        if math.isfinite(per_run):
            minutes = todo * per_run / workers / 60
            eta = f"; next look n={state.next_n}: {todo} runs, ETA {minutes:.0f} min"
    return f"[{elapsed / 60:5.1f} min] n: {counts} | {verdicts}{eta}"
