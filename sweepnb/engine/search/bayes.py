"""Bayesian search: a Gaussian process with expected improvement, in four steps.

start   random configs until min(10, 2 x the number of searched parameters) runs have a value:
        a model fitted on fewer sees one corner of the space and settles in the first basin it
        finds (Hartmann-6: one seed in two stayed in its -3.20 basin for 100 runs with 2)
encode  runs -> points in [0, 1]^D (``space.py``: numbers through their CDF, so log
        distributions live in log space; categoricals one-hot; integers at their bin's centre)
        and targets y
        (each run's best metric; failed/crashed runs imputed per ``metric.impute``; running runs
        become fantasies unless ``metric.impute_while_running`` says otherwise)
fit     MAP hyperparameters of a Matern 5/2 ARD GP (``gp.py``) on standardised, power-
        transformed y whose zero (the GP's prior mean) is the upper quartile of the runs: far from
        every run, a config is expected to be no better than a typical one
propose expected improvement maximised over prior samples + samples around the best runs,
        refined by L-BFGS-B on the continuous columns; points already tried are skipped while
        unseen ones remain; a batch (and running runs) use kriging-believer fantasies, and while
        points are pending only the moves around the best runs start the search
decode  a point back to a nested run config of plain Python values
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from sweepnb.engine.metric import Metric, best_value, latest_value
from sweepnb.engine.search.gp import GP, Hypers, fit_hypers
from sweepnb.engine.search.space import Space

# (below, from) BIG observed runs: fewer candidates and shorter refinement on big sweeps (speed)
DESCRIPTION = "a Gaussian process proposes the config with the best expected improvement"
BIG = 100
N_PRIOR_CANDIDATES = (1000, 500)
N_LOCAL_CANDIDATES = (500, 300)
N_REFINE_STARTS = (5, 3)
REFINE_ITERATIONS = (50, 25)
MAX_FIT_POINTS = 64  # hyperparameters are fitted on at most this many runs (speed)
MAX_MODEL_POINTS = 200  # the GP is conditioned on at most this many runs (speed, issue 22)
MAX_ENUMERATE = 20000  # discrete spaces up to this size are enumerated once candidates repeat
TERMINAL_IMPUTED = ("failed", "crashed")
MAX_INITIAL = 10  # random configs before the model, at most (2 per searched parameter below that)
PRIOR_MEAN_QUANTILE = 75  # percentile of the (minimised) targets that the GP's prior mean sits at


# ---------------------------------------------------------------------------------------------
# encode (the space itself is in space.py)


def problems(cfg: dict, leaves: list[tuple[tuple, str]]) -> list[str]:
    """Bayes needs a metric to model and at least one parameter that varies."""
    out = []
    if "metric" not in cfg:
        out.append(
            "metric: method bayes needs a metric to optimize, e.g. {name: loss, goal: minimize}"
        )
    if leaves and all(form == "constant" for _, form in leaves):
        out.append("parameters: method bayes needs at least one parameter that is not constant")
    return out


@dataclass
class Observations:
    """Encoded runs: observed points with targets (to minimise), pending points, tried configs."""

    X: np.ndarray
    y: np.ndarray
    pending: np.ndarray
    seen: set


def _impute(run: dict, name: str, goal: str, strategy: str, worst: float | None) -> float | None:
    if strategy == "best":
        value = best_value(run, name, goal)
    elif strategy == "latest":
        value = latest_value(run, name)
    else:
        value = None
    return worst if value is None else value


def run_target(cfg: dict, run: dict, worst: float | None) -> float | None:
    """The value a run contributes to the model (None = pending), in the metric's own sign."""
    metric = cfg.get("metric") or {}
    name, goal = Metric.of(cfg)[:2]
    impute = metric.get("impute", "worst")
    while_running = str(metric.get("impute_while_running", "false")).lower()
    state = run.get("state", "finished")
    if state in ("finished", "stopped", "killed"):  # killed: by the user, at its best so far
        value = best_value(run, name, goal)
        return _impute(run, name, goal, impute, worst) if value is None else value
    if state in TERMINAL_IMPUTED:
        return _impute(run, name, goal, impute, worst)
    if while_running != "false":
        value = best_value(run, name, goal)
        return _impute(run, name, goal, while_running, worst) if value is None else value
    return None


