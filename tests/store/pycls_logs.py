"""Sweep files built the way pycls builds them: job logs of ``json_stats`` lines, collected.

pycls's trainer logs one ``json_stats: {...}`` line per record with a ``_type`` (``cfg``,
``complexity``, ``train_epoch``, ``test_epoch``, ``test_ema_epoch``); ``sweep_collect`` parses
every job's ``stdout.log``, keeps the first record of types without an ``epoch`` and turns the
others into per-metric lists sorted by epoch, with ``epoch_ind``/``epoch_max`` parsed from
``"k/n"``, and adds ``log_file``, ``err_file`` and ``err`` (the job's stderr). This module
writes such logs and collects them the same way (our code, same result shape).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TAG = "json_stats: "


def job_log(
    cfg: dict[str, Any] | None,
    complexity: dict[str, int] | None,
    epochs_run: int,
    max_epoch: int,
    err: float = 40.0,
    ema: bool = True,
) -> list[str]:
    """The ``json_stats`` lines a pycls job logs when it runs ``epochs_run`` epochs."""
    lines = []
    if cfg is not None:
        lines.append({"_type": "cfg", **cfg})
    if complexity is not None:
        lines.append({"_type": "complexity", **complexity})
    best = best_ema = 100.0
    for e in range(1, epochs_run + 1):
        top1 = err + 10.0 / e
        best = min(best, top1)
        best_ema = min(best_ema, top1 - 0.5)
        tag = f"{e}/{max_epoch}"
        lines.append(
            {
                "_type": "train_epoch",
                "epoch": tag,
                "loss": 4.0 / e,
                "top1_err": top1 + 5,
                "top5_err": top1 / 3,
                "lr": 0.1 / e,
                "time_epoch": 30.0,
                "mem": 2000,
            }
        )
        for kind, value, low in (
            ("test_epoch", top1, best),
            ("test_ema_epoch", top1 - 0.5, best_ema),
        ):
            if kind == "test_ema_epoch" and not ema:
                continue
            lines.append(
                {
                    "_type": kind,
                    "epoch": tag,
                    "top1_err": value,
                    "top5_err": value / 3,
                    "min_top1_err": low,
                    "min_top5_err": low / 3,
                    "time_epoch": 3.0,
                    "mem": 900,
                }
            )
    return ["[trainer.py: 42]: " + TAG + json.dumps(line, sort_keys=True) for line in lines]


def collect(log_lines: list[str], log_file: str, err_text: str) -> dict[str, Any]:
    """One job's collected record, shaped as pycls's ``sweep_collect`` writes it."""
    records: dict[str, list[dict[str, Any]]] = {}
    for line in log_lines:
        if TAG not in line:
            continue
        record = json.loads(line[line.index(TAG) + len(TAG) :])
        records.setdefault(record.pop("_type"), []).append(record)
    data: dict[str, Any] = {}
    for kind, items in records.items():
        if "epoch" not in items[0]:
            data[kind] = items[0]
            continue
        table = {m: [item[m] for item in items] for m in sorted(items[0])}
        table["epoch_ind"] = [int(str(e).split("/")[0]) for e in table["epoch"]]
        table["epoch_max"] = [int(str(e).split("/")[1]) for e in table["epoch"]]
        order = sorted(range(len(items)), key=lambda i: table["epoch_ind"][i])
        data[kind] = {m: [values[i] for i in order] for m, values in table.items()}
    data["log_file"] = log_file
    data["err_file"] = log_file.replace("stdout.log", "stderr.log")
    data["err"] = err_text
    return data


def write_sweep(path: Path, jobs: list[dict[str, Any]]) -> Path:
    """``sweep.json`` as pycls writes it (``json.dump(sweep, f, sort_keys=True)``)."""
    path.write_text(json.dumps(jobs, sort_keys=True))
    return path
