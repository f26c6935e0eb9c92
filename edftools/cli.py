"""Command-line interface: a thin layer that parses arguments, calls the API and prints.

Subcommands live in :mod:`edftools.commands` and are imported lazily, so that a quick command
(``edftools sample``) does not pay for pandas, scipy or torch. Every :class:`EdftoolsError`
becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import NoReturn

import click

import edftools
from edftools.errors import EdftoolsError
from edftools.terminal import printable

# command name -> ("module:attribute" of a click command, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "spaces": ("edftools.commands.spaces:spaces_cmd", "The design spaces and their sizes."),
    "sample": ("edftools.commands.spaces:sample_cmd", "Sample configs from a space in a band."),
    "describe": ("edftools.commands.spaces:describe_cmd", "Describe one RegNet or AnyNet model."),
    "sweep": ("edftools.commands.sweep:sweep_cmd", "Sample, train and store a recipe's models."),
    "sql": ("edftools.commands.store:sql_cmd", "Run SQL on the result store."),
    "import": ("edftools.commands.store:import_cmd", "Import pycls sweeps, CSV or Parquet."),
    "export": ("edftools.commands.store:export_cmd", "Export runs to Parquet or CSV."),
    "info": ("edftools.commands.info:info_cmd", "Summarize what a store holds."),
    "refine": ("edftools.commands.report:refine_cmd", "Sequential restriction testing."),
    "compare": ("edftools.commands.report:compare_cmd", "Compare the EDFs of spaces."),
    "generalize": (
        "edftools.commands.generalize:generalize_cmd",
        "Does a verdict hold across regimes? The step × regime matrix.",
    ),
    "plan": ("edftools.commands.plan:plan_cmd", "Models per space that decide a step."),
    "demo": ("edftools.commands.report:demo_cmd", "Load the reference data, write reports."),
}


#: Commands that, run as a program, end with ``os._exit`` once their output is flushed,
#: skipping the interpreter's teardown: with pandas, scipy and matplotlib loaded it took
#: 0.25-0.3 s of a 3-4 s ``refine`` (measured: wall minus the command's own time, 0.29-0.34 s
#: with the teardown, 0.05-0.07 s without). They only read the store (or nothing), write
#: their files atomically and close what they open (the reports' helper process included),
#: so the teardown has nothing left to do; a command that trains, imports or writes exits as
#: usual.
EXITS_WITHOUT_TEARDOWN = frozenset(
    {"refine", "compare", "generalize", "plan", "info", "sql", "spaces", "sample", "describe"}
)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when they are invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise click.ClickException(f"command {name!r} is not available: {exc}") from None


API_EPILOG = (
    "Python API (import edftools; no torch): "
    + ", ".join(f"edftools.{name}" for name in edftools.__all__ if not name.startswith("_"))
    + "; design spaces in edftools.spaces (get_space, regnet_config, complexity, fit_regnet), "
    "the store in edftools.store (open_store). Every user error: one line on stderr, exit 2."
)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=API_EPILOG,
)
@click.version_option(package_name="edftools")
def cli() -> None:
    """edftools: sample, train, store and compare neural network design spaces.

    Run `edftools COMMAND --help` for a command's options; `edftools demo` writes the
    reference reports without training.
    """


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print one line on stderr and exit with code 2.

    A local ``sweep`` starts its workers' server first
    (:func:`edftools.train.worker_server.start_for_command`; forked from this process only
    when it runs as a program, ``argv`` None).
    """
    from edftools.train.worker_server import start_for_command

    args = sys.argv[1:] if argv is None else argv
    start_for_command(args, fork=argv is None)
    try:
        cli.main(args=argv, prog_name="edftools", standalone_mode=False)
        if _exits_without_teardown(argv, args):
            _exit_without_teardown()
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("edftools: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"edftools: {exc.format_message()}", err=True)
        sys.exit(2)
    except EdftoolsError as exc:  # one line: a name read from a file may hold a newline or ESC
        click.echo(f"edftools: {printable(str(exc))}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:  # the machine's, not the input's: stdout on a full disk, say
        if _exits_without_teardown(argv, args):
            _exit_after_write_error(exc)  # at once: the teardown would flush stdout again
        click.echo(f"edftools: {printable(str(exc))}", err=True)
        sys.exit(1)


def _command_name(args: list[str]) -> str | None:
    """The subcommand named in ``args``: the first argument that is not an option (the group's
    own options, ``--version`` and ``--help``, take no value)."""
    return next((a for a in args if not a.startswith("-")), None)


def _exits_without_teardown(argv: list[str] | None, args: list[str]) -> bool:
    """Whether this run ends with ``os._exit``: run as a program (``argv`` None), a command of
    :data:`EXITS_WITHOUT_TEARDOWN`, and no profiler or tracer set (cProfile, coverage: they
    write their results at exit)."""
    return (
        argv is None
        and _command_name(args) in EXITS_WITHOUT_TEARDOWN
        and sys.getprofile() is None
        and sys.gettrace() is None
    )


def _exit_without_teardown() -> None:
    """Flush stdout and stderr, then end the process at once (``os._exit(0)``), without the
    interpreter's teardown (:data:`EXITS_WITHOUT_TEARDOWN`). A reader that closed the pipe
    early gets what was written, as with :class:`BrokenPipeError` in :func:`main`."""
    for stream in (sys.stdout, sys.stderr):
        try:
            with contextlib.suppress(BrokenPipeError, ValueError):  # reader gone, stream closed
                stream.flush()
        except OSError as exc:
            _exit_after_write_error(exc)
    os._exit(0)


def _exit_after_write_error(exc: OSError) -> NoReturn:
    """One line on stderr and exit code 1 for an error of the machine's (stdout on a full
    disk, a file that cannot be written), at once: the interpreter's teardown would try to
    flush the same output again and print a second error."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"edftools: {printable(str(exc))}\n")
        sys.stderr.flush()
    os._exit(1)
