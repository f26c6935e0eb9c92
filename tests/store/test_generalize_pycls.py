"""Two pycls sweeps per space at two flops regimes, imported into one store, give the
generalization matrix without a recipe (``edftools generalize --chain``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycls_logs import collect, job_log, write_sweep
from store_testlib import pycls_job

from edftools.store import import_file


def _sweep(path: Path, errors: np.ndarray, flops: float, seed0: int) -> Path:
    jobs = []
    for i, err in enumerate(errors):
        cx = {"flops": int(flops * (1 + 0.001 * i)), "params": 4_100_000, "acts": 3_900_000}
        cfg = pycls_job(seed=seed0 + i, n_epochs=3)["cfg"]
        jobs.append(collect(job_log(cfg, cx, 3, 3, err=float(err)), f"/s/{i}/stdout.log", ""))
    return write_sweep(path, jobs)


def test_two_imported_pycls_regimes_give_the_matrix(tmp_path: Path, cli) -> None:
    rng = np.random.default_rng(0)
    store = tmp_path / "s.duckdb"
    n = 40
    # regime mf400: E clearly better than A; regime mf800: the same
    for regime, flops in (("mf400", 400e6), ("mf800", 800e6)):
        for space, shift in (("AnyNetX_A", 6.0), ("AnyNetX_E", 0.0)):
            errors = 30.0 + shift + rng.gamma(2.0, 1.0, n)
            path = _sweep(tmp_path / f"{regime}_{space}.json", errors, flops, 100 * len(space))
            import_file(store, path, "pycls", space=space, sweep=regime)
    out = tmp_path / "reports"
    code, stdout, stderr = cli(
        "generalize",
        "--store",
        str(store),
        "--chain",
        "A,E",
        "--normalize",
        "none",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["regimes"] == ["mf400", "mf800"]
    assert [c["verdict"] for c in data["cells"]] == ["improves", "improves"]
    assert data["statement"].startswith(
        "AnyNetX_E > AnyNetX_A (the reference regime mf400) holds in 2/2 regimes"
    )
    assert data["family"]["kind"] == "fixed-n" and data["family"]["hypotheses"] == 6
    assert (out / "generalization.md").read_text().count("improves") >= 2
    assert (out / "generalization.html").exists()


def test_generalize_names_a_missing_regime_in_one_line(tmp_path: Path, cli) -> None:
    store = tmp_path / "s.duckdb"
    rng = np.random.default_rng(1)
    path = _sweep(tmp_path / "a.json", 30 + rng.gamma(2.0, 1.0, 10), 400e6, 1)
    import_file(store, path, "pycls", space="AnyNetX_A", sweep="only")
    code, stdout, stderr = cli(
        "generalize", "--store", str(store), "--chain", "A,E", "--out", str(tmp_path)
    )
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "needs at least two regimes" in stderr
