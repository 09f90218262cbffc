"""What early termination saves: the same sweep with and without hyperband (issue 6).

A scikit-learn classifier on ``load_digits`` trained epoch by epoch with ``partial_fit``, logging
validation accuracy per epoch. The sweep runs twice on a fresh SQLite store, same seed, same
number of runs: once as is, once with ``early_terminate: {type: hyperband, min_iter: 3}``.
Printed for each: epochs run, wall time, runs stopped, best validation accuracy; then the
epochs saved (%). With random search both sweeps try the very same configs.

    python bench/early_stopping.py                          # SGD, random, 30 runs x 27 epochs
    python bench/early_stopping.py --method bayes --model mlp --runs 20
"""

from __future__ import annotations

import argparse
import copy
import functools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's sweepnb

import sweepnb
from sweepnb.demo import DEMO_CONFIG
from sweepnb.engine.metric import best_value, history_values
from sweepnb.store import Store

METRIC = "val_accuracy"
HYPERBAND = {"type": "hyperband", "min_iter": 3, "eta": 3}
MLP_PARAMETERS = {
    "alpha": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-1},
    "learning_rate_init": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "hidden": {"values": [16, 32, 64, 128]},
    "batch_size": {"values": [32, 128, 512]},
}


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """load_digits split 70/30 and standardised (the same split as ``sweepnb.demo``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_val), y_train, y_val


def make_model(name: str, cfg: sweepnb.runtime.run.Config):
    """The classifier a run trains: ``sgd`` (the demo's) or ``mlp``."""
    if name == "sgd":
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(
            loss=cfg.loss,
            alpha=cfg.alpha,
            eta0=cfg.eta0,
            learning_rate=cfg.learning_rate,
            random_state=0,
        )
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(cfg.hidden,),
        alpha=cfg.alpha,
        learning_rate_init=cfg.learning_rate_init,
        batch_size=cfg.batch_size,
        random_state=0,
    )


def train(config: sweepnb.runtime.run.Config, model: str = "sgd") -> None:
    """One run: ``config.epochs`` epochs of ``partial_fit``, validation accuracy after each."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    x_train, x_val, y_train, y_val = digits()
    clf = make_model(model, config)
    classes = np.unique(y_train)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(config.epochs):
            order = rng.permutation(len(x_train))
            clf.partial_fit(x_train[order], y_train[order], classes=classes)
            sweepnb.log({"epoch": epoch + 1, METRIC: clf.score(x_val, y_val)})


def sweep_config(
    model: str, method: str, runs: int, epochs: int, seed: int, early_terminate: bool
) -> dict:
    """The demo's sweep (``sweepnb.demo.DEMO_CONFIG``), sized for the benchmark."""
    cfg = copy.deepcopy(DEMO_CONFIG)
    cfg.pop("early_terminate")
    if model == "mlp":
        cfg["parameters"] = copy.deepcopy(MLP_PARAMETERS)
    cfg["parameters"]["epochs"] = {"value": epochs}
    cfg.update(method=method, run_cap=runs, seed=seed, name=f"digits-{model}-{method}")
    if early_terminate:
        cfg["early_terminate"] = dict(HYPERBAND)
    return cfg


@dataclass
class Outcome:
    """One sweep's cost and result."""

    label: str
    epochs: int
    wall: float
    stopped: int
    best: float
    best_config: dict


def run_sweep(store: Store, cfg: dict, model: str, label: str) -> Outcome:
    sweep_id = sweepnb.sweep(cfg, store=store)
    start = time.perf_counter()
    sweepnb.agent(sweep_id, functools.partial(train, model=model), store=store, quiet=True)
    wall = time.perf_counter() - start
    runs = store.get_runs(sweep_id)
    bests = [(best_value(run, METRIC, "maximize") or 0.0, run) for run in runs]
    best, best_run = max(bests, key=lambda pair: pair[0])
    return Outcome(
        label,
        sum(len(history_values(r, METRIC)) for r in runs),
        wall,
        sum(r["state"] == "stopped" for r in runs),
        best,
        best_run["config"],
    )


def report(full: Outcome, early: Outcome, title: str) -> str:
    saved = 100.0 * (full.epochs - early.epochs) / full.epochs if full.epochs else 0.0
    faster = 100.0 * (full.wall - early.wall) / full.wall if full.wall else 0.0
    lines = [title, f"{'':24}{'epochs':>8}{'wall s':>9}{'stopped':>9}{'best val acc':>14}"]
    for o in (full, early):
        lines.append(f"{o.label:24}{o.epochs:8d}{o.wall:9.2f}{o.stopped:9d}{o.best:14.4f}")
    lines.append(
        f"epochs saved: {saved:.1f} %, wall time saved: {faster:.1f} %, "
        f"best accuracy {'kept' if early.best >= full.best else 'lower'} "
        f"({early.best - full.best:+.4f}); same best config: "
        f"{early.best_config == full.best_config}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["sgd", "mlp"], default="sgd")
    parser.add_argument("--method", choices=["random", "bayes"], default="random")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", help="store URL (default: a new SQLite file in a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.store or str(Path(tmp) / "bench.db"))
        outcomes = [
            run_sweep(
                store,
                sweep_config(
                    args.model, args.method, args.runs, args.epochs, args.seed, early_terminate=et
                ),
                args.model,
                label,
            )
            for et, label in ((False, "run to the end"), (True, "hyperband min_iter 3"))
        ]
        store.close()
    title = (
        f"digits, {args.model.upper()} partial_fit, {args.method} search, "
        f"{args.runs} runs x {args.epochs} epochs, seed {args.seed}"
    )
    text = report(*outcomes, title)
    print(text)
    return text


if __name__ == "__main__":
    main()
