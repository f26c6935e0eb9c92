"""The catalog spaces' exact sizes, computed once by :mod:`edftools.spaces.count` and shipped.

Counting the RegNet spaces takes seconds; these constants make ``edftools spaces`` and every
report instant. ``tests/spaces/test_count.py`` recomputes each value with the counting code, so
a change to a catalog space or to the counting rules cannot leave them stale.

name -> (exact_total, distinct_networks)
"""

from __future__ import annotations

CATALOG_SIZES: dict[str, tuple[int, int]] = {
    "AnyNetX_A": (1846757322198614016, 328251186626953216),
    "AnyNetX_B": (68398419340689408, 14580676658593792),
    "AnyNetX_C": (316659348799488, 162188998606848),
    "AnyNetX_D": (13821510942720, 7088294592512),
    "AnyNetX_E": (817446539520, 419223477792),
    "RegNet": (22531651650, 263870645),
    "RegNetX": (4706746848, 33592570),
    "RegNetY": (4706746848, 33592570),
}
