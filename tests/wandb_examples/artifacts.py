"""One run trains a model and logs it as an artifact; the next run uses `model:latest`."""

import os
import pickle

import wandb
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

X, y = load_breast_cancer(return_X_y=True)


def train():
    with wandb.init(project="artifacts-demo", job_type="train") as run:
        model = LogisticRegression(max_iter=5000).fit(X, y)
        with open("model.pkl", "wb") as f:
            pickle.dump(model, f)
        artifact = wandb.Artifact("model", type="model", metadata={"C": model.C})
        artifact.add_file("model.pkl")
        run.log_artifact(artifact)
        run.log({"train_accuracy": model.score(X, y)})


def evaluate():
    with wandb.init(project="artifacts-demo", job_type="evaluate") as run:
        artifact = run.use_artifact("model:latest")
        model_dir = artifact.download()
        with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
            model = pickle.load(f)
        run.log({"accuracy": model.score(X, y)})
        print(f"USED={artifact.version} DIR={model_dir}")


if __name__ == "__main__":
    train()
    evaluate()
