"""The defaults of the statistics, each defined once, here.

Every function of :mod:`edftools.stats` takes its defaults from these names, and
:class:`edftools.analysis.Settings` (which the CLI's help, the recipe's ``[sequential]`` table,
a stored study and the library ``edftools.refine(df, ...)`` read) takes its field defaults from
them too: changing one here changes all of them. The module imports nothing.

- :data:`DEFAULT_BINS`: K, the complexity bins of the NDS normalization (bin k has mass 1/K).
- :data:`DEFAULT_MARGIN_UNIT`, :data:`DEFAULT_MARGIN_PP`, :data:`DEFAULT_MARGIN_EDF`,
  :data:`DEFAULT_Q_RANGE`: the no-loss margin δ — error points at every quantile level q in
  [a, b] (unit ``pp``), or EDF mass at every error (unit ``edf``).
- :data:`DEFAULT_ALPHA`: the family-wise error rate α of the verdicts.
- :data:`DEFAULT_SEED`: the seed of every random step.
- :data:`DEFAULT_N_BOOT`, :data:`DEFAULT_LEVEL`: bootstrap resamples of confidence intervals
  and bands, and their level (percentile intervals [Q*(α'/2), Q*(1 − α'/2)], α' = 1 − level).
- :data:`DEFAULT_GOOD_RANGE_N_BOOT`: draws of the DDS good-range bootstrap (each draw is one
  rank, O(1), so it affords more).
- :data:`DEFAULT_N_PERM`, :data:`DEFAULT_MAX_PERM`: within-bin permutations of a KS test, and
  the most a borderline p-value grows to (:mod:`edftools.stats.step`).
- :data:`DEFAULT_QUANTILES`, :data:`DEFAULT_BEST_OF`: the error quantiles and the k of
  E[min of k] that a summary reports.
"""

from __future__ import annotations

from typing import Literal

MarginUnit = Literal["pp", "edf"]

DEFAULT_BINS: int = 8
DEFAULT_MARGIN_UNIT: MarginUnit = "pp"
DEFAULT_MARGIN_PP: float = 1.0
DEFAULT_MARGIN_EDF: float = 0.05
DEFAULT_Q_RANGE: tuple[float, float] = (0.1, 0.5)
DEFAULT_ALPHA: float = 0.05
DEFAULT_SEED: int = 0
DEFAULT_N_BOOT: int = 1000
DEFAULT_LEVEL: float = 0.95
DEFAULT_GOOD_RANGE_N_BOOT: int = 10_000
DEFAULT_N_PERM: int = 999
DEFAULT_MAX_PERM: int = 19_999
DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5)
DEFAULT_BEST_OF: tuple[int, ...] = tuple(range(1, 65))
