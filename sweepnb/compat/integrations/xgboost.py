"""``wandb.integration.xgboost``: the XGBoost callback, logging each iteration into the run.

    from wandb.integration.xgboost import WandbCallback
    xgboost.train(params, dtrain, evals=[(dvalid, "validation")],
                  callbacks=[WandbCallback()])     # logs validation-logloss, ... per iteration
    XGBClassifier(callbacks=[WandbCallback()]).fit(X, y, eval_set=[(Xv, yv)])
                                                   # logs validation_0-logloss, ...

Each iteration is one history row: ``{"<data>-<metric>": last value, ..., "epoch": iteration}``
(W&B's keys). After training the summary gets ``best_score``/``best_iteration`` (with early
stopping) and ``feature_importance`` ({feature: score}). ``xgboost`` is imported when the
callback class is first used.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sweepnb.compat.integrations._common import active_run, number

_classes: dict[str, type] = {}


def _make_callback_class() -> type:
    try:
        from xgboost.callback import TrainingCallback
    except ImportError as err:
        raise ImportError(
            "wandb.integration.xgboost.WandbCallback needs xgboost (pip install xgboost)"
        ) from err

    class WandbCallback(TrainingCallback):
        """XGBoost ``TrainingCallback`` that logs every evaluation metric at every iteration.

        W&B's arguments are accepted: ``log_model`` (offline: the model is not saved, said once),
        ``log_feature_importance``, ``importance_type``, ``define_metric``.
        """

        def __init__(
            self,
            log_model: bool = False,
            log_feature_importance: bool = True,
            importance_type: str = "gain",
            define_metric: bool = True,
        ):
            super().__init__()
            self.log_model = log_model
            self.log_feature_importance = log_feature_importance
            self.importance_type = importance_type
            self.define_metric = define_metric
            self.run = None

        def before_training(self, model: Any) -> Any:
            self.run = active_run("WandbCallback")
            with contextlib.suppress(Exception):  # a courtesy: never fail training for it
                self.run.config.setdefault("xgboost_params", _params(model))
            return model

        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            run = self.run or active_run("WandbCallback")
            row: dict[str, Any] = {}
            for data, metrics in evals_log.items():
                for name, values in metrics.items():
                    value = values[-1]
                    if isinstance(value, tuple):  # xgboost.cv: (mean, std)
                        value = value[0]
                    row[f"{data}-{name}"] = number(value)
            row["epoch"] = epoch
            run.log(row)
            return False  # False: go on training

        def after_training(self, model: Any) -> Any:
            run = self.run or active_run("WandbCallback")
            for key in ("best_score", "best_iteration"):
                value = model.attr(key) if hasattr(model, "attr") else None
                if value is not None:
                    run.summary[key] = float(value) if key == "best_score" else int(value)
            if self.log_feature_importance and hasattr(model, "get_score"):
                scores = model.get_score(importance_type=self.importance_type)
                run.summary["feature_importance"] = {k: float(v) for k, v in scores.items()}
            if self.log_model:
                from sweepnb.compat.names import notice_once

                notice_once(
                    "xgboost-log_model",
                    "WandbCallback(log_model=True): the model is not saved offline; save it "
                    "with model.save_model(path) and log it as an Artifact — said once",
                )
            return model

    return WandbCallback


def _params(model: Any) -> dict:
    import json

    config = json.loads(model.save_config())
    return config.get("learner", {}).get("gradient_booster", {}).get("tree_train_param", {})


def wandb_callback() -> Any:
    """W&B's older function form: a :class:`WandbCallback` for ``xgboost.train(callbacks=...)``."""
    return __getattr__("WandbCallback")()


def __getattr__(name: str) -> Any:
    if name == "WandbCallback":
        if name not in _classes:
            _classes[name] = _make_callback_class()
        return _classes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # noqa: F822 (the classes are made on first use, by __getattr__)
    "WandbCallback",
    "wandb_callback",
]
