"""A Hydra program logging to W&B with `wandb.config.update(OmegaConf.to_container(cfg))`:
standalone with an override on the command line, or as a sweep's program (the sweep passes
`key=value` overrides with `${args_no_hyphens}`)."""

import hydra
import wandb
from omegaconf import DictConfig, OmegaConf


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run = wandb.init(project=cfg.project, name=cfg.get("run_name"))
    wandb.config.update(OmegaConf.to_container(cfg, resolve=True))
    loss = 1.0
    for step in range(cfg.steps):
        loss *= 1 - cfg.optimizer.lr  # a stand-in for training: the config drives it
        wandb.log({"train/loss": loss, "epoch": step})
    run.summary["final/loss"] = loss
    wandb.finish()


if __name__ == "__main__":
    main()
