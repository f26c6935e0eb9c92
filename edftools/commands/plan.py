"""``edftools plan``: how many models per space decide a restriction step, from a pilot.

The pilot is a space already in the store (its runs' errors, and complexities when
normalized); the answer is simulated with the verdict's own tests (``edftools.stats.plan``).
"""

from __future__ import annotations

import json

import click

from edftools.commands.report import ERROR_HELP, STORE_HELP, make_margin


@click.command("plan")
@click.argument("pilot")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--sweep", default=None, help="Only runs of this sweep.")
@click.option(
    "--normalize",
    type=click.Choice(("flops", "params", "none")),
    default="flops",
    show_default=True,
    help="Complexity normalization of the EDFs (NDS), or none.",
)
@click.option("--bins", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--margin", type=click.FloatRange(0, min_open=True), default=None)
@click.option("--margin-unit", type=click.Choice(("pp", "edf")), default="pp", show_default=True)
@click.option("--margin-range", default="0.1:0.5", show_default=True)
@click.option(
    "--effect",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Improvement to detect, in error points (default: the margin).",
)
@click.option("--power", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.8)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Steps in the family (a chain of 6 spaces has 5).",
)
@click.option(
    "--error-column",
    type=click.Choice(("error", "best_error")),
    default="error",
    show_default=True,
    help=ERROR_HELP,
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_cmd(
    pilot: str,
    store_path: str | None,
    sweep: str | None,
    normalize: str,
    bins: int,
    margin: float | None,
    margin_unit: str,
    margin_range: str,
    effect: float | None,
    power: float,
    alpha: float,
    steps: int,
    error_column: str,
    seed: int,
    as_json: bool,
) -> None:
    """Models per space for a step to end "no loss" if the spaces are equal and "improves"
    if the restricted space is better by --effect, each with probability --power, simulated
    from the runs of the PILOT space."""
    from edftools.commands.report import _runs
    from edftools.report.data import select_runs
    from edftools.report.measure import build_samples
    from edftools.stats import plan

    frame, names = select_runs(_runs(store_path, sweep), [pilot], error_column, sweep)
    (sample,) = build_samples(frame, names, normalize, bins)
    complexity = None if sample.complexity is None else sample.complexity[sample.used]
    result = plan(
        sample.stratified.errors,
        pilot_complexity=complexity,
        bins=bins,
        margin=make_margin(margin, margin_unit, margin_range),
        effect=effect,
        power=power,
        alpha=alpha,
        steps=steps,
        seed=seed,
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


def _n(value: int | None) -> str:
    return "more than 20,000" if value is None else f"{value:,}"
