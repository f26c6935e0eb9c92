"""Import pycls sweep files, the NDS data release, CSV and Parquet tables; export runs.

Import is all-or-nothing: :func:`load_import_file` reads and validates the whole file first
(no store is touched, none is created), then :meth:`Store.write_batch` inserts every row in one
transaction. A malformed file raises :class:`StoreError` naming the record and the field:
``record K`` is the 0-based index in a pycls JSON list, ``row K`` the 1-based data row of a
table. The NDS release's format is :mod:`edftools.store.nds`; a ``.json`` file is read as NDS
when it looks like it (``{top, mid}`` lists, or records with a ``net``), else as pycls.

Tables (CSV/Parquet) need the columns ``space`` (or ``--space``), ``error`` and at least one of
``flops``, ``params``, ``acts``; every other ``runs`` column is optional, plus ``epoch_log`` (a
JSON list of epoch objects) — exactly what :func:`export_runs` writes, so export → import
round-trips a store's runs and epochs. Unknown columns are an error.

The sweeps table travels too: :func:`export_runs` writes a ``sweep_recipe`` column holding the
sweep's stored recipe (the text whose sha256 is its ``recipe_hash``) on the first row of each
sweep, empty elsewhere, and the import registers each sweep with that recipe — so an exported
study continues on another store with the same recipe (a plain sweep or ``--until-decided``).
A file without it registers its sweeps as ``imported from <file>``. A sweep already in the
store with another recipe is an error (a placeholder ``imported from …`` recipe is replaced).

Rules: ``--space``/``--sweep`` override the file's values; without them a row's sweep
defaults to the file's stem (pycls: the space too). A row without ``run_id`` gets the
deterministic id ``imp-<sha256 of its content>[:16]``. Duplicate run ids within the file are an
error; run ids already in the store are an error unless ``replace=True`` (``--replace``),
which deletes the stored runs and their epochs in the same transaction.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edftools.errors import StoreError
from edftools.files import atomic_write
from edftools.spaces.complexity import METRICS
from edftools.store import schema
from edftools.store.connection import one_line
from edftools.store.nds import (
    link_reruns,
    mismatch_notes,
    nds_job_row,
    nds_records,
    replicate_file,
)
from edftools.store.pycls import pycls_job_row
from edftools.store.rows import (
    RUN_KINDS,
    ImportBatch,
    bounded_json,
    content_run_id,
    validate_epoch_rows,
    validate_run_row,
)
from edftools.store.store import Store, open_store
from edftools.store.sweeps import PLACEHOLDER_PREFIX

IMPORT_FORMATS: tuple[str, ...] = ("pycls", "nds", "csv", "parquet")
EXPORT_FORMATS: tuple[str, ...] = ("parquet", "csv")
#: File suffix -> export format, when ``--format`` is not given.
EXPORT_SUFFIXES: dict[str, str] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
EPOCH_LOG = "epoch_log"
SWEEP_RECIPE = "sweep_recipe"
#: Extra columns of an export beside the ``runs`` columns.
EXPORT_EXTRAS: tuple[str, ...] = (EPOCH_LOG, SWEEP_RECIPE)
_SUFFIXES = {".json": "pycls", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def infer_format(path: str | os.PathLike[str], data: Any = None) -> str:
    """The import format implied by a file's suffix (.json, .csv, .parquet/.pq).

    A ``.json`` file is ``nds`` when ``data`` (its parsed content) looks like the NDS release
    (``{"top", "mid"}`` lists, or records with a ``net``), else ``pycls``.
    """
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise StoreError(
            f"cannot tell the format of {path}; pass --format {'|'.join(IMPORT_FORMATS)}"
        )
    if fmt == "pycls" and _looks_like_nds(data):
        return "nds"
    return fmt


def _looks_like_nds(data: Any) -> bool:
    if isinstance(data, Mapping):
        return bool(data) and set(data) <= {"top", "mid"}
    first = data[0] if isinstance(data, list) and data else None
    return isinstance(first, Mapping) and "net" in first and "cfg" not in first


def load_import_file(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    space: str | None = None,
    sweep: str | None = None,
) -> ImportBatch:
    """Read and validate a whole import file into an :class:`ImportBatch` (nothing written)."""
    path = Path(path)
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise StoreError(f"unknown import format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}")
    if fmt is None:
        infer_format(path)  # an unknown suffix fails before the file is read
    if not path.is_file():
        raise StoreError(f"no such file: {path}")
    data = _read_json(path) if fmt in ("pycls", "nds") or path.suffix.lower() == ".json" else None
    fmt = fmt or infer_format(path, data)
    recipes: dict[str, str] = {}
    if fmt == "pycls":
        runs, epochs, notes = _read_pycls(path, data, space, sweep)
    elif fmt == "nds":
        runs, epochs, notes = _read_nds(path, data, space, sweep)
    else:
        runs, epochs, notes, recipes = _read_table(path, fmt, space, sweep)
    placeholder = f"{PLACEHOLDER_PREFIX}{path.name} (format {fmt})"
    sweeps = {r["sweep"]: recipes.get(r["sweep"], placeholder) for r in runs}
    return ImportBatch(str(path), tuple(runs), tuple(epochs), sweeps, tuple(notes))


def _finish_row(
    row: dict[str, Any], content: Mapping[str, Any], where: str, fmt: str
) -> dict[str, Any]:
    if row.get("run_id") is None:
        row["run_id"] = content_run_id("imp", content)
        where = f"{where} (run id {row['run_id']})"
    if row.get("source") is None:
        row["source"] = f"import:{fmt}"
    if row.get("created_at") is None:
        row["created_at"] = schema.utc_now()
    return validate_run_row(row, where)


def _check_unique(runs: list[dict[str, Any]], wheres: list[str]) -> None:
    first: dict[str, str] = {}
    for run, where in zip(runs, wheres, strict=True):
        if run["run_id"] in first:
            raise StoreError(
                f"{where}: field 'run_id': duplicate run id {run['run_id']!r} "
                f"(also {first[run['run_id']]})"
            )
        first[run["run_id"]] = where.split(": ", 1)[-1]


def _read_json(path: Path) -> Any:
    try:
        return bounded_json(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{path.name}: not a readable JSON file ({one_line(exc)})") from None


def _read_nds(
    path: Path, data: Any, space: str | None, sweep: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    runs, epochs, wheres, mismatches = [], [], [], []
    untranslated: dict[str, int] = {}
    space = space or path.stem
    for where, job in nds_records(data, path.name):
        row, epoch_rows, reason, mismatch = nds_job_row(job, where, space)
        if reason:
            untranslated[reason] = untranslated.get(reason, 0) + 1
        if mismatch:
            mismatches.append(f"{where}: {mismatch}")
        row["space"] = space
        row["sweep"] = sweep or path.stem
        content = {"nds": job, "where": where, "space": row["space"], "sweep": row["sweep"]}
        run = _finish_row(row, content, where, "nds")
        runs.append(run)
        wheres.append(where)
        epochs.extend(validate_epoch_rows(run["run_id"], epoch_rows, where))
    _check_unique(runs, wheres)
    notes = [
        f"{count} record(s) imported without a config: {why} has no NetConfig equivalent"
        for why, count in sorted(untranslated.items())
    ]
    return runs, epochs, notes + mismatch_notes(mismatches)


def _read_pycls(
    path: Path, jobs: Any, space: str | None, sweep: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    if not isinstance(jobs, list) or not jobs:
        raise StoreError(f"{path.name}: expected a non-empty JSON list of job records")
    runs, epochs, wheres = [], [], []
    untranslated: dict[str, int] = {}
    unfinished = {"failed": 0, "incomplete": 0}
    for index, job in enumerate(jobs):
        where = f"{path.name}: record {index}"
        row, epoch_rows, note = pycls_job_row(job, where)
        if note:
            untranslated[note] = untranslated.get(note, 0) + 1
        row["space"] = space or path.stem
        row["sweep"] = sweep or path.stem
        run = _finish_row(
            row, {"pycls": job, "space": row["space"], "sweep": row["sweep"]}, where, "pycls"
        )
        runs.append(run)
        wheres.append(where)
        epochs.extend(validate_epoch_rows(run["run_id"], epoch_rows, where, strict=True))
        if run["status"] in unfinished:
            unfinished[run["status"]] += 1
    _check_unique(runs, wheres)
    notes = [
        f"{count} record(s) imported without a config: {why} has no NetConfig equivalent"
        for why, count in sorted(untranslated.items())
    ]
    if unfinished["failed"]:
        notes.append(f"{unfinished['failed']} job(s) logged no test epoch: stored as failed")
    if unfinished["incomplete"]:
        notes.append(
            f"{unfinished['incomplete']} job(s) stopped before their last epoch: stored as "
            "incomplete (not in ok_runs)"
        )
    return runs, epochs, notes


def _read_arrow(path: Path, fmt: str) -> Any:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pcsv

        with path.open(newline="") as handle:
            names = next(csv.reader(handle), [])
        text_columns = [n for n, k in RUN_KINDS.items() if k == "str"] + list(EXPORT_EXTRAS)
        types = {n: pa.string() for n in names if n in text_columns}
        convert = pcsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True
        )
        return pcsv.read_csv(path, convert_options=convert)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StoreError(f"{path.name}: not a readable {fmt} table ({one_line(exc)})") from None


def _read_table(
    path: Path, fmt: str, space: str | None, sweep: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], dict[str, str]]:
    """Runs, epochs, notes and the carried recipe of each sweep (``sweep_recipe``)."""
    table = _read_arrow(path, fmt)
    # pandas writes a non-default index as "__index_level_K__" columns: not data, dropped.
    table = table.drop_columns([c for c in table.column_names if c.startswith("__index_level_")])
    columns = list(table.column_names)
    unknown = [c for c in columns if c not in RUN_KINDS and c not in EXPORT_EXTRAS]
    if unknown:
        raise StoreError(f"{path.name}: unknown column {unknown[0]!r} (see `edftools import -h`)")
    required = [c for c in ("space", "error") if c not in columns and not (c == "space" and space)]
    if required:
        raise StoreError(f"{path.name}: missing required column {required[0]!r}")
    if not any(c in columns for c in METRICS):
        raise StoreError(f"{path.name}: needs one complexity column: flops, params or acts")
    if table.num_rows == 0:
        raise StoreError(f"{path.name}: the table has no rows")
    import pyarrow as pa

    # A CSV column with one bad cell is read as text: parse the good cells back to numbers so
    # that the error names the bad row, not the first one.
    numeric_text = [
        c
        for c in columns
        if RUN_KINDS.get(c) in ("int", "bigint", "float") and pa.types.is_string(table[c].type)
    ]
    runs, epochs, wheres = [], [], []
    recipes: dict[str, str] = {}
    for index, row in enumerate(table.to_pylist(), start=1):
        for c in numeric_text:
            row[c] = _number_from_text(row[c])
        where = f"{path.name}: row {index}"
        if row.get("run_id") is not None:
            where += f" (run id {row['run_id']})"
        log = row.pop(EPOCH_LOG, None)
        recipe = row.pop(SWEEP_RECIPE, None)
        content = {k: v for k, v in row.items() if v is not None}
        if space:
            row["space"] = content["space"] = space
        if sweep:
            row["sweep"] = content["sweep"] = sweep
        elif row.get("sweep") is None:
            row["sweep"] = content["sweep"] = path.stem
        run = _finish_row(row, content, where, fmt)
        runs.append(run)
        wheres.append(where)
        epochs.extend(
            validate_epoch_rows(run["run_id"], _epoch_log(log, where), where, strict=True)
        )
        _carry_recipe(recipes, run["sweep"], recipe, where)
    _check_unique(runs, wheres)
    return runs, epochs, [], recipes


def _carry_recipe(recipes: dict[str, str], sweep: str, recipe: Any, where: str) -> None:
    """Note a row's ``sweep_recipe`` (one recipe per sweep; empty cells carry nothing)."""
    if recipe is None or recipe == "":
        return
    if not isinstance(recipe, str):
        raise StoreError(f"{where}: field {SWEEP_RECIPE!r}: expected text")
    if recipes.setdefault(sweep, recipe) != recipe:
        raise StoreError(f"{where}: field {SWEEP_RECIPE!r}: sweep {sweep!r} has two recipes")


