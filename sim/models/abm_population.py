"""The synthetic population of the agent-based epidemic model: ages, households, schools, workplaces.

Every setting is stored as one compact int32 group index per agent. Settings an agent does not
belong to (a school for an adult, a workplace for a child) point at one extra "none" group with
size 0, so the simulation can gather per-group rates without branches or masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AGE_GROUPS = ("0-4", "5-17", "18-64", "65+")
PRESCHOOL, SCHOOL_AGE, WORKING_AGE, RETIRED = range(4)

# Share of the population in each age group, US Census Bureau, Vintage 2019 population estimates
# (QuickFacts, July 2019): under 5: 6.0%, under 18: 22.3%, 65 and over: 16.5%.
AGE_SHARES = np.array([0.060, 0.163, 0.612, 0.165])

# Households by number of people (1..7, the last bin "7 or more"), US Census Bureau, Current
# Population Survey 2020 ASEC, table HH-4 "Households by Size". Tilted to `mean_household_size`.
HOUSEHOLD_SIZE_SHARES = np.array([0.282, 0.349, 0.151, 0.127, 0.058, 0.021, 0.012])
HOUSEHOLD_SIZES = np.arange(1, len(HOUSEHOLD_SIZE_SHARES) + 1)

# Who lives with whom, by age. People 65+ (noninstitutionalised, US 2013): 28% lived alone and 57%
# with their spouse; in 2012 about 2.1 million of the 43.1 million lived in a household with a
# grandchild present, 4.9% (Administration on Aging, US DHHS, A Profile of Older Americans: 2013,
# "Living Arrangements"). A spouse of 65+ is taken to be 65+ too; the rest of the 65+ (10%) live
# with adults of working age. Children (0-17) live with at least one adult aged 18-64 (their
# parents), in households of two or more; a grandparent, when present, lives with them too.
SHARE_65_ALONE = 0.28
SHARE_65_WITH_SPOUSE = 0.57
SHARE_65_WITH_GRANDCHILD = 0.049
CHILD, ADULT, ELDER = range(3)  # household roles: 0-17, 18-64 (a household's head), 65+

# Establishment sizes are heavy-tailed: a lognormal of this log-sd around the mean (an assumption;
# the shape matches the spread of US establishment sizes, US Census Bureau, Statistics of US
# Businesses 2019, only roughly).
WORKPLACE_SIZE_LOG_SD = 1.0
MAX_WORKPLACE_SIZE = 5000


@dataclass(frozen=True)
class Population:
    """Agents and their groups. Group arrays hold, per setting, one id per agent; the last id of
    each setting (== number of real groups) is the "none" group of size 0."""

    age_group: np.ndarray  # int8, index into AGE_GROUPS
    household: np.ndarray  # int32
    school: np.ndarray  # int32
    workplace: np.ndarray  # int32
    household_sizes: np.ndarray  # int32, one per household (+ the empty "none" slot)
    school_sizes: np.ndarray  # int32, one per school + none
    workplace_sizes: np.ndarray  # int32, one per workplace + none

    @property
    def size(self) -> int:
        return int(self.age_group.shape[0])

    @property
    def n_households(self) -> int:
        return int(self.household_sizes.shape[0] - 1)

    @property
    def n_schools(self) -> int:
        return int(self.school_sizes.shape[0] - 1)

    @property
    def n_workplaces(self) -> int:
        return int(self.workplace_sizes.shape[0] - 1)

    def contact_types(self) -> np.ndarray:
        """Type of each agent for the next-generation matrix: age group x (attends school or work)."""
        outside = (self.school < self.n_schools) | (self.workplace < self.n_workplaces)
        return (self.age_group.astype(np.int32) * 2 + outside).astype(np.int32)


N_CONTACT_TYPES = 2 * len(AGE_GROUPS)


def household_size_shares(mean_household_size: float) -> np.ndarray:
    """The census household-size distribution exponentially tilted so that its mean is
    `mean_household_size` (the least change, in relative entropy, that gives that mean)."""

    def tilted(theta: float) -> np.ndarray:
        weights = HOUSEHOLD_SIZE_SHARES * np.exp(theta * (HOUSEHOLD_SIZES - 1))
        return weights / weights.sum()

    def mean_gap(theta: float) -> float:
        return float(tilted(theta) @ HOUSEHOLD_SIZES) - mean_household_size

    from scipy.optimize import brentq

    theta = brentq(mean_gap, -30.0, 30.0, xtol=1e-12)
    return tilted(theta)


def _sizes_covering(rng: np.random.Generator, total: int, draw: object, mean: float) -> np.ndarray:
    """Group sizes drawn from `draw(n)` until they cover `total` people; the last one trimmed."""
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < total:
        batch = int((total - sizes.sum()) / mean * 1.1) + 16
        sizes = np.concatenate([sizes, draw(batch)])  # type: ignore[operator]
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, total)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1] - total)
    return sizes


def household_roles(household_sizes: np.ndarray, people_by_role: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The role (CHILD, ADULT, ELDER) of every slot of every household, slot 0 of each household first,
    with exactly `people_by_role` slots of each role, built to the living arrangements above:

    1. a share `SHARE_65_ALONE` of the 65+ fill one-person households, and `SHARE_65_WITH_SPOUSE` of
       them two-person households as couples;
    2. every other household is headed by an adult of working age, with a second adult, and children
       in the slots after; `SHARE_65_WITH_GRANDCHILD` of the 65+ take a child's slot in households of
       three or more;
    3. the counts are then met: surplus child slots become adults (an adult child at home, a
       relative), missing ones take a second adult's slot (a single parent); 65+ still to place join
       households of adults without children.
    Only populations too small or too skewed for these rules break them (children without an adult).
    """
    n_households = household_sizes.shape[0]
    starts = np.concatenate([[0], np.cumsum(household_sizes)[:-1]])
    slots = int(household_sizes.sum())
    home = np.repeat(np.arange(n_households), household_sizes)
    position = np.arange(slots) - starts[home]
    size_of = household_sizes[home]
    roles = np.where(position >= 2, CHILD, ADULT)
    n_children, _, n_elders = (int(x) for x in people_by_role)

    def pick(candidates: np.ndarray, count: int) -> np.ndarray:
        count = max(0, min(int(count), candidates.shape[0]))
        return rng.choice(candidates, size=count, replace=False) if count else candidates[:0]

    alone = pick(np.flatnonzero(household_sizes == 1), round(SHARE_65_ALONE * n_elders))
    roles[starts[alone]] = ELDER
    couples = pick(np.flatnonzero(household_sizes == 2), round(SHARE_65_WITH_SPOUSE * n_elders / 2))
    roles[starts[couples]] = ELDER
    roles[starts[couples] + 1] = ELDER
    with_grandchild = pick(np.flatnonzero(household_sizes >= 3), round(SHARE_65_WITH_GRANDCHILD * n_elders))
    roles[starts[with_grandchild] + household_sizes[with_grandchild] - 1] = ELDER
    three = with_grandchild[household_sizes[with_grandchild] == 3]
    roles[starts[three] + 1] = CHILD  # parent, child, grandparent
    grandchild = np.zeros(slots, dtype=bool)  # the child a grandparent lives with: kept a child
    grandchild[starts[with_grandchild] + 1 + (household_sizes[with_grandchild] > 3)] = True

    elder_home = np.zeros(n_households, dtype=bool)
    elder_home[home[roles == ELDER]] = True
    surplus = int((roles == CHILD).sum()) - n_children
    if surplus > 0:
        roles[pick(np.flatnonzero((roles == CHILD) & ~grandchild), surplus)] = ADULT
    elif surplus < 0:
        # single parents: the second adult's slot of a household headed by a working-age adult
        second = np.flatnonzero((position == 1) & (roles == ADULT) & ~elder_home[home])
        chosen = pick(second, -surplus)
        roles[chosen] = CHILD
        rest = -surplus - chosen.shape[0]
        if rest:
            roles[pick(np.flatnonzero((roles == ADULT) & (position >= 1)), rest)] = CHILD
            rest = n_children - int((roles == CHILD).sum())
            roles[pick(np.flatnonzero(roles == ADULT), rest)] = CHILD
    has_child = np.zeros(n_households, dtype=bool)
    has_child[home[roles == CHILD]] = True
    missing = n_elders - int((roles == ELDER).sum())
    if missing > 0:
        # 65+ living with adults of working age: a member (not the head) of a household without children
        others = np.flatnonzero((roles == ADULT) & (position >= 1) & ~has_child[home] & (size_of >= 2))
        chosen = pick(others, missing)
        roles[chosen] = ELDER
        rest = missing - chosen.shape[0]
        if rest:
            roles[pick(np.flatnonzero((roles == ADULT) & ~has_child[home]), rest)] = ELDER
            rest = n_elders - int((roles == ELDER).sum())
            roles[pick(np.flatnonzero(roles == ADULT), rest)] = ELDER
    elif missing < 0:
        roles[pick(np.flatnonzero(roles == ELDER), -missing)] = ADULT
    # tiny populations: any count still off is met on whatever slots are left
    for role in (CHILD, ELDER):
        gap = int(people_by_role[role]) - int((roles == role).sum())
        if gap > 0:
            roles[pick(np.flatnonzero(roles == ADULT), gap)] = role
        elif gap < 0:
            roles[pick(np.flatnonzero(roles == role), -gap)] = ADULT
    return roles


