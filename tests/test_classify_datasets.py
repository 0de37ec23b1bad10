"""Dataset readers on the real layouts: aclImdb and 20 Newsgroups archives, a folder and a
zip made from real 20 Newsgroups posts, Reuters-21578 ModApte, fastText lines, the
sentence-classification files (latin-1 ones included) and CSV/TSV written from real rows.
Counts are checked against the PROVENANCE files and direct reads with tarfile."""

from __future__ import annotations

import csv
import logging
import tarfile
import zipfile
from collections import Counter

import numpy as np
import pytest

from embedkit.classify.datasets import read_dataset
from embedkit.classify.preprocess import Vocabulary, pad_sequences, split_ids
from embedkit.errors import InputFormatError, NotFoundError, UsageError

SENT = "sentence_classification"


def test_imdb_tar_gz_folder_per_class(shared_data):
    path = shared_data / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz"
    data = read_dataset(path)
    assert data.layout == "folders"
    assert Counter(zip(data.splits, [lab[0] for lab in data.labels], strict=True)) == {
        ("train", "pos"): 12500, ("train", "neg"): 12500,
        ("test", "pos"): 12500, ("test", "neg"): 12500}
    with tarfile.open(path) as tar:  # an independent read of one review
        raw = tar.extractfile("aclImdb/train/pos/0_9.txt").read().decode()
    expected = raw.replace("<br /><br />", " ")
    hits = [t for t in data.texts if t.startswith(expected[:80])]
    assert len(hits) == 1 and "<br" not in hits[0]
    with tarfile.open(path) as tar:  # review i of train/neg is about the film on line i
        urls = tar.extractfile("aclImdb/train/urls_neg.txt").read().decode().split()
        raw = tar.extractfile("aclImdb/train/neg/4002_1.txt").read().decode()
    at = data.texts.index(raw.replace("<br />", " "))
    assert data.groups[at] == urls[4002] and all(data.groups)
    parts = split_ids(data.splits, validation=0.2, seed=0, groups=data.groups)
    films = [{data.groups[i] for i in parts[k]} for k in ("train", "validation")]
    assert not films[0] & films[1] and abs(len(parts["validation"]) - 5000) <= 30


def test_20newsgroups_tar_gz(shared_data):
    data = read_dataset(shared_data / "20newsgroups_bydate" / "20news-bydate.tar.gz")
    assert Counter(data.splits) == {"train": 11314, "test": 7532}
    assert len(data.label_names) == 20 and "sci.space" in data.label_names
    assert not data.multi_label


def _newsgroup_members(shared_data, classes=("rec.autos", "sci.med"), per_class=15):
    path = shared_data / "20newsgroups_bydate" / "20news-bydate.tar.gz"
    taken: dict[str, list[tuple[str, bytes]]] = {c: [] for c in classes}
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and parts[0].endswith("train") and parts[1] in taken \
                    and len(taken[parts[1]]) < per_class:
                taken[parts[1]].append((parts[2], tar.extractfile(member).read()))
            if all(len(v) == per_class for v in taken.values()):
                break
    return taken


def test_plain_folder_and_zip_of_real_posts(shared_data, tmp_path):
    taken = _newsgroup_members(shared_data)
    folder = tmp_path / "news"
    with zipfile.ZipFile(tmp_path / "news.zip", "w") as archive:
        for cls, files in taken.items():
            (folder / cls).mkdir(parents=True)
            for name, raw in files:
                (folder / cls / name).write_bytes(raw)
                archive.writestr(f"news/train/{cls}/{name}", raw)
    (folder / "README").write_text("not a document\n")
    plain = read_dataset(folder)
    zipped = read_dataset(tmp_path / "news.zip")
    assert plain.counts() == zipped.counts() == {"rec.autos": 15, "sci.med": 15}
    assert set(plain.splits) == {""} and set(zipped.splits) == {"train"}
    assert sorted(plain.texts) == sorted(zipped.texts)


