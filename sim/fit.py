"""Fitting a model to observed data (retrodiction): which parameter values reproduce what was seen.

Deterministic models (an `expected` function on their observables: seir's ODE, the bike-share
demand curves) are fitted by maximum likelihood of the counts: Poisson, or negative binomial when
the Poisson fit is overdispersed (its Pearson chi-square above the 99% point of chi-square on its
degrees of freedom); the negative binomial's dispersion is then estimated for every candidate (a
nuisance parameter, profiled out). Candidates are evaluated in batches (seir: one stacked ODE solve
for all of them): a grid over the search range, then bounded Brent (one parameter) or Nelder-Mead
from the best grid point.

Stochastic models (a `simulate` function: abm, delivery) are fitted by a synthetic likelihood
(Wood 2010, Nature 466:1102): the data are summarised (each observed column in up to
`MAX_BLOCKS` consecutive blocks of rows: log(1 + block total) for counts, the block mean for
measures); at a design of candidate values the model runs `replicates` times each, with common
random numbers; the summaries' mean is regressed on the parameters (a quadratic) and their
covariance pooled, over a local box around the estimate that is moved and resized until it spans
about 2.5 interval widths. The observed summaries are then Gaussian with that mean and covariance:
the likelihood holds the model's own noise (an epidemic's chance timing, the randomness of orders)
as well as the data's, which a Poisson fit of the replicate mean would leave out.

95% intervals, for both, by profile likelihood: the values whose profile log-likelihood is within
chi2(1; 0.95) / 2 = 1.92 of the maximum (the likelihood-ratio interval). Parameter uncertainty for
forecasts comes from draws of an approximation of that likelihood: a normal with the inverse
Hessian as covariance on the search scale (deterministic), or the synthetic likelihood on a grid.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.caps import check_work
from sim.errors import ScenarioError
from sim.executors import Progress
from sim.observables import FitParam, Observables, ObservedData
from sim.registry import ModelSpec
from sim.scenario import Scenario, describe_allowed, parse_scenario, resolve

LEVEL = 0.95
OVERDISPERSION_QUANTILE = 0.99  # Pearson chi-square above this quantile: the counts are overdispersed
MAX_BLOCKS = 4  # summaries per observed column for the synthetic likelihood
MAX_STOCHASTIC_FREE = 2
MAX_ROUNDS = 5  # local rounds of the synthetic likelihood's design
DRAWS = 200
STOCHASTIC_DRAWS = 40  # forecast draws of a model without a batch run: each is a full run
REPORTING = "reporting"  # the reporting fraction, a parameter of the observation, not of the model
REPORTING_RANGE = (0.01, 1.0)
_GRID = {1: 48, 2: 16, 3: 8}


class FitSpec(BaseModel):
    """What to fit: the parameters to free, and how the data relate to the model.

    free: model parameters (each declared in the model's `fit_params`), or "reporting".
    reporting: the share of the model's counts that were observed, when not freed.
    likelihood: "auto" chooses Poisson or negative binomial from the data (deterministic models).
    replicates: runs per design point of a stochastic model's synthetic likelihood.
    seed: the random seed of those runs.
    """

    model_config = ConfigDict(extra="forbid")

    free: list[str] = Field(min_length=1, max_length=4)
    reporting: float = Field(1.0, gt=0, le=1)
    likelihood: Literal["auto", "poisson", "negative_binomial"] = "auto"
    replicates: int = Field(24, ge=8, le=400)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class FittedValue(BaseModel):
    """A fitted parameter: the estimate and its 95% interval; `lower_open` / `upper_open` say the
    interval runs to the end of the searched range (the data do not bound it there)."""

    name: str
    value: float
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False


class GoodnessOfFit(BaseModel):
    """statistic: "deviance" (counts against their expected values) or "mahalanobis" (the observed
    summaries against the simulated ones); p_value: chance of a value at least this large if the
    model with the fitted values produced the data."""

    statistic: Literal["deviance", "mahalanobis"]
    value: float
    df: int
    p_value: float
    pearson_dispersion: float | None = None


class FitOutcome(BaseModel):
    model: str
    scenario: Scenario
    free: list[str]
    estimates: list[FittedValue]
    likelihood: str
    method: str
    dispersion: float | None = None
    reporting: float = 1.0
    log_likelihood: float
    goodness: GoodnessOfFit
    rows: int
    columns: list[str]
    fitted: dict[str, list[float]] = Field(default_factory=dict)
    fitted_range: dict[str, tuple[list[float], list[float]]] = Field(default_factory=dict)
    draws: list[dict[str, float]] = Field(default_factory=list)
    box: dict[str, tuple[float, float]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    evaluations: int = 0
    wall_ms: float = 0.0

    def estimate(self, name: str) -> FittedValue:
        return next(e for e in self.estimates if e.name == name)


class Forecast(BaseModel):
    """The fitted model run on past the data: each metric's 95% range over the parameter draws,
    and the band of each observed column (2.5%, 50%, 97.5% of the draws at each step)."""

    horizon: int
    horizon_param: str
    draws: int
    intervals: dict[str, tuple[float, float]]
    steps: list[int]
    band: dict[str, dict[str, list[float]]]
    notes: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- the problem


@dataclass
class _Problem:
    spec: ModelSpec
    observables: Observables
    base: Any  # validated params with the data's horizon
    interventions: tuple[Any, ...]
    data: ObservedData
    fit: FitSpec
    params: list[FitParam]
    lower: np.ndarray  # search bounds on the search scale
    upper: np.ndarray
    stated: set[str]
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def to_natural(self, z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(np.asarray(z, dtype=float))
        logs = np.array([p.log_scale for p in self.params])
        return np.where(logs, np.exp(z), z)

    def to_search(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        logs = np.array([p.log_scale for p in self.params])
        return np.where(logs, np.log(np.maximum(theta, 1e-300)), theta)

    def candidates(self, z: np.ndarray) -> tuple[list[dict[str, float]], np.ndarray]:
        """Model parameter values of each candidate, and each candidate's reporting fraction."""
        theta = self.to_natural(z)
        reporting = np.full(theta.shape[0], self.fit.reporting)
        values: list[dict[str, float]] = []
        for row in theta:
            entry = {}
            for p, v in zip(self.params, row, strict=True):
                if p.name == REPORTING:
                    continue
                entry[p.name] = float(v)
            values.append(entry)
        if REPORTING in self.names:
            reporting = theta[:, self.names.index(REPORTING)]
        return values, reporting

    def valid(self, values: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Whether each candidate passes the model's own validation (bounds across fields, such as
        initial_infected <= population); whole-number parameters are checked at their rounding."""
        fields = self.spec.params.model_fields
        base = self.base.model_dump()
        ok = np.ones(len(values), dtype=bool)
        for i, entry in enumerate(values):
            trial = {k: (round(v) if fields[k].annotation is int else v) for k, v in entry.items()}
            try:
                self.spec.params.model_validate({**base, **trial})
            except Exception:
                ok[i] = False
        return ok


def _field_bounds(spec: ModelSpec, name: str) -> tuple[float, float]:
    info = spec.params.model_fields[name]
    lo, hi = -math.inf, math.inf
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            lo = max(lo, float(meta.ge))
        if getattr(meta, "gt", None) is not None:
            lo = max(lo, float(meta.gt) * (1 + 1e-9) + 1e-12)
        if getattr(meta, "le", None) is not None:
            hi = min(hi, float(meta.le))
        if getattr(meta, "lt", None) is not None:
            hi = min(hi, float(meta.lt) * (1 - 1e-9))
    return lo, hi


def fittable(spec: ModelSpec) -> list[str]:
    """The names a fit of `spec` may free."""
    names = [p.name for p in spec.fit_params]
    if spec.observables is not None and spec.observables.reporting:
        names.append(REPORTING)
    return names


def default_free(spec: ModelSpec, stated: Sequence[str]) -> list[str]:
    """The declared parameters freed by default: those the question does not state."""
    return [p.name for p in spec.fit_params if p.default and p.name not in stated]


def _problem(scenario: Scenario | dict[str, Any], data: ObservedData, fit: FitSpec) -> _Problem:
    scenario = parse_scenario(scenario)
    resolved = resolve(scenario)
    spec = resolved.spec
    observables = spec.observables
    if observables is None or not spec.fit_params:
        raise ScenarioError(
            f"model {spec.name!r} cannot be fitted to data: it declares no observables or parameters to fit",
            field="model",
            value=spec.name,
        )
    allowed = fittable(spec)
    declared = {p.name: p for p in spec.fit_params}
    params: list[FitParam] = []
    for name in dict.fromkeys(fit.free):
        if name not in allowed:
            raise ScenarioError(
                f"cannot fit {name!r} of model {spec.name!r}; it can fit: {', '.join(allowed)}",
                field="fit.free",
                value=name,
                allowed=", ".join(allowed),
            )
        if name == REPORTING:
            params.append(FitParam(REPORTING, *REPORTING_RANGE))
            continue
        p = declared[name]
        lo, hi = _field_bounds(spec, name)
        params.append(FitParam(name, max(p.lower, lo), min(p.upper, hi), p.log_scale, p.default))
    if observables.stochastic and len(params) > MAX_STOCHASTIC_FREE:
        raise ScenarioError(
            f"model {spec.name!r} is stochastic: a fit frees at most {MAX_STOCHASTIC_FREE} of its parameters at "
            f"once, got {', '.join(p.name for p in params)}; state the others",
            field="fit.free",
        )
    horizon = data.last + 1
    info = spec.params.model_fields.get(observables.horizon)
    if info is not None:
        lo, hi = _field_bounds(spec, observables.horizon)
        if horizon > hi:
            raise ScenarioError(
                f"the data run to {observables.index} {data.last}, past the longest run of {spec.name} "
                f"({observables.horizon} <= {hi:g})",
                field="data",
            )
    _check_covariates(spec, observables, data)
    base = resolved.params
    if info is not None:
        base = spec.params.model_validate(
            {**base.model_dump(), observables.horizon: horizon if info.annotation is int else float(horizon)}
        )
    if observables.stochastic:
        base = base.model_copy(update={"replicates": 1})
    problem = _Problem(
        spec=spec,
        observables=observables,
        base=base,
        interventions=resolved.interventions,
        data=data,
        fit=fit,
        params=params,
        lower=np.zeros(0),
        upper=np.zeros(0),
        stated=set(scenario.params),
    )
    problem.lower = problem.to_search(np.array([p.lower for p in params]))[0]
    problem.upper = problem.to_search(np.array([p.upper for p in params]))[0]
    return problem


def _check_covariates(spec: ModelSpec, observables: Observables, data: ObservedData) -> None:
    for column in observables.columns:
        if column.kind != "covariate" or column.name not in data.columns:
            continue
        lo, hi = _field_bounds(spec, column.name)
        values = data.columns[column.name]
        bad = np.flatnonzero((values < lo) | (values > hi))
        if bad.size:
            from sim.observables import DataError

            i = int(bad[0])
            raise DataError(
                f"{data.source} row {i + 1}, column {column.name}: {values[i]:g} is outside what the model takes "
                f"({describe_allowed(spec.params, column.name)})",
                row=i + 1,
                column=column.name,
            )


# --------------------------------------------------------------------------- count likelihoods


def poisson_loglik(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Sum over the last axis of the Poisson log-probabilities of counts y with means mu."""
    from scipy.special import gammaln

    mu = np.maximum(mu, 1e-12)
    return np.sum(y * np.log(mu) - mu - gammaln(y + 1), axis=-1)


def nb_loglik(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Sum over the last axis of negative binomial log-probabilities (mean mu, variance mu + alpha mu^2)."""
    from scipy.special import gammaln

    mu = np.maximum(mu, 1e-12)
    alpha = np.asarray(alpha, dtype=float)
    r = 1.0 / alpha
    terms = gammaln(y + r) - gammaln(r) - gammaln(y + 1) + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu))
    return np.sum(terms, axis=-1)


def nb_profile(y: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The negative binomial log-likelihood of each row of mu (K, n) maximised over alpha, and that alpha."""
    log_alpha = np.linspace(-9.0, 2.0, 45)
    grid = np.stack([nb_loglik(y, mu, math.exp(a)) for a in log_alpha], axis=-1)  # (K, A)
    best = np.argmax(grid, axis=-1)
    lo = log_alpha[np.maximum(best - 1, 0)]
    hi = log_alpha[np.minimum(best + 1, log_alpha.size - 1)]
    golden = (math.sqrt(5) - 1) / 2
    a, b = lo.copy(), hi.copy()
    for _ in range(30):  # golden-section search, vectorised over the candidates
        c = b - golden * (b - a)
        d = a + golden * (b - a)
        fc = nb_loglik(y, mu, np.exp(c)[:, None])
        fd = nb_loglik(y, mu, np.exp(d)[:, None])
        left = fc > fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
    alpha = np.exp((a + b) / 2)
    ll = nb_loglik(y, mu, alpha[:, None])
    return ll, alpha


def _deviance(y: np.ndarray, mu: np.ndarray, alpha: float | None) -> float:
    mu = np.maximum(mu, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(y > 0, y * np.log(y / mu), 0.0)
    if alpha is None:
        return float(2 * np.sum(ratio - (y - mu)))
    r = 1.0 / alpha
    return float(2 * np.sum(ratio - (y + r) * np.log((y + r) / (mu + r))))


# --------------------------------------------------------------------------- deterministic fit


class _CountLikelihood:
    """log L(z) of a batch of candidates of a deterministic model: Poisson counts, or negative
    binomial with dispersion `alpha`; remembers what it computed."""

    BATCH = 256

    def __init__(self, problem: _Problem, alpha: float | None) -> None:
        self.problem = problem
        self.alpha = alpha
        self.memory: dict[tuple[float, ...], float] = {}

    def expected(self, z: np.ndarray) -> dict[str, np.ndarray]:
        p = self.problem
        values, reporting = p.candidates(z)
        assert p.observables.expected is not None
        mus = p.observables.expected(p.base, values, p.interventions, p.data)
        p.evaluations += len(values)
        if p.observables.reporting:
            mus = {k: v * reporting[:, None] for k, v in mus.items()}
        return mus

    def _evaluate(self, z: np.ndarray) -> np.ndarray:
        p = self.problem
        values, _ = p.candidates(z)
        ok = p.valid(values)
        ll = np.full(z.shape[0], -np.inf)
        if ok.any():
            mus = self.expected(z[ok])
            total = np.zeros(int(ok.sum()))
            for column in p.observables.observed:
                y, mu = p.data.columns[column.name], mus[column.name]
                total += poisson_loglik(y, mu) if self.alpha is None else nb_loglik(y, mu, self.alpha)
            ll[ok] = np.where(np.isfinite(total), total, -np.inf)
        return ll

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(np.asarray(z, dtype=float))
        keys = [tuple(np.round(row, 12)) for row in z]
        todo = list(dict.fromkeys(k for k in keys if k not in self.memory))
        for start in range(0, len(todo), self.BATCH):
            chunk = todo[start : start + self.BATCH]
            for key, value in zip(chunk, self._evaluate(np.array(chunk)), strict=True):
                self.memory[key] = float(value)
        return np.array([self.memory[k] for k in keys])


def _grid(lower: np.ndarray, upper: np.ndarray, per_axis: int) -> np.ndarray:
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in zip(lower, upper, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))


def _maximise(
    ll: Callable[[np.ndarray], np.ndarray], lower: np.ndarray, upper: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """The maximum of ll over the box: a grid (or `start`), then a local search."""
    from scipy import optimize

    d = lower.size
    per_axis = _GRID.get(d, 5)
    step = (upper - lower) / (per_axis - 1)
    if start is None:
        points = _grid(lower, upper, per_axis)
        values = ll(points)
        if not np.isfinite(values).any():
            raise ScenarioError(
                "no parameter values in the searched range are possible for these data (every candidate has "
                "likelihood zero): check the stated values and the data's units",
                field="data",
            )
        start = points[int(np.argmax(values))]
    if d == 1:
        lo = max(lower[0], start[0] - step[0])
        hi = min(upper[0], start[0] + step[0])
        res = optimize.minimize_scalar(
            lambda x: -ll(np.array([[x]]))[0], bounds=(lo, hi), method="bounded", options={"xatol": 1e-7}
        )
        best = np.array([res.x])
    else:
        simplex = np.vstack([start, start + np.diag(step / 2)])
        simplex = np.clip(simplex, lower, upper)
        res = optimize.minimize(
            lambda x: -ll(x[None])[0],
            start,
            method="Nelder-Mead",
            bounds=list(zip(lower, upper, strict=True)),
            options={"xatol": 1e-7, "fatol": 1e-9, "initial_simplex": simplex, "maxiter": 2000},
        )
        best = np.asarray(res.x)
    value = float(ll(best[None])[0])
    start_value = float(ll(np.asarray(start)[None])[0])
    if start_value > value:
        return np.asarray(start, dtype=float), start_value
    return best, value


def _grid_max(
    ll: Callable[[np.ndarray], np.ndarray], lower: np.ndarray, upper: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """The maximum of ll over the box: a grid (or a point near the maximum, `start`), then narrowing
    grids around the best, all in batches."""
    d = lower.size
    per_axis = _GRID.get(d, 5)
    cell = (upper - lower) / (per_axis - 1)
    if start is not None:
        best, value = _batched_max(
            ll, start[None, :], cell / 8, np.ones(d, dtype=bool), lower, upper, rounds=8, per_axis=9 if d == 1 else 5
        )
        return _newton_polish(ll, best[0], float(value[0]), lower, upper)
    points = _grid(lower, upper, per_axis)
    values = ll(points)
    if not np.isfinite(values).any():
        raise ScenarioError(
            "no parameter values in the searched range are possible for these data (every candidate has "
            "likelihood zero): check the stated values and the data's units",
            field="data",
        )
    first = points[int(np.argmax(values))][None, :]
    best, value = _batched_max(
        ll, first, cell, np.ones(d, dtype=bool), lower, upper, rounds=10, per_axis=17 if d == 1 else 9
    )
    return _newton_polish(ll, best[0], float(value[0]), lower, upper)


def _derivatives(
    ll: Callable[[np.ndarray], np.ndarray], z: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Numerical gradient of ll and Hessian of -ll at z, by central differences in one batch of
    candidates; the step is 1e-3 of the range on each axis."""
    d = z.size
    h = np.maximum((upper - lower) * 1e-3, 1e-6)
    unit = np.eye(d)
    points = [z]
    for i in range(d):
        points += [z + h[i] * unit[i], z - h[i] * unit[i]]
    for i in range(d):
        for j in range(i + 1, d):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                points.append(z + si * h[i] * unit[i] + sj * h[j] * unit[j])
    values = ll(np.array(points))
    f0 = values[0]
    grad = np.zeros(d)
    hess = np.zeros((d, d))
    k = 1
    for i in range(d):
        grad[i] = (values[k] - values[k + 1]) / (2 * h[i])
        hess[i, i] = -(values[k] - 2 * f0 + values[k + 1]) / h[i] ** 2
        k += 2
    for i in range(d):
        for j in range(i + 1, d):
            pp, pm, mp, mm = values[k : k + 4]
            hess[i, j] = hess[j, i] = -(pp - pm - mp + mm) / (4 * h[i] * h[j])
            k += 4
    return grad, hess


def _newton_polish(
    ll: Callable[[np.ndarray], np.ndarray], z: np.ndarray, value: float, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float]:
    """Newton steps from a point near the maximum (the grid search can stall on a narrow ridge of two
    correlated parameters; a Newton step follows it); each step tries four lengths in one batch."""
    for _ in range(6):
        grad, hess = _derivatives(ll, z, lower, upper)
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
            break
        try:
            if np.any(np.linalg.eigvalsh(hess) <= 0):
                break
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        trials = np.clip(z + np.array([1.0, 0.5, 0.25, 0.1])[:, None] * step[None, :], lower, upper)
        values = ll(trials)
        k = int(np.argmax(values))
        if values[k] <= value + 1e-10:
            break
        z, value = trials[k], float(values[k])
    return z, value


def _profile_drop() -> float:
    from scipy import stats

    return float(stats.chi2.ppf(LEVEL, 1) / 2)


def _batched_max(
    ll: Callable[[np.ndarray], np.ndarray],
    starts: np.ndarray,
    half: np.ndarray,
    free: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rounds: int = 8,
    per_axis: int = 9,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise ll over the coordinates `free` (a boolean mask) from each of P starting points at
    once: every round evaluates a grid around each point's best in one batch, then narrows the grid
    around the new best (or keeps its width when the best lies on its edge)."""
    n_points, d = starts.shape
    axes = np.flatnonzero(free)
    if axes.size == 0:
        return starts, ll(starts)
    offsets = np.linspace(-1.0, 1.0, per_axis)
    grid = np.stack(np.meshgrid(*([offsets] * axes.size), indexing="ij"), axis=-1).reshape(-1, axes.size)
    best = starts.copy()
    width = np.repeat(np.asarray(half, dtype=float)[None, :], n_points, axis=0)
    values = ll(best)
    rows = np.arange(n_points)
    for _ in range(rounds):
        cand = np.repeat(best[:, None, :], grid.shape[0], axis=1)
        cand[:, :, axes] += grid[None, :, :] * width[:, None, axes]
        cand = np.clip(cand, lower, upper)
        vals = ll(cand.reshape(-1, d)).reshape(n_points, grid.shape[0])
        k = np.argmax(vals, axis=1)
        improved = vals[rows, k] >= values
        best = np.where(improved[:, None], cand[rows, k], best)
        values = np.maximum(values, vals[rows, k])
        on_edge = np.any(np.abs(grid[k]) >= 1.0 - 1e-12, axis=1)
        shrink = np.where(on_edge, 1.5, 2.5 / (per_axis - 1))
        width[:, axes] *= shrink[:, None]
    return best, values


def _profile_interval(
    ll: Callable[[np.ndarray], np.ndarray],
    z_hat: np.ndarray,
    ll_hat: float,
    j: int,
    lower: np.ndarray,
    upper: np.ndarray,
    cov: np.ndarray,
) -> tuple[float, float, bool, bool]:
    """The profile-likelihood interval of coordinate j on the search scale, and whether each end is
    open (the profile stays above the threshold to the end of the range). The profile is computed
    at many values of coordinate j at once, each maximised over the other coordinates in batches."""
    d = z_hat.size
    target = ll_hat - _profile_drop()
    free = np.ones(d, dtype=bool)
    free[j] = False
    sd = math.sqrt(max(cov[j, j], 1e-12))
    others = np.flatnonzero(free)
    conditional_sd = np.zeros(d)
    if others.size:
        inner = cov[np.ix_(others, others)] - np.outer(cov[others, j], cov[others, j]) / cov[j, j]
        conditional_sd[others] = np.sqrt(np.maximum(np.diag(inner), 1e-12))

    def profile(values: np.ndarray) -> np.ndarray:
        starts = np.repeat(z_hat[None, :], values.size, axis=0)
        starts[:, j] = values
        if others.size:  # the conditional mean of the others given coordinate j, under the normal approximation
            starts[:, others] += (values - z_hat[j])[:, None] * (cov[others, j] / cov[j, j])[None, :]
        starts = np.clip(starts, lower, upper)
        _, best = _batched_max(ll, starts, 3 * conditional_sd, free, lower, upper)
        return best

    ends: list[float] = []
    open_: list[bool] = []
    multiples = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.5, 8.0, 12.0])
    for side, bound in ((-1, lower[j]), (1, upper[j])):
        outer = np.clip(z_hat[j] + side * sd * multiples, lower[j], upper[j])
        outer = np.unique(np.append(outer, bound))[:: -1 if side < 0 else 1]
        values = profile(outer)
        below = np.flatnonzero(values < target)
        if below.size == 0:
            ends.append(float(bound))
            open_.append(True)
            continue
        k = int(below[0])
        a, fa = (z_hat[j], ll_hat) if k == 0 else (outer[k - 1], values[k - 1])
        b = outer[k]
        fine = np.linspace(a, b, 9)[1:-1]
        fine_values = profile(fine)
        xs = np.concatenate([[a], fine, [b]])
        ys = np.concatenate([[fa], fine_values, [values[k]]])
        i = int(np.flatnonzero(ys < target)[0])
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        ends.append(float(x0 + (target - y0) / (y1 - y0) * (x1 - x0)) if y1 != y0 else float(x1))
        open_.append(False)
    return ends[0], ends[1], open_[0], open_[1]


def _pearson(y: np.ndarray, mu: np.ndarray) -> float:
    mu = np.maximum(mu, 1e-12)
    return float(np.sum((y - mu) ** 2 / mu))


def _fit_deterministic(problem: _Problem) -> dict[str, Any]:
    from scipy import stats

    d = len(problem.params)
    counts = problem.observables.observed
    n = sum(problem.data.n_rows for _ in counts)
    dispersion_param = problem.observables.dispersion_param
    stated_cv = (
        float(getattr(problem.base, dispersion_param))
        if dispersion_param and dispersion_param in problem.stated
        else None
    )
    alpha: float | None = None  # None: Poisson
    if stated_cv is not None and stated_cv > 0:  # the model's own dispersion, as the question states it
        alpha = stated_cv**2
    lik = _CountLikelihood(problem, alpha)
    z_hat, ll_hat = _grid_max(lik, problem.lower, problem.upper)
    mus = lik.expected(z_hat[None])
    pearson = sum(_pearson(problem.data.columns[c.name], mus[c.name][0]) for c in counts)
    df_poisson = max(n - d, 1)
    dispersion_ratio = pearson / df_poisson
    overdispersed = pearson > stats.chi2.ppf(OVERDISPERSION_QUANTILE, df_poisson)
    estimate_alpha = stated_cv is None and (
        problem.fit.likelihood == "negative_binomial" or (problem.fit.likelihood == "auto" and overdispersed)
    )
    if estimate_alpha:
        if problem.fit.likelihood == "auto":
            problem.notes.append(
                f"the counts vary more than Poisson noise allows (Pearson chi-square {pearson:.1f} on {df_poisson} "
                f"degrees of freedom, {dispersion_ratio:.2f} times the expected): fitted with a negative binomial"
            )
        # alternate: the dispersion at the current means, then the parameters at that dispersion, as
        # glm.nb does; the dispersion is orthogonal to the means' parameters, so the intervals hold it there
        for _ in range(6):
            y = np.concatenate([problem.data.columns[c.name] for c in counts])
            mu = np.concatenate([mus[c.name][0] for c in counts])
            new_alpha = float(nb_profile(y, mu[None, :])[1][0])
            converged = alpha is not None and abs(math.log(new_alpha / alpha)) < 1e-3
            alpha = new_alpha
            lik = _CountLikelihood(problem, alpha)
            z_hat, ll_hat = _grid_max(lik, problem.lower, problem.upper, start=z_hat)
            mus = lik.expected(z_hat[None])
            if converged:
                break
    family = "poisson" if alpha is None else "nb"
    alpha_hat = alpha

    _, hess = _derivatives(lik, z_hat, problem.lower, problem.upper)
    cov: np.ndarray | None
    try:
        cov = np.linalg.inv(hess)
        if not np.all(np.linalg.eigvalsh(cov) > 0):
            cov = None
    except np.linalg.LinAlgError:
        cov = None
    rough = cov is None
    if cov is None:  # at the edge of the range, or flat: a rough scale to start the profiles from
        cov = np.diag(((problem.upper - problem.lower) / 50) ** 2)
    intervals = [_profile_interval(lik, z_hat, ll_hat, j, problem.lower, problem.upper, cov) for j in range(d)]
    if rough:  # a normal from the profile intervals, for the draws
        sd = np.array([(hi - lo) / (2 * 1.96) for lo, hi, _, _ in intervals])
        cov = np.diag(np.maximum(sd, 1e-9) ** 2)

    mus = lik.expected(z_hat[None])
    deviance = sum(_deviance(problem.data.columns[c.name], mus[c.name][0], alpha_hat) for c in counts)
    df = max(n - d - (1 if estimate_alpha else 0), 1)
    goodness = GoodnessOfFit(
        statistic="deviance",
        value=deviance,
        df=df,
        p_value=float(stats.chi2.sf(deviance, df)),
        pearson_dispersion=dispersion_ratio,
    )
    rng = np.random.default_rng(problem.fit.seed)
    draws = _normal_draws(rng, z_hat, cov, problem.lower, problem.upper, DRAWS)
    likelihood = "Poisson" if family == "poisson" else f"negative binomial (alpha {alpha_hat:.3g})"
    if family == "nb" and stated_cv is not None:
        likelihood = f"negative binomial (alpha {alpha_hat:.3g}, from the stated {dispersion_param})"
    return {
        "z_hat": z_hat,
        "ll_hat": ll_hat,
        "intervals": intervals,
        "goodness": goodness,
        "draws": draws,
        "likelihood": likelihood,
        "alpha": alpha_hat,
        "fitted": {c.name: mus[c.name][0] for c in counts},
        "fitted_range": {},
        "method": f"maximum likelihood, {likelihood} counts",
        "box": {},
    }


def _normal_draws(
    rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray, n: int
) -> np.ndarray:
    """n draws of a normal inside the box (those outside are drawn again; a few stubborn ones clipped)."""
    out = np.empty((0, mean.size))
    for _ in range(20):
        batch = rng.multivariate_normal(mean, cov, size=n)
        inside = np.all((batch >= lower) & (batch <= upper), axis=1)
        out = np.vstack([out, batch[inside]])
        if out.shape[0] >= n:
            return out[:n]
    extra = np.clip(rng.multivariate_normal(mean, cov, size=n - out.shape[0]), lower, upper)
    return np.vstack([out, extra])


# --------------------------------------------------------------------------- synthetic likelihood


def summaries(observables: Observables, columns: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
    """The synthetic likelihood's summaries of columns of shape (..., n_rows): per observed column and
    block of consecutive rows, log(1 + total) of a count, the mean of a measure."""
    blocks = np.array_split(np.arange(n_rows), min(n_rows, MAX_BLOCKS))
    parts = []
    for column in observables.observed:
        values = np.asarray(columns[column.name], dtype=float)
        for block in blocks:
            segment = values[..., block]
            if column.kind == "count":
                parts.append(np.log1p(segment.sum(axis=-1)))
            else:
                with np.errstate(invalid="ignore"):
                    count = np.sum(np.isfinite(segment), axis=-1)
                    total = np.nansum(segment, axis=-1)
                    parts.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    return np.stack(parts, axis=-1)


@dataclass(frozen=True)
class _Runs:
    """The runs at a design's points: the data's summaries (points, replicates, m) and each observed
    column row by row (points, replicates, rows)."""

    summaries: np.ndarray
    columns: dict[str, np.ndarray]


SimulationBank = dict[tuple[Any, ...], _Runs]


@dataclass
class _Synthetic:
    """The synthetic likelihood over one box, in parameters standardised to [-1, 1] on it: the
    summaries' mean is a polynomial (cubic for one parameter, quadratic for two) fitted to every
    run; their covariance at a point is the design points' residual covariances, weighted by a
    Gaussian kernel around it, so it follows how the model's noise changes with the parameters."""

    centre: np.ndarray
    half: np.ndarray
    coef: np.ndarray  # (features, m)
    design: np.ndarray  # (points, d), standardised
    covariances: np.ndarray  # (points, m, m)
    counts: np.ndarray  # (points,) runs behind each covariance
    observed: np.ndarray  # (m,)
    m: int

    BANDWIDTH = 0.8  # of the box's half-width

    @staticmethod
    def features(u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(u)
        d = u.shape[1]
        cols = [np.ones(u.shape[0])]
        cols += [u[:, i] for i in range(d)]
        cols += [u[:, i] * u[:, j] for i in range(d) for j in range(i, d)]
        cols += [u[:, i] * u[:, j] * u[:, k] for i in range(d) for j in range(i, d) for k in range(j, d)]
        return np.stack(cols, axis=1)

    def standardise(self, z: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(z) - self.centre) / self.half

    def mean(self, z: np.ndarray) -> np.ndarray:
        return self.features(self.standardise(z)) @ self.coef

    def parts(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mahalanobis distance of the observed summaries and log-determinant of the covariance at each point."""
        u = self.standardise(z)
        weights = np.exp(-0.5 * np.sum(((u[:, None, :] - self.design[None]) / self.BANDWIDTH) ** 2, axis=-1))
        weights = weights * self.counts[None, :]
        cov = np.einsum("kp,pij->kij", weights, self.covariances) / weights.sum(axis=1)[:, None, None]
        # the inverse of an estimated covariance overstates the precision by N / (N - m - 2) (N runs,
        # m summaries; Kish's effective N of the weighted runs): corrected, or intervals come out too narrow
        effective = weights.sum(axis=1) ** 2 / np.sum(weights**2 / self.counts[None, :], axis=1)
        factor = np.maximum(effective - self.m - 2, 1.0) / np.maximum(effective - 1, 1.0)
        r = self.observed - self.mean(z)
        solved = np.linalg.solve(cov, r[..., None])[..., 0]
        _, logdet = np.linalg.slogdet(cov)
        return factor * np.sum(r * solved, axis=1), logdet

    def distance(self, z: np.ndarray) -> np.ndarray:
        return self.parts(z)[0]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        distance, logdet = self.parts(z)
        return -0.5 * (distance + logdet)


def _design(lower: np.ndarray, upper: np.ndarray, d: int) -> np.ndarray:
    return _grid(lower, upper, 7 if d == 1 else 5)


def _simulate_design(
    problem: _Problem, z: np.ndarray, replicates: int, bank: SimulationBank | None, progress: Progress | None
) -> _Runs:
    """The model run `replicates` times at each design point (common random numbers)."""
    p = problem
    key = (
        p.spec.name,
        p.base.model_dump_json(),
        tuple(iv.model_dump_json() for iv in p.interventions),
        p.data.index.tobytes(),
        np.round(p.to_natural(z), 10).tobytes(),
        replicates,
        p.fit.seed,
        p.fit.reporting,
        tuple(p.names),
    )
    if bank is not None and key in bank:
        return bank[key]
    check_work(z.shape[0] * replicates * p.spec.work_units(p.base), f"fitting {p.spec.name}")
    values, reporting = p.candidates(z)
    ok = p.valid(values)
    m = len(p.observables.observed) * min(p.data.n_rows, MAX_BLOCKS)
    out = np.full((z.shape[0], replicates, m), np.nan)
    rows = {c.name: np.full((z.shape[0], replicates, p.data.n_rows), np.nan) for c in p.observables.observed}
    assert p.observables.simulate is not None
    theta = p.to_natural(z)
    for i in np.flatnonzero(ok):
        # every point its own stream, derived from its values: points are independent samples (the
        # pooled covariance needs them to be), and a point run twice gives the same runs
        seed = int(
            np.random.SeedSequence([p.fit.seed, *np.round(theta[i] * 1e6).astype(np.int64)]).generate_state(1)[0]
        )
        columns = p.observables.simulate(p.base, [values[i]], p.interventions, p.data, replicates, seed)
        columns = {k: v[0] for k, v in columns.items()}
        if p.observables.reporting and reporting[i] < 1:
            rng = np.random.default_rng([seed, 1])
            for c in p.observables.observed:
                if c.kind == "count":
                    columns[c.name] = rng.binomial(columns[c.name].astype(np.int64), reporting[i]).astype(float)
        out[i] = summaries(p.observables, columns, p.data.n_rows)
        for name, table in rows.items():
            table[i] = columns[name]
        p.evaluations += replicates
        if progress is not None:
            progress(int(i) + 1, z.shape[0])
    runs = _Runs(summaries=out, columns=rows)
    if bank is not None:
        bank[key] = runs
    return runs


def _synthetic_on(
    problem: _Problem, design: np.ndarray, sims: np.ndarray, box: tuple[np.ndarray, np.ndarray]
) -> _Synthetic:
    lower, upper = box
    centre, half = (lower + upper) / 2, np.maximum((upper - lower) / 2, 1e-9)
    observed = summaries(problem.observables, problem.data.columns, problem.data.n_rows)
    rows = np.repeat((design - centre) / half, sims.shape[1], axis=0)
    flat = sims.reshape(-1, sims.shape[-1])
    keep = np.all(np.isfinite(flat), axis=1)
    if keep.sum() < 10:
        raise ScenarioError(
            f"the model gave no usable runs near these data ({problem.spec.name}); check the stated values",
            field="data",
        )
    phi = _Synthetic.features(rows[keep])
    coef, *_ = np.linalg.lstsq(phi, flat[keep], rcond=None)
    resid = flat - _Synthetic.features(rows) @ coef
    resid[~keep] = np.nan
    spread = np.nanvar(flat[keep], axis=0)
    variable = spread > 1e-12 * max(1.0, float(np.max(np.abs(flat[keep]))) ** 2)
    if not variable.all():
        if np.any(np.abs(observed[~variable] - np.nanmean(flat[keep][:, ~variable], axis=0)) > 1e-9):
            problem.notes.append(
                "some summaries of the data never occur in the model's runs (they do not vary there); they were left out"
            )
        coef, resid, observed = coef[:, variable], resid[:, variable], observed[variable]
    if not np.all(np.isfinite(observed)):
        raise ScenarioError("the data's summaries are not all finite: a measure needs a value in every block")
    m = observed.size
    points, replicates = sims.shape[0], sims.shape[1]
    per_point = resid.reshape(points, replicates, m)
    covariances = np.zeros((points, m, m))
    counts = np.zeros(points)
    for i in range(points):
        good = per_point[i][np.all(np.isfinite(per_point[i]), axis=1)]
        counts[i] = good.shape[0]
        if good.shape[0] >= 2:
            centred = good - good.mean(axis=0)
            covariances[i] = centred.T @ centred / (good.shape[0] - 1)
    usable = counts >= 2
    ridge = 1e-9 * np.mean([np.trace(c) for c in covariances[usable]]) / m
    covariances[usable] += ridge * np.eye(m)
    return _Synthetic(
        centre=centre,
        half=half,
        coef=coef,
        design=((design - centre) / half)[usable],
        covariances=covariances[usable],
        counts=counts[usable],
        observed=observed,
        m=m,
    )


def _dense(lower: np.ndarray, upper: np.ndarray) -> list[np.ndarray]:
    per_axis = 801 if lower.size == 1 else 161
    return [np.linspace(lo, hi, per_axis) for lo, hi in zip(lower, upper, strict=True)]


def _crossing(axis: np.ndarray, profile: np.ndarray, target: float, outside: int, inside: int) -> float:
    """Where the profile crosses the target between two neighbouring grid points (linearly)."""
    a, b = profile[outside], profile[inside]
    t = (target - a) / (b - a) if b != a else 0.5
    return float(axis[outside] + t * (axis[inside] - axis[outside]))


def _synthetic_estimate(
    sl: _Synthetic, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float, list[tuple[float, float, bool, bool]], np.ndarray, np.ndarray]:
    """Estimate, maximum, profile intervals (with open ends), and the dense grid with its values."""
    axes = _dense(lower, upper)
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, lower.size)
    values = sl(points)
    z_hat, ll_hat = _maximise(sl, lower, upper, start=points[int(np.argmax(values))])
    target = ll_hat - _profile_drop()
    grid = values.reshape([a.size for a in axes])
    intervals = []
    for j, axis in enumerate(axes):
        other = tuple(i for i in range(lower.size) if i != j)
        profile = grid.max(axis=other) if other else grid
        above = profile >= target
        idx = np.flatnonzero(above)
        if idx.size == 0:  # the maximum lies between grid points: the interval is narrower than a cell
            k = int(np.argmin(np.abs(axis - z_hat[j])))
            idx = np.array([k])
        first, last = int(idx[0]), int(idx[-1])
        lo_open, hi_open = first == 0, last == axis.size - 1

        lo = float(axis[0]) if lo_open else _crossing(axis, profile, target, first - 1, first)
        hi = float(axis[-1]) if hi_open else _crossing(axis, profile, target, last + 1, last)
        intervals.append((min(lo, float(z_hat[j])), max(hi, float(z_hat[j])), lo_open, hi_open))
    return z_hat, ll_hat, intervals, points, values


def _rows_at(
    problem: _Problem, runs: _Runs, box: tuple[np.ndarray, np.ndarray], z: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The model near the estimate, row by row: the replicates' mean and central 95% at each design
    point, interpolated (linearly on the design's grid) to the estimate."""
    from scipy.interpolate import RegularGridInterpolator

    d = z.size
    per_axis = 7 if d == 1 else 5
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in zip(box[0], box[1], strict=True)]
    fitted, fitted_range = {}, {}
    for name, values in runs.columns.items():
        with np.errstate(invalid="ignore"):
            stats = [np.nanmean(values, axis=1), *np.nanpercentile(values, [2.5, 97.5], axis=1)]
        at = []
        for table in stats:
            grid = table.reshape([per_axis] * d + [table.shape[-1]])
            at.append(RegularGridInterpolator(axes, grid)(np.clip(z, box[0], box[1])[None, :])[0])
        fitted[name] = at[0]
        fitted_range[name] = (at[1], at[2])
    return fitted, fitted_range


def _coarse_box(
    problem: _Problem, bank: SimulationBank | None, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """A first box for the synthetic likelihood: a pattern search from the scenario's values (stated or
    default) in steps of an eighth of the range, each point scored with its own mean and variance,
    moving until the best point lies inside the grid."""
    lower, upper = problem.lower, problem.upper
    d = lower.size
    step = (upper - lower) / 8
    theta = np.array(
        [float(getattr(problem.base, n, np.nan)) if n != REPORTING else problem.fit.reporting for n in problem.names]
    )
    centre = np.clip(problem.to_search(theta)[0], lower, upper)
    observed = summaries(problem.observables, problem.data.columns, problem.data.n_rows)
    offsets = _grid(-np.ones(d), np.ones(d), 5 if d == 1 else 3)
    for _ in range(12):
        points = np.clip(centre + offsets * 2 * step / (4 if d == 1 else 2), lower, upper)
        points = np.unique(points, axis=0)
        sims = _simulate_design(problem, points, max(8, problem.fit.replicates // 3), bank, progress).summaries
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(sims, axis=1)
            var = np.nanvar(sims, axis=1, ddof=1) + 1e-6
            score = -0.5 * np.nansum((observed - mean) ** 2 / var + np.log(var), axis=1)
        score = np.where(np.isfinite(score), score, -np.inf)
        best = points[int(np.argmax(score))]
        inside = np.all((np.abs(best - centre) < 0.99 * step) | (best <= lower) | (best >= upper))
        centre = best
        if inside:
            break
    return np.maximum(centre - step, lower), np.minimum(centre + step, upper)


def _fit_synthetic(
    problem: _Problem,
    box: Mapping[str, tuple[float, float]] | None,
    bank: SimulationBank | None,
    progress: Progress | None,
) -> dict[str, Any]:
    from scipy import stats

    d = len(problem.params)
    replicates = problem.fit.replicates
    lower_all, upper_all = problem.lower, problem.upper
    adapt = box is None
    if box is not None:
        lo = problem.to_search(np.array([box[n][0] for n in problem.names]))[0]
        hi = problem.to_search(np.array([box[n][1] for n in problem.names]))[0]
        current = (np.maximum(lo, lower_all), np.minimum(hi, upper_all))
    else:
        current = _coarse_box(problem, bank, progress)
    result = None
    settled = False
    for _ in range(MAX_ROUNDS):
        design = _design(current[0], current[1], d)
        runs = _simulate_design(problem, design, replicates, bank, progress)
        sl = _synthetic_on(problem, design, runs.summaries, current)
        z_hat, ll_hat, intervals, points, values = _synthetic_estimate(sl, current[0], current[1])
        result = (current, sl, z_hat, ll_hat, intervals, points, values, runs)
        if not adapt:
            break
        new_lo, new_hi = current[0].copy(), current[1].copy()
        settled = True
        for j, (lo, hi, lo_open, hi_open) in enumerate(intervals):
            width = current[1][j] - current[0][j]
            span = max(hi - lo, 1e-6)
            want_lo, want_hi = lo - 0.75 * span, hi + 0.75 * span
            if lo_open and current[0][j] > lower_all[j]:
                want_lo, settled = lo - width, False
            if hi_open and current[1][j] < upper_all[j]:
                want_hi, settled = hi + width, False
            want_lo, want_hi = max(want_lo, lower_all[j]), min(want_hi, upper_all[j])
            ratio = width / max(want_hi - want_lo, 1e-9)
            if not 0.6 <= ratio <= 1.8:
                settled = False
            new_lo[j], new_hi[j] = want_lo, want_hi
        if settled:
            break
        current = (new_lo, new_hi)
    assert result is not None
    current, sl, z_hat, ll_hat, intervals, points, values, runs = result
    if adapt and not settled:
        problem.notes.append(f"the synthetic likelihood's design did not settle in {MAX_ROUNDS} rounds")
    # an interval that reaches the box (not the range) is open only at the range's end
    intervals = [
        (
            lo,
            hi,
            (lo_open and current[0][j] <= lower_all[j] + 1e-12) or (lo_open and not adapt),
            (hi_open and current[1][j] >= upper_all[j] - 1e-12) or (hi_open and not adapt),
        )
        for j, (lo, hi, lo_open, hi_open) in enumerate(intervals)
    ]
    distance = float(sl.distance(z_hat[None])[0])
    df = max(sl.m - d, 1)
    goodness = GoodnessOfFit(statistic="mahalanobis", value=distance, df=df, p_value=float(stats.chi2.sf(distance, df)))
    rng = np.random.default_rng(problem.fit.seed)
    weights = np.exp(values - values.max())
    picks = rng.choice(points.shape[0], size=DRAWS, p=weights / weights.sum())
    cell = (current[1] - current[0]) / (len(_dense(current[0], current[1])[0]) - 1)
    draws = np.clip(points[picks] + rng.uniform(-0.5, 0.5, (DRAWS, d)) * cell, current[0], current[1])
    fitted, fitted_range = _rows_at(problem, runs, current, z_hat)
    box_out = {
        name: (float(a), float(b))
        for name, a, b in zip(problem.names, *problem.to_natural(np.vstack(current)), strict=True)
    }
    return {
        "z_hat": z_hat,
        "ll_hat": ll_hat,
        "intervals": intervals,
        "goodness": goodness,
        "draws": draws,
        "likelihood": f"synthetic (Gaussian on {sl.m} summaries of the data, {replicates} runs per design point)",
        "alpha": None,
        "fitted": fitted,
        "fitted_range": fitted_range,
        "method": (
            f"synthetic likelihood (Wood 2010): {replicates} runs of the model at each design point give the mean "
            f"and covariance of {sl.m} summaries of the data"
        ),
        "box": box_out,
    }


# --------------------------------------------------------------------------- the entry points


def fit(
    scenario: Scenario | dict[str, Any],
    data: ObservedData,
    spec: FitSpec | dict[str, Any],
    *,
    box: Mapping[str, tuple[float, float]] | None = None,
    bank: SimulationBank | None = None,
    progress: Progress | None = None,
) -> FitOutcome:
    """Fit the parameters `spec.free` of `scenario`'s model to `data`; the scenario's stated values stay fixed.

    box (stochastic models): search this range of each free parameter in one round instead of
      placing the design adaptively; bank: a dict that keeps the simulations of design points, so
      fits of many data sets of the same shape share them (tests of coverage do).
    """
    start = time.perf_counter()
    fit_spec = spec if isinstance(spec, FitSpec) else FitSpec.model_validate(spec)
    problem = _problem(scenario, data, fit_spec)
    if problem.observables.stochastic:
        found = _fit_synthetic(problem, box, bank, progress)
    else:
        found = _fit_deterministic(problem)
    z_hat = found["z_hat"]
    theta = problem.to_natural(z_hat)[0]
    estimates = []
    for j, p in enumerate(problem.params):
        lo, hi, lo_open, hi_open = found["intervals"][j]
        natural = (math.exp(lo), math.exp(hi)) if p.log_scale else (lo, hi)
        estimates.append(
            FittedValue(
                name=p.name,
                value=float(theta[j]),
                lower=float(natural[0]),
                upper=float(natural[1]),
                lower_open=bool(lo_open),
                upper_open=bool(hi_open),
            )
        )
    alpha = found["alpha"]
    dispersion_param = problem.observables.dispersion_param
    if alpha is not None and dispersion_param and dispersion_param not in problem.stated:
        estimates.append(FittedValue(name=dispersion_param, value=float(math.sqrt(alpha))))
    draws_natural = problem.to_natural(found["draws"])
    draws = [{p.name: float(v) for p, v in zip(problem.params, row, strict=True)} for row in draws_natural]
    fitted_scenario = _fitted_scenario(problem, estimates)
    for e in estimates:
        if e.lower_open or e.upper_open:
            side = "below" if e.lower_open else "above"
            problem.notes.append(
                f"the data do not bound {e.name} from {side} within the searched range; its interval runs to the "
                "range's end"
            )
    return FitOutcome(
        model=problem.spec.name,
        scenario=fitted_scenario,
        free=problem.names,
        estimates=estimates,
        likelihood=found["likelihood"],
        method=found["method"],
        dispersion=alpha,
        reporting=(
            next(e.value for e in estimates if e.name == REPORTING)
            if REPORTING in problem.names
            else fit_spec.reporting
        ),
        log_likelihood=float(found["ll_hat"]),
        goodness=found["goodness"],
        rows=data.n_rows,
        columns=[c.name for c in problem.observables.observed],
        fitted={k: [float(x) for x in v] for k, v in found["fitted"].items()},
        fitted_range={k: ([float(x) for x in a], [float(x) for x in b]) for k, (a, b) in found["fitted_range"].items()},
        draws=draws,
        box=found["box"],
        notes=problem.notes,
        evaluations=problem.evaluations,
        wall_ms=round((time.perf_counter() - start) * 1000, 3),
    )


def _fitted_scenario(problem: _Problem, estimates: Sequence[FittedValue]) -> Scenario:
    fields = problem.spec.params.model_fields
    params = {k: v for k, v in problem.base.model_dump().items() if k in problem.stated}
    params[problem.observables.horizon] = getattr(problem.base, problem.observables.horizon, None)
    for e in estimates:
        if e.name == REPORTING or e.name not in fields:
            continue
        params[e.name] = max(1, round(e.value)) if fields[e.name].annotation is int else float(f"{e.value:.6g}")
    params = {k: v for k, v in params.items() if v is not None}
    scenario = Scenario(
        model=problem.spec.name, label="fitted", params=params, interventions=list(problem.interventions)
    )
    resolve(scenario)  # the fitted values pass the model's validation
    return scenario


def forecast(
    outcome: FitOutcome,
    data: ObservedData,
    horizon: int | None = None,
    seed: int = 0,
) -> Forecast:
    """Run the fitted model on to `horizon` steps (default: the model's own horizon, or the data's
    when that is longer; an epidemic whose peak falls at the end runs longer) under the parameter
    draws of the fit, for each metric's 95% range and the band of each observed column."""
    resolved = resolve(outcome.scenario)
    spec = resolved.spec
    observables = spec.observables
    assert observables is not None
    name = observables.horizon
    info = spec.params.model_fields.get(name)
    notes: list[str] = []
    covariates = any(c.kind == "covariate" and c.name in data.columns for c in observables.columns)
    longest = _field_bounds(spec, name)[1] if info is not None else float(data.last + 1)
    if covariates or info is None:
        steps = data.last + 1
    else:
        default = info.default if isinstance(info.default, int | float) else 0
        steps = int(horizon) if horizon else max(int(default), data.last + 1)
        steps = int(min(steps, longest))
    n_draws = DRAWS if spec.batch_run is not None else STOCHASTIC_DRAWS
    draws = outcome.draws[:n_draws]
    fields = spec.params.model_fields
    base = resolved.params.model_dump()

    def runs(length: int) -> list[Any]:
        params = []
        for i, draw in enumerate(draws):
            values = {
                k: (max(1, round(v)) if fields[k].annotation is int else v) for k, v in draw.items() if k in fields
            }
            update = {**base, **values, "replicates": 1, "seed": seed + i}
            if info is not None:
                update[name] = length if info.annotation is int else float(length)
            params.append(spec.params.model_validate(update))
        if spec.batch_run is not None:
            return list(spec.batch_run(params, resolved.interventions))
        return [spec.run(p, resolved.interventions) for p in params]

    outputs = runs(steps)
    while (
        horizon is None
        and not covariates
        and "peak_day" in outputs[0].metrics
        and np.median([float(o.metrics["peak_day"][0]) for o in outputs]) >= steps - max(2, 0.02 * steps)
        and steps < longest
    ):
        steps = int(min(longest, steps * 2))
        outputs = runs(steps)
    intervals = {}
    for metric in outputs[0].metrics:
        values = np.array([float(np.asarray(o.metrics[metric]).reshape(-1)[0]) for o in outputs])
        lo, hi = np.percentile(values, [2.5, 97.5])
        intervals[metric] = (float(lo), float(hi))
    index = data.index if covariates else np.arange(steps, dtype=np.int64)
    target = data if covariates else ObservedData(index=index, columns={}, source=data.source)
    candidates = [{k: v for k, v in d.items() if k in fields} for d in draws]
    reporting = np.array([d.get(REPORTING, 1.0) for d in draws]) if REPORTING in outcome.free else None
    if observables.expected is not None:
        base_params = resolved.params.model_copy(update={name: steps} if info is not None else {})
        columns = observables.expected(base_params, candidates, resolved.interventions, target)
    else:
        assert observables.simulate is not None
        base_params = resolved.params.model_copy(update={"replicates": 1})
        sims = observables.simulate(base_params, candidates, resolved.interventions, target, 1, seed)
        columns = {k: v[:, 0, :] for k, v in sims.items()}
        notes.append(
            "the forecast band holds the model's own chance variation as well as the parameters' uncertainty; "
            "its runs start afresh rather than from the observed days"
        )
    band = {}
    for c in observables.observed:
        values = columns[c.name]
        if c.kind == "count" and observables.reporting:
            values = values * (reporting[:, None] if reporting is not None else outcome.reporting)
        with np.errstate(invalid="ignore"):
            q = np.nanpercentile(values, [2.5, 50, 97.5], axis=0)
        band[c.name] = {
            "lower": [float(x) for x in q[0]],
            "median": [float(x) for x in q[1]],
            "upper": [float(x) for x in q[2]],
        }
    return Forecast(
        horizon=steps,
        horizon_param=name,
        draws=len(draws),
        intervals=intervals,
        steps=[int(i) for i in index],
        band=band,
        notes=notes,
    )
