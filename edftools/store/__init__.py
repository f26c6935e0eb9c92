"""DuckDB result store: schema and migrations, writer and reader, importers and exporters.

::

    from edftools.store import open_store
    with open_store("data/edftools.duckdb") as store:      # writer: creates or upgrades
        store.ensure_sweep("digits-anynet", recipe_text)
        store.write_run(record)                            # runs + epochs rows, one transaction
    with open_store(read_only=True) as store:              # reader: never creates a file
        df = store.runs_frame(sweep="digits-anynet", spaces=["AnyNetX_A"])

Works across processes: every operation opens the file briefly and retries while another
process holds it (see :mod:`edftools.store.store`). The schema is documented in
:mod:`edftools.store.schema`. No torch is imported here.
"""

from __future__ import annotations

import importlib
from typing import Any

from edftools.store.schema import MAX_STAGES, RUN_COLUMN_NAMES, SCHEMA_VERSION
from edftools.store.store import (
    DEFAULT_STORE_PATH,
    STORE_ENV_VAR,
    ImportBatch,
    Store,
    default_store_path,
    open_store,
    resolve_store_path,
)

__all__ = [
    "DEFAULT_STORE_PATH",
    "MAX_STAGES",
    "RUN_COLUMN_NAMES",
    "SCHEMA_VERSION",
    "STORE_ENV_VAR",
    "ImportBatch",
    "Store",
    "default_store_path",
    "export_runs",
    "import_file",
    "load_import_file",
    "open_store",
    "resolve_store_path",
]

#: Loaded on first use (they import the design-space catalog, ~0.4 s): ``edftools sql`` and
#: ``edftools info`` start without them.
_LAZY = {
    name: "edftools.store.importers" for name in ("export_runs", "import_file", "load_import_file")
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edftools.store' has no attribute {name!r}")