def test_reuters_modapte(shared_data):
    data = read_dataset(shared_data / "reuters21578")
    assert data.layout == "reuters" and data.multi_label
    # LEWISSPLIT TRAIN/TEST with TOPICS="YES" (PROVENANCE.md), before dropping topic-less docs
    assert data.info["modapte_train"] == 9603 and data.info["modapte_test"] == 3299
    # the standard ModApte counts of documents with at least one topic: 7,775 / 3,019
    assert Counter(data.splits) == {"train": 7775, "test": 3019}
    pairs = list(zip(data.labels, data.splits, strict=True))
    train = Counter(t for labs, split in pairs if split == "train" for t in labs)
    test = Counter(t for labs, split in pairs if split == "test" for t in labs)
    assert len(set(train) & set(test)) == 90  # the usual "90 categories"
    assert (train["earn"], test["earn"], train["acq"], test["acq"]) == (2877, 1087, 1650, 719)
    first = data.texts[0]
    assert first.startswith("BAHIA COCOA REVIEW") and data.labels[0] == ("cocoa",)
    assert any("\u00fc" in t for t in data.texts)  # reut2-017's latin-1 byte, decoded


def test_fasttext_lines(gensim_data, tmp_path):
    path = gensim_data / "pang_lee_polarity.cor"
    data = read_dataset(path)
    assert data.layout == "fasttext" and data.counts() == {"neg": 100, "pos": 100}
    assert data.texts[0] == "simplistic , silly and tedious ."
    lines = path.read_bytes().split(b"\n")
    multi = tmp_path / "multi.txt"
    multi.write_bytes(b"__label__a " + lines[0] + b"\n" + lines[150] + b"\n")
    two = read_dataset(multi)
    assert two.multi_label and two.labels == [("a", "neg"), ("pos",)]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(lines[0] + b"\n" + lines[1].replace(b"__label__neg ", b"") + b"\n")
    with pytest.raises(InputFormatError, match=r"bad.txt:2: .*no __label__"):
        read_dataset(bad, layout="fasttext")
    # fastText reads a __label__ word anywhere in the line as a label, not as text
    anywhere = tmp_path / "anywhere.txt"
    anywhere.write_text("a dull film __label__neg\nfun __label__pos and __label__good\n")
    moved = read_dataset(anywhere)
    assert moved.layout == "fasttext"
    assert moved.texts == ["a dull film", "fun and"]
    assert moved.labels == [("neg",), ("pos", "good")]


def test_a_fasttext_label_written_twice_is_one_label(gensim_data, tmp_path):
    """``__label__pos __label__pos text`` is one label: the set stays single-label (one such
    line made the whole set multi-label, trained with BCE and scored by subset accuracy)."""
    lines = (gensim_data / "pang_lee_polarity.cor").read_bytes().split(b"\n")[:200]
    doubled = tmp_path / "doubled.txt"
    doubled.write_bytes(b"\n".join([lines[0].replace(b"__label__neg", b"__label__neg " * 2),
                                    *lines[1:]]) + b"\n")
    data = read_dataset(doubled)
    assert not data.multi_label and data.labels[0] == ("neg",)
    assert data.labels == read_dataset(gensim_data / "pang_lee_polarity.cor").labels[:200]


@pytest.mark.parametrize("name, n, classes, split, replaced", [
    ("rt-polarity.all", 10662, 2, "", 202),
    ("stsa.binary.train", 6920, 2, "train", 0),
    ("stsa.binary.dev", 872, 2, "validation", 0),
    ("stsa.binary.test", 1821, 2, "test", 0),
    ("TREC.train.all", 5452, 6, "train", 1),
    ("TREC.test.all", 500, 6, "test", 0),
    ("subj.all", 10000, 2, "", 113),
    ("custrev.all", 3771, 2, "", 0),  # 3,775 lines, 4 of them a label without text
    ("mpqa.all", 10603, 2, "", 0),  # 10,606 lines, 3 without text
])
def test_sentence_files(shared_data, name, n, classes, split, replaced):
    data = read_dataset(shared_data / SENT / name)
    assert data.layout == "label-first"
    assert (len(data), len(data.label_names), set(data.splits), data.replaced) == \
        (n, classes, {split}, replaced)


