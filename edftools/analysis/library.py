"""The public library: ``edftools.refine``, ``edftools.compare`` and the array functions with
one argument style, on a researcher's own data.

Data in, following seaborn's rule: ``data`` is a long-form table (a pandas DataFrame, a
pyarrow Table, a dict of columns, a path to a Parquet/CSV/JSON/Feather file, or a path to an
edftools store); when ``data`` is given, the arguments that take arrays (``error``,
``complexity``) may take column names, and spaces are the labels of its ``space`` column
(``space=`` names another column). Arrays keep working everywhere they worked.

One argument style everywhere: ``complexity=`` (a column name or array(s): normalize by it),
``bins=``, ``margin=``, ``margin_unit=``, ``margin_range=``, ``alpha=``, ``seed=``,
``n_boot=``; a keyword left out (None) takes its default from
:class:`edftools.analysis.settings.Settings` (``settings=`` gives a whole object).

    import edftools
    res = edftools.refine(df, ["A", "B", "C"], complexity="flops")
    res.to_frame()                      # one row per space, with its verdict
    edftools.compare(data=df, a="A", b="B", complexity="latency_ms")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edftools.analysis.comparison import CompareOptions, ComparisonResult, compare_spaces
from edftools.analysis.refinement import DEFAULT_BESIDE, RefineOptions, RefineResult
from edftools.analysis.refinement import refine as refine_runs
from edftools.analysis.runs import DEFAULT_CHAIN
from edftools.analysis.settings import Settings
from edftools.errors import StatsInputError, StoreError
from edftools.stats import (
    CompareResult,
    EDFBand,
    Normalization,
    PlanResult,
    SampleSummary,
    StepResult,
)
from edftools.stats import compare as stats_compare
from edftools.stats import edf_band as stats_edf_band
from edftools.stats import plan as stats_plan
from edftools.stats import step_test as stats_step_test
from edftools.stats import summarize as stats_summarize

#: File suffixes read as tables (anything else with a path: an edftools store).
TABLE_READERS: dict[str, str] = {
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
    ".csv": "read_csv",
    ".json": "read_json",
    ".feather": "read_feather",
    ".arrow": "read_feather",
}
#: The column the library writes an error given as an array to.
_ERROR_ARRAY = "__error"
_COMPLEXITY_ARRAY = "__complexity"


def settings_of(settings: Settings | None = None, **given: Any) -> Settings:
    """``settings`` (default: :class:`Settings`) with the keywords that were given (not None);
    ``margin`` may be a number or a :class:`edftools.stats.Margin` (its unit and range too)."""
    margin = given.get("margin")
    if margin is not None and not isinstance(margin, int | float):
        given.update(
            margin=getattr(margin, "value", margin),
            margin_unit=given.get("margin_unit") or getattr(margin, "unit", None),
            margin_range=given.get("margin_range") or getattr(margin, "q_range", None),
        )
    return (settings or Settings()).updated(**given)


def _seed(seed: Any) -> Any:
    """An integer seed (None: the settings' default), or a Generator/SeedSequence as given."""
    if seed is None or isinstance(seed, int):
        return settings_of(seed=seed).seed
    return seed


def is_path(data: Any) -> bool:
    """Whether ``data`` names a file."""
    return isinstance(data, str | os.PathLike)


def load_runs(data: Any) -> pd.DataFrame:
    """A long-form frame from ``data``: a DataFrame (used as is), a pyarrow Table, a dict of
    columns or list of records, a table file (:data:`TABLE_READERS`) or an edftools store
    (its runs with status ok). Raises :class:`StoreError` in one line for a missing or
    unreadable file."""
    if isinstance(data, pd.DataFrame):
        return data
    if is_path(data):
        path = Path(data)
        reader = TABLE_READERS.get(path.suffix.lower())
        if reader is None:
            return _store_runs(path)
        if not path.is_file():
            raise StoreError(f"no such file: {path}")
        try:
            frame = getattr(pd, reader)(path)
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from None
        return frame
    if hasattr(data, "to_pandas"):  # pyarrow Table / RecordBatch, polars DataFrame
        return data.to_pandas()
    try:
        return pd.DataFrame(data)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"data must be a table (DataFrame, file, store): {exc}") from None


def _store_runs(path: Path) -> pd.DataFrame:
    from edftools.store import open_store

    if not path.exists():
        raise StoreError(f"no such store: {path}")
    store = open_store(path, read_only=True)
    try:
        return store.runs_frame()
    finally:
        store.close()


