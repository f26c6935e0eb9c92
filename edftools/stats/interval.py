"""Two small rules every statistic here shares: the generalized-inverse quantile and the
percentile interval.

Generalized inverse of a (weighted) distribution with sorted support x_1 < … < x_D and
cumulative masses C_j = Σ_{i ≤ j} p_i:

    Q(q) = min{x_j : C_j ≥ q}                    (numpy's ``method="inverted_cdf"``),

with a relative slack of 1e-12 on q so that q·n equal to an integer up to rounding (0.7·10)
selects the value exact arithmetic would. Percentile interval of bootstrap replicates θ*_b at
level L: [Q*(α/2), Q*(1 − α/2)], α = 1 − L (numpy's default linear interpolation).
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

QUANTILE_SLACK = 1e-12


def inverted_cdf_index(cumulative: np.ndarray, q: Any, axis: int = -1) -> np.ndarray:
    """Index j of Q(q) = min{x_j : C_j ≥ q}, for cumulative masses C along ``axis``.

    ``cumulative`` may be unnormalized (its last entry along ``axis`` is the total) and may
    have leading batch dimensions; ``q`` is a scalar or an array broadcast against the batch.
    """
    cum = np.moveaxis(np.asarray(cumulative, dtype=float), axis, -1)
    total = cum[..., -1:]
    target = np.asarray(q, dtype=float)[..., None] * total * (1.0 - QUANTILE_SLACK)
    idx = (cum < target).sum(axis=-1)
    return np.minimum(idx, cum.shape[-1] - 1)


@overload
def inverted_cdf(support: np.ndarray, probs: np.ndarray, q: float) -> float: ...
@overload
def inverted_cdf(support: np.ndarray, probs: np.ndarray, q: NDArray[Any]) -> np.ndarray: ...


def inverted_cdf(support: np.ndarray, probs: np.ndarray, q: Any) -> np.ndarray | float:
    """Q(q) of the distribution putting mass ``probs`` on sorted ``support``.

    A scalar ``q`` gives a float, an array of levels an array of quantiles.
    """
    idx = inverted_cdf_index(np.cumsum(probs), np.atleast_1d(np.asarray(q, dtype=float))[:, None])
    out = np.asarray(support)[idx[..., 0] if idx.ndim > 1 else idx]
    return float(out[0]) if np.ndim(q) == 0 else out


def percentile_interval(
    replicates: np.ndarray, level: float, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """[Q*(α/2), Q*(1 − α/2)] of bootstrap replicates along ``axis`` (α = 1 − level)."""
    alpha = 1.0 - level
    low, high = np.quantile(replicates, [alpha / 2, 1.0 - alpha / 2], axis=axis)
    return low, high