@dataclass
class _Encoded:
    """What one run contributes, kept while the run is unchanged (see ``_encoded``)."""

    run: dict  # held, so that its id() is not reused while the entry lives
    mark: tuple
    x: np.ndarray | None  # None: a run from an older version of the space
    key: tuple | None
    target: float | None  # run_target with worst=None (None: pending or imputed as worst)
    imputes_worst: bool  # the target is the sweep's worst value (known only with every run)
    worst: float | None  # the worst value this run logged


#: space signature -> id(run) -> _Encoded; a few spaces (sweeps) at a time
_ENCODED: dict[str, dict[int, _Encoded]] = {}
_ENCODED_SPACES = 8


def _mark(run: dict, metric: str) -> tuple:
    """Changes whenever what a run contributes may have changed: the store's runs carry a
    version bumped by every write; dicts built in memory change state, history or summary."""
    history = run.get("history")
    summary = run.get("summary")
    return (
        run.get("state"),
        run.get("version"),
        -1 if history is None else len(history),
        summary.get(metric) if summary else None,
        id(run.get("config")),
    )


_WORST = object()  # stands for the sweep's worst value in run_target (known with every run)


def _encode_run(cfg: dict, space: Space, run: dict, x, ok: bool) -> _Encoded:
    name, goal = Metric.of(cfg)[:2]
    flipped = "minimize" if goal == "maximize" else "maximize"
    worst = best_value(run, name, flipped)
    if not ok:
        return _Encoded(run, _mark(run, name), None, None, None, False, worst)
    target = run_target(cfg, run, _WORST)  # type: ignore[arg-type]
    imputes = target is _WORST  # run_target's own rule says whether the worst value is taken
    key = space.key_of_config(run.get("config") or {})
    return _Encoded(run, _mark(run, name), x, key, None if imputes else target, imputes, worst)


def _encoded(cfg: dict, space: Space, runs: list[dict]) -> list[_Encoded]:
    """Every run encoded, re-encoding only the runs that changed since the last call.

    A sweep asks for configs again and again with mostly the same runs (agents hand the
    store's cached dicts): at 10,000 runs encoding them all anew cost more than the model.
    """
    signature = repr((cfg.get("metric"), cfg.get("parameters")))
    cache = _ENCODED.pop(signature, None)
    if cache is None or len(cache) > 4 * len(runs) + 1000:  # old runs gone: start again
        cache = {}
    _ENCODED[signature] = cache  # most recently used last
    while len(_ENCODED) > _ENCODED_SPACES:
        _ENCODED.pop(next(iter(_ENCODED)))
    metric = Metric.of(cfg).name
    out: list[_Encoded | None] = []
    todo = []
    for i, run in enumerate(runs):
        entry = cache.get(id(run))
        if entry is not None and entry.run is run and entry.mark == _mark(run, metric):
            out.append(entry)
        else:
            out.append(None)
            todo.append(i)
    if todo:
        X, ok = space.encode_many([runs[i].get("config") or {} for i in todo])
        for row, i in enumerate(todo):
            entry = _encode_run(cfg, space, runs[i], X[row], bool(ok[row]))
            cache[id(runs[i])] = out[i] = entry
    return out  # type: ignore[return-value]


def observe(cfg: dict, space: Space, runs: list[dict]) -> Observations:
    """Encode every run: observed (x, y to minimise), pending x, and the set of tried configs."""
    goal = Metric.of(cfg)[1]
    sign = -1.0 if goal == "maximize" else 1.0
    entries = _encoded(cfg, space, runs)
    logged = [e.worst for e in entries if e.worst is not None]
    worst = (min(logged) if goal == "maximize" else max(logged)) if logged else None
    X, y, pending, seen = [], [], [], set()
    for entry in entries:
        if entry.x is None:  # a run from an older version of the space: nowhere to place it
            continue
        seen.add(entry.key)
        target = worst if entry.imputes_worst else entry.target
        if target is None:  # running (or imputed as the worst while no run logged a value)
            pending.append(entry.x)
            continue
        X.append(entry.x)
        y.append(sign * target)
    empty = np.zeros((0, space.dim))
    return Observations(
        np.array(X) if X else empty, np.array(y), np.array(pending) if pending else empty, seen
    )


# ---------------------------------------------------------------------------------------------
# fit


@dataclass
class Model:
    """A fitted GP on standardised y (fantasies included) and the incumbent (best y)."""

    gp: GP
    best: float


