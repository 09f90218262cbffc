"""Engine adapters for bench/compare.py: one small class per tuner, `ask() -> config`, `tell`.

Each adapter drives its library through its own ask/tell interface; `ENGINES` maps a name to
how to build one for a problem and seed, and `missing_modules` says whether it can run here.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from problems import Problem

METRIC = "loss"


def _seed_for(seed: int, step: int) -> int:
    """A per-suggestion seed: reproducible, distinct for every (seed, step)."""
    return (seed * 1_000_003 + step) % (2**31 - 1)


def _wandb_config(problem: Problem, method: str) -> dict:
    return {
        "method": method,
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": problem.parameters,
    }


def _plain(value: object) -> object:
    """numpy scalars -> Python numbers, so every engine hands the objective the same types."""
    return value.item() if isinstance(value, np.generic) else value


# --- engines: one small class each, `ask() -> config`, `tell(config, value)` --------------------


class SweepnbEngine:
    """sweepnb's `engine.suggest` on a list of run dicts (contracts: engine data formats).

    A config asked for and not told yet is a running run (what a parallel agent's run is)."""

    def __init__(self, problem: Problem, seed: int, method: str) -> None:
        from sweepnb import engine

        self._engine = engine
        self._cfg = engine.load_config(_wandb_config(problem, method))
        self._seed = seed
        self.runs: list[dict] = []
        self._asked = 0

    def ask(self) -> dict:
        seed = _seed_for(self._seed, self._asked)
        config = dict(self._engine.suggest(self._cfg, self.runs, seed=seed)[0])
        self.runs.append(
            {"id": f"r{self._asked}", "state": "running", "config": config, "history": []}
        )
        self._asked += 1
        return config

    def tell(self, config: dict, value: float) -> None:
        run = next(r for r in self.runs if r["state"] == "running" and r["config"] == config)
        run.update(state="finished", history=[{METRIC: value, "_step": 0}], summary={METRIC: value})


class WandbEngine:
    """W&B's open-source engine (`sweeps.next_run`); it draws from the global RNGs."""

    def __init__(self, problem: Problem, seed: int, method: str) -> None:
        import sweeps

        self._sweeps = sweeps
        self._cfg = _wandb_config(problem, method)
        self._seed = seed
        self.runs: list = []

    def ask(self) -> dict:
        seed = _seed_for(self._seed, len(self.runs))
        random.seed(seed)
        np.random.seed(seed)
        run = self._sweeps.next_run(self._cfg, self.runs)
        config = {name: _plain(item["value"]) for name, item in run.config.items()}
        self.runs.append(self._run(len(self.runs), "running", config))  # until it is told
        return config

    def _run(self, number: int, state: str, config: dict, value: float | None = None):
        # pydantic 2: only the camelCase alias `summaryMetrics` is taken.
        done = value is not None
        return self._sweeps.SweepRun(
            name=f"r{number}",
            state=state,
            config={name: {"value": v} for name, v in config.items()},
            summaryMetrics={METRIC: value} if done else {},
            history=[{METRIC: value}] if done else [],
        )

    def tell(self, config: dict, value: float) -> None:
        for i, run in enumerate(self.runs):
            if run.state == "running" and self._config_of(run) == config:
                self.runs[i] = self._run(i, "finished", config, value)
                return
        raise KeyError(f"tell: no running run has config {config}")

    @staticmethod
    def _config_of(run) -> dict:
        return {name: _plain(item["value"]) for name, item in run.config.items()}


def _optuna_suggest(trial, name: str, spec: dict) -> object:
    kind = spec["distribution"]
    if kind == "uniform":
        return trial.suggest_float(name, spec["min"], spec["max"])
    if kind == "log_uniform_values":
        return trial.suggest_float(name, spec["min"], spec["max"], log=True)
    if kind == "int_uniform":
        return trial.suggest_int(name, spec["min"], spec["max"])
    if kind == "categorical":
        return trial.suggest_categorical(name, spec["values"])
    raise ValueError(f"parameters.{name}.distribution: {kind!r} has no Optuna translation")


class OptunaEngine:
    """An Optuna sampler through `study.ask()` / `study.tell()`."""

    def __init__(self, problem: Problem, seed: int, sampler: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers = {
            "random": optuna.samplers.RandomSampler,
            # constant liar: running trials count as bad ones (what Optuna advises in parallel)
            "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, constant_liar=True),
            "gp": optuna.samplers.GPSampler,
        }
        self._study = optuna.create_study(
            direction="minimize", sampler=samplers[sampler](seed=seed)
        )
        self._parameters = problem.parameters
        self._pending: dict[str, object] = {}

    def ask(self) -> dict:
        trial = self._study.ask()
        config = {name: _optuna_suggest(trial, name, s) for name, s in self._parameters.items()}
        self._pending[json.dumps(config, sort_keys=True)] = trial
        return config

    def tell(self, config: dict, value: float) -> None:
        trial = self._pending.pop(json.dumps(config, sort_keys=True))
        self._study.tell(trial, value)


def _hyperopt_space(parameters: dict) -> dict:
    from hyperopt import hp

    space = {}
    for name, spec in parameters.items():
        kind = spec["distribution"]
        if kind == "uniform":
            space[name] = hp.uniform(name, spec["min"], spec["max"])
        elif kind == "log_uniform_values":
            space[name] = hp.loguniform(name, math.log(spec["min"]), math.log(spec["max"]))
        elif kind == "int_uniform":
            space[name] = hp.uniformint(name, spec["min"], spec["max"])
        elif kind == "categorical":
            space[name] = hp.choice(name, spec["values"])
        else:
            raise ValueError(
                f"parameters.{name}.distribution: {kind!r} has no Hyperopt translation"
            )
    return space


class HyperoptEngine:
    """Hyperopt's TPE driven through `Domain` + `Trials` (its algorithms' own ask interface)."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from hyperopt import Domain, Trials, tpe

        self._space = _hyperopt_space(problem.parameters)
        self._domain = Domain(lambda config: 0.0, self._space)
        self._trials = Trials()
        self._suggest = tpe.suggest
        self._ints = {
            n for n, s in problem.parameters.items() if s["distribution"] == "int_uniform"
        }
        self._seed = seed
        self._pending: dict[str, dict] = {}

    def ask(self) -> dict:
        from hyperopt import space_eval

        ids = self._trials.new_trial_ids(1)
        self._trials.refresh()
        seed = _seed_for(self._seed, len(self._trials.trials))
        doc = self._suggest(ids, self._domain, self._trials, seed)[0]
        point = {name: values[0] for name, values in doc["misc"]["vals"].items()}
        config = {name: _plain(v) for name, v in space_eval(self._space, point).items()}
        config.update({name: round(config[name]) for name in self._ints})
        self._pending[json.dumps(config, sort_keys=True)] = doc
        return config

    def tell(self, config: dict, value: float) -> None:
        from hyperopt import JOB_STATE_DONE, STATUS_OK

        doc = self._pending.pop(json.dumps(config, sort_keys=True))
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": value, "status": STATUS_OK}
        self._trials.insert_trial_docs([doc])
        self._trials.refresh()


@dataclass(frozen=True)
class EngineSpec:
    """How to build an engine, and the modules it needs."""

    make: Callable[[Problem, int], object]
    needs: tuple[str, ...]


ENGINES: dict[str, EngineSpec] = {
    "sweepnb-random": EngineSpec(lambda p, s: SweepnbEngine(p, s, "random"), ("sweepnb.engine",)),
    "sweepnb-bayes": EngineSpec(lambda p, s: SweepnbEngine(p, s, "bayes"), ("sweepnb.engine",)),
    "wandb-random": EngineSpec(lambda p, s: WandbEngine(p, s, "random"), ("sweeps",)),
    "wandb-bayes": EngineSpec(lambda p, s: WandbEngine(p, s, "bayes"), ("sweeps",)),
    "optuna-random": EngineSpec(lambda p, s: OptunaEngine(p, s, "random"), ("optuna",)),
    "optuna-tpe": EngineSpec(lambda p, s: OptunaEngine(p, s, "tpe"), ("optuna",)),
    "optuna-gp": EngineSpec(lambda p, s: OptunaEngine(p, s, "gp"), ("optuna", "torch")),
    "hyperopt-tpe": EngineSpec(HyperoptEngine, ("hyperopt",)),
}


def missing_modules(engine: str) -> list[str]:
    """The modules `engine` needs that cannot be imported here ([] when it can run)."""
    if engine not in ENGINES:
        raise KeyError(f"engine: unknown {engine!r}; choose from {', '.join(ENGINES)}")
    return [name for name in ENGINES[engine].needs if not importable(name)]


def importable(module: str) -> bool:
    """True when `module` can be imported here (its parent packages included)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
