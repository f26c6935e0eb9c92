"""A sweep as a library call: :func:`run_sweep` plans a recipe's runs, skips those the store
settles, checks the device, data and a one-batch dry run, trains the rest (local worker
processes or Ray tasks) and stores them; with ``until_decided`` it trains in looks until every
step of the recipe's chain is decided (:func:`edftools.study.run_until_decided`).

``edftools sweep`` parses its options and calls it; tests and scripts call it the same way.
Like :mod:`edftools.study` it drives training, the store and the statistics together, so it
sits above all of them, beside the CLI. Needs the training extra (``edftools[train]``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from edftools.errors import RecipeError, SweepError
from edftools.recipe import Recipe

if TYPE_CHECKING:
    from edftools.store.store import Store
    from edftools.study import StudyOutcome
    from edftools.train.sweep import SweepSummary

BACKENDS: tuple[str, ...] = ("local", "ray")


@dataclass(frozen=True)
class SweepOutcome:
    """How a sweep ended: a fixed-n sweep's summary, or a sequential study's outcome, or (a
    recipe with ``[[regimes]]``) each regime's outcome by regime sweep name."""

    summary: SweepSummary | None = None
    study: StudyOutcome | None = None
    regimes: tuple[tuple[str, SweepOutcome], ...] = ()

    def line(self) -> str:
        """One line for the terminal (one per regime of a regimes recipe)."""
        if self.regimes:
            return "\n".join(f"{name}: {outcome.line()}" for name, outcome in self.regimes)
        if self.study is not None:
            return self.study.line()
        return self.summary.line() if self.summary is not None else "nothing run"

    def raise_if_all_failed(self) -> None:
        """:class:`SweepError` naming the most common failure when every run trained failed
        (a sequential study raises it at the round where that happens)."""
        if self.summary is not None:
            refuse_all_failed(self.summary)
        for _, outcome in self.regimes:
            outcome.raise_if_all_failed()


def run_sweep(
    recipe: Recipe,
    store: Store | str | os.PathLike[str] | None,
    *,
    workers: int | None = None,
    oversubscribe: bool = False,
    n: int | None = None,
    spaces: Sequence[str] = (),
    retry_failed: bool = False,
    until_decided: bool = False,
    budget_s: float | None = None,
    progress: bool = True,
    backend: str = "local",
    address: str | None = None,
    echo: Callable[[str], None] | None = None,
    regimes: Sequence[str] = (),
) -> SweepOutcome:
    """Train and store the runs of ``recipe`` not yet settled in ``store`` (resumable).

    A recipe with ``[[regimes]]`` runs each regime (``regimes``: only those, by name) as a
    sweep of its own, in order, with the same options; ``budget_s`` covers them all (a
    regime starts only while budget is left).

    ``workers``: runs at once (default: the recipe's; locally capped at the usable cores per
    run's threads unless ``oversubscribe``); ``n``/``spaces``: models per space and which
    spaces (default: the recipe's); ``retry_failed``: re-run runs that failed for their own
    config too; ``until_decided``: train in looks of the recipe's ``[sequential]`` table until
    every step is decided, ``max_n`` is reached or ``budget_s`` seconds are spent;
    ``backend``: ``local`` worker processes or ``ray`` tasks (at ``address``). ``echo`` gets
    the progress lines (default: stderr). When every run of a round fails: a sequential study
    raises :class:`SweepError`; a fixed sweep returns, and ``raise_if_all_failed()`` raises.
    ``store``: an open store, or its path (None: the default store), opened only once the plan
    is valid (a bad request leaves no file); a path is opened so that the sweep waits for
    readers (``echo`` says so) instead of giving up. A second sweep of the same sweep on the
    same store is refused up front (:mod:`edftools.store.lease`); runs a reader kept from a
    killed sweep are stored from its journal first (:mod:`edftools.store.journal`).
    """
    from edftools.train.extra import require_training

    require_training()
    say = echo or (lambda text: print(text, file=sys.stderr))
    if recipe.regimes or regimes:
        return _run_regimes(
            recipe,
            store,
            regimes,
            budget_s,
            say,
            dict(
                workers=workers,
                oversubscribe=oversubscribe,
                n=n,
                spaces=spaces,
                retry_failed=retry_failed,
                until_decided=until_decided,
                progress=progress,
                backend=backend,
                address=address,
            ),
        )
    if backend not in BACKENDS:
        raise SweepError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "ray":
        from edftools.train.ray_executor import import_ray

        import_ray()  # says how to install Ray before anything is created
    else:  # the workers' imports start now, beside the planning below
        from edftools.train.worker_server import start_worker_server

        start_worker_server()
    plan = _plan(recipe, n, spaces, until_decided)
    from edftools.store.lease import SweepLease
    from edftools.store.store import Store as StoreClass

    if isinstance(store, StoreClass):
        handle = store
    else:
        from edftools.store import open_store

        # a reader never stops the sweep: it waits; the schema is made or checked at the
        # sweep's first opening (Store.start_sweep), not in an opening of its own
        handle = open_store(store, on_wait=say, lazy=True)
    try:
        with SweepLease.acquire(handle.path, recipe.name):  # a second sweep of it: refused
            return _train(
                recipe,
                handle,
                plan,
                workers,
                oversubscribe,
                retry_failed,
                until_decided,
                budget_s,
                progress,
                backend,
                address,
                say,
            )
    finally:
        if handle is not store:
            handle.close()


