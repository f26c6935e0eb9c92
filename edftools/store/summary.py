"""What a store holds, in a few numbers: :func:`store_summary` (``edftools info``).

Four grouped queries in one read-only connection (sweeps; runs by sweep and status, by sweep
and space, by sweep, dataset and resolution), so it stays quick on stores of 10^5 runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from edftools.store import schema
from edftools.store.store import Store
from edftools.terminal import printable

#: The run statuses, in the order a summary lists them.
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed")


@dataclass(frozen=True)
class DataKey:
    """A dataset and image resolution (either None when the runs did not record it)."""

    dataset: str | None
    resolution: int | None

    def __str__(self) -> str:
        name = self.dataset if self.dataset is not None else "unknown dataset"
        return name if self.resolution is None else f"{name} at {self.resolution} px"


@dataclass(frozen=True)
class SweepSummary:
    """One sweep: when it was registered, its runs by status, space and dataset."""

    name: str
    created_at: datetime | None
    statuses: dict[str, int] = field(default_factory=dict)
    spaces: dict[str, int] = field(default_factory=dict)
    datasets: dict[DataKey, int] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class StoreSummary:
    """A store's file, schema version and sweeps (ordered by creation time, then name)."""

    path: Path
    file_bytes: int
    schema_version: int
    sweeps: tuple[SweepSummary, ...]

    @property
    def statuses(self) -> dict[str, int]:
        """Runs by status over every sweep (ok, diverged, failed first; then any other)."""
        total: Counter[str] = Counter()
        for s in self.sweeps:
            total.update(s.statuses)
        return _ordered_statuses(total)

    @property
    def datasets(self) -> dict[DataKey, int]:
        """Runs by (dataset, resolution) over every sweep, most runs first."""
        total: Counter[DataKey] = Counter()
        for s in self.sweeps:
            total.update(s.datasets)
        return dict(sorted(total.items(), key=lambda kv: (-kv[1], str(kv[0]))))

    @property
    def n_runs(self) -> int:
        return sum(s.n_runs for s in self.sweeps)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the summary (timestamps as ISO text)."""

        def data(counts: dict[DataKey, int]) -> list[dict[str, Any]]:
            return [
                {"dataset": k.dataset, "resolution": k.resolution, "runs": n}
                for k, n in counts.items()
            ]

        return {
            "path": str(self.path),
            "file_bytes": self.file_bytes,
            "schema_version": self.schema_version,
            "runs": self.n_runs,
            "statuses": self.statuses,
            "datasets": data(self.datasets),
            "sweeps": [
                {
                    "name": s.name,
                    "created_at": None if s.created_at is None else s.created_at.isoformat(),
                    "runs": s.n_runs,
                    "statuses": s.statuses,
                    "spaces": s.spaces,
                    "datasets": data(s.datasets),
                }
                for s in self.sweeps
            ],
        }


def _ordered_statuses(counts: Counter[str] | dict[str, int]) -> dict[str, int]:
    known = [s for s in STATUSES if counts.get(s)]
    return {s: int(counts[s]) for s in [*known, *sorted(set(counts) - set(STATUSES))]}


def store_summary(store: Store) -> StoreSummary:
    """Summarize ``store``: file size, schema version, and per sweep its ``created_at``, its
    runs by status, by space and by (dataset, resolution). A sweep registered without runs
    is listed with zero runs; runs whose sweep is not registered are listed too."""
    with store.connect(read_only=True) as con:
        version = schema.stored_version(con)
        created = dict(con.execute("SELECT name, created_at FROM sweeps").fetchall())
        by_status = con.execute(
            "SELECT sweep, status, count(*) FROM runs GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        by_space = con.execute(
            "SELECT sweep, space, count(*) FROM runs GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        by_data = con.execute(
            "SELECT sweep, dataset, resolution, count(*) FROM runs GROUP BY ALL "
            "ORDER BY 4 DESC, 2 NULLS LAST, 3 NULLS LAST"
        ).fetchall()
    names = set(created) | {r[0] for r in by_status}
    statuses: dict[str, Counter[str]] = {n: Counter() for n in names}
    spaces: dict[str, dict[str, int]] = {n: {} for n in names}
    datasets: dict[str, dict[DataKey, int]] = {n: {} for n in names}
    for sweep, status, n in by_status:
        statuses[sweep][status] += int(n)
    for sweep, space, n in by_space:
        spaces[sweep][str(space)] = int(n)
    for sweep, dataset, resolution, n in by_data:
        key = DataKey(dataset, None if resolution is None else int(resolution))
        datasets[sweep][key] = int(n)

    def order(name: str) -> tuple[bool, datetime, str]:
        when = created.get(name)
        return (when is None, when or datetime.min, name)

    sweeps = tuple(
        SweepSummary(n, created.get(n), _ordered_statuses(statuses[n]), spaces[n], datasets[n])
        for n in sorted(names, key=order)
    )
    return StoreSummary(store.path, store.path.stat().st_size, version, sweeps)


def format_summary(summary: StoreSummary) -> str:
    """The summary as short aligned text (``edftools info``); control characters in names are
    shown escaped (:func:`edftools.terminal.printable`)."""

    def counts(items: dict[Any, int]) -> str:
        return ", ".join(f"{printable(str(k))}: {n}" for k, n in items.items()) or "none"

    lines = [
        f"store     {printable(str(summary.path))}",
        f"file      {_size(summary.file_bytes)}, schema v{summary.schema_version}",
        f"runs      {summary.n_runs}"
        + (f" ({counts(summary.statuses)})" if summary.n_runs else ""),
        f"datasets  {counts(summary.datasets)}",
        f"sweeps    {len(summary.sweeps)}",
    ]
    for s in summary.sweeps:
        when = (
            "not registered"
            if s.created_at is None
            else f"created {s.created_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        lines += [
            "",
            f"sweep {printable(s.name)}  ({when}; {s.n_runs} runs: {counts(s.statuses)})",
            f"  spaces    {counts(s.spaces)}",
            f"  datasets  {counts(s.datasets)}",
        ]
    return "\n".join(lines)


def _size(n: int) -> str:
    """``512 B``, ``1.5 MiB``: a file size in binary units."""
    size, unit = float(n), "B"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
