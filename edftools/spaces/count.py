"""Space sizes: the paper's combination formulas, exact counts and distinct networks.

* ``paper_total``: DDS Table 1's approximation, ``(prod of per-stage sizes)^S * prod(shared
  sizes) / (S!)^(#monotone params)``; RegNet spaces count each of d, w0, wa, wm as ~64 values.
* ``exact_total``: the number of parameter combinations the rules allow. A per-stage
  parameter with ``m`` allowed values contributes ``m^S`` (free), ``m`` (shared) or
  ``C(m + S - 1, S)`` (monotone: multisets of size S). RegNet spaces count grid points
  ``(d, w0, wa, wm, b, g)`` whose generated widths have exactly ``S`` stages (no skipped
  stage), counted exactly by ``wa``-intervals (:mod:`edftools.spaces.regnet_count`).
* ``distinct_networks``: the number of different networks after group compatibility
  (AnyNet), a network being its per-stage ``(d, w, w_b, groups)``. For fixed ``(b, g)``
  compatibility maps each width to an adjusted width monotonically, so with ``T_{b,g}`` the
  set of adjusted stage types: free stages give ``|T|^S``, monotone widths ``C(|T|+S-1, S)``;
  different ``b`` give different inner widths (disjoint); the union over a shared ``g`` is
  taken by inclusion-exclusion, ``|U_g A_g| = sum_{G != {}} (-1)^{|G|+1} |n_{g in G} A_g|``.
  RegNet: exact as well, not estimated. A RegNet network is its per-stage depths and adjusted
  stage types; :mod:`edftools.spaces.regnet_count` enumerates the distinct ``(stage widths,
  stage boundaries)`` over the ``(w0, wa, wm)`` grid by ``wa``-intervals (a few million
  keys for the paper's grid, each with the interval of depths it allows), maps the widths
  through compatibility for every ``(b, g)`` and merges equal keys. Exact enumeration was
  chosen over a Monte-Carlo estimate of ``sum_x 1/m(x)`` because it costs seconds and has no
  error bar to report (``distinct_method = "exact"``, ``distinct_stderr = 0``).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from edftools.spaces.catalog import CATALOG
from edftools.spaces.regnet_count import (
    RegNetSegments,
    regnet_distinct_networks,
    regnet_segments,
    regnet_valid_total,
)
from edftools.spaces.sampling import adjust_compatibility_batch
from edftools.spaces.sizes import CATALOG_SIZES
from edftools.spaces.space import FAMILY_PARAMS, Space

PAPER_VALUES_PER_CONTINUOUS = 64


def sequence_count(m: int, stages: int, order: str) -> int:
    """Sequences of length ``stages`` over ``m`` values: ``m^S``, ``m`` or ``C(m+S-1, S)``."""
    if order == "none":
        return m**stages
    if order == "shared":
        return m
    return math.comb(m + stages - 1, stages)


def _sizes(space: Space) -> dict[str, int]:
    return {name: int(space.allowed(name).sum()) for name in FAMILY_PARAMS[space.family]}


def paper_formula(space: Space) -> tuple[str, float, int]:
    """(formula text, its value, degrees of freedom) in the style of DDS Table 1."""
    sizes = _sizes(space)
    S = space.num_stages
    if space.family == "regnet":
        cont = [p for p in ("depth", "w0", "wa", "wm") if sizes[p] > 1]
        disc = [sizes[p] for p in ("group_width", "bottleneck_ratio") if sizes[p] > 1]
        n = PAPER_VALUES_PER_CONTINUOUS
        text = "~" + "·".join([f"{n}^{len(cont)}", *map(str, disc)])
        return text, float(n ** len(cont) * math.prod(disc)), len(cont) + len(disc)
    free = [p for p in FAMILY_PARAMS["anynet"] if space.order(p) != "shared" and sizes[p] > 1]
    shared = [p for p in FAMILY_PARAMS["anynet"] if space.order(p) == "shared" and sizes[p] > 1]
    n_mono = sum(1 for p in free if space.order(p) in ("increasing", "decreasing"))
    text = f"({'·'.join(str(sizes[p]) for p in free)})^{S}" if free else ""
    text = "·".join(t for t in [text, *(str(sizes[p]) for p in shared)] if t) or "1"
    if n_mono:
        text += f"/({S}!)" + (f"^{n_mono}" if n_mono > 1 else "")
    value = math.prod(sizes[p] for p in free) ** S * math.prod(sizes[p] for p in shared)
    return text, value / math.factorial(S) ** n_mono, len(free) * S + len(shared)


def exact_total(space: Space) -> int:
    """Exact number of parameter combinations the space's rules allow (module docstring)."""
    sizes = _sizes(space)
    if space.family == "anynet":
        S = space.num_stages
        return math.prod(sequence_count(sizes[p], S, space.order(p)) for p in sizes)
    seg = _regnet_segments(space)
    return regnet_valid_total(seg) * sizes["bottleneck_ratio"] * sizes["group_width"]


def _regnet_key(space: Space) -> tuple:
    w0, wa, wm, depth = (_allowed_values(space, p) for p in ("w0", "wa", "wm", "depth"))
    return tuple(w0), tuple(wa), tuple(wm), tuple(int(d) for d in depth), space.num_stages


def _regnet_segments(space: Space) -> RegNetSegments:
    return regnet_segments(*_regnet_key(space))


@functools.lru_cache(maxsize=8)
def _regnet_distinct(key: tuple, bs: tuple, gs: tuple, block_type: str) -> int:
    """Cached :func:`regnet_distinct_networks` (X and Y blocks have the same stage types)."""
    return regnet_distinct_networks(regnet_segments(*key), list(bs), list(gs), block_type)


