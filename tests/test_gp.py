"""The Gaussian process under the bayes search, checked against finite differences and sklearn.

gp.py does not centre or scale y (bayes.py standardises it first), so its prior mean is zero and
the sklearn reference uses ``normalize_y=False``. Its noise enters only the training covariance
(as ``noise + 1e-8`` on the diagonal) and ``predict`` returns the latent variance, which is
sklearn's ``alpha`` argument rather than a WhiteKernel (whose noise would show up in the
predicted variance too).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

from sweepnb.engine.search.gp import GP, Hypers, _log_prior, _neg_log_posterior, fit_hypers

#: the jitter gp.py adds to the noise variance on the training diagonal
JITTER = 1e-8


def data(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in the unit cube (as the bayes search gives them) and standardised targets."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(6 * X).sum(axis=1) + 0.1 * rng.standard_normal(n)
    return X, (y - y.mean()) / y.std()


def theta_of(h: Hypers) -> np.ndarray:
    return np.r_[np.log(h.lengthscales), np.log(h.signal), np.log(h.noise)]


def reference(X: np.ndarray, y: np.ndarray, h: Hypers) -> GaussianProcessRegressor:
    """sklearn's GP with gp.py's kernel at fixed hyperparameters."""
    kern = ConstantKernel(h.signal, "fixed") * Matern(h.lengthscales, "fixed", nu=2.5)
    return GaussianProcessRegressor(
        kern, alpha=h.noise + JITTER, optimizer=None, normalize_y=False
    ).fit(X, y)


def central_gradient(f, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central differences: scipy's forward ``approx_fprime`` carries an O(step) error that
    reaches 1e-4 of a small gradient, central ones an O(step^2) error."""
    eye = np.eye(len(x)) * step
    return np.array([(f(x + e) - f(x - e)) / (2 * step) for e in eye])


def relative_gradient_error(f, grad, x: np.ndarray) -> float:
    numeric = central_gradient(f, x)
    return float(np.linalg.norm(grad(x) - numeric) / max(np.linalg.norm(numeric), 1e-8))


GRADIENT_CASES = [
    # (seed, n, d, log noise): 1-D and multi-D inputs, noise from almost none to large
    (0, 8, 1, np.log(1e-4)),
    (1, 15, 1, np.log(1e-2)),
    (2, 12, 2, np.log(1e-3)),
    (3, 20, 3, np.log(0.1)),
    (4, 25, 5, np.log(0.3)),
]
CASE_IDS = [f"n{n}-d{d}-noise{np.exp(ln):.0e}" for _, n, d, ln in GRADIENT_CASES]


@pytest.mark.parametrize("seed,n,d,log_noise", GRADIENT_CASES, ids=CASE_IDS)
def test_log_posterior_gradient_matches_finite_differences(seed, n, d, log_noise):
    X, y = data(seed, n, d)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        theta = np.r_[rng.uniform(np.log(0.05), np.log(2.0), d), rng.uniform(-1.0, 1.0), log_noise]

        def f(t):
            return _neg_log_posterior(t, X, y)[0]

        def g(t):
            return _neg_log_posterior(t, X, y)[1]

        assert relative_gradient_error(f, g, theta) < 1e-6


