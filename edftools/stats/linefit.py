"""Least-squares and quantile-regression lines with t-based CIs, computed as statsmodels 0.15
computes them (``OLS(y, X).fit()`` and ``QuantReg(y, X).fit(q)``), without importing it.

Importing ``statsmodels.regression`` loads ``scipy.stats`` and most of statsmodels (≈ 1.3 s of
the 1.7 s that ``compare``'s statistics took); these few lines are the arithmetic those fits
run, operation for operation, on numpy and ``scipy.special``, so the numbers are the same bit
for bit (``tests/stats/test_linefit.py`` fits both ways and compares them exactly).

OLS (``method="pinv"``):  β = X⁺y (X⁺ from the SVD, singular values below 1e-15·max
dropped), s² = r'r / (n − rank), Cov(β) = s²·X⁺X⁺'.

Quantile regression at level q: iteratively reweighted least squares, β ← (X*'X)⁺ X*'y with
X* = X / |ρ_q(r)| (|r| floored at 1e-6), until max|Δβ| ≤ 1e-6 (at most 1,000 iterations);
the sandwich covariance (Xʹ X)⁺ (X' D X) (X' X)⁺ with D_i = (q/f̂)² for r_i > 0 and
((1 − q)/f̂)² otherwise, f̂ = Σ K(r_i/h)/(n h), the Epanechnikov kernel K and the Hall–Sheather
bandwidth h = min(sd(y), IQR(r)/1.34)·(Φ⁻¹(q + h₀) − Φ⁻¹(q − h₀)),
h₀ = n^(−1/3)·Φ⁻¹(0.975)^(2/3)·(1.5 φ(Φ⁻¹(q))² / (2 Φ⁻¹(q)² + 1))^(1/3).

Both: CI β ± t_{n−rank}(1 − α/2)·se, p-value 2·P(T_{n−rank} > |β/se|).
"""

from __future__ import annotations

import warnings

import numpy as np

_MAX_ITER = 1000
_P_TOL = 1e-6
_RESID_FLOOR = 0.000001
_NORM_PDF_C = np.sqrt(2 * np.pi)
_HS_LEVEL = 0.05  # the level in the Hall–Sheather bandwidth, as statsmodels fixes it


def _pinv_extended(x: np.ndarray, rcond: float = 1e-15) -> tuple[np.ndarray, np.ndarray]:
    """X⁺ and the singular values of X (statsmodels.tools.tools.pinv_extended)."""
    x = np.asarray(x)
    x = x.conjugate()
    u, s, vt = np.linalg.svd(x, False)
    s_orig = np.copy(s)
    m = u.shape[0]
    n = vt.shape[1]
    cutoff = rcond * np.maximum.reduce(s)
    for i in range(min(n, m)):
        if s[i] > cutoff:
            s[i] = 1.0 / s[i]
        else:
            s[i] = 0.0
    res = np.dot(np.transpose(vt), np.multiply(s[:, np.newaxis], np.transpose(u)))
    return res, s_orig


