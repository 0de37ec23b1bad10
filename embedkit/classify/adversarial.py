"""Adversarial training on the embedded tokens (Miyato, Dai & Goodfellow, "Adversarial
training methods for semi-supervised text classification", ICLR 2017).

Each batch is trained on its embedded tokens ``e`` and again on ``e + r``, where ``r`` moves
every text by ``eps`` (L2 norm over all its tokens and dimensions) along the gradient of the
loss: the direction that hurts the model most. Padding is never moved. The paper's IMDB
setting, ``eps = 5`` on 256-d embeddings normalised to unit variance per dimension (rows
about 16 long), is about ``eps = 0.3`` on rows of mean length 1 (``normalize="scale"``).
The shift is added at the embedding layer's output, before any embedding dropout (drawn
afresh in the second pass). It doubles the work of a batch (two forward and two backward
passes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from embedkit.errors import UsageError

BatchLoss = Callable[[], tuple[torch.Tensor, torch.Tensor]]


@contextmanager
def _embedding_hook(model: nn.Module, hook: Callable[..., Any]) -> Iterator[None]:
    handle = model.embedding.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def adversarial_backward(model: nn.Module, batch_loss: BatchLoss, eps: float
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Backpropagate ``L(e) + L(e + r_adv)`` of one batch; return the clean loss and logits.

    ``batch_loss`` runs the model on the batch and returns ``(loss, logits)``.
    """
    seen: dict[str, torch.Tensor] = {}

    def capture(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        if not output.requires_grad:  # a frozen embedding: the gradient is still wanted
            output = output.detach().requires_grad_()
        output.retain_grad()
        seen["output"], seen["ids"] = output, args[0]
        return output

    with _embedding_hook(model, capture):
        loss, logits = batch_loss()
    loss.backward()
    if "output" not in seen or seen["output"].grad is None:
        raise UsageError("adversarial training needs an embedding layer over the tokens; "
                         "this model has none (leave out --adversarial)")
    shift = perturbation(seen["output"].grad, seen["ids"], eps)
    with _embedding_hook(model, lambda module, args, output: output + shift):
        adversarial_loss, _ = batch_loss()
    adversarial_loss.backward()
    return loss, logits


def perturbation(grad: torch.Tensor, ids: torch.Tensor, eps: float) -> torch.Tensor:
    """``eps * g / ||g||`` per text (norm over its tokens and dimensions), zero on padding."""
    grad = grad.detach() * (ids != 0).unsqueeze(-1)
    norms = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    return eps * grad / norms.view(-1, *([1] * (grad.dim() - 1)))
