"""Text classifiers whose embedding layer starts from a stored embedding set.

``labelled text files -> datasets (readers) -> preprocess (vocabulary, padded ids, splits)
-> models (PyTorch) / baselines (bag-of-words, TF-IDF + logistic regression) -> train ->
classifier (one saved file) -> metrics``.

Everything that needs PyTorch is imported lazily: ``import embedkit.classify`` and the
dataset readers work without it; training a neural model without it raises a
:class:`~embedkit.errors.UsageError` that says how to install the ``classify`` extra with
the CPU torch pinned.
"""

from __future__ import annotations

from embedkit.classify.datasets import LAYOUTS, LabelledTexts, read_dataset

__all__ = ["LAYOUTS", "LabelledTexts", "read_dataset"]
