"""A small Gaussian-process regressor for the bayes search (numpy + scipy, no state).

Matern 5/2 kernel with one length scale per input column (ARD), a signal variance and a white
noise term; hyperparameters are fitted by maximum a-posteriori on the log marginal likelihood
with analytic gradients. Predictions return the mean and variance of the latent function and,
on request, their gradients with respect to the inputs (for optimising the acquisition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

_SQRT5 = np.sqrt(5.0)
#: log-space bounds of the hyperparameters (inputs live in [0, 1], y is standardised)
_LS_BOUNDS = (np.log(0.01), np.log(30.0))
_S2_BOUNDS = (np.log(0.05), np.log(20.0))
_NOISE_BOUNDS = (np.log(1e-6), np.log(0.5))


@dataclass(frozen=True)
class Hypers:
    """Kernel hyperparameters: length scales (one per column), signal variance, noise variance."""

    lengthscales: np.ndarray
    signal: float
    noise: float


def _distances(X1: np.ndarray, X2: np.ndarray, ls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled distances r between rows and exp(-sqrt5 r), through one matrix product."""
    A, B = X1 / ls, X2 / ls
    sq = np.sum(A * A, axis=1)[:, None] + np.sum(B * B, axis=1)[None, :] - 2.0 * A @ B.T
    r = np.sqrt(np.maximum(sq, 0.0))
    return r, np.exp(-_SQRT5 * r)


def kernel(X1: np.ndarray, X2: np.ndarray, h: Hypers) -> np.ndarray:
    """Matern 5/2 ARD covariance between the rows of X1 and X2."""
    r, e = _distances(X1, X2, h.lengthscales)
    return h.signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e


def _inverse(L: np.ndarray) -> np.ndarray:
    """K^-1 from the lower Cholesky factor of K (LAPACK potri, then mirrored)."""
    inv, info = linalg.lapack.dpotri(L, lower=1)
    if info != 0:  # pragma: no cover - L comes from a successful cholesky
        return linalg.cho_solve((L, True), np.eye(len(L)))
    return np.tril(inv) + np.tril(inv, -1).T


def _log_prior(theta: np.ndarray, d: int) -> tuple[float, np.ndarray]:
    """Log prior density of theta = [log ls..., log signal, log noise] and its gradient."""
    mu_ls = np.log(0.2) + 0.5 * np.log(d)  # longer scales in more dimensions
    sd_ls, mu_s2, sd_s2, mu_n, sd_n = 1.0, 0.0, 1.0, np.log(1e-3), 2.0
    centres = np.r_[np.full(d, mu_ls), mu_s2, mu_n]
    sds = np.r_[np.full(d, sd_ls), sd_s2, sd_n]
    z = (theta - centres) / sds
    return float(-0.5 * np.sum(z * z)), -z / sds


def _neg_log_posterior(theta: np.ndarray, X: np.ndarray, y: np.ndarray):
    n, d = X.shape
    ls, s2, noise = np.exp(theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
    r, e = _distances(X, X, ls)
    Kf = s2 * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
    K = Kf + (noise + 1e-8) * np.eye(n)
    try:
        L = linalg.cholesky(K, lower=True)
    except linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = linalg.cho_solve((L, True), y)
    Kinv = _inverse(L)
    nll = 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)
    W = np.outer(alpha, alpha) - Kinv  # d nll / d theta_j = -0.5 tr(W dK_j)
    A = s2 * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e  # dK/dlog ls_k = A * diff_k^2
    M = W * A
    grad = np.empty_like(theta)
    # sum_ij M_ij (x_ik - x_jk)^2 / ls_k^2, M symmetric, without an (n, n, d) array
    Xs = X / ls
    grad[:d] = -(np.sum(Xs * Xs * M.sum(axis=1)[:, None], axis=0) - np.sum(Xs * (M @ Xs), axis=0))
    grad[d] = -0.5 * np.sum(W * Kf)
    grad[d + 1] = -0.5 * noise * np.trace(W)
    lp, dlp = _log_prior(theta, d)
    return nll - lp, grad - dlp


def fit_hypers(X: np.ndarray, y: np.ndarray, starts: list[np.ndarray] | None = None) -> Hypers:
    """MAP hyperparameters for standardised targets ``y`` at inputs ``X`` (rows in [0, 1])."""
    d = X.shape[1]
    bounds = [_LS_BOUNDS] * d + [_S2_BOUNDS, _NOISE_BOUNDS]
    if starts is None:
        starts = [np.r_[np.full(d, np.log(0.2) + 0.5 * np.log(d)), 0.0, np.log(1e-3)]]
    best = None
    for theta0 in starts:
        res = optimize.minimize(
            _neg_log_posterior,
            theta0,
            args=(X, y),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 50, "ftol": 1e-7},
        )
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    return Hypers(np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1])))


class GP:
    """A GP conditioned on (X, y) with fixed hyperparameters; y is in standardised units."""

    def __init__(self, X: np.ndarray, y: np.ndarray, hypers: Hypers):
        self.X, self.y, self.h = X, y, hypers
        jitter = hypers.noise + 1e-8
        for _ in range(6):
            try:
                K = kernel(X, X, hypers) + jitter * np.eye(len(X))
                self.L = linalg.cholesky(K, lower=True)
                break
            except linalg.LinAlgError:
                jitter *= 10.0
        else:  # pragma: no cover - only with pathological inputs
            raise linalg.LinAlgError("GP covariance is not positive definite")
        self.alpha = linalg.cho_solve((self.L, True), y)
        self.Kinv = _inverse(self.L)

    def predict(self, Xs: np.ndarray, grad: bool = False):
        """Posterior mean and variance at the rows of Xs (and their input gradients if asked)."""
        h = self.h
        r, e = _distances(Xs, self.X, h.lengthscales)
        Ks = h.signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
        mean = Ks @ self.alpha
        B = Ks @ self.Kinv
        var = np.maximum(h.signal - np.sum(B * Ks, axis=1), 1e-12)
        if not grad:
            return mean, var
        # d k(x, x_i) / d x = -s2 * 5/3 (1 + sqrt5 r) e^{-sqrt5 r} * (x - x_i) / ls^2
        coef = -h.signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * e
        diff = (Xs[:, None, :] - self.X[None, :, :]) / h.lengthscales**2
        dK = coef[:, :, None] * diff  # (m, n, d), m is small here
        dmean = np.einsum("mnd,n->md", dK, self.alpha)
        dvar = -2.0 * np.einsum("mnd,mn->md", dK, B)
        return mean, var, dmean, dvar

    def with_point(self, x: np.ndarray, y: float) -> GP:
        """The same GP with one more (fantasy) observation, hyperparameters unchanged."""
        return GP(np.vstack([self.X, x[None, :]]), np.r_[self.y, y], self.h)
