"""``edftools refine``, ``edftools compare`` and ``edftools demo`` (issue 5).

Thin: parse options, read the store, call :mod:`edftools.report`, print. Heavy imports (pandas,
scipy, matplotlib) happen inside the commands, never at CLI start-up.
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import click

from edftools.commands.options import STORE_HELP, pop_settings, setting_options


def _common(func):
    """Options shared by refine and compare: which runs, the analysis settings, --json."""
    func = click.option("--json", "as_json", is_flag=True, help="Print every number as JSON.")(func)
    func = setting_options()(func)
    func = click.option(
        "--dataset",
        default=None,
        help="Only runs on this dataset (runs of several datasets or image resolutions "
        "are refused: their errors cannot be compared).",
    )(func)
    func = click.option("--sweep", default=None, help="Only runs of this sweep.")(func)
    return click.option("--store", "store_path", default=None, help=STORE_HELP)(func)


@dataclass(frozen=True)
class StoreReads:
    """What ``refine`` and ``compare`` read from the store (None: not asked for)."""

    runs: Any
    looks: Any = None
    recipes: tuple[str, ...] = ()
    epochs: Any = None


def read_store(
    store_path: str | None,
    sweep: str | None,
    *,
    looks: bool = False,
    recipes: bool = False,
    epochs: bool = False,
) -> StoreReads:
    """The runs (of ``sweep``, or all) and, when asked for, the looks of sequential sweeps,
    the sweeps' recipe texts and the stored epochs (run id, epoch, test error), read through
    one read-only connection (the file is opened once)."""
    from edftools.store import open_store

    store = open_store(store_path, read_only=True, lazy=True)
    with store.held():
        runs = store.runs_frame(sweep=sweep)
        found_looks = found_epochs = None
        texts: tuple[str, ...] = ()
        if looks:
            from edftools.store.looks import looks_frame

            found_looks = looks_frame(store, sweep)
        if recipes:
            sql = "SELECT recipe FROM sweeps" + (" WHERE name = ?" if sweep else "")
            texts = tuple(row[0] for row in store.fetch(sql, [sweep] if sweep else None)[1])
        if epochs:
            from edftools.analysis.epoch_verdicts import store_epochs

            found_epochs = store_epochs(store, sweep)
    return StoreReads(runs, found_looks, texts, found_epochs)


def recipe_spaces(recipes: Sequence[str]) -> dict[str, Any]:
    """The spaces the sweeps' recipes define (TOML texts from the store's ``sweeps`` table), by
    label: catalog spaces with their overrides and full definitions alike. A text that is not a
    recipe (an imported sweep's note) is skipped."""
    from edftools.errors import EdftoolsError
    from edftools.recipe import parse_recipe

    out: dict[str, Any] = {}
    for text in recipes:
        try:
            recipe = parse_recipe(text)
        except EdftoolsError:
            continue
        for spec in recipe.spaces:
            try:
                out.setdefault(spec.label, spec.build())
            except EdftoolsError:
                continue
    return out


@click.command("refine")
@click.option(
    "--fixed",
    is_flag=True,
    default=False,
    help="Test the chain as a fixed-n design even when a sequential sweep's looks cover it.",
)
@click.option(
    "--beside",
    default="RegNetY",
    show_default=True,
    help="Spaces tested beside the chain's last one, against its parent, when the store has "
    "them ('' for none).",
)
@click.option(
    "--chain",
    default="A,B,C,D,E,RegNetX",
    show_default=True,
    help="Spaces in refinement order (A..E = AnyNetX_A..E).",
)
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for refinement.md and refinement.html.",
)
@_common
def refine_cmd(
    fixed: bool,
    beside: str,
    chain: str,
    out_dir: str,
    store_path: str | None,
    sweep: str | None,
    dataset: str | None,
    as_json: bool,
    **settings: object,
) -> None:
    """Sequential restriction testing: a verdict per step of the chain (improves, no loss,
    worse, mixed, inconclusive) with the family-wise error of all of them ≤ --alpha.

    Prints the refinement table (Markdown, or JSON with --json) and writes
    OUT/refinement.md and OUT/refinement.html. When the runs have epoch logs, the reports
    also show each step's fixed-n verdict at every epoch ("verdicts through training").
    """
    from edftools.report.parallel import helper

    # the helper imports the drawing stack meanwhile, on the other core
    with _shared_imports(), helper(REFINE_DRAWING):
        from edftools.analysis.refinement import RefineOptions, refine, to_json
        from edftools.analysis.runs import parse_names
        from edftools.report.writers import refinement_markdown_file, write_refinement

        options = RefineOptions(
            chain=tuple(parse_names(chain)),
            beside=tuple(parse_names(beside)),
            settings=pop_settings(settings),
            sweep=sweep,
            dataset=dataset,
        )
        read = read_store(store_path, sweep, looks=not fixed, recipes=True, epochs=True)
        spaces = recipe_spaces(read.recipes)
        result = refine(read.runs, options, read.looks, spaces, read.epochs)
        files = write_refinement(result, out_dir)
    if as_json:
        click.echo(json.dumps(to_json(result), indent=2, allow_nan=False))
    else:
        click.echo(refinement_markdown_file(result), nl=False)
    click.echo("wrote " + ", ".join(str(f) for f in files), err=True)


