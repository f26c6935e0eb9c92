"""Sweep driving: train a plan's pending runs on an executor; the driver is the only writer.

The driver process is the store's only writer. It skips the runs the store already settles
(:func:`edftools.records.needs_run`: ok, diverged, and failed with kind ``config`` unless
``retry_failed``), hands the rest to an :class:`~edftools.train.executors.Executor` in plan
order (spaces interleaved: run 0 of every space, then run 1, ...), writes each result in its
own transaction as soon as it arrives, and retries failed runs per the recipe's failure policy.
A ``kill -9`` of the driver loses only the runs in flight; they are re-run on resume.

A reader (``edftools sql``) holding the store never stops a sweep: a write that cannot get the
file at once gives way (``write_run(record, wait=False)``), the finished run is kept in memory
and training goes on; every later result tries again to write what is kept, in order, and at
the end the driver waits for the reader as long as it takes (the store's ``on_wait`` reports
it). Nothing finished is dropped: kept runs also go to the sweep's journal on disk (when one is
given, :class:`edftools.store.journal.RunJournal`), so a kill while runs are kept loses only the
runs in flight; the next invocation stores the journal's runs before it plans.
Planning (configs, seeds, run ids) is :mod:`edftools.train.plan`.
"""

from __future__ import annotations

import collections
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from edftools.errors import StoreBusyError, StoreError
from edftools.records import CONFIG, FAILURE_KINDS, RunRecord, RunResult, needs_run
from edftools.train.environment import package_versions
from edftools.train.executors import Executor, RunTask
from edftools.train.plan import PlannedRun, SweepPlan


def to_record(plan: SweepPlan, run: PlannedRun, result: RunResult) -> RunRecord:
    """The store row for one finished run.

    ``versions`` = the driver's :func:`~edftools.train.environment.package_versions` and the
    recipe's ``threads``, overridden by what the training process measured (its
    ``runtime_versions``: versions, threads, CPU kernel family, machine).
    """
    recipe = plan.recipe
    return RunRecord(
        run_id=run.run_id,
        sweep=recipe.name,
        space=run.space,
        config=run.config.to_dict(),
        flops=run.flops,
        params=run.params,
        acts=run.acts,
        dataset=recipe.dataset.name,
        epochs=int(recipe.schedule.epochs),
        seed=run.seed,
        result=result,
        versions={**package_versions(), "threads": recipe.schedule.threads, **result.versions},
        rerun_of=run.rerun_of,
        replicate=run.replicate if run.rerun_of is not None else None,
    )


@dataclass(frozen=True)
class Pending:
    """The runs of a plan to train now, and what the store already holds of the rest."""

    runs: tuple[PlannedRun, ...]
    stored: int  # planned runs the store settles (skipped)
    kept_failed: int  # of those, failed runs of kind config (re-run with retry_failed)


def pending_runs(
    plan: SweepPlan,
    store: Any,
    retry_failed: bool = False,
    outcomes: Mapping[str, tuple[str, str | None]] | None = None,
) -> Pending:
    """The planned runs that :func:`~edftools.records.needs_run` says to (re-)run.

    ``store`` needs ``run_outcomes(sweep) -> {run_id: (status, failure_kind)}``; ``outcomes``:
    those of the plan's sweep, just read by the caller (the store is then not asked).
    """
    if outcomes is None:
        outcomes = store.run_outcomes(plan.recipe.name)
    runs, kept = [], 0
    for run in plan.runs:
        status, kind = outcomes.get(run.run_id, (None, None))
        if needs_run(status, kind, retry_failed):
            runs.append(run)
        elif status == "failed":
            kept += 1
    return Pending(tuple(runs), len(plan.runs) - len(runs), kept)


@dataclass
class SweepSummary:
    """Counts of one sweep invocation (``skipped`` = already settled in the store)."""

    planned: int = 0
    skipped: int = 0
    kept_failed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    retried: int = 0
    seconds: float = 0.0
    not_started: int = 0  # pending runs left untrained: they would not end before the deadline

    @property
    def done(self) -> int:
        return sum(self.statuses.values())

    @property
    def all_failed(self) -> bool:
        """Whether this invocation trained runs and every one of them failed."""
        return self.done > 0 and self.statuses.get("failed", 0) == self.done

    def most_common_failure(self) -> tuple[str, str, int] | None:
        """``(kind, message, count)`` of the most frequent stored failure, or None."""
        if not self.failures:
            return None
        (kind, message), count = self.failures.most_common(1)[0]
        return kind, message, count

    def line(self) -> str:
        by_kind = collections.Counter(kind for kind, _ in self.failures.elements())
        kinds = ", ".join(f"{by_kind[k]} {k}" for k in FAILURE_KINDS if by_kind[k])
        counts = ", ".join(
            f"{v} {k}" + (f" [{kinds}]" if k == "failed" and kinds else "")
            for k, v in sorted(self.statuses.items())
        )
        counts = counts or "none"
        kept = ""
        if self.kept_failed:
            kept = f" ({self.kept_failed} failed: {CONFIG}, kept; --retry-failed re-runs them)"
        cut = f", {self.not_started} not started (budget)" if self.not_started else ""
        return (
            f"{self.done} runs trained ({counts}), {self.skipped} already stored{kept}, "
            f"{self.planned} planned, {self.retried} retried{cut}, {self.seconds:.1f} s"
        )


