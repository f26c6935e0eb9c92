"""Group-sequential refinement: test the chain after every look, stop each step once decided.

A sequential study trains models in rounds (looks) of ``look_every`` models per active space,
up to ``max_n`` per space. After each look every undecided step is tested again on all its
models so far. A step is decided, and frozen, when its verdict is "improves", "worse" or
"mixed", or when it is "no loss" *and* a gain of the margin is excluded too (the no-loss test
with the spaces' roles swapped, at level α·(g(t) − g(t')) per look, so a step that gains the
margin is stopped as "no loss" with probability ≤ α over all its looks: a futility rule for
"improves"; it never adds a claim, so it takes no share of the family's α). The gain test's
p-value and level are recorded at every look (:attr:`LookRecord.p_futility`,
:attr:`LookRecord.level_futility`), so a history can draw the futility rule too. At ``max_n``
every step is final. A space stops
receiving models once every step it takes part in is decided.

Error control over all steps *and* all looks (the family of the 3m hypotheses of m steps, see
:mod:`edftools.stats.step`): each hypothesis spends its level over its looks with a
Lan–DeMets spending function of the step's information fraction t = n / max_n
(n = the smaller of the two spaces' model counts),

    O'Brien–Fleming type:  g(t) = 2·(1 − Φ(z_{1−α/2} / √t)) / α      (little early, most late)
    Pocock type:           g(t) = ln(1 + (e − 1)·t)                   (evenly)

and at a look where its step has moved from fraction t' to t, hypothesis h of step i is
rejected when

    p_{i,h} ≤ α · (g(t) − g(t')) · w_{i,h}(R),

R = the hypotheses of the family rejected so far (earlier looks included) and w the closed
test's shares (:func:`edftools.stats.multiplicity.step_shares`, as in the fixed design), so
each hypothesis' level is split over its looks by the spending increments. Rejections are
final. Validity: until the first false rejection only false hypotheses are rejected, so
R ∩ T = ∅ (T = the true ones) and every true hypothesis is tested at ≤ α·Δg·w_i(T), with
Σ_{i∈T} w_i(T) ≤ 1; summing over its looks (Σ Δg ≤ 1) and over T gives P(any false
rejection) ≤ α — for the superiority (better, worse) and the equivalence (no loss)
hypotheses alike, whatever the correlation between looks (Bonferroni over looks:
conservative, and needs no model of it). With a single look at t = 1 this is exactly the
fixed design.

**"No loss" at an interim look** is a rejection like any other, so the bound above covers it
*if* each look's no-loss test holds its level for every loss shape: the whole-range test of
:mod:`edftools.stats.noloss` does, edges of the margin's quantile range included (with the
former test, whose range was the sample's [Q̂_P(a), Q̂_P(b)], a loss of exactly the margin at
q = 0.1 was called "no loss" by 8–13% of sequential studies, and up to 0.39 in other
scenarios, because an early look's small sample misplaces Q̂_P(0.1) most). Its p-values are at
least 10⁻⁵ (:data:`edftools.stats.noloss.NUISANCE_LEVEL`), so no "no loss" is claimed at a look
whose level is below that — in practice the first looks under O'Brien–Fleming spending. The
futility rule uses the same test with the roles swapped. Simulated in
``benchmarks/bench_calibration.py`` (sequential edge losses) and
``benchmarks/bench_sequential.py`` (error rates, power, and models against the fixed design).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from edftools.errors import StatsInputError
from edftools.stats._checks import check_count, check_level
from edftools.stats.defaults import DEFAULT_ALPHA, DEFAULT_MAX_PERM, DEFAULT_N_PERM, DEFAULT_SEED
from edftools.stats.multiplicity import step_shares
from edftools.stats.noloss import Margin, no_loss_test
from edftools.stats.step import (
    StepResult,
    decide,
    start_pairs,
    step_result,
)
from edftools.stats.strata import Stratified, unstratified
from edftools.stats.verdicts import IMPROVES, INCONCLUSIVE, MIXED, NO_LOSS, WORSE

Spending = Literal["obrien-fleming", "pocock"]
SPENDING: tuple[str, ...] = ("obrien-fleming", "pocock")


def spending_fraction(t: float, alpha: float, kind: Spending = "obrien-fleming") -> float:
    """g(t): the share of a hypothesis' level spent by information fraction t (g(1) = 1)."""
    t = min(max(float(t), 0.0), 1.0)
    if t == 0.0:
        return 0.0
    if kind == "pocock":
        return math.log1p((math.e - 1.0) * t)
    from scipy.special import ndtr, ndtri

    z = ndtri(1.0 - alpha / 2.0)
    return min(1.0, float(2.0 * (1.0 - ndtr(z / math.sqrt(t)))) / alpha)