def _number_from_text(value: Any) -> Any:
    """``'5'`` → 5, ``'2.5'`` → 2.5; anything else unchanged (validation then names it)."""
    if not isinstance(value, str):
        return value
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            pass
    return value


def _epoch_log(text: Any, where: str) -> list[Mapping[str, Any]]:
    if text is None:
        return []
    if not isinstance(text, str):
        raise StoreError(f"{where}: field {EPOCH_LOG!r}: expected JSON text")
    try:
        value = bounded_json(text)
    except ValueError as exc:
        problem = str(exc) if str(exc).startswith("nested") else "is not valid JSON"
        raise StoreError(f"{where}: field {EPOCH_LOG!r}: {problem}") from None
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise StoreError(f"{where}: field {EPOCH_LOG!r}: expected a JSON list of objects")
    return value


def import_file(
    store: str | os.PathLike[str] | Store | None,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    space: str | None = None,
    sweep: str | None = None,
    replace: bool = False,
) -> ImportBatch:
    """Validate ``path`` completely, then write it to ``store`` in one transaction.

    ``store`` is a writable :class:`Store` or a path (None → the default store, created if
    missing — but only after the file has validated). Returns the imported batch.
    """
    batch = load_import_file(path, fmt, space=space, sweep=sweep)
    target = store if isinstance(store, Store) else open_store(store)
    replicate = replicate_file(Path(path).stem)
    if replicate is not None and batch.runs and batch.runs[0]["source"] == "import:nds":
        batch = _as_reruns(target, batch, space or replicate[0], replicate[1])
    target.write_batch(batch, replace=replace)
    return batch


