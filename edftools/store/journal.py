"""The sweep journal: finished runs that a reader kept from the store, safe on disk.

While a reader holds the store a sweep keeps its finished runs (see
:func:`edftools.train.sweep.execute_plan`). Each kept run is also appended to
``<store>.sweep-<first 12 hex of sha256(sweep name)>.journal`` — one JSON line per run (its
``runs`` row and epoch rows, as :meth:`Store.write_row` takes them), flushed and fsynced — so a
``kill -9`` while the sweep waits loses only the runs in flight, as it always did. The journal
is removed once every kept run is stored; the next sweep of the same sweep replays a journal
left behind (:meth:`RunJournal.replay`) before it plans, skipping runs already stored (a kill
between a commit and the journal's removal). Only the holder of the sweep's lease
(:mod:`edftools.store.lease`) touches the journal. A last line cut short by a kill is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edftools.errors import StoreError
from edftools.store.lease import lease_path
from edftools.store.rows import run_record_row

if TYPE_CHECKING:
    from edftools.records import RunRecord
    from edftools.store.store import Store


def journal_path(store_path: str | os.PathLike[str], sweep: str) -> Path:
    """``<store>.sweep-<sha256(sweep)[:12]>.journal`` (beside the lease file)."""
    return lease_path(store_path, sweep).with_suffix(".journal")


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


class RunJournal:
    """The journal of one sweep on one store."""

    def __init__(self, store_path: str | os.PathLike[str], sweep: str) -> None:
        self.path = journal_path(store_path, sweep)
        self._written: set[str] = set()  # run ids appended by this process

    def keep(self, records: Iterable[RunRecord]) -> None:
        """Append the records not yet in the journal, then flush and fsync.

        A journal that cannot be written (a full disk) is a :class:`StoreError`.
        """
        lines = []
        for record in records:
            if record.run_id in self._written:
                continue
            entry = {
                "run": run_record_row(record),
                "epochs": [asdict(e) for e in record.result.epochs],
            }
            lines.append(json.dumps(entry, default=_text) + "\n")
            self._written.add(record.run_id)
        if not lines:
            return
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("".join(lines))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StoreError(
                f"cannot write the sweep journal {self.path}: {exc.strerror}"
            ) from None

    def clear(self) -> None:
        """Remove the journal (every kept run is stored)."""
        if self._written or self.path.exists():
            self.path.unlink(missing_ok=True)
            self._written.clear()

    def entries(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """``(runs row, epoch rows)`` of every complete line (a cut last line is skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"cannot read the sweep journal {self.path}: {exc}") from None
        out = []
        for number, line in enumerate(text.splitlines(keepends=True), start=1):
            if not line.endswith("\n"):
                break  # the append a kill cut short: that run was in flight
            try:
                entry = json.loads(line)
                out.append((dict(entry["run"]), [dict(e) for e in entry["epochs"]]))
            except (ValueError, KeyError, TypeError):
                raise StoreError(f"{self.path}: line {number} is not a journal entry") from None
        return out

    def replay(self, store: Store, say: Callable[[str], None] | None = None) -> int:
        """Write the runs a killed sweep left in the journal (waiting for readers like any
        sweep write), then remove it; returns how many were written."""
        entries = self.entries()
        written = sum(store.write_row(run, epochs, skip_stored=True) for run, epochs in entries)
        self.clear()
        if entries and say is not None:
            say(
                f"sweep journal {self.path.name}: {written} finished run(s) stored that a "
                f"stopped sweep had kept ({len(entries) - written} were stored already)"
            )
        return written