@dataclass(frozen=True)
class SequentialDesign:
    """Looks every ``look_every`` models per active space, up to ``max_n`` per space,
    family-wise error ``alpha`` spent with the ``spending`` function."""

    look_every: int = 50
    max_n: int = 500
    alpha: float = DEFAULT_ALPHA
    spending: Spending = "obrien-fleming"

    def __post_init__(self) -> None:
        check_count(self.look_every, "look_every")
        check_count(self.max_n, "max_n")
        if self.max_n < self.look_every:
            raise StatsInputError(
                f"max_n ({self.max_n}) must be at least look_every ({self.look_every})"
            )
        check_level(self.alpha, "alpha")
        if self.spending not in SPENDING:
            raise StatsInputError(f"spending must be one of {SPENDING}, got {self.spending!r}")

    @property
    def looks(self) -> tuple[int, ...]:
        """The model counts per space at which the chain is tested."""
        ks = range(1, math.ceil(self.max_n / self.look_every) + 1)
        return tuple(min(self.max_n, k * self.look_every) for k in ks)

    def spent(self, n: int) -> float:
        """g(n / max_n)."""
        return spending_fraction(n / self.max_n, self.alpha, self.spending)


@dataclass(frozen=True)
class LookRecord:
    """One step at one look: counts, statistics, the levels used, the decisions so far.

    ``p_futility``: the futility rule's p-value — the no-loss test with the spaces' roles
    swapped, H0 "the restricted space gains at least the margin" — and ``level_futility`` =
    α·(g(t) − g(t')), its level at this look; a "no loss" step is final when
    ``p_futility <= level_futility``."""

    look: int
    step: int
    n_parent: int
    n_restricted: int
    fraction: float
    result: StepResult
    levels: tuple[float, float, float]
    rejected: tuple[bool, bool, bool]
    decided: bool
    p_futility: float
    level_futility: float

    @property
    def verdict(self) -> str:
        """The step's verdict at this look."""
        return self.result.verdict


