"""Typed exceptions. Every error a user can cause is an :class:`EdftoolsError`.

The CLI turns any ``EdftoolsError`` into one line on stderr and exit code 2; the API raises
the most specific subclass so callers can catch what they expect.
"""

from __future__ import annotations


class EdftoolsError(Exception):
    """Base class of every user-facing error (bad input, impossible request, bad file)."""


class ConfigError(EdftoolsError, ValueError):
    """A network configuration is invalid (negative depth, width not positive, ...)."""


class SpaceError(EdftoolsError, ValueError):
    """A design space, restriction or complexity band is invalid or cannot be satisfied."""


class StatsInputError(EdftoolsError, ValueError):
    """Input to a statistics function is invalid (NaN errors, negative weights, empty sample)."""


class RecipeError(EdftoolsError, ValueError):
    """A TOML recipe has wrong types, unknown keys or impossible values."""


class DatasetError(EdftoolsError):
    """A dataset path is missing or does not have the expected layout."""


class StoreError(EdftoolsError):
    """The result store cannot be opened, is corrupt, or an import file is malformed."""


class StoreBusyError(StoreError):
    """Another process (a reader) held the store for longer than the caller would wait."""


class SweepError(EdftoolsError):
    """A sweep cannot run here (no such device, unreadable data, its first config fails a
    one-batch dry run) or every run it trained failed."""
