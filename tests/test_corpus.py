"""Corpus reading on real files: gensim's test data and ../shared/data."""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import re
import shutil
import signal
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from embedkit import pieces
from embedkit.corpus import DEFAULT_EXCLUDE, Corpus, CorpusConfig, detect_format
from embedkit.errors import EmbedkitError, InputFormatError, NotFoundError, UsageError
from embedkit.pieces import ordered_map
from embedkit.sources import wanted
from embedkit.tokens import TokenizerConfig, tokenize

WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def salammbo_chapters(shared_data: Path, n: int = 3) -> list[Path]:
    return sorted((shared_data / "salammbo" / "text").glob("salammbo_ch*.txt"))[:n]


# --- gensim's bundled corpora ------------------------------------------------------------------

def test_lines_format_gives_one_document_per_line(gensim_data):
    path = gensim_data / "lee_background.cor"
    corpus = Corpus(path, CorpusConfig(format="lines"))
    docs = list(corpus.token_documents())
    lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(docs) == len(lines) == corpus.stats.documents == 300
    assert docs[5] == tokenize(lines[5])
    assert corpus.stats.tokens == sum(map(len, docs))
    assert corpus.stats.files == 1 and corpus.stats.replaced_bytes == 0


def test_bz2_text_reads_like_its_plain_twin(gensim_data):
    plain = Corpus(gensim_data / "head500.noblanks.cor", CorpusConfig(format="lines"))
    packed = Corpus(gensim_data / "head500.noblanks.cor.bz2", CorpusConfig(format="lines"))
    docs = list(packed.token_documents())
    assert docs == list(plain.token_documents())
    lines = (gensim_data / "head500.noblanks.cor").read_text("utf-8").splitlines()
    assert len(docs) == len(lines) > 100


def test_wikipedia_dump_gives_clean_articles(gensim_data):
    corpus = Corpus(gensim_data / WIKI)
    texts = list(corpus.documents())
    assert corpus.stats.formats == {"wiki": 1}
    # reference: gensim's own page reader, main namespace, without redirects
    from gensim.corpora.wikicorpus import extract_pages

    with bz2.open(gensim_data / WIKI) as f:
        pages = [text for _, text, _ in extract_pages(f, filter_namespaces=("0",))
                 if text and not text.lstrip().lower().startswith("#redirect")]
    assert len(texts) == len(pages) > 50
    assert texts[0].startswith("Anarchism is a political philosophy")
    for leftover in ("[[", "]]", "{{", "}}", "'''", "<ref", "&amp;"):
        assert not any(leftover in t for t in texts), leftover
    keep = TokenizerConfig(punctuation="keep")
    tokens = [t for text in texts for t in tokenize(text, keep)]
    assert tokens.count("|") < 1e-4 * len(tokens)
    assert {"anarchism", "kropotkin", "proudhon"} <= set(tokens)


def test_utf16_wikipedia_dump_with_a_byte_order_mark(gensim_data):
    corpus = Corpus(gensim_data / "bgwiki-latest-pages-articles-shortened.xml.bz2")
    docs = list(corpus.token_documents())
    # three pages: one article and two in the "Уикипедия:" namespace (4), which is skipped
    assert len(docs) == 1 and corpus.stats.skipped == []
    assert {"григорианският", "календар"} <= set(docs[0])


# --- Reuters SGML ------------------------------------------------------------------------------

def test_reuters_sgml_one_document_per_reuters_element(shared_data):
    path = shared_data / "reuters21578" / "reut2-000.sgm.gz"
    raw = gzip.decompress(path.read_bytes()).decode("latin-1")
    corpus = Corpus(path)
    docs = list(corpus.documents())
    assert corpus.stats.formats == {"sgml": 1}
    assert len(docs) == raw.count("<REUTERS") == 1000
    assert docs[0].startswith("BAHIA COCOA REVIEW\n")
    assert "Showers continued throughout the week" in docs[0]
    # metadata (dates, topics, places) is not text
    assert "26-FEB-1987" in raw and not any("26-FEB-1987" in d for d in docs)
    assert "<D>cocoa</D>" in raw and not any(d.startswith("cocoa") for d in docs)
    # UNPROC stories have text directly in <TEXT>
    assert any(d.startswith("FEDERAL RESERVE WEEKLY REPORT") for d in docs)


