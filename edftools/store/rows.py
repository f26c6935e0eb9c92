"""Rows of the ``runs`` and ``epochs`` tables: flattening configs, validating and typing values.

Both writers — the sweep's :meth:`Store.write_run` and the importers — turn their input into
plain row dicts, pass every row through :func:`validate_run_row` (which names the row and the
field of the first problem it finds in a :class:`StoreError`) and insert them in one
transaction with :func:`insert_rows`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from edftools.errors import ConfigError, StoreError
from edftools.measures import METRICS
from edftools.records import FAILURE_KINDS, RUN_STATUSES
from edftools.store import schema
from edftools.store.schema import (
    EPOCH_COLUMNS,
    MAX_STAGES,
    RUN_COLUMNS,
    STAGE_FIELDS,
)

if TYPE_CHECKING:
    from edftools.records import RunRecord

RUN_KINDS: dict[str, str] = dict(RUN_COLUMNS)
EPOCH_KINDS: dict[str, str] = dict(EPOCH_COLUMNS)
CONFIG_COLUMNS: tuple[str, ...] = (
    "block_type",
    "stem_type",
    "stem_width",
    "resolution",
    "num_stages",
    "depth",
    *(f"{p}{i}" for p, _ in STAGE_FIELDS for i in range(1, MAX_STAGES + 1)),
    "w0",
    "wa",
    "wm",
)
REGNET_EXTRA_KEYS: tuple[str, ...] = ("w0", "wa", "wm")
ERROR_TOLERANCE = 1e-6
#: The error columns (percent): ``error`` first.
ERROR_COLUMNS: tuple[str, ...] = ("error", "best_error", "ema_error", "ema_best_error")


#: The deepest nesting of lists and objects an imported JSON text may have (pycls's job records
#: nest about 5 deep); deeper input is refused before anything recurses over it.
MAX_JSON_DEPTH = 64


def bounded_json(text: str | bytes) -> Any:
    """``json.loads(text)``, refusing nesting deeper than :data:`MAX_JSON_DEPTH` levels.

    Every failure is a ``ValueError`` (a ``[`` repeated 10^5 times would otherwise raise
    ``RecursionError`` inside the parser).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return value


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_run_id(prefix: str, content: Any) -> str:
    """Deterministic id ``prefix-<first 16 hex of sha256(JSON of content, sorted keys)>``.

    Values JSON cannot hold (timestamps, NaN) are written as their ``str``.
    """
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def flatten_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``runs`` columns derived from a ``NetConfig`` dict (all NULL when ``config`` is None).

    Stage ``i`` (1-based, up to ``MAX_STAGES``) gives ``d{i}, w{i}, b{i}, g{i}``; ``depth`` is
    ``sum(d_i)``; ``w0, wa, wm`` come from the config's ``extra`` when present.
    """
    out: dict[str, Any] = dict.fromkeys(CONFIG_COLUMNS)
    if config is None:
        return out
    stages = list(config["stages"])
    out["block_type"] = config.get("block_type")
    out["stem_type"] = config.get("stem_type")
    out["stem_width"] = config.get("stem_width")
    out["resolution"] = config.get("resolution")
    out["num_stages"] = len(stages)
    out["depth"] = sum(int(s["depth"]) for s in stages)
    for i, stage in enumerate(stages[:MAX_STAGES], start=1):
        for prefix, attr in STAGE_FIELDS:
            out[f"{prefix}{i}"] = stage[attr]
    extra = config.get("extra") or {}
    for key in REGNET_EXTRA_KEYS:
        if extra.get(key) is not None:
            out[key] = float(extra[key])
    return out


def _fail(where: str, field: str, problem: str) -> StoreError:
    if len(problem) > 120:
        problem = problem[:117] + "..."
    return StoreError(f"{where}: field {field!r}: {problem}")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas NA / NaT without importing pandas
    return type(value).__name__ in ("NAType", "NaTType")


def coerce_value(kind: str, value: Any, where: str, field: str) -> Any:
    """``value`` as the Python type of a column of ``kind`` (None for missing); else StoreError."""
    if _is_missing(value):
        return None
    if kind == "str":
        if not isinstance(value, str):
            raise _fail(where, field, f"expected text, got {value!r}")
        return value
    if kind in ("int", "bigint"):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise _fail(where, field, f"expected an integer, got {value!r}")
        if not isinstance(value, Integral) and not float(value).is_integer():
            raise _fail(where, field, f"expected an integer, got {value!r}")
        number = int(value) if isinstance(value, Integral) else int(float(value))
        limit = 2**31 if kind == "int" else 2**63
        if not -limit <= number < limit:
            raise _fail(where, field, f"integer {number} out of range")
        return number
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, Real):
            raise _fail(where, field, f"expected a number, got {value!r}")
        return float(value)
    if kind == "ts":
        return _as_timestamp(value, where, field)
    raise ValueError(f"unknown column kind {kind!r}")


def _as_timestamp(value: Any, where: str, field: str) -> datetime:
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail(where, field, f"expected a timestamp, got {value!r}") from None
    if not isinstance(value, datetime):
        raise _fail(where, field, f"expected a timestamp, got {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _check_json_object(text: str | None, where: str, field: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = bounded_json(text)
    except ValueError as exc:
        problem = str(exc) if str(exc).startswith("nested") else "is not valid JSON"
        raise _fail(where, field, problem) from None
    if not isinstance(value, dict):
        raise _fail(where, field, "must be a JSON object")
    return value


def _check_percent(row: dict[str, Any], field: str, where: str) -> None:
    value = row[field]
    if value is None:
        return
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise _fail(where, field, f"must be a percentage in [0, 100], got {value!r}")


def validate_run_row(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check one ``runs`` row and return it with every column, typed (missing → None).

    Rules: ``run_id``, ``sweep``, ``space`` non-empty text; ``status`` in
    ``ok|diverged|failed|incomplete`` (default ``ok``); ``error`` in [0, 100] and finite, NULL
    only for a failed run; a NaN in any error column of an ``ok`` run is refused (as a NaN
    ``error`` always was), elsewhere it means NULL; ``best_error`` in [0, 100] and
    ``<= error`` (likewise ``ema_best_error <= ema_error``); ``flops, params, acts``
    non-negative with at least one present (a failed run may have none: an imported job that
    crashed before logging any);
    ``config`` a valid ``NetConfig`` JSON whose flattened columns agree with any given ones;
    ``failure_kind`` NULL or, for a failed run, ``environment|config``;
    ``versions`` and ``optim`` JSON objects; ``train_seconds`` finite and non-negative;
    ``rerun_of`` NULL or another run's id, ``replicate`` NULL or, with ``rerun_of``, >= 1.
    """
    unknown = sorted(set(row) - set(RUN_KINDS))
    if unknown:
        raise _fail(where, unknown[0], "unknown column")
    if (row.get("status") or "ok") == "ok":  # NaN is "no value" only where error may be NULL
        for name in ERROR_COLUMNS[1:]:
            value = row.get(name)
            if isinstance(value, float) and math.isnan(value):
                raise _fail(where, name, "is NaN (status ok); leave it empty for no value")
    out = {name: coerce_value(kind, row.get(name), where, name) for name, kind in RUN_COLUMNS}
    for name in ("run_id", "sweep", "space"):
        if not out[name] or not out[name].strip():
            raise _fail(where, name, "is missing or empty")
    if out["status"] is None:
        out["status"] = "ok"
    if out["status"] not in RUN_STATUSES:
        raise _fail(where, "status", f"must be one of {', '.join(RUN_STATUSES)}")
    kind = out["failure_kind"]
    if kind is not None and (out["status"] != "failed" or kind not in FAILURE_KINDS):
        raise _fail(
            where, "failure_kind", f"must be NULL, or for a failed run one of {FAILURE_KINDS}"
        )
    if out["error"] is None and out["status"] != "failed":
        raise _fail(where, "error", f"is missing or NaN (status {out['status']})")
    for final, best in (("error", "best_error"), ("ema_error", "ema_best_error")):
        _check_percent(out, final, where)
        _check_percent(out, best, where)
        if (
            out[final] is not None
            and out[best] is not None
            and out[best] > out[final] + ERROR_TOLERANCE
        ):
            raise _fail(where, best, f"{out[best]} exceeds {final} {out[final]}")
    if all(out[c] is None for c in METRICS) and out["status"] != "failed":
        raise _fail(where, "flops", "one of flops, params, acts is required")
    for name, kind in RUN_COLUMNS:
        if kind in ("int", "bigint") and name != "seed" and (out[name] or 0) < 0:
            raise _fail(where, name, f"must be non-negative, got {out[name]}")
    seconds = out["train_seconds"]
    if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
        raise _fail(where, "train_seconds", f"must be finite and >= 0, got {seconds}")
    for name in ("w0", "wa", "wm", *(f"b{i}" for i in range(1, MAX_STAGES + 1))):
        if out[name] is not None and not math.isfinite(out[name]):
            raise _fail(where, name, f"must be finite, got {out[name]}")
    _check_rerun(out, where)
    _check_json_object(out["versions"], where, "versions")
    _check_json_object(out["optim"], where, "optim")
    _check_config(out, row, where)
    return out


def _check_rerun(out: dict[str, Any], where: str) -> None:
    """``rerun_of`` names another run (not empty, not itself); ``replicate`` >= 1 goes with it."""
    rerun_of, replicate = out["rerun_of"], out["replicate"]
    if rerun_of is not None and (not rerun_of.strip() or rerun_of == out["run_id"]):
        raise _fail(where, "rerun_of", "must be the run id of another run")
    if replicate is not None and (rerun_of is None or replicate < 1):
        raise _fail(where, "replicate", "must be NULL, or >= 1 for a rerun (rerun_of set)")


def _check_config(out: dict[str, Any], given: Mapping[str, Any], where: str) -> None:
    parsed = _check_json_object(out["config"], where, "config")
    if parsed is None:
        return
    from edftools.spaces.config import NetConfig

    try:
        config = NetConfig.from_dict(parsed)
    except (ConfigError, ValueError, TypeError, AttributeError) as exc:
        raise _fail(where, "config", f"is not a valid network config ({exc})") from None
    out["config"] = canonical_json(config.to_dict())
    for name, derived in flatten_config(config.to_dict()).items():
        stated = out[name]
        if _is_missing(given.get(name)):
            out[name] = derived
        elif not _same_value(stated, derived):
            raise _fail(where, name, f"{stated!r} disagrees with the config ({derived!r})")


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)


