"""The complexity measures of a network, named and formatted: the one definition of their
names and order (:data:`METRICS`) and of their human form (:func:`format_number`), shared by
every layer (design spaces, store, tables, figures). Standard library only, so that a process
that only labels an axis or checks a column need not import the design spaces or numpy."""

from __future__ import annotations

#: The complexity measures of a network, in this order everywhere: the one definition that
#: bands, store columns, importers and reports use.
METRICS: tuple[str, ...] = ("flops", "params", "acts")


def format_number(x: float) -> str:
    """Human form of a count or complexity, four significant digits with an SI suffix
    (K = 10^3, M = 10^6, G = 10^9, T = 10^12): 360000000 -> '360M', 1.5e9 -> '1.5G',
    250 -> '250'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{suffix}"
    return f"{x:.4g}"
