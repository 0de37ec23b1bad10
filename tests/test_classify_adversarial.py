"""Adversarial training on the embedded tokens (Miyato et al. 2017): the gradients of one
batch equal those of L(e) + L(e + r) computed independently with torch.autograd, the shift
has norm eps per text and leaves padding alone, a frozen layer stays frozen, and a network
trained this way on real reviews (gensim's pang_lee_polarity.cor) still learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedkit.classify.adversarial import adversarial_backward, perturbation
from embedkit.classify.classifier import ClassifierConfig, train_classifier
from embedkit.classify.datasets import read_dataset
from embedkit.classify.models import EmbeddingConfig, build_model, model_config
from embedkit.errors import UsageError


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 40, (6, 12), generator=generator)
    ids[:, :4] = 0  # pre-padding
    ids[0, :9] = 0  # a short text
    return ids, torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("model", ["lstm", "cnn", "avgpool"])
def test_gradients_equal_an_independent_autograd_reference(model):
    config = model_config(model, EmbeddingConfig(40, 8), 1, 12, units=5)
    torch.manual_seed(1)
    net = build_model(config)
    ids, y = _batch()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    params = [p for p in net.parameters() if p.requires_grad]

    def batch_loss():
        logits = net(ids)
        return loss_fn(logits.squeeze(1), y), logits

    net.zero_grad()
    loss, _ = adversarial_backward(net, batch_loss, eps=0.7)
    got = [p.grad.clone() for p in params]

    # the reference: embed by hand, differentiate, move, add the two losses
    def loss_at(shift):
        handle = net.embedding.register_forward_hook(lambda m, a, out: out + shift)
        try:
            return loss_fn(net(ids).squeeze(1), y)
        finally:
            handle.remove()

    zero = torch.zeros(6, 12, 8, requires_grad=True)
    (g,) = torch.autograd.grad(loss_at(zero), zero)
    g = g * (ids != 0).unsqueeze(-1)
    r = 0.7 * g / g.flatten(1).norm(dim=1).view(-1, 1, 1)
    total = loss_at(torch.zeros(6, 12, 8)) + loss_at(r.detach())
    expected = torch.autograd.grad(total, params)
    assert torch.isclose(loss, loss_at(torch.zeros(6, 12, 8)))
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert any(float(b.abs().max()) > 0 for b in expected)


def test_the_shift_has_norm_eps_per_text_and_spares_padding():
    ids, _ = _batch()
    grad = torch.randn(6, 12, 8)
    shift = perturbation(grad, ids, 2.5)
    assert torch.allclose(shift.flatten(1).norm(dim=1), torch.full((6,), 2.5))
    assert float(shift[ids == 0].abs().max()) == 0.0
    cosine = torch.nn.functional.cosine_similarity(
        shift.flatten(1), (grad * (ids != 0).unsqueeze(-1)).flatten(1))
    assert torch.allclose(cosine, torch.ones(6))


@pytest.fixture(scope="module")
def pang_lee(gensim_data):
    return read_dataset(gensim_data / "pang_lee_polarity.cor")


def test_the_network_still_learns(pang_lee):
    config = ClassifierConfig(model="lstm", maxlen=30, embedding_dim=16, units=16,
                              batch_size=32, threads=1, epochs=12, patience=0,
                              validation=0.0, lr=3e-3, adversarial=0.1)
    result = train_classifier(pang_lee, config)
    losses = [e["loss"] for e in result.history.epochs]
    assert losses[-1] < 0.6 * losses[0]
    train = pang_lee.subset([i for i in range(len(pang_lee)) if i % 5])
    assert result.classifier.evaluate(train)["accuracy"] > 0.75


def test_a_frozen_layer_stays_frozen(pang_lee):
    """The shift needs the gradient at the embedding's output, which a frozen layer does
    not give by itself: it must be asked for without training the layer."""
    from embedkit import Vectors

    rng = np.random.default_rng(0)
    words = sorted({w for t in pang_lee.texts for w in t.lower().split()})
    vectors = Vectors(words, rng.normal(size=(len(words), 16)).astype(np.float32))
    config = ClassifierConfig(model="gru", maxlen=30, units=8, batch_size=32, threads=1,
                              epochs=2, patience=0, validation=0.0, adversarial=1.0)
    result = train_classifier(pang_lee, config, vectors)
    layer = result.classifier.network.embedding.weight.detach().numpy()
    vocabulary = result.classifier.vocabulary
    for word in ("film", "movie", "the"):
        np.testing.assert_array_equal(layer[vocabulary.ids([[word]])[0][0]], vectors[word])
    assert not result.classifier.network.embedding.weight.requires_grad


@pytest.mark.parametrize("model", ["multihot", "tfidf-logreg"])
def test_models_without_embedded_tokens_refuse_it(model):
    with pytest.raises(UsageError, match="--adversarial moves embedded tokens"):
        ClassifierConfig(model=model, adversarial=1.0)


@pytest.mark.parametrize("eps", [-1.0, float("nan")])
def test_a_negative_or_non_finite_eps_is_refused(eps):
    with pytest.raises(UsageError, match="adversarial"):
        ClassifierConfig(adversarial=eps)