EPOCH_PERCENT_COLUMNS: tuple[str, ...] = ("train_error", "test_error")


def validate_epoch_rows(
    run_id: str, epochs: Iterable[Mapping[str, Any]], where: str, strict: bool = False
) -> list[dict[str, Any]]:
    """Check the epochs of one run: integer ``epoch >= 0``, each epoch once.

    Errors must lie in [0, 100]. A non-finite metric — the loss of a diverging run — is stored
    as NULL, or with ``strict`` (imported files) is a StoreError naming the epoch entry and
    field. So whatever is stored exports and re-imports unchanged.
    """
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for k, epoch in enumerate(epochs):
        here = f"{where}, epoch entry {k}"
        unknown = sorted(set(epoch) - set(EPOCH_KINDS) - {"run_id"})
        if unknown:
            raise _fail(here, unknown[0], "unknown epoch field")
        row: dict[str, Any] = {"run_id": run_id}
        for name, kind in EPOCH_COLUMNS[1:]:
            raw = epoch.get(name)
            finite = not isinstance(raw, Real) or isinstance(raw, bool) or math.isfinite(raw)
            if strict and not finite:
                raise _fail(here, name, f"must be finite, got {raw!r}")
            value = coerce_value(kind, raw, here, name) if finite else None
            out_of_range = value is not None and not 0.0 <= value <= 100.0
            if name in EPOCH_PERCENT_COLUMNS and out_of_range:
                raise _fail(here, name, f"must be a percentage in [0, 100], got {value!r}")
            row[name] = value
        if row["epoch"] is None or row["epoch"] < 0:
            raise _fail(here, "epoch", "must be an integer >= 0")
        if row["epoch"] in seen:
            raise _fail(here, "epoch", f"epoch {row['epoch']} appears twice")
        seen.add(row["epoch"])
        out.append(row)
    return out


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "str": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "float": pa.float64(),
        "ts": pa.timestamp("us"),
    }[kind]


