"""Trend of a design parameter with complexity among good models (DDS §4 trend analysis).

Fits y = β0 + β1·t(x), t = log (default) or identity, by ordinary least squares
(statsmodels OLS, t-based CIs) and by quantile regression at each requested quantile
(statsmodels QuantReg, CIs from its kernel sandwich covariance) — both computed as statsmodels
computes them, bit for bit, by :mod:`edftools.stats.linefit` (which spares importing it). With
``errors`` and ``top``, only the models whose error is at most the ``top``-quantile of the
errors are used ("good" models). A slope CI that excludes 0 says the parameter grows (or
shrinks) with complexity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample, check_level
from edftools.stats.defaults import DEFAULT_LEVEL
from edftools.stats.linefit import ols_line, quantile_line
from edftools.stats.summaries import Estimate


@dataclass(frozen=True)
class LineFit:
    """y = intercept + slope·t(x), each with a CI; ``pvalue`` tests slope = 0."""

    intercept: Estimate
    slope: Estimate
    pvalue: float


@dataclass(frozen=True, eq=False)
class TrendResult:
    """OLS and quantile-regression lines of y on t(x) (result of :func:`trend`)."""

    ols: LineFit
    quantile: dict[float, LineFit]
    n: int
    log_x: bool

    def predict(self, x: Any, q: float | None = None) -> np.ndarray:
        """Fitted y at x: the OLS line, or the q-quantile line."""
        fit = self.ols if q is None else self.quantile[q]
        t = np.log(np.asarray(x, dtype=float)) if self.log_x else np.asarray(x, dtype=float)
        return fit.intercept.value + fit.slope.value * t


def _line(params: np.ndarray, ci: np.ndarray, pvalues: np.ndarray, level: float) -> LineFit:
    ci = np.asarray(ci)
    return LineFit(
        intercept=Estimate(float(params[0]), float(ci[0, 0]), float(ci[0, 1]), level),
        slope=Estimate(float(params[1]), float(ci[1, 0]), float(ci[1, 1]), level),
        pvalue=float(pvalues[1]),
    )


def trend(
    x: Any,
    y: Any,
    *,
    errors: Any = None,
    top: float | None = None,
    log_x: bool = True,
    quantiles: Sequence[float] = (0.5,),
    level: float = DEFAULT_LEVEL,
) -> TrendResult:
    """Regress a parameter y on complexity x: y = β0 + β1·log x (OLS and quantile regression).

    Args:
        x: complexity per model (flops, params, …); positive when ``log_x``.
        y: the parameter (depth, w_m, group width, …).
        errors, top: keep only models with error ≤ Q_top(errors) (e.g. top=0.1).
        quantiles: quantile levels for QuantReg (empty for OLS only).
        level: confidence level of the CIs.
    """
    xa, ya = as_sample(x, "x"), as_sample(y, "y")
    if xa.size != ya.size:
        raise StatsInputError(f"x has length {xa.size} but y has length {ya.size}")
    level = check_level(level)
    if errors is not None or top is not None:
        if errors is None or top is None:
            raise StatsInputError("errors and top must be given together")
        ea = as_sample(errors, "errors")
        if ea.size != xa.size:
            raise StatsInputError(f"errors has length {ea.size} but x has length {xa.size}")
        top = check_level(top, "top") if top != 1 else 1.0
        keep = ea <= np.quantile(ea, top, method="inverted_cdf")
        xa, ya = xa[keep], ya[keep]
    if log_x and (xa <= 0).any():
        raise StatsInputError("x must be positive for log_x=True")
    t = np.log(xa) if log_x else xa
    if xa.size < 3 or np.ptp(t) == 0:
        raise StatsInputError(f"need at least 3 models with distinct x, got {xa.size}")
    design = np.column_stack([np.ones_like(t), t])  # intercept, slope
    alpha = 1.0 - level
    fits: dict[float, LineFit] = {}
    for q in quantiles:
        qf = float(q)
        if not 0.0 < qf < 1.0:
            raise StatsInputError(f"quantiles must be in (0, 1), got {q!r}")
        fits[qf] = _line(*quantile_line(ya, design, qf, alpha), level)
    return TrendResult(
        ols=_line(*ols_line(ya, design, alpha), level),
        quantile=fits,
        n=int(xa.size),
        log_x=log_x,
    )
