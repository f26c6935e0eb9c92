"""Number formatting shared by the Markdown and HTML tables (deterministic, locale-free)."""

from __future__ import annotations

import math


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def num(value: float | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals, or an em dash when missing."""
    return "—" if _missing(value) else f"{value:.{digits}f}"


def ci(low: float | None, high: float | None, digits: int = 2) -> str:
    """A confidence interval ``[low, high]``."""
    if _missing(low) or _missing(high):
        return ""
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def pvalue(p: float | None) -> str:
    """A p-value: 3 significant digits, ``<1e-4`` for tiny values."""
    if _missing(p):
        return "—"
    if p < 1e-4:
        return "p<1e-4"
    return f"p={p:.3g}"


def sci(value: float | None, digits: int = 2) -> str:
    """A large count with ``digits`` significant digits, e.g. ``1.8e18`` (the paper's style,
    ``digits=2``) or ``1.85e18``; exact below 10⁶."""
    if _missing(value):
        return "—"
    if abs(value) < 1e6:
        return f"{value:,.0f}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"
