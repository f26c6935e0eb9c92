"""The NDS data release (Radosavovic et al., ICCV 2019) → ``runs`` rows.

The release is one JSON file per design space (``ResNeXt-A.json``, ``Vanilla_in.json``,
``DARTS.json``, ...), each either a list of job records or ``{"top": [...], "mid": [...]}``
(the re-run files). A job record (the fields the NDS notebooks and their readers use)::

    {"job_id": ..., "rng_seed": 1, "params": 171082, "flops": 25310714,
     "net": {"block_type": "res_bottleneck_block", "stem_type": "res_stem_cifar",
             "stem_w": 16, "ds": [1, 4, 2], "ws": [32, 64, 256], "ss": [1, 2, 2],
             "bot_muls": [0.25, 1.0, 0.5], "num_gs": [1, 2, 4]},
       (or, for the cell-based spaces: {"genotype": {...}, "width": 16, "depth": 20, ...})
     "optim": {"base_lr": 0.1, "wd": 5e-05, "max_ep": 100, ...},
     "min_test_top1": 6.1, "test_ep_top1": [...], "train_ep_top1": [...],
     "train_ep_loss": [...], "exp_mem": ..., "act_mem": ..., "iter_time": ..., ...}

Mapping: ``error`` = the last ``test_ep_top1``, ``best_error`` = ``min_test_top1``; ``epochs`` =
the number of logged test epochs, one ``epochs`` row each (test error, train error, train loss;
a non-finite loss is stored as NULL); ``seed`` = ``rng_seed``; ``optim`` kept as JSON;
``dataset`` ``imagenet`` (224 px, 1000 classes) when the space name has ``_in`` (NDS's ImageNet
files), else ``cifar10`` (32 px, 10 classes). The space (and sweep) is the file name's stem
unless ``--space`` (``--sweep``) is given.

``net`` records of the ResNet/ResNeXt/Vanilla families become NetConfigs: block types and
stems as in :mod:`edftools.store.pycls_config`; ``bot_muls`` are pycls's bottleneck
multipliers (``b = 1 / bot_mul``) and ``num_gs`` numbers of groups, so the group width is
``round(w * bot_mul) / num_gs``. Their complexity is recomputed and compared with the file's
``flops`` and ``params``: a mismatch is stored with the file's numbers and a ``message``, and
reported per record in the import notes. Cell-based records (``genotype``) and nets with no
NetConfig equivalent (the ImageNet ResNet stem ``res_stem_in``) are stored with config NULL
and the file's flops/params.

Seed replicates: the release's ``<Space>_rng1.json``, ``_rng2``, ``_rng3`` (the same configs
trained with other seeds) and ``<Space>_reruns.json`` (top and mid models re-trained) import
"into the same shape" as a sweep's reruns (:mod:`edftools.recipe.reruns`): a record whose
config equals that of an original run of ``<Space>`` already in the store (``rerun_of`` NULL;
the space is ``--space`` when given) becomes a rerun of it — space and sweep of the original,
``rerun_of`` = its run id, ``replicate`` = ``k`` for ``_rng<k>``, the next free number for
``_reruns`` — and so never enters the EDF. A record identical to its original (same seed and
error: the original file itself) is skipped. Records that match no original are imported as
before, under the file's own space name (the import notes count both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from edftools.errors import StoreError
from edftools.spaces.complexity import complexity
from edftools.store.pycls_config import (
    Untranslatable,
    int_list,
    net_config,
    number,
)
from edftools.store.rows import canonical_json

MAX_REPORTED = 10
REPLICATE_FILE = re.compile(r"^(?P<base>.+)_(?:rng(?P<k>\d+)|reruns)$")


def replicate_file(stem: str) -> tuple[str, int | None] | None:
    """``(base space, k)`` of a seed-replicate file's stem (``ResNet_rng2`` → ``("ResNet", 2)``,
    ``ResNet_reruns`` → ``("ResNet", None)``); None for any other file."""
    m = REPLICATE_FILE.match(stem)
    if m is None:
        return None
    return m["base"], None if m["k"] is None else int(m["k"])


def link_reruns(
    runs: Sequence[dict[str, Any]],
    originals: Sequence[tuple[Any, ...]],
    space: str,
    k: int | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Turn the rows of a seed-replicate file into reruns of their originals (module docstring).

    ``originals``: ``(run_id, sweep, config, seed, error, last replicate)`` of the stored
    original runs of ``space``. Returns the rows to import and the notes.
    """
    by_config: dict[str, list[Any]] = {}
    for rid, sweep, config, seed, error, last in originals:
        by_config.setdefault(str(config), [rid, sweep, seed, error, int(last or 0)])
    out, linked, same = [], 0, 0
    for row in runs:
        match = by_config.get(str(row["config"])) if row["config"] is not None else None
        if match is None:
            out.append(row)
            continue
        rid, sweep, seed, error, last = match
        if row["seed"] == seed and row["error"] == error:
            same += 1  # the original itself (e.g. the rng1 file of the original seed)
            continue
        match[4] = replicate = k if k is not None else last + 1
        out.append({**row, "space": space, "sweep": sweep, "rerun_of": rid, "replicate": replicate})
        linked += 1
    notes = []
    if linked or same:
        notes.append(
            f"{linked} record(s) imported as reruns of {space} runs of the same config"
            + (f"; {same} identical to their original skipped" if same else "")
        )
    rest = len(out) - linked
    if rest:
        notes.append(f"{rest} record(s) match no stored {space} run: imported as they are")
    return out, notes


