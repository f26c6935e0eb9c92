"""``edftools.generalize``: the verdict matrix over regimes, its family-wise error, the
ordering statement, sequential regimes, and the library's data forms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import edftools
from edftools.analysis.generalization import generalize_runs, regime_sweeps, shared_chain
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError
from edftools.stats.multiplicity import NO_LOSS_SHARE

FAST = Settings(n_boot=50)


def _runs(shifts: dict[str, tuple[float, ...]], n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Long-form runs: per regime, spaces A, B, C with errors 6 + shift + Gamma(2, 1) and
    flops uniform on the regime's band."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (regime, shift) in enumerate(shifts.items()):
        for space, s in zip("ABC", shift, strict=True):
            parts.append(
                pd.DataFrame(
                    {
                        "sweep": regime,
                        "space": space,
                        "error": 6.0 + s + rng.gamma(2.0, 1.0, n),
                        "flops": rng.uniform(1e6, 2e6, n) * (k + 1),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def test_a_reversing_regime_is_reported_with_its_size() -> None:
    runs = _runs({"r1": (0, -2, -2), "r2": (0, -2, -2), "r3": (0, -2, 1.0)})
    res = generalize_runs(runs, ["A", "B", "C"], settings=FAST)
    assert res.matrix().loc["B → C"].tolist() == ["no loss", "no loss", "worse"]
    assert res.matrix().loc["A → B"].tolist() == ["improves"] * 3
    status = {o.regime: o.status for o in res.orderings}
    assert status == {"r1": "holds", "r2": "holds", "r3": "breaks"}
    text = res.statement()
    assert text.startswith("C ≥ B > A (the reference regime r1) holds in 2/3 regimes")
    assert "breaks in r3: B → C worse" in text
    cell = res.cell("r3", ("B", "C"))
    assert 2.0 < cell.median_difference < 4.0 and cell.loss > 2.0
    assert res.ordering_of("r3") == "C < B > A"
    assert "2 steps × 3 regimes" in repr(res) and len(repr(res)) < 200
    frame = res.to_frame()
    assert len(frame) == 6 and {"regime", "parent", "restricted", "verdict"} <= set(frame)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["family"]["hypotheses"] == 18 and payload["family"]["fwer"] == 0.05


def test_one_family_over_all_regimes() -> None:
    """All 3·m·R hypotheses share one weighted step-down family (edftools.stats.multiplicity):
    adjusted p-values are at least the raw ones, and the smallest is the first step's
    p_i / w_i with k = every cell of every regime (a per-regime family would halve it here):
    w = min(1/2, 1 - ω)/k for "better", (1/2)/k for "worse", ω/k for "no loss"."""
    runs = _runs({"r1": (0, 0, 0), "r2": (0, 0, 0)}, n=60, seed=3)
    res = generalize_runs(runs, ["A", "B", "C"], settings=FAST)
    raw = [p for c in res.cells for p in (c.p_better, c.p_worse, c.p_no_loss)]
    adj = [p for c in res.cells for p in (c.p_better_adj, c.p_worse_adj, c.p_no_loss_adj)]
    assert all(a is not None and a >= r - 1e-12 for r, a in zip(raw, adj, strict=True))
    k, share = len(res.cells), NO_LOSS_SHARE
    assert k == 4  # 2 steps x 2 regimes
    first = k * min(
        min(c.p_better / min(0.5, 1 - share), c.p_worse / 0.5, c.p_no_loss / share)
        for c in res.cells
    )
    assert min(adj) == pytest.approx(min(1.0, first), rel=1e-9) and min(adj) < 1


@pytest.mark.slow
def test_family_wise_false_claims_under_the_null() -> None:
    """No true difference anywhere (3 regimes × 2 steps): a false claim (improves, worse,
    mixed) in the whole matrix in at most α of studies (+ MC error): 60 studies, ≤ 8 (n = 120)."""
    false = 0
    for seed in range(60):
        runs = _runs({"r1": (0, 0, 0), "r2": (0, 0, 0), "r3": (0, 0, 0)}, n=120, seed=seed)
        res = generalize_runs(runs, ["A", "B", "C"], settings=Settings(n_boot=20, seed=seed))
        false += any(c.verdict in ("improves", "worse", "mixed") for c in res.cells)
    assert false <= 8


def _looks(regime: str, steps: list[tuple[str, str]], verdicts: list[str], alpha: float):
    design = json.dumps(
        {
            "look_every": 50,
            "max_n": 100,
            "alpha": alpha,
            "spending": "obrien-fleming",
            "margin": {"value": 2.0, "unit": "pp", "q_range": [0.1, 0.5]},
            "normalize": "flops",
            "bins": 8,
            "error_column": "error",
        }
    )
    rows = []
    for look in (1, 2):
        for k, ((p, r), v) in enumerate(zip(steps, verdicts, strict=True)):
            rows.append(
                {
                    "sweep": regime,
                    "look": look,
                    "step": k,
                    "parent": p,
                    "restricted": r,
                    "n_parent": 50 * look,
                    "n_restricted": 50 * look,
                    "fraction": look / 2,
                    "d_better": 0.3,
                    "d_worse": 0.0,
                    "loss": -1.0,
                    "p_better": 1e-4,
                    "p_worse": 0.9,
                    "p_no_loss": 1e-4,
                    "level_better": 0.002,
                    "level_worse": 0.002,
                    "level_no_loss": 0.002,
                    "rejected_better": True,
                    "rejected_worse": False,
                    "rejected_no_loss": True,
                    "n_perm": 999,
                    "borderline": False,
                    "verdict": v if look == 2 else "inconclusive",
                    "decided": look == 2 and v != "inconclusive",
                    "design": design,
                }
            )
    return pd.DataFrame(rows)


def test_sequential_regimes_keep_their_verdicts_and_their_alpha() -> None:
    runs = _runs({"s1": (0, -2, -2), "s2": (0, -2, -2), "f": (0, -2, -2)})
    steps = [("A", "B"), ("B", "C")]
    looks = pd.concat(
        [
            _looks("s1", steps, ["improves", "no loss"], 0.0125),
            _looks("s2", steps, ["improves", "inconclusive"], 0.0125),
        ]
    )
    res = generalize_runs(runs, ["A", "B", "C"], settings=FAST, looks=looks)
    fam = res.family
    assert fam["kind"] == "sequential + fixed-n"
    assert fam["sequential_alpha"] == {"s1": 0.0125, "s2": 0.0125}
    assert fam["fixed_alpha"] == pytest.approx(0.025) and fam["fwer"] == pytest.approx(0.05)
    s2 = res.cell("s2", ("B", "C"))
    assert s2.verdict == "inconclusive" and s2.sequential and s2.decided_at is None
    assert s2.n_needed is not None and s2.n_needed > 0  # plan on its parent as a pilot
    assert res.cell("s1", ("A", "B")).decided_at == 100
    assert res.cell("s1", ("A", "B")).n_parent == 100  # the models of its last look
    assert res.cell("f", ("A", "B")).sequential is False
    assert {o.regime: o.status for o in res.orderings}["s2"] == "undecided"
    assert res.settings.margin_value == 2.0  # read on the sequential design's basis
    # the sequential regimes spend more than alpha: nothing left for a fixed one
    with pytest.raises(StatsInputError, match="nothing is left for the fixed-n regimes"):
        generalize_runs(runs, ["A", "B", "C"], settings=Settings(alpha=0.02), looks=looks)


def test_library_reads_columns_and_regime_labels() -> None:
    runs = _runs({"mnist": (0, -2, -2), "cifar": (0, -2, -2)}).rename(
        columns={"sweep": "dataset_name", "flops": "latency_ms", "error": "top1"}
    )
    res = edftools.generalize(
        runs, ["A", "C"], regime="dataset_name", error="top1", complexity="latency_ms", n_boot=30
    )
    assert res.regimes == ("mnist", "cifar") and res.chain == ("A", "C")
    assert res.settings.normalize == "latency_ms" and res.settings.error_column == "top1"
    fig = edftools.plot.regimes(res)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    ax = edftools.plot.verdict_matrix(res)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A → C"]


def test_bad_input_is_one_line() -> None:
    runs = _runs({"r1": (0, 0, 0), "r2": (0, 0, 0)}, n=60)
    with pytest.raises(StatsInputError, match="at least two regimes"):
        generalize_runs(runs[runs["sweep"] == "r1"], ["A", "B"])
    with pytest.raises(StatsInputError, match="regime 'r2'"):
        generalize_runs(runs[~((runs["sweep"] == "r2") & (runs["space"] == "B"))], ["A", "B"])
    with pytest.raises(StatsInputError, match="no regime column"):
        generalize_runs(runs, ["A", "B"], regime="dataset")
    with pytest.raises(StatsInputError, match="at least two spaces"):
        generalize_runs(runs, ["A"])


def test_default_chain_and_regimes_of_a_stored_study() -> None:
    runs = _runs({"r1": (0, 0, 0), "r2": (0, 0, 0)}, n=5).replace(
        {"space": {"A": "AnyNetX_A", "B": "RegNetX", "C": "Mine"}}
    )
    assert shared_chain(runs, "sweep", ["r1", "r2"]) == ("AnyNetX_A", "RegNetX")
    other = runs.replace({"space": {"AnyNetX_A": "X1", "RegNetX": "X2"}})
    assert shared_chain(other, "sweep", ["r1", "r2"]) == ("X1", "X2", "Mine")

    def identity(study: str, name: str, index: int, changes: dict) -> str:
        regime = {"study": study, "name": name, "index": index, "count": 2, "changes": changes}
        return json.dumps({"sweep": f"{study}.{name}", "regime": regime})

    sweeps = pd.DataFrame(
        {
            "name": ["s.b", "s.a", "other"],
            "recipe": [
                identity("s", "b", 1, {"schedule": {"epochs": 10}}),
                identity("s", "a", 0, {}),
                "[sweep]\nname = 'other'\n",
            ],
        }
    )
    assert regime_sweeps(sweeps) == [
        ("s.a", "the recipe as written"),
        ("s.b", "schedule.epochs = 10"),
    ]
    assert regime_sweeps(sweeps.iloc[2:]) == []
    with pytest.raises(StatsInputError, match="no regimes study 'x' in the store; studies: s"):
        regime_sweeps(sweeps, "x")


def test_seed_noise_per_regime_flags_cells_within_it() -> None:
    """Reruns (rows with ``rerun_of``) give each regime's seed-noise SD; a step whose median
    difference is below it is flagged, the reruns never enter the EDFs."""
    runs = _runs({"r1": (0, 0.05, -3), "r2": (0, 0.05, -3)}, n=100, seed=5)
    runs["run_id"] = [f"id{i}" for i in range(len(runs))]
    runs["rerun_of"] = None
    rng = np.random.default_rng(6)
    first = runs.groupby(["sweep", "space"]).head(20)
    reruns = first.assign(
        run_id=first["run_id"] + "r",
        rerun_of=first["run_id"],
        error=first["error"] + rng.normal(0, 1.0, len(first)),
    )
    both = pd.concat([runs, reruns], ignore_index=True)
    res = generalize_runs(both, ["A", "B", "C"], settings=FAST)
    plain = generalize_runs(runs, ["A", "B", "C"], settings=FAST)
    assert res.matrix().equals(plain.matrix())  # reruns are not samples
    table = res.seed_noise["r1"]
    assert table is not None and set(table.per_space) == {"A", "B", "C"}
    sd = table.per_space["A"].sd
    assert 0.5 < sd < 1.1  # rerun noise N(0, 1) on the difference: SD 1/sqrt(2)
    ab, bc = res.cell("r1", ("A", "B")), res.cell("r1", ("B", "C"))
    assert ab.within_seed_noise is True and bc.within_seed_noise is False
    assert ab.seed_sd is not None and "seed_noise" in res.to_dict(bands=False)
    from edftools.report.generalize_report import to_markdown

    md = to_markdown(res)
    assert "## Seed noise" in md and "within seed noise" in md
    assert plain.seed_noise == {"r1": None, "r2": None} and "Seed noise" not in to_markdown(plain)


def test_an_inconclusive_reference_claims_nothing_and_disagreements_are_named() -> None:
    runs = _runs({"r1": (0, -2, -2), "r2": (0, -2, -2), "r3": (0, -2, 1.5)}, n=120, seed=9)
    ref_only = runs[runs["sweep"] == "r1"].copy()
    ref_only = ref_only.groupby("space").head(12)  # too few models: inconclusive reference
    small = pd.concat([ref_only, runs[runs["sweep"] != "r1"]], ignore_index=True)
    plain = Settings(n_boot=50, normalize="none")
    res = generalize_runs(small, ["A", "B", "C"], settings=plain)
    bc = res.matrix().loc["B → C"].tolist()
    assert bc[0] == "inconclusive" and bc[1] == "no loss" and bc[2] == "worse"
    text = res.statement()
    assert "B → C: regimes disagree: no loss in r2; worse in r3 (largest loss" in text
