"""pycls sweep files → ``runs`` rows.

A pycls sweep file (written by pycls's sweep ``collect`` step) is a JSON list of job records::

    {"cfg": {"MODEL": {"TYPE": "anynet", "NUM_CLASSES": 1000},
             "ANYNET": {"DEPTHS": [...], "WIDTHS": [...], "STRIDES": [...], "BOT_MULS": [...],
                        "GROUP_WS": [...], "STEM_W": 32, "STEM_TYPE": "simple_stem_in",
                        "BLOCK_TYPE": "res_bottleneck_block", "SE_ON": false},
             "REGNET": {"DEPTH": 13, "W0": 24, "WA": 36.44, "WM": 2.49, "GROUP_W": 8, ...},
             "TRAIN": {"DATASET": "imagenet", "IM_SIZE": 224}, "OPTIM": {"MAX_EPOCH": 10},
             "RNG_SEED": 1},
     "complexity": {"flops": ..., "params": ..., "acts": ...},
     "train_epoch": {"epoch": ["1/10", ...], "loss": [...], "top1_err": [...], "lr": [...],
                     "time_epoch": [...]},
     "test_epoch": {"epoch": ["1/10", ...], "top1_err": [...], "min_top1_err": [...]}}

Per-epoch values are lists (one entry per logged epoch, sorted); scalars are accepted too.
Mapping: ``error`` = ``top1_err`` of the last test epoch if present, else ``min_top1_err``;
``best_error`` = the minimum of ``min_top1_err`` (else of ``top1_err``); ``dataset``,
``epochs``, ``seed``, ``resolution`` from ``TRAIN.DATASET``, ``OPTIM.MAX_EPOCH``, ``RNG_SEED``,
``TRAIN.IM_SIZE``; epochs rows from the ``train_epoch``/``test_epoch`` lists when both exist.

Config translation (to our ``NetConfig``, pycls's group-compatibility adjustment applied):
``res_bottleneck_block`` → X (Y with ``SE_ON``), ``vanilla_block`` → V, ``res_basic_block`` →
VR; stems ``simple_stem_in`` → imagenet, ``res_stem_cifar`` → small; bottleneck ratio
``b = 1 / BOT_MUL``. RegNet configs are expanded with the quantized linear rule (see
:func:`regnet_stages`) and keep ``w0, wa, wm, depth`` in ``extra``. Other model types, stems
(``res_stem_in``) or blocks are imported with ``config = NULL`` and counted in the notes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from edftools.errors import ConfigError, StoreError
from edftools.spaces.complexity import METRICS
from edftools.spaces.config import NetConfig
from edftools.store.rows import canonical_json

STEM_TYPES = {"simple_stem_in": "imagenet", "res_stem_cifar": "small"}
BLOCK_TYPES = {"res_bottleneck_block": "X", "vanilla_block": "V", "res_basic_block": "VR"}
REGNET_QUANTUM = 8


class Untranslatable(Exception):
    """A valid pycls config with no NetConfig equivalent (imported with config = NULL)."""


def regnet_stages(
    depth: int, w0: float, wa: float, wm: float, q: int = REGNET_QUANTUM
) -> tuple[list[int], list[int]]:
    """Per-stage ``(widths, depths)`` of a RegNet (DDS §3.3, quantized linear).

    ``u_j = w0 + wa·j`` for ``0 <= j < depth``; ``s_j = round(log(u_j / w0) / log(wm))``;
    ``w_j = round(w0 · wm^s_j / q) · q``; a stage is a run of equal consecutive ``w_j``.
    """
    if depth < 1 or w0 <= 0 or wa < 0 or wm <= 1:
        raise ValueError(f"need depth >= 1, w0 > 0, wa >= 0, wm > 1; got {depth, w0, wa, wm}")
    widths: list[int] = []
    depths: list[int] = []
    for j in range(depth):
        s = round(math.log((w0 + wa * j) / w0) / math.log(wm))
        w = int(round(w0 * wm**s / q) * q)
        if widths and widths[-1] == w:
            depths[-1] += 1
        else:
            widths.append(w)
            depths.append(1)
    return widths, depths


def _get(record: Mapping[str, Any], path: str, where: str, default: Any = ...) -> Any:
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            if default is not ...:
                return default
            raise StoreError(f"{where}: field {path!r}: missing")
        value = value[key]
    return value


def _number(value: Any, path: str, where: str, integer: bool = False) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if not ok:
        kind = "an integer" if integer else "a number"
        raise StoreError(f"{where}: field {path!r}: expected {kind}, got {value!r}")
    return int(value) if integer else float(value)


def _series(value: Any, path: str, where: str) -> list[float]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise StoreError(f"{where}: field {path!r}: empty list")
    return [_number(v, path, where) for v in values]


def _int_list(section: Mapping[str, Any], key: str, path: str, where: str) -> list[int]:
    value = section.get(key)
    if not isinstance(value, list) or not value:
        raise StoreError(f"{where}: field '{path}.{key}': expected a non-empty list of integers")
    return [_number(v, f"{path}.{key}", where, integer=True) for v in value]


def _anynet_config(cfg: Mapping[str, Any], where: str) -> dict[str, Any]:
    sec = _get(cfg, "ANYNET", where)
    if not isinstance(sec, Mapping):
        raise StoreError(f"{where}: field 'cfg.ANYNET': expected an object")
    depths = _int_list(sec, "DEPTHS", "cfg.ANYNET", where)
    widths = _int_list(sec, "WIDTHS", "cfg.ANYNET", where)
    strides = _int_list(sec, "STRIDES", "cfg.ANYNET", where)
    n = len(depths)
    bot_muls = sec.get("BOT_MULS") or [1.0] * n
    group_ws = sec.get("GROUP_WS") or [1] * n
    if not isinstance(bot_muls, list) or not all(
        isinstance(b, int | float) and not isinstance(b, bool) and b > 0 for b in bot_muls
    ):
        raise StoreError(f"{where}: field 'cfg.ANYNET.BOT_MULS': expected positive numbers")
    group_ws = _int_list({"GROUP_WS": group_ws}, "GROUP_WS", "cfg.ANYNET", where)
    for key, values in (("WIDTHS", widths), ("STRIDES", strides), ("BOT_MULS", bot_muls)):
        if len(values) != n:
            raise StoreError(
                f"{where}: field 'cfg.ANYNET.{key}': {len(values)} entries, {n} depths"
            )
    if len(group_ws) != n:
        raise StoreError(
            f"{where}: field 'cfg.ANYNET.GROUP_WS': {len(group_ws)} entries, {n} depths"
        )
    return _build(
        cfg,
        sec,
        "cfg.ANYNET",
        where,
        depths=depths,
        widths=widths,
        ratios=[1.0 / b for b in bot_muls],
        group_ws=group_ws,
        strides=strides,
        extra={},
    )


def _regnet_config(cfg: Mapping[str, Any], where: str) -> dict[str, Any]:
    sec = _get(cfg, "REGNET", where)
    if not isinstance(sec, Mapping):
        raise StoreError(f"{where}: field 'cfg.REGNET': expected an object")
    p = "cfg.REGNET"
    depth = _number(_get(sec, "DEPTH", where), f"{p}.DEPTH", where, integer=True)
    w0 = _number(_get(sec, "W0", where), f"{p}.W0", where)
    wa = _number(_get(sec, "WA", where), f"{p}.WA", where)
    wm = _number(_get(sec, "WM", where), f"{p}.WM", where)
    group_w = _number(sec.get("GROUP_W", 16), f"{p}.GROUP_W", where, integer=True)
    bot_mul = _number(sec.get("BOT_MUL", 1.0), f"{p}.BOT_MUL", where)
    stride = _number(sec.get("STRIDE", 2), f"{p}.STRIDE", where, integer=True)
    try:
        widths, depths = regnet_stages(depth, w0, wa, wm)
    except ValueError as exc:
        raise StoreError(f"{where}: field 'cfg.REGNET': {exc}") from None
    if bot_mul <= 0:
        raise StoreError(f"{where}: field 'cfg.REGNET.BOT_MUL': must be > 0")
    n = len(depths)
    return _build(
        cfg,
        sec,
        p,
        where,
        depths=depths,
        widths=widths,
        ratios=[1.0 / bot_mul] * n,
        group_ws=[group_w] * n,
        strides=[stride] * n,
        extra={"w0": w0, "wa": wa, "wm": wm, "depth": depth},
    )


def _build(
    cfg: Mapping[str, Any],
    sec: Mapping[str, Any],
    path: str,
    where: str,
    *,
    depths: list[int],
    widths: list[int],
    ratios: list[float],
    group_ws: list[int],
    strides: list[int],
    extra: dict[str, Any],
) -> dict[str, Any]:
    stem = sec.get("STEM_TYPE", "simple_stem_in")
    block = sec.get("BLOCK_TYPE", "res_bottleneck_block")
    se_on = bool(sec.get("SE_ON", False))
    for key, value in (("STEM_TYPE", stem), ("BLOCK_TYPE", block)):
        if not isinstance(value, str):
            raise StoreError(f"{where}: field '{path}.{key}': expected a string, got {value!r}")
    if stem not in STEM_TYPES:
        raise Untranslatable(f"stem type {stem!r}")
    if block not in BLOCK_TYPES or (se_on and block != "res_bottleneck_block"):
        raise Untranslatable(f"block type {block!r}" + (" with SE" if se_on else ""))
    block_type = "Y" if se_on else BLOCK_TYPES[block]
    try:
        net = NetConfig.from_stages(
            depths,
            widths,
            ratios,
            group_ws,
            strides,
            block_type=block_type,
            stem_type=STEM_TYPES[stem],
            stem_width=_number(sec.get("STEM_W", 32), f"{path}.STEM_W", where, integer=True),
            resolution=_number(
                _get(cfg, "TRAIN.IM_SIZE", where, 224), "cfg.TRAIN.IM_SIZE", where, integer=True
            ),
            num_classes=_number(
                _get(cfg, "MODEL.NUM_CLASSES", where, 10),
                "cfg.MODEL.NUM_CLASSES",
                where,
                integer=True,
            ),
            se_ratio=_number(sec.get("SE_R", 0.25), f"{path}.SE_R", where),
            extra=tuple(sorted(extra.items())),
        )
    except ConfigError as exc:
        raise StoreError(f"{where}: field {path!r}: {exc}") from None
    return net.to_dict()


def translate_config(cfg: Mapping[str, Any], where: str) -> tuple[dict[str, Any] | None, str]:
    """A pycls ``cfg`` as a ``NetConfig`` dict, or ``(None, reason)`` when it has no equivalent.

    Malformed values (wrong types, missing depths/widths) raise StoreError naming the field.
    """
    model_type = str(_get(cfg, "MODEL.TYPE", where, "anynet")).lower()
    try:
        if model_type == "anynet":
            return _anynet_config(cfg, where), ""
        if model_type == "regnet":
            return _regnet_config(cfg, where), ""
    except Untranslatable as exc:
        return None, str(exc)
    return None, f"model type {model_type!r}"


def _epoch_numbers(stats: Mapping[str, Any], n: int, path: str, where: str) -> list[int]:
    if isinstance(stats.get("epoch_ind"), list):
        values = stats["epoch_ind"]
    elif isinstance(stats.get("epoch"), list):
        values = [str(e).split("/")[0] for e in stats["epoch"]]
    else:
        return list(range(1, n + 1))
    try:
        numbers = [int(float(v)) for v in values]
    except (ValueError, OverflowError):  # "x", "inf"
        raise StoreError(f"{where}: field '{path}.epoch': not epoch numbers") from None
    if len(numbers) != n:
        raise StoreError(f"{where}: field '{path}.epoch': {len(numbers)} entries, expected {n}")
    return numbers


def _epoch_rows(job: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    train, test = job.get("train_epoch"), job.get("test_epoch")
    if not isinstance(train, Mapping) or not isinstance(test.get("top1_err"), list):
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


def pycls_job_row(job: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """One pycls job record → ``(runs row without run_id/sweep/space, epoch rows, note)``."""
    if not isinstance(job, Mapping):
        raise StoreError(f"{where}: expected a JSON object, got {type(job).__name__}")
    cfg = _get(job, "cfg", where)
    if not isinstance(cfg, Mapping):
        raise StoreError(f"{where}: field 'cfg': expected an object")
    complexity = _get(job, "complexity", where)
    if not isinstance(complexity, Mapping):
        raise StoreError(f"{where}: field 'complexity': expected an object")
    test = _get(job, "test_epoch", where)
    if not isinstance(test, Mapping):
        raise StoreError(f"{where}: field 'test_epoch': expected an object")
    if "top1_err" not in test and "min_top1_err" not in test:
        raise StoreError(f"{where}: field 'test_epoch.min_top1_err': missing")
    final = test.get("top1_err", test.get("min_top1_err"))
    final_path = "test_epoch.top1_err" if "top1_err" in test else "test_epoch.min_top1_err"
    error = _series(final, final_path, where)[-1]
    best_path = "test_epoch.min_top1_err" if "min_top1_err" in test else "test_epoch.top1_err"
    best_error = min(_series(test[best_path.split(".")[1]], best_path, where))
    row: dict[str, Any] = {"error": error, "best_error": best_error, "status": "ok"}
    for key in METRICS:
        if complexity.get(key) is not None:
            row[key] = _number(complexity[key], f"complexity.{key}", where, integer=True)
    config, note = translate_config(cfg, where)
    row["config"] = None if config is None else canonical_json(config)
    size = _get(cfg, "TRAIN.IM_SIZE", where, None)
    row["resolution"] = None if size is None else _number(size, "cfg.TRAIN.IM_SIZE", where, True)
    row["dataset"] = _get(cfg, "TRAIN.DATASET", where, None)
    epochs = _get(cfg, "OPTIM.MAX_EPOCH", where, None)
    row["epochs"] = None if epochs is None else _number(epochs, "cfg.OPTIM.MAX_EPOCH", where, True)
    seed = cfg.get("RNG_SEED")
    row["seed"] = None if seed is None else _number(seed, "cfg.RNG_SEED", where, integer=True)
    epoch_rows = _epoch_rows(job, where)
    seconds = [r["seconds"] for r in epoch_rows if r["seconds"] is not None]
    row["train_seconds"] = sum(seconds) if seconds else None
    return row, epoch_rows, note