def nds_records(data: Any, name: str) -> list[tuple[str, Any]]:
    """``[(where, record)]`` of an NDS file: a list, or ``{"top": [...], "mid": [...]}``."""
    if isinstance(data, Mapping):
        groups = [k for k in ("top", "mid") if k in data]
        if not groups or set(data) - {"top", "mid"}:
            raise StoreError(f"{name}: expected a JSON list of records or {{top, mid}} lists")
        out = []
        for group in groups:
            if not isinstance(data[group], list):
                raise StoreError(f"{name}: field {group!r}: expected a list of records")
            out += [(f"{name}: {group} record {i}", r) for i, r in enumerate(data[group])]
    elif isinstance(data, list):
        out = [(f"{name}: record {i}", r) for i, r in enumerate(data)]
    else:
        raise StoreError(f"{name}: expected a JSON list of records or {{top, mid}} lists")
    if not out:
        raise StoreError(f"{name}: the file has no records")
    return out


def _series(job: Mapping[str, Any], key: str, where: str, finite: bool) -> list[float] | None:
    value = job.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise StoreError(f"{where}: field {key!r}: expected a non-empty list of numbers")
    out = [number(v, key, where) for v in value]
    if finite and any(v != v or v in (float("inf"), float("-inf")) for v in out):
        raise StoreError(f"{where}: field {key!r}: must be finite")
    return out


