"""PyTorch text classifiers: padded id arrays (n, maxlen) -> logits (n, outputs).

Three classes, each built from a frozen config saved with its weights:

- :class:`PooledClassifier`: embedding + flatten + dense (Chollet 6.1), embedding +
  global average pooling + dense, or the multi-hot bag of words + dense layers (Chollet
  3.4: the set of a text's words times a weight matrix, i.e. the sum of the embedding
  rows of its distinct words, + bias, ReLU).
- :class:`RecurrentClassifier`: SimpleRNN, LSTM or GRU (``cell``), stacked (``layers``),
  optionally bidirectional. As in Keras without masking, texts are pre-padded so the
  forward state ends on the last real token; ``packed=True`` skips the padding exactly
  (packed sequences), which is about 8x slower on CPU and so not the default. The dense
  layer reads the last state (``pooling="last"``, Keras' default) or the maximum or mean
  of the top layer's outputs over the real tokens (``"max"``, ``"mean"``; padding masked
  out), which also spares a bidirectional layer's backward state the run through padding.
  ``recurrent_dropout`` is DropConnect on the hidden-to-hidden weights (the weight drop of
  Merity et al.'s AWD-LSTM): one mask per batch, shared by every time step, so the fused
  recurrent kernel still runs. Keras' ``recurrent_dropout`` drops the state instead, which
  needs a step-by-step loop.
- :class:`ConvClassifier`: 1-D CNN with max pooling (Chollet 6.4).

Weights start as Keras starts them (the recipe behind Chollet's published numbers):
embedding uniform(-0.05, 0.05), Glorot-uniform input and dense weights, orthogonal
recurrent weights, zero biases and an LSTM forget-gate bias of 1. One deliberate change:
the padding row (id 0) is zero and never trained (Keras trains it); on short texts a
SimpleRNN reached 0.57 instead of 0.76 on Subj with a trained padding row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from embedkit.classify.backend import INITS, NETWORK_NAMES, POOLINGS
from embedkit.errors import DimensionMismatchError, UsageError

RECURRENT = {"rnn": ("rnn", False), "lstm": ("lstm", False), "gru": ("gru", False),
             "birnn": ("rnn", True), "bilstm": ("lstm", True), "bigru": ("gru", True)}
MODEL_NAMES = NETWORK_NAMES


@dataclass(frozen=True)
class EmbeddingConfig:
    """The embedding layer: ``vocab_size`` rows (0 = padding) of ``dim`` floats.

    ``dropout`` zeroes embedded features at random while training (0 = none).
    """

    vocab_size: int
    dim: int
    freeze: bool = False
    dropout: float = 0.0


@dataclass(frozen=True)
class PooledConfig:
    """Embedding -> flatten ("flatten"), mean over tokens ("average") or sum over the
    distinct words + bias + ReLU ("multihot") -> dense."""

    embedding: EmbeddingConfig
    outputs: int
    maxlen: int
    pooling: str = "flatten"
    units: int = 32
    dropout: float = 0.0


@dataclass(frozen=True)
class RecurrentConfig:
    """Embedding -> ``layers`` recurrent layers of ``cell`` -> dense on the last state."""

    embedding: EmbeddingConfig
    outputs: int
    cell: str = "lstm"
    units: int = 32
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    padding: str = "pre"
    packed: bool = False
    init: str = "keras"  # or "torch": PyTorch's defaults, to measure what the recipe buys
    pooling: str = "last"  # or "max" / "mean" over the real tokens' outputs
    recurrent_dropout: float = 0.0  # weight drop on the hidden-to-hidden matrices


@dataclass(frozen=True)
class ConvConfig:
    """Embedding -> conv(k) -> max-pool(p) -> conv(k) -> global max-pool -> dense."""

    embedding: EmbeddingConfig
    outputs: int
    filters: int = 32
    kernel_size: int = 7
    pool_size: int = 5
    dropout: float = 0.0


def _embedding(config: EmbeddingConfig) -> nn.Embedding:
    layer = nn.Embedding(config.vocab_size, config.dim, padding_idx=0)
    nn.init.uniform_(layer.weight, -0.05, 0.05)
    with torch.no_grad():
        layer.weight[0] = 0.0  # padding: a zero input that is never trained
    return layer


def _dense(inputs: int, outputs: int) -> nn.Linear:
    layer = nn.Linear(inputs, outputs)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class _Base(nn.Module):
    config: Any

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Embedded ids (n, length, dim), with the embedding dropout while training."""
        rate = self.config.embedding.dropout
        x = self.embedding(ids)
        return nn.functional.dropout(x, rate, self.training) if rate else x

    def set_embedding(self, matrix: np.ndarray) -> None:
        """Start the embedding layer from ``matrix`` (vocab_size, dim) float32."""
        weight = self.embedding.weight
        if tuple(matrix.shape) != tuple(weight.shape):
            raise DimensionMismatchError(
                f"embedding matrix has shape {tuple(matrix.shape)}, the model expects "
                f"{tuple(weight.shape)} (vocabulary rows x --embedding-dim); leave out "
                "--embedding-dim to use the dimension of the vectors")
        with torch.no_grad():
            weight.copy_(torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32)))
        weight.requires_grad_(not self.config.embedding.freeze)


