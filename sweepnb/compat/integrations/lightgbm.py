"""``wandb.integration.lightgbm``: ``wandb_callback()`` logs each iteration into the run;
``log_summary(booster)`` puts the best iteration, best scores and feature importance in the
summary.

    from wandb.integration.lightgbm import log_summary, wandb_callback
    booster = lightgbm.train(params, train_set, valid_sets=[valid_set],
                             callbacks=[wandb_callback()])   # logs valid_0_binary_logloss, ...
    log_summary(booster)

Each iteration is one history row ``{"<data>_<metric>": value, ..., "iteration": i}`` (W&B's
keys). ``lightgbm`` itself is imported only by ``log_summary``.
"""

from __future__ import annotations

from typing import Any

from sweepnb.compat.integrations._common import active_run, number


def wandb_callback(log_params: bool = True, define_metric: bool = True) -> Any:
    """A LightGBM callback (``callbacks=[wandb_callback()]``) logging every evaluation result.

    ``log_params``: the booster's parameters are added to the run's config (keys the sweep set
    keep their swept values).

    >>> callback = wandb_callback()
    >>> callback.order
    20
    """
    state = {"params_logged": not log_params}

    def _callback(env: Any) -> None:
        run = active_run("wandb_callback")
        if not state["params_logged"]:
            for key, value in (env.params or {}).items():
                run.config.setdefault(key, value)
            state["params_logged"] = True
        row: dict[str, Any] = {}
        for item in env.evaluation_result_list or []:
            data_name, eval_name, result = item[0], item[1], item[2]
            row[f"{data_name}_{eval_name}"] = number(result)
            if len(item) > 4:  # lightgbm.cv: (..., is_higher_better, stdv)
                row[f"{data_name}_{eval_name}-stdv"] = number(item[4])
        row["iteration"] = env.iteration
        run.log(row)

    _callback.order = 20  # after LightGBM's own early stopping (order 30 runs last)
    return _callback


def log_summary(
    model: Any, log_feature_importance: bool = True, save_model_checkpoint: bool = False
) -> None:
    """Put ``model``'s (a ``lightgbm.Booster``) best iteration, best scores and feature
    importance in the active run's summary.

    >>> log_summary(booster)                   # doctest: +SKIP
    """
    import lightgbm

    if not isinstance(model, lightgbm.Booster):
        raise TypeError(
            f"log_summary: model must be a lightgbm.Booster, got {type(model).__name__}"
        )
    run = active_run("log_summary")
    run.summary["best_iteration"] = int(model.best_iteration)
    for data_name, scores in (model.best_score or {}).items():
        for eval_name, value in scores.items():
            run.summary[f"best_{data_name}_{eval_name}"] = number(value)
    if log_feature_importance:
        names = model.feature_name()
        gains = model.feature_importance(importance_type="gain")
        run.summary["feature_importance"] = {n: float(g) for n, g in zip(names, gains)}
    if save_model_checkpoint:
        from sweepnb.compat.names import notice_once

        notice_once(
            "lightgbm-checkpoint",
            "log_summary(save_model_checkpoint=True): the model is not saved offline; save it "
            "with booster.save_model(path) and log it as an Artifact — said once",
        )


__all__ = ["log_summary", "wandb_callback"]
