"""Seed noise: how much a model's error moves when the same config is trained with another seed.

Given configs ``c`` each trained ``m_c`` times (the original run and its reruns, different
seeds), the seed-noise SD is the pooled within-config standard deviation

    s_p = sqrt( Σ_c Σ_r (e_cr − ē_c)² / Σ_c (m_c − 1) ),   over configs with m_c ≥ 2,

the one-way ANOVA's root mean squared error, with ``df = Σ_c (m_c − 1)`` degrees of freedom.
Under normal within-config errors with a common σ, ``df·s_p²/σ² ~ χ²(df)``, so the
``level`` confidence interval for σ is

    [ s_p·sqrt(df / χ²_{(1+level)/2, df}),  s_p·sqrt(df / χ²_{(1−level)/2, df}) ]

(``scipy.stats.chi2``). A few failed trainings (a seed that diverges to 90% error) dominate
``s_p``; the robust estimate

    s_r = median_c( s_c / sqrt(χ²_{0.5, m_c−1} / (m_c − 1)) ),   s_c the SD of config c,

is consistent for σ under the same normal model (the median of s_c/σ is
sqrt(χ²_{0.5, m−1}/(m−1))) and moves little when under half of the configs have such a seed.
It is the one a difference between spaces is compared with. Next to them, the EDF spread: the SD
(ddof 1) and the interquartile range of the original errors across configs — what one space's
EDF shows. Their ratio says how much of the EDF's width one seed could account for; a difference
between two spaces' median errors smaller than ``s_r`` is within the noise of re-training one
model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import as_sample, check_level
from edftools.stats.defaults import DEFAULT_LEVEL


def pooled_sd(groups: Sequence[Any]) -> tuple[float, int]:
    """``(s_p, df)``: the pooled within-group SD over groups of >= 2 values (module docstring).

    Groups of one value carry no within-group information and are skipped; ``(nan, 0)`` when
    no group has two values.
    """
    ss, df = 0.0, 0
    for i, g in enumerate(groups):
        values = as_sample(g, f"groups[{i}]")
        if values.size < 2:
            continue
        ss += float(np.sum((values - values.mean()) ** 2))
        df += values.size - 1
    if df == 0:
        return math.nan, 0
    return math.sqrt(ss / df), df


def robust_sd(groups: Sequence[Any]) -> float:
    """``s_r``: the median of the configs' SDs, each scaled by the median of the SD's law
    under normal errors (module docstring); nan when no group has two values."""
    from scipy.stats import chi2

    scaled = []
    for i, g in enumerate(groups):
        values = as_sample(g, f"groups[{i}]")
        if values.size < 2:
            continue
        dof = values.size - 1
        scaled.append(float(np.std(values, ddof=1)) / math.sqrt(chi2.median(dof) / dof))
    return float(np.median(scaled)) if scaled else math.nan


def sd_interval(sd: float, df: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The chi-square ``level`` CI for σ from an SD estimate with ``df`` degrees of freedom."""
    from scipy.stats import chi2

    if df < 1 or not math.isfinite(sd):
        return math.nan, math.nan
    upper_q = float(chi2.ppf((1 + level) / 2, df))
    lower_q = float(chi2.ppf((1 - level) / 2, df))
    return sd * math.sqrt(df / upper_q), sd * math.sqrt(df / lower_q)


@dataclass(frozen=True)
class SeedNoise:
    """Seed-noise SD of one space with its CI, next to the EDF spread (:func:`seed_noise`).

    ``sd``, ``low``, ``high``: pooled within-config SD and its chi-square CI at ``level``;
    ``df`` its degrees of freedom; ``n_configs`` configs with >= 2 replicates, ``n_runs`` the
    runs in them; ``edf_sd``, ``iqr``: the SD and IQR of the ``n_edf`` original errors;
    ``robust``: the robust seed-noise SD :func:`robust_sd` (what differences are compared with).
    """

    sd: float
    low: float
    high: float
    df: int
    n_configs: int
    n_runs: int
    edf_sd: float
    iqr: float
    n_edf: int
    level: float = DEFAULT_LEVEL
    robust: float = math.nan

    @property
    def ratio(self) -> float:
        """Seed-noise SD over EDF SD (nan when either is undefined or the EDF SD is 0)."""
        if not (math.isfinite(self.sd) and math.isfinite(self.edf_sd)) or self.edf_sd == 0:
            return math.nan
        return self.sd / self.edf_sd

    def __repr__(self) -> str:
        return (
            f"SeedNoise(sd={self.sd:.3g} [{self.low:.3g}, {self.high:.3g}] at {self.level:g}, "
            f"robust {self.robust:.3g}, "
            f"df={self.df}, {self.n_configs} configs; EDF sd={self.edf_sd:.3g}, "
            f"IQR={self.iqr:.3g}, n={self.n_edf}; ratio={self.ratio:.2f})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ratio included)."""
        return {
            "seed_sd": self.sd,
            "seed_sd_low": self.low,
            "seed_sd_high": self.high,
            "robust_seed_sd": self.robust,
            "df": self.df,
            "n_configs": self.n_configs,
            "n_runs": self.n_runs,
            "edf_sd": self.edf_sd,
            "iqr": self.iqr,
            "n_edf": self.n_edf,
            "ratio": self.ratio,
            "level": self.level,
        }

    def to_frame(self) -> Any:
        """One-row DataFrame of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])


def seed_noise(
    replicates: Sequence[Any], originals: Any, level: float = DEFAULT_LEVEL
) -> SeedNoise:
    """Seed-noise SD of a space from its replicated configs, next to its EDF spread.

    Args:
        replicates: per config, the errors of all its runs (the original and its reruns);
            configs with fewer than two runs are ignored.
        originals: the original errors of the space (one per config: the EDF's sample).
        level: confidence level of the SD's chi-square interval.
    """
    check_level(level)
    groups = [as_sample(g, f"replicates[{i}]") for i, g in enumerate(replicates)]
    used = [g for g in groups if g.size >= 2]
    if not used:
        raise StatsInputError("seed noise needs at least one config with two or more runs")
    sd, df = pooled_sd(used)
    low, high = sd_interval(sd, df, level)
    e = as_sample(originals, "originals")
    edf_sd = float(np.std(e, ddof=1)) if e.size >= 2 else math.nan
    q1, q3 = np.percentile(e, [25, 75])
    return SeedNoise(
        sd=sd,
        low=low,
        high=high,
        df=df,
        n_configs=len(used),
        n_runs=int(sum(g.size for g in used)),
        edf_sd=edf_sd,
        iqr=float(q3 - q1),
        n_edf=int(e.size),
        level=level,
        robust=robust_sd(used),
    )