@dataclass
class SequentialChain:
    """The decisions of a sequential study so far; :meth:`look` tests the next look.

    ``steps`` = the (parent, restricted) space indices of each step — a chain
    A → B → C is ((0, 1), (1, 2)); several steps may share a parent (RegNetX and RegNetY
    beside each other after AnyNetX_E). The family is all 3m hypotheses of the m steps;
    ``history`` holds every look's records.
    """

    steps: tuple[tuple[int, int], ...]
    design: SequentialDesign
    margin: Margin = field(default_factory=Margin)
    seed: int | Sequence[int] = DEFAULT_SEED
    n_perm: int = DEFAULT_N_PERM
    max_perm: int = DEFAULT_MAX_PERM
    rejected: np.ndarray = field(init=False)
    spent: np.ndarray = field(init=False)
    decided: list[bool] = field(init=False)
    verdicts: list[str] = field(init=False)
    history: list[LookRecord] = field(init=False, default_factory=list)
    looks_done: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.steps = tuple((int(a), int(b)) for a, b in self.steps)
        if not self.steps:
            raise StatsInputError("a sequential study needs at least one step")
        m = len(self.steps)
        self.rejected = np.zeros((m, 3), dtype=bool)
        self.spent = np.zeros(m)
        self.decided = [False] * m
        self.verdicts = [INCONCLUSIVE] * m

    @property
    def active(self) -> list[int]:
        """The steps still undecided."""
        return [i for i, d in enumerate(self.decided) if not d]

    @property
    def finished(self) -> bool:
        """Every step is decided."""
        return all(self.decided)

    def look(
        self,
        pairs: Sequence[tuple[Stratified, Stratified] | None],
        sizes: Sequence[int] | None = None,
    ) -> list[LookRecord]:
        """Test the undecided steps on their models so far (``pairs[i]`` for step i; ``None``
        or a decided step is skipped) and record the look.

        ``sizes[i]``: the models per space trained for step i so far (the smaller of its two
        spaces), which sets its information fraction n / max_n; default: the samples' sizes
        (a normalized sample counts only the models inside the complexity range, so a sweep
        passes what it trained).
        """
        if len(pairs) != len(self.steps):
            raise StatsInputError(f"give one pair (or None) per step: {len(self.steps)} steps")
        self.looks_done += 1
        use = [p if not self.decided[i] else None for i, p in enumerate(pairs)]
        seed = np.random.SeedSequence([self.seed, self.looks_done])
        state = start_pairs(use, self.margin, seed, self.n_perm)
        now = np.zeros(len(self.steps))
        trained = np.zeros(len(self.steps))
        for i, pair in enumerate(use):
            if pair is not None:
                trained[i] = sizes[i] if sizes is not None else min(pair[0].n, pair[1].n)
                now[i] = self.design.spent(int(trained[i]))
        increment = np.maximum(now - self.spent, 0.0)
        alpha = self.design.alpha

        def level(done: np.ndarray) -> np.ndarray:
            return alpha * increment[:, None] * step_shares(done)

        rejected, borderline, levels = decide(
            state, level, self.rejected, self.n_perm, self.max_perm
        )
        self.rejected = rejected
        records = []
        for i, tested in enumerate(state):
            if tested is None:
                continue
            self.spent[i] = now[i]
            result = step_result(tested, self.margin, alpha, rejected[i], borderline[i])
            self.verdicts[i] = result.verdict
            futility = alpha * increment[i]
            gain = no_loss_test(tested.restricted, tested.parent, self.margin).pvalue
            last = trained[i] >= self.design.max_n
            self.decided[i] = _final(result.verdict, gain, futility, last)
            level_better, level_worse, level_no_loss = (float(x) for x in levels[i])
            rej_better, rej_worse, rej_no_loss = (bool(x) for x in rejected[i])
            records.append(
                LookRecord(
                    look=self.looks_done,
                    step=i,
                    n_parent=tested.parent.n,
                    n_restricted=tested.restricted.n,
                    fraction=float(trained[i]) / self.design.max_n,
                    result=result,
                    levels=(level_better, level_worse, level_no_loss),
                    rejected=(rej_better, rej_worse, rej_no_loss),
                    decided=self.decided[i],
                    p_futility=gain,
                    level_futility=float(futility),
                )
            )
        self.history.extend(records)
        return records

    def spaces_needed(self) -> set[int]:
        """Indices of the spaces that take part in an undecided step."""
        return {j for i in self.active for j in self.steps[i]}


def _final(verdict: str, p_futility: float, level_futility: float, last: bool) -> bool:
    """Whether a step's verdict is final: at the last look; a claim (improves, worse, mixed);
    or "no loss" with a gain of the margin excluded, p_futility ≤ level_futility (the
    futility rule, module docstring)."""
    if last or verdict in (IMPROVES, WORSE, MIXED):
        return True
    return verdict == NO_LOSS and p_futility <= level_futility


def pilot_study(
    pilot: Stratified,
    steps: Sequence[tuple[int, int]],
    shifts: Sequence[float],
    design: SequentialDesign,
    margin: Margin | None = None,
    seed: int | Sequence[int] = DEFAULT_SEED,
    n_perm: int = 199,
) -> tuple[SequentialChain, list[int]]:
    """A simulated sequential study whose spaces are the pilot's law (:func:`pilot_atoms`)
    with their errors moved by ``shifts[j]`` error points (negative: better).

    The simulated spaces share the pilot's complexity distribution, so their EDFs are tested
    plain (scipy's KS, exact p-values at any level) — what the normalized permutation test's
    power approaches then — which keeps a study of many looks fast.
    """
    from edftools.stats.plan import pilot_atoms

    values, strata, probs = pilot_atoms(pilot)
    rng = np.random.default_rng(seed)
    drawn = {}
    for j, shift in enumerate(shifts):
        idx = rng.choice(values.size, size=design.max_n, p=probs / probs.sum())
        drawn[j] = (values[idx] + shift, strata[idx])

    def draw(j: int, n: int) -> Stratified:
        return unstratified(drawn[j][0][:n])

    return simulate_study(draw, steps, design, margin, seed, n_perm)