def _with_none_group(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate([sizes, [0]]).astype(np.int32)


def build_population(
    size: int,
    mean_household_size: float,
    school_size: int,
    workplace_size: float,
    employment_rate: float,
    rng: np.random.Generator,
) -> Population:
    """A synthetic population of `size` agents.

    Ages follow AGE_SHARES exactly in expectation. Households are filled by age to the living
    arrangements of the census and the Administration on Aging (`household_roles`): children with
    adults of working age, most people 65+ alone or as a couple, few with a grandchild. Every child of school age (5-17) attends one school; schools have `school_size`
    pupils (the last one fewer). Each working-age adult (18-64) is employed with probability
    `employment_rate` and works in one workplace; workplace sizes are lognormal with mean
    `workplace_size`.
    """
    age_group = rng.choice(len(AGE_GROUPS), size=size, p=AGE_SHARES).astype(np.int8)

    shares = household_size_shares(mean_household_size)
    household_sizes = _sizes_covering(
        rng, size, lambda n: rng.choice(HOUSEHOLD_SIZES, size=n, p=shares), mean_household_size
    )
    n_households = household_sizes.shape[0]
    age_role = np.where(age_group < WORKING_AGE, CHILD, np.where(age_group == RETIRED, ELDER, ADULT))
    roles = household_roles(household_sizes, np.bincount(age_role, minlength=3), rng)
    agent_at_slot = np.empty(size, dtype=np.int64)
    for role in (CHILD, ADULT, ELDER):
        agent_at_slot[roles == role] = rng.permutation(np.flatnonzero(age_role == role))
    household = np.empty(size, dtype=np.int32)
    household[agent_at_slot] = np.repeat(np.arange(n_households, dtype=np.int32), household_sizes)

    pupils = rng.permutation(np.flatnonzero(age_group == SCHOOL_AGE))
    n_schools = max(1, int(np.ceil(pupils.shape[0] / school_size))) if pupils.shape[0] else 0
    school = np.full(size, n_schools, dtype=np.int32)
    school[pupils] = np.arange(pupils.shape[0], dtype=np.int32) // school_size
    school_sizes = np.bincount(school[pupils], minlength=n_schools)

    working_age = np.flatnonzero(age_group == WORKING_AGE)
    workers = rng.permutation(working_age[rng.random(working_age.shape[0]) < employment_rate])
    log_mean = np.log(workplace_size) - WORKPLACE_SIZE_LOG_SD**2 / 2

    def draw_workplace_sizes(n: int) -> np.ndarray:
        raw = np.rint(rng.lognormal(log_mean, WORKPLACE_SIZE_LOG_SD, size=n))
        return np.clip(raw, 1, MAX_WORKPLACE_SIZE).astype(np.int64)

    if workers.shape[0]:
        workplace_sizes = _sizes_covering(rng, workers.shape[0], draw_workplace_sizes, workplace_size)
    else:
        workplace_sizes = np.empty(0, dtype=np.int64)
    n_workplaces = workplace_sizes.shape[0]
    workplace = np.full(size, n_workplaces, dtype=np.int32)
    workplace[workers] = np.repeat(np.arange(n_workplaces, dtype=np.int32), workplace_sizes)

    return Population(
        age_group=age_group,
        household=household,
        school=school,
        workplace=workplace,
        household_sizes=_with_none_group(household_sizes),
        school_sizes=_with_none_group(school_sizes),
        workplace_sizes=_with_none_group(workplace_sizes),
    )
