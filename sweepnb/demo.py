"""The demo sweep: an SGDClassifier on scikit-learn's digits, trained epoch by epoch.

``sweepnb demo`` (or ``python -m sweepnb demo``) creates this sweep on the embedded SQLite store,
runs it with two parallel agents and prints the best runs. Bayes search over four parameters, with
hyperband ending the runs that fall behind (validation accuracy logged once per epoch).
No download: the data set ships with scikit-learn.
"""

from __future__ import annotations

DEMO_CONFIG = {
    "name": "digits-sgd",
    "method": "bayes",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "run_cap": 24,
    "seed": 0,
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "parameters": {
        "alpha": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-1},
        "eta0": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        "learning_rate": {"values": ["constant", "invscaling", "adaptive"]},
        "loss": {"values": ["hinge", "log_loss", "modified_huber"]},
        "epochs": {"value": 27},
    },
}


def train(config=None) -> None:
    """One run: fit an SGDClassifier with ``partial_fit``, logging validation accuracy per epoch."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    import sweepnb

    with sweepnb.init(config=config) as run:
        cfg = run.config
        x, y = load_digits(return_X_y=True)
        x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
        scaler = StandardScaler().fit(x_train)
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
        model = SGDClassifier(
            loss=cfg.loss,
            alpha=cfg.alpha,
            eta0=cfg.eta0,
            learning_rate=cfg.learning_rate,
            random_state=0,
        )
        classes = np.unique(y)
        rng = np.random.default_rng(0)
        for epoch in range(cfg.epochs):
            order = rng.permutation(len(x_train))
            model.partial_fit(x_train[order], y_train[order], classes=classes)
            sweepnb.log({"epoch": epoch + 1, "val_accuracy": model.score(x_val, y_val)})


def main(count: int | None = None, n_jobs: int = 2, store: str | None = None) -> str:
    """Create the demo sweep, run it, print the best runs; return the sweep id."""
    import sweepnb

    sweep_id = sweepnb.sweep(DEMO_CONFIG, project="demo", store=store)
    print(f"demo sweep {sweep_id}: {DEMO_CONFIG['run_cap']} runs, {n_jobs} parallel agents")
    sweepnb.agent(sweep_id, train, count=count, n_jobs=n_jobs, store=store)
    df = sweepnb.runs(sweep_id, store=store)
    columns = [
        c
        for c in ["id", "state", "val_accuracy", "alpha", "eta0", "learning_rate", "loss"]
        if c in df.columns
    ]
    print(df.sort_values("val_accuracy", ascending=False)[columns].head(10).to_string(index=False))
    print(f"\nsee every run: sweepnb show {sweep_id}")
    return sweep_id
