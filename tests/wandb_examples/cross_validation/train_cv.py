"""W&B's cross-validation sweep (wandb/examples: examples/wandb-sweeps/sweeps-cross-validation).

Each fold trains in its own process with the run's WANDB_* variables removed, so its
`wandb.init` starts a new run, grouped under the sweep run. The sweep run is finished while the
folds train, then resumed by id to log the fold mean, as W&B's example does (W&B's version also
calls its private `wandb.sdk.wandb_setup._setup(_reset=True)` there; sweepnb refuses `wandb.sdk`
by name, so that one line is left out).
"""

import collections
import multiprocessing
import os

import wandb
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

Worker = collections.namedtuple("Worker", ("queue", "process"))
WorkerInitData = collections.namedtuple(
    "WorkerInitData", ("num", "sweep_id", "sweep_run_name", "config")
)
WorkerDoneData = collections.namedtuple("WorkerDoneData", ("val_accuracy"))

NUM_FOLDS = 3


def reset_wandb_env():
    exclude = {
        "WANDB_PROJECT",
        "WANDB_ENTITY",
        "WANDB_API_KEY",
    }
    for key in list(os.environ.keys()):
        if key.startswith("WANDB_") and key not in exclude:
            del os.environ[key]


def train(sweep_q, worker_q):
    reset_wandb_env()
    worker_data = worker_q.get()
    run_name = f"{worker_data.sweep_run_name}-{worker_data.num}"
    config = worker_data.config
    run = wandb.init(
        group=worker_data.sweep_id,
        job_type=worker_data.sweep_run_name,
        name=run_name,
        config=config,
        reinit=True,
    )
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    folds = list(KFold(n_splits=NUM_FOLDS, shuffle=True, random_state=0).split(X))
    train_idx, val_idx = folds[worker_data.num]
    model = LogisticRegression(C=config["C"], max_iter=1000).fit(X[train_idx], y[train_idx])
    val_accuracy = model.score(X[val_idx], y[val_idx])
    run.log({"val_accuracy": val_accuracy})
    run.finish()
    sweep_q.put(WorkerDoneData(val_accuracy=val_accuracy))


def main():
    # Spin up workers before calling wandb.init()
    # Workers will be blocked on a queue waiting to start
    sweep_q = multiprocessing.Queue()
    workers = []
    for num in range(NUM_FOLDS):
        q = multiprocessing.Queue()
        p = multiprocessing.Process(target=train, kwargs={"sweep_q": sweep_q, "worker_q": q})
        p.start()
        workers.append(Worker(queue=q, process=p))

    sweep_run = wandb.init()
    sweep_id = sweep_run.sweep_id or "unknown"
    sweep_url = sweep_run.get_sweep_url()
    project_url = sweep_run.get_project_url()
    sweep_group_url = f"{project_url}/groups/{sweep_id}"
    sweep_run.notes = sweep_group_url
    sweep_run.save()
    sweep_run_name = sweep_run.name or sweep_run.id or "unknown_2"
    sweep_run_id = sweep_run.id
    sweep_run.finish()

    metrics = []
    for num in range(NUM_FOLDS):
        worker = workers[num]
        # start worker
        worker.queue.put(
            WorkerInitData(
                sweep_id=sweep_id,
                num=num,
                sweep_run_name=sweep_run_name,
                config=dict(sweep_run.config),
            )
        )
        # get metric from worker
        result = sweep_q.get()
        # wait for worker to finish
        worker.process.join()
        # log metric to sweep_run
        metrics.append(result.val_accuracy)

    sweep_run = wandb.init(id=sweep_run_id, resume=True)
    sweep_run.log({"val_accuracy": sum(metrics) / len(metrics)})
    wandb.join()
    print("*" * 40)
    print("Sweep URL:       ", sweep_url)
    print("Sweep Group URL: ", sweep_group_url)


if __name__ == "__main__":
    main()