def test_reuters_latin1_file_replaced_and_counted_or_decoded(shared_data, caplog):
    path = shared_data / "reuters21578" / "reut2-017.sgm.gz"
    raw = gzip.decompress(path.read_bytes())
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        utf8 = Corpus(path)
        docs = list(utf8.documents())
    assert utf8.stats.replaced_bytes == 1  # the single 0xFC byte
    assert "replaced 1 undecodable byte" in caplog.text and "reut2-017" in caplog.text
    assert len(docs) == raw.count(b"<REUTERS")
    assert sum(d.count("\ufffd") for d in docs) == 1
    latin1 = Corpus(path, CorpusConfig(encoding="latin-1"))
    docs1 = list(latin1.documents())
    assert latin1.stats.replaced_bytes == 0 and len(docs1) == len(docs)
    assert sum(d.count("ü") for d in docs1) == sum(d.count("ü") for d in docs) + 1


# --- IMDB tarball ------------------------------------------------------------------------------

def test_imdb_tarball_reviews_only_and_a_split_in_parallel(shared_data):
    path = shared_data / "imdb_aclImdb" / "aclImdb_v1_labelled.tar.gz"
    with tarfile.open(path, "r|gz") as archive:  # reference pass: names and one raw review
        names, n_pos, raw, raw_index = [], 0, "", -1
        for member in archive:  # find the first test/pos review with a <br /> tag
            names.append(member.name)
            if member.name.startswith("aclImdb/test/pos/"):
                if raw_index < 0:
                    raw = archive.extractfile(member).read().decode("utf-8")
                    raw_index = n_pos if "<br />" in raw else -1
                n_pos += 1
    reviews = [n for n in names if re.fullmatch(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt", n)]
    assert len(reviews) == 50_000 and len(names) > len(reviews)
    # the default exclusions keep exactly the reviews (no README, imdb.vocab, urls_*.txt)
    assert [n for n in names if n.endswith("/") is False and wanted(n, None, DEFAULT_EXCLUDE)
            and "." in n.rsplit("/", 1)[-1]] == reviews

    corpus = Corpus(path, CorpusConfig(glob="test/pos/*.txt"))
    batches = list(corpus.token_batches(batch_bytes=1 << 20, workers=2))
    docs = [doc for batch in batches for doc in batch]
    assert len(batches) > 5 and len(docs) == corpus.stats.documents == 12_500
    assert corpus.stats.members == 12_500 and corpus.stats.tokens == sum(map(len, docs))
    assert n_pos == 12_500 and docs[raw_index] == tokenize(raw.replace("<br />", " "))
    # <br /> tags are removed, not tokenised ("br" survives only as a real word, "the BR")
    assert sum(doc.count("br") for doc in docs) < 10


def test_parallel_batches_equal_the_serial_documents(gensim_data, shared_data):
    """Mixed formats and modes, small batches: same tokens, same order, with 2 workers."""
    paths = [gensim_data / "lee_background.cor", *salammbo_chapters(shared_data, 2),
             shared_data / "reuters21578" / "reut2-000.sgm.gz"]
    for config in (CorpusConfig(), CorpusConfig(sentences=True)):
        corpus = Corpus(paths, config)
        tokenizer = TokenizerConfig(numbers="replace", punctuation="keep")
        serial = list(corpus.token_documents(tokenizer))
        stats = corpus.stats.to_dict()
        batches = list(corpus.token_batches(tokenizer, batch_bytes=20_000, workers=2))
        assert [doc for batch in batches for doc in batch] == serial
        assert corpus.stats.to_dict() == stats and len(batches) > 20
        assert len(serial) == 1003 if not config.sentences else len(serial) > 3000


# --- compression, archives, folders ------------------------------------------------------------

@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open),
                                            (".xz", lzma.open)])