@np.errstate(over="ignore", invalid="ignore")  # values near the float limits: handled below
def standardise(y: np.ndarray) -> np.ndarray:
    """Targets made comparable: a Yeo-Johnson power transform, unit spread, zero at the upper
    quartile.

    The power transform (exponent fitted by maximum likelihood, capped at 1) tames a heavy tail
    of bad values, such as runs that diverged to huge losses, which a stationary GP would
    otherwise spend its length scales on. y is always minimised here. Zero is the GP's prior
    mean, so it is where the model returns far from every run: at the mean, an unexplored corner
    looked as promising as an average run and expected improvement spent about one run in four
    of a 6-d search on corners (Hartmann-6, runs 10-50); at the upper quartile, about one in 70.
    """
    if len(y) < 2 or np.std(y) <= 1e-9 * max(1.0, float(np.max(np.abs(y)))):
        return np.zeros_like(y)  # nothing to learn from the values (yet)
    # a robust scale first, so that one huge value does not squash all the others together
    q1, median, q3 = np.percentile(y, [25, 50, 75])
    z = (y - median) / (q3 - q1 if q3 - q1 > 1e-12 else np.std(y))
    if len(y) >= 4:
        with np.errstate(all="ignore"):
            warped = _yeo_johnson(z)
        if np.all(np.isfinite(warped)) and np.std(warped) > 1e-12:
            z = warped
    spread = np.std(z)
    if not spread > 0:  # also NaN: values near the float limits overflow the spread
        return np.zeros_like(z)
    return (z - np.percentile(z, PRIOR_MEAN_QUANTILE)) / spread


_LAMBDAS = np.linspace(-2.0, 1.0, 25)  # exponents <= 1: squeeze bad values, never good ones


def _yeo_johnson(z: np.ndarray) -> np.ndarray:
    """Yeo-Johnson transform of z with the maximum-likelihood exponent from a grid <= 1 (on a
    sweep of over 1,000 runs, the exponent of 1,000 evenly spaced order statistics)."""
    sample = z if len(z) <= 1000 else np.sort(z)[np.linspace(0, len(z) - 1, 1000).astype(int)]
    psi = _psi(sample, _LAMBDAS[:, None])  # one row per exponent
    loglik = -0.5 * len(sample) * np.log(np.var(psi, axis=1)) + (_LAMBDAS - 1.0) * np.sum(
        np.sign(sample) * np.log1p(np.abs(sample))
    )
    if not np.any(np.isfinite(loglik)):  # values near the float limits: no exponent fits
        return np.full_like(z, np.nan)  # (the caller then keeps z as it is)
    index = int(np.nanargmax(loglik))
    return psi[index] if sample is z else _psi(z, _LAMBDAS[index : index + 1, None])[0]


