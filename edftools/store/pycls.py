"""pycls sweep files → ``runs`` rows.

A pycls sweep file (``sweep.json``, written by pycls's ``sweep_collect``: every job's log parsed
and sorted by epoch) is a JSON list of job records::

    {"cfg": {"MODEL": {"TYPE": "anynet", "NUM_CLASSES": 1000},
             "ANYNET": {"DEPTHS": [...], "WIDTHS": [...], "STRIDES": [...], "BOT_MULS": [...],
                        "GROUP_WS": [...], "STEM_W": 32, "STEM_TYPE": "simple_stem_in",
                        "BLOCK_TYPE": "res_bottleneck_block", "SE_ON": false},
             "REGNET": {"DEPTH": 13, "W0": 24, "WA": 36.44, "WM": 2.49, "GROUP_W": 8, ...},
             "TRAIN": {"DATASET": "imagenet", "IM_SIZE": 224}, "OPTIM": {"MAX_EPOCH": 10},
             "RNG_SEED": 1},
     "complexity": {"flops": ..., "params": ..., "acts": ...},
     "train_epoch": {"epoch": ["1/10", ...], "epoch_ind": [1, ...], "epoch_max": [10, ...],
                     "loss": [...], "top1_err": [...], "lr": [...], "time_epoch": [...]},
     "test_epoch": {"epoch": [...], "epoch_ind": [...], "epoch_max": [...], "top1_err": [...],
                    "min_top1_err": [...]},
     "test_ema_epoch": {... as test_epoch, for the EMA of the weights ...},
     "log_file": ".../stdout.log", "err_file": ".../stderr.log", "err": "<stderr text>"}

Per-epoch values are lists (one entry per logged epoch, sorted); scalars are accepted too.

Mapping: ``error`` = ``top1_err`` of the last test epoch if present, else ``min_top1_err``;
``best_error`` = the minimum of ``min_top1_err`` (else of ``top1_err``); ``ema_error`` and
``ema_best_error`` the same from ``test_ema_epoch`` (pycls's own analysis ranks by
``min(test_ema_epoch.min_top1_err)``); ``dataset``, ``seed``, ``resolution``, ``optim`` from
``TRAIN.DATASET``, ``RNG_SEED``, ``TRAIN.IM_SIZE``, ``OPTIM`` (as a JSON object); epochs
rows from the ``train_epoch``/``test_epoch`` lists when both exist. Config translation:
:mod:`edftools.store.pycls_config`.

Real sweeps have jobs that did not finish, and pycls's analysis keeps the others; so does this:

* a job with no test epoch (it crashed before its first test, or never logged at all) becomes
  a ``failed`` row whose message is the last line of its ``err`` (stderr), or says that no
  epoch was logged; its complexity comes from ``complexity``, else from its translated config;
* a job whose last test epoch is below its ``epoch_max`` (``OPTIM.MAX_EPOCH``) stopped early:
  status ``incomplete``, ``epochs`` = the epochs it finished, message ``stopped after k of n
  epochs`` (``ok_runs`` excludes it); a finished job has status ``ok`` and ``epochs = n``.

The whole file is still rejected (a :class:`StoreError` naming the record and field) when a
present field has the wrong type or shape: only missing logs are tolerated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edftools.errors import StoreError
from edftools.spaces.complexity import METRICS, complexity
from edftools.spaces.config import NetConfig
from edftools.store.pycls_config import get_field, number, translate_config
from edftools.store.rows import canonical_json

MAX_MESSAGE_CHARS = 500
JOB_KEYS = ("cfg", "test_epoch", "log_file", "err")  # a collected job has at least one


def _series(value: Any, path: str, where: str) -> list[float]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise StoreError(f"{where}: field {path!r}: empty list")
    return [number(v, path, where) for v in values]


def _epoch_numbers(stats: Mapping[str, Any], n: int, path: str, where: str) -> list[int]:
    if isinstance(stats.get("epoch_ind"), list):
        values = stats["epoch_ind"]
    elif isinstance(stats.get("epoch"), list):
        values = [str(e).split("/")[0] for e in stats["epoch"]]
    else:
        return list(range(1, n + 1))
    try:
        numbers = [int(float(v)) for v in values]
    except (ValueError, OverflowError, TypeError):  # "x", "inf", None
        raise StoreError(f"{where}: field '{path}.epoch': not epoch numbers") from None
    if len(numbers) != n:
        raise StoreError(f"{where}: field '{path}.epoch': {len(numbers)} entries, expected {n}")
    return numbers


def _epoch_max(stats: Mapping[str, Any], path: str, where: str) -> int | None:
    """The planned number of epochs a test log states (``epoch_max`` or ``"k/n"``)."""
    if isinstance(stats.get("epoch_max"), list) and stats["epoch_max"]:
        return number(stats["epoch_max"][-1], f"{path}.epoch_max", where, integer=True)
    epochs = stats.get("epoch")
    if isinstance(epochs, list) and epochs and "/" in str(epochs[-1]):
        try:
            return int(str(epochs[-1]).split("/")[1])
        except ValueError:
            raise StoreError(f"{where}: field '{path}.epoch': not epoch numbers") from None
    return None


def _test_errors(test: Any, path: str, where: str) -> tuple[float, float, list[float]] | None:
    """``(final error, best error, per-epoch errors)`` of a test log; None if it logged none."""
    if test is None:
        return None
    if not isinstance(test, Mapping):
        raise StoreError(f"{where}: field {path!r}: expected an object")
    if "top1_err" not in test and "min_top1_err" not in test:
        return None
    key = "top1_err" if "top1_err" in test else "min_top1_err"
    errors = _series(test[key], f"{path}.{key}", where)
    best_key = "min_top1_err" if "min_top1_err" in test else "top1_err"
    best = min(_series(test[best_key], f"{path}.{best_key}", where))
    return errors[-1], best, errors


def _epoch_rows(job: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    train, test = job.get("train_epoch"), job.get("test_epoch")
    if not isinstance(train, Mapping) or not isinstance(test, Mapping):
        return []
    if not isinstance(test.get("top1_err"), list):
        return []
    test_err = _series(test["top1_err"], "test_epoch.top1_err", where)
    test_by_epoch = dict(
        zip(_epoch_numbers(test, len(test_err), "test_epoch", where), test_err, strict=True)
    )
    columns = {"train_loss": "loss", "train_error": "top1_err", "lr": "lr", "seconds": "time_epoch"}
    series = {}
    for ours, theirs in columns.items():
        if isinstance(train.get(theirs), list):
            series[ours] = _series(train[theirs], f"train_epoch.{theirs}", where)
    n = max((len(v) for v in series.values()), default=0)
    for ours, values in series.items():
        if len(values) != n:
            raise StoreError(f"{where}: field 'train_epoch.{columns[ours]}': length {len(values)}")
    numbers = _epoch_numbers(train, n, "train_epoch", where) if n else sorted(test_by_epoch)
    rows = []
    for k, epoch in enumerate(numbers):
        row: dict[str, Any] = {"epoch": epoch, "test_error": test_by_epoch.get(epoch)}
        for ours in columns:
            row[ours] = series[ours][k] if ours in series else None
        rows.append(row)
    return rows


def _crash_message(job: Mapping[str, Any], where: str) -> str:
    err = job.get("err")
    if err is not None and not isinstance(err, str):
        raise StoreError(f"{where}: field 'err': expected text, got {type(err).__name__}")
    lines = [line.strip() for line in (err or "").splitlines() if line.strip()]
    text = "no test epoch was logged (the job crashed or never started)"
    if lines:
        text += f": {lines[-1]}"
    return text[:MAX_MESSAGE_CHARS]


def _complexity(job: Mapping[str, Any], config: dict[str, Any] | None, where: str) -> dict:
    cx = job.get("complexity")
    if cx is None:
        if config is None:
            return {}
        return complexity(NetConfig.from_dict(config)).as_dict()
    if not isinstance(cx, Mapping):
        raise StoreError(f"{where}: field 'complexity': expected an object")
    return {
        key: number(cx[key], f"complexity.{key}", where, integer=True)
        for key in METRICS
        if cx.get(key) is not None
    }


def pycls_job_row(job: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """One pycls job record → ``(runs row without run_id/sweep/space, epoch rows, note)``."""
    if not isinstance(job, Mapping):
        raise StoreError(f"{where}: expected a JSON object, got {type(job).__name__}")
    if not any(key in job for key in JOB_KEYS):
        raise StoreError(
            f"{where}: not a pycls job record (none of {', '.join(JOB_KEYS)}); "
            "an NDS release file? use --format nds"
        )
    cfg = job.get("cfg", {})
    if not isinstance(cfg, Mapping):
        raise StoreError(f"{where}: field 'cfg': expected an object")
    if "cfg" not in job and "test_epoch" in job:  # pycls logs its cfg before any epoch
        raise StoreError(f"{where}: field 'cfg': missing (the job logged test epochs)")
    config, note = translate_config(cfg, where) if cfg else (None, "")
    row: dict[str, Any] = {"config": None if config is None else canonical_json(config)}
    row.update(_complexity(job, config, where))
    size = get_field(cfg, "TRAIN.IM_SIZE", where, None)
    row["resolution"] = None if size is None else number(size, "cfg.TRAIN.IM_SIZE", where, True)
    row["dataset"] = get_field(cfg, "TRAIN.DATASET", where, None)
    seed = cfg.get("RNG_SEED")
    row["seed"] = None if seed is None else number(seed, "cfg.RNG_SEED", where, integer=True)
    optim = cfg.get("OPTIM")
    if optim is not None and not isinstance(optim, Mapping):
        raise StoreError(f"{where}: field 'cfg.OPTIM': expected an object")
    row["optim"] = None if optim is None else canonical_json(dict(optim))
    planned = get_field(cfg, "OPTIM.MAX_EPOCH", where, None)
    planned = None if planned is None else number(planned, "cfg.OPTIM.MAX_EPOCH", where, True)
    test = _test_errors(job.get("test_epoch"), "test_epoch", where)
    if test is None:
        row.update(status="failed", message=_crash_message(job, where), epochs=planned)
        return row, [], note
    row["error"], row["best_error"], errors = test
    ema = _test_errors(job.get("test_ema_epoch"), "test_ema_epoch", where)
    if ema is not None:
        row["ema_error"], row["ema_best_error"] = ema[:2]
    stats = job["test_epoch"]
    done = _epoch_numbers(stats, len(errors), "test_epoch", where)[-1]
    total = _epoch_max(stats, "test_epoch", where) or planned
    if total is not None and done < total:
        row.update(status="incomplete", epochs=done, message=f"stopped after {done} of {total}")
        row["message"] += " epochs"
    else:
        row.update(status="ok", epochs=total)
    epoch_rows = _epoch_rows(job, where)
    seconds = [r["seconds"] for r in epoch_rows if r["seconds"] is not None]
    row["train_seconds"] = sum(seconds) if seconds else None
    return row, epoch_rows, note
