"""Restriction steps: the verdict of one step, and of a family of steps under multiplicity.

A step compares a parent space P with a restricted space R on their (normalized) error EDFs.
Three hypotheses per step (:mod:`edftools.stats.verdicts`): "R nowhere better" (one-sided KS
D+, :mod:`edftools.stats.pairtest`), "R nowhere worse" (D−) and "R loses at least the margin
somewhere" (the intersection–union no-loss test, :mod:`edftools.stats.noloss`). Over a family
of m steps (a refinement chain, or the pairs of a comparison) the 3m p-values go through one
weighted step-down (:mod:`edftools.stats.multiplicity`: α split equally over the steps; within a
step ½/½ between "better" and "worse", and 0.1/0.9 between "better" and the no-loss
hypothesis, which cannot be true together with "worse"): the probability of any false
"better", "worse" or "no loss" anywhere in the family is ≤ α.

Monte-Carlo control: permutation p-values start from ``n_perm`` permutations; while one lies
within 3 Monte-Carlo standard errors of its own critical value, its step gets 4× more
permutations, up to ``max_perm`` (and a budget of :data:`WORK_BUDGET` cell draws for all
the extra permutations together). A step still that close is flagged ``borderline`` (its
verdict could change with the permutation seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level, check_margin_unit
from edftools.stats.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_BINS,
    DEFAULT_MARGIN_EDF,
    DEFAULT_MARGIN_PP,
    DEFAULT_MARGIN_UNIT,
    DEFAULT_MAX_PERM,
    DEFAULT_N_PERM,
    DEFAULT_Q_RANGE,
    DEFAULT_SEED,
)
from edftools.stats.multiplicity import (
    step_shares,
    steps_adjusted,
)
from edftools.stats.noloss import Margin, NoLossTest, no_loss_test
from edftools.stats.pairtest import PairTest, WithinBinPermutation, scipy_pair_test
from edftools.stats.strata import Stratified, stratify_pair
from edftools.stats.verdicts import (
    IMPROVES,
    MIXED,
    NO_LOSS,
    WORSE,
    step_verdict,
    verdict_note,
)

MC_Z = 3.0
#: Extra permutations for Monte-Carlo control stop after this many hypergeometric cell draws
#: (about 2 s here): small studies get up to ``max_perm``, NDS-size ones are flagged sooner.
WORK_BUDGET = 20_000_000


@dataclass(frozen=True)
class StepResult:
    """The verdict of one step (parent → restricted) with the numbers behind it.

    Attributes:
        verdict: improves / no loss / worse / mixed / inconclusive.
        margin: the equivalence margin used (value, unit, quantile range).
        better, worse: D+ = sup(F_R − F_P) and D− = sup(F_P − F_R).
        loss: the estimated largest loss in the margin's unit (pp or EDF mass).
        p_better, p_worse, p_no_loss: raw p-values of the three hypotheses.
        p_two_sided: the two-sided KS p-value (for D = max(D+, D−); not used by the verdict).
        adjusted: the three p-values adjusted over the family (better, worse, no loss).
        alpha: family-wise error level.
        n_parent, n_restricted: models used.
        n_perm: permutations behind the KS p-values (0: scipy).
        borderline: a p-value is within Monte-Carlo error of its critical value.
        method: how the KS p-values were computed.
        note: a qualifier (e.g. why an improvement is not claimed).
    """

    verdict: str
    margin: Margin
    better: float
    worse: float
    loss: float
    p_better: float
    p_worse: float
    p_no_loss: float
    p_two_sided: float
    adjusted: tuple[float, float, float]
    alpha: float
    n_parent: int
    n_restricted: int
    n_perm: int
    borderline: bool
    method: str
    note: str = ""

    @property
    def decisions(self) -> tuple[bool, bool, bool]:
        """(better, worse, no loss) after multiplicity control."""
        return (
            self.verdict in (IMPROVES, MIXED),
            self.verdict in (WORSE, MIXED),
            self.verdict in (IMPROVES, NO_LOSS),
        )

    def __repr__(self) -> str:
        unit = "pp" if self.margin.unit == "pp" else ""
        flag = ", borderline" if self.borderline else ""
        return (
            f"StepResult({self.verdict!r}, margin={self.margin.value:g}{unit}, "
            f"D+={self.better:.3f} (p={self.p_better:.3g}), "
            f"D−={self.worse:.3f} (p={self.p_worse:.3g}), "
            f"loss={self.loss:.3g}{unit} (p={self.p_no_loss:.3g}), "
            f"n={self.n_parent}/{self.n_restricted}{flag})"
        )


class _Pair:
    """The statistics of one pair, with a permutation null that can grow."""

    def __init__(
        self, parent: Stratified, restricted: Stratified, margin: Margin, seed: Any
    ) -> None:
        self.parent, self.restricted = parent, restricted
        self.noloss: NoLossTest = no_loss_test(parent, restricted, margin)
        self.null: WithinBinPermutation | None = None
        self.rng = np.random.default_rng(seed)
        if parent.normalized or restricted.normalized:
            self.null = WithinBinPermutation(parent, restricted)
            self.ks: PairTest | None = None
        else:
            self.ks = scipy_pair_test(parent.errors, restricted.errors)

    def extend(self, n_more: int) -> int:
        """Draw ``n_more`` permutations; returns their cost in cell draws."""
        if self.null is None:
            return 0
        self.null.extend(n_more, self.rng)
        return n_more * self.null.cells_per_draw

    @property
    def test(self) -> PairTest:
        if self.null is not None:
            return self.null.result()
        assert self.ks is not None  # __init__ sets ks whenever there is no permutation null
        return self.ks

    def pvalues(self) -> tuple[float, float, float]:
        t = self.test
        return t.p_better, t.p_worse, self.noloss.pvalue

    def mc_se(self) -> tuple[float, float, float]:
        t = self.test
        return t.mc_se_better, t.mc_se_worse, 0.0


def decide(
    state: Sequence[_Pair | None],
    level: Callable[[np.ndarray], np.ndarray],
    rejected: np.ndarray | None = None,
    drawn: int = DEFAULT_N_PERM,
    max_perm: int = DEFAULT_MAX_PERM,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sequentially rejective decisions over steps × (better, worse, no loss).

    ``level(R)`` gives the (m, 3) critical values once the hypotheses R (booleans) are
    rejected (never smaller where R grows: :func:`edftools.stats.multiplicity.step_shares`);
    ``rejected`` holds hypotheses rejected before (earlier looks); ``None`` steps are not
    tested. A hypothesis is rejected when its p-value is ≤ its level, repeated until nothing
    changes (a weighted Holm step-down). Permutation counts grow (4×, to ``max_perm`` and
    :data:`WORK_BUDGET`) for a p-value within 3 Monte-Carlo SE of the level that decides it
    (unless that level is below 1/(1 + ``max_perm``), which no permutation p-value can
    reach). Returns (rejected, borderline per step, level per hypothesis: the one it was
    rejected at, or the one it failed).
    """
    m = len(state)
    before = np.zeros((m, 3), dtype=bool) if rejected is None else rejected.copy()
    active = np.array([pair is not None for pair in state])
    work = 0
    while True:
        p = np.ones((m, 3))
        se = np.zeros((m, 3))
        for i, pair in enumerate(state):
            if pair is not None:
                p[i], se[i] = pair.pvalues(), pair.mc_se()
        now = before.copy()
        while True:
            hits = active[:, None] & ~now & (p <= level(now))
            if not hits.any():
                break
            now |= hits
        own = level(now)
        for i, h in zip(*np.nonzero(now & ~before), strict=True):
            without = now.copy()
            without[i, h] = False
            own[i, h] = level(without)[i, h]
        # a level below 1/(1 + max_perm) cannot be reached by a permutation p-value at all:
        # no more permutations are drawn for it, and its hypothesis is simply not rejected
        reachable = own >= 1.0 / (1 + max_perm)
        close = active[:, None] & ~before & (se > 0) & reachable & (np.abs(p - own) < MC_Z * se)
        if not close.any() or drawn >= max_perm or work >= WORK_BUDGET:
            return now, close.any(axis=1), own
        more = min(max_perm, 4 * (drawn + 1) - 1) - drawn
        for i in np.flatnonzero(close.any(axis=1)).tolist():
            pair = state[i]
            if pair is not None:  # always: only active steps are close
                work += pair.extend(more)
        drawn += more