def _psi(z: np.ndarray, lam: np.ndarray) -> np.ndarray:
    pos, neg = np.maximum(z, 0.0), np.maximum(-z, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(np.abs(lam) < 1e-9, np.log1p(pos), ((pos + 1.0) ** lam - 1.0) / lam)
    down = ((neg + 1.0) ** (2.0 - lam) - 1.0) / (2.0 - lam)
    return np.where(z >= 0, up, -down)


def best_and_spread(y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``size`` of the targets: the best half of them, the rest at random
    (the model keeps the region that matters and a coarse picture of everywhere else)."""
    if len(y) <= size:
        return np.arange(len(y))
    order = np.argsort(y)
    keep = size // 2
    rest = rng.choice(order[keep:], size=size - keep, replace=False)
    return np.r_[order[:keep], rest]


def fit(obs: Observations, rng: np.random.Generator) -> Model:
    """Fit the GP to the observed runs (at most MAX_MODEL_POINTS of them), then add running
    runs as kriging-believer fantasies."""
    y = standardise(obs.y)
    fit_idx = best_and_spread(y, MAX_FIT_POINTS, rng)
    hypers: Hypers = fit_hypers(obs.X[fit_idx], y[fit_idx])
    # past MAX_MODEL_POINTS runs the GP is conditioned on a subset: its cost is cubic in the
    # points, and at 1,000 runs the full GP took 4/5 of a suggestion (issue 22)
    idx = best_and_spread(y, MAX_MODEL_POINTS, rng)
    gp = GP(obs.X[idx], y[idx], hypers)
    model = Model(gp, float(np.min(y)))
    for x in obs.pending:
        model = believe(model, x)
    return model


def believe(model: Model, x: np.ndarray) -> Model:
    """Kriging believer: the model with ``x`` observed at its predicted mean (a fantasy).

    The incumbent includes fantasies, so a point next to a pending one promises nothing more.
    """
    believed = float(model.gp.predict(x[None, :])[0][0])
    return Model(model.gp.with_point(x, believed), min(model.best, believed))


# ---------------------------------------------------------------------------------------------
# propose

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_ei(mean: np.ndarray, var: np.ndarray, best: float):
    """log expected improvement below ``best`` and its derivatives w.r.t. mean and variance."""
    sd = np.sqrt(var)
    z = (best - mean) / sd
    log_h = np.empty_like(z)
    ratio = np.empty_like(z)  # d log h / dz = Phi(z) / h(z)
    near = z > -6.0
    zn = z[near]
    pdf, cdf = np.exp(-0.5 * zn * zn - _LOG_SQRT_2PI), special.ndtr(zn)
    h = np.maximum(pdf + zn * cdf, 1e-300)
    log_h[near], ratio[near] = np.log(h), cdf / h
    t = -z[~near]  # far tail: Phi(-t) = phi(t) m(t) with the Mills ratio m
    m = math.sqrt(math.pi / 2) * special.erfcx(t / math.sqrt(2))
    tail = np.maximum(1.0 - t * m, 1e-300)
    log_h[~near] = -0.5 * t * t - _LOG_SQRT_2PI + np.log(tail)
    ratio[~near] = m / tail
    value = np.log(sd) + log_h
    d_mean = -ratio / sd
    d_var = (1.0 + ratio * z) / (2.0 * var)
    return value, d_mean, d_var


def acquisition(model: Model, X: np.ndarray) -> np.ndarray:
    """log EI of the rows of X."""
    mean, var = model.gp.predict(X)
    return log_ei(mean, var, model.best)[0]


def _candidates(space: Space, obs: Observations, model: Model, rng, local_only: bool) -> np.ndarray:
    """Points to score: samples of the prior and moves around the best runs (only the moves when
    ``local_only``)."""
    big = len(obs.y) >= BIG
    # drawn even when local_only drops them (0.05 ms): the random stream, and so every figure of
    # bench/RESULTS.md, stays the one measured
    prior = space.sample(N_PRIOR_CANDIDATES[big], rng)
    if len(obs.y) == 0:
        return prior
    m = N_LOCAL_CANDIDATES[big]
    top = obs.X[np.argsort(obs.y)[: min(5, len(obs.y))]]
    centres = top[rng.integers(len(top), size=m)]
    scale = np.minimum(model.gp.h.lengthscales, 1.0)
    step = rng.choice([0.02, 0.08, 0.25], size=(m, 1))
    local = centres + rng.normal(size=centres.shape) * scale * step
    # a centre on a bound: reflect, else half its moves land back on that bound (pinned there)
    on_bound = (centres <= 0.0) | (centres >= 1.0)
    local = np.where(on_bound, 1.0 - np.abs(1.0 - np.abs(local) % 2.0), np.clip(local, 0.0, 1.0))
    for p, s in zip(space.params, space.slices):
        if p.is_categorical:  # keep one-hot; switch category now and then
            flip = rng.random(m) < 0.2
            local[:, s] = centres[:, s]
            new = rng.choice(len(p.values), size=int(flip.sum()), p=p.probabilities)
            local[np.flatnonzero(flip)[:, None], np.arange(s.start, s.stop)[None, :]] = 0.0
            local[np.flatnonzero(flip), s.start + new] = 1.0
    if local_only:
        return space.snap(local)
    return np.vstack([prior, space.snap(local)])


def _refine(space: Space, model: Model, starts: np.ndarray, iterations: int) -> np.ndarray:
    """L-BFGS-B on the continuous columns of each start (the others held), log EI ascent."""
    cols = space.float_columns
    if len(cols) == 0 or len(starts) == 0:
        return starts
    base = starts.copy()

    def negative(flat: np.ndarray):
        X = base.copy()
        X[:, cols] = flat.reshape(len(base), len(cols))
        mean, var, dmean, dvar = model.gp.predict(X, grad=True)
        value, d_mean, d_var = log_ei(mean, var, model.best)
        grad = d_mean[:, None] * dmean + d_var[:, None] * dvar
        return -float(np.sum(value)), -grad[:, cols].ravel()

    res = optimize.minimize(
        negative,
        base[:, cols].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (len(base) * len(cols)),
        options={"maxiter": iterations, "ftol": 1e-6},
    )
    out = base.copy()
    out[:, cols] = res.x.reshape(len(base), len(cols))
    return out


def propose(
    space: Space, obs: Observations, model: Model, seen: set, rng, parallel: bool = False
) -> np.ndarray:
    """The unseen point with the highest expected improvement (a repeat only if none is left).

    ``parallel``: other points are pending (running runs, or earlier points of this batch). The
    search for the best EI then starts only from moves around the best runs, not from samples of
    the prior: with them, an agent asking while others ran often spent its run on a far corner,
    whose uncertainty the fantasies do not reduce, instead of refining the best runs (issue 22:
    bench/parallel_bayes.py, Branin with 8 agents, median regret 6.8e-5 -> 1.7e-5 on tuning seeds
    100-119). When every such move was tried already, the prior samples come back.
    """
    cand = _candidates(space, obs, model, rng, local_only=parallel)
    score = acquisition(model, cand)
    big = len(obs.y) >= BIG
    starts = cand[np.argsort(-score)[: N_REFINE_STARTS[big]]]
    refined = space.snap(_refine(space, model, starts, REFINE_ITERATIONS[big]))
    cand = np.vstack([refined, cand])
    score = np.r_[acquisition(model, refined), score]
    # no exclusion zone around running points: the fantasies already make EI small there,
    # and a zone of even 0.02 length scales kept 8 agents from refining an optimum (issue 22:
    # mixed, q=8, best after 50 runs 1e-5 with it, 5e-8 without)
    for i in np.argsort(-score, kind="stable"):
        if space.key(cand[i]) not in seen:
            return cand[i]
    if parallel:  # every move around the best runs was tried: look everywhere instead
        return propose(space, obs, model, seen, rng)
    unseen = _unseen(space, seen)
    if len(unseen):
        return unseen[int(np.argmax(acquisition(model, unseen)))]
    return cand[int(np.argmax(score))]


def _unseen(space: Space, seen: set) -> np.ndarray:
    """Every untried point of a discrete space of at most MAX_ENUMERATE points (else none)."""
    size = space.size()
    if size is None or size > MAX_ENUMERATE:
        return np.zeros((0, space.dim))
    every = space.enumerate()
    return every[[i for i, x in enumerate(every) if space.key(x) not in seen]]


def initial_runs(space: Space) -> int:
    """How many runs need a value before the model proposes: 2 per searched parameter, 2..10.

    A ``values:`` list of one value is not searched, so it does not count.
    """
    searched = [p for p in space.params if not (p.is_categorical and len(p.values) < 2)]
    return max(2, min(MAX_INITIAL, 2 * len(searched)))


def _random_point(space: Space, seen: set, rng) -> np.ndarray:
    """A random point not tried yet (a repeat only when a small discrete space is exhausted)."""
    cand = space.sample(64, rng)
    for x in cand:
        if space.key(x) not in seen:
            return x
    unseen = _unseen(space, seen)  # unlikely values that 64 draws missed
    if len(unseen):
        return unseen[int(rng.integers(len(unseen)))]
    return cand[0]


# ---------------------------------------------------------------------------------------------
# decode + the method's entry point


def suggest(cfg: dict, runs: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` run configs proposed by GP expected improvement (random for the first ones)."""
    space = Space.of(cfg)
    if space.dim == 0:  # only constants: nothing to search
        return [space.decode(np.zeros(0)) for _ in range(n)]
    # small matrices: BLAS threads only add contention (and jitter) here
    with threadpool_limits(1, user_api="blas"):
        return _suggest(cfg, space, runs, n, rng)


def _suggest(cfg: dict, space: Space, runs: list[dict], n: int, rng) -> list[dict]:
    obs = observe(cfg, space, runs)
    seen = set(obs.seen)
    out = []
    model = fit(obs, rng) if len(obs.y) >= initial_runs(space) else None
    for i in range(n):
        if model is None:
            x = _random_point(space, seen, rng)
        else:
            x = propose(space, obs, model, seen, rng, parallel=len(obs.pending) > 0 or i > 0)
            if i < n - 1:  # the rest of the batch sees this one as done
                model = believe(model, x)
        seen.add(space.key(x))
        out.append(space.decode(x))
    return out