@pytest.mark.parametrize("seed,n,d,log_noise", GRADIENT_CASES, ids=CASE_IDS)
def test_log_marginal_likelihood_equals_sklearns(seed, n, d, log_noise):
    X, y = data(seed, n, d)
    rng = np.random.default_rng(200 + seed)
    h = Hypers(rng.uniform(0.05, 2.0, d), float(rng.uniform(0.5, 2.0)), float(np.exp(log_noise)))
    nlp = _neg_log_posterior(theta_of(h), X, y)[0]
    log_prior = _log_prior(theta_of(h), d)[0]
    assert -nlp - log_prior == pytest.approx(reference(X, y, h).log_marginal_likelihood(), rel=1e-6)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_posterior_mean_and_variance_equal_sklearns(d):
    X, y = data(d, 12 + 4 * d, d)
    h = Hypers(np.linspace(0.15, 0.8, d), 1.3, 1e-3)
    Xs = np.random.default_rng(7).random((40, d))
    mean, var = GP(X, y, h).predict(Xs)
    ref_mean, ref_std = reference(X, y, h).predict(Xs, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(var, ref_std**2, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("d", [1, 3])
def test_prediction_input_gradients_match_finite_differences(d):
    X, y = data(10 + d, 15, d)
    gp = GP(X, y, Hypers(np.full(d, 0.3), 1.0, 1e-3))
    for x in np.random.default_rng(d).random((5, d)):
        dmean, dvar = gp.predict(x[None, :], grad=True)[2:]
        for i, dfun in ((0, dmean), (1, dvar)):

            def f(z, i=i):
                return gp.predict(z[None, :])[i][0]

            def g(z, dfun=dfun):
                return dfun[0]

            assert relative_gradient_error(f, g, x) < 1e-4


def test_posterior_variance_at_a_training_point_is_below_twice_the_noise():
    X, y = data(0, 10, 2)
    h = Hypers(np.array([0.3, 0.3]), 1.0, 1e-4)
    var = GP(X, y, h).predict(X)[1]
    assert np.all(var < 2e-4)


def test_fit_improves_the_log_posterior_from_its_start():
    X, y = data(5, 30, 2)
    start = np.r_[np.full(2, np.log(0.2) + 0.5 * np.log(2)), 0.0, np.log(1e-3)]
    fitted = theta_of(fit_hypers(X, y))
    before = _neg_log_posterior(start, X, y)[0]
    after = _neg_log_posterior(fitted, X, y)[0]
    assert after < before - 1.0


def draw_from_matern(seed: int, n: int, lengthscale: float) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D sample path of a unit-variance Matern 5/2 GP with a known length scale."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 1))
    K = Matern(lengthscale, nu=2.5)(X) + 1e-6 * np.eye(n)
    y = np.linalg.cholesky(K) @ rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("true_ls", [0.1, 0.3])
def test_fit_recovers_a_known_length_scale_roughly(true_ls):
    # a few sample paths pin the length scale down only loosely (the five fits spread about
    # +-20%); a factor 1.5 is still much sharper than the prior (sd 1 in log space)
    estimates = [
        fit_hypers(*draw_from_matern(seed, 80, true_ls)).lengthscales[0] for seed in range(5)
    ]
    assert true_ls / 1.5 < np.median(estimates) < true_ls * 1.5


def test_fit_tells_a_relevant_column_from_an_irrelevant_one():
    rng = np.random.default_rng(3)
    X = rng.random((40, 2))
    y = np.sin(8 * X[:, 0])
    ls = fit_hypers(X, (y - y.mean()) / y.std()).lengthscales
    assert ls[1] > 3 * ls[0]


def test_duplicate_inputs_are_fitted_and_predicted():
    X, y = data(6, 10, 2)
    X, y = np.vstack([X, X[:4]]), np.r_[y, y[:4] + 0.05]  # re-runs of four configs
    h = fit_hypers(X, y)
    mean, var = GP(X, y, h).predict(X)
    assert np.all(np.isfinite(mean)) and np.all(var > 0)
    # the two observations of a config pull the mean to between them
    np.testing.assert_allclose(mean[:4], y[:4] + 0.025, atol=0.2)


def test_duplicate_inputs_with_tiny_noise_still_factorise():
    X = np.array([[0.2], [0.2], [0.7]])
    gp = GP(X, np.array([1.0, -1.0, 0.0]), Hypers(np.array([0.3]), 1.0, 1e-12))
    mean, var = gp.predict(np.array([[0.2], [0.5]]))
    assert np.all(np.isfinite(mean)) and np.all(var > 0)


def test_a_single_point_is_fitted_and_predicted():
    X, y = np.array([[0.4, 0.6]]), np.array([0.0])
    h = fit_hypers(X, y)
    mean, var = GP(X, y, h).predict(np.array([[0.4, 0.6], [0.9, 0.1]]))
    assert np.all(np.isfinite(h.lengthscales))
    assert mean == pytest.approx([0.0, 0.0])
    assert var[0] < var[1] <= h.signal


def test_constant_targets_give_a_flat_mean():
    X = np.random.default_rng(8).random((12, 3))
    y = np.zeros(12)  # what bayes.py's standardisation leaves of an all-equal metric
    h = fit_hypers(X, y)
    mean, var = GP(X, y, h).predict(np.random.default_rng(9).random((20, 3)))
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)
    assert np.all(np.isfinite(var)) and np.all(var > 0)


def test_with_point_equals_conditioning_on_the_extra_observation():
    X, y = data(11, 10, 2)
    h = Hypers(np.array([0.3, 0.5]), 1.0, 1e-3)
    x_new = np.array([0.5, 0.5])
    Xs = np.random.default_rng(12).random((6, 2))
    fantasy = GP(X, y, h).with_point(x_new, 0.7).predict(Xs)
    direct = GP(np.vstack([X, x_new]), np.r_[y, 0.7], h).predict(Xs)
    np.testing.assert_allclose(fantasy, direct)
