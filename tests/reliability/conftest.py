"""The reliability suite prints its tally (faults injected, bad inputs, runs lost, duplicates)."""

from __future__ import annotations

from typing import Any

from reliability_lib import TALLY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.faults_injected or TALLY.bad_inputs_tried or TALLY.concurrent_reads:
        terminalreporter.write_sep("-", TALLY.line())