def _inference(
    params: np.ndarray, cov: np.ndarray, df_resid: float, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(params, CI rows [lower, upper], two-sided p-values) from t with ``df_resid`` d.f."""
    from scipy.special import stdtr, stdtrit

    bse = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        tvalues = params / bse
    pvalues = stdtr(df_resid, -np.abs(tvalues)) * 2
    q = stdtrit(df_resid, 1 - alpha / 2)
    ci = np.column_stack([params - q * bse, params + q * bse])
    return params, ci, pvalues


def ols_line(
    y: np.ndarray, design: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of y on the design (module docstring): (params, CI rows, p-values)."""
    pinv_x, singular = _pinv_extended(design)
    normalized_cov = np.dot(pinv_x, np.transpose(pinv_x))
    rank = np.linalg.matrix_rank(np.diag(singular))
    beta = np.dot(pinv_x, y)
    df_resid = float(design.shape[0]) - rank
    resid = y - np.dot(design, beta)
    scale = np.dot(resid, resid) / df_resid
    return _inference(beta, normalized_cov * scale, df_resid, alpha)


def _norm_pdf(x: float) -> float:
    return float(np.exp(-(x**2) / 2.0) / _NORM_PDF_C)


def _hall_sheather(n: float, q: float) -> float:
    """h₀ of the module docstring (statsmodels' ``hall_sheather`` at its fixed level 0.05)."""
    from scipy.special import ndtri

    z = ndtri(q)
    num = 1.5 * _norm_pdf(z) ** 2.0
    den = 2.0 * z**2.0 + 1.0
    return float(
        n ** (-1.0 / 3) * ndtri(1.0 - _HS_LEVEL / 2.0) ** (2.0 / 3) * (num / den) ** (1.0 / 3)
    )


def _score_at_percentile(a: np.ndarray, per: float) -> float:
    """scipy.stats.scoreatpercentile(a, per) (interpolation "fraction")."""
    sorted_ = np.sort(a)
    idx = per / 100.0 * (sorted_.shape[0] - 1)
    i = int(idx)
    if i == idx:
        return float(np.add.reduce(sorted_[i : i + 1] * np.array(1), axis=0) / 1.0)
    weights = np.array([(i + 1 - idx), (idx - i)], float)
    return float(np.add.reduce(sorted_[i : i + 2] * weights, axis=0) / weights.sum())


def quantile_line(
    y: np.ndarray, design: np.ndarray, q: float, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantile regression of y on the design at level q (module docstring): (params, CI rows,
    p-values)."""
    from scipy.special import ndtri

    pinv = np.linalg.pinv
    endog, exog = y, design
    nobs = float(exog.shape[0])
    df_resid = nobs - np.linalg.matrix_rank(exog)
    n_iter = 0
    xstar = exog
    beta = np.ones(exog.shape[1])
    diff: float = 10
    cycle = False
    history: list[np.ndarray] = []
    while n_iter < _MAX_ITER and diff > _P_TOL and not cycle:
        n_iter += 1
        beta0 = beta
        xtx = np.dot(xstar.T, exog)
        xty = np.dot(xstar.T, endog)
        beta = np.dot(pinv(xtx), xty)
        resid = endog - np.dot(exog, beta)
        mask = np.abs(resid) < _RESID_FLOOR
        resid[mask] = ((resid[mask] >= 0) * 2 - 1) * _RESID_FLOOR
        resid = np.where(resid < 0, q * resid, (1 - q) * resid)
        resid = np.abs(resid)
        xstar = exog / resid[:, np.newaxis]
        diff = np.max(np.abs(beta - beta0))
        history.append(beta)
        if (n_iter >= 300 and n_iter % 100 == 0) and any(
            np.all(beta == history[-ii]) for ii in range(2, 10)
        ):
            cycle = True
            warnings.warn("Convergence cycle detected", RuntimeWarning, stacklevel=2)
    if n_iter == _MAX_ITER:
        warnings.warn(
            f"Maximum number of iterations ({_MAX_ITER}) reached.", RuntimeWarning, stacklevel=2
        )
    e = endog - np.dot(exog, beta)
    iqre = _score_at_percentile(e, 75) - _score_at_percentile(e, 25)
    h = _hall_sheather(nobs, q)
    h = min(np.std(endog), iqre / 1.34) * (ndtri(q + h) - ndtri(q - h))
    u = e / h
    fhat0 = 1.0 / (nobs * h) * np.sum(3.0 / 4 * (1 - u**2) * np.where(np.abs(u) <= 1, 1, 0))
    d = np.where(e > 0, (q / fhat0) ** 2, ((1 - q) / fhat0) ** 2)
    xtxi = pinv(np.dot(exog.T, exog))
    xtdx = np.dot(exog.T * d[np.newaxis, :], exog)
    vcov = xtxi @ xtdx @ xtxi
    return _inference(beta, vcov * 1.0, df_resid, alpha)
