"""RegNet generation, group compatibility and fit_regnet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edftools.errors import ConfigError
from edftools.spaces import fit_regnet, generate_regnet, regnet_config

# vendored reference data: every clone checks it (never a machine path, never skipped)
ZOO = Path(__file__).resolve().parents[1] / "data" / "regnet_zoo_params.json"


def test_generation_follows_the_formula():
    g = generate_regnet(24, 36.44, 2.49, 13)
    u = 24 + 36.44 * np.arange(13)
    k = np.round(np.log(u / 24) / np.log(2.49))
    expected = (np.round(24 * 2.49**k / 8) * 8).astype(int)
    assert list(g.block_widths) == expected.tolist()
    assert g.widths == (24, 56, 152, 368) and g.depths == (1, 1, 4, 7)
    assert g.total_stages == 4 and sum(g.depths) == 13


def test_group_compatibility_regnetx_8gf():
    net = regnet_config(80, 49.56, 2.88, 23, 120)
    assert net.widths == [80, 240, 720, 1920]
    assert net.group_widths == [80, 120, 120, 120]  # first stage: w = 80 < g = 120
    assert net.depths == [2, 5, 15, 1]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(w0=24, wa=36.0, wm=1.0, depth=13, group_width=8),
        dict(w0=20, wa=36.0, wm=2.5, depth=13, group_width=8),
        dict(w0=24, wa=36.0, wm=2.5, depth=-3, group_width=8),
        dict(w0=24, wa=-1.0, wm=2.5, depth=13, group_width=8),
        dict(w0=24, wa=36.0, wm=2.5, depth=13, group_width=0),
    ],
)
def test_bad_regnet_parameters(kwargs):
    with pytest.raises(ConfigError):
        regnet_config(**kwargs)


def test_fit_recovers_zoo_models_exactly():
    zoo = json.loads(ZOO.read_text())["models"]
    for name, m in zoo.items():
        p = m["params"]
        gen = generate_regnet(p["w0"], p["wa"], p["wm"], p["depth"])
        fit = fit_regnet(gen.block_widths)
        assert fit.e_fit == 0.0, name
        assert fit.predicted == gen.block_widths
        assert fit.w0 == p["w0"] and fit.depth == p["depth"]
        assert generate_regnet(fit.w0, fit.wa, fit.wm, fit.depth).widths == gen.widths


def test_fit_is_close_on_random_regnets_and_poor_on_non_regnets():
    rng = np.random.default_rng(0)
    errs = []
    for _ in range(10):
        w0 = 8 * int(rng.integers(2, 24))
        wa, wm = float(rng.uniform(10, 80)), float(rng.uniform(1.8, 2.9))
        gen = generate_regnet(w0, round(wa, 1), round(wm, 3), int(rng.integers(8, 25)))
        errs.append(fit_regnet(gen.block_widths).e_fit)
    assert np.median(errs) == 0.0 and max(errs) < 0.03
    zigzag = fit_regnet([64, 512, 64, 512, 64, 512, 64, 512])
    assert zigzag.e_fit > 0.5


def test_fit_bad_input():
    for bad in ([], [0, 8], [8, float("nan")]):
        with pytest.raises(ConfigError):
            fit_regnet(bad)


def _mixed_models(n: int) -> list[list[int]]:
    from edftools.spaces import get_space

    out = []
    for i, name in enumerate(("AnyNetX_A", "AnyNetX_E", "RegNetX")):
        batch = get_space(name).sample_batch(n, seed=i, bands={"flops": (360e6, 400e6)})
        out += [net.block_widths for net in batch.configs]
    return out


def test_fit_batch_equals_single_fits_in_any_order():
    from edftools.spaces import fit_regnet_batch
    from edftools.spaces.regnet_fit import fit_errors

    models = [*_mixed_models(4), [64, 512, 64, 512], [80] * 10]
    batch = fit_regnet_batch(models)
    assert batch == [fit_regnet(m) for m in models]
    assert fit_regnet_batch(models[::-1])[::-1] == batch
    for m, fit in zip(models, batch, strict=True):
        direct = fit_errors(np.log(m), [fit.w0], [fit.wa], [fit.wm])[0]
        assert fit.e_fit == direct and fit.depth == len(m)


def test_fit_ties_go_to_the_smallest_parameters():
    # a constant-width model is fit exactly by wa = 0 with any wm: the smallest wm is reported
    fit = fit_regnet([80] * 12)
    assert (fit.w0, fit.wa, fit.wm, fit.e_fit) == (80, 0.0, 1.5, 0.0)


def _search_one(obs: np.ndarray, k: int = 8) -> tuple[float, float, float, float]:
    """fit_regnet's documented search for one model, written plainly (every candidate
    generated and scored, no batching, sharing or integer keys): coarse grid, then five zooms
    around the k best distinct points, w0 +- 8, wa * exp(+-a_step t), wm +- m_step t on 9 t's
    in [-1, 1], both steps a third per zoom; best = lowest e_fit, then smallest (w0, wa, wm)."""
    from edftools.spaces.regnet_fit import fit_errors

    log_obs = np.log(obs)
    first = obs[0]
    w0s = np.unique(np.maximum(8.0, 8 * np.round(first / 8) + 8 * np.arange(-2, 3)))
    ratios = np.unique(obs[obs > first] / first)
    wm_data = np.concatenate([ratios ** (1.0 / j) for j in range(1, 5)])
    wm_data = wm_data[(wm_data >= 1.5) & (wm_data <= 3.0)]
    wms = np.unique(np.round(np.concatenate([np.linspace(1.5, 3.0, 61), wm_data]), 3))
    was = np.concatenate([[0.0], np.round(np.geomspace(0.1, 512.0, 64), 2)])
    points = {(a, b, c) for a in w0s for b in was for c in wms}
    a_step, m_step = np.log(512.0 / 0.1) / 63, 1.5 / 60
    t = np.linspace(-1.0, 1.0, 9)
    for round_ in range(6):
        cand = np.array(sorted(points))
        err = fit_errors(log_obs, cand[:, 0], cand[:, 1], cand[:, 2])
        ranked = sorted(zip(err.tolist(), map(tuple, cand.tolist()), strict=True))
        best = [(p, e) for e, p in ranked[:k]]
        if round_ == 5 or best[0][1] == 0:
            break
        points = {p for p, _ in best}
        for (w0, wa, wm), _ in best:
            for dw in (-8.0, 0.0, 8.0):
                for ta in t:
                    for tm in t:
                        points.add(
                            (
                                max(8.0, w0 + dw),
                                round(wa * np.exp(a_step * ta), 2),
                                round(min(max(wm + m_step * tm, 1.5), 3.0), 3),
                            )
                        )
        a_step, m_step = a_step / 3, m_step / 3
    (w0, wa, wm), e = best[0]
    return w0, wa, wm, e


def test_batched_search_equals_the_plain_search_model_by_model():
    from edftools.spaces import fit_regnet_batch

    rng = np.random.default_rng(7)
    models = [np.array(generate_regnet(24, 20.0, 2.3, 9).block_widths, dtype=float)]
    for d in (5, 5, 9):  # two of one depth: they share the batched rounds
        gen = generate_regnet(
            8.0 * rng.integers(2, 8), rng.uniform(5, 40), rng.uniform(1.6, 2.9), d
        )
        models.append(np.round(np.array(gen.block_widths) * np.exp(rng.normal(0, 0.15, d))))
    fits = fit_regnet_batch(models)
    for m, fit in zip(models, fits, strict=True):
        assert (fit.w0, fit.wa, fit.wm, fit.e_fit) == _search_one(m)


def _random_models(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Per-block widths of random depths 1..40 (several models per depth, so they share the
    batched rounds): random multiples of 8, sorted or not; constant widths (every wm ties at
    wa = 0); exact RegNets (e_fit 0); free integers over a wide range; a repeated model."""
    models: list[np.ndarray] = []
    depths = rng.integers(1, 41, max(1, n // 3))
    for i in range(n):
        d = int(depths[i % depths.size])
        kind = i % 5
        if kind == 0:
            w = 8.0 * rng.integers(1, 200, d)
        elif kind == 1:
            w = np.sort(8.0 * rng.integers(1, 120, d))
        elif kind == 2:
            w = np.full(d, 8.0 * rng.integers(1, 60))
        elif kind == 3:
            w0, wa, wm = 8 * int(rng.integers(2, 30)), rng.uniform(0, 60), rng.uniform(1.5, 3.0)
            w = np.array(generate_regnet(w0, round(wa, 2), round(wm, 3), d).block_widths, float)
        else:
            w = np.round(rng.uniform(1, 5000, d))
        models.append(w)
    return [*models, models[0].copy()]


def _check_against_the_plain_search(seed: int, n: int) -> None:
    from edftools.spaces import fit_regnet_batch

    models = _random_models(np.random.default_rng(seed), n)
    for m, fit in zip(models, fit_regnet_batch(models), strict=True):
        w0, wa, wm, e = _search_one(m)
        assert (fit.w0, fit.wa, fit.wm, fit.e_fit, fit.depth) == (w0, wa, wm, e, m.size)
        assert fit.predicted == generate_regnet(fit.w0, fit.wa, fit.wm, m.size).block_widths


def test_batched_search_equals_the_plain_search_on_random_models():
    _check_against_the_plain_search(seed=11, n=10)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_batched_search_equals_the_plain_search_on_many_random_models(seed):
    _check_against_the_plain_search(seed=100 + seed, n=40)