def test_compressed_round_trips(shared_data, tmp_path, suffix, opener):
    source = salammbo_chapters(shared_data, 1)[0]
    packed = tmp_path / (source.name + suffix)
    with opener(packed, "wb") as f:
        f.write(source.read_bytes())
    plain = list(Corpus(source).token_documents())
    assert list(Corpus(packed).token_documents()) == plain
    assert len(plain) == 1 and len(plain[0]) > 5000


@pytest.mark.parametrize("kind", ["tar.gz", "tar.xz", "zip"])
def test_archives_read_like_the_folder(shared_data, tmp_path, kind):
    chapters = salammbo_chapters(shared_data, 3)
    folder = tmp_path / "book"
    (folder / "part").mkdir(parents=True)
    for i, chapter in enumerate(chapters):
        shutil.copy(chapter, folder / ("part" if i else "") / chapter.name)
    archive = tmp_path / f"book.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            for file in sorted(folder.rglob("*.txt")):
                z.write(file, file.relative_to(tmp_path).as_posix())
    else:
        with tarfile.open(archive, "w:" + kind.split(".")[1]) as t:
            for file in sorted(folder.rglob("*.txt")):
                t.add(file, file.relative_to(tmp_path).as_posix())
    from_archive = Corpus(archive)
    docs = list(from_archive.token_documents())
    from_folder = sorted(Corpus(folder).token_documents(), key=len)
    assert sorted(docs, key=len) == from_folder and len(docs) == 3
    assert from_archive.stats.members == 3 and from_archive.stats.files == 1
    only_part = Corpus(archive, CorpusConfig(glob="part/*.txt"))
    assert len(list(only_part.documents())) == 2


