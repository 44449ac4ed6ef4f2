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
# Larger groups: the chain's mean corrected by sampled outbreaks at MC_ANCHORS sizes, MC_OUTBREAKS
# each over MC_GENERATIONS generations (later ones keep the last correction), on fixed random numbers.
MC_ANCHORS = 12
MC_OUTBREAKS = 5_000
MC_GENERATIONS = 16
MC_SUMMED = 8  # up to this many cases, their periods are summed as drawn; beyond, a gamma of the sum
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


def _sampled_means(n: int, rate: float, mean_days: float, generations: int) -> np.ndarray:
    """The chain's generation means estimated from `MC_OUTBREAKS` outbreaks, infectious periods drawn
    as the simulation draws them, on fixed random numbers (the same for every rate, so the estimate
    is a smooth, repeatable function of it)."""
    rng = np.random.default_rng(np.random.SeedSequence(MC_SEED, spawn_key=(n,)))
    susceptible = np.full(MC_OUTBREAKS, n - 1, dtype=np.int64)
    current = np.ones(MC_OUTBREAKS, dtype=np.int64)
    scale = mean_days / DURATION_SHAPE
    out = np.zeros(generations)
    for j in range(generations):
        most = int(min(current.max(), MC_SUMMED))
        draws = np.maximum(1.0, np.rint(rng.gamma(DURATION_SHAPE, scale, size=(MC_OUTBREAKS, most))))
        total = (draws * (np.arange(most)[None, :] < current[:, None])).sum(axis=1)
        many = current > MC_SUMMED  # the total of many periods: a gamma of the same mean and variance
        if many.any():
            total[many] = rng.standard_gamma(current[many] * DURATION_SHAPE) * scale
        infected = rng.binomial(susceptible, -np.expm1(-rate * total))
        out[j] = infected.mean()
        susceptible -= infected
        current = infected
        if not current.any():
            break
    return out


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
    out = np.zeros((sizes.shape[0], generations))
    small = sizes <= EXACT_GROUP_SIZE
    for row in np.flatnonzero(small):
        n = int(sizes[row])
        if n >= 2:
            means = _exact_means(n, float(rates[row]), periods, pmf)
            out[row, : min(generations, means.shape[0])] = means[:generations] / (n - 1)
    large = np.flatnonzero(~small)
    if large.size:
        means = _mean_field(sizes[large], rates[large], periods, pmf, generations)
        if corrections is not None:
            means = means * corrections(sizes[large])
        out[large] = means / (sizes[large] - 1.0)[:, None]
    return out


def generation_corrections(
    sizes: np.ndarray,
    rates: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
    mean_days: float,
    generations: int = MAX_GENERATIONS,
) -> Callable[[np.ndarray], np.ndarray]:
    """How far the sampled generation means of groups larger than `EXACT_GROUP_SIZE` sit from the
    mean-field ones (their ratio, 1 for the first generation), measured at a few anchor sizes and
    interpolated in log size. `rates` are the per-pair hazards of `sizes`."""
    large = sizes > EXACT_GROUP_SIZE
    if not large.any():
        return lambda s: np.ones((s.shape[0], generations))
    present = np.unique(sizes[large])
    if present.shape[0] <= MC_ANCHORS:
        anchors = present
    else:
        anchors = np.unique(np.rint(np.geomspace(present[0], present[-1], MC_ANCHORS)))
    # the rate of an anchor size: the per-pair hazard scales as 1 / (n - 1) in every setting
    scale = float(np.median(rates[large] * (sizes[large] - 1)))
    ratios = np.ones((anchors.shape[0], generations))
    for row, n in enumerate(anchors):
        rate = scale / (n - 1)
        sampled = _sampled_means(int(n), rate, mean_days, MC_GENERATIONS)
        mean = _mean_field(np.array([float(n)]), np.array([rate]), periods, pmf, MC_GENERATIONS)[0]
        ratio = np.divide(sampled, mean, out=np.zeros_like(sampled), where=mean > 1e-12)
        ratio[0] = 1.0  # the first generation is exact in both
        ratios[row, :MC_GENERATIONS] = ratio
        ratios[row, MC_GENERATIONS:] = ratio[-1]
    log_anchors = np.log(anchors)

    def corrections(s: np.ndarray) -> np.ndarray:
        x = np.log(s)
        return np.stack([np.interp(x, log_anchors, ratios[:, j]) for j in range(generations)], axis=1)

    return corrections


def reproduction_matrix(
    beta: float,
    r: float,
    groups: Sequence[GroupSetting],
    community: np.ndarray,
    type_counts: np.ndarray,
    periods: np.ndarray,
    pmf: np.ndarray,
) -> np.ndarray:
    """sum_j A_j r^-j over states (setting infected in, contact type): setting 0 is the community
    (or an initial case), then each group setting. `community` is the community's
    next-generation matrix at this beta."""
    n_types = type_counts.shape[0]
    n_states = (len(groups) + 1) * n_types
    present = type_counts > 0
    matrix = np.zeros((n_states, n_states))
    # community infections of every case, whatever setting it was infected in
    for s_from in range(len(groups) + 1):
        matrix[:n_types, s_from * n_types : (s_from + 1) * n_types] = community / r
    for index, group in enumerate(groups, start=1):
        rates = beta * group.weight / (group.sizes - 1)
        shares = generation_shares(group.sizes, rates, periods, pmf, corrections=group.corrections)  # (sizes, J)
        discount = r ** -np.arange(1, shares.shape[1] + 1)
        per_pair = shares @ discount  # (sizes,)
        block = np.tensordot(per_pair, group.pairs, axes=1)  # [a, b] summed over sizes
        block = np.divide(block, type_counts[None, :], out=np.zeros_like(block), where=present[None, :])
        rows = slice(index * n_types, (index + 1) * n_types)
        for s_from in range(len(groups) + 1):
            if s_from != index:  # a case infected in this setting starts no new outbreak in it
                matrix[rows, s_from * n_types : (s_from + 1) * n_types] = block
    return matrix


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))
