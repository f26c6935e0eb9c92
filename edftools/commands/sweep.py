"""``edftools sweep RECIPE``: sample a recipe's configs, train them in worker processes, store.

Re-running the same command resumes: runs the store already settles are skipped (ok,
diverged, and failed runs whose failure is the config's own; environment failures are re-run,
``--retry-failed`` re-runs every failed run). Before any worker starts, the sweep checks the
device, the dataset and a one-batch dry run of the first pending run (exit 2, one line). When
every run it trained failed, it exits 2 with the most common failure. A recipe's ``reruns``
option also trains seed-noise reruns (a seeded subset of the planned configs with other seeds;
counted in the plan line, never part of an EDF); adding it to an existing sweep's recipe
resumes that sweep, and ``--until-decided`` first trains the reruns of the looks already taken.
"""

from __future__ import annotations

import click


@click.command("sweep")
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--store",
    "store_path",
    default=None,
    help="Store file (default: EDFTOOLS_STORE or data/edftools.duckdb).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Runs trained at once (default: the recipe's workers); capped at the pending runs "
    "and, locally, at the usable cores / threads per run. Never changes what a run computes.",
)
@click.option(
    "--oversubscribe",
    is_flag=True,
    default=False,
    help="Do not cap local workers at the usable cores (still capped at the pending runs).",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=None,
    help="Models per space (default: the recipe's n); runs are planned by index, so "
    "a larger n later resumes.",
)
@click.option(
    "--space", "spaces", multiple=True, help="Only this space of the recipe (repeatable)."
)
@click.option(
    "--regime",
    "regimes",
    multiple=True,
    help="With a recipe that declares [[regimes]]: only this regime (repeatable; default: "
    "every regime, in the recipe's order).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    default=False,
    help="Also re-run stored runs that failed because of their config (runs that failed "
    "because of the environment are always re-run).",
)
@click.option(
    "--until-decided",
    is_flag=True,
    default=False,
    help="Train in looks (the recipe's [sequential] table) until every step of its chain is "
    "decided, max_n models per space are reached, or --budget is spent; resumable.",
)
@click.option(
    "--budget",
    default=None,
    help="With --until-decided: wall time after which no new look starts, e.g. 2h, 90m, 600s.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show a progress bar on stderr.",
)
@click.option(
    "--backend",
    type=click.Choice(("local", "ray")),
    default="local",
    show_default=True,
    help="Where runs train: local worker processes, or Ray tasks (pip install 'edftools[ray]').",
)
@click.option(
    "--address",
    default=None,
    help="With --backend ray: the cluster to join ('auto', "
    "'ray://head:10001' or host:port); default: start a local Ray instance.",
)
def sweep_cmd(
    recipe: str,
    store_path: str | None,
    workers: int | None,
    oversubscribe: bool,
    n: int | None,
    spaces: tuple[str, ...],
    regimes: tuple[str, ...],
    retry_failed: bool,
    until_decided: bool,
    budget: str | None,
    progress: bool,
    backend: str,
    address: str | None,
) -> None:
    """Sample, train and store the models of RECIPE (a TOML file; resumable), and the
    seed-noise reruns its ``reruns`` option asks for."""
    from edftools.train.extra import require_training

    require_training()  # a stats-only install says which extra to install, in one line
    if address is not None and backend != "ray":
        raise click.UsageError("--address needs --backend ray")
    if budget is not None and not until_decided:
        raise click.UsageError("--budget needs --until-decided")
    if until_decided and (n is not None or spaces):
        raise click.UsageError("--until-decided plans n and spaces itself (no --n/--space)")
    if backend == "ray":
        from edftools.train.ray_executor import import_ray

        import_ray()  # says how to install Ray before the recipe is read
    # local workers: their server started before click (edftools.cli.main, start_for_command)
    from edftools.recipe import load_recipe
    from edftools.sweeping import run_sweep

    rec = load_recipe(recipe)
    budget_s = parse_duration(budget) if budget is not None else None

    outcome = run_sweep(
        rec,
        store_path,
        workers=workers,
        oversubscribe=oversubscribe,
        n=n,
        spaces=spaces,
        retry_failed=retry_failed,
        until_decided=until_decided,
        budget_s=budget_s,
        progress=progress,
        backend=backend,
        address=address,
        echo=lambda text: click.echo(text, err=True),
        regimes=regimes,
    )
    for line in outcome.line().splitlines():
        click.echo(f"sweep {rec.name}: {line}")
    outcome.raise_if_all_failed()  # exit 2 with the most common failure


def parse_duration(text: str) -> float:
    """Seconds in ``2h``, ``90m``, ``600s`` or ``600`` (a one-line usage error otherwise)."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    t = text.strip().lower()
    scale = units.get(t[-1:])
    number = t[:-1] if scale is not None else t
    try:
        value = float(number) * (scale or 1.0)
    except ValueError:
        raise click.BadParameter(
            f"expected a duration like 2h, 90m or 600s, got {text!r}", param_hint="--budget"
        ) from None
    if not value > 0:
        raise click.BadParameter(f"must be positive, got {text!r}", param_hint="--budget")
    return value
