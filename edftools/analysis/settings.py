"""The analysis settings: one frozen object, each default and each set of allowed values
defined once — the statistical defaults (bins, margin, margin range, alpha, seed, n_boot) in
:mod:`edftools.stats.defaults`, which the statistics' own signatures use too, the rest here.

Every front end builds a :class:`Settings`: the CLI options of ``refine``, ``compare`` and
``plan`` (their help, defaults and choices are derived from :data:`SETTINGS_HELP` and the
field defaults, :mod:`edftools.commands.options`), the recipe's ``[sequential]`` table
(:mod:`edftools.recipe.sequential`), a stored study's design (:meth:`Settings.from_design`)
and the library (``edftools.refine(df, ..., bins=...)``; a keyword left out takes the field's
default). The module imports nothing heavier than numpy (``edftools.stats``, for its
defaults; the CLI reads it to print ``--help``).

The settings:

- ``normalize``: the complexity column that normalizes the EDFs (NDS: K linear bins over the
  range every space covers, bin k has mass 1/K, a model in it weight (1/K)/n_k), or ``none``
  for plain EDFs. The CLI offers :data:`NORMALIZE_CHOICES`; the library takes any numeric
  column (``complexity="latency_ms"``).
- ``bins``: K, the number of complexity bins.
- ``margin``, ``margin_unit``, ``margin_range``: the no-loss margin δ (None: 1 pp, or 0.05 of
  EDF mass with unit ``edf``), its unit, and the quantile levels [a, b] where a pp margin
  applies (:class:`edftools.stats.Margin`).
- ``alpha``: the family-wise error rate of all verdicts of one analysis.
- ``error_column``: which error a run contributes (:data:`ERROR_COLUMNS` in a store).
- ``seed``: the seed of every random step (bootstrap, permutations, subsamples).
- ``n_boot``: bootstrap resamples of the confidence intervals and bands.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, get_args

from edftools.errors import StatsInputError
from edftools.stats.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_BINS,
    DEFAULT_MARGIN_EDF,
    DEFAULT_MARGIN_PP,
    DEFAULT_MARGIN_UNIT,
    DEFAULT_N_BOOT,
    DEFAULT_Q_RANGE,
    DEFAULT_SEED,
    MarginUnit,
)

#: Error columns of a store's runs. ``error`` is the top-1 test error (%) of the final epoch
#: (the default: it is not selected on the test set); ``best_error`` the lowest test error over
#: the epochs (pycls's ``min_top1_err``, what the NDS data reports); ``ema_error`` and
#: ``ema_best_error`` the same for the EMA of the weights (imported pycls sweeps only).
ERROR_COLUMNS: tuple[str, ...] = ("error", "best_error", "ema_error", "ema_best_error")
#: Complexity columns of a store that can normalize EDFs (``none`` = plain EDFs).
NORMALIZE_CHOICES: tuple[str, ...] = ("flops", "params", "acts", "none")
#: Units of the no-loss margin.
MARGIN_UNITS: tuple[str, ...] = get_args(MarginUnit)
#: The margin when none is given, per unit (error points; EDF mass).
DEFAULT_MARGIN: dict[str, float] = {"pp": DEFAULT_MARGIN_PP, "edf": DEFAULT_MARGIN_EDF}

#: One line per setting: what it means (the CLI's help and the docs use it).
SETTINGS_HELP: dict[str, str] = {
    "normalize": "Complexity normalization of the EDFs (NDS: linear bins over the range every "
    "space covers, equal mass per bin), or none for plain EDFs.",
    "bins": "Number of complexity bins K of the normalization.",
    "margin": "Equivalence margin for 'no loss': error points with margin unit pp (default "
    f"{DEFAULT_MARGIN['pp']:g}), EDF mass with unit edf (default {DEFAULT_MARGIN['edf']:g}).",
    "margin_unit": "pp: largest quantile shift over the margin range; edf: largest EDF deficit.",
    "margin_range": "Quantile levels A:B where a pp margin applies (the better part of the "
    "models).",
    "alpha": "Family-wise error rate of all verdicts of the analysis.",
    "error_column": "Error column: 'error' = final-epoch top-1 test error (not selected on the "
    "test set), 'best_error' = lowest test error over epochs (pycls/NDS); 'ema_error' and "
    "'ema_best_error' the same for pycls's EMA weights (imported pycls sweeps).",
    "seed": "Seed of every random step (bootstrap, permutations, subsamples).",
    "n_boot": "Bootstrap resamples of confidence intervals and bands.",
}


@dataclass(frozen=True)
class Settings:
    """How an analysis computes its numbers (see the module docstring for each field)."""

    normalize: str = "flops"
    bins: int = DEFAULT_BINS
    margin: float | None = None
    margin_unit: str = DEFAULT_MARGIN_UNIT
    margin_range: tuple[float, float] = DEFAULT_Q_RANGE
    alpha: float = DEFAULT_ALPHA
    error_column: str = "error"
    seed: int = DEFAULT_SEED
    n_boot: int = DEFAULT_N_BOOT

    def __post_init__(self) -> None:
        if not isinstance(self.normalize, str) or not self.normalize:
            raise StatsInputError(
                f"normalize must be a column name or 'none', got {self.normalize!r}"
            )
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or self.bins < 1:
            raise StatsInputError(f"bins must be a positive integer, got {self.bins!r}")
        if self.margin_unit not in MARGIN_UNITS:
            raise StatsInputError(
                f"margin unit must be one of {', '.join(MARGIN_UNITS)}, got {self.margin_unit!r}"
            )
        try:
            lo, hi = (float(v) for v in self.margin_range)
        except (TypeError, ValueError):
            raise StatsInputError(
                f"margin range must be two quantile levels, got {self.margin_range!r}"
            ) from None
        object.__setattr__(self, "margin_range", (lo, hi))
        if not (isinstance(self.alpha, int | float) and 0.0 < float(self.alpha) < 1.0):
            raise StatsInputError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if not isinstance(self.error_column, str) or not self.error_column:
            raise StatsInputError(f"error column must be a name, got {self.error_column!r}")
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 1:
            raise StatsInputError(f"n_boot must be a positive integer, got {self.n_boot!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise StatsInputError(f"seed must be an integer, got {self.seed!r}")
        self.margin_rule  # noqa: B018 - a bad margin fails here, when the settings are built

    @property
    def normalized(self) -> bool:
        """Whether the EDFs are complexity-normalized."""
        return self.normalize != "none"

    @property
    def margin_value(self) -> float:
        """The margin δ (the unit's default when none was given)."""
        return DEFAULT_MARGIN[self.margin_unit] if self.margin is None else float(self.margin)

    @property
    def margin_rule(self) -> Any:
        """The :class:`edftools.stats.Margin` of these settings."""
        from edftools.stats.noloss import Margin

        return Margin(self.margin_value, self.margin_unit, self.margin_range)  # type: ignore[arg-type]

    def updated(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; a ``None`` value keeps the field (the
        library's keywords: a setting left out keeps its default)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise StatsInputError(f"unknown setting(s): {', '.join(unknown)}")
        kept = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **kept) if kept else self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the margin resolved to its value)."""
        out = asdict(self)
        out["margin"] = self.margin_value
        out["margin_range"] = list(self.margin_range)
        return out

    def describe_normalization(self) -> str:
        """E.g. ``normalized by flops (8 bins)`` or ``plain EDFs``."""
        if not self.normalized:
            return "plain EDFs (no normalization)"
        return f"normalized by {self.normalize} ({self.bins} bins)"

    @classmethod
    def from_design(cls, design: dict[str, Any], **base: Any) -> Settings:
        """The settings a stored sequential study was run with (its ``looks`` design record:
        ``margin`` {value, unit, q_range}, ``alpha``, ``normalize``, ``bins``,
        ``error_column``); fields it lacks come from ``base`` or the defaults."""
        out = cls(**base)
        margin = design.get("margin") or {}
        return out.updated(
            margin=margin.get("value"),
            margin_unit=margin.get("unit"),
            margin_range=tuple(margin["q_range"]) if "q_range" in margin else None,
            alpha=design.get("alpha"),
            normalize=design.get("normalize"),
            bins=design.get("bins"),
            error_column=design.get("error_column"),
        )


def default(name: str) -> Any:
    """The default of setting ``name`` (the dataclass field's)."""
    for f in fields(Settings):
        if f.name == name:
            return f.default
    raise KeyError(name)
