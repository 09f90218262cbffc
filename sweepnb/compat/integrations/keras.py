"""``wandb.keras`` / ``wandb.integration.keras``: Keras callbacks logging into the active run.

    from wandb.keras import WandbMetricsLogger
    model.fit(x, y, validation_split=0.2, callbacks=[WandbMetricsLogger()])

- ``WandbMetricsLogger(log_freq="epoch")``: per epoch ``epoch/<metric>``, ``epoch/epoch`` and
  ``epoch/learning_rate``; with ``log_freq="batch"`` or N, also ``batch/<metric>`` every N batches.
- ``WandbCallback(monitor="val_loss", ...)`` (W&B's older callback): per epoch the logs plus
  ``epoch``; the summary keeps ``best_<monitor>`` and ``best_epoch``; with ``save_model`` the best
  model is saved beside the store (``<files>/<run id>/model-best.keras``).
- ``WandbModelCheckpoint(filepath, ...)``: Keras' ``ModelCheckpoint`` (files at ``filepath``),
  each saved file also logged as an artifact ``run_<run id>_model`` (aliases ``latest``,
  ``epoch_<n>``), as W&B's.

The classes implement ``keras.callbacks.Callback``. Keras is imported when a class is first used;
without Keras they still work on the same interface (``on_epoch_end(epoch, logs)``...), so code
that only builds them runs.
"""

from __future__ import annotations

from typing import Any

from sweepnb.compat.integrations._common import active_run, number, numbers
from sweepnb.compat.names import notice_once
from sweepnb.errors import SweepnbError

_classes: dict[str, type] = {}
# W&B arguments of WandbCallback whose data has no offline home: accepted, said once
_DROPPED = (
    "log_weights",
    "log_gradients",
    "log_evaluation",
    "training_data",
    "validation_data",
    "generator",
    "compute_flops",
)


def _keras() -> Any:
    try:
        import keras

        return keras
    except ImportError:
        try:
            from tensorflow import keras

            return keras
        except ImportError:
            return None