def family_test(
    pairs: Sequence[tuple[Stratified, Stratified]],
    margin: Margin | None = None,
    alpha: float = DEFAULT_ALPHA,
    seed: Any = DEFAULT_SEED,
    n_perm: int = DEFAULT_N_PERM,
    max_perm: int = DEFAULT_MAX_PERM,
) -> list[StepResult]:
    """Verdicts of several (parent, restricted) pairs with the family-wise error ≤ α.

    See the module docstring: 3 hypotheses per pair, one weighted step-down over all of them (level
    α·w_i(R) after the rejections R, :func:`edftools.stats.multiplicity.step_shares`),
    permutation counts grown where a p-value is within Monte-Carlo error of its level.
    """
    if not pairs:
        raise StatsInputError("give at least one (parent, restricted) pair")
    margin = margin or Margin()
    alpha = check_level(alpha, "alpha")
    n_perm = check_count(n_perm, "n_perm")
    max_perm = max(n_perm, check_count(max_perm, "max_perm"))
    # no pair is None here, so every state is one
    state = [pair for pair in start_pairs(pairs, margin, seed, n_perm) if pair is not None]
    rejected, borderline, _ = decide(
        state, lambda done: alpha * step_shares(done), None, n_perm, max_perm
    )
    adjusted = steps_adjusted(np.array([pair.pvalues() for pair in state]))
    return [
        step_result(pair, margin, alpha, rejected[i], borderline[i], adjusted[i])
        for i, pair in enumerate(state)
    ]


