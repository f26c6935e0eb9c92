"""The ``looks`` table: the history of a sequential sweep, one row per step per look.

A sequential sweep (``edftools sweep RECIPE --until-decided``) recomputes every look from the
runs in the store after each round and replaces its rows here in one transaction, so the table
always matches the runs. ``refine`` reads it to report the sequential verdicts and draw each
step's p-values against its rejection levels.

A looks file written before schema v7 has no ``p_futility``/``level_futility``: it imports
with those NULL (:data:`OPTIONAL_LOOK_COLUMNS`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from edftools.errors import StoreError
from edftools.files import atomic_write
from edftools.store.schema import LOOK_COLUMN_NAMES, LOOK_COLUMNS_V4, utc_now

if TYPE_CHECKING:
    from edftools.store.store import Store

#: Columns a looks file may lack (added after v4; imported as NULL).
OPTIONAL_LOOK_COLUMNS: tuple[str, ...] = tuple(
    name for name in LOOK_COLUMN_NAMES if name not in {n for n, _ in LOOK_COLUMNS_V4}
)


def look_rows(
    sweep: str,
    records: Sequence[Any],
    spaces: Sequence[tuple[str, str]],
    design: dict[str, Any],
) -> list[dict[str, Any]]:
    """Rows of the ``looks`` table from :class:`~edftools.stats.sequential.LookRecord`s;
    ``spaces[i]`` = (parent, restricted) names of step i; ``design`` is stored as JSON."""
    now = utc_now()
    text = json.dumps(design, sort_keys=True)
    rows = []
    for r in records:
        res = r.result
        rows.append(
            {
                "sweep": sweep,
                "look": r.look,
                "step": r.step,
                "parent": spaces[r.step][0],
                "restricted": spaces[r.step][1],
                "n_parent": r.n_parent,
                "n_restricted": r.n_restricted,
                "fraction": r.fraction,
                "d_better": res.better,
                "d_worse": res.worse,
                "loss": res.loss,
                "p_better": res.p_better,
                "p_worse": res.p_worse,
                "p_no_loss": res.p_no_loss,
                "level_better": r.levels[0],
                "level_worse": r.levels[1],
                "level_no_loss": r.levels[2],
                "rejected_better": r.rejected[0],
                "rejected_worse": r.rejected[1],
                "rejected_no_loss": r.rejected[2],
                "n_perm": res.n_perm,
                "borderline": res.borderline,
                "verdict": res.verdict,
                "decided": r.decided,
                "design": text,
                "created_at": now,
                "p_futility": r.p_futility,
                "level_futility": r.level_futility,
            }
        )
    return rows


def replace_looks(store: Store, sweep: str, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the ``looks`` rows of ``sweep`` with ``rows``, in one transaction."""
    frame = pd.DataFrame(list(rows), columns=list(LOOK_COLUMN_NAMES))
    with store.transaction() as con:
        con.execute("DELETE FROM looks WHERE sweep = ?", [sweep])
        if len(frame):
            con.register("new_looks", frame)
            cols = ", ".join(LOOK_COLUMN_NAMES)
            con.execute(f"INSERT INTO looks ({cols}) SELECT {cols} FROM new_looks")
            con.unregister("new_looks")


def looks_frame(store: Store, sweep: str | None = None) -> pd.DataFrame:
    """The ``looks`` rows (of ``sweep``, or all), ordered by sweep, look and step (empty when
    there are none)."""
    return store.query(
        "SELECT * FROM looks WHERE (? IS NULL OR sweep = ?) ORDER BY sweep, look, step",
        [sweep, sweep],
    )


def is_looks_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a Parquet file of ``looks`` rows (as :func:`export_looks` writes)."""
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
    except Exception:  # not a readable parquet file: not a looks file
        return False
    return {"look", "step", "verdict", "level_no_loss"} <= names


def export_looks(store: Store, out: str | os.PathLike[str], sweep: str | None = None) -> int:
    """Write the ``looks`` rows (of ``sweep``, or all) to a Parquet file; returns the count."""
    frame = looks_frame(store, sweep)
    if frame.empty:
        raise StoreError("no looks to export" + (f" in sweep {sweep!r}" if sweep else ""))
    with atomic_write(out) as tmp:
        frame[list(LOOK_COLUMN_NAMES)].to_parquet(tmp, index=False)
    return len(frame)


def import_looks(store: Store, path: str | os.PathLike[str]) -> int:
    """Replace each sweep's ``looks`` rows with those of a Parquet file (one transaction per
    sweep); returns the number of rows. Columns of :data:`OPTIONAL_LOOK_COLUMNS` the file
    lacks (a file exported before schema v7) are NULL."""
    frame = pd.read_parquet(path)
    missing = [
        c for c in LOOK_COLUMN_NAMES if c not in frame.columns and c not in OPTIONAL_LOOK_COLUMNS
    ]
    if missing:
        raise StoreError(f"{Path(path).name}: not a looks file (missing {', '.join(missing)})")
    for name in OPTIONAL_LOOK_COLUMNS:
        if name not in frame.columns:
            frame[name] = None
    for sweep, part in frame.groupby("sweep", sort=False):
        records = part[list(LOOK_COLUMN_NAMES)].to_dict("records")
        replace_looks(store, str(sweep), [{str(k): v for k, v in r.items()} for r in records])
    return len(frame)