class _CallbackInterface:
    """Keras' ``Callback`` interface, for when Keras is not installed."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):  # every other hook: nothing to do
            return lambda *args, **kwargs: None
        raise AttributeError(name)


def _learning_rate(model: Any) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "learning_rate", getattr(optimizer, "lr", None))
    if rate is None or callable(rate) and not hasattr(rate, "numpy"):
        return None
    try:
        return number(rate)
    except Exception:  # noqa: BLE001 (a schedule object: no single value to log)
        return None


def _make_classes() -> dict[str, type]:
    keras = _keras()
    base = keras.callbacks.Callback if keras is not None else _CallbackInterface

    class WandbMetricsLogger(base):
        """Logs Keras' metrics per epoch (``epoch/loss``...) and, with ``log_freq``, per batch."""

        def __init__(self, log_freq: Any = "epoch", initial_global_step: int = 0, *args, **kw):
            super().__init__()
            if log_freq == "batch":
                log_freq = 1
            if log_freq != "epoch" and (
                isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1
            ):
                raise ValueError(
                    f"log_freq: expected 'epoch', 'batch' or a positive integer, got {log_freq!r}"
                )
            self.log_freq = log_freq
            self.global_batch = 0
            self.global_step = initial_global_step
            self.run = active_run("WandbMetricsLogger")
            # W&B's step metrics for the two families of keys (issue 24)
            if log_freq != "epoch":
                self.run.define_metric("batch/batch_step")
                self.run.define_metric("batch/*", step_metric="batch/batch_step")
            self.run.define_metric("epoch/epoch")
            self.run.define_metric("epoch/*", step_metric="epoch/epoch")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = numbers(logs or {}, "epoch/")
            row["epoch/epoch"] = epoch
            rate = _learning_rate(self.model)
            if rate is not None:
                row["epoch/learning_rate"] = rate
            self.run.log(row)

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.global_step += 1
            if self.log_freq == "epoch" or batch % self.log_freq:
                return
            row = numbers(logs or {}, "batch/")
            row["batch/batch_step"] = self.global_batch
            rate = _learning_rate(self.model)
            if rate is not None:
                row["batch/learning_rate"] = rate
            self.global_batch += self.log_freq
            self.run.log(row)

    class WandbCallback(base):
        """W&B's older Keras callback: logs each epoch's metrics, keeps the best in the summary."""

        def __init__(
            self,
            monitor: str = "val_loss",
            verbose: int = 0,
            mode: str = "auto",
            save_weights_only: bool = False,
            save_model: bool = True,
            log_batch_frequency: int | None = None,
            log_best_prefix: str = "best_",
            **kwargs: Any,
        ):
            super().__init__()
            if mode not in ("auto", "min", "max"):
                raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
            self.monitor, self.verbose = monitor, verbose
            self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
            self.save_model, self.save_weights_only = save_model, save_weights_only
            self.log_batch_frequency = log_batch_frequency
            self.prefix = log_best_prefix
            self.best: float | None = None
            self.run = active_run("WandbCallback")
            dropped = sorted(k for k in kwargs if k in _DROPPED and kwargs[k] not in (None, False))
            if dropped:
                notice_once(
                    "keras-WandbCallback",
                    f"WandbCallback({', '.join(dropped)}=...): not logged offline — said once",
                )

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = numbers(logs or {})
            row["epoch"] = epoch
            self.run.log(row)
            value = row.get(self.monitor)
            if value is None:
                return
            if self.best is None or (value > self.best if self.maximize else value < self.best):
                self.best = value
                self.run.summary[f"{self.prefix}{self.monitor}"] = value
                self.run.summary["best_epoch"] = epoch
                if self.save_model:
                    self._save_best()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            freq = self.log_batch_frequency
            if freq and batch % freq == 0:
                self.run.log(numbers(logs or {}))

        def _save_best(self) -> None:
            if self.model is None or self.run.store is None or self.run.id is None:
                return
            from sweepnb.store.files import files_dir

            folder = files_dir(self.run.store, create=True) / str(self.run.id)
            folder.mkdir(parents=True, exist_ok=True)
            if self.save_weights_only:
                path = folder / "model-best.weights.h5"
                self.model.save_weights(path)
            else:
                path = folder / "model-best.keras"
                self.model.save(path)
            self.run.summary["best_model_path"] = str(path)

    if keras is not None:

        class WandbModelCheckpoint(keras.callbacks.ModelCheckpoint):
            """Keras' ``ModelCheckpoint`` whose saved files are also logged as artifacts of the
            run (W&B's behaviour, issue 24): ``run_<run id>_model`` of type ``model``, aliases
            ``latest`` and ``epoch_<n>`` (``latest`` alone for a save every N batches). A file
            Keras did not rewrite (``save_best_only`` without a better value) is not logged
            again."""

            def __init__(self, filepath: Any, *args: Any, **kwargs: Any):
                super().__init__(filepath, *args, **kwargs)
                self.run = active_run("WandbModelCheckpoint")
                self._logged: dict[str, int] = {}  # path -> mtime_ns of its last logged version

            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                super().on_train_batch_end(batch, logs)
                if self.save_freq != "epoch":
                    self._log_checkpoint(self._path(None, batch, logs), ["latest"])

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                super().on_epoch_end(epoch, logs)
                if self.save_freq == "epoch":
                    self._log_checkpoint(
                        self._path(epoch, None, logs), ["latest", f"epoch_{epoch}"]
                    )

            def _path(self, epoch: Any, batch: Any, logs: Any) -> str:
                try:  # Keras 3 formats `filepath` ("model-{epoch:02d}.keras") with this
                    return str(self._get_file_path(epoch, batch, logs))
                except Exception:  # noqa: BLE001 (another Keras: the plain path)
                    return str(self.filepath)

            def _log_checkpoint(self, path: str, aliases: list[str]) -> None:
                from pathlib import Path

                from sweepnb.compat.artifacts import Artifact

                file = Path(path)
                if not file.exists() or self.run.state != "running":
                    return
                stamp = file.stat().st_mtime_ns
                if self._logged.get(path) == stamp:
                    return
                self._logged[path] = stamp
                artifact = Artifact(f"run_{self.run.id}_model", type="model")
                if file.is_dir():
                    artifact.add_dir(str(file))
                else:
                    artifact.add_file(str(file))
                self.run.log_artifact(artifact, aliases=aliases)

    else:

        class WandbModelCheckpoint(_CallbackInterface):
            """Keras' ``ModelCheckpoint``: needs Keras."""

            def __init__(self, filepath: Any, *args: Any, **kwargs: Any):
                raise SweepnbError(
                    "WandbModelCheckpoint: needs Keras (it is Keras' ModelCheckpoint); "
                    "pip install keras"
                )

    return {
        "WandbMetricsLogger": WandbMetricsLogger,
        "WandbCallback": WandbCallback,
        "WandbModelCheckpoint": WandbModelCheckpoint,
    }


def __getattr__(name: str) -> Any:
    if name in ("WandbMetricsLogger", "WandbCallback", "WandbModelCheckpoint"):
        if not _classes:
            _classes.update(_make_classes())
        return _classes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # noqa: F822 (the classes are made on first use, by __getattr__)
    "WandbCallback",
    "WandbMetricsLogger",
    "WandbModelCheckpoint",
]
