"""Suite-wide collection order: the modules with the longest tests run first.

`make test` runs pytest-xdist with ``--dist worksteal``: each worker starts on its own slice
of the collection order and idle workers steal from the end of the others' queues. Tests that
train sweeps in subprocesses, start Ray or a browser take 5-20 s each; collected first, they
start at once and the last minute is many short tests spread over every worker, not one long
test on one worker while the others wait. The order within a module is kept, so module- and
session-scoped fixtures are built once per worker as before.
"""

from __future__ import annotations

import pytest

LONG_FIRST = (
    "tests/train/test_ray_executor.py",
    "tests/reliability/",
    "tests/test_docs.py",
    "tests/test_study.py",
    "tests/train/test_sweep.py",
    "tests/report/test_parallel.py",
    # the three modules of the demo_result session fixture (a whole demo, ~10 s), side by side
    # near the front of one worker's slice: built once, not once per worker
    "tests/report/test_browser.py",
    "tests/report/test_demo.py",
    "tests/report/test_html.py",
)


def _rank(item: pytest.Item) -> int:
    """The position of the item's module in LONG_FIRST; every other module after them."""
    return next(
        (i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)),
        len(LONG_FIRST),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: collection order within each rank