def chain_steps(spaces: int) -> tuple[tuple[int, int], ...]:
    """The steps of a linear chain of ``spaces`` spaces: (0, 1), (1, 2), …"""
    return tuple((i, i + 1) for i in range(spaces - 1))


def simulate_study(
    draw: Any,
    steps: Sequence[tuple[int, int]],
    design: SequentialDesign,
    margin: Margin | None = None,
    seed: int | Sequence[int] = DEFAULT_SEED,
    n_perm: int = DEFAULT_N_PERM,
    max_perm: int = DEFAULT_MAX_PERM,
) -> tuple[SequentialChain, list[int]]:
    """Run a sequential study on simulated models (no training).

    ``draw(space, n)`` returns that space's first n models as a :class:`Stratified` sample
    (the same models for the same n: a study adds models, it never redraws them), or None
    when they cannot be tested yet (a complexity bin without models). Returns the chain (its
    verdicts and history) and the models used per space. ``max_perm``: the most permutations
    a borderline test may grow to, as in a sweep. Plain samples get scipy's exact KS
    p-values; complexity-normalized ones get permutation p-values ≥ 1/(max_perm + 1), so a
    look whose level is below that cannot reject them (a smaller ``max_perm`` is faster but
    makes early looks unreachable).
    """
    chain = SequentialChain(tuple(steps), design, margin or Margin(), seed, n_perm, max_perm)
    counts = [0] * (1 + max(j for step in chain.steps for j in step))
    for n in design.looks:
        for j in chain.spaces_needed():
            counts[j] = n
        samples = {j: draw(j, counts[j]) for j in chain.spaces_needed()}
        pairs = [
            (samples[a], samples[b])
            if i in chain.active and samples[a] is not None and samples[b] is not None
            else None
            for i, (a, b) in enumerate(chain.steps)
        ]
        chain.look(pairs, [min(counts[a], counts[b]) for a, b in chain.steps])
        if chain.finished:
            break
    return chain, counts


def simulate_sequential_plan(
    pilot: Stratified,
    steps: int,
    design: SequentialDesign,
    margin: Margin,
    effect: float | None,
    simulations: int,
    seed: int,
    on_study: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Simulated sequential studies (:func:`pilot_study`) of a chain of ``steps`` steps whose
    spaces follow the pilot: all equal, and each better than its parent by ``effect``
    (default: the margin). Per scenario: the expected models per space, the probability that
    every step ends with the right verdict, and (all equal) of any false claim.
    ``on_study`` is called after each of the 2·``simulations`` studies (a progress bar)."""
    effect = effect if effect is not None else (margin.value if margin.unit == "pp" else 1.0)
    out: dict[str, Any] = {
        "pilot_n": pilot.n,
        "steps": steps,
        "look_every": design.look_every,
        "max_n": design.max_n,
        "spending": design.spending,
        "alpha": design.alpha,
        "margin": margin.describe(),
        "effect": effect,
        "simulations": simulations,
    }
    for label, word, shift in (("equal", "no loss", 0.0), ("improving", "improves", -effect)):
        used, right, false = [], 0, 0
        for rep in range(simulations):
            shifts = [shift * j for j in range(steps + 1)]
            chain, counts = pilot_study(
                pilot, chain_steps(steps + 1), shifts, design, margin, [seed, rep]
            )
            used.append(float(np.mean(counts)))
            right += all(v == word for v in chain.verdicts)
            if label == "equal":
                false += any(v in ("improves", "worse", "mixed") for v in chain.verdicts)
            if on_study is not None:
                on_study()
        out[label] = {
            "expected_models_per_space": float(np.mean(used)),
            f"p_all_{word.replace(' ', '_')}": right / simulations,
        }
        if label == "equal":
            out[label]["p_any_false_claim"] = false / simulations
    return out
