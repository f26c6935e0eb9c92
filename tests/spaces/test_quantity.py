"""The one complexity-quantity and band parser (recipes, ``sample --flops``, band restrictions)."""

from __future__ import annotations

import pytest

from edftools.errors import SpaceError
from edftools.spaces.restrictions import Band, band_bounds, parse_band, parse_quantity


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5.0),
        (2.5e6, 2.5e6),
        ("360M", 3.6e8),
        ("4k", 4e3),
        ("1.5G", 1.5e9),
        ("2B", 2e9),
        ("0.1T", 1e11),
        ("12", 12.0),
        (" 2.5e6 ", 2.5e6),
        (".5M", 5e5),
        ("0", 0.0),
    ],
)
def test_parse_quantity(value: object, expected: float) -> None:
    assert parse_quantity(value) == expected


@pytest.mark.parametrize(
    "value",
    ["-1", "abc", "3X", "1_000K", "inf", "+2M", "nan", "", "1e400", True, float("nan"), -2, [1]],
)
def test_parse_quantity_rejects(value: object) -> None:
    with pytest.raises(SpaceError, match=r"^expected a (finite )?number"):
        parse_quantity(value)


def test_band_needs_lo_below_hi_everywhere() -> None:
    assert band_bounds("1M", 2e6) == (1e6, 2e6)
    assert parse_band("1M:2M") == (1e6, 2e6)
    for lo, hi in (("2M", "2M"), ("3M", "2M")):
        with pytest.raises(SpaceError, match="impossible band"):
            band_bounds(lo, hi)
        with pytest.raises(SpaceError, match="impossible band"):
            parse_band(f"{lo}:{hi}")
        with pytest.raises(SpaceError, match="impossible band"):
            Band("flops", parse_quantity(lo), parse_quantity(hi))
    with pytest.raises(SpaceError, match=r"^band '1M:inf': expected a number"):
        parse_band("1M:inf")
    with pytest.raises(SpaceError, match="LO:HI"):
        parse_band("1M")