def _as_reruns(store: Store, batch: ImportBatch, space: str, k: int | None) -> ImportBatch:
    """An NDS seed-replicate file's batch with its rows linked to their stored originals
    (:func:`edftools.store.nds.link_reruns`)."""
    _, originals = store.fetch(
        "SELECT r.run_id, r.sweep, r.config, r.seed, r.error, max(x.replicate) "
        "FROM runs r LEFT JOIN runs x ON x.rerun_of = r.run_id "
        "WHERE r.space = ? AND r.rerun_of IS NULL AND r.config IS NOT NULL "
        "GROUP BY ALL ORDER BY r.run_id",
        [space],
    )
    runs, notes = link_reruns(batch.runs, originals, space, k)
    kept = {r["run_id"] for r in runs}
    sweeps = {r["sweep"]: batch.sweeps.get(r["sweep"], "") for r in runs}
    placeholder = next(iter(batch.sweeps.values()), "")
    return dataclasses.replace(
        batch,
        runs=tuple(runs),
        epochs=tuple(e for e in batch.epochs if e["run_id"] in kept),
        sweeps={name: text or placeholder for name, text in sweeps.items()},
        notes=(*batch.notes, *notes),
    )


def _export_sql(sweep: str | None) -> str:
    cols = ", ".join(f"'{name}', {name}" for name, _ in schema.EPOCH_COLUMNS[1:])
    where = "" if sweep is None else "WHERE r.sweep = '" + sweep.replace("'", "''") + "'"
    order = "r.space, r.created_at, r.run_id"
    return f"""
        SELECT r.*, CAST(e.log AS VARCHAR) AS {EPOCH_LOG},
            CASE WHEN row_number() OVER (PARTITION BY r.sweep ORDER BY {order}) = 1
                THEN s.recipe END AS {SWEEP_RECIPE}
        FROM runs r LEFT JOIN (
            SELECT run_id, to_json(list(json_object({cols}) ORDER BY epoch)) AS log
            FROM epochs GROUP BY run_id
        ) e USING (run_id)
        LEFT JOIN sweeps s ON s.name = r.sweep
        {where}
        ORDER BY r.sweep, {order}"""