def store_looks(path: Path, sweep: str | None) -> pd.DataFrame:
    """The ``looks`` rows of a store (of ``sweep``, or all)."""
    from edftools.store import open_store
    from edftools.store.looks import looks_frame

    store = open_store(path, read_only=True)
    try:
        return looks_frame(store, sweep)
    finally:
        store.close()


def _store_epochs(path: Path, sweep: str | None) -> pd.DataFrame:
    from edftools.analysis.epoch_verdicts import store_epochs
    from edftools.store import open_store

    store = open_store(path, read_only=True)
    try:
        return store_epochs(store, sweep)
    finally:
        store.close()


def long_form(
    data: Any, error: Any = "error", complexity: Any = None, space: str = "space"
) -> tuple[pd.DataFrame, str, str]:
    """The runs of ``data`` with a ``space`` column, the error column and the normalization
    (a complexity column or ``none``): column names are looked up, arrays (one value per row)
    are added as columns."""
    frame = load_runs(data)
    if space not in frame.columns:
        raise StatsInputError(
            f"data has no {space!r} column of space labels (columns: "
            f"{', '.join(map(str, frame.columns))}); name it with space="
        )
    if space != "space":
        frame = frame.drop(columns=[c for c in ("space",) if c in frame.columns])
        frame = frame.rename(columns={space: "space"})
    else:
        frame = frame.copy()
    frame["space"] = frame["space"].astype(str)
    error_col = _as_column(frame, error, _ERROR_ARRAY, "error")
    if complexity is None or (isinstance(complexity, str) and complexity == "none"):
        normalize = "none"
    else:
        normalize = _as_column(frame, complexity, _COMPLEXITY_ARRAY, "complexity")
    return frame, error_col, normalize


def is_store(data: Any) -> bool:
    """Whether ``data`` is a path to an edftools store (a path that is not a table file)."""
    return is_path(data) and Path(data).suffix.lower() not in TABLE_READERS


def analysed(
    data: Any, error: Any, complexity: Any, space: str, cfg: Settings
) -> tuple[pd.DataFrame, Settings]:
    """:func:`long_form` of ``data`` and ``cfg`` with its error column and normalization."""
    frame, error_col, normalize = long_form(data, error, complexity, space)
    return frame, cfg.updated(error_column=error_col, normalize=normalize)


def _as_column(frame: pd.DataFrame, value: Any, name: str, what: str) -> str:
    """A column name of ``frame`` (checked), or an array written to column ``name``."""
    if isinstance(value, str):
        if value not in frame.columns:
            raise StatsInputError(
                f"no {what} column {value!r} in the data (columns: "
                f"{', '.join(map(str, frame.columns))})"
            )
        return value
    values = np.asarray(value)
    if values.shape != (len(frame),):
        raise StatsInputError(f"{what} must be a column name or one value per row of data")
    frame[name] = values
    return name


def refine(
    data: Any,
    chain: Sequence[str] | None = None,
    *,
    error: Any = "error",
    complexity: Any = None,
    space: str = "space",
    beside: Sequence[str] = (),
    bins: int | None = None,
    margin: float | None = None,
    margin_unit: str | None = None,
    margin_range: tuple[float, float] | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    n_boot: int | None = None,
    settings: Settings | None = None,
    sweep: str | None = None,
    dataset: str | None = None,
    fixed: bool = False,
) -> RefineResult:
    """Test a chain of restrictions (parent → restricted, step by step) on long-form data.

    ``chain``: space labels in refinement order (default: the paper's A → … → RegNetX);
    ``beside``: spaces tested against the last step's parent too (RegNetY beside RegNetX).
    Per step, one-sided KS tests both ways and the no-loss test against the margin, on
    complexity-normalized EDFs when ``complexity`` is given (NDS weights, permutations within
    bins), all 3·m hypotheses under one weighted step-down (family-wise error ≤ α);
    verdicts: improves, no loss, worse, mixed, inconclusive (with the models per space that
    would decide it). ``data`` a store path: the runs of ``sweep`` (and its sequential looks
    unless ``fixed``) with their epoch logs, as ``edftools refine`` reads them; runs with
    epoch logs (a store, or an ``epoch_log`` column) give ``result.through_training``, the
    verdicts at every epoch (:func:`edftools.verdicts_by_epoch`).

    Returns a :class:`RefineResult` (``to_frame()``: the table with a ``verdict`` column).
    """
    cfg = settings_of(
        settings,
        bins=bins,
        margin=margin,
        margin_unit=margin_unit,
        margin_range=margin_range,
        alpha=alpha,
        seed=seed,
        n_boot=n_boot,
    )
    frame, cfg = analysed(data, error, complexity, space, cfg)
    options = RefineOptions(
        chain=tuple(chain) if chain is not None else DEFAULT_CHAIN,
        beside=tuple(beside) if chain is not None or beside else DEFAULT_BESIDE,
        settings=cfg,
        sweep=sweep,
        dataset=dataset,
    )
    looks = epochs = None
    if is_store(data):
        looks = None if fixed else store_looks(Path(data), sweep)
        epochs = _store_epochs(Path(data), sweep)
    return refine_runs(frame, options, looks, epochs=epochs)


