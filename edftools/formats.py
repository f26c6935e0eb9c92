"""Human number formats shared by the tables, labels and figures (standard library only, so
that a drawing process need not import the design spaces to label an axis)."""

from __future__ import annotations


def format_number(x: float) -> str:
    """Human form of a count or complexity, four significant digits with an SI suffix
    (K = 10^3, M = 10^6, G = 10^9, T = 10^12): 360000000 -> '360M', 1.5e9 -> '1.5G',
    250 -> '250'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{suffix}"
    return f"{x:.4g}"