def export_runs(
    store: Store,
    out: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    sweep: str | None = None,
) -> int:
    """Write the ``runs`` rows (of ``sweep``, or all) with an ``epoch_log`` column and the
    sweep's recipe (``sweep_recipe``, on each sweep's first row) to ``out``.

    ``fmt`` is ``parquet`` or ``csv`` (default: from the suffix of ``out``). The file is
    written to a temporary name and renamed, so a failed export leaves no partial file.
    Returns the number of runs written.
    """
    out = Path(out)
    if fmt is None:
        fmt = EXPORT_SUFFIXES.get(out.suffix.lower())
        if fmt is None:
            suffixes = ", ".join(EXPORT_SUFFIXES)
            raise StoreError(
                f"cannot tell the export format of {out.name!r} from its suffix; choose one with "
                f"--format ({', '.join(EXPORT_FORMATS)}) or name the file {suffixes}"
            )
    if fmt not in EXPORT_FORMATS:
        raise StoreError(
            f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}"
        )
    count_sql = "SELECT count(*) FROM runs WHERE ? IS NULL OR sweep = ?"
    n = int(store.fetch(count_sql, [sweep, sweep])[1][0][0])
    if n == 0:
        raise StoreError("no runs to export" + (f" in sweep {sweep!r}" if sweep else ""))
    if out.parent and not out.parent.is_dir():
        raise StoreError(f"output folder {out.parent} does not exist")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    try:
        with atomic_write(out) as tmp, store.connect() as con:
            target = str(tmp).replace("'", "''")
            con.execute(f"COPY ({_export_sql(sweep)}) TO '{target}' ({options})")
    except Exception as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"export to {out} failed: {one_line(exc)}") from None
    return n