class PooledClassifier(_Base):
    def __init__(self, config: PooledConfig):
        super().__init__()
        self.config = config
        self.embedding = _embedding(config.embedding)
        width = config.embedding.dim * (config.maxlen if config.pooling == "flatten" else 1)
        if config.pooling == "multihot":  # a Keras Dense(vocab -> dim) layer: Glorot, bias
            nn.init.xavier_uniform_(self.embedding.weight)
            with torch.no_grad():
                self.embedding.weight[0] = 0.0
            self.bag_bias = nn.Parameter(torch.zeros(config.embedding.dim))
        self.hidden = _dense(width, config.units) if config.units else None
        self.dropout = nn.Dropout(config.dropout)
        self.out = _dense(config.units or width, config.outputs)
        self.embedding.weight.requires_grad_(not config.embedding.freeze)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.config.pooling == "multihot":
            return self._head(torch.relu(self._bag(ids) + self.bag_bias))
        emb = self.embed(ids)
        if self.config.pooling == "flatten":
            x = emb.flatten(1)
        else:
            mask = (ids != 0).unsqueeze(-1).to(emb.dtype)
            x = (emb * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self._head(x)

    def _bag(self, ids: torch.Tensor) -> torch.Tensor:
        """Multi-hot rows (padding left out) times the embedding matrix."""
        hot = torch.zeros(ids.shape[0], self.embedding.num_embeddings, device=ids.device)
        hot.scatter_(1, ids, 1.0)
        hot[:, 0] = 0.0
        rate = self.config.embedding.dropout
        if rate:
            hot = nn.functional.dropout(hot, rate, self.training)
        return hot @ self.embedding.weight

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        if self.hidden is not None:
            x = torch.relu(self.hidden(self.dropout(x)))
        return self.out(self.dropout(x))


class RecurrentClassifier(_Base):
    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.config = config
        self.embedding = _embedding(config.embedding)
        kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        self.rnn = kind(config.embedding.dim, config.units, num_layers=config.layers,
                        batch_first=True, bidirectional=config.bidirectional,
                        dropout=config.dropout if config.layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        self.out = _dense(config.units * directions, config.outputs)
        if config.init == "keras":
            self._keras_init()
        else:  # PyTorch's defaults: N(0, 1) embedding, uniform(+-1/sqrt(units)) weights
            nn.init.normal_(self.embedding.weight)
            with torch.no_grad():
                self.embedding.weight[0] = 0.0
        self.embedding.weight.requires_grad_(not config.embedding.freeze)

    def _keras_init(self) -> None:
        units = self.config.units
        for name, param in self.rnn.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(param)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(param)
            else:
                nn.init.zeros_(param)
                if self.config.cell == "lstm" and name.startswith("bias_ih"):
                    with torch.no_grad():
                        param[units:2 * units] = 1.0  # gates i, f, g, o: forget bias 1

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        inputs = self._packed(ids) if self.config.packed else self.embed(ids)
        outputs, state = self._recur(inputs)
        if self.config.pooling != "last":
            return self.out(self.dropout(self._pool(outputs, ids)))
        if isinstance(state, tuple):
            state = state[0]
        directions = 2 if self.config.bidirectional else 1
        last = torch.cat(list(state[-directions:]), dim=1)
        return self.out(self.dropout(last))

    def _recur(self, inputs: Any) -> tuple[Any, Any]:
        """The recurrent layers, with weight drop on the hidden-to-hidden weights while
        training (the masked copies are used for this call only)."""
        rate = self.config.recurrent_dropout
        if not (rate and self.training):
            return self.rnn(inputs)
        weights = {name: nn.functional.dropout(param, rate, True) if
                   name.startswith("weight_hh") else param
                   for name, param in self.rnn.named_parameters()}
        return torch.func.functional_call(self.rnn, weights, (inputs,))

    def _pool(self, outputs: Any, ids: torch.Tensor) -> torch.Tensor:
        """Max or mean of the top layer's outputs over the real (non-padding) tokens."""
        if self.config.packed:  # tokens were moved to the front: the first `length` steps
            outputs, lengths = pad_packed_sequence(outputs, batch_first=True,
                                                   total_length=ids.shape[1])
            steps = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
            mask = steps < lengths.to(ids.device).unsqueeze(1)
        else:
            mask = ids != 0
        mask = mask.unsqueeze(2)
        if self.config.pooling == "max":
            pooled = outputs.masked_fill(~mask, float("-inf")).amax(dim=1)
            return torch.where(mask.any(dim=1), pooled, torch.zeros_like(pooled))
        return (outputs * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)

    def _packed(self, ids: torch.Tensor) -> torch.Tensor:
        """Embedded tokens without their padding (exact, but ~8x slower on CPU)."""
        lengths = (ids != 0).sum(1).clamp(min=1)
        if self.config.padding == "pre":  # move the tokens to the front for packing
            width = ids.shape[1]
            shift = (width - lengths).unsqueeze(1)
            index = (torch.arange(width, device=ids.device).unsqueeze(0) + shift) % width
            ids = ids.gather(1, index)
        return pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True,
                                    enforce_sorted=False)


class ConvClassifier(_Base):
    def __init__(self, config: ConvConfig):
        super().__init__()
        self.config = config
        self.embedding = _embedding(config.embedding)
        k = config.kernel_size
        self.conv1 = nn.Conv1d(config.embedding.dim, config.filters, k)
        self.conv2 = nn.Conv1d(config.filters, config.filters, k)
        for conv in (self.conv1, self.conv2):
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
        self.pool = nn.MaxPool1d(config.pool_size)
        self.dropout = nn.Dropout(config.dropout)
        self.out = _dense(config.filters, config.outputs)
        self.min_length = (k - 1) + config.pool_size * k
        self.embedding.weight.requires_grad_(not config.embedding.freeze)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).transpose(1, 2)
        if x.shape[2] < self.min_length:  # short texts: zero-pad so both convs fit
            x = nn.functional.pad(x, (0, self.min_length - x.shape[2]))
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x)).amax(dim=2)
        return self.out(self.dropout(x))


