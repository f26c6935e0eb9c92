"""Helpers for the store tests: run records, pycls job records, checksums, a CLI process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from edftools.records import EpochRecord, RunRecord, RunResult
from edftools.spaces.config import NetConfig


def small_config(widths: tuple[int, ...] = (16, 32), **extra: Any) -> dict[str, Any]:
    return NetConfig.from_stages(
        [1] * len(widths),
        list(widths),
        1,
        8,
        2,
        stem_type="small",
        stem_width=16,
        resolution=8,
        num_classes=10,
        in_channels=1,
        extra=tuple(sorted(extra.items())),
    ).to_dict()


def make_record(
    run_id: str,
    sweep: str = "sw",
    space: str = "AnyNetX_A",
    error: float = 10.0,
    n_epochs: int = 3,
    status: str = "ok",
    config: dict[str, Any] | None = None,
    seed: int = 0,
) -> RunRecord:
    epochs = tuple(
        EpochRecord(e, 2.0 / e, 50.0 / e, min(100.0, error + (n_epochs - e)), 0.1 / e, 0.25)
        for e in range(1, n_epochs + 1)
    )
    best = min([error, *(e.test_error for e in epochs)])
    return RunRecord(
        run_id=run_id,
        sweep=sweep,
        space=space,
        config=config if config is not None else small_config(),
        flops=123_456,
        params=7_890,
        acts=1_234,
        dataset="digits",
        epochs=n_epochs,
        seed=seed,
        result=RunResult(
            status=status,
            error=error,
            best_error=best,
            epochs=epochs,
            train_seconds=0.25 * n_epochs,
            device="cpu",
            message="boom" if status == "failed" else "",
            failure="config" if status == "failed" else "",
        ),
        versions={"torch": "2.13.0", "edftools": "0.1.0"},
    )


def pycls_job(
    kind: str = "anynet", seed: int = 1, n_epochs: int = 3, err: float = 40.0, **cfg_over: Any
) -> dict[str, Any]:
    """A job record shaped like pycls's sweep collect output (per-epoch lists, sorted)."""
    cfg: dict[str, Any] = {
        "MODEL": {"TYPE": kind, "NUM_CLASSES": 1000, "LOSS_FUN": "cross_entropy"},
        "ANYNET": {
            "STEM_TYPE": "simple_stem_in",
            "STEM_W": 32,
            "BLOCK_TYPE": "res_bottleneck_block",
            "DEPTHS": [1, 2, 4, 3],
            "WIDTHS": [32, 64, 160, 384],
            "STRIDES": [2, 2, 2, 2],
            "BOT_MULS": [1.0, 1.0, 0.5, 1.0],
            "GROUP_WS": [8, 16, 16, 48],
            "SE_ON": False,
            "SE_R": 0.25,
        },
        "REGNET": {
            "STEM_TYPE": "simple_stem_in",
            "STEM_W": 32,
            "BLOCK_TYPE": "res_bottleneck_block",
            "STRIDE": 2,
            "SE_ON": False,
            "SE_R": 0.25,
            "DEPTH": 13,
            "W0": 24,
            "WA": 36.44,
            "WM": 2.49,
            "GROUP_W": 8,
            "BOT_MUL": 1.0,
        },
        "TRAIN": {"DATASET": "imagenet", "IM_SIZE": 224, "BATCH_SIZE": 128},
        "TEST": {"DATASET": "imagenet", "IM_SIZE": 256},
        "OPTIM": {"BASE_LR": 0.1, "MAX_EPOCH": n_epochs, "LR_POLICY": "cos"},
        "RNG_SEED": seed,
        "OUT_DIR": f"/tmp/sweep/{seed:03d}",
    }
    for dotted, value in cfg_over.items():
        section, key = dotted.split("__")
        cfg[section][key] = value
    epochs = [f"{e}/{n_epochs}" for e in range(1, n_epochs + 1)]
    top1 = [err + 2.0 * (n_epochs - e) for e in range(1, n_epochs + 1)]
    top1[-1] = err + 0.5  # the last epoch is slightly worse than the best one
    top1[-2] = err if n_epochs > 1 else top1[-2]
    mins = [min(top1[: k + 1]) for k in range(n_epochs)]
    return {
        "cfg": cfg,
        "complexity": {"flops": 398_000_000 + seed, "params": 4_100_000, "acts": 3_900_000},
        "train_epoch": {
            "epoch": epochs,
            "epoch_ind": list(range(1, n_epochs + 1)),
            "epoch_max": [n_epochs] * n_epochs,
            "loss": [3.0 / e for e in range(1, n_epochs + 1)],
            "top1_err": [t + 5.0 for t in top1],
            "top5_err": [t / 3 for t in top1],
            "lr": [0.1 / e for e in range(1, n_epochs + 1)],
            "time_epoch": [12.5] * n_epochs,
            "mem": [3000] * n_epochs,
        },
        "test_epoch": {
            "epoch": epochs,
            "epoch_ind": list(range(1, n_epochs + 1)),
            "epoch_max": [n_epochs] * n_epochs,
            "top1_err": top1,
            "top5_err": [t / 3 for t in top1],
            "min_top1_err": mins,
            "min_top5_err": [m / 3 for m in mins],
            "time_epoch": [2.0] * n_epochs,
        },
        "log_file": f"/tmp/sweep/{seed:03d}/stdout.log",
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def edftools_process(*args: str, stdout: Any, text: bool = False) -> subprocess.Popen:
    """``python -m edftools ARGS`` from the checkout (as a user runs it: a program, so the
    commands' own exit paths are taken), stdout to ``stdout``, stderr piped."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-m", "edftools", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=text,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
