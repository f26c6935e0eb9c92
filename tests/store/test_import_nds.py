"""``import --format nds``: the NDS data release's files, both forms, into the store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from nds_release import EPOCHS, darts_record, reseeded, resnext_record, vanilla_record, write

from edftools.spaces import NetConfig, complexity
from edftools.store import import_file, load_import_file, open_store


def _resnext_files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    a = [resnext_record(rng, i, group_max=1) for i in range(60)]  # ResNeXt-A: g = 1
    b = [resnext_record(rng, 100 + i, group_max=4) for i in range(60)]
    return write(tmp_path / "ResNeXt-A.json", a), write(tmp_path / "ResNeXt-B.json", b)


def test_list_file_maps_every_field(tmp_path: Path, store_path: Path) -> None:
    path, _ = _resnext_files(tmp_path)
    records = json.loads(path.read_text())
    batch = import_file(store_path, path, "nds")
    assert batch.notes == ()
    store = open_store(store_path, read_only=True)
    runs = store.runs_frame().set_index("run_id")
    assert len(runs) == 60 and set(runs.space) == {"ResNeXt-A"} == set(runs.sweep)
    assert set(runs.dataset) == {"cifar10"} and set(runs.source) == {"import:nds"}
    by_job = {r["job_id"]: r for r in records}
    for _, row in runs.iterrows():
        optim = json.loads(row.optim)
        rec = next(r for r in records if r["test_ep_top1"][-1] == row.error)
        assert rec is by_job[rec["job_id"]] and optim == rec["optim"]
        assert (row.best_error, row.epochs, row.seed) == (rec["min_test_top1"], EPOCHS, 1)
        assert (row.flops, row.params) == (rec["flops"], rec["params"])
        cfg = NetConfig.from_json(row.config)
        assert cfg.depths == rec["net"]["ds"] and cfg.widths == rec["net"]["ws"]
        assert cfg.bottleneck_ratios == [1 / b for b in rec["net"]["bot_muls"]]
        inner = [
            round(w * b) for w, b in zip(rec["net"]["ws"], rec["net"]["bot_muls"], strict=True)
        ]
        assert cfg.group_widths == [
            v // g for v, g in zip(inner, rec["net"]["num_gs"], strict=True)
        ]
        assert (cfg.block_type, cfg.stem_type, cfg.resolution) == ("X", "small", 32)
        assert row.acts == complexity(cfg).acts
    epochs = store.query("SELECT * FROM run_epochs ORDER BY run_id, epoch")
    first = epochs[epochs.run_id == runs.index[0]]
    rec = next(r for r in records if r["test_ep_top1"][-1] == runs.iloc[0].error)
    assert list(first.test_error) == rec["test_ep_top1"]
    assert list(first.train_error) == rec["train_ep_top1"]
    assert list(first.train_loss) == rec["train_ep_loss"]


def test_top_mid_file_genotypes_and_detection(tmp_path: Path, store_path: Path, cli) -> None:
    rng = np.random.default_rng(1)
    reruns = {
        "top": [vanilla_record(rng, i) for i in range(3)],
        "mid": [vanilla_record(rng, 10 + i) for i in range(2)],
    }
    path = write(tmp_path / "Vanilla_reruns.json", reruns)
    darts = write(tmp_path / "DARTS.json", [darts_record(rng, i) for i in range(2)])
    # no --format: a .json that looks like the NDS release is read as NDS
    code, _, err = cli("import", str(path), "--store", str(store_path))
    assert code == 0, err
    code, _, err = cli("import", str(darts), "--store", str(store_path))
    assert code == 0 and "2 record(s) imported without a config: a cell-based" in err
    runs = open_store(store_path, read_only=True).runs_frame().set_index("space")
    vanilla = runs.loc["Vanilla_reruns"]
    assert len(vanilla) == 5
    assert {NetConfig.from_json(c).block_type for c in vanilla.config} == {"V"}
    cells = runs.loc["DARTS"]
    assert cells.config.isna().all() and set(cells.params) == {512_345}
    assert set(cells.flops) == {81_234_567}


def test_complexity_mismatch_is_reported_per_record(tmp_path: Path, store_path: Path) -> None:
    rng = np.random.default_rng(2)
    records = [resnext_record(rng, i, 4) for i in range(3)]
    records[1]["flops"] += 1000
    path = write(tmp_path / "ResNeXt-B_in.json", records)
    batch = load_import_file(path, "nds")
    # _in: NDS's ImageNet files (224 px, 1000 classes): these CIFAR nets compute to other
    # numbers there, so every record is reported, each on its own line
    report = [n for n in batch.notes if "complexity mismatch" in n]
    assert [n.split(": complexity")[0] for n in report] == [
        f"ResNeXt-B_in.json: record {i}" for i in range(3)
    ]
    assert all(r["dataset"] == "imagenet" and r["resolution"] == 224 for r in batch.runs)
    path = write(tmp_path / "ResNeXt-B.json", records)
    batch = import_file(store_path, path, "nds")
    report = [n for n in batch.notes if "complexity mismatch" in n]
    assert len(report) == 1 and "record 1: complexity mismatch: the file has flops" in report[0]
    runs = open_store(store_path, read_only=True).runs_frame()
    flagged = runs[runs.message.notna()]
    assert len(flagged) == 1 and flagged.iloc[0].flops == records[1]["flops"]


def test_malformed_nds_file_imports_nothing(tmp_path: Path, store_path: Path, cli) -> None:
    rng = np.random.default_rng(3)
    records = [resnext_record(rng, i, 4) for i in range(3)]
    records[2]["test_ep_top1"][1] = "x"
    path = write(tmp_path / "bad.json", records)
    code, _, err = cli("import", str(path), "--format", "nds", "--store", str(store_path))
    assert code == 2 and err.count("\n") == 1
    assert re.search(r"record 2: field 'test_ep_top1': expected a number", err), err
    assert not store_path.exists()
    write(path, {"top": records[:1], "best": []})
    code, _, err = cli("import", str(path), "--format", "nds", "--store", str(store_path))
    assert code == 2 and "expected a JSON list of records or {top, mid} lists" in err


def test_compare_resnext_a_b_normalized_by_params(tmp_path: Path, store_path: Path, cli) -> None:
    for path in _resnext_files(tmp_path):
        assert cli("import", str(path), "--format", "nds", "--store", str(store_path))[0] == 0
    code, out, err = cli(
        "compare",
        "ResNeXt-A",
        "ResNeXt-B",
        "--normalize",
        "params",
        "--bins",
        "4",
        "--store",
        str(store_path),
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert "ResNeXt-A" in json.dumps(result) and "ResNeXt-B" in json.dumps(result)


def test_rng_and_reruns_files_import_as_reruns_of_their_originals(
    tmp_path: Path, store_path: Path
) -> None:
    rng = np.random.default_rng(5)
    records = [resnext_record(rng, i, group_max=4) for i in range(12)]
    original = write(tmp_path / "ResNeXt.json", records)
    rng1 = write(tmp_path / "ResNeXt_rng1.json", records[:6])  # the original seed: skipped
    rng2 = write(tmp_path / "ResNeXt_rng2.json", [reseeded(rng, r, 2) for r in records[:6]])
    other = resnext_record(rng, 99, group_max=4)  # a config with no original
    top = {"top": [reseeded(rng, r, 7) for r in records[:2]], "mid": [other]}
    reruns = write(tmp_path / "ResNeXt_reruns.json", top)
    import_file(store_path, original, "nds")
    assert "6 identical to their original skipped" in import_file(store_path, rng1).notes[0]
    assert import_file(store_path, rng2).notes == (
        "6 record(s) imported as reruns of ResNeXt runs of the same config",
    )
    notes = import_file(store_path, reruns).notes
    assert "2 record(s) imported as reruns" in notes[0] and "1 record(s) match no" in notes[1]
    store = open_store(store_path, read_only=True)
    runs = store.runs_frame()
    base = runs[runs.space == "ResNeXt"]
    assert len(base) == 12 + 6 + 2 and set(base.sweep) == {"ResNeXt"}
    originals = base[base.rerun_of.isna()].set_index("run_id")
    linked = base[base.rerun_of.notna()]
    assert len(originals) == 12 and set(linked.rerun_of) <= set(originals.index)
    assert (linked.config.to_numpy() == originals.loc[linked.rerun_of, "config"].to_numpy()).all()
    assert sorted(linked.replicate) == [2] * 6 + [3, 3]  # reruns numbered after rng2
    assert sorted(linked.seed) == [2] * 6 + [7, 7]
    assert list(runs[runs.space == "ResNeXt_reruns"].rerun_of.isna()) == [True]
    epochs = store.epochs_frame(list(linked.run_id))
    assert epochs.groupby("run_id").size().tolist() == [EPOCHS] * 8
    from edftools.analysis.seednoise import seed_noise_table

    table = seed_noise_table(runs, ["ResNeXt"])
    assert table is not None and table.per_space["ResNeXt"].n_configs == 6