def _run_regimes(
    recipe: Recipe,
    store: Store | str | os.PathLike[str] | None,
    names: Sequence[str],
    budget_s: float | None,
    say: Callable[[str], None],
    options: dict[str, Any],
) -> SweepOutcome:
    """Each chosen regime of ``recipe`` as its own sweep, in order, within one budget."""
    chosen = recipe.regime_named(names)
    start = time.monotonic()
    done: list[tuple[str, SweepOutcome]] = []
    for regime in chosen:
        left = None if budget_s is None else budget_s - (time.monotonic() - start)
        if left is not None and left <= 0:
            say(f"sweep {regime.name}: not started (budget spent)")
            continue
        say(f"sweep {recipe.name}: regime {regime.regime.describe() if regime.regime else ''}")
        outcome = run_sweep(regime, store, budget_s=left, echo=say, **options)
        done.append((regime.name, outcome))
    return SweepOutcome(regimes=tuple(done))


def _train(
    recipe: Recipe,
    store: Store,
    plan: Any,
    workers: int | None,
    oversubscribe: bool,
    retry_failed: bool,
    until_decided: bool,
    budget_s: float | None,
    progress: bool,
    backend: str,
    address: str | None,
    say: Callable[[str], None],
) -> SweepOutcome:
    from edftools.store.journal import RunJournal
    from edftools.train.environment import usable_cores, worker_count
    from edftools.train.executors import Executor, LocalProcessExecutor, RunTask
    from edftools.train.sweep import execute_plan, pending_runs, stored_run_seconds

    threads = recipe.schedule.threads
    # the sweep registered (a changed recipe: refused first) and its stored runs read at once
    outcomes = store.start_sweep(recipe.name, recipe.identity_text())
    journal = RunJournal(store.path, recipe.name)  # runs a reader kept from a killed sweep
    if journal.replay(store, say):
        outcomes = store.run_outcomes(recipe.name)
    pending = pending_runs(plan, store, retry_failed, outcomes)
    todo, scope = len(pending.runs), f"{len(plan.runs)} runs"  # workers: every pending run
    if until_decided:  # what the next look trains (nothing once the study is decided)
        from edftools.study import next_round

        look = next_round(recipe, store)
        pending = pending_runs(look or replace(plan, runs=()), store, retry_failed)
        todo = todo if pending.runs else 0
        if look is None:
            what = "(no look left to train)"
        elif not look.originals:
            what = "(reruns of the looks taken)"
        else:
            what = f"(next look n={max(r.index for r in look.runs) + 1})"
        scope = f"up to {len(plan.runs)} runs {what}"
    reruns = len(plan.reruns)
    if reruns:
        scope += f" (of which {reruns} seed-noise reruns)"
    if backend == "ray":  # the cluster's size sets the runs in flight, up to workers
        most = max(1, todo)
        k, note = (min(workers, most) if workers is not None else most), ""
    else:
        requested = workers if workers is not None else recipe.workers
        k, note = worker_count(requested, todo, threads, usable_cores(), oversubscribe)
    say(
        f"sweep {recipe.name}: {scope} planned over "
        f"{len({r.space for r in plan.runs})} space(s), {len(pending.runs)} to train, "
        f"{k} worker(s) x {threads} thread(s), device {recipe.device}"
        + (f" ({note})" if note else "")
    )
    first = pending.runs[0] if pending.runs else None
    check = (RunTask.from_plan(recipe, first), f"{first.space} #{first.index}") if first else None
    executor: Executor
    checks: Callable[..., Any]
    if backend == "ray":
        from edftools.train.ray_executor import RayExecutor

        ray_executor = RayExecutor.for_recipe(recipe, address=address, max_in_flight=k)
        say(
            f"sweep {recipe.name}: Ray at {ray_executor.address}, "
            f"{ray_executor.capacity} run(s) in flight"
        )
        executor, checks = ray_executor, ray_executor.preflight  # on the cluster
    else:  # in the first local worker, where the runs train (the driver imports no torch)
        local = LocalProcessExecutor(k, timeout_s=recipe.failure.timeout_s)
        executor, checks = local, local.preflight
    with executor:
        if check is not None:
            checks(*check)
        if until_decided:
            from edftools.study import run_until_decided

            def train_round(round_plan: Any, deadline: float | None) -> int:
                done = execute_plan(
                    round_plan,
                    store,
                    executor,
                    progress=progress,
                    retry_failed=retry_failed,
                    journal=journal,
                    deadline=deadline,
                    run_seconds=stored_run_seconds(store, recipe.name),
                )
                refuse_all_failed(done)
                if done.not_started:
                    say(f"sweep {recipe.name}: budget: {done.line()}")
                return int(done.done)

            return SweepOutcome(study=run_until_decided(recipe, store, train_round, budget_s, say))
        summary = execute_plan(
            plan,
            store,
            executor,
            progress=progress,
            retry_failed=retry_failed,
            journal=journal,
            pending=pending,
        )
    return SweepOutcome(summary=summary)


def _plan(recipe: Recipe, n: int | None, spaces: Sequence[str], until_decided: bool) -> Any:
    from edftools.train.plan import plan_sweep

    if not until_decided:
        return plan_sweep(recipe, n=n, spaces=list(spaces) or None)
    from edftools.study import study_spaces

    if n is not None or spaces:
        raise RecipeError("until_decided plans n and spaces itself (no n or spaces)")
    if recipe.sequential is None:
        raise RecipeError(f"recipe {recipe.name!r} has no [sequential] table (--until-decided)")
    return plan_sweep(recipe, n=recipe.sequential.design.max_n, spaces=study_spaces(recipe))


def refuse_all_failed(summary: Any) -> None:
    """Raise :class:`SweepError` with the most common failure when every run trained failed."""
    if summary.all_failed:
        kind, message, count = summary.most_common_failure() or ("", "", 0)
        raise SweepError(
            f"all {summary.done} runs of this sweep failed; most common failure "
            f"({count} of {summary.done}, {kind}): {message}"
        )