@contextlib.contextmanager
def _shared_imports() -> Iterator[None]:
    """Import what both the command and its helper process need, once, before the fork,
    without automatic garbage collection meanwhile (an import makes many objects and frees
    few: the collections it set off were wasted); then, for the command's length, freeze what
    exists (``gc.freeze``: the imports), so that the collections the command's own objects set
    off do not scan the imports again each time (refine: 0.09 s of collections → 0.03 s).
    The caller's state is restored at the end: collection on or off as it was, and the objects
    unfrozen, unless the caller had frozen some itself (then left as they are)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        import pandas  # noqa: F401
    finally:
        if collecting:
            gc.enable()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    try:
        yield
    finally:
        if freezing:
            gc.unfreeze()


#: What the helper process imports while ``refine`` reads the store and computes (it draws).
REFINE_DRAWING = ("edftools.report.refine_html", "edftools.plot")
#: What the helper process imports while ``compare --out`` reads the store and computes.
COMPARE_DRAWING = ("edftools.report.compare_html", "edftools.plot")


@click.command("compare")
@click.argument("spaces", nargs=-1, required=True)
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the HTML report here.",
)
@click.option(
    "--params",
    default="d,w0,wm",
    show_default=True,
    help="Parameters for the good-range and trend plots (d = total depth, or a runs column).",
)
@_common
def compare_cmd(
    spaces: tuple[str, ...],
    out_file: str | None,
    params: str,
    store_path: str | None,
    sweep: str | None,
    dataset: str | None,
    as_json: bool,
    **settings: object,
) -> None:
    """Compare the error EDFs of SPACES (any spaces or imported sweeps in the store).

    Prints a Markdown summary (or JSON with --json); --out writes a self-contained HTML report.
    """
    from edftools.report.parallel import helper

    with _shared_imports(), helper(COMPARE_DRAWING) if out_file else contextlib.nullcontext():
        from edftools.analysis.comparison import CompareOptions, compare_spaces, to_json
        from edftools.analysis.curves import param_values
        from edftools.analysis.runs import parse_names
        from edftools.report.compare_table import to_markdown

        options = CompareOptions(
            spaces=tuple(parse_names(spaces)),
            settings=pop_settings(settings),
            sweep=sweep,
            dataset=dataset,
            params=tuple(parse_names(params)),
        )
        result = compare_spaces(read_store(store_path, sweep).runs, options)
        if out_file:
            from edftools.report.writers import write_comparison

            for name in options.params:  # an unknown parameter fails before anything is written
                param_values(result.frame, name)
            path = write_comparison(result, out_file)
            click.echo(f"wrote {path}", err=True)
    if as_json:
        click.echo(json.dumps(to_json(result), indent=2, allow_nan=False))
    else:
        click.echo(to_markdown(result), nl=False)


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the reports.",
)
@click.option(
    "--store",
    "store_path",
    default=None,
    help="Store to load the reference runs into (default: $EDFTOOLS_STORE or "
    "data/edftools.duckdb, then used by the README's tour). It is rebuilt when it is new or "
    "holds only reference runs; a store with other runs is left unchanged (the demo then "
    "uses a temporary store and says so).",
)
@click.option(
    "--reference",
    "reference_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder of the reference Parquet files (default: data/reference of the edftools "
    "checkout, found from any working directory).",
)
def demo_cmd(out_dir: str, store_path: str | None, reference_dir: str | None) -> None:
    """Load the reference data into the store, refine A→…→RegNetX, compare AnyNetX_A with
    RegNetX, write the reports (no training; deterministic)."""
    from edftools.report.writers import (
        REFERENCE_DIR,
        demo,
        reference_store_target,
        refinement_markdown_file,
        regimes_reference,
        regimes_store_path,
    )
    from edftools.store import resolve_store_path

    start = time.perf_counter()
    reference = reference_dir if reference_dir is not None else REFERENCE_DIR
    wanted = resolve_store_path(store_path)
    target = reference_store_target(wanted, reference)
    folder = regimes_reference(reference)
    regimes_target = (
        reference_store_target(regimes_store_path(wanted), folder) if folder is not None else None
    )
    result = demo(out_dir, target, reference, regimes_store=regimes_target)
    click.echo(refinement_markdown_file(result.refinement), nl=False)
    click.echo(
        f"\n{result.n_runs} reference runs; wrote "
        + ", ".join(str(f) for f in result.files)
        + f" in {time.perf_counter() - start:.1f} s"
    )
    if target is not None:
        click.echo(f"the reference runs are in the store {target} (the README's tour uses it)")
    if regimes_target is not None and result.generalization is not None:
        click.echo(
            f"the regimes study ({result.n_regime_runs} runs) is in the store {regimes_target} "
            f"(edftools generalize --store {regimes_target})"
        )
    else:
        click.echo(
            f"{wanted} holds other runs (or is not a store): left unchanged; the demo used a "
            f"temporary store (load the reference elsewhere with --store PATH)",
            err=True,
        )
