"""Verdicts through training (edftools.analysis.epoch_verdicts): synthetic strips with known
answers, the refinement's final epoch, missing epochs, error control per epoch, imported pycls
sweeps, and the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pycls_logs import collect, job_log, write_sweep
from report_synthetic import synthetic_runs
from store_testlib import pycls_job

import edftools
from edftools.analysis.epoch_verdicts import (
    UNTESTED,
    EpochVerdicts,
    decided_from,
    epoch_errors,
    strip,
)
from edftools.analysis.refinement import RefineOptions, refine
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError, StoreError
from edftools.stats.verdicts import DECIDED, IMPROVES, NO_LOSS


def _long(
    n: int, epochs: int, shift_from: int, shift: float, seed: int, spaces=("P", "R")
) -> pd.DataFrame:
    """One row per run per epoch: error = 30 + 5·z_i + noise/(k+1), the last space better by
    ``shift`` from epoch ``shift_from`` on (identical laws before)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, name in enumerate(spaces):
        z = rng.standard_normal(n)
        flops = rng.uniform(1e6, 4e6, n)
        for k in range(epochs):
            err = 30 + 5 * z + rng.standard_normal(n) / (k + 1)
            if s == len(spaces) - 1 and k >= shift_from:
                err = err - shift
            rows.append(
                pd.DataFrame(
                    {"arch": name, "ep": k, "top1": err, "flops": flops, "run": np.arange(n)}
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_decided_from_is_the_start_of_the_final_run_of_verdicts() -> None:
    assert decided_from(["inconclusive", "worse", "improves", "improves"], [0, 1, 2, 3]) == 2
    assert decided_from(["improves", "worse", "improves"], [1, 2, 3]) == 3
    assert decided_from(["no loss", "no loss"], [1, 5]) == 1
    assert decided_from(["improves", "inconclusive"], [0, 1]) is None
    assert decided_from(["improves", UNTESTED], [0, 1]) is None


def test_a_difference_appearing_at_epoch_3_is_decided_from_epoch_3() -> None:
    data = _long(n=150, epochs=6, shift_from=3, shift=6.0, seed=1)
    res = edftools.verdicts_by_epoch(
        data, ["P", "R"], epoch="ep", error="top1", space="arch", seed=3
    )
    assert isinstance(res, EpochVerdicts)
    assert res.epochs == (0, 1, 2, 3, 4, 5)
    words = res.verdicts(0)
    assert words[3:] == (IMPROVES,) * 3
    assert IMPROVES not in words[:3]  # identical laws before epoch 3
    assert res.decided_from == (3,)
    frame = res.to_frame()
    assert len(frame) == 6 and set(frame["decided_from"]) == {3}
    assert {"step", "parent", "restricted", "epoch", "verdict", "p_better", "n_parent"} <= set(
        frame.columns
    )
    assert (frame["n_parent"] == 150).all() and not res.notes()
    as_json = res.to_dict()
    json.dumps(as_json, allow_nan=False)
    assert as_json["steps"][0]["decided_from"] == 3
    assert "P→R: improves from epoch 3" in repr(res)


def test_normalized_strip_keeps_one_complexity_range() -> None:
    data = _long(n=120, epochs=3, shift_from=0, shift=8.0, seed=2)
    res = edftools.verdicts_by_epoch(
        data, ["P", "R"], epoch="ep", error="top1", space="arch", complexity="flops", bins=4
    )
    assert res.settings.normalize == "flops" and res.settings.bins == 4
    assert res.final == (IMPROVES,) and res.decided_from == (0,)
    assert {c.n_perm for c in res.cells} >= {999}  # permutation tests within bins


def test_final_epoch_reproduces_the_fixed_refinement_and_reuse_changes_nothing() -> None:
    runs = synthetic_runs({"AnyNetX_A": 0.0, "AnyNetX_B": 0.0, "AnyNetX_C": -8.0}, n=60, seed=4)
    rng = np.random.default_rng(0)
    runs["epoch_log"] = [
        json.dumps(
            [{"epoch": k, "test_error": e + 8.0 / (k + 1) + rng.normal()} for k in range(3)]
            + [{"epoch": 3, "test_error": e}]
        )
        for e in runs["error"]
    ]
    chain = ("AnyNetX_A", "AnyNetX_B", "AnyNetX_C")
    fast = Settings(n_boot=20, margin=5.0)
    result = refine(runs, RefineOptions(chain=chain, beside=(), settings=fast))
    through = result.through_training
    assert through is not None and through.epochs == (0, 1, 2, 3)
    assert through.final == tuple(result.verdicts.values())
    fresh = strip(result.frame, result.epoch_errors, result.step_pairs, result.settings)
    assert fresh.cells == through.cells  # the reused final epoch equals a recomputed one
    best = refine(
        runs,
        RefineOptions(chain=chain, beside=(), settings=fast.updated(error_column="best_error")),
    )
    logs = epoch_errors(best.frame, None, "best_error")
    assert logs is not None
    per_run = logs.groupby("run")["err"]
    assert (per_run.diff().dropna() <= 0).all()  # the running minimum
    ema = refine(
        runs.assign(ema_error=runs["error"]),
        RefineOptions(chain=chain, beside=(), settings=fast.updated(error_column="ema_error")),
    )
    assert ema.through_training is None  # no per-epoch log of the EMA weights


def test_runs_without_some_epochs_are_left_out_of_those_epochs_and_said() -> None:
    data = _long(n=60, epochs=4, shift_from=0, shift=10.0, seed=5, spaces=("P", "Q", "R"))
    stopped = (data["arch"] == "Q") & (data["run"] < 20) & (data["ep"] >= 2)
    data = data[~stopped]
    data = data[~((data["arch"] == "R") & (data["ep"] == 3))]  # nobody in R logged epoch 3
    res = edftools.verdicts_by_epoch(data, ["P", "Q", "R"], epoch="ep", error="top1", space="arch")
    q_at_2 = res.cell(0, 2)
    assert (q_at_2.n_parent, q_at_2.n_restricted) == (60, 40)
    assert res.partial_epochs == (2, 3)
    notes = " ".join(res.notes())
    assert "epoch 2 uses the runs that logged it: Q 40 of 60" in notes
    untested = res.cell(1, 3)
    assert untested.verdict == UNTESTED and "no run of R logged epoch 3" in untested.note
    assert res.decided_from[1] is None  # the final epoch could not test Q → R
    assert res.cell(0, 3).verdict != UNTESTED  # P → Q is still tested at epoch 3


@pytest.mark.slow
def test_identical_spaces_claim_a_difference_at_most_alpha_per_epoch() -> None:
    """200 studies of two identical spaces, 3 epochs: at each epoch the rate of a false
    improves/worse/mixed stays within α = 0.05 (+ 3 Monte-Carlo SE)."""
    sims, epochs = 200, 3
    false = np.zeros(epochs)
    for i in range(sims):
        data = _long(n=60, epochs=epochs, shift_from=epochs, shift=0.0, seed=100 + i)
        res = edftools.verdicts_by_epoch(
            data, ["P", "R"], epoch="ep", error="top1", space="arch", seed=i
        )
        false += [w in DECIDED and w != NO_LOSS for w in res.verdicts(0)]
    rate = false / sims
    bound = 0.05 + 3 * np.sqrt(0.05 * 0.95 / sims)
    assert (rate <= bound).all(), rate


def test_bad_input_is_one_typed_error() -> None:
    data = _long(n=20, epochs=2, shift_from=0, shift=0.0, seed=6)
    runs = data.drop(columns="ep").rename(columns={"top1": "error"})  # one row per run, no log
    with pytest.raises(StoreError, match="no epoch logs"):
        edftools.verdicts_by_epoch(runs, ["P", "R"], space="arch")
    with pytest.raises(StatsInputError, match="no per-epoch log"):
        edftools.verdicts_by_epoch(
            data, ["P", "R"], settings=Settings(error_column="ema_error"), epoch="none"
        )


# --- an imported pycls sweep -------------------------------------------------------------------


def _pycls_sweep(path: Path, space_shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    jobs = []
    for j in range(40):
        cfg = copy.deepcopy(pycls_job(seed=j + 1, n_epochs=3)["cfg"])
        cx = {"flops": int(rng.uniform(3e8, 5e8)), "params": 4_100_000, "acts": 3_900_000}
        err = 40.0 + 3.0 * rng.standard_normal() + space_shift
        epochs_run = 1 if j == 0 else 3  # job 0 stopped early: incomplete, not used
        jobs.append(collect(job_log(cfg, cx, epochs_run, 3, err=err), f"/s/{j:03d}/stdout.log", ""))
    return write_sweep(path, jobs)


@pytest.fixture(scope="module")
def pycls_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edftools.store import import_file

    folder = tmp_path_factory.mktemp("pycls")
    store = folder / "pycls.duckdb"
    import_file(
        store, _pycls_sweep(folder / "a.json", 0.0, 1), "pycls", space="AnyNetX_A", sweep="s"
    )
    import_file(
        store, _pycls_sweep(folder / "b.json", -6.0, 2), "pycls", space="AnyNetX_B", sweep="s"
    )
    return store


def test_pycls_store_epochs_from_one(pycls_store: Path) -> None:
    res = edftools.verdicts_by_epoch(pycls_store, ["A", "B"], complexity="flops", bins=2)
    assert res.epochs == (1, 2, 3)  # pycls counts epochs from 1
    assert res.final == (IMPROVES,) and res.decided_from == (1,)
    assert {c.n_total for c in res.coverage} == {39}  # the incomplete job is left out
    assert len({(c.n_parent, c.n_restricted) for c in res.cells}) == 1  # same runs every epoch
    library = edftools.refine(pycls_store, ["A", "B"], complexity="flops", bins=2)
    assert library.through_training is not None
    assert library.through_training.final == res.final


def test_refine_cli_prints_and_writes_the_strip(pycls_store: Path, tmp_path: Path, capsys) -> None:
    from edftools.cli import main

    args = [
        "refine",
        "--store",
        str(pycls_store),
        "--chain",
        "A,B",
        "--beside",
        "",
        "--bins",
        "2",
        "--out",
        str(tmp_path),
    ]
    main([*args, "--json"])  # returns on success (exits 2 on a user error)
    data = json.loads(capsys.readouterr().out)
    through = data["through_training"]
    assert through["epochs"] == [1, 2, 3]
    assert through["steps"][0]["decided_from"] == 1
    md = (tmp_path / "refinement.md").read_text()
    assert "## Verdicts through training" in md
    assert "| AnyNetX_A → AnyNetX_B | improves | improves | improves | epoch 1 |" in md
    html = (tmp_path / "refinement.html").read_text()
    assert "Verdicts through training" in html and 'id="epoch-verdicts"' in html