def compare(
    a: Any = None,
    b: Any = None,
    *spaces: Any,
    data: Any = None,
    error: Any = "error",
    complexity: Any = None,
    complexity_a: Any = None,
    complexity_b: Any = None,
    space: str = "space",
    bins: int | None = None,
    margin: Any = None,
    margin_unit: str | None = None,
    margin_range: tuple[float, float] | None = None,
    q_range: tuple[float, float] | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    n_boot: int | None = None,
    params: Sequence[str] = (),
    settings: Settings | None = None,
    sweep: str | None = None,
    dataset: str | None = None,
    **array_options: Any,
) -> ComparisonResult | CompareResult:
    """Compare error EDFs: of spaces of long-form ``data``, or of two arrays.

    With ``data`` (or a table as ``a``): ``a``, ``b`` and any further positional names are
    space labels (the first is the reference; default every space in the data), ``error`` and
    ``complexity`` column names; every pair gets the verdict of b against a (one family,
    family-wise error ≤ α), the two-sided KS and Anderson–Darling tests and the difference of
    medians. Returns a :class:`ComparisonResult`.

    With arrays ``a``, ``b`` of errors (``complexity=(c_a, c_b)`` or ``complexity_a``/``_b``
    to normalize): :func:`edftools.stats.compare`, returning its ``CompareResult``.
    """
    cfg = settings_of(
        settings,
        bins=bins,
        margin=margin,
        margin_unit=margin_unit,
        margin_range=margin_range or q_range,
        alpha=alpha,
        seed=seed,
        n_boot=n_boot,
    )
    if data is None and _is_table(a):
        data, a, b, spaces = a, b, (spaces[0] if spaces else None), spaces[1:]
    if data is None:
        if a is None or b is None:
            raise StatsInputError("compare needs two samples a and b, or data= and space labels")
        ca, cb = _pair(complexity, complexity_a, complexity_b)
        return stats_compare(
            a,
            b,
            complexity_a=ca,
            complexity_b=cb,
            bins=cfg.bins,
            margin=cfg.margin_value,
            margin_unit=cfg.margin_unit,
            q_range=cfg.margin_range,
            alpha=cfg.alpha,
            n_boot=cfg.n_boot,
            seed=cfg.seed,
            **array_options,
        )
    if array_options:
        raise StatsInputError(f"unknown option(s) with data=: {', '.join(sorted(array_options))}")
    frame, cfg = analysed(data, error, complexity, space, cfg)
    names = [str(x) for x in (a, b, *spaces) if x is not None]
    if not names:
        names = list(dict.fromkeys(frame["space"].tolist()))
    options = CompareOptions(
        spaces=tuple(names), settings=cfg, sweep=sweep, dataset=dataset, params=tuple(params)
    )
    return compare_spaces(frame, options)


def _is_table(value: Any) -> bool:
    return isinstance(value, pd.DataFrame) or hasattr(value, "to_pandas") or is_path(value)


def _pair(complexity: Any, first: Any, second: Any) -> tuple[Any, Any]:
    """``complexity=(c_1, c_2)`` or the two named keywords (not both)."""
    if complexity is None:
        return first, second
    if first is not None or second is not None:
        raise StatsInputError("give complexity=(c_a, c_b) or complexity_a/complexity_b, not both")
    if isinstance(complexity, str) or len(complexity) != 2:
        raise StatsInputError("without data=, complexity must be a pair (c_a, c_b) of arrays")
    return complexity[0], complexity[1]


def _values(data: Any, value: Any) -> Any:
    """A column of ``data`` when ``value`` names one (seaborn's rule), else ``value``."""
    if data is not None and isinstance(value, str):
        frame = load_runs(data)
        if value not in frame.columns:
            raise StatsInputError(f"no column {value!r} in the data")
        return frame[value].to_numpy(dtype=float)
    return value


