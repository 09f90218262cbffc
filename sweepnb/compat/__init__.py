"""sweepnb's offline implementation of the wandb API that training code calls."""