def _allowed_values(space: Space, name: str) -> np.ndarray:
    return np.asarray(space.param(name).values, dtype=np.float64)[space.allowed(name)]


def _stage_keys(space: Space, b: float, g: int) -> set[tuple[int, ...]]:
    """Adjusted stage types ``(w, w_b, groups)`` reachable with bottleneck b and group g."""
    w = _allowed_values(space, "width").astype(np.int64)
    w_adj, g_adj = adjust_compatibility_batch(w, np.full(w.size, b), np.full(w.size, g))
    if space.block_type in ("V", "VR"):
        return {(int(x),) for x in w_adj}
    w_b = np.round(w_adj / b).astype(np.int64)
    groups = np.ones_like(w_b) if space.block_type == "R" else w_b // g_adj
    return set(zip(w_adj.tolist(), w_b.tolist(), groups.tolist(), strict=True))


def _is_monotone(space: Space, b: float, g: int) -> bool:
    w = _allowed_values(space, "width").astype(np.int64)
    w_adj, _ = adjust_compatibility_batch(w, np.full(w.size, b), np.full(w.size, g))
    return bool((np.diff(w_adj) >= 0).all())


def distinct_networks(space: Space) -> int | None:
    """Number of distinct networks after group compatibility and RegNet quantization.

    Exact (module docstring). ``None`` only for AnyNet spaces with monotone widths and
    unshared b or g (not in the catalog), where no exact method is implemented.
    """
    if space.family == "regnet":
        bs = _allowed_values(space, "bottleneck_ratio").tolist()
        gs = [int(x) for x in _allowed_values(space, "group_width")]
        block = "X" if space.block_type == "Y" else space.block_type
        return _regnet_distinct(_regnet_key(space), tuple(bs), tuple(gs), block)
    S = space.num_stages
    d_count = sequence_count(_sizes(space)["depth"], S, space.order("depth"))
    w_order = space.order("width")
    b_shared = space.order("bottleneck_ratio") == "shared"
    g_shared = space.order("group_width") == "shared"
    bs = _allowed_values(space, "bottleneck_ratio").tolist()
    gs = [int(x) for x in _allowed_values(space, "group_width")]
    if w_order == "shared":
        seq = functools.partial(sequence_count, stages=S, order="shared")
    elif w_order == "none":
        seq = functools.partial(sequence_count, stages=S, order="none")
    elif b_shared and g_shared and all(_is_monotone(space, b, g) for b in bs for g in gs):
        seq = functools.partial(sequence_count, stages=S, order="increasing")
    else:
        return None

    def union_count(b_values: list[float], g_values: list[int], per_stage: bool) -> int:
        """|U_g (T_g)^S| (per_stage=False: one stage set per g) by inclusion-exclusion."""
        sets = {g: set().union(*(_stage_keys(space, b, g) for b in b_values)) for g in g_values}
        if not per_stage:
            total = 0
            for r in range(1, len(g_values) + 1):
                for combo in itertools.combinations(g_values, r):
                    common = set.intersection(*(sets[g] for g in combo))
                    total += (-1) ** (r + 1) * seq(len(common))
            return total
        return seq(len(set().union(*sets.values())))

    b_groups = [[b] for b in bs] if b_shared else [bs]
    return d_count * sum(union_count(bg, gs, per_stage=not g_shared) for bg in b_groups)


def space_row(space: Space, sizes: tuple[int, int | None] | None = None) -> dict[str, Any]:
    """One row of the refinement table for ``space`` (keys in :func:`space_table`);
    ``sizes`` = (exact_total, distinct_networks) when already known (the catalog's; a
    distinct count of None: not computed)."""
    text, value, dim = paper_formula(space)
    restriction = "; ".join(r.text() for r in space.restrictions) or "none"
    exact, distinct = sizes if sizes else (exact_total(space), distinct_networks(space))
    return {
        "name": space.name,
        "restriction": restriction,
        "dim": dim,
        "combinations": text,
        "paper_total": value,
        "paper_total_text": f"{value:.1e}",
        "exact_total": exact,
        "exact_over_paper": exact / value,
        "distinct_networks": distinct,
        "distinct_method": "exact" if distinct is not None else "not computed",
        "distinct_stderr": 0.0 if distinct is not None else None,
    }


def space_table(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The refinement table: keys ``name, restriction, dim, combinations, paper_total,
    exact_total, distinct_networks`` (+ ``paper_total_text``, ``exact_over_paper``,
    ``distinct_method``, ``distinct_stderr``) for the catalog spaces (or ``names``), with
    the shipped sizes of :mod:`edftools.spaces.sizes`."""
    return [space_row(CATALOG[n], CATALOG_SIZES.get(n)) for n in (names or list(CATALOG))]


def format_table(rows: list[dict[str, Any]]) -> str:
    """Plain-text rendering of :func:`space_table`."""
    head = f"{'space':10s} {'dim':>3s} {'paper':>8s} {'exact':>9s} {'distinct':>9s}  restriction"
    lines = [head]
    for r in rows:
        distinct = f"{r['distinct_networks']:.2e}" if r["distinct_networks"] else "n/a"
        lines.append(
            f"{r['name']:10s} {r['dim']:>3d} {r['paper_total_text']:>8s} "
            f"{r['exact_total']:>9.2e} {distinct:>9s}  {r['restriction']}"
        )
    return "\n".join(lines)
