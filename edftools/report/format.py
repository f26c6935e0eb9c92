"""Number formatting shared by the Markdown and HTML tables (deterministic, locale-free)."""

from __future__ import annotations

import math
import re

#: Appended to a space's n and best-of-k cells when it has fewer models than k.
SMALL_MARK = " ‡"


def small_sample_note(k: int, names: list[str]) -> str:
    """The footnote of :data:`SMALL_MARK`: spaces with fewer than ``k`` models."""
    return (
        f"{SMALL_MARK.strip()} fewer than {k} models ({', '.join(names)}): best of {k} "
        "extrapolates beyond the sample (it needs k models to mean what it says) and the "
        "bootstrap CIs rest on few distinct values; read these cells as indicative."
    )


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
    if p is None or _missing(p):
        return "—"
    if p < 1e-4:
        return "p<1e-4"
    return f"p={p:.3g}"


def sci(value: float | None, digits: int = 2) -> str:
    """A large count with ``digits`` significant digits, e.g. ``1.8e18`` (the paper's style,
    ``digits=2``) or ``1.85e18``; exact below 10⁶."""
    if value is None or _missing(value):
        return "—"
    if abs(value) < 1e6:
        return f"{value:,.0f}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


_SUB = str.maketrans("0123456789+-=()aeoxhklmnpstijruv", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ")
_SUP = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|[A-Za-z0-9])")


def readable_formula(text: str) -> str:
    """TeX-style sub/superscripts as Unicode text a reader reads: ``b_{i+1} = b_i`` →
    ``b₍ᵢ₊₁₎ = bᵢ``, ``(16·128)^4`` → ``(16·128)⁴``. A script with a character Unicode has no
    sub/superscript for is left as written."""

    def convert(match: re.Match[str]) -> str:
        mark, body = match.group(1), match.group(2).strip("{}")
        table = _SUB if mark == "_" else _SUP
        converted = body.translate(table)
        if any(ch == orig for ch, orig in zip(converted, body, strict=True) if not ch.isspace()):
            return match.group(0)
        if mark == "_" and len(body) > 1:
            return "₍" + converted + "₎"
        return converted

    return _SCRIPT.sub(convert, text)