def test_latin1_sentences_decode_exactly(shared_data):
    path = shared_data / SENT / "rt-polarity.all"
    as_latin1 = read_dataset(path, encoding="latin-1")
    assert as_latin1.replaced == 0
    raw = path.read_bytes().split(b"\n")
    bad = next(i for i, line in enumerate(raw) if line and not _utf8(line))
    assert as_latin1.texts[bad] == raw[bad].decode("latin-1").split(None, 1)[1].strip()
    assert "\ufffd" in read_dataset(path).texts[bad]


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_csv_and_tsv_from_real_rows(shared_data, tmp_path):
    source = read_dataset(shared_data / SENT / "TREC.test.all")
    rows = list(zip(source.texts[:50], [lab[0] for lab in source.labels[:50]], strict=True))
    with open(tmp_path / "trec.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "question", "label"])
        writer.writerows([i, f'{t} "quoted", comma', lab] for i, (t, lab) in enumerate(rows))
    data = read_dataset(tmp_path / "trec.csv", text_column="question")
    assert data.layout == "table" and len(data) == 50
    assert data.texts[3] == f'{rows[3][0]} "quoted", comma' and data.labels[3] == (rows[3][1],)
    (tmp_path / "trec.tsv").write_text("".join(f"{lab}\t{t}\n" for t, lab in rows))
    by_index = read_dataset(tmp_path / "trec.tsv", text_column=1, label_column=0)
    guessed = read_dataset(tmp_path / "trec.tsv")
    assert by_index.texts == guessed.texts == [t for t, _ in rows]
    (tmp_path / "gap.tsv").write_text("label\ttext\n0\tfine\n\tno label here\n")
    with pytest.raises(InputFormatError, match=r"gap.tsv:3: row has no label"):
        read_dataset(tmp_path / "gap.tsv")
    with pytest.raises(UsageError, match="no column named 'nope'"):
        read_dataset(tmp_path / "trec.csv", text_column="nope")


def test_empty_and_unknown_layouts(tmp_path, gensim_data):
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(InputFormatError, match="empty.txt"):
        read_dataset(tmp_path / "empty.txt")
    with pytest.raises(UsageError, match="unknown dataset format 'xml'; valid: auto"):
        read_dataset(gensim_data / "pang_lee_polarity.cor", layout="xml")
    forced = read_dataset(gensim_data / "pang_lee_polarity.cor", layout="label-first")
    assert forced.label_names == ["__label__neg", "__label__pos"]


def test_vocabulary_padding_and_splits(gensim_data):
    data = read_dataset(gensim_data / "pang_lee_polarity.cor")
    tokens = [t.split() for t in data.texts]
    vocab = Vocabulary.build(tokens, max_words=50)
    counts = Counter(w for toks in tokens for w in toks)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[:50]
    assert list(vocab.words) == ranked and len(vocab) == 52
    ids = vocab.ids([["the", "zzz-unknown"]])[0]
    assert ids.tolist() == [vocab.word_index["the"], 1] and vocab.word_index[ranked[0]] == 2
    seqs = [np.arange(2, 9)]
    assert pad_sequences(seqs, 4).tolist() == [[5, 6, 7, 8]]  # Keras: keep the last tokens
    assert pad_sequences(seqs, 4, truncating="post").tolist() == [[2, 3, 4, 5]]
    assert pad_sequences(seqs, 9).tolist() == [[0, 0, 2, 3, 4, 5, 6, 7, 8]]
    assert pad_sequences(seqs, 9, padding="post").tolist() == [[2, 3, 4, 5, 6, 7, 8, 0, 0]]
    parts = split_ids([""] * 100, validation=0.25, test=0.2, seed=3)
    assert [len(parts[k]) for k in ("train", "validation", "test")] == [60, 20, 20]
    assert np.array_equal(np.sort(np.concatenate(list(parts.values()))), np.arange(100))
    again = split_ids([""] * 100, validation=0.25, test=0.2, seed=3)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    own = split_ids(["train"] * 8 + ["test"] * 2 + ["validation"] * 3)
    assert own["test"].tolist() == [8, 9] and own["validation"].tolist() == [10, 11, 12]


def test_batch_ids_equal_the_word_by_word_mapping(gensim_data):
    """Vocabulary.ids looks a whole batch up at once; each text's ids are still exactly the
    simple per-word mapping (unknown -> 1), empty texts included, in order."""
    data = read_dataset(gensim_data / "pang_lee_polarity.cor")
    tokens = [t.lower().split() for t in data.texts]
    vocab = Vocabulary.build(tokens[:1000], max_words=300)
    batch = [[], *tokens, [], ["zzz-unknown"], ["the"] * 3, []]
    index = vocab.word_index
    expected = [np.array([index.get(w, 1) for w in toks], dtype=np.int64) for toks in batch]
    got = vocab.ids(batch)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.int64 and np.array_equal(g, e)
    assert any((e == 1).any() for e in expected) and any((e > 1).any() for e in expected)
    assert [a.tolist() for a in vocab.ids(iter(batch[-3:]))] == [[1], [index["the"]] * 3, []]
    assert vocab.ids([]) == [] and vocab.ids(iter([])) == []


def test_grouped_splits_keep_each_group_on_one_side():
    rng = np.random.default_rng(1)
    groups = [f"film{g}" for g in rng.integers(0, 40, size=400)] + [""] * 100
    for seed in range(5):
        parts = split_ids([""] * 500, validation=0.25, test=0.2, seed=seed, groups=groups)
        assert np.array_equal(np.sort(np.concatenate(list(parts.values()))), np.arange(500))
        sides = [{groups[i] for i in parts[k]} - {""} for k in parts]
        assert all(not (a & b) for i, a in enumerate(sides) for b in sides[i + 1:])
        biggest = max(Counter(groups[:400]).values())
        assert abs(len(parts["test"]) - 100) <= biggest
        assert abs(len(parts["validation"]) - 0.25 * (500 - len(parts["test"]))) <= biggest
    ungrouped = split_ids([""] * 500, validation=0.25, test=0.2, seed=3, groups=[""] * 500)
    plain = split_ids([""] * 500, validation=0.25, test=0.2, seed=3)
    assert all(np.array_equal(plain[k], ungrouped[k]) for k in plain)


def test_acl_imdb_url_lists_name_each_reviews_film(tmp_path):
    root = tmp_path / "aclImdb" / "train"
    for label, ids in (("pos", (0, 2, 10)), ("neg", (1,))):
        (root / label).mkdir(parents=True)
        for i in ids:
            (root / label / f"{i}_{7 if label == 'pos' else 2}.txt").write_text(f"review {i}")
        lines = [f"http://imdb/{label}/tt{n}" for n in range(11)]
        (root / f"urls_{label}.txt").write_text("\n".join(lines) + "\n")
    data = read_dataset(tmp_path)
    got = dict(zip(data.texts, data.groups, strict=True))
    assert got == {"review 0": "http://imdb/pos/tt0", "review 2": "http://imdb/pos/tt2",
                   "review 10": "http://imdb/pos/tt10", "review 1": "http://imdb/neg/tt1"}


def test_classifier_draws_validation_by_group_unless_told_not_to(gensim_data):
    from embedkit.classify.classifier import ClassifierConfig, _split

    data = read_dataset(gensim_data / "pang_lee_polarity.cor")
    data.groups = [f"g{i // 7}" for i in range(len(data))]
    for grouped in (True, False):
        _, ids = _split(data, ClassifierConfig(group_split=grouped), None)
        train, val = ({data.groups[i] for i in ids[k]} for k in ("train", "validation"))
        assert bool(train & val) is not grouped


# -- table and label-first reader fixes ---------------------------------------------------
@pytest.fixture()
def warned(caplog, monkeypatch):
    """Warnings of embedkit.classify (caught even after a CLI run stopped propagation)."""
    monkeypatch.setattr(logging.getLogger("embedkit"), "propagate", True)
    caplog.set_level("WARNING", logger="embedkit.classify")
    return caplog


def _sst_rows(shared_data, n):
    source = read_dataset(shared_data / SENT / "stsa.binary.dev")
    return list(zip(source.texts[:n], [lab[0] for lab in source.labels[:n]], strict=True))


def test_tsv_cells_are_literal_an_open_quote_swallows_nothing(shared_data, tmp_path):
    rows = _sst_rows(shared_data, 30)
    rows[4] = ('"' + rows[4][0], rows[4][1])  # an unclosed quote, as in real review text
    path = tmp_path / "sst.tsv"
    path.write_text("".join(f"{lab}\t{text}\n" for text, lab in rows))
    data = read_dataset(path)
    assert data.texts == [t for t, _ in rows] and data.texts[4].startswith('"')
    assert [lab[0] for lab in data.labels] == [lab for _, lab in rows]


def test_signed_integer_labels_as_svmlight_writes_them(shared_data, tmp_path):
    """``-1 text`` / ``+1 text`` lines: both signs are integer labels, whichever comes first
    (a ``+1`` after a ``-1`` was refused as "line has no label")."""
    rows = _sst_rows(shared_data, 60)
    for first in ("0", "1"):
        ordered = sorted(rows, key=lambda row: row[1] != first)
        path = tmp_path / f"signed{first}.txt"
        path.write_text("".join(f"{'+1' if lab == '1' else '-1'} {text}\n"
                                for text, lab in ordered))
        data = read_dataset(path)
        assert data.layout == "label-first" and data.label_names == ["+1", "-1"]
        assert data.texts == [text for text, _ in ordered]
        assert [lab[0] == "+1" for lab in data.labels] == [lab == "1" for _, lab in ordered]
    mixed = tmp_path / "mixed.txt"
    mixed.write_text("-1 a dull film\n+1 a fine film\npos a word label\n")
    with pytest.raises(InputFormatError, match=r"mixed.txt:3: line has no label"):
        read_dataset(mixed, layout="label-first")


def test_csv_keeps_quoting_but_a_runaway_quote_is_an_error(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text('text,label\n"two\nlines, one cell",pos\n"say ""hi""",neg\nplain,pos\n')
    data = read_dataset(good)
    assert data.texts == ["two\nlines, one cell", 'say "hi"', "plain"]
    bad = tmp_path / "bad.csv"
    bad.write_text('label,text\npos,good film\nneg,"bad start of quote\npos,nice one\n'
                   "neg,awful\n")
    with pytest.raises(InputFormatError, match=r'bad.csv:3: a quoted cell .* never closed'):
        read_dataset(bad)


def test_an_unquoted_delimiter_in_a_text_is_an_error_not_a_shifted_label(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("text,label\ngood fun film,pos\nbad, dull film,neg\nfine,pos\n")
    with pytest.raises(InputFormatError, match=r"t.csv:3: row has 3 cells where the table "
                                               r"has 2 \(split on ','\); put a text"):
        read_dataset(table)
    table.write_text("text,label\ngood fun film,pos,\n\"bad, dull film\",neg\nfine,pos\n")
    data = read_dataset(table)  # quoted, and an empty trailing cell: fine
    assert data.texts == ["good fun film", "bad, dull film", "fine"]
    assert data.labels == [("pos",), ("neg",), ("pos",)]


def test_utf8_byte_order_mark_is_dropped(tmp_path):
    table = tmp_path / "bom.tsv"
    table.write_bytes("\ufefftext\tlabel\ngood film\tpos\nbad film\tneg\n".encode())
    data = read_dataset(table)
    assert data.texts == ["good film", "bad film"] and data.label_names == ["neg", "pos"]
    lines = tmp_path / "bom.txt"
    lines.write_bytes("\ufeffpos good film\nneg bad film\n".encode())
    assert read_dataset(lines, layout="label-first").label_names == ["neg", "pos"]


def test_rows_without_text_are_skipped_with_one_warning(tmp_path, warned):
    path = tmp_path / "gaps.csv"
    path.write_text("text,label\ngood,pos\n,neg\nbad,neg\n  ,pos\nfine,pos\n")
    data = read_dataset(path)
    assert data.texts == ["good", "bad", "fine"]
    skipped = [r.getMessage() for r in warned.records if "skipped" in r.getMessage()]
    assert skipped == [f"{path}: skipped 2 rows with a label but no text (first: line 3)"]


def test_messages_name_columns_as_the_options_take_them(tmp_path):
    headed = tmp_path / "headed.csv"
    headed.write_text("text,label\ngood,pos\nbad,\n")
    with pytest.raises(InputFormatError,
                       match=r"headed.csv:3: row has no label \(column 'label' \(index 1\)\)"):
        read_dataset(headed)
    bare = tmp_path / "bare.csv"
    bare.write_text("pos,good film\nneg,bad film\n,no label\n")
    with pytest.raises(InputFormatError, match=r"bare.csv:3: row has no label \(column index 0\)"):
        read_dataset(bare, text_column=1, label_column=0)


def test_a_column_past_the_last_is_a_usage_error(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text("a,b,c\nx,good,pos\ny,bad,neg\n")
    with pytest.raises(UsageError, match=r"has 3 columns .*; --text-column 5 does not exist"):
        read_dataset(path, text_column="5", label_column="2")
    with pytest.raises(UsageError, match=r"--label-column 3 does not exist"):
        read_dataset(path, text_column=1, label_column=3)


def test_text_and_label_in_one_column_or_labels_that_are_texts(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,label\n" + "".join(f"review number {i},x{i % 2}\n" for i in range(80)))
    with pytest.raises(UsageError, match=r"both column 'review' \(index 0\)"):
        read_dataset(path, text_column="review", label_column="review")
    with pytest.raises(InputFormatError, match=r"look like text: 80 distinct labels") as err:
        read_dataset(path, text_column="label", label_column="review")
    message = str(err.value)
    assert "... (80 in all)" in message and "review number 79" not in message
    assert "--label-column" in message and "\n" not in message
    assert len(read_dataset(path)) == 80  # two labels: fine
    intents = tmp_path / "intents.csv"  # many classes, few texts each: still labels
    intents.write_text("text,label\n" + "".join(f"ask {i},intent{i % 100}\n" for i in range(150)))
    assert len(read_dataset(intents).label_names) == 100


def test_header_guess_with_integer_columns(shared_data, tmp_path, warned):
    source = read_dataset(shared_data / SENT / "TREC.test.all")
    rows = list(zip(source.texts[:40], [lab[0] for lab in source.labels[:40]], strict=True))
    body = "".join(f'{lab},"{t}"\n' for t, lab in rows)
    (tmp_path / "bare.csv").write_text(body)
    (tmp_path / "headed.csv").write_text("qtype,question\n" + body)
    for name in ("bare.csv", "headed.csv"):
        for columns in (("1", "0"), (1, 0)):
            data = read_dataset(tmp_path / name, text_column=columns[0], label_column=columns[1])
            assert data.texts == [t for t, _ in rows], name
    words = tmp_path / "words.csv"  # word labels, a header of names, longer texts below
    words.write_text("id,review text,polarity\n1,a fine film all round,pos\n"
                     "2,a dull film from start to end,neg\n3,pos,pos\n")
    assert read_dataset(words, text_column=1, label_column=2).texts[0] == "a fine film all round"
    assert "line 1 is read as data" not in warned.text
    one = tmp_path / "one.csv"  # a class seen once, in row 1: kept, but warned about
    one.write_text("rare,only once\npos,good film here\nneg,bad film here\n")
    assert len(read_dataset(one, text_column=1, label_column=0)) == 3
    assert "line 1 is read as data" in warned.text


def test_of_two_columns_one_known_names_the_other(shared_data, tmp_path):
    """A two-column table whose header names one column (``Sentiment,Review Text``), or
    where one column is given, has its text or labels in the other column."""
    rows = _sst_rows(shared_data, 40)
    expected = ([text for text, _ in rows], [(lab,) for _, lab in rows])
    named = tmp_path / "named.csv"
    named.write_text("Sentiment,Review Text\n" + "".join(f'{lab},"{text}"\n'
                                                           for text, lab in rows))
    for options in ({}, {"label_column": "sentiment"}, {"text_column": "Review Text"}):
        data = read_dataset(named, **options)
        assert (data.texts, data.labels) == expected, options
    bare = tmp_path / "bare.csv"
    bare.write_text("".join(f'"{text}",{lab}\n' for text, lab in rows))
    for options in ({"label_column": "1"}, {"text_column": 0}):
        assert (read_dataset(bare, **options).texts, read_dataset(bare, **options).labels) \
            == expected
    headed = tmp_path / "headed.csv"
    headed.write_text("review text,polarity\n" + bare.read_text())
    data = read_dataset(headed, label_column=1)
    assert (data.texts, data.labels) == expected


def test_one_column_tables_hint_at_the_delimiter(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("text;label\ngood;pos\nbad;neg\n")
    with pytest.raises(InputFormatError, match=r"one column when split on ','.*--delimiter ';'"):
        read_dataset(path, delimiter=",")
    assert read_dataset(path).texts == ["good", "bad"]  # the semicolon is found
    assert read_dataset(path, delimiter=";").texts == ["good", "bad"]


def test_a_semicolon_table_whose_texts_hold_commas(shared_data, tmp_path):
    """Commas inside the texts of a semicolon table (as spreadsheets export it) give some
    rows several cells when split on commas: the semicolon, on every line once, is found
    (a comma table whose texts hold semicolons stays a comma table)."""
    rows = [(text, lab) for text, lab in _sst_rows(shared_data, 40) if ";" not in text]
    assert any("," in text for text, _ in rows) and "," not in rows[0][0]
    path = tmp_path / "semi.csv"
    path.write_text("".join(f"{lab};{text}\n" for text, lab in rows))
    data = read_dataset(path)
    assert data.texts == [text for text, _ in rows]
    assert data.labels == [(lab,) for _, lab in rows]
    commas = tmp_path / "commas.csv"  # a comma table whose texts hold one ';' each
    commas.write_text("".join(f'"{text}; so",{lab}\n' for text, lab in rows))
    assert read_dataset(commas).texts == [f"{text}; so" for text, _ in rows]


def test_a_file_whose_name_makes_it_test_data_says_so_when_trained_on(shared_data, tmp_path):
    from embedkit.classify.classifier import ClassifierConfig, train_classifier

    data = read_dataset(shared_data / SENT / "stsa.binary.test")
    assert set(data.splits) == {"test"}
    with pytest.raises(InputFormatError, match="every text is in the data's own test split.*"
                       "pass this one as --test-data"):
        train_classifier(data, ClassifierConfig(model="bow-logreg"))
    (tmp_path / "x.dev.txt").write_text("pos good film\nneg bad film\n")
    dev = read_dataset(tmp_path / "x.dev.txt", layout="label-first")  # 2 lines: ambiguous
    assert set(dev.splits) == {"validation"}
    with pytest.raises(InputFormatError, match="own validation split"):
        train_classifier(dev, ClassifierConfig(model="bow-logreg"))


def test_several_files_joined_with_the_splits_their_names_give(shared_data):
    names = ("stsa.fine.train", "stsa.fine.dev", "stsa.fine.test")
    paths = [shared_data / SENT / name for name in names]
    data = read_dataset(paths)
    alone = [read_dataset(path) for path in paths]
    assert data.texts == [t for part in alone for t in part.texts]
    assert data.labels == [lab for part in alone for lab in part.labels]
    assert Counter(data.splits) == {"train": 8544, "validation": 1101, "test": 2210}
    assert data.layout == "label-first" and data.source == ", ".join(map(str, paths))
    assert read_dataset(paths[:1]).texts == alone[0].texts  # a list of one = that file


def test_several_files_mixed_layouts_and_bad_lists(gensim_data, tmp_path):
    lines = (gensim_data / "pang_lee_polarity.cor").read_text("utf-8", "replace").splitlines()
    train = tmp_path / "pl.train"
    train.write_text("\n".join(lines[:150]) + "\n")
    test = tmp_path / "pl.test.csv"  # the same texts as a table, no split in the name
    with test.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "text"])
        for line in lines[150:]:
            label, _, text = line.partition(" ")
            writer.writerow([label.replace("__label__", ""), text])
    data = read_dataset([train, test])
    assert data.layout == "fasttext+table" and len(data) == 200
    assert Counter(data.splits) == {"train": 150, "test": 50}
    assert set(data.labels[0] + data.labels[-1]) <= {"pos", "neg"}
    with pytest.raises(UsageError, match="given twice"):
        read_dataset([train, tmp_path / ".." / tmp_path.name / "pl.train"])
    with pytest.raises(UsageError, match="no data given"):
        read_dataset([])
    with pytest.raises(NotFoundError, match="missing.dev: no such file"):
        read_dataset([train, tmp_path / "missing.dev"])


def test_a_short_plain_text_file_is_not_taken_for_labelled_lines(tmp_path):
    """Two lines of prose: their first words ("a", "moving") were read as two labels and a
    model was trained on two texts without a word."""
    plain = tmp_path / "more_texts.txt"
    plain.write_text("a dull mess\nmoving and sharp\n")
    with pytest.raises(InputFormatError, match="cannot tell the layout.*pass --format"):
        read_dataset(plain)
    assert read_dataset(plain, layout="label-first").labels == [("a",), ("moving",)]
    labelled = tmp_path / "few.txt"  # words as labels repeat: still detected
    labelled.write_text("pos great fun\nneg dull\npos moving\n")
    assert read_dataset(labelled).layout == "label-first"
