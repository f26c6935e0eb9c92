"""``edftools plan``: how many models per space decide a restriction step, from a pilot.

The pilot is a space already in the store (its runs' errors, and complexities when
normalized); the answer is simulated with the verdict's own tests (``edftools.stats.plan``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from edftools.commands.options import STORE_HELP, pop_settings, setting_options


@click.command("plan")
@click.argument("pilot")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--sweep", default=None, help="Only runs of this sweep.")
@setting_options()
@click.option(
    "--effect",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Improvement to detect, in error points  [default: the margin]",
)
@click.option(
    "--power",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="Probability that the step ends with the right verdict (no loss if equal, improves "
    "if better by --effect).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Steps in the family (a chain of 6 spaces has 5).",
)
@click.option(
    "--sequential",
    is_flag=True,
    help="Simulate a sequential study (sweep --until-decided) of --steps steps instead.",
)
@click.option(
    "--look-every",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Models per space added at each look (--sequential).",
)
@click.option(
    "--max-n",
    type=click.IntRange(min=1),
    default=600,
    show_default=True,
    help="Models per space at most (--sequential).",
)
@click.option(
    "--spending",
    type=click.Choice(("obrien-fleming", "pocock")),
    default="obrien-fleming",
    show_default=True,
    help="Lan–DeMets spending function of alpha over the looks (--sequential).",
)
@click.option(
    "--simulations",
    type=click.IntRange(min=10),
    default=100,
    show_default=True,
    help="Simulated studies (--sequential).",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="With --sequential: a progress bar of the simulated studies on stderr.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_cmd(
    pilot: str,
    store_path: str | None,
    sweep: str | None,
    effect: float | None,
    power: float,
    steps: int,
    sequential: bool,
    look_every: int,
    max_n: int,
    spending: str,
    simulations: int,
    progress: bool,
    as_json: bool,
    **settings: Any,
) -> None:
    """Models per space for a step to end "no loss" if the spaces are equal and "improves"
    if the restricted space is better by --effect, each with probability --power, simulated
    from the runs of the PILOT space."""
    from edftools.analysis.runs import select_runs
    from edftools.analysis.samples import build_samples
    from edftools.commands.report import read_store
    from edftools.stats import plan

    cfg = pop_settings(settings)
    frame, names = select_runs(read_store(store_path, sweep).runs, [pilot], cfg.error_column, sweep)
    (sample,) = build_samples(frame, names, cfg.normalize, cfg.bins)
    complexity = None if sample.complexity is None else sample.complexity[sample.used]
    alpha = cfg.alpha
    if sequential:
        from edftools.stats import SequentialDesign
        from edftools.stats.sequential import simulate_sequential_plan

        design = SequentialDesign(look_every, max_n, alpha, spending)  # type: ignore[arg-type]
        from tqdm import tqdm

        with tqdm(
            total=2 * simulations,
            desc="simulated studies",
            unit="study",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        ) as bar:  # the studies take ~0.15 s each: a long plan shows its progress
            report = simulate_sequential_plan(
                sample.stratified,
                steps,
                design,
                cfg.margin_rule,
                effect,
                simulations,
                cfg.seed,
                bar.update,
            )
        click.echo(json.dumps(report, indent=2) if as_json else format_sequential(report))
        return
    result = plan(
        sample.stratified.errors,
        pilot_complexity=complexity,
        bins=cfg.bins,
        margin=cfg.margin_rule,
        effect=effect,
        power=power,
        alpha=alpha,
        steps=steps,
        seed=cfg.seed,
    )
    if as_json:
        out = {
            "pilot": names[0],
            "pilot_n": sample.n,
            "n": result.n,
            "n_no_loss": result.n_no_loss,
            "n_improves": result.n_improves,
            "margin": result.margin.describe(),
            "effect": result.effect,
            "power": result.power,
            "alpha": result.alpha,
            "steps": result.steps,
            "curve": [
                {"n": n, "p_no_loss_if_equal": a, "p_improves_if_better": b}
                for n, a, b in result.curve
            ],
        }
        click.echo(json.dumps(out, indent=2))
        return
    need = "more than 20,000" if result.n is None else f"{result.n:,}"
    click.echo(
        f"pilot {names[0]} ({sample.n} models), margin {result.margin.describe()}, "
        f"effect {result.effect:g} pp, power {power:g}, alpha {alpha:g} over {steps} step(s)"
    )
    click.echo(f"models per space: {need}")
    click.echo(f"  no loss if the spaces are equal:        {_n(result.n_no_loss)}")
    click.echo(f"  improves if better by {result.effect:g} pp:           {_n(result.n_improves)}")
    click.echo("simulated: n, P(no loss | equal), P(improves | better)")
    for n, a, b in result.curve:
        click.echo(f"  {n:>7,}  {a:.3f}  {b:.3f}")


def format_sequential(r: dict[str, Any]) -> str:
    """The sequential plan as text."""
    equal, better = r["equal"], r["improving"]
    return "\n".join(
        [
            f"sequential study of {r['steps']} step(s) from a pilot of {r['pilot_n']} models: "
            f"looks every {r['look_every']} up to {r['max_n']} per space, {r['spending']} "
            f"spending, alpha {r['alpha']:g}, margin {r['margin']}; "
            f"{r['simulations']} simulated studies each",
            f"  all spaces equal:  E[models per space] {equal['expected_models_per_space']:.0f}, "
            f"P(every step no loss) {equal['p_all_no_loss']:.2f}, "
            f"P(any false claim) {equal['p_any_false_claim']:.3f}",
            f"  each better by {r['effect']:g} pp: E[models per space] "
            f"{better['expected_models_per_space']:.0f}, "
            f"P(every step improves) {better['p_all_improves']:.2f}",
        ]
    )


def _n(value: int | None) -> str:
    return "more than 20,000" if value is None else f"{value:,}"