def _net_config(net: Mapping[str, Any], imagenet: bool, where: str) -> Any:
    """The NetConfig of a ResNet/ResNeXt/Vanilla ``net`` record (Untranslatable otherwise)."""
    for key in ("block_type", "ds", "ws", "ss"):
        if key not in net:
            raise StoreError(f"{where}: field 'net.{key}': missing")
    if "stem_type" not in net or "stem_w" not in net:
        raise Untranslatable("a net without stem_type/stem_w")
    depths = int_list(net["ds"], "net.ds", where)
    widths = int_list(net["ws"], "net.ws", where)
    n = len(depths)
    bottleneck = net["block_type"] == "res_bottleneck_block"
    bot_muls, group_ws = [1.0] * n, [1] * n
    if bottleneck:
        if not isinstance(net.get("bot_muls"), list) or len(net["bot_muls"]) != n:
            raise StoreError(f"{where}: field 'net.bot_muls': expected {n} numbers")
        bot_muls = [number(b, "net.bot_muls", where) for b in net["bot_muls"]]
        groups = int_list(net.get("num_gs") or [1] * n, "net.num_gs", where)
        if len(groups) != n or len(widths) != n:
            raise StoreError(f"{where}: field 'net.num_gs': expected {n} integers")
        inner = [round(w * b) for w, b in zip(widths, bot_muls, strict=True)]
        if any(k < 1 or v % k for v, k in zip(inner, groups, strict=True)):
            raise Untranslatable("num_gs that does not divide the bottleneck width")
        group_ws = [v // k for v, k in zip(inner, groups, strict=True)]
    classes = net.get("nc", 1000 if imagenet else 10)
    return net_config(
        where=where,
        path="net",
        depths=depths,
        widths=widths,
        bot_muls=bot_muls,
        group_ws=group_ws,
        strides=int_list(net["ss"], "net.ss", where),
        stem=net["stem_type"],
        block=net["block_type"],
        stem_width=number(net["stem_w"], "net.stem_w", where, integer=True),
        resolution=224 if imagenet else 32,
        num_classes=number(classes, "net.nc", where, integer=True),
        adjust=False,
    )


def nds_job_row(
    job: Any, where: str, space: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str, str]:
    """One NDS record → ``(runs row, epoch rows, untranslated reason, mismatch report)``."""
    if not isinstance(job, Mapping):
        raise StoreError(f"{where}: expected a JSON object, got {type(job).__name__}")
    net = job.get("net")
    if not isinstance(net, Mapping):
        raise StoreError(f"{where}: field 'net': expected an object")
    imagenet = "_in" in space
    row: dict[str, Any] = {
        "dataset": "imagenet" if imagenet else "cifar10",
        "resolution": 224 if imagenet else 32,
        "status": "ok",
    }
    for key in ("flops", "params"):
        if key not in job:
            raise StoreError(f"{where}: field {key!r}: missing")
        row[key] = number(job[key], key, where, integer=True)
    test = _series(job, "test_ep_top1", where, finite=True)
    if test is None:
        raise StoreError(f"{where}: field 'test_ep_top1': missing")
    row["error"] = test[-1]
    best = job.get("min_test_top1")
    row["best_error"] = min(test) if best is None else number(best, "min_test_top1", where)
    row["epochs"] = len(test)
    if job.get("rng_seed") is not None:
        row["seed"] = number(job["rng_seed"], "rng_seed", where, integer=True)
    optim = job.get("optim")
    if optim is not None and not isinstance(optim, Mapping):
        raise StoreError(f"{where}: field 'optim': expected an object")
    row["optim"] = None if optim is None else canonical_json(dict(optim))
    epochs = _epoch_rows(job, test, where)
    reason = mismatch = ""
    if "genotype" in net:
        row["config"] = None
        reason = "a cell-based (genotype) net"
    else:
        try:
            cfg = _net_config(net, imagenet, where)
        except Untranslatable as exc:
            row["config"], reason = None, str(exc)
        else:
            row["config"] = canonical_json(cfg.to_dict())
            cx = complexity(cfg)
            if (cx.flops, cx.params) != (row["flops"], row["params"]):
                mismatch = (
                    f"complexity mismatch: the file has flops {row['flops']:,} and params "
                    f"{row['params']:,}, the net computes to {cx.flops:,} and {cx.params:,}"
                )
                row["message"] = mismatch
            else:
                row["acts"] = cx.acts
    return row, epochs, reason, mismatch


def _epoch_rows(job: Mapping[str, Any], test: list[float], where: str) -> list[dict[str, Any]]:
    train_err = _series(job, "train_ep_top1", where, finite=True)
    train_loss = _series(job, "train_ep_loss", where, finite=False)
    for key, values in (("train_ep_top1", train_err), ("train_ep_loss", train_loss)):
        if values is not None and len(values) != len(test):
            raise StoreError(
                f"{where}: field {key!r}: {len(values)} epochs, test_ep_top1 has {len(test)}"
            )
    return [
        {
            "epoch": i + 1,
            "test_error": test[i],
            "train_error": None if train_err is None else train_err[i],
            "train_loss": None if train_loss is None else train_loss[i],
        }
        for i in range(len(test))
    ]


def mismatch_notes(mismatches: list[str]) -> list[str]:
    """Import notes for complexity mismatches: one line per record, the first few shown."""
    notes = mismatches[:MAX_REPORTED]
    if len(mismatches) > MAX_REPORTED:
        notes.append(f"... and {len(mismatches) - MAX_REPORTED} more complexity mismatch(es)")
    return notes
