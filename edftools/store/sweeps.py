"""The ``sweeps`` table: one row per sweep, its recipe text and ``recipe_hash = sha256(text)``.

A sweep run from a recipe registers the recipe's identity text; a changed recipe under the same
name is refused (a resume must plan the same runs). An import registers the recipe its file
carried (``export`` writes it), or a placeholder ``imported from <file>`` that a carried recipe
may later replace.
"""

from __future__ import annotations

import hashlib

import duckdb

from edftools.errors import StoreError
from edftools.store import schema


def register_sweep(con: duckdb.DuckDBPyConnection, name: str, recipe_text: str) -> bool:
    """Register sweep ``name`` with ``recipe_text``; True if created, False if already there
    with the same recipe; a different recipe is a :class:`StoreError`."""
    digest = hashlib.sha256(recipe_text.encode()).hexdigest()
    rows = con.execute("SELECT recipe_hash FROM sweeps WHERE name = ?", [name]).fetchall()
    row = rows[0] if rows else None  # fetchall: no unfinished result left on the connection
    if row is not None:
        if row[0] != digest:
            raise StoreError(
                f"sweep {name!r} already exists with a different recipe "
                f"(hash {row[0][:12]}, this one {digest[:12]}); use another sweep name"
            )
        return False
    con.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?)", [name, recipe_text, digest, schema.utc_now()]
    )
    return True


#: How a sweep registered by an import that did not carry its recipe is described.
PLACEHOLDER_PREFIX = "imported from "


def register_imported_sweep(
    con: duckdb.DuckDBPyConnection, source: str, name: str, recipe: str
) -> None:
    """Register sweep ``name`` with ``recipe`` unless the store has it already.

    A carried recipe replaces a stored placeholder (``imported from …``); a carried recipe
    that differs from a stored real one is a :class:`StoreError` (one name, two studies).
    """
    digest = hashlib.sha256(recipe.encode()).hexdigest()
    rows = con.execute("SELECT recipe, recipe_hash FROM sweeps WHERE name = ?", [name]).fetchall()
    row = rows[0] if rows else None
    if row is None:
        con.execute(
            "INSERT INTO sweeps VALUES (?, ?, ?, ?)", [name, recipe, digest, schema.utc_now()]
        )
    elif row[1] == digest or recipe.startswith(PLACEHOLDER_PREFIX):
        return
    elif row[0].startswith(PLACEHOLDER_PREFIX):
        con.execute(
            "UPDATE sweeps SET recipe = ?, recipe_hash = ? WHERE name = ?", [recipe, digest, name]
        )
    else:
        raise StoreError(
            f"{source}: sweep {name!r} is already in the store with a different recipe "
            f"(hash {row[1][:12]}, the file's {digest[:12]}); import it under another name "
            "with --sweep"
        )
