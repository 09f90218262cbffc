"""A Hydra app in a W&B sweep: the sweep passes `key=value` overrides (`${args_no_hyphens}`)."""

import hydra
import wandb
from omegaconf import DictConfig, OmegaConf
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


@hydra.main(config_path="conf", config_name="config", version_base=None)
def main(cfg: DictConfig) -> None:
    wandb.init(config=OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=cfg.data.test_size, random_state=cfg.seed
    )
    model = RandomForestClassifier(
        n_estimators=cfg.model.n_estimators, max_depth=cfg.model.max_depth, random_state=cfg.seed
    )
    model.fit(X_train, y_train)
    wandb.log({"accuracy": model.score(X_test, y_test), "n_trees": len(model.estimators_)})
    wandb.finish()


if __name__ == "__main__":
    main()
