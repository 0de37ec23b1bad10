"""How a network is trained: :class:`TrainConfig`, checked on creation and free of PyTorch,
so that a bad option is refused before any data is read or any heavy import is made."""

from __future__ import annotations

import math
from dataclasses import dataclass

from embedkit.errors import UsageError

OPTIMIZERS = ("rmsprop", "adam")
MONITORS = ("val_loss", "val_accuracy")


@dataclass(frozen=True)
class TrainConfig:
    """How a network is trained (saved with the model)."""

    optimizer: str = "rmsprop"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    patience: int = 2
    clip_norm: float = 0.0
    seed: int = 0
    time_budget: float = 0.0  # seconds; stop after the epoch that passes it (0 = none)
    monitor: str = "val_loss"  # or "val_accuracy": what early stopping watches
    average: float = 0.0  # decay of an exponential moving average of the weights (0 = none)
    adversarial: float = 0.0  # eps of adversarial training on the embedded tokens (0 = none)

    def __post_init__(self) -> None:
        for name, valid in (("optimizer", OPTIMIZERS), ("monitor", MONITORS)):
            if getattr(self, name) not in valid:
                raise UsageError(f"unknown {name} {getattr(self, name)!r}; valid: "
                                 f"{', '.join(valid)}")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)} "
                                 f"(--{name.replace('_', '-')})")
        for name in ("lr", "adversarial"):
            if not math.isfinite(getattr(self, name)):  # NaN/inf crash torch or train NaNs
                raise UsageError(f"--{name.replace('_', '-')} must be a finite number, got "
                                 f"{getattr(self, name)}")
        for name in ("clip_norm", "time_budget"):  # inf: no limit, as 0
            if math.isnan(getattr(self, name)):
                raise UsageError(f"--{name.replace('_', '-')} must be a number, got nan")
        if self.lr <= 0:
            raise UsageError(f"lr must be > 0, got {self.lr} (--lr)")
        if not 0.0 <= self.average < 1.0:
            raise UsageError(f"average must be in [0, 1), got {self.average} (--average)")
        for name in ("patience", "time_budget", "clip_norm", "adversarial"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} must be >= 0, got {getattr(self, name)} "
                                 f"(--{name.replace('_', '-')})")
