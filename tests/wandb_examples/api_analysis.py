"""After a sweep: read its results back with the public API, as W&B's analysis notebooks do."""

import json

import wandb
from sklearn.datasets import make_classification
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

ENTITY, PROJECT = "me", "api-demo"

sweep_config = {
    "method": "grid",
    "metric": {"name": "accuracy", "goal": "maximize"},
    "parameters": {"max_depth": {"values": [1, 3, 6]}},
}


def train():
    with wandb.init() as run:
        X, y = make_classification(n_samples=300, n_informative=6, random_state=0)
        model = DecisionTreeClassifier(max_depth=run.config.max_depth, random_state=0)
        for fold, score in enumerate(cross_val_score(model, X, y, cv=3)):
            run.log({"fold": fold, "fold_accuracy": score})
        run.log({"accuracy": cross_val_score(model, X, y, cv=3).mean()})


sweep_id = wandb.sweep(sweep=sweep_config, entity=ENTITY, project=PROJECT)
wandb.agent(sweep_id, function=train, entity=ENTITY, project=PROJECT)

api = wandb.Api()
sweep = api.sweep(f"{ENTITY}/{PROJECT}/{sweep_id}")
best = sweep.best_run()
rows = []
for run in sweep.runs:
    history = run.history()
    rows.append(
        {
            "id": run.id,
            "state": run.state,
            "max_depth": run.config["max_depth"],
            "accuracy": run.summary["accuracy"],
            "history_rows": len(history),
            "mean_fold_accuracy": float(history["fold_accuracy"].mean()),
        }
    )
print(json.dumps({"sweep_id": sweep_id, "best": best.id, "best_config": best.config, "runs": rows}))