def _arrow_table(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]]) -> Any:
    import pyarrow as pa

    arrays = [pa.array([r[name] for r in rows], type=_arrow_type(kind)) for name, kind in columns]
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])


SMALL_BATCH_VALUES = 4000  # up to this many parameters, plain VALUES beat an Arrow scan


def _insert_values(
    con: Any, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]]
) -> None:
    names = [name for name, _ in columns]
    row_marks = "(" + ", ".join("?" * len(names)) + ")"
    con.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES " + ", ".join([row_marks] * len(rows)),
        [row[name] for row in rows for name in names],
    )


def _insert_arrow(
    con: Any, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, Any]]
) -> None:
    view = f"_incoming_{table}"
    con.register(view, _arrow_table(columns, rows))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)


def insert_rows(
    con: Any, runs: Sequence[Mapping[str, Any]], epochs: Sequence[Mapping[str, Any]]
) -> None:
    """Insert validated ``runs`` and ``epochs`` rows (the caller owns the transaction).

    A small batch (one run as the sweep writes it) goes in as parameterized VALUES; a large
    one (an import) as an Arrow table — the same rows either way (tested).
    """
    for table, columns, rows in (("runs", RUN_COLUMNS, runs), ("epochs", EPOCH_COLUMNS, epochs)):
        if not rows:
            continue
        small = len(rows) * len(columns) <= SMALL_BATCH_VALUES
        (_insert_values if small else _insert_arrow)(con, table, columns, rows)


