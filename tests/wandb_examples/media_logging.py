"""Tables, images, histograms and custom charts logged from one run."""

import numpy as np
import wandb
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)

run = wandb.init(project="media-demo", config={"C": 0.1})
model = LogisticRegression(C=run.config.C, max_iter=1000).fit(X_train, y_train)
preds = model.predict(X_test)
probas = model.predict_proba(X_test)

# a table of predictions, with the digit images inside
table = wandb.Table(columns=["image", "label", "prediction"])
for img, label, pred in zip(X_test[:8], y_test[:8], preds[:8]):
    table.add_data(wandb.Image(img.reshape(8, 8) * 255, caption=str(label)), int(label), int(pred))

images = [wandb.Image(img.reshape(8, 8) * 255, caption=f"digit {label}") for img, label in
          zip(X_test[:4], y_test[:4])]  # fmt: skip

loss_curve = [[i, 1.0 / (i + 1)] for i in range(10)]
curve = wandb.Table(data=loss_curve, columns=["step", "loss"])

wandb.log(
    {
        "predictions": table,
        "examples": images,
        "coefficients": wandb.Histogram(model.coef_.ravel()),
        "loss_curve": wandb.plot.line(curve, "step", "loss", title="Loss"),
        "conf_mat": wandb.plot.confusion_matrix(
            y_true=y_test.tolist(), preds=preds.tolist(), class_names=[str(c) for c in range(10)]
        ),
        "roc": wandb.plot.roc_curve(y_test, probas),
        "accuracy": float(np.mean(preds == y_test)),
    }
)
print(f"RUN_ID={run.id}")
run.finish()
