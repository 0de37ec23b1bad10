"""Networks and baselines on real labelled text: every model learns (gensim's
pang_lee_polarity.cor; Subj, TREC and Reuters from ../shared/data beat the majority class
by a clear margin on held-out texts), the embedding layer starts from the stored vectors
(gensim's own reading of pang_lee_polarity_fasttext.vec is the reference), a frozen layer
stays unchanged, training is deterministic, and save/load predicts identically."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors

from embedkit import Vectors
from embedkit.classify.backend import NETWORK_NAMES
from embedkit.classify.baselines import BASELINE_NAMES
from embedkit.classify.classifier import ClassifierConfig, TextClassifier, train_classifier
from embedkit.classify.datasets import LabelledTexts, read_dataset
from embedkit.classify.models import EmbeddingConfig, build_model, model_config
from embedkit.classify.preprocess import split_ids
from embedkit.classify.train import WeightAverage
from embedkit.errors import DimensionMismatchError, InputFormatError, UsageError

TINY = dict(maxlen=30, max_words=3000, embedding_dim=16, units=16, batch_size=32, threads=1)


@pytest.fixture(scope="module")
def pang_lee(gensim_data):
    return read_dataset(gensim_data / "pang_lee_polarity.cor")


@pytest.fixture(scope="module")
def fasttext_vectors(gensim_data):
    kv = KeyedVectors.load_word2vec_format(str(gensim_data / "pang_lee_polarity_fasttext.vec"),
                                           unicode_errors="replace")
    return kv, Vectors(list(kv.index_to_key), kv.vectors)


@pytest.mark.parametrize("model", NETWORK_NAMES)
def test_every_network_fits_pang_lee(pang_lee, model):
    config = ClassifierConfig(model=model, epochs=12, patience=0, validation=0.0, test=0.2,
                              lr=3e-3, **TINY)
    result = train_classifier(pang_lee, config)
    losses = [e["loss"] for e in result.history.epochs]
    assert losses[-1] < 0.6 * losses[0]
    train = pang_lee.subset([i for i in range(len(pang_lee)) if i % 5])  # mostly training
    assert result.classifier.evaluate(train)["accuracy"] > 0.75


@pytest.fixture(scope="module")
def subj(shared_data):
    data = read_dataset(shared_data / "sentence_classification" / "subj.all", encoding="latin-1")
    return data.subset(range(0, len(data), 3))  # 3,334 sentences: 2,133 / 534 / 667


@pytest.mark.parametrize("model", ["flatten", "avgpool", "multihot", "rnn", "lstm", "gru",
                                   "bilstm", "cnn",
                                   *BASELINE_NAMES])
def test_every_model_type_beats_majority_on_subj(subj, model):
    config = ClassifierConfig(model=model, epochs=3, patience=1, **TINY)
    metrics = train_classifier(subj, config).test_metrics
    assert metrics["n"] == 667
    assert metrics["accuracy"] > metrics["majority_accuracy"] + 0.2  # majority is ~0.50
    assert metrics["macro_f1"] > 0.7


def test_multiclass_trec(shared_data):
    folder = shared_data / "sentence_classification"
    train, test = read_dataset(folder / "TREC.train.all"), read_dataset(folder / "TREC.test.all")
    config = ClassifierConfig(model="avgpool", epochs=5, lr=5e-3, **TINY)
    result = train_classifier(train, config, test_data=test)
    metrics = result.test_metrics
    assert result.info["task"] == "multiclass" and len(metrics["labels"]) == 6
    assert np.asarray(metrics["confusion_matrix"]).sum() == 500
    assert metrics["accuracy"] > metrics["majority_accuracy"] + 0.3


def test_multilabel_reuters(shared_data, caplog):
    data = read_dataset(shared_data / "reuters21578")
    test_ids = [i for i, s in enumerate(data.splits) if s == "test"][::4]
    keep = [i for i, s in enumerate(data.splits) if s == "train"][::4] + test_ids
    with caplog.at_level("INFO", logger="embedkit.classify"):
        result = train_classifier(data.subset(keep), ClassifierConfig(
            model="avgpool", epochs=8, lr=5e-3, maxlen=80, max_words=5000, embedding_dim=32,
            units=64, batch_size=32, threads=1))
    assert caplog.text.count("accuracy of each label decision") == 1  # said once: epoch 1
    metrics = result.test_metrics
    seen = set(result.classifier.labels.names)  # the labels of the training part
    known = [i for i in test_ids if seen & set(data.labels[i])]  # the others cannot be scored
    assert result.info["task"] == "multilabel" and metrics["n"] == len(known)
    assert metrics["micro_f1"] > 0.6  # always predicting "earn" alone gives about 0.4
    predictions = result.classifier.predict(data.texts[:3])
    assert all(isinstance(p, tuple) for p in predictions)
    unrelated = LabelledTexts(data.texts[:5], [("nosuch",)] * 5, [""] * 5, multi_label=True)
    with pytest.raises(InputFormatError, match="none of the texts has a label the model knows"):
        result.classifier.evaluate(unrelated)


def test_embedding_starts_from_stored_vectors(pang_lee, fasttext_vectors):
    kv, vectors = fasttext_vectors
    for oov in ("zeros", "random"):
        config = ClassifierConfig(model="avgpool", epochs=2, freeze=True, oov=oov,
                                  **{**TINY, "embedding_dim": None})
        result = train_classifier(pang_lee, config, vectors)
        words = result.classifier.vocabulary.word_index
        weight = result.classifier.network.embedding.weight.detach().numpy()
        covered = [w for w in words if w in kv.key_to_index]
        assert result.info["coverage"]["found"] == len(covered) > 1000
        # frozen: after training, still gensim's vector for every covered word
        assert np.array_equal(weight[[words[w] for w in covered]], kv[covered])
        missing = [words[w] for w in words if w not in kv.key_to_index]
        assert missing and (np.abs(weight[missing]).sum(1) > 0).all() == (oov == "random")
        assert not weight[0].any()  # padding row

    tuned = train_classifier(pang_lee, ClassifierConfig(
        model="avgpool", epochs=2, freeze=False, lr=1e-2, **{**TINY, "embedding_dim": None}),
        vectors)
    words = tuned.classifier.vocabulary.word_index
    weight = tuned.classifier.network.embedding.weight.detach().numpy()
    assert not np.allclose(weight[words["film"]], kv["film"])  # fine-tuned: moved


@pytest.mark.parametrize("normalize", ["unit", "scale"])
def test_normalized_embedding_starts_from_rescaled_vectors(pang_lee, fasttext_vectors,
                                                           normalize):
    kv, vectors = fasttext_vectors
    config = ClassifierConfig(model="avgpool", epochs=1, normalize=normalize,
                              **{**TINY, "embedding_dim": None})
    result = train_classifier(pang_lee, config, vectors)
    words = result.classifier.vocabulary.word_index
    weight = result.classifier.network.embedding.weight.detach().numpy()
    covered = [w for w in words if w in kv.key_to_index]
    stored = kv[covered]
    if normalize == "unit":  # gensim's own unit vectors are the reference
        expected = np.stack([kv.get_vector(w, norm=True) for w in covered])
    else:
        expected = stored / np.linalg.norm(stored, axis=1).mean()
    assert np.allclose(weight[[words[w] for w in covered]], expected, atol=1e-6)
    assert not weight[0].any()
    with pytest.raises(UsageError, match="unknown normalize 'l1'; valid: none, unit, scale"):
        ClassifierConfig(normalize="l1")


def test_set_embedding_checks_shape(fasttext_vectors):
    _, vectors = fasttext_vectors
    net = build_model(model_config("lstm", EmbeddingConfig(10, 50), 1, 20))
    matrix, _ = vectors.embedding_matrix(vectors.words[:8])
    with pytest.raises(DimensionMismatchError, match=r"shape \(8, 100\).*expects \(10, 50\)"):
        net.set_embedding(matrix)


def test_dimension_disagreeing_with_vectors(pang_lee, fasttext_vectors):
    config = ClassifierConfig(model="lstm", **{**TINY, "embedding_dim": 50})
    with pytest.raises(DimensionMismatchError, match="--embedding-dim 50 disagrees with the "
                                                     "vectors' dimension 100"):
        train_classifier(pang_lee, config, fasttext_vectors[1])


def test_keras_initialisation():
    net = build_model(model_config("lstm", EmbeddingConfig(100, 8), 1, 20, units=6))
    params = dict(net.rnn.named_parameters())
    assert params["bias_ih_l0"][6:12].eq(1).all() and params["bias_ih_l0"][:6].eq(0).all()
    assert not params["bias_hh_l0"].any()
    recurrent = params["weight_hh_l0"].detach()  # (4 units, units), orthonormal columns
    assert torch.allclose(recurrent.T @ recurrent, torch.eye(6), atol=1e-5)
    assert net.embedding.weight.abs().max() <= 0.05
    default = build_model(model_config("lstm", EmbeddingConfig(100, 8), 1, 20, units=6,
                                       init="torch"))
    assert not dict(default.rnn.named_parameters())["bias_ih_l0"][6:12].eq(1).any()
    assert default.embedding.weight.abs().max() > 0.05 and not default.embedding.weight[0].any()
    with pytest.raises(UsageError, match="unknown init 'he'; valid: keras, torch"):
        model_config("lstm", EmbeddingConfig(100, 8), 1, 20, init="he")


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_recurrent_pooling_reads_only_real_tokens(pooling):
    torch.manual_seed(0)
    config = model_config("bigru", EmbeddingConfig(50, 6), 1, 9, units=4, pooling=pooling)
    net = build_model(config).eval()
    ids = torch.tensor([[0, 0, 0, 5, 7, 9, 3, 2, 8], [0] * 6 + [4, 4, 11], [0] * 9])
    with torch.no_grad():
        outputs = net.rnn(net.embedding(ids))[0].numpy()
        got = net(ids).numpy()
    expected = []
    for row, out in zip(ids.numpy(), outputs, strict=True):  # numpy over the real tokens
        real = out[row != 0]
        pooled = np.zeros(8, np.float32) if not len(real) else (
            real.max(0) if pooling == "max" else real.mean(0))
        expected.append(pooled @ net.out.weight.detach().numpy().T + net.out.bias.detach().numpy())
    assert np.allclose(got, np.array(expected), atol=1e-6)
    packed = build_model(model_config("bigru", EmbeddingConfig(50, 6), 1, 9, units=4,
                                      pooling=pooling, packed=True))
    packed.load_state_dict(net.state_dict())
    shorter = ids[:2, 3:]  # packing skips padding exactly: less padding, same answer
    with torch.no_grad():
        assert torch.allclose(packed.eval()(ids[:2]), packed(shorter), atol=1e-6)
    with pytest.raises(UsageError, match="unknown pooling 'min'; valid: last, max, mean"):
        model_config("lstm", EmbeddingConfig(50, 6), 1, 9, pooling="min")
    with pytest.raises(UsageError, match="pooling 'max' is for recurrent models"):
        model_config("cnn", EmbeddingConfig(50, 6), 1, 9, pooling="max")


def test_multihot_is_a_dense_network_on_the_set_of_words():
    torch.manual_seed(0)
    net = build_model(model_config("multihot", EmbeddingConfig(30, 4), 1, 8, units=3)).eval()
    with torch.no_grad():
        net.bag_bias.uniform_(-0.1, 0.1)
    ids = torch.tensor([[0, 0, 5, 7, 5, 9, 1, 7], [0] * 8])
    hot = np.zeros((2, 30), np.float32)  # keras-style multi-hot: repeats count once
    hot[0, [1, 5, 7, 9]] = 1.0
    weights = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    first = np.maximum(hot @ weights["embedding.weight"] + weights["bag_bias"], 0)
    hidden = np.maximum(first @ weights["hidden.weight"].T + weights["hidden.bias"], 0)
    expected = hidden @ weights["out.weight"].T + weights["out.bias"]
    with torch.no_grad():
        assert np.allclose(net(ids).numpy(), expected, atol=1e-6)
    bound = np.sqrt(6 / (30 + 4))  # Glorot, as Keras' Dense(vocabulary -> units)
    assert 0.5 * bound < np.abs(weights["embedding.weight"][1:]).max() <= bound


def test_embedding_dropout_only_while_training():
    config = model_config("cnn", EmbeddingConfig(40, 8, dropout=0.5), 1, 40)
    net = build_model(config)
    ids = torch.randint(2, 40, (6, 40))
    with torch.no_grad():
        plain = net.embedding(ids)
        dropped = net.train().embed(ids)
        kept = dropped != 0
        assert 0.3 < kept.float().mean() < 0.7  # about half the features zeroed
        assert torch.allclose(dropped[kept], 2 * plain[kept])  # the rest scaled by 1/(1-p)
        assert torch.equal(net.eval().embed(ids), plain)
        assert torch.equal(net(ids), net(ids))
    with pytest.raises(UsageError, match=r"dropout rates must be in \[0, 1\)"):
        model_config("lstm", EmbeddingConfig(40, 8, dropout=1.0), 1, 40)
    with pytest.raises(UsageError, match="--embedding-dropout -0.1"):
        ClassifierConfig(embedding_dropout=-0.1)


def test_recurrent_dropout_masks_the_hidden_weights_while_training():
    """Weight drop: a training forward equals a plain LSTM whose hidden-to-hidden matrix
    was dropped with the same mask; evaluation uses the weights as trained; the stored
    weights are never replaced and dropped entries get no gradient."""
    config = model_config("lstm", EmbeddingConfig(50, 8), 1, 20, units=6,
                          recurrent_dropout=0.5)
    torch.manual_seed(3)
    net = build_model(config)
    ids = torch.randint(1, 50, (5, 20))
    stored = net.rnn.weight_hh_l0.detach().clone()
    torch.manual_seed(11)
    trained = net.train()(ids)
    torch.manual_seed(11)
    mask = torch.nn.functional.dropout(torch.ones_like(stored), 0.5, True)
    reference = torch.nn.LSTM(8, 6, batch_first=True)
    reference.load_state_dict({**net.rnn.state_dict(), "weight_hh_l0": stored * mask})
    with torch.no_grad():
        _, (h, _) = reference(net.embedding(ids))
        assert torch.allclose(trained.detach(), net.out(h[-1]), atol=1e-6)
        assert 0.3 < (mask == 0).float().mean() < 0.7
        assert not torch.allclose(trained, net.eval()(ids))
        _, (plain, _) = net.rnn(net.embedding(ids))
        assert torch.equal(net(ids), net.out(plain[-1]))  # no dropout when evaluating
    assert torch.equal(net.rnn.weight_hh_l0, stored)
    trained.sum().backward()
    grad = net.rnn.weight_hh_l0.grad
    assert grad is not None and grad.abs().sum() > 0
    assert torch.all(grad[mask == 0] == 0)
    for bad in (1.0, -0.2, float("nan")):
        with pytest.raises(UsageError, match="--recurrent-dropout"):
            ClassifierConfig(recurrent_dropout=bad)
    with pytest.raises(UsageError, match="has no recurrent layer"):
        ClassifierConfig(model="cnn", recurrent_dropout=0.3)
    with pytest.raises(UsageError, match="no recurrent layer"):
        model_config("avgpool", EmbeddingConfig(50, 8), 1, 20, recurrent_dropout=0.3)


def test_recurrent_dropout_trains_and_reloads(pang_lee, tmp_path):
    config = ClassifierConfig(model="gru", epochs=2, seed=5, recurrent_dropout=0.4, **TINY)
    result = train_classifier(pang_lee, config)
    path = tmp_path / "m.pt"
    result.classifier.save(path)
    loaded = TextClassifier.load(path)
    texts = ["a dull and lifeless film", "warm , funny and wise"]
    assert np.array_equal(loaded.predict_scores(texts), result.classifier.predict_scores(texts))
    assert loaded.config.recurrent_dropout == 0.4
    assert loaded.network.config.recurrent_dropout == 0.4


def test_a_baseline_fits_on_training_and_validation_texts():
    """A baseline has no early stopping: the validation texts join its training texts, so
    its report, vocabulary and labels cover both (a label seen only there is known)."""
    texts = ["good fun film", "dull bad film", "good great fun", "bad dull mess"] * 10
    labels = [("pos",), ("neg",), ("pos",), ("neg",)] * 10
    splits = ["train"] * 40
    texts += ["zany odd film", "zany quirky odd"] * 5
    labels += [("odd",), ("odd",)] * 5
    splits += ["validation", "validation"] * 5
    texts += ["good fun", "dull mess", "zany odd"]
    labels += [("pos",), ("neg",), ("odd",)]
    splits += ["test"] * 3
    data = LabelledTexts(texts, labels, splits)
    result = train_classifier(data, ClassifierConfig(model="bow-logreg", max_words=50))
    assert result.info["sizes"] == {"train": 50, "validation": 0, "test": 3}
    assert result.info["labels"] == ["neg", "odd", "pos"]
    assert "zany" in result.classifier.vocabulary.words
    assert result.classifier.predict(["zany quirky"]) == [("odd",)]


def test_deterministic_and_save_load(pang_lee, tmp_path):
    config = ClassifierConfig(model="gru", epochs=2, seed=7, bidirectional=True, layers=2,
                              dropout=0.2, pooling="max", **TINY)
    first, second = (train_classifier(pang_lee, config) for _ in range(2))
    texts = pang_lee.texts
    assert np.array_equal(first.classifier.logits(texts), second.classifier.logits(texts))
    path = first.classifier.save(tmp_path / "gru.pt")
    blob = torch.load(path, weights_only=True)  # plain tensors and JSON, no code
    assert blob["format"] == "embedkit.classifier" and isinstance(blob["meta_json"], str)
    loaded = TextClassifier.load(path)
    assert np.array_equal(loaded.predict_scores(texts), first.classifier.predict_scores(texts))
    assert loaded.predict(texts) == first.classifier.predict(texts)
    assert loaded.network.config == first.classifier.network.config


@pytest.mark.parametrize("model", BASELINE_NAMES)
def test_baseline_save_load(pang_lee, tmp_path, model):
    result = train_classifier(pang_lee, ClassifierConfig(model=model, ngrams=2, **TINY))
    loaded = TextClassifier.load(result.classifier.save(tmp_path / "b.pt"))
    texts = pang_lee.texts
    assert np.array_equal(loaded.predict_scores(texts), result.classifier.predict_scores(texts))


def test_bad_training_data(pang_lee, tmp_path):
    neg = pang_lee.subset([i for i, lab in enumerate(pang_lee.labels) if lab == ("neg",)])
    with pytest.raises(InputFormatError, match=r"one class \(only 'neg'\)"):
        train_classifier(neg, ClassifierConfig(model="bow-logreg"))
    with pytest.raises(UsageError, match="unknown model 'transformer'; valid: flatten"):
        train_classifier(pang_lee, ClassifierConfig(model="transformer"))
    with pytest.raises(UsageError, match="unknown optimizer 'sgd'"):
        train_classifier(pang_lee, ClassifierConfig(model="lstm", optimizer="sgd", **TINY))


def test_training_options_checked_once_without_torch_state():
    config = ClassifierConfig(optimizer="adam", lr=5e-4, epochs=3, monitor="val_accuracy")
    assert config.train_config().optimizer == "adam" and config.train_config().epochs == 3
    for bad, message in (({"epochs": 0}, "epochs must be at least 1, got 0 (--epochs)"),
                         ({"lr": 0.0}, "lr must be > 0, got 0.0 (--lr)"),
                         ({"clip_norm": -1.0}, "clip_norm must be >= 0"),
                         ({"time_budget": -5.0}, "time_budget must be >= 0"),
                         ({"optimizer": "sgd"}, "unknown optimizer 'sgd'; valid: rmsprop, adam")):
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
            ClassifierConfig(**bad)


def test_weight_average_is_an_exponential_moving_average():
    model = torch.nn.Linear(4, 3)
    decay = 0.9
    averager = WeightAverage(model, decay)
    reference = [p.detach().numpy().astype(np.float64).copy() for p in model.parameters()]
    rng = np.random.default_rng(0)
    for step in range(1, 41):  # the live weights jump around; the average follows slowly
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)).astype(np.float32)))
        averager.update()
        d = min(decay, (1 + step) / (10 + step))
        reference = [d * r + (1 - d) * p.detach().numpy() for r, p in
                     zip(reference, model.parameters(), strict=True)]
    live = [p.detach().clone() for p in model.parameters()]
    with averager.applied():
        for p, r in zip(model.parameters(), reference, strict=True):
            np.testing.assert_allclose(p.detach().numpy(), r, rtol=1e-4, atol=1e-5)
    for p, w in zip(model.parameters(), live, strict=True):
        assert torch.equal(p, w)  # the live weights are back after the block


def test_training_with_average_validates_and_keeps_the_averaged_weights(pang_lee):
    base = dict(model="gru", epochs=3, patience=0, seed=3, lr=3e-3, **TINY)
    plain = train_classifier(pang_lee, ClassifierConfig(**base))
    averaged = train_classifier(pang_lee, ClassifierConfig(average=0.95, **base))
    # averaging watches the training but does not change it
    assert [e["loss"] for e in averaged.history.epochs] == \
        [e["loss"] for e in plain.history.epochs]
    assert averaged.history.epochs[-1]["val_loss"] != plain.history.epochs[-1]["val_loss"]
    texts = pang_lee.texts
    assert not np.array_equal(averaged.classifier.logits(texts), plain.classifier.logits(texts))
    # the kept weights are the validated (averaged) ones: their validation loss, by numpy
    val = pang_lee.subset(split_ids(pang_lee.splits, 0.2, 0.2, 3)["validation"])
    z = averaged.classifier.logits(val.texts)[:, 0].astype(np.float64)
    y = np.array([label == ("pos",) for label in val.labels], dtype=np.float64)
    bce = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    best = averaged.history.epochs[averaged.history.best_epoch - 1]
    assert bce == pytest.approx(best["val_loss"], rel=1e-5)
    with pytest.raises(UsageError, match=r"average must be in \[0, 1\), got 1.0"):
        ClassifierConfig(average=1.0)


def test_refit_is_training_again_on_training_and_validation_texts(pang_lee, tmp_path):
    base = dict(model="lstm", epochs=4, patience=0, seed=5, lr=3e-3, average=0.9, **TINY)
    chosen = train_classifier(pang_lee, ClassifierConfig(**base))
    refit = train_classifier(pang_lee, ClassifierConfig(refit=True, **base))
    best = chosen.history.best_epoch
    assert refit.history.best_epoch == best and len(refit.history.refit) == best
    metrics = ("loss", "val_loss", "val_accuracy")  # the selection run is kept
    assert [[e[m] for m in metrics] for e in refit.history.epochs] == \
        [[e[m] for m in metrics] for e in chosen.history.epochs]
    sizes = refit.info["sizes"]
    assert refit.info["refit"] == {"epochs": best, "texts": sizes["train"] + sizes["validation"]}
    # independently: the same texts in data order, no validation, the chosen epochs
    ids = split_ids(pang_lee.splits, 0.2, 0.2, 5)
    everything = pang_lee.subset(np.sort(np.concatenate([ids["train"], ids["validation"]])))
    again = train_classifier(everything, ClassifierConfig(
        **{**base, "epochs": best, "validation": 0.0, "test": 0.0}))
    texts = pang_lee.texts
    assert np.array_equal(refit.classifier.logits(texts), again.classifier.logits(texts))
    assert not np.array_equal(refit.classifier.logits(texts), chosen.classifier.logits(texts))
    assert len(refit.classifier.vocabulary) > len(chosen.classifier.vocabulary)  # + val words
    loaded = TextClassifier.load(refit.classifier.save(tmp_path / "refit.pt"))
    assert loaded.config.refit and loaded.config.epochs == best
    refit.history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_refit_is_a_warned_no_op_for_the_baselines(pang_lee, caplog):
    base = dict(model="tfidf-logreg", max_words=2000)
    plain = train_classifier(pang_lee, ClassifierConfig(**base))
    with caplog.at_level("WARNING", logger="embedkit.classify"):
        refit = train_classifier(pang_lee, ClassifierConfig(refit=True, **base))
    assert "--refit changes nothing" in caplog.text
    texts = pang_lee.texts[:200]
    assert np.array_equal(plain.classifier.logits(texts), refit.classifier.logits(texts))
