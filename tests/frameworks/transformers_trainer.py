"""A Hugging Face Trainer reporting to W&B, as its docs show: standalone, in a sweep, and
through `trainer.hyperparameter_search(backend="wandb")`. Tiny BERT from a config (random
weights), eight in-memory examples, no hub. WANDB_PROJECT / WANDB_LOG_MODEL / WANDB_WATCH come
from the environment. Prints one JSON line: what the test reads back."""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
import wandb
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments


class Examples(torch.utils.data.Dataset):
    def __init__(self, n):
        g = torch.Generator().manual_seed(n)
        self.x = torch.randint(1, 30, (n, 6), generator=g)
        self.y = torch.randint(0, 2, (n,), generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.y[i]}


def tiny_bert():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=16,
    )  # fmt: skip
    return BertForSequenceClassification(config)


def arguments(run_name, learning_rate=5e-5, save_strategy="no"):
    return TrainingArguments(
        output_dir="out", report_to="wandb", run_name=run_name, logging_steps=1, max_steps=2,
        learning_rate=learning_rate, per_device_train_batch_size=4, eval_strategy="steps",
        eval_steps=2, save_strategy=save_strategy, save_steps=2, use_cpu=True,
        disable_tqdm=True, seed=0,
    )  # fmt: skip


def trainer(args):
    return Trainer(
        model=tiny_bert(), args=args, train_dataset=Examples(8), eval_dataset=Examples(4)
    )


out = {}

# 1. standalone: the Trainer starts the run (name = run_name, project = $WANDB_PROJECT)
trainer(arguments("bert-standalone")).train()
out["standalone"] = wandb.run.id
wandb.finish()


# 2. a sweep over the learning rate, the W&B way: init, read wandb.config, train; each saved
# checkpoint logged as an artifact (WANDB_LOG_MODEL=checkpoint, read when the Trainer is made)
def train():
    with wandb.init() as run:
        run.name = f"lr-{wandb.config.learning_rate}"
        os.environ["WANDB_LOG_MODEL"] = "checkpoint"
        args = arguments("ignored-in-a-sweep", wandb.config.learning_rate, save_strategy="steps")
        trainer(args).train()
        os.environ["WANDB_LOG_MODEL"] = "end"


sweep = {
    "method": "grid",
    "metric": {"name": "eval/loss", "goal": "minimize"},
    "parameters": {"learning_rate": {"values": [1e-4, 1e-3]}},
}
out["sweep"] = wandb.sweep(sweep, project="hf-sweep")
wandb.agent(out["sweep"], function=train, count=2)

# 3. Trainer.hyperparameter_search with W&B's backend: it makes the sweep and the runs itself
if "--hp-search" in sys.argv:
    search = Trainer(
        model_init=tiny_bert, args=arguments(None), train_dataset=Examples(8),
        eval_dataset=Examples(4),
    )  # fmt: skip
    space = {
        "method": "random",
        "metric": {"name": "eval/loss", "goal": "minimize"},
        "parameters": {"learning_rate": {"distribution": "log_uniform_values", "min": 1e-5,
                                         "max": 1e-3}},
    }  # fmt: skip
    best = search.hyperparameter_search(
        backend="wandb", hp_space=lambda trial: space, n_trials=2, direction="minimize"
    )
    out["hp_search"] = {"run_id": best.run_id, "objective": best.objective,
                        "learning_rate": best.hyperparameters["learning_rate"]}  # fmt: skip
print("RESULT " + json.dumps(out))