def start_pairs(
    pairs: Sequence[tuple[Stratified, Stratified] | None],
    margin: Margin,
    seed: Any,
    n_perm: int = DEFAULT_N_PERM,
) -> list[_Pair | None]:
    """The statistics of each pair (``None`` stays ``None``), first ``n_perm`` permutations
    drawn, each pair with its own seed spawned from ``seed``."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    out: list[_Pair | None] = []
    for pair, child in zip(pairs, root.spawn(len(pairs)), strict=True):
        if pair is None:
            out.append(None)
            continue
        state = _Pair(pair[0], pair[1], margin, child)
        state.extend(n_perm)
        out.append(state)
    return out


def step_result(
    pair: _Pair,
    margin: Margin,
    alpha: float,
    rejected: np.ndarray,
    borderline: bool,
    adjusted: Sequence[float] | np.ndarray | None = None,
) -> StepResult:
    """The :class:`StepResult` of one pair from its decisions (better, worse, no loss)."""
    better, worse, no_loss = (bool(x) for x in rejected)
    t = pair.test
    adj_better, adj_worse, adj_no_loss = (
        (float(a) for a in adjusted) if adjusted is not None else (np.nan,) * 3
    )
    return StepResult(
        verdict=step_verdict(better, worse, no_loss),
        margin=margin,
        better=t.better,
        worse=t.worse,
        loss=pair.noloss.loss,
        p_better=t.p_better,
        p_worse=t.p_worse,
        p_no_loss=pair.noloss.pvalue,
        p_two_sided=t.p_two_sided,
        adjusted=(adj_better, adj_worse, adj_no_loss),
        alpha=alpha,
        n_parent=pair.parent.n,
        n_restricted=pair.restricted.n,
        n_perm=t.n_perm,
        borderline=bool(borderline),
        method=t.method,
        note=verdict_note(better, worse, no_loss),
    )


def chain_test(
    samples: Sequence[Stratified],
    margin: Margin | None = None,
    alpha: float = DEFAULT_ALPHA,
    seed: Any = DEFAULT_SEED,
    n_perm: int = DEFAULT_N_PERM,
    max_perm: int = DEFAULT_MAX_PERM,
) -> list[StepResult]:
    """Verdicts of the steps samples[i−1] → samples[i] of a refinement chain (FWER ≤ α)."""
    if len(samples) < 2:
        raise StatsInputError("a chain needs at least two samples")
    pairs = [(samples[i - 1], samples[i]) for i in range(1, len(samples))]
    return family_test(pairs, margin, alpha, seed, n_perm, max_perm)


def step_test(
    parent_errors: Any,
    restricted_errors: Any,
    *,
    parent_complexity: Any = None,
    restricted_complexity: Any = None,
    bins: int = DEFAULT_BINS,
    margin: float | Margin | None = None,
    margin_unit: str = DEFAULT_MARGIN_UNIT,
    q_range: tuple[float, float] = DEFAULT_Q_RANGE,
    alpha: float = DEFAULT_ALPHA,
    seed: Any = DEFAULT_SEED,
    n_perm: int = DEFAULT_N_PERM,
) -> StepResult:
    """The verdict of one restriction step: does restricting the parent space cost anything?

    With complexities, both samples are normalized as NDS does (``bins`` linear bins over the
    range both cover, each bin mass 1/K) and the KS tests permute labels within bins; without
    them the EDFs are plain and the KS tests are ``scipy.stats.ks_2samp``. ``margin`` is the
    equivalence margin: a number in ``margin_unit`` ("pp": error points at every quantile level
    in ``q_range``, default 1 pp; "edf": EDF mass, default 0.05) or a :class:`Margin`.
    The three hypotheses of the step are tested at family-wise level α (the weighted step-down of
    :mod:`edftools.stats.multiplicity`).

    Returns a :class:`StepResult` with ``verdict``, ``margin``, ``p_better``, ``p_worse``,
    ``p_no_loss`` and the statistics behind them.
    """
    parent, restricted = stratify_pair(
        parent_errors, restricted_errors, parent_complexity, restricted_complexity, bins
    )
    return family_test(
        [(parent, restricted)], as_margin(margin, margin_unit, q_range), alpha, seed, n_perm
    )[0]


def as_margin(
    margin: float | Margin | None,
    unit: str = DEFAULT_MARGIN_UNIT,
    q_range: tuple[float, float] = DEFAULT_Q_RANGE,
) -> Margin:
    """A :class:`Margin` from a number and its unit (None: the unit's default)."""
    if isinstance(margin, Margin):
        return margin
    checked = check_margin_unit(unit)
    if margin is None:
        margin = DEFAULT_MARGIN_PP if checked == "pp" else DEFAULT_MARGIN_EDF
    return Margin(margin, checked, q_range)
