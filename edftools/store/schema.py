"""The result store's schema, its version and the migrations that build and upgrade it.

The store is one DuckDB file (default ``data/edftools.duckdb``). Its schema is versioned: the
table ``schema_version(version, applied_at)`` holds one row per applied migration, and opening a
store applies every missing migration, in order, each in its own transaction. A store written by
a newer edftools (a version above :data:`SCHEMA_VERSION`) is refused rather than guessed at.

Tables
------
``sweeps`` — one row per sweep (a recipe run, or an imported file)
    ``name`` VARCHAR primary key; ``recipe`` VARCHAR (the recipe's TOML text, or a line saying
    which file was imported); ``recipe_hash`` VARCHAR (SHA-256 of ``recipe``); ``created_at``
    TIMESTAMP (UTC).

``runs`` — one row per trained (or imported) network
    ``run_id`` VARCHAR primary key; ``sweep``, ``space`` VARCHAR; ``config`` VARCHAR (the
    network's ``NetConfig`` as canonical JSON, NULL when unknown); ``block_type``, ``stem_type``
    VARCHAR, ``stem_width``, ``resolution``, ``num_stages``, ``depth`` (total blocks) INTEGER;
    per stage ``i = 1..5`` (:data:`MAX_STAGES`): ``d{i}`` depth, ``w{i}`` width, ``b{i}``
    bottleneck ratio (DOUBLE), ``g{i}`` group width — NULL beyond the config's stages (the JSON
    keeps every stage); ``w0``, ``wa``, ``wm`` DOUBLE, the RegNet parameters, where the config's
    ``extra`` has them; ``flops``, ``params``, ``acts`` BIGINT; ``dataset`` VARCHAR; ``epochs``
    INTEGER; ``seed`` BIGINT; ``error`` DOUBLE (top-1 test error in percent of the *final*
    epoch; NULL only for a failed run), ``best_error`` DOUBLE (lowest test error over epochs,
    pycls's ``min_top1_err``); ``status`` VARCHAR (``ok``, ``diverged`` with error 100, or
    ``failed``); ``message`` VARCHAR; ``train_seconds`` DOUBLE; ``device`` VARCHAR;
    ``versions`` VARCHAR (JSON object: package versions and, for runs trained by a sweep, where
    and how the run computed: ``threads``, ``cpu_capability``, ``machine``); ``created_at``
    TIMESTAMP (UTC);
    ``source`` VARCHAR (``sweep``, or ``import:<format>`` for imported rows; added in v2);
    ``ema_error``, ``ema_best_error`` DOUBLE (final and lowest test error of the EMA weights,
    pycls's ``test_ema_epoch``; NULL unless imported from a pycls sweep), ``optim`` VARCHAR
    (JSON object of the optimization settings of an imported run: pycls's ``cfg.OPTIM``, the
    NDS release's ``optim``; NULL for sweeps, whose recipe has them); added in v3. v3 also
    allows status ``incomplete`` (an imported run stopped before its last epoch: its ``epochs``
    is the number it finished, and ``ok_runs`` excludes it). ``failure_kind`` VARCHAR (added
    in v5: for a ``failed`` run, ``environment`` — the machine, the data or the worker failed,
    so a resumed sweep re-runs it — or ``config`` — the run itself failed, kept until
    ``--retry-failed``; NULL otherwise, and NULL for failed runs stored before v5, which are
    re-run like environment failures; see :mod:`edftools.records`). ``rerun_of`` VARCHAR and
    ``replicate`` INTEGER (added in v6: a seed-noise rerun — the same config trained with
    another seed, :mod:`edftools.recipe.reruns`, or an NDS ``*_rng*``/``*_reruns`` row — has
    ``rerun_of`` = the original run's ``run_id`` and ``replicate`` = 1, 2, ...; NULL for
    every original run. Reruns are never part of an EDF's samples:
    :func:`edftools.analysis.runs.select_runs` drops them; ``ok_runs`` and the summary views
    include them, so filter ``WHERE rerun_of IS NULL`` for the originals).

``epochs`` — one row per epoch of a run, primary key ``(run_id, epoch)``
    ``run_id`` VARCHAR; ``epoch`` INTEGER (1-based); ``train_loss``, ``train_error``,
    ``test_error`` (percent), ``lr``, ``seconds`` DOUBLE.

Views (v2)
----------
``ok_runs``        the runs with status ``ok``.
``space_summary``  per ``(sweep, space)``: ``n`` runs, ``n_ok``, ``n_diverged``, ``n_failed``,
                   and over ok runs ``min_error``, ``mean_error``, ``median_error``,
                   ``min_best_error``, ``median_flops``, ``train_hours``.
``run_epochs``     every epoch row with its run's ``sweep``, ``space`` and final ``error``.
``sweep_progress`` per sweep: runs by status, first and last ``created_at``, train hours.
``bad_runs``       the diverged and failed runs with their message (and, from v5, their
                   ``failure_kind``).

Examples::

    SELECT * FROM space_summary ORDER BY median_error;
    SELECT space, error FROM ok_runs WHERE sweep = 'digits-anynet' AND flops < 2e6;
    SELECT epoch, avg(test_error) FROM run_epochs WHERE space = 'RegNetX' GROUP BY ALL;

``looks`` — one row per step per look of a sequential sweep (``sweep --until-decided``),
primary key ``(sweep, look, step)``
    ``parent``, ``restricted`` VARCHAR (the step's spaces); ``n_parent``, ``n_restricted``
    INTEGER (models used at that look); ``fraction`` DOUBLE (information n / max_n);
    ``d_better``, ``d_worse``, ``loss``, ``p_better``, ``p_worse``, ``p_no_loss`` DOUBLE (the
    step's statistics and raw p-values); ``level_*`` DOUBLE (the rejection levels used at that
    look); ``rejected_*`` BOOLEAN (decisions so far); ``n_perm`` INTEGER; ``borderline``,
    ``decided`` BOOLEAN; ``verdict`` VARCHAR; ``design`` VARCHAR (JSON: look_every, max_n,
    alpha, spending, margin); ``created_at`` TIMESTAMP; ``p_futility``, ``level_futility``
    DOUBLE (added in v7: the futility rule's p-value — the no-loss test with the spaces' roles
    swapped, "a gain of the margin excluded" — and its level α·(g(t) − g(t')) at that look;
    a "no loss" step is decided when p_futility ≤ level_futility; NULL for looks stored
    before v7).

Migrations: v1 creates the three tables; v2 adds ``runs.source`` and the views; v3 adds
``runs.ema_error``/``ema_best_error``/``optim``, status ``incomplete`` (the ``runs`` table is
rebuilt: DuckDB cannot alter a CHECK constraint) and ``n_incomplete`` in the summary views;
v4 adds ``looks``; v5 adds ``runs.failure_kind`` and shows it in ``bad_runs``; v6 adds
``runs.rerun_of`` and ``runs.replicate``; v7 adds ``looks.p_futility`` and
``looks.level_futility``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

SCHEMA_VERSION = 7
MAX_STAGES = 5

# Per-stage column prefixes and the NetConfig stage field each one flattens.
STAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("d", "depth"),
    ("w", "width"),
    ("b", "bottleneck_ratio"),
    ("g", "group_width"),
)

# Column kinds: "str" VARCHAR, "int" INTEGER/BIGINT, "float" DOUBLE, "ts" TIMESTAMP.
_SQL_TYPES = {"str": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "float": "DOUBLE"}


def _stage_columns() -> list[tuple[str, str]]:
    kinds = {"d": "int", "w": "int", "b": "float", "g": "int"}
    return [(f"{p}{i}", kinds[p]) for p, _ in STAGE_FIELDS for i in range(1, MAX_STAGES + 1)]


# The current ``runs`` columns in table order, with their kind ("bigint" counts as "int").
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "str"),
    ("sweep", "str"),
    ("space", "str"),
    ("config", "str"),
    ("block_type", "str"),
    ("stem_type", "str"),
    ("stem_width", "int"),
    ("resolution", "int"),
    ("num_stages", "int"),
    ("depth", "int"),
    *_stage_columns(),
    ("w0", "float"),
    ("wa", "float"),
    ("wm", "float"),
    ("flops", "bigint"),
    ("params", "bigint"),
    ("acts", "bigint"),
    ("dataset", "str"),
    ("epochs", "int"),
    ("seed", "bigint"),
    ("error", "float"),
    ("best_error", "float"),
    ("status", "str"),
    ("message", "str"),
    ("train_seconds", "float"),
    ("device", "str"),
    ("versions", "str"),
    ("created_at", "ts"),
    ("source", "str"),
    ("ema_error", "float"),
    ("ema_best_error", "float"),
    ("optim", "str"),
    ("failure_kind", "str"),
    ("rerun_of", "str"),
    ("replicate", "int"),
)
RUN_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in RUN_COLUMNS)

EPOCH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "str"),
    ("epoch", "int"),
    ("train_loss", "float"),
    ("train_error", "float"),
    ("test_error", "float"),
    ("lr", "float"),
    ("seconds", "float"),
)
EPOCH_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in EPOCH_COLUMNS)


def _runs_ddl(table: str, last_column: str, statuses: tuple[str, ...]) -> str:
    """``CREATE TABLE`` of the runs columns up to ``last_column`` with a status CHECK.

    Frozen per version by its arguments: a migration names its own last column and statuses,
    so later columns never leak into an old version's table.
    """
    cols = [f"{name} {'TIMESTAMP' if k == 'ts' else _SQL_TYPES[k]}" for name, k in RUN_COLUMNS]
    cols = cols[: RUN_COLUMN_NAMES.index(last_column) + 1]
    cols[0] += " PRIMARY KEY"
    for name in ("sweep", "space", "status"):
        i = RUN_COLUMN_NAMES.index(name)
        cols[i] += " NOT NULL"
    body = ",\n    ".join(cols)
    check = "CHECK (status IN (" + ", ".join(f"'{x}'" for x in statuses) + "))"
    return f"CREATE TABLE {table} (\n    {body},\n    {check}\n)"


def _v1_runs_ddl() -> str:
    # Frozen: the v1 table, exactly as version 1 created it (later columns come by ALTER).
    return _runs_ddl("runs", "created_at", ("ok", "diverged", "failed"))


def _migrate_v1(con: Any) -> None:
    """v1: the ``sweeps``, ``runs`` and ``epochs`` tables."""
    con.execute(
        "CREATE TABLE sweeps (name VARCHAR PRIMARY KEY, recipe VARCHAR NOT NULL, "
        "recipe_hash VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)"
    )
    con.execute(_v1_runs_ddl())
    con.execute(
        "CREATE TABLE epochs (run_id VARCHAR NOT NULL, epoch INTEGER NOT NULL, "
        "train_loss DOUBLE, train_error DOUBLE, test_error DOUBLE, lr DOUBLE, seconds DOUBLE, "
        "PRIMARY KEY (run_id, epoch))"
    )


VIEWS_V2: dict[str, str] = {
    "ok_runs": "SELECT * FROM runs WHERE status = 'ok'",
    "space_summary": """
        SELECT sweep, space,
               count(*) AS n,
               count(*) FILTER (WHERE status = 'ok') AS n_ok,
               count(*) FILTER (WHERE status = 'diverged') AS n_diverged,
               count(*) FILTER (WHERE status = 'failed') AS n_failed,
               min(error) FILTER (WHERE status = 'ok') AS min_error,
               avg(error) FILTER (WHERE status = 'ok') AS mean_error,
               median(error) FILTER (WHERE status = 'ok') AS median_error,
               min(best_error) FILTER (WHERE status = 'ok') AS min_best_error,
               median(flops) FILTER (WHERE status = 'ok') AS median_flops,
               sum(train_seconds) / 3600.0 AS train_hours
        FROM runs GROUP BY sweep, space""",
    "run_epochs": """
        SELECT r.sweep, r.space, r.error AS run_error, e.*
        FROM epochs e JOIN runs r USING (run_id)""",
    "sweep_progress": """
        SELECT sweep,
               count(*) AS n,
               count(*) FILTER (WHERE status = 'ok') AS n_ok,
               count(*) FILTER (WHERE status = 'diverged') AS n_diverged,
               count(*) FILTER (WHERE status = 'failed') AS n_failed,
               min(created_at) AS first_at,
               max(created_at) AS last_at,
               sum(train_seconds) / 3600.0 AS train_hours
        FROM runs GROUP BY sweep""",
    "bad_runs": """
        SELECT run_id, sweep, space, status, error, message, created_at
        FROM runs WHERE status <> 'ok'""",
}


def _migrate_v2(con: Any) -> None:
    """v2: ``runs.source`` (where a row came from) and the views."""
    con.execute("ALTER TABLE runs ADD COLUMN source VARCHAR DEFAULT 'sweep'")
    for name, sql in VIEWS_V2.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")


def _status_counts(statuses: tuple[str, ...]) -> str:
    return ",\n               ".join(
        f"count(*) FILTER (WHERE status = '{x}') AS n_{x}" for x in statuses
    )


VIEWS_V3: dict[str, str] = {
    **VIEWS_V2,
    "space_summary": f"""
        SELECT sweep, space,
               count(*) AS n,
               {_status_counts(("ok", "diverged", "failed"))},
               min(error) FILTER (WHERE status = 'ok') AS min_error,
               avg(error) FILTER (WHERE status = 'ok') AS mean_error,
               median(error) FILTER (WHERE status = 'ok') AS median_error,
               min(best_error) FILTER (WHERE status = 'ok') AS min_best_error,
               median(flops) FILTER (WHERE status = 'ok') AS median_flops,
               sum(train_seconds) / 3600.0 AS train_hours,
               count(*) FILTER (WHERE status = 'incomplete') AS n_incomplete
        FROM runs GROUP BY sweep, space""",
    "sweep_progress": f"""
        SELECT sweep,
               count(*) AS n,
               {_status_counts(("ok", "diverged", "failed"))},
               min(created_at) AS first_at,
               max(created_at) AS last_at,
               sum(train_seconds) / 3600.0 AS train_hours,
               count(*) FILTER (WHERE status = 'incomplete') AS n_incomplete
        FROM runs GROUP BY sweep""",
}


def _migrate_v3(con: Any) -> None:
    """v3: ``runs.ema_error``, ``runs.ema_best_error``, ``runs.optim``, status ``incomplete``.

    The runs table is rebuilt (DuckDB cannot alter a CHECK constraint): views dropped, a new
    table created and filled by name, the old one dropped and the new one renamed, views
    re-created. Every existing row and column value is kept; the new columns are NULL.
    """
    for name in VIEWS_V2:
        con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(_runs_ddl("runs_v3", "optim", ("ok", "diverged", "failed", "incomplete")))
    con.execute("INSERT INTO runs_v3 BY NAME SELECT * FROM runs")
    con.execute("DROP TABLE runs")
    con.execute("ALTER TABLE runs_v3 RENAME TO runs")
    con.execute("ALTER TABLE runs ALTER COLUMN source SET DEFAULT 'sweep'")
    for name, sql in VIEWS_V3.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")


LOOK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sweep", "str"),
    ("look", "int"),
    ("step", "int"),
    ("parent", "str"),
    ("restricted", "str"),
    ("n_parent", "int"),
    ("n_restricted", "int"),
    ("fraction", "float"),
    ("d_better", "float"),
    ("d_worse", "float"),
    ("loss", "float"),
    ("p_better", "float"),
    ("p_worse", "float"),
    ("p_no_loss", "float"),
    ("level_better", "float"),
    ("level_worse", "float"),
    ("level_no_loss", "float"),
    ("rejected_better", "bool"),
    ("rejected_worse", "bool"),
    ("rejected_no_loss", "bool"),
    ("n_perm", "int"),
    ("borderline", "bool"),
    ("verdict", "str"),
    ("decided", "bool"),
    ("design", "str"),
    ("created_at", "ts"),
    ("p_futility", "float"),
    ("level_futility", "float"),
)
LOOK_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in LOOK_COLUMNS)
# The columns ``looks`` had when v4 created it (later ones come by ALTER, NULL before then).
LOOK_COLUMNS_V4: tuple[tuple[str, str], ...] = LOOK_COLUMNS[
    : LOOK_COLUMN_NAMES.index("created_at") + 1
]


def _migrate_v4(con: Any) -> None:
    """v4: the ``looks`` table: every look of a sequential sweep (``sweep --until-decided``)."""
    types = {**_SQL_TYPES, "bool": "BOOLEAN", "ts": "TIMESTAMP"}
    cols = ",\n    ".join(f"{name} {types[kind]}" for name, kind in LOOK_COLUMNS_V4)
    con.execute(f"CREATE TABLE looks (\n    {cols},\n    PRIMARY KEY (sweep, look, step)\n)")


BAD_RUNS_V5 = """
        SELECT run_id, sweep, space, status, failure_kind, error, message, created_at
        FROM runs WHERE status <> 'ok'"""


def _migrate_v5(con: Any) -> None:
    """v5: ``runs.failure_kind`` (environment | config, for failed runs) in ``bad_runs`` too."""
    con.execute("ALTER TABLE runs ADD COLUMN failure_kind VARCHAR")
    con.execute(f"CREATE OR REPLACE VIEW bad_runs AS {BAD_RUNS_V5}")


def _migrate_v6(con: Any) -> None:
    """v6: ``runs.rerun_of`` and ``runs.replicate`` (seed-noise reruns; NULL for originals)."""
    con.execute("ALTER TABLE runs ADD COLUMN rerun_of VARCHAR")
    con.execute("ALTER TABLE runs ADD COLUMN replicate INTEGER")


def _migrate_v7(con: Any) -> None:
    """v7: ``looks.p_futility`` and ``looks.level_futility`` (the futility rule's p-value and
    level at each look; NULL for looks stored before)."""
    con.execute("ALTER TABLE looks ADD COLUMN p_futility DOUBLE")
    con.execute("ALTER TABLE looks ADD COLUMN level_futility DOUBLE")


# Ordered migrations: MIGRATIONS[k] upgrades a store from version k to version k + 1.
MIGRATIONS: tuple[Callable[[Any], None], ...] = (
    _migrate_v1,
    _migrate_v2,
    _migrate_v3,
    _migrate_v4,
    _migrate_v5,
    _migrate_v6,
    _migrate_v7,
)
assert len(MIGRATIONS) == SCHEMA_VERSION


def utc_now() -> datetime:
    """The current UTC time as a naive ``datetime`` (the store's TIMESTAMP convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def has_version_table(con: Any) -> bool:
    """Whether the database has the ``schema_version`` table (is an edftools store)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'"
    ).fetchone()
    return bool(row[0])


def user_table_count(con: Any) -> int:
    """Number of tables and views in the ``main`` schema (0 for a new, empty database)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchone()
    return int(row[0])


def stored_version(con: Any) -> int:
    """The store's schema version: ``max(version)`` of ``schema_version`` (0 when empty)."""
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(con: Any, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply the missing migrations up to ``target``, each in its own transaction.

    Creates ``schema_version`` first when the database is empty. Returns the versions applied.
    """
    if not has_version_table(con):
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
        )
    applied = []
    for version in range(stored_version(con) + 1, target + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            MIGRATIONS[version - 1](con)
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, utc_now()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
