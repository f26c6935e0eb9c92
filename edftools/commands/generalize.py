"""``edftools generalize``: does each step's verdict hold across regimes (sweeps, datasets)?

Thin: parse options, read the store, call :func:`edftools.analysis.generalization.generalize`,
print the Markdown (or JSON) and write OUT/generalization.md and .html.
"""

from __future__ import annotations

import json

import click

from edftools.commands.options import STORE_HELP, pop_settings, setting_options


@click.command("generalize")
@click.option(
    "--study",
    default=None,
    help="The regimes of this regimes study (a recipe with [[regimes]]), in the recipe's "
    "order; default: the store's regimes study when it has exactly one, else every sweep.",
)
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    help="A sweep to treat as a regime (repeatable, in order; the first is the reference). "
    "E.g. two imported pycls sweeps at two flops regimes.",
)
@click.option(
    "--by",
    "regime_column",
    default="sweep",
    show_default=True,
    help="The runs column whose values are the regimes (sweep, dataset, or any runs column).",
)
@click.option(
    "--chain",
    default=None,
    help="Spaces in order (A..E = AnyNetX_A..E); default: the paper's chain spaces that every "
    "regime has (AnyNetX_A..E, RegNetX, RegNetY).",
)
@click.option(
    "--fixed",
    is_flag=True,
    default=False,
    help="Test every regime as a fixed-n design even where a sequential sweep's looks cover it.",
)
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for generalization.md and generalization.html.",
)
@click.option("--json", "as_json", is_flag=True, help="Print every number as JSON.")
@setting_options()
@click.option("--store", "store_path", default=None, help=STORE_HELP)
def generalize_cmd(
    study: str | None,
    sweeps: tuple[str, ...],
    regime_column: str,
    chain: str | None,
    fixed: bool,
    out_dir: str,
    as_json: bool,
    store_path: str | None,
    **settings: object,
) -> None:
    """The verdict of each step of the chain in each regime (step × regime matrix), all
    hypotheses under one family-wise error ≤ --alpha (sequential regimes keep their own
    studies' α), and whether the reference regime's ordering (the first) holds in the others.

    Prints the report (Markdown, or JSON with --json) and writes OUT/generalization.md and
    OUT/generalization.html.
    """
    from edftools.analysis.generalization import generalize
    from edftools.analysis.runs import parse_names
    from edftools.report.generalize_report import to_markdown
    from edftools.report.writers import write_generalization
    from edftools.store.store import resolve_store_path

    cfg = pop_settings(settings)
    if study is not None and sweeps:
        raise click.UsageError("give --study or --sweep, not both")
    path = resolve_store_path(store_path)
    if not path.exists():
        raise click.UsageError(f"no store at {path} (run `edftools demo` or a sweep first)")
    result = generalize(
        str(path),
        parse_names(chain) if chain else None,
        regime=regime_column,
        regimes=list(sweeps) or None,
        study=study,
        error=cfg.error_column,
        complexity=None if cfg.normalize == "none" else cfg.normalize,
        settings=cfg,
        fixed=fixed,
    )
    files = write_generalization(result, out_dir)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        click.echo(to_markdown(result), nl=False)
    click.echo("wrote " + ", ".join(str(f) for f in files), err=True)