@dataclass(frozen=True)
class ImportBatch:
    """Validated rows from one file, ready for :meth:`Store.write_batch` (see ``importers``)."""

    source: str
    runs: tuple[dict[str, Any], ...]
    epochs: tuple[dict[str, Any], ...]
    sweeps: Mapping[str, str] = field(default_factory=dict)  # sweep name -> recipe text
    notes: tuple[str, ...] = ()


def run_record_row(record: RunRecord) -> dict[str, Any]:
    """The ``runs`` row of a sweep's :class:`RunRecord` (before validation).

    A non-finite ``error`` of a diverged run is stored as 100 (its defined error); any other
    non-finite ``error``/``best_error`` of a diverged or failed run as NULL. An ``ok`` run
    must have a finite error (validation rejects it otherwise).
    """
    result = record.result

    def percent(value: float, diverged_value: float | None) -> float | None:
        value = float(value)
        if math.isfinite(value) or result.status == "ok":
            return value
        return diverged_value if result.status == "diverged" else None

    try:
        config = canonical_json(record.config) if record.config is not None else None
        versions = canonical_json(dict(record.versions))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"run {record.run_id}: config or versions not JSON: {exc}") from None
    return {
        "run_id": record.run_id,
        "sweep": record.sweep,
        "space": record.space,
        "config": config,
        "flops": record.flops,
        "params": record.params,
        "acts": record.acts,
        "dataset": record.dataset,
        "epochs": record.epochs,
        "seed": record.seed,
        "error": percent(result.error, 100.0),
        "best_error": percent(result.best_error, None),
        "status": result.status,
        "message": result.message or None,
        "train_seconds": result.train_seconds,
        "device": result.device,
        "versions": versions,
        "created_at": schema.utc_now(),
        "source": "sweep",
        "failure_kind": result.failure or None,
        "rerun_of": record.rerun_of,
        "replicate": record.replicate,
    }
