"""R0 of the agent-based model: the growth of the epidemic per generation while nearly everyone is
susceptible, computed from the synthetic population so that `beta` can be set to give the `r0` asked for.

A case's offspring in the groups it was infected in (its household, school or workplace) are fewer
than a fresh case's: its infector, and others its infector infected, are no longer susceptible there.
The next-generation matrix of the first generation ignores that and overstates R0 (2.33 realised at a
requested 2.5). Here, as in Pellis, Ball & Trapman (2012, Math Biosci 235:85, the individual
reproduction number R_I), every outbreak within a group is followed generation by generation:

- a case is the primary case of a fresh outbreak in each of its groups except the one it was
  infected in, and infects the community directly;
- an outbreak in a group of n started by one primary has on average mu_j(n) members in its j-th
  generation; every non-primary member is equally likely to be any of them, so the type-a members of
  generation j come to pi_j(n) = mu_j(n) / (n - 1) per type-a housemate (`generation_shares`);
- with x_g(a, s) the cases of contact type a infected in setting s in generation g of the whole
  epidemic, x_g = sum_j A_j x_(g-j), and R0 is the growth factor per generation: the R at which the
  dominant eigenvalue of sum_j A_j R^-j is 1. With no groups (well mixed) it is the usual R0.

Generations within a group follow the Reed-Frost chain with random infectious periods: given c cases
with periods T_1..T_c, each of s susceptibles escapes them all with probability exp(-lambda sum T),
independently (lambda = beta x weight / (n - 1) per day, the simulation's hazard). It is solved
exactly for groups of up to `EXACT_GROUP_SIZE` people (households) and by its mean for larger ones,
where one person more or less infected changes little.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import comb

EXACT_GROUP_SIZE = 12
MAX_GENERATIONS = 40  # generations within a group followed (the weight R^-j of later ones is negligible)
# Simulated outbreaks (`simulated_generations`) correct the chain, at every small size present and at
# MC_ANCHORS larger ones: about MC_MEMBERS members per size (MC_MIN_OUTBREAKS to MC_MAX_OUTBREAKS
# outbreaks), MC_GENERATIONS generations (later ones keep the last correction), fixed random numbers.
MC_ANCHORS = 10
MC_MEMBERS = 100_000
MC_MIN_OUTBREAKS = 400
MC_MAX_OUTBREAKS = 10_000
MC_GENERATIONS = 12
MC_HORIZON_DAYS = 2_000
DURATION_SHAPE = 4.0  # as sim.models.abm: gamma periods of shape 4, rounded to whole days (at least 1)
MC_SEED = 20_240_617


@dataclass(frozen=True)
class GroupSetting:
    """One setting of groups: the sizes present, the ordered pairs of member types per size
    (shape (sizes, types, types)), and the setting's relative transmission weight."""

    name: str
    sizes: np.ndarray
    pairs: np.ndarray
    weight: float
    corrections: Callable[[np.ndarray], np.ndarray] | None = None


