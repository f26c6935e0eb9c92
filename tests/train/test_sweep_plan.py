"""Planning of seed-noise reruns: which indices, which seeds, which ids (no training)."""

from __future__ import annotations

from edftools.recipe import parse_recipe
from edftools.train.plan import derive_seed, plan_sweep, rerun_selected

RECIPE = """
name = "plan_reruns"
seed = 3
n = 40
reruns = {{ fraction = {fraction}, seeds = {seeds} }}
[dataset]
name = "digits"
[band]
flops = ["0.05M", "0.15M"]
[[spaces]]
name = "AnyNetX_E"
overrides = {{ preset = "digits" }}
[[spaces]]
name = "AnyNetX_A"
overrides = {{ preset = "digits" }}
"""


def _recipe(fraction: float = 0.25, seeds: int = 2):
    return parse_recipe(RECIPE.format(fraction=fraction, seeds=seeds))


def test_reruns_follow_the_seeded_rule_with_ids_of_their_own() -> None:
    recipe = _recipe()
    plan = plan_sweep(recipe)
    originals, reruns = plan.originals, plan.reruns
    assert len(originals) == 80 and plan.runs[: len(originals)] == originals  # originals first
    by_id = {r.run_id: r for r in originals}
    chosen = {(r.space, r.index) for r in originals if rerun_selected(recipe, r.space, r.index)}
    expected = {
        (r.space, r.index)
        for r in originals
        if derive_seed(recipe.seed, "rerun", r.space, r.index) / 2**31 < 0.25
    }
    assert chosen == expected and 8 <= len(chosen) <= 32
    assert len(reruns) == 2 * len(chosen)
    for r in reruns:
        o = by_id[r.rerun_of]
        assert (r.space, r.index, r.config, r.flops) == (o.space, o.index, o.config, o.flops)
        assert r.seed == derive_seed(recipe.seed, "run", r.space, r.index, "rerun", r.replicate)
        assert r.run_id != o.run_id and r.replicate in (1, 2) and r.is_rerun
    assert len({r.run_id for r in plan.runs}) == len(plan.runs)
    # the originals (and their ids) are those of the recipe without reruns
    plain = plan_sweep(recipe, reruns=False)
    assert plain.runs == originals
    # more models plan more reruns and keep the first ones: resumable
    small = plan_sweep(recipe, n=10)
    assert set(small.reruns) <= set(reruns)
    assert {r.index for r in small.reruns} == {i for s, i in chosen if i < 10}


def test_per_space_counts_and_no_reruns_without_the_option() -> None:
    recipe = _recipe(fraction=1.0, seeds=1)
    plan = plan_sweep(recipe, n={"AnyNetX_A": 3, "AnyNetX_E": 0})
    assert [(r.space, r.index) for r in plan.originals] == [("AnyNetX_A", i) for i in range(3)]
    assert len(plan.reruns) == 3
    assert plan_sweep(recipe, n={}).runs == ()
    plain = parse_recipe(
        RECIPE.format(fraction=0.5, seeds=1).replace("reruns = { fraction = 0.5, seeds = 1 }\n", "")
    )
    assert plain.reruns is None and plan_sweep(plain, n=5).reruns == ()