def execute_plan(
    plan: SweepPlan,
    store: Any,
    executor: Executor,
    progress: bool = True,
    on_record: Callable[[RunRecord], None] | None = None,
    retry_failed: bool = False,
    journal: Any = None,
    deadline: float | None = None,
    run_seconds: float = 0.0,
    pending: Pending | None = None,
) -> SweepSummary:
    """Run the plan's pending runs on ``executor`` and write each result to ``store``.

    ``store`` needs ``ensure_sweep(name, text)`` (given :meth:`Recipe.identity_text`, so a
    changed recipe under the same name is refused), ``run_outcomes(sweep)`` (see
    :func:`pending_runs`) and ``write_run(record)`` (one transaction); ``executor`` is an
    :class:`~edftools.train.executors.Executor`. A failed run is re-submitted up to
    ``recipe.failure.retries`` times; the last attempt's result is what gets stored.
    ``journal`` (``keep(records)``, ``clear()``) holds the runs a reader keeps from the store.

    ``deadline`` (a :func:`time.monotonic` value): a run is started only while it is expected
    to end before it, ``now + t <= deadline`` with ``t`` the median ``train_seconds`` of the
    runs this call finished (``run_seconds`` before the first, e.g. the stored runs' median);
    runs in flight finish, the rest are counted in ``not_started`` (a budget cuts a look).

    ``pending``: :func:`pending_runs` of ``plan``, when the caller has just registered the sweep
    and read it (the store is then not asked again). A finished run's worker gets its next run
    before the result is written (a write holds the file 30-70 ms), so workers never wait for
    the store.
    """
    recipe = plan.recipe
    start = time.perf_counter()
    if pending is None:
        store.ensure_sweep(recipe.name, recipe.identity_text())
        pending = pending_runs(plan, store, retry_failed)
    summary = SweepSummary(
        planned=len(plan.runs), skipped=pending.stored, kept_failed=pending.kept_failed
    )
    by_id = {r.run_id: r for r in pending.runs}
    queue = [RunTask.from_plan(recipe, r) for r in pending.runs]
    queue.reverse()  # pop() from the end takes runs in plan order
    attempts: dict[str, int] = {}
    in_flight = 0
    kept: list[RunRecord] = []  # finished, not yet written: a reader holds the store
    bar = _progress_bar(len(plan.runs), summary.skipped, progress)
    took: list[float] = []

    def fits() -> bool:
        if deadline is None:
            return True
        expected = float(statistics.median(took)) if took else run_seconds
        return time.monotonic() + expected <= deadline

    def refill() -> int:
        """Start queued runs on the free workers (while they fit the deadline)."""
        started = 0
        if queue and not fits():
            summary.not_started += len(queue)
            queue.clear()
        while queue and in_flight + started < executor.capacity:
            task = queue.pop()
            attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
            executor.submit(task)
            started += 1
        return started

    try:
        in_flight += refill()
        while in_flight:
            task, result = executor.next_result()
            in_flight -= 1
            retry = result.status == "failed" and attempts[task.run_id] <= recipe.failure.retries
            if retry:
                summary.retried += 1
                queue.append(task)  # retried next
            else:
                took.append(result.train_seconds)
            in_flight += refill()  # before the write: the worker trains meanwhile
            if retry:
                continue
            kept.append(to_record(plan, by_id[task.run_id], result))
            write_kept(store, kept, on_record, wait=False, journal=journal)
            summary.statuses[result.status] = summary.statuses.get(result.status, 0) + 1
            if result.status == "failed":
                summary.failures[(result.failure, result.message)] += 1
            if bar is not None:
                bar.set_postfix_str(_postfix(summary), refresh=False)
                bar.update(1)
        write_kept(store, kept, on_record, wait=True, journal=journal)
    except BaseException:
        with suppress(StoreError):  # Ctrl-C, a failing executor: keep what can be kept now
            write_kept(store, kept, on_record, wait=False, journal=journal)
        raise
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def write_kept(
    store: Any,
    kept: list[RunRecord],
    on_record: Callable[[RunRecord], None] | None = None,
    wait: bool = True,
    journal: Any = None,
) -> None:
    """Write the ``kept`` records in order, one transaction each, removing each once stored.

    ``wait=False``: stop at the first :class:`StoreBusyError` (a reader holds the store) and
    leave the rest in ``kept`` — and in ``journal``, on disk. ``wait=True``: wait as the store
    waits (a sweep's store waits for readers without giving up). Once nothing is kept, the
    journal is cleared.
    """
    while kept:
        try:
            if wait:
                store.write_run(kept[0])
            else:
                store.write_run(kept[0], wait=False)
        except StoreBusyError:
            if wait:
                raise
            if journal is not None:
                journal.keep(kept)
            return
        record = kept.pop(0)
        if on_record is not None:
            on_record(record)
    if journal is not None:
        journal.clear()


def stored_run_seconds(store: Any, sweep: str) -> float:
    """The median ``train_seconds`` of the sweep's stored ok runs (0.0 without any): what a
    budget expects of a run before this invocation has finished one."""
    rows = store.fetch(
        "SELECT median(train_seconds) FROM runs WHERE sweep = ? AND status = 'ok'", [sweep]
    )[1]
    value = rows[0][0] if rows else None
    return float(value) if value is not None else 0.0


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        postfix="failed=0 diverged=0",
    )


def _postfix(summary: SweepSummary) -> str:
    failed = summary.statuses.get("failed", 0)
    diverged = summary.statuses.get("diverged", 0)
    return f"failed={failed} diverged={diverged}"
