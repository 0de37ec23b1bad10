"""Training loop: a model and padded id arrays -> trained weights and a :class:`History`.

Mini-batches in a seeded order, RMSprop (Keras' settings: rho 0.9, eps 1e-7, as in the
lecture) or Adam, optional gradient clipping, an optional moving average of the weights
(:class:`WeightAverage`: validated and kept instead of the last weights), optional
adversarial training on the embedded tokens (:mod:`embedkit.classify.adversarial`), a validation
set checked after every epoch, early stopping on the validation loss or accuracy
(``patience`` epochs), the best weights restored, and an optional wall-clock budget. Each
epoch shows a progress bar and logs loss and accuracy; the history is saved as JSON and
plotted as loss/accuracy curves.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from embedkit import progress
from embedkit.atomic import atomic_path, write_text
from embedkit.classify.adversarial import adversarial_backward
from embedkit.classify.train_config import TrainConfig  # noqa: F401 - re-exported: the config of fit()
from embedkit.errors import EmbedkitError

log = logging.getLogger("embedkit.classify")


@dataclass
class History:
    """Per-epoch metrics: loss, accuracy, val_loss, val_accuracy, seconds, samples_per_s.

    ``refit`` holds the epochs of the retraining on training + validation texts for
    ``best_epoch`` epochs, when one was asked for (``refit=True``).
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    refit: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the history as JSON, atomically."""
        return write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def plot(self, path: str | os.PathLike) -> Path:
        """Loss and accuracy curves (train and validation) as a PNG, atomically."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        x = [e["epoch"] for e in self.epochs]
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
            ax.plot(x, [e[key] for e in self.epochs], "o-", label=f"training {key}")
            if self.epochs and f"val_{key}" in self.epochs[0]:
                ax.plot(x, [e[f"val_{key}"] for e in self.epochs], "s--",
                        label=f"validation {key}")
            if self.refit:
                ax.plot([e["epoch"] for e in self.refit], [e[key] for e in self.refit], "^:",
                        label=f"refit {key} (training + validation texts)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.legend()
        fig.tight_layout()
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        return Path(path)


class WeightAverage:
    """An exponential moving average of a model's trainable weights (Polyak averaging).

    After every optimizer step the average moves towards the live weights by ``1 - d``,
    with ``d = min(decay, (1 + steps) / (10 + steps))`` so that the first steps are not
    tied to the initial weights. :meth:`applied` swaps the average in for evaluation.
    """

    def __init__(self, model: nn.Module, decay: float):
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.average = [p.detach().clone() for p in self.params]
        self.decay, self.steps = decay, 0

    def update(self) -> None:
        self.steps += 1
        weight = 1.0 - min(self.decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            torch._foreach_lerp_(self.average, [p.detach() for p in self.params], weight)

    def copy_to_model(self) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self.params, self.average)

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The model holds the averaged weights inside the block, its own ones after."""
        live = [p.detach().clone() for p in self.params]
        self.copy_to_model()
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, live)


def loss_function(task: str) -> nn.Module:
    """BCE on logits for binary and multi-label, cross-entropy for multi-class."""
    return nn.CrossEntropyLoss() if task == "multiclass" else nn.BCEWithLogitsLoss()


def _targets(task: str, y: np.ndarray) -> torch.Tensor:
    if task == "multiclass":
        return torch.from_numpy(y).long()
    return torch.from_numpy(y.astype(np.float32))


def _correct(task: str, logits: torch.Tensor, y: torch.Tensor) -> float:
    """Correct predictions (multi-label: correct label decisions, as Keras counts them)."""
    if task == "multiclass":
        return float((logits.argmax(1) == y).sum())
    return float(((logits > 0).float() == y).float().mean(dim=-1).sum()) if y.dim() > 1 \
        else float(((logits.squeeze(1) > 0).float() == y).sum())


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.RMSprop(params, lr=config.lr, alpha=0.9, eps=1e-7)


def _batch_loss(model, loss_fn, task, x, y):
    logits = model(x)
    if task == "binary":
        return loss_fn(logits.squeeze(1), y), logits
    return loss_fn(logits, y), logits


def evaluate_loss(model: nn.Module, task: str, x: np.ndarray, y: np.ndarray,
                  batch_size: int = 512) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on ``x``, ``y`` without training."""
    loss_fn, device = loss_function(task), _device(model)
    model.eval()
    total_loss, correct = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[start:start + batch_size]).to(device)
            yb = _targets(task, y[start:start + batch_size]).to(device)
            loss, logits = _batch_loss(model, loss_fn, task, xb, yb)
            total_loss += float(loss) * len(xb)
            correct += _correct(task, logits, yb)
    return total_loss / max(len(x), 1), correct / max(len(x), 1)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def fit(model: nn.Module, task: str, train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray] | None, config: TrainConfig) -> History:
    """Train ``model`` in place; returns the per-epoch :class:`History`.

    Parameters
    ----------
    task : "binary" | "multiclass" | "multilabel"
    train, validation : (ids (n, maxlen) int64, targets) as made by
        :mod:`embedkit.classify.preprocess`; ``validation`` may be None (no early stopping).
    """
    loss_fn, device = loss_function(task), _device(model)
    optimizer = _optimizer(model, config)
    rng = np.random.default_rng(config.seed)
    x, y = train
    history, best = History(), (float("inf"), None)
    averager = WeightAverage(model, config.average) if config.average else None
    averaged = averager.applied if averager else nullcontext
    began = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        loss, acc = _train_epoch(model, loss_fn, optimizer, task, x, y, rng, config, device,
                                 f"epoch {epoch}/{config.epochs}", averager)
        seconds = time.perf_counter() - start
        if not math.isfinite(loss):
            _diverged(loss, epoch, config)
        row = {"epoch": epoch, "loss": loss, "accuracy": acc, "seconds": seconds,
               "samples_per_s": len(x) / seconds}
        if validation is not None and len(validation[0]):
            with averaged():
                row["val_loss"], row["val_accuracy"] = evaluate_loss(model, task, *validation)
            if not math.isfinite(row["val_loss"]):  # NaN weights with a finite training loss
                _diverged(row["val_loss"], epoch, config, "validation loss")
        history.epochs.append(row)
        log.info("epoch %d/%d: %s%s", epoch, config.epochs, ", ".join(
            f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "seconds")),
            " (accuracy of each label decision, as Keras counts it; the final score is "
            "subset accuracy)" if task == "multilabel" and epoch == 1 else "")
        if config.time_budget and time.perf_counter() - began > config.time_budget:
            history.stopped_early = True
            log.info("time budget of %.0f s reached after epoch %d", config.time_budget, epoch)
        if "val_loss" not in row:
            if history.stopped_early:
                break
            continue
        score = row["val_loss"] if config.monitor == "val_loss" else -row["val_accuracy"]
        if score < best[0]:
            with averaged():
                best = (score, copy.deepcopy(model.state_dict()))
            history.best_epoch = epoch
        elif config.patience and epoch - history.best_epoch >= config.patience:
            history.stopped_early = True
        if history.stopped_early:
            break
    if best[1] is not None:
        model.load_state_dict(best[1])
    else:
        history.best_epoch = len(history.epochs)
        if averager:
            averager.copy_to_model()
    return history


