"""``edftools info``: what a result store holds (sweeps, spaces, datasets, runs by status)."""

from __future__ import annotations

import json

import click

from edftools.store.store import DEFAULT_LOCK_TIMEOUT

STORE_HELP = "Store file (default: $EDFTOOLS_STORE, else data/edftools.duckdb)."


@click.command("info")
@click.option("--store", "store_path", default=None, help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait while another process (a sweep) holds the store.",
)
def info_cmd(store_path: str | None, as_json: bool, timeout: float) -> None:
    """Summarize a store: file size, schema version, runs by status, datasets, and per sweep
    its creation time, runs by status, spaces and datasets. Read-only; never creates a store.
    """
    from edftools.store.store import open_store
    from edftools.store.summary import format_summary, store_summary

    store = open_store(store_path, read_only=True, lock_timeout=timeout, lazy=True)
    summary = store_summary(store)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        click.echo(format_summary(summary))