_CLASSES = {PooledConfig: PooledClassifier, RecurrentConfig: RecurrentClassifier,
            ConvConfig: ConvClassifier}
_KINDS = {"pooled": PooledConfig, "recurrent": RecurrentConfig, "conv": ConvConfig}


def model_config(name: str, embedding: EmbeddingConfig, outputs: int, maxlen: int,
                 units: int = 32, layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, padding: str = "pre", packed: bool = False,
                 init: str = "keras", pooling: str = "last",
                 recurrent_dropout: float = 0.0) -> Any:
    """The config of model ``name`` (see :data:`MODEL_NAMES`)."""
    if name not in MODEL_NAMES:
        raise UsageError(f"unknown model {name!r}; valid: {', '.join(MODEL_NAMES)}")
    if init not in INITS:
        raise UsageError(f"unknown init {init!r}; valid: {', '.join(INITS)}")
    if pooling not in POOLINGS:
        raise UsageError(f"unknown pooling {pooling!r}; valid: {', '.join(POOLINGS)}")
    if not all(0.0 <= rate < 1.0 for rate in (dropout, embedding.dropout, recurrent_dropout)):
        raise UsageError(f"dropout rates must be in [0, 1), got {dropout}, "
                         f"{embedding.dropout} (embedding) and {recurrent_dropout} (recurrent)")
    if recurrent_dropout and name not in RECURRENT:  # also checked by ClassifierConfig
        raise UsageError(f"recurrent dropout is for recurrent models; {name!r} has no "
                         "recurrent layer")
    if units < 1 or layers < 1 or embedding.dim < 1:
        raise UsageError("units, layers and the embedding dimension must be at least 1")
    if pooling != "last" and name not in RECURRENT:  # also checked by ClassifierConfig
        raise UsageError(f"pooling {pooling!r} is for recurrent models; {name!r} pools "
                         "on its own (leave out --pooling)")
    if name in ("flatten", "avgpool", "multihot"):
        kind = {"flatten": "flatten", "avgpool": "average", "multihot": "multihot"}[name]
        return PooledConfig(embedding, outputs, maxlen, kind, units, dropout)
    if name == "cnn":
        return ConvConfig(embedding, outputs, filters=units, dropout=dropout)
    cell, bi = RECURRENT[name]
    return RecurrentConfig(embedding, outputs, cell, units, layers, bi or bidirectional,
                           dropout, padding, packed, init, pooling, recurrent_dropout)


def build_model(config: Any) -> _Base:
    """The (freshly initialised, seeded by the caller) module of ``config``."""
    return _CLASSES[type(config)](config)


def config_to_dict(config: Any) -> dict[str, Any]:
    kind = next(k for k, cls in _KINDS.items() if isinstance(config, cls))
    return {"kind": kind, **dataclasses.asdict(config)}


def config_from_dict(data: dict[str, Any]) -> Any:
    data = dict(data)
    cls = _KINDS[data.pop("kind")]
    data["embedding"] = EmbeddingConfig(**data["embedding"])
    return cls(**data)