def _diverged(loss: float, epoch: int, config: TrainConfig, what: str = "loss") -> None:
    raise EmbedkitError(f"training diverged: the {what} is {loss} in epoch {epoch} "
                        f"(learning rate {config.lr:g}); lower --lr or set --clip-norm; "
                        "nothing was saved")


def _train_epoch(model, loss_fn, optimizer, task, x, y, rng, config, device, label,
                 averager=None):
    model.train()
    order = rng.permutation(len(x))
    total_loss, correct = 0.0, 0.0
    with progress.task(label, total=len(x)) as bar:
        for start in range(0, len(x), config.batch_size):
            ids = order[start:start + config.batch_size]
            xb = torch.from_numpy(x[ids]).to(device)
            yb = _targets(task, y[ids]).to(device)
            optimizer.zero_grad()
            if config.adversarial:
                loss, logits = adversarial_backward(
                    model, lambda: _batch_loss(model, loss_fn, task, xb, yb),  # noqa: B023
                    config.adversarial)
            else:
                loss, logits = _batch_loss(model, loss_fn, task, xb, yb)
                loss.backward()
            if config.clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            if averager:
                averager.update()
            total_loss += float(loss.detach()) * len(ids)
            correct += _correct(task, logits.detach(), yb)
            done = start + len(ids)
            bar.update(completed=done, description=f"{label} loss {total_loss / done:.4f} "
                                                   f"accuracy {correct / done:.4f}")
    return total_loss / len(x), correct / len(x)


def predict_logits(model: nn.Module, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Logits (n, outputs) float32 of ``model`` on ids ``x``, in eval mode."""
    model.eval()
    device = _device(model)
    out = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out.append(model(torch.from_numpy(x[start:start + batch_size]).to(device)).cpu())
    if not out:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(out).numpy()
