"""``wandb.watch`` / ``wandb.unwatch`` for PyTorch models: gradients and parameters as histograms.

W&B documents ``watch(models, criterion=None, log="gradients", log_freq=1000, idx=None,
log_graph=False)``: hooks on the model log, every ``log_freq`` batches, a histogram of each
parameter (``parameters/<name>``, with ``log="parameters"`` or ``"all"``) and of each gradient
(``gradients/<name>``, with ``"gradients"`` or ``"all"``). Here the histograms are
``wandb.Histogram`` values joined to the run's next history row (``log(..., commit=False)``), so
they are stored like any logged histogram (JSON files beside the store, referenced from the row).
The model graph (``log_graph``) is not drawn offline (said once).

    import torch, wandb
    run = wandb.init()
    model = torch.nn.Linear(3, 1)
    wandb.watch(model, log="all", log_freq=1)
    model(torch.ones(2, 3)).sum().backward()
    wandb.log({"loss": 0.1})        # the row also holds parameters/weight, gradients/weight...
"""

from __future__ import annotations

import threading
from typing import Any

from sweepnb.compat.names import notice_once
from sweepnb.errors import SweepnbError

LOG_CHOICES = ("gradients", "parameters", "all", None)
NUM_BINS = 64  # W&B's histograms of watched tensors have 64 bins

_lock = threading.Lock()
_watched: dict[int, list[Any]] = {}  # id(model) -> hook handles


def watch(
    models: Any,
    criterion: Any = None,
    log: str | None = "gradients",
    log_freq: int = 1000,
    idx: int | None = None,
    log_graph: bool = False,
    *,
    run: Any = None,
) -> list:
    """Hook ``models`` (a ``torch.nn.Module`` or a list of them) into ``run`` (default: the active
    run): every ``log_freq`` forward passes its parameters, every ``log_freq`` backward passes its
    gradients, as histograms in the next history row. Returns ``[]`` (W&B: its graphs)."""
    if log not in LOG_CHOICES:
        raise ValueError(f"watch(log={log!r}): expected 'gradients', 'parameters', 'all' or None")
    if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1:
        raise ValueError(f"watch(log_freq={log_freq!r}): expected a positive integer")
    if run is None:
        from sweepnb.runtime.run import current

        run = current()
        if run is None:
            raise SweepnbError("wandb.watch(): no active run; call wandb.init() first")
    try:
        import torch
    except ImportError:
        raise SweepnbError("wandb.watch(): needs PyTorch (pip install torch)") from None
    many = isinstance(models, (list, tuple))
    for i, model in enumerate(models if many else [models]):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"wandb.watch(): expected a torch.nn.Module, got {type(model).__name__}"
            )
        prefix = f"{i if idx is None else idx + i}." if many else ""
        _hook(model, run, log, log_freq, prefix)
    if log_graph:
        notice_once("watch-graph", "wandb.watch(log_graph=True): the model graph is not drawn "
                    "offline — said once")  # fmt: skip
    return []


def _hook(model: Any, run: Any, log: str | None, log_freq: int, prefix: str) -> None:
    """Parameters are counted by the model's forward passes, as W&B's; a model whose own
    ``forward`` is never called (a LightningModule whose ``training_step`` calls its layers)
    is counted by its backward passes instead, so its parameters are logged all the same."""
    unwatch(model)
    handles: list[Any] = []
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    state = {"forwards": 0, "backwards": 0}

    def log_parameters() -> None:
        _add(run, {
            f"parameters/{prefix}{name}": p.detach() for name, p in model.named_parameters()
        })  # fmt: skip

    if log in ("parameters", "all"):

        def on_forward(module: Any, inputs: Any, output: Any) -> None:
            state["forwards"] += 1
            if state["forwards"] % log_freq == 0:
                log_parameters()

        handles.append(model.register_forward_hook(on_forward))
        if trainable:

            def on_backward(grad: Any) -> None:
                state["backwards"] += 1
                if not state["forwards"] and state["backwards"] % log_freq == 0:
                    log_parameters()

            handles.append(trainable[0][1].register_hook(on_backward))
    if log in ("gradients", "all"):
        for name, parameter in trainable:
            handles.append(parameter.register_hook(_gradient_hook(run, prefix + name, log_freq)))
    with _lock:
        _watched[id(model)] = handles


def _gradient_hook(run: Any, name: str, log_freq: int) -> Any:
    calls = [0]

    def log_gradient(grad: Any) -> None:
        calls[0] += 1
        if calls[0] % log_freq == 0:
            _add(run, {f"gradients/{name}": grad.detach()})

    return log_gradient


def _add(run: Any, tensors: dict[str, Any]) -> None:
    """The tensors' histograms, joined to the run's next row (nothing once the run ended)."""
    if getattr(run, "state", "running") != "running":
        return
    from sweepnb.compat.media import Histogram

    values = {}
    for key, tensor in tensors.items():
        data = tensor.float().cpu().reshape(-1)
        data = data[data.isfinite()]
        if data.numel():
            values[key] = Histogram(data.numpy(), num_bins=NUM_BINS)
    if values:
        run.log(values, commit=False)


def unwatch(models: Any = None) -> None:
    """Remove the hooks of ``watch`` from ``models`` (a module or a list; None: every model)."""
    with _lock:
        if models is None:
            keys = list(_watched)
        else:
            keys = [id(m) for m in (models if isinstance(models, (list, tuple)) else [models])]
        handles = [h for key in keys for h in _watched.pop(key, [])]
    for handle in handles:
        handle.remove()
