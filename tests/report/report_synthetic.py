"""A synthetic runs frame shaped like ``Store.runs_frame()`` output, with known answers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def synthetic_runs(
    shifts: Mapping[str, float],
    n: int | Mapping[str, int] = 150,
    seed: int = 0,
    stages: int = 4,
    sweep: str = "synthetic",
) -> pd.DataFrame:
    """Runs of each space in ``shifts``: error = 30 + 5·N(0,1) + shift, clipped to [0.5, 99]
    (a negative shift is a better space), flops log-uniform in [1e6, 4e6] independent of the
    error, random AnyNet-style stage columns and w0/wa/wm."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, (space, shift) in enumerate(shifts.items()):
        m = n[space] if isinstance(n, Mapping) else n
        d = rng.integers(1, 6, size=(m, stages))
        w = 8 * rng.integers(1, 33, size=(m, stages))
        b = rng.choice([1.0, 2.0, 4.0], size=(m, stages))
        g = rng.choice([1, 2, 4, 8], size=(m, stages))
        err = np.clip(30.0 + 5.0 * rng.standard_normal(m) + shift, 0.5, 99.0)
        flops = np.exp(rng.uniform(np.log(1e6), np.log(4e6), m)).astype(np.int64)
        row = {
            "run_id": [f"{space}-{i}-{j}" for j in range(m)],
            "sweep": sweep,
            "space": space,
            "status": "ok",
            "error": err,
            "best_error": np.clip(err - np.abs(rng.normal(0, 0.5, m)), 0.0, None),
            "flops": flops,
            "params": (flops / 10).astype(np.int64),
            "acts": (np.sqrt(flops) * 10).astype(np.int64),
            "num_stages": stages,
            "depth": d.sum(axis=1),
            "w0": rng.uniform(8, 64, m),
            "wa": rng.uniform(8, 64, m),
            "wm": rng.uniform(2, 3, m),
        }
        for k in range(stages):
            row[f"d{k + 1}"] = d[:, k]
            row[f"w{k + 1}"] = w[:, k]
            row[f"b{k + 1}"] = b[:, k]
            row[f"g{k + 1}"] = g[:, k]
        frames.append(pd.DataFrame(row))
    return pd.concat(frames, ignore_index=True)