def _zip_with_odd_member(path: Path, method: int | None = None) -> None:
    """A zip of ``a.txt`` (marked encrypted, or packed with ``method``) and a readable ``b.txt``."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.txt", "locked words here")
        z.writestr("b.txt", "plain words here")
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    if method is None:  # set bit 0 of the flags: "encrypted"
        data[local + 6] |= 1
        data[central + 8] |= 1
    else:
        data[local + 8:local + 10] = method.to_bytes(2, "little")
        data[central + 10:central + 12] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("method, reason", [(None, "encrypted"), (9, "compression method")])
def test_an_unreadable_zip_member_is_skipped_and_the_others_read(tmp_path, caplog, method,
                                                                  reason):
    archive = tmp_path / "odd.zip"
    _zip_with_odd_member(archive, method)
    corpus = Corpus(archive)
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        docs = list(corpus.token_documents())
    assert docs == [["plain", "words", "here"]]
    skipped = dict(corpus.stats.skipped)
    assert list(skipped) == [f"{archive}:a.txt"] and reason in skipped[f"{archive}:a.txt"]
    assert f"odd.zip:a.txt: {skipped[f'{archive}:a.txt']}" in caplog.text


def test_real_zip_archive_with_glob(shared_data):
    corpus = Corpus(shared_data / "nltk_data_corpora" / "movie_reviews.zip",
                    CorpusConfig(glob="pos/*.txt"))
    docs = list(corpus.documents())
    assert len(docs) == 1000 and corpus.stats.members == 1000  # README is not read


def test_folder_recursion_glob_and_binary_file(gensim_data, shared_data, tmp_path, caplog):
    chapters = salammbo_chapters(shared_data, 2)
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(chapters[0], tmp_path / "a" / "one.txt")
    shutil.copy(chapters[1], tmp_path / "a" / "b" / "two.txt")
    shutil.copy(gensim_data / "lee_background.cor", tmp_path / "a" / "b" / "lee.cor")
    shutil.copy(gensim_data / "lee_fasttext.bin", tmp_path / "a" / "vectors.bin")
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        everything = Corpus(tmp_path)
        docs = list(everything.documents())
    assert len(docs) == 3
    assert everything.stats.skipped == [
        (str(tmp_path / "a" / "vectors.bin"),
         "binary file (NUL or control bytes); pass text files only")]
    assert "vectors.bin" in caplog.text
    assert len(list(Corpus(tmp_path, CorpusConfig(glob="*.txt")).documents())) == 2
    assert len(list(Corpus(tmp_path, CorpusConfig(glob="b/*.txt")).documents())) == 1
    assert [f.path for f in Corpus(tmp_path, CorpusConfig(glob="*.cor")).files] == \
        [str(tmp_path / "a" / "b" / "lee.cor")]


def test_corrupt_and_truncated_files_are_skipped_with_a_reason(shared_data, tmp_path, caplog):
    data = (shared_data / "reuters21578" / "reut2-000.sgm.gz").read_bytes()
    (tmp_path / "truncated.sgm.gz").write_bytes(data[: len(data) * 9 // 10])
    (tmp_path / "broken.tar.gz").write_bytes(data[:1000])
    corpus = Corpus(tmp_path)
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        docs = list(corpus.documents())
    assert 0 < len(docs) < 1000  # what could be read before the cut
    reasons = dict(corpus.stats.skipped)
    assert set(reasons) == {str(tmp_path / "truncated.sgm.gz"), str(tmp_path / "broken.tar.gz")}
    assert reasons[str(tmp_path / "truncated.sgm.gz")].startswith("read in part")
    assert reasons[str(tmp_path / "broken.tar.gz")].startswith("unreadable")


def test_sentences_option(shared_data):
    chapter = salammbo_chapters(shared_data, 1)[0]
    whole = list(Corpus(chapter).token_documents())
    sentences = list(Corpus(chapter, CorpusConfig(sentences=True)).token_documents())
    assert len(whole) == 1 and len(sentences) > 100
    assert [t for s in sentences for t in s] == whole[0]


def test_paragraphs_and_big_text_files_in_blocks(shared_data, tmp_path):
    chapter = salammbo_chapters(shared_data, 1)[0]
    whole = list(Corpus(chapter).token_documents())[0]
    text = chapter.read_text("utf-8")
    paragraphs = list(Corpus(chapter, CorpusConfig(format="paragraphs")).documents())
    assert len(paragraphs) == len([p for p in re.split(r"\n\s*\n", text) if p.strip()])
    blocks = list(Corpus(chapter, CorpusConfig(block_bytes=4096)).token_documents())
    assert len(blocks) > len(text) // 4096 // 2
    assert [t for b in blocks for t in b] == whole


# --- markup ------------------------------------------------------------------------------------

def test_html_and_xml_extraction(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><head><title>A title</title><style>p {color: red}"
                    "</style><script>var x = 1;</script></head><body><p>Caf&eacute; "
                    "&amp; bar<br>next line</p><p>second</p></body></html>", "utf-8")
    assert [d.split() for d in Corpus(page).documents()] == [
        ["A", "title", "Café", "&", "bar", "next", "line", "second"]]
    xml = tmp_path / "docs.xml"
    xml.write_text('<?xml version="1.0"?><corpus><doc id="1">first <b>doc</b></doc>'
                   "<doc>second</doc></corpus>", "utf-8")
    assert list(Corpus(xml).documents()) == ["first doc", "second"]
    assert list(Corpus(xml, CorpusConfig(document_tag="b")).documents()) == ["doc"]
    # a root without child elements is the document (its text was dropped unsaid)
    whole = tmp_path / "whole.xml"
    whole.write_text('<?xml version="1.0"?>\n<text>all the words &amp; more</text>', "utf-8")
    assert list(Corpus(whole).documents()) == ["all the words & more"]
    assert list(Corpus(whole, CorpusConfig(document_tag="p")).documents()) == []
    mixed = tmp_path / "mixed.xml"  # text in the root around its children is kept too
    mixed.write_text("<doc>Intro <title>T</title> body <i>it</i> more</doc>", "utf-8")
    assert list(Corpus(mixed).documents()) == ["T", "it", "Intro body more"]
    # the same over many parser chunks: every child's tail is kept, in order
    many = tmp_path / "many.xml"
    many.write_text("<r>" + "".join(f"t{i}<d>x{i}</d>" for i in range(30000)) + "end</r>")
    docs = list(Corpus(many).documents())
    assert docs[:-1] == [f"x{i}" for i in range(30000)]
    assert docs[-1] == " ".join([f"t{i}" for i in range(30000)] + ["end"])
    latin1 = tmp_path / "latin1.xml"
    latin1.write_bytes('<?xml version="1.0" encoding="ISO-8859-1"?>\n<r><d>Café</d></r>'
                       .encode("latin-1"))
    assert list(Corpus(latin1).documents()) == ["Café"]
    broken_bytes = tmp_path / "bad-bytes.xml"  # declared UTF-8, holds a latin-1 byte
    broken_bytes.write_bytes('<?xml version="1.0"?><r><d>Café</d><d>ok</d></r>'
                             .encode("latin-1"))
    corpus = Corpus(broken_bytes)
    assert list(corpus.documents()) == ["Caf\ufffd", "ok"]
    assert corpus.stats.replaced_bytes == 1 and corpus.stats.skipped == []
    assert detect_format("x.txt", b"<html><body>") == "html"
    assert detect_format("notes", b"<!DOCTYPE lewis>\n<REUTERS>") == "sgml"
    assert detect_format("a.sgm.gz", b"") == "sgml"
    assert detect_format("dump.xml.bz2", b'<mediawiki xmlns="') == "wiki"
    assert detect_format("a.txt", "\ufeff<?xml version".encode("utf-16"), "utf-16") == "xml"
    assert detect_format("a.txt", b"Some <b>text</b>") == "text"


# --- bad input ---------------------------------------------------------------------------------

def test_bad_input_errors(tmp_path, gensim_data):
    with pytest.raises(NotFoundError, match="corpus path .*nope.* does not exist"):
        Corpus(tmp_path / "nope")
    with pytest.raises(UsageError, match="unknown corpus format 'pdf'; valid: auto, text"):
        CorpusConfig(format="pdf")
    with pytest.raises(UsageError, match="unknown encoding 'utf-9'"):
        CorpusConfig(encoding="utf-9")
    with pytest.raises(UsageError, match="workers must be a positive integer"):
        next(Corpus(gensim_data / "lee.cor").token_batches(workers=0))
    (tmp_path / "empty.txt").write_text("  \n\n", "utf-8")
    (tmp_path / "numbers.txt").write_text("1 2 3", "utf-8")
    corpus = Corpus(tmp_path)
    assert list(corpus.token_documents(TokenizerConfig(numbers="drop"))) == []
    with pytest.raises(InputFormatError, match=r"no words in the 9 B of text read from .*"
                       r"every token dropped by the tokeniser options"):
        corpus.check_not_empty()  # text was read: the options, not the paths, are the cause
    (tmp_path / "empty.txt").write_text("", "utf-8")
    nothing = Corpus(tmp_path / "empty.txt")
    assert list(nothing.token_documents()) == []
    with pytest.raises(InputFormatError, match="no documents with words found in"):
        nothing.check_not_empty()
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text("<?xml version='1.0'?>\n<a><b></a>", "utf-8")
    broken = Corpus(bad_xml)
    assert list(broken.documents()) == []
    assert "not well-formed XML" in broken.stats.skipped[0][1] and ":2:" in \
        broken.stats.skipped[0][1]


def test_config_round_trip():
    cfg = CorpusConfig(format="lines", glob="*.txt", encoding="latin-1", sentences=True)
    assert CorpusConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(UsageError, match="unknown corpus option"):
        CorpusConfig.from_dict({"fmt": "text"})


def _die_on_three(batch: int) -> str:
    if batch == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return str(batch)


def test_a_dead_worker_is_a_clear_error():
    results = ordered_map(_die_on_three, iter(range(8)), 2)
    with pytest.raises(EmbedkitError, match="a tokenising worker process died"):
        list(results)


def test_a_fifo_in_a_folder_is_skipped_not_waited_on(gensim_data, tmp_path, caplog):
    shutil.copy(gensim_data / "lee.cor", tmp_path / "lee.cor")
    os.mkfifo(tmp_path / "pipe")
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        corpus = Corpus(tmp_path)
    assert [Path(f.path).name for f in corpus.files] == ["lee.cor"]
    assert "pipe: not a regular file" in caplog.text
    with pytest.raises(UsageError, match="glob must be a non-empty pattern"):
        CorpusConfig(glob=" ")


def test_a_single_batch_is_tokenised_without_starting_processes(gensim_data, monkeypatch):
    corpus = Corpus(gensim_data / "lee_background.cor", CorpusConfig(format="lines"))
    serial = list(corpus.token_documents())

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started for one batch")

    monkeypatch.setattr(pieces, "ProcessPoolExecutor", no_pool)
    assert [d for b in corpus.token_batches(workers=2) for d in b] == serial
    in_blocks = Corpus(gensim_data / "lee_background.cor", CorpusConfig(block_bytes=100_000))
    with pytest.raises(AssertionError, match="process pool was started"):
        list(in_blocks.token_batches(workers=2, batch_bytes=50_000))


def test_paragraphs_of_a_crlf_novel_over_several_blocks(shared_data):
    path = shared_data / "corpus_dickens" / "Bleak House.txt.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert "\r\n" in text and len(text) > 1.5 * (1 << 20)  # read in several 1 MiB blocks
    reference = [p for p in re.split(r"\r?\n[ \t]*\r?\n", text) if p.strip()]
    paragraphs = list(Corpus(path, CorpusConfig(format="paragraphs")).documents())
    assert len(paragraphs) == len(reference)
    assert [p.split() for p in paragraphs[-50:]] == [p.split() for p in reference[-50:]]


def test_random_bytes_without_nul_are_binary_but_latin1_text_is_not(tmp_path):
    rng = np.random.default_rng(0)
    noise = bytes(b for b in rng.integers(1, 256, 200_000, dtype=np.uint8).tobytes())
    (tmp_path / "noise.dat").write_bytes(noise)
    (tmp_path / "latin.txt").write_bytes("déjà vu, naïve café\n".encode("latin-1") * 500)
    corpus = Corpus(tmp_path, CorpusConfig(encoding="latin-1"))
    docs = list(corpus.token_documents())
    assert len(docs) == 1 and "café" in docs[0]
    assert [name for name, _ in corpus.stats.skipped] == [str(tmp_path / "noise.dat")]


def test_a_file_named_twice_is_read_once(tmp_path, caplog):
    (tmp_path / "a.txt").write_text("one two three\n")
    with caplog.at_level(logging.WARNING, logger="embedkit.corpus"):
        corpus = Corpus([tmp_path / "a.txt", tmp_path, str(tmp_path / "." / "a.txt")])
    assert [f.path for f in corpus.files] == [str(tmp_path / "a.txt")]
    assert "named more than once" in caplog.text


def test_a_small_truncated_gz_keeps_the_text_before_the_cut(gensim_data, tmp_path):
    import gzip

    text = (gensim_data / "lee_background.cor").read_bytes()
    packed = gzip.compress(text)
    (tmp_path / "cut.txt.gz").write_bytes(packed[: len(packed) // 2])
    corpus = Corpus([tmp_path / "cut.txt.gz"], CorpusConfig(format="lines"))
    docs = list(corpus.documents())
    assert 0 < len(docs) < 300  # lee_background.cor has 300 lines
    assert dict(corpus.stats.skipped)[str(tmp_path / "cut.txt.gz")].startswith("read in part")
    whole = list(Corpus([gensim_data / "lee_background.cor"], CorpusConfig(format="lines"))
                 .documents())
    assert docs[:-1] == whole[: len(docs) - 1]  # the same documents, up to the cut
