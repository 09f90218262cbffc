"""The demo sweep: an SGDClassifier on scikit-learn's digits, trained epoch by epoch.

``sweepnb demo`` (or ``python -m sweepnb demo``) creates this sweep on the embedded SQLite store,
runs it with two parallel agents and prints the best runs. Bayes search over four parameters, with
hyperband ending the runs that fall behind (validation accuracy logged once per epoch).
No download: the data set ships with scikit-learn.
"""

from __future__ import annotations

import contextlib
import threading

DEMO_CONFIG = {
    "name": "digits-sgd",
    "method": "bayes",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "run_cap": 24,
    "seed": 0,
    # bands at epochs 3 and 9 (27 / 3**2, 27 / 3): no run is judged at its last epoch
    "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3},
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


@contextlib.contextmanager
def _progress_bar(store, sweep_id: str, total: int):
    """One progress bar for all the agents (each process would draw its own): the parent polls
    the store for ended runs and the best value."""
    from tqdm import tqdm

    from sweepnb.engine.metric import Metric, best_run

    metric = Metric.of(DEMO_CONFIG)
    halt = threading.Event()

    def update(bar) -> None:
        runs = store.get_runs(sweep_id)
        bar.n = sum(r["state"] != "running" for r in runs)
        best = best_run(metric, runs)
        if best is not None:
            bar.set_postfix_str(f"best {metric.name} {best[1]:.4g}", refresh=False)
        bar.refresh()

    def watch(bar) -> None:
        while not halt.wait(0.5):
            update(bar)

    with tqdm(total=total, unit="run", desc="demo", dynamic_ncols=True) as bar:
        thread = threading.Thread(target=watch, args=(bar,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            halt.set()
            thread.join()
            update(bar)


def main(count: int | None = None, n_jobs: int = 2, store: str | None = None) -> str:
    """Create the demo sweep, run it with a progress bar, print the best runs and where they are;
    return the sweep id."""
    import sweepnb
    from sweepnb.store import open_store

    sweep_id = sweepnb.sweep(DEMO_CONFIG, project="demo", store=store)
    where = open_store(store).display_url.removeprefix("sqlite:///")
    print(f"demo sweep {sweep_id}: {DEMO_CONFIG['run_cap']} runs, {n_jobs} parallel agents")
    with _progress_bar(open_store(store), sweep_id, count or DEMO_CONFIG["run_cap"]):
        sweepnb.agent(
            sweep_id, train, count=count, n_jobs=n_jobs, store=store, quiet=True, progress=False
        )
    df = sweepnb.runs(sweep_id, store=store)
    columns = [
        c
        for c in ["id", "state", "val_accuracy", "alpha", "eta0", "learning_rate", "loss"]
        if c in df.columns
    ]
    top = df.sort_values("val_accuracy", ascending=False)[columns].head(5)
    counts = ", ".join(f"{n} {state}" for state, n in df["state"].value_counts().items())
    epochs = DEMO_CONFIG["parameters"]["epochs"]["value"]
    trained = int(df["epoch"].fillna(0).sum()) if "epoch" in df.columns else 0
    print(
        f"\n{len(df)} runs ({counts}); {trained} epochs trained of {len(df) * epochs}:\n"
        f"hyperband stopped the runs outside the best third at epoch 3 or 9 of {epochs}. "
        "The best 5:"
    )
    print(top.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(
        f"\nresults are in {where}\n"
        f"  sweepnb show {sweep_id}          every run, and why each stopped run ended\n"
        f"  in a notebook (in this folder): %load_ext sweepnb, then "
        f"sweepnb.dashboard({sweep_id!r})"
    )
    return sweep_id
