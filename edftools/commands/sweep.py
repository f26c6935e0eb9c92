"""``edftools sweep RECIPE``: sample a recipe's configs, train them in worker processes, store.

Re-running the same command resumes: runs already in the store (same run id) are skipped.
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
    help="Worker processes (default: the recipe's workers).",
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
    n: int | None,
    spaces: tuple[str, ...],
    progress: bool,
    backend: str,
    address: str | None,
) -> None:
    """Sample, train and store the models of RECIPE (a TOML file; resumable)."""
    from edftools.recipe import load_recipe
    from edftools.train.sweep import plan_sweep

    if address is not None and backend != "ray":
        raise click.UsageError("--address needs --backend ray")
    if backend == "ray":
        from edftools.train.ray_executor import import_ray

        import_ray()  # says how to install Ray before anything is created
    rec = load_recipe(recipe)
    plan = plan_sweep(rec, n=n, spaces=spaces or None)

    from edftools.store import open_store
    from edftools.train.executors import LocalProcessExecutor, default_threads
    from edftools.train.sweep import execute_plan

    k = workers if workers is not None else rec.workers
    store = open_store(store_path)
    try:
        click.echo(
            f"sweep {rec.name}: {len(plan.runs)} runs planned over "
            f"{len({r.space for r in plan.runs})} space(s), {k} worker(s) x "
            f"{default_threads(k)} thread(s), device {rec.device}",
            err=True,
        )
        if backend == "ray":
            from edftools.train.ray_executor import RayExecutor

            executor = RayExecutor.for_recipe(rec, address=address, max_in_flight=workers)
            click.echo(
                f"sweep {rec.name}: Ray at {executor.address}, "
                f"{executor.capacity} run(s) in flight",
                err=True,
            )
        else:
            executor = LocalProcessExecutor(k, timeout_s=rec.failure.timeout_s)
        with executor:
            summary = execute_plan(plan, store, executor, progress=progress)
    finally:
        store.close()
    click.echo(f"sweep {rec.name}: {summary.line()}")
