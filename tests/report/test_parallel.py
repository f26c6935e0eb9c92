"""run_beside: the child's tasks run in another process, results come back in order, a failing
child's tasks are run (and their error raised) by the parent, and without fork everything runs
here; a report is byte-identical whichever process drew it."""

from __future__ import annotations

import os

import pytest
from report_synthetic import synthetic_runs

from edftools.analysis import comparison as C
from edftools.analysis.refinement import RefineOptions, refine
from edftools.analysis.settings import Settings
from edftools.report import compare_html, parallel, refine_html

needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork and two CPUs")


@needs_fork
def test_child_tasks_run_in_another_process_and_return_in_order() -> None:
    here = os.getpid()
    theirs, mine = parallel.run_beside(
        [os.getpid, lambda: "b", lambda: {"c": 3}], [os.getpid, lambda: "y"]
    )
    assert theirs[0] != here and theirs[1:] == ["b", {"c": 3}]
    assert mine == [here, "y"]


@needs_fork
def test_a_failing_child_task_is_run_again_here_and_its_error_raised() -> None:
    calls: list[int] = []

    def fails() -> None:
        calls.append(os.getpid())
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        parallel.run_beside([fails], [lambda: 1])
    assert calls == [os.getpid()]  # the child's call is not seen here: only the parent's


@needs_fork
def test_an_unpicklable_child_result_is_computed_here() -> None:
    theirs, _ = parallel.run_beside([lambda: lambda: 1, lambda: 2], [])
    assert theirs[0]() == 1 and theirs[1] == 2


@needs_fork
def test_a_child_that_hangs_is_killed_and_its_tasks_run_here(monkeypatch) -> None:
    import time

    monkeypatch.setattr(parallel, "CHILD_TIMEOUT_S", 0.5)
    here = os.getpid()

    def hangs_in_the_child() -> int:
        if os.getpid() != here:
            time.sleep(60)
        return os.getpid()

    theirs, mine = parallel.run_beside([hangs_in_the_child], [lambda: 1])
    assert theirs == [here] and mine == [1]


def test_without_fork_every_task_runs_here_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    assert not parallel.can_fork()
    order: list[str] = []
    theirs, mine = parallel.run_beside(
        [lambda: order.append("child") or os.getpid()],
        [lambda: order.append("parent") or os.getpid()],
    )
    assert theirs == mine == [os.getpid()] and order == ["child", "parent"]


@pytest.fixture(scope="module")
def runs():
    return synthetic_runs({"P": 0.0, "R": -2.0, "S": -2.5}, n=60, seed=5)


@needs_fork
def test_reports_are_the_same_bytes_drawn_on_one_core_or_two(runs, monkeypatch) -> None:
    settings = Settings(bins=4, n_boot=100)

    def pages() -> tuple[str, str]:
        result = refine(runs, RefineOptions(chain=("P", "R", "S"), settings=settings))
        opts = C.CompareOptions(spaces=("P", "R"), settings=settings, params=("d", "w0"))
        return refine_html.render(result), compare_html.render(C.compare_spaces(runs, opts))

    forked = pages()
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    assert pages() == forked
