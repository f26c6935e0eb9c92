"""share: a helper process and this one share the tasks (the helper's from the front), results
come back in order, a task the helper fails or cannot return is run (and its error raised)
here, a helper that hangs is killed, and without fork everything runs here; a helper started
first imports what it is asked to; a report is byte-identical whichever process drew it."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
import weakref

import pytest
from report_synthetic import synthetic_runs

from edftools.analysis import comparison as C
from edftools.analysis.refinement import RefineOptions, refine
from edftools.analysis.settings import Settings
from edftools.report import compare_html, parallel, refine_html

needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="needs fork and two CPUs")

#: Set by a task in the helper; inherited by the helper at the fork (an Event does not pickle).
_HELPED = multiprocessing.get_context("fork").Event() if parallel.can_fork() else None
_PARENT = os.getpid()


def _pid_and_signal() -> int:
    """This process's id; tells the parent's waiting task that the helper has run."""
    assert _HELPED is not None
    _HELPED.set()
    return os.getpid()


def _wait_for_the_helper() -> str:
    """A task of this process that returns once the helper has run a task (or after 30 s)."""
    assert _HELPED is not None
    _HELPED.wait(30.0)
    return "waited"


def _echo(value: object) -> object:
    return value


def _fails(message: str) -> None:
    raise ValueError(message)


def _returns_a_lambda() -> object:
    return lambda: 1


def _hangs_in_the_helper() -> int:
    if os.getpid() != _PARENT:
        _pid_and_signal()
        time.sleep(60)
    return os.getpid()


def _imported(name: str) -> bool:
    return name in sys.modules


def _imported_and_signal(name: str) -> tuple[int, bool]:
    return _pid_and_signal(), _imported(name)


class _Node:
    """An object that can sit in a reference cycle and be weakly referenced."""

    link: object = None


_CYCLES: list[weakref.ref] = []


def _make_a_cycle() -> bool:
    """Leave a reference cycle behind (only a garbage collection frees it); says whether
    automatic collection is on in this process."""
    node = _Node()
    node.link = node
    _CYCLES.append(weakref.ref(node))
    return gc.isenabled()


def _cycles_left() -> int:
    return sum(ref() is not None for ref in _CYCLES)


@pytest.fixture
def helped():
    assert _HELPED is not None
    _HELPED.clear()
    yield
    _HELPED.clear()


@needs_fork
def test_tasks_run_in_the_helper_and_here_and_return_in_order(helped) -> None:
    theirs, mine = parallel.share(
        [(_pid_and_signal, ()), (_echo, ("b",)), (_echo, ({"c": 3},))],
        [_wait_for_the_helper, lambda: "y"],
    )
    assert theirs[0] != os.getpid() and theirs[1:] == ["b", {"c": 3}]
    assert mine == ["waited", "y"]


@needs_fork
def test_a_task_after_a_here_task_is_handed_over_with_what_that_one_computed(helped) -> None:
    computed: dict[str, int] = {}

    def compute() -> str:
        _wait_for_the_helper()  # the helper is free (it ran the first task) before this ends
        time.sleep(0.05)  # a feeder that ignored the gate would hand the task over meanwhile
        computed["value"] = 7
        return "computed"

    theirs, mine = parallel.share(
        [(_pid_and_signal, ()), (_echo, (computed,)), (_echo, ("free",))],
        [compute],
        after=[None, 0, None],
    )
    assert theirs[1:] == [{"value": 7}, "free"] and mine == ["computed"]


def test_after_names_a_here_task_for_each_task() -> None:
    with pytest.raises(ValueError, match="after"):
        parallel.share([(_echo, (1,))], [lambda: 1], after=[1])
    with pytest.raises(ValueError, match="after"):
        parallel.share([(_echo, (1,)), (_echo, (2,))], [lambda: 1], after=[0])


@needs_fork
def test_without_steal_every_task_runs_in_the_helper() -> None:
    theirs, mine = parallel.share([(os.getpid, ())] * 4, [os.getpid], steal=False)
    assert mine == [os.getpid()] and len(set(theirs)) == 1 and theirs[0] != os.getpid()


@needs_fork
def test_the_helper_collects_each_tasks_garbage_itself() -> None:
    _CYCLES.clear()
    assert gc.isenabled()
    (automatic, left), _ = parallel.share(
        [(_make_a_cycle, ()), (_cycles_left, ())], [], steal=False
    )
    assert automatic is False  # no collection set off in the middle of a figure
    assert left == 0  # but the first task's cycle was collected once it was done
    assert gc.isenabled()  # this process is left as it was


@needs_fork
def test_a_task_the_helper_fails_is_run_again_here_and_its_error_raised() -> None:
    with pytest.raises(ValueError, match="bad input"):
        parallel.share([(_fails, ("bad input",))], [lambda: 1])


@needs_fork
def test_an_unpicklable_result_is_computed_here() -> None:
    theirs, _ = parallel.share([(_returns_a_lambda, ()), (_echo, (2,))], [])
    assert theirs[0]() == 1 and theirs[1] == 2


@needs_fork
def test_a_helper_that_hangs_is_killed_and_its_task_run_here(monkeypatch, helped) -> None:
    monkeypatch.setattr(parallel, "CHILD_TIMEOUT_S", 0.5)
    theirs, mine = parallel.share([(_hangs_in_the_helper, ())], [_wait_for_the_helper])
    assert theirs == [os.getpid()] and mine == ["waited"]


@needs_fork
def test_a_helper_started_first_imports_its_modules_and_serves_every_share(helped) -> None:
    assert not _imported("tabnanny")  # what the helper is asked to import
    with parallel.helper(("tabnanny",)) as started:
        assert started is not None
        first, _ = parallel.share([(_pid_and_signal, ())], [_wait_for_the_helper])
        _HELPED.clear()
        second, _ = parallel.share([(_imported_and_signal, ("tabnanny",))], [_wait_for_the_helper])
    assert first[0] != os.getpid() and second[0] == (first[0], True)  # one helper for both
    assert not _imported("tabnanny")


def test_without_fork_every_task_runs_here_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    assert not parallel.can_fork()
    order: list[str] = []
    with parallel.helper(("tabnanny",)) as started:
        assert started is None
        theirs, mine = parallel.share(
            [(lambda: order.append("helper") or os.getpid(), ())],
            [lambda: order.append("here") or os.getpid()],
        )
    assert theirs == mine == [os.getpid()] and order == ["here", "helper"]


@pytest.fixture(scope="module")
def runs():
    return synthetic_runs({"P": 0.0, "R": -2.0, "S": -2.5}, n=60, seed=5)


@needs_fork
def test_reports_are_the_same_bytes_drawn_on_one_core_or_two(runs, monkeypatch) -> None:
    settings = Settings(bins=4, n_boot=100)
    # the statistics once: only drawing (render's share) is forked or serial
    refined = refine(runs, RefineOptions(chain=("P", "R", "S"), settings=settings))
    opts = C.CompareOptions(spaces=("P", "R"), settings=settings, params=("d", "w0"))
    compared = C.compare_spaces(runs, opts)

    def pages() -> tuple[str, str]:
        return refine_html.render(refined), compare_html.render(compared)

    forked = pages()
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    assert pages() == forked


@needs_fork
def test_an_error_here_stops_the_helper_without_waiting_for_its_task(helped) -> None:
    with parallel.helper(()) as started:
        assert started is not None
        with pytest.raises(ValueError, match="here"):
            parallel.share([(_hangs_in_the_helper, ())], [_wait_for_the_helper, _fails_here])
        assert not started.alive  # killed: not waited on for CHILD_TIMEOUT_S
        theirs, _ = parallel.share([(_echo, (1,))], [])  # a new helper serves the next call
    assert theirs == [1]


def _fails_here() -> None:
    raise ValueError("here")
