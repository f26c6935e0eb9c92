"""Space sizes: the paper's combination formulas, exact counts and distinct networks.

* ``paper_total``: DDS Table 1's approximation, ``(prod of per-stage sizes)^S * prod(shared
  sizes) / (S!)^(#monotone params)``; RegNet spaces count each of d, w0, wa, wm as ~64 values.
* ``exact_total``: the number of parameter combinations the rules allow. A per-stage
  parameter with ``m`` allowed values contributes ``m^S`` (free), ``m`` (shared) or
  ``C(m + S - 1, S)`` (monotone: multisets of size S). RegNet spaces count grid points
  ``(d, w0, wa, wm, b, g)`` whose generated widths have exactly ``S`` stages (no skipped
  stage), using the stage boundaries of the quantized linear model (see
  :func:`regnet_valid_counts`).
* ``distinct_networks``: the number of different networks after group compatibility
  (AnyNet), a network being its per-stage ``(d, w, w_b, groups)``. For fixed ``(b, g)``
  compatibility maps each width to an adjusted width monotonically, so with ``T_{b,g}`` the
  set of adjusted stage types: free stages give ``|T|^S``, monotone widths ``C(|T|+S-1, S)``;
  different ``b`` give different inner widths (disjoint); the union over a shared ``g`` is
  taken by inclusion-exclusion, ``|U_g A_g| = sum_{G != {}} (-1)^{|G|+1} |n_{g in G} A_g|``.
  RegNet: ``None`` (see the report; the per-config map is not invertible cheaply).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from edftools.spaces.catalog import CATALOG
from edftools.spaces.sampling import adjust_compatibility_batch
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
    w0, wa, wm, depth = (_allowed_values(space, p) for p in ("w0", "wa", "wm", "depth"))
    counts = regnet_valid_counts(
        tuple(w0), tuple(wa), tuple(wm), tuple(int(d) for d in depth), space.num_stages
    )
    return int(counts.sum()) * sizes["bottleneck_ratio"] * sizes["group_width"]


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
    """Number of distinct networks after group compatibility (AnyNet; module docstring).

    ``None`` where no exact method is implemented (RegNet spaces; monotone widths with
    unshared b or g).
    """
    if space.family != "anynet":
        return None
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


@functools.lru_cache(maxsize=8)
def regnet_valid_counts(
    w0s: tuple[float, ...],
    was: tuple[float, ...],
    wms: tuple[float, ...],
    depths: tuple[int, ...],
    stages: int = 4,
) -> np.ndarray:
    """``counts[i, k]``: grid points ``(d, wa)`` giving exactly ``stages`` stages at
    ``(w0_i, wm_k)``.

    With ``c_k = wm^(k - 1/2) - 1`` and ``rho = wa / w0``, block ``j`` has stage index
    ``k_j >= k`` iff ``j >= t_k = c_k / rho``; so ``B_k = ceil(t_k)`` blocks precede stage
    ``k`` (checked against the generator's own floating-point rounding where ``t_k`` is within
    1e-6 of an integer). A depth ``d`` gives ``stages`` stages with none skipped iff
    ``B_{S-1} < d <= B_S``, ``B_1 < B_2 < ... < B_{S-1}`` and the ``S`` quantized widths
    ``round(w0 * wm^k / 8) * 8`` are distinct.
    """
    wa = np.asarray(was)
    wm = np.asarray(wms)
    dmax = max(depths)
    allowed = np.zeros(dmax + 2, dtype=np.int64)
    allowed[np.asarray(depths)] = 1
    cum = np.cumsum(allowed)  # cum[x] = allowed depths <= x
    out = np.zeros((len(w0s), wm.size), dtype=np.int64)
    ks = np.arange(stages, dtype=np.float64)
    for i, w0 in enumerate(w0s):
        widths = np.round(w0 * np.power(wm[:, None], ks[None, :]) / 8) * 8
        distinct = (np.diff(widths, axis=1) != 0).all(axis=1)
        rows = np.flatnonzero(distinct)
        if rows.size == 0:
            continue
        rho = wa / w0
        # only wa in [c_{S-1} w0 / (dmax + 1), c_2 w0] can give S stages (B_{S-1} <= dmax and
        # B_2 >= 2); outside, the count is 0
        first = np.searchsorted(wa, (np.power(wm[rows], stages - 1.5) - 1) * w0 / (dmax + 1))
        last = np.searchsorted(wa, (np.power(wm[rows], 1.5) - 1) * w0 * (1 + 1e-6), "right")
        for lo in range(0, rows.size, 32):  # cache-sized blocks of wm rows
            sub = rows[lo : lo + 32]
            a, b = int(first[lo : lo + 32].min()), int(last[lo : lo + 32].max())
            if b > a:
                cols = slice(a, b)
                out[i, sub] = _count_rows(w0, wa[cols], rho[cols], wm[sub], stages, dmax, cum)
    return out


def _count_rows(w0, wa, rho, wm, stages, dmax, cum) -> np.ndarray:
    """Valid ``(d, wa)`` counts for each ``wm`` in ``wm`` (see :func:`regnet_valid_counts`)."""
    bounds = []
    inv = 1.0 / rho
    for k in range(1, stages + 1):
        c = np.power(wm, k - 0.5) - 1.0
        t = np.multiply(c[:, None], inv[None, :])
        np.minimum(t, dmax + 1.0, out=t)
        bk = np.ceil(t)
        gap = bk - t  # in [0, 1): near 0 or near 1 means t is close to an integer
        near = (gap < 1e-6 * dmax) | (gap > 1.0 - 1e-6 * dmax)
        if near.any():
            r, a = np.nonzero(near)
            bk[r, a] = _exact_boundary(w0, wa[a], wm[r], np.round(t[r, a]), k)
        bounds.append(bk.astype(np.int64))
    ok = np.ones(bounds[0].shape, dtype=bool)
    for b_lo, b_hi in itertools.pairwise(bounds[:-1]):
        ok &= b_hi > b_lo
    top = np.minimum(bounds[-1], dmax)
    low = np.minimum(bounds[-2], dmax)
    return np.where(ok & (top > low), cum[top] - cum[low], 0).sum(axis=1)


def _exact_boundary(w0: float, wa, wm, j_near, k: int) -> np.ndarray:
    """Smallest ``j`` with generator index ``round(ln((j*wa + w0)/w0)/ln wm) >= k``, for ``j``
    known to be ``j_near`` or ``j_near + 1`` (ties resolved by the generator's arithmetic)."""
    j = np.asarray(j_near, dtype=np.float64)
    k_at = np.round(np.log((j * wa + w0) / w0) / np.log(wm))
    return np.where(k_at >= k, j, j + 1).astype(np.int64)


def space_row(space: Space) -> dict[str, Any]:
    """One row of the refinement table for ``space`` (keys in :func:`space_table`)."""
    text, value, dim = paper_formula(space)
    restriction = "; ".join(r.text() for r in space.restrictions) or "none"
    exact = exact_total(space)
    distinct = distinct_networks(space)
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
    }


def space_table(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The refinement table: keys ``name, restriction, dim, combinations, paper_total,
    exact_total, distinct_networks`` (+ ``paper_total_text``, ``exact_over_paper``,
    ``distinct_method``) for the catalog spaces (or ``names``)."""
    return [space_row(CATALOG[n]) for n in (names or list(CATALOG))]


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