def _rule(complexity: Any, normalization: Any, bins: int | None) -> Normalization | None:
    """The normalization of ``complexity``: a :class:`Normalization`, or ``bins`` linear bins
    over the sample's range (default :attr:`Settings.bins`)."""
    if complexity is None:
        if normalization is not None or bins is not None:
            raise StatsInputError("normalization (bins=) needs the models' complexity=")
        return None
    if isinstance(normalization, Normalization):
        return normalization
    if normalization is not None:
        raise StatsInputError(
            f"normalization must be a Normalization rule, got {normalization!r}; give "
            "complexity= (the values or a column) and bins= instead"
        )
    return Normalization(settings_of(bins=bins).bins)


def summarize(
    errors: Any = "error",
    weights: Any = None,
    *,
    data: Any = None,
    complexity: Any = None,
    bins: int | None = None,
    normalization: Normalization | None = None,
    n_boot: int | None = None,
    seed: Any = None,
    **options: Any,
) -> SampleSummary:
    """min, mean, quantiles and E[best of k] with bootstrap CIs of one sample
    (:func:`edftools.stats.summarize`); ``complexity=`` normalizes it with ``bins`` bins."""
    complexity = _values(data, complexity)
    return stats_summarize(
        _values(data, errors),
        _values(data, weights),
        complexity=complexity,
        normalization=_rule(complexity, normalization, bins),
        n_boot=settings_of(n_boot=n_boot).n_boot,
        seed=_seed(seed),
        **options,
    )


def edf_band(
    errors: Any = "error",
    weights: Any = None,
    *,
    data: Any = None,
    complexity: Any = None,
    bins: int | None = None,
    normalization: Normalization | None = None,
    n_boot: int | None = None,
    seed: Any = None,
    **options: Any,
) -> EDFBand:
    """A confidence band of the (normalized) EDF (:func:`edftools.stats.edf_band`);
    ``complexity=`` normalizes it with ``bins`` bins."""
    complexity = _values(data, complexity)
    return stats_edf_band(
        _values(data, errors),
        _values(data, weights),
        complexity=complexity,
        normalization=_rule(complexity, normalization, bins),
        n_boot=settings_of(n_boot=n_boot).n_boot,
        seed=_seed(seed),
        **options,
    )


def step_test(
    parent_errors: Any,
    restricted_errors: Any,
    *,
    data: Any = None,
    complexity: Any = None,
    parent_complexity: Any = None,
    restricted_complexity: Any = None,
    bins: int | None = None,
    margin: Any = None,
    margin_unit: str | None = None,
    margin_range: tuple[float, float] | None = None,
    q_range: tuple[float, float] | None = None,
    alpha: float | None = None,
    seed: Any = None,
    **options: Any,
) -> StepResult:
    """One restriction step's verdict (:func:`edftools.stats.step_test`);
    ``complexity=(c_parent, c_restricted)`` normalizes."""
    cp, cr = _pair(complexity, parent_complexity, restricted_complexity)
    cfg = settings_of(
        bins=bins, margin_unit=margin_unit, margin_range=margin_range or q_range, alpha=alpha
    )
    return stats_step_test(
        _values(data, parent_errors),
        _values(data, restricted_errors),
        parent_complexity=_values(data, cp),
        restricted_complexity=_values(data, cr),
        bins=cfg.bins,
        margin=margin,
        margin_unit=cfg.margin_unit,
        q_range=cfg.margin_range,
        alpha=cfg.alpha,
        seed=_seed(seed),
        **options,
    )


def plan(
    pilot_errors: Any,
    *,
    data: Any = None,
    complexity: Any = None,
    pilot_complexity: Any = None,
    bins: int | None = None,
    margin: Any = None,
    margin_unit: str | None = None,
    margin_range: tuple[float, float] | None = None,
    q_range: tuple[float, float] | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> PlanResult:
    """Models per space that decide a step, simulated from a pilot
    (:func:`edftools.stats.plan`); ``complexity=`` normalizes the pilot."""
    if complexity is not None and pilot_complexity is not None:
        raise StatsInputError("give complexity= or pilot_complexity=, not both")
    cfg = settings_of(
        bins=bins,
        margin_unit=margin_unit,
        margin_range=margin_range or q_range,
        alpha=alpha,
        seed=seed,
    )
    return stats_plan(
        _values(data, pilot_errors),
        pilot_complexity=_values(data, complexity if complexity is not None else pilot_complexity),
        bins=cfg.bins,
        margin=margin,
        margin_unit=cfg.margin_unit,
        q_range=cfg.margin_range,
        alpha=cfg.alpha,
        seed=cfg.seed,
        **options,
    )


__all__ = [
    "DEFAULT_BESIDE",
    "compare",
    "edf_band",
    "load_runs",
    "long_form",
    "plan",
    "refine",
    "step_test",
    "summarize",
]
