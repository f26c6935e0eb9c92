"""Small files in the NDS data release's format (one JSON per design space).

A record has ``job_id``, ``rng_seed``, ``params``, ``flops``, ``net`` (``block_type``,
``stem_type``, ``stem_w``, ``ds``, ``ws``, ``ss``, ``bot_muls``, ``num_gs``; or a ``genotype``
with ``width``, ``depth``, ``aux``, ``drop_prob`` for the cell-based spaces), ``optim``
(``base_lr``, ``wd``, ``max_ep``, ...), ``min_test_top1``, per-epoch ``test_ep_top1``,
``train_ep_top1``, ``train_ep_loss``, per-iteration ``train_it_*`` and memory/time fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edftools.spaces import NetConfig, complexity

EPOCHS = 4


def _curves(rng: np.random.Generator, final: float) -> dict[str, Any]:
    test = [final + 8.0 / (e + 1) + float(rng.uniform(0, 0.3)) for e in range(EPOCHS)]
    test[-1] = final
    return {
        "min_test_top1": min(test),
        "test_ep_top1": test,
        "train_ep_top1": [t - 2.0 for t in test],
        "train_ep_loss": [2.0 / (e + 1) for e in range(EPOCHS)],
        "train_it_loss": [[2.0, 1.9]] * EPOCHS,
        "train_it_top1": [[50.0, 45.0]] * EPOCHS,
    }


def resnext_record(rng: np.random.Generator, job_id: int, group_max: int) -> dict[str, Any]:
    """A CIFAR ResNeXt record (3 stages, res_stem_cifar, bottleneck blocks)."""
    ds = rng.integers(1, 6, 3).tolist()
    ws = (16 * rng.integers(1, 9, 3)).tolist()
    bot_muls = rng.choice([1.0, 0.5, 0.25], 3).tolist()
    num_gs = rng.choice([g for g in (1, 2, 4) if g <= group_max], 3).tolist()
    # keep num_gs a divisor of the bottleneck width, as the released nets are
    num_gs = [
        g if round(w * b) % g == 0 else 1 for w, b, g in zip(ws, bot_muls, num_gs, strict=True)
    ]
    net = {
        "block_type": "res_bottleneck_block",
        "stem_type": "res_stem_cifar",
        "stem_w": 16,
        "ds": ds,
        "ws": ws,
        "ss": [1, 2, 2],
        "bot_muls": bot_muls,
        "num_gs": num_gs,
    }
    inner = [round(w * b) for w, b in zip(ws, bot_muls, strict=True)]
    cfg = NetConfig.from_stages(
        ds,
        ws,
        [1 / b for b in bot_muls],
        [v // g for v, g in zip(inner, num_gs, strict=True)],
        [1, 2, 2],
        block_type="X",
        stem_type="small",
        stem_width=16,
        resolution=32,
        num_classes=10,
        adjust=False,
    )
    cx = complexity(cfg)
    final = 5.0 + 30.0 / (1 + cx.params / 2e5) + float(rng.normal(0, 0.5))
    return {
        "job_id": job_id,
        "rng_seed": 1,
        "params": cx.params,
        "flops": cx.flops,
        "net": net,
        "optim": {"base_lr": 0.1, "wd": 5e-4, "max_ep": EPOCHS, "lr_policy": "cos"},
        "exp_mem": 1.5,
        "act_mem": 0.9,
        "iter_time": 0.05,
        "prec_time": {"train_fw_bw": 0.02, "test_fw": 0.01},
        **_curves(rng, final),
    }


def vanilla_record(rng: np.random.Generator, job_id: int) -> dict[str, Any]:
    """A CIFAR Vanilla record (double_plain_block: no bottleneck, no groups)."""
    ds = rng.integers(1, 4, 3).tolist()
    ws = (16 * rng.integers(1, 5, 3)).tolist()
    net = {
        "block_type": "double_plain_block",
        "stem_type": "res_stem_cifar",
        "stem_w": 16,
        "ds": ds,
        "ws": ws,
        "ss": [1, 2, 2],
        "bot_muls": None,
        "num_gs": None,
    }
    cfg = NetConfig.from_stages(
        ds,
        ws,
        1,
        1,
        [1, 2, 2],
        block_type="V",
        stem_type="small",
        stem_width=16,
        resolution=32,
        num_classes=10,
        adjust=False,
    )
    cx = complexity(cfg)
    rec = resnext_record(rng, job_id, 1)
    rec.update(net=net, params=cx.params, flops=cx.flops)
    return rec


def darts_record(rng: np.random.Generator, job_id: int) -> dict[str, Any]:
    """A cell-based (DARTS) record: a genotype, no stage lists."""
    ops = [["sep_conv_3x3", 0], ["skip_connect", 1]] * 4
    rec = resnext_record(rng, job_id, 1)
    rec["net"] = {
        "genotype": {
            "normal": ops,
            "normal_concat": [2, 3, 4, 5],
            "reduce": ops,
            "reduce_concat": [2, 3, 4, 5],
        },
        "width": 16,
        "depth": 20,
        "aux": False,
        "drop_prob": 0.0,
    }
    rec.update(params=512_345, flops=81_234_567)
    return rec


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def reseeded(rng: np.random.Generator, record: dict[str, Any], seed: int) -> dict[str, Any]:
    """The same net trained with another ``rng_seed`` (an ``_rng<k>``/``_reruns`` record): new
    curves whose final error is the original's ± N(0, 0.5²)."""
    final = record["test_ep_top1"][-1] + float(rng.normal(0, 0.5))
    return {
        **record,
        "job_id": record["job_id"] + 1000 * seed,
        "rng_seed": seed,
        **_curves(rng, final),
    }