def _escape_powers(rate: float, others: int, periods: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """L[m, c] = E[exp(-rate m (T_1 + ... + T_c))] = E[exp(-rate m T)]^c, for m, c = 0..others."""
    laplace = np.exp(-rate * np.outer(np.arange(others + 1), periods)) @ pmf  # (m,)
    return laplace[:, None] ** np.arange(others + 1)[None, :]


@lru_cache(maxsize=64)
def _binomial_terms(others: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients W[s, k, m] with P(k of s infected | c cases) = sum_m W[s, k, m] L[m, c]:
    C(s, k) sum_i C(k, i) (-1)^i E[phi^(s - k + i)], phi the chance to escape the c cases."""
    size = others + 1
    weights = np.zeros((size, size, size))
    for s_left in range(size):
        for k in range(s_left + 1):
            i = np.arange(k + 1)
            weights[s_left, k, s_left - k + i] = comb(s_left, k) * comb(k, i) * (-1.0) ** i
    valid = np.zeros((size, size), dtype=bool)
    for s_left in range(size):
        valid[s_left, : s_left + 1] = True
    return weights, valid


def _exact_means(n: int, rate: float, periods: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Expected members in generations 1..n-1 of an outbreak started by one case in a group of n."""
    others = n - 1
    weights, valid = _binomial_terms(others)
    escape = _escape_powers(rate, others, periods, pmf)  # (m, c)
    q = np.einsum("skm,mc->csk", weights, escape)  # q[c, s, k]: c cases infect k of s
    q = np.clip(q, 0.0, 1.0) * valid[None]
    size = others + 1
    s_idx, k_idx = np.nonzero(valid)
    state = np.zeros((size, size))  # [s, c]: s still susceptible, c in the current generation
    state[others, 1] = 1.0
    means = np.zeros(others)
    for j in range(others):
        # from (s, c) to (s - k, k) with probability q[c, s, k]
        flow = np.einsum("sc,csk->sk", state[:, 1:], q[1:])
        nxt = np.zeros_like(state)
        np.add.at(nxt, (s_idx - k_idx, k_idx), flow[s_idx, k_idx])
        nxt[:, 0] = 0.0  # no new cases: the outbreak is over
        means[j] = float(nxt.sum(axis=0) @ np.arange(size))
        state = nxt
        if not state.any():
            break
    return means


def _mean_field(
    sizes: np.ndarray, rates: np.ndarray, periods: np.ndarray, pmf: np.ndarray, generations: int
) -> np.ndarray:
    """The chain's mean, generation by generation: c' = s (1 - L(lambda)^c), s' = s - c', from one
    primary (exact for the first generation). Shape (sizes, generations), in members."""
    laplace = np.exp(-np.outer(rates, periods)) @ pmf  # E[exp(-lambda T)] per size
    log_laplace = np.log(np.maximum(laplace, 1e-300))
    susceptible = sizes - 1.0
    current = np.ones(sizes.shape[0])
    out = np.zeros((sizes.shape[0], generations))
    for j in range(generations):
        infected = susceptible * -np.expm1(current * log_laplace)
        out[:, j] = infected
        susceptible = susceptible - infected
        current = infected
    return out


def simulated_generations(
    n: int, rate: float, latent_days: float, infectious_days: float, generations: int, samples: int
) -> np.ndarray:
    """Expected members per generation 1..generations of an outbreak in a group of n started by one
    case, simulated day by day as the model runs it: each susceptible member is infected on a day with
    probability 1 - exp(-rate x infectious members), and each infection is given to one of that
    day's infectious members at random, whose generation it follows. Periods are drawn as the model
    draws them. Fixed random numbers per size, so the estimate is repeatable."""
    rng = np.random.default_rng(np.random.SeedSequence(MC_SEED, spawn_key=(n,)))
    group = np.arange(samples)
    gen = np.zeros(samples, dtype=np.int64)
    onset = np.zeros(samples, dtype=np.int64)
    recovery = _durations(rng, infectious_days, samples)
    susceptible = np.full(samples, n - 1, dtype=np.int64)
    counts = np.zeros(generations + 1)
    day = 0
    while day < MC_HORIZON_DAYS and group.shape[0]:
        active = np.flatnonzero(onset <= day)
        if active.shape[0] == 0:
            day = int(onset.min())
            continue
        infectious = np.bincount(group[active], minlength=samples)
        new = rng.binomial(susceptible, -np.expm1(-rate * infectious))
        if new.any():
            susceptible -= new
            rows = np.repeat(np.arange(samples), new)
            # the infector: one of the row's infectious members, uniformly; its generation + 1
            order = active[np.argsort(group[active], kind="stable")]
            first = np.cumsum(infectious) - infectious
            infector = order[first[rows] + (rng.random(rows.shape[0]) * infectious[rows]).astype(np.int64)]
            child_gen = np.minimum(gen[infector] + 1, generations)
            counts += np.bincount(child_gen, minlength=generations + 1)
            latent = _durations(rng, latent_days, rows.shape[0])
            group = np.concatenate([group, rows])
            gen = np.concatenate([gen, child_gen])
            onset = np.concatenate([onset, day + latent])
            recovery = np.concatenate([recovery, day + latent + _durations(rng, infectious_days, rows.shape[0])])
        day += 1
        live = recovery > day
        if not live.all():
            group, gen, onset, recovery = group[live], gen[live], onset[live], recovery[live]
    return counts[1:] / samples


def _durations(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    """As the model draws periods: gamma of shape 4 rounded to whole days, at least 1."""
    return np.maximum(1, np.rint(rng.gamma(DURATION_SHAPE, mean_days / DURATION_SHAPE, size=size))).astype(np.int64)


def generation_shares(
    sizes: np.ndarray,
    rates: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
    generations: int = MAX_GENERATIONS,
    corrections: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """pi_j(n) for each group size (rows) and generation j = 1..generations (columns): the chance
    that a given non-primary member of an outbreak started by one case is in its j-th generation.
    `rates` is the per-pair hazard lambda of each size. Groups up to `EXACT_GROUP_SIZE`: the exact
    chain; larger ones: its mean times `corrections(sizes)` (per size and generation), which the
    calibration measures on sampled outbreaks (`generation_corrections`)."""
    means = _baseline_means(sizes, rates, periods, pmf, generations)
    if corrections is not None:
        means = means * corrections(sizes)
    return means / np.maximum(sizes - 1.0, 1.0)[:, None]


def _baseline_means(
    sizes: np.ndarray, rates: np.ndarray, periods: np.ndarray, pmf: np.ndarray, generations: int
) -> np.ndarray:
    """Members per generation of the Reed-Frost chain: exact up to `EXACT_GROUP_SIZE`, its mean above."""
    out = np.zeros((sizes.shape[0], generations))
    small = sizes <= EXACT_GROUP_SIZE
    for row in np.flatnonzero(small):
        n = int(sizes[row])
        if n >= 2:
            means = _exact_means(n, float(rates[row]), periods, pmf)
            out[row, : min(generations, means.shape[0])] = means[:generations]
    large = np.flatnonzero(~small)
    if large.size:
        out[large] = _mean_field(sizes[large], rates[large], periods, pmf, generations)
    return out


def generation_corrections(
    sizes: np.ndarray,
    rates: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
    latent_days: float,
    infectious_days: float,
    generations: int = MAX_GENERATIONS,
) -> Callable[[np.ndarray], np.ndarray]:
    """Per size and generation, the ratio of the simulated generation means (`simulated_generations`:
    infectors as the model attributes them, in time) to the Reed-Frost chain's (`_baseline_means`),
    at every size present (households) or at `MC_ANCHORS` sizes across them (workplaces), interpolated
    in log size. `rates` are the per-pair hazards of `sizes` (they scale as 1 / (n - 1))."""
    anchors = np.unique(sizes[sizes >= 2])
    if anchors.shape[0] > MC_ANCHORS:
        anchors = np.unique(np.rint(np.geomspace(anchors[0], anchors[-1], MC_ANCHORS)))
    scale = float(np.median(rates[sizes >= 2] * (sizes[sizes >= 2] - 1)))
    anchor_rates = scale / (anchors - 1)
    baseline = _baseline_means(anchors, anchor_rates, periods, pmf, MC_GENERATIONS)
    ratios = np.ones((anchors.shape[0], generations))
    for row, n in enumerate(anchors):
        samples = int(np.clip(MC_MEMBERS / n, MC_MIN_OUTBREAKS, MC_MAX_OUTBREAKS))
        simulated = simulated_generations(
            int(n), float(anchor_rates[row]), latent_days, infectious_days, MC_GENERATIONS, samples
        )
        base = baseline[row]
        # where the chain's mean has run out (a saturated group) the ratio says little and could swing
        # the solve: it is kept within a factor 4 (those late generations weigh R^-j, next to nothing)
        ratio = np.divide(simulated, base, out=np.ones_like(simulated), where=base > 1e-9)
        ratio = np.clip(ratio, 0.25, 4.0)
        ratios[row, :MC_GENERATIONS] = ratio
        ratios[row, MC_GENERATIONS:] = ratio[-1]
    log_anchors = np.log(anchors)

    def corrections(s: np.ndarray) -> np.ndarray:
        x = np.log(np.maximum(s, 2.0))
        return np.stack([np.interp(x, log_anchors, ratios[:, j]) for j in range(generations)], axis=1)

    return corrections


def lag_matrices(
    beta: float,
    groups: Sequence[GroupSetting],
    community: np.ndarray,
    type_counts: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
    generations: int = MAX_GENERATIONS,
) -> np.ndarray:
    """A_j for j = 1..generations, shape (generations, states, states): the expected cases in state
    (setting infected in, contact type) j generations after one case of each state, counted as
    direct infections in the community (j = 1) and as members of the outbreaks it starts in its
    groups. State blocks: the community (or an initial case) first, then each group setting."""
    n_types = type_counts.shape[0]
    n_states = (len(groups) + 1) * n_types
    present = type_counts > 0
    lags = np.zeros((generations, n_states, n_states))
    for s_from in range(len(groups) + 1):
        lags[0, :n_types, s_from * n_types : (s_from + 1) * n_types] = community
    for index, group in enumerate(groups, start=1):
        rates = beta * group.weight / (group.sizes - 1)
        shares = generation_shares(group.sizes, rates, periods, pmf, generations, group.corrections)  # (sizes, J)
        blocks = np.einsum("nj,nab->jab", shares, group.pairs)
        blocks = np.divide(blocks, type_counts[None, None, :], out=np.zeros_like(blocks), where=present[None, None, :])
        rows = slice(index * n_types, (index + 1) * n_types)
        for s_from in range(len(groups) + 1):
            if s_from != index:  # a case infected in this setting starts no new outbreak in it
                lags[:, rows, s_from * n_types : (s_from + 1) * n_types] = blocks
    return lags


def reproduction_matrix(
    beta: float,
    r: float,
    groups: Sequence[GroupSetting],
    community: np.ndarray,
    type_counts: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
) -> np.ndarray:
    """sum_j A_j r^-j (`lag_matrices`): its dominant eigenvalue is 1 when r is the growth per generation."""
    lags = lag_matrices(beta, groups, community, type_counts, periods, pmf)
    discount = r ** -np.arange(1, lags.shape[0] + 1)
    return np.tensordot(discount, lags, axes=1)


def expected_generations(lags: np.ndarray, initial: np.ndarray, generations: int) -> np.ndarray:
    """Expected cases per state in generations 0..generations of the early epidemic (no depletion
    beyond the groups), from `initial` cases per state: x_g = sum_j A_j x_(g-j)."""
    x = [np.asarray(initial, dtype=float)]
    for g in range(1, generations + 1):
        x.append(sum(lags[j - 1] @ x[g - j] for j in range(1, min(g, lags.shape[0]) + 1)))
    return np.stack(x)


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))
