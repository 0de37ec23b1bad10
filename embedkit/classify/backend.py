"""The optional heavy dependencies of classification (PyTorch, scikit-learn), imported late.

``embedkit`` works without the ``classify`` extra; only training or loading a classifier
needs it, and then the user gets a one-line error that says what to install.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from embedkit.errors import UsageError

INSTALL_HINT = ("pip install -c constraints.txt -e '.[classify]' in the embedkit checkout (the "
                "constraints pin the CPU torch; unpinned, pip pulls a multi-GB CUDA build)")
NETWORK_NAMES = ("flatten", "avgpool", "multihot", "rnn", "lstm", "gru", "birnn", "bilstm",
                 "bigru", "cnn")
"""The PyTorch models (:mod:`embedkit.classify.models`), named here so that checking a
name needs no PyTorch."""
RECURRENT_NAMES = ("rnn", "lstm", "gru", "birnn", "bilstm", "bigru")
POOLINGS = ("last", "max", "mean")
"""What a recurrent model's output layer reads: its last state, or a max/mean over tokens."""
INITS = ("keras", "torch")
"""Weight initialisations: Keras' (Glorot, orthogonal, forget bias 1) or PyTorch's."""


def require(module: str) -> ModuleType:
    """Import ``module`` ("torch", "sklearn") or raise a :class:`UsageError` with the fix."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"classification needs {module.split('.')[0]}, which is not "
                         f"installed: {INSTALL_HINT}") from None


def setup_torch(seed: int, threads: int | None = None) -> ModuleType:
    """Seeded, deterministic PyTorch with flush-denormal on and one thread per core.

    Flushing denormals matters on CPU: without it the first epochs of a small LSTM run
    about 5x slower (DESIGN.md) and the losses do not change.
    """
    torch = require("torch")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    return torch


def device() -> str:
    """"cuda" when a GPU is present, else "cpu"."""
    torch = require("torch")
    return "cuda" if torch.cuda.is_available() else "cpu"
