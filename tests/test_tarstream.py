"""The fast tar reader against the standard library's tarfile, on real archives."""

from __future__ import annotations

import functools
import io
import tarfile

import pytest

from embedkit import tarstream
from embedkit.corpus import Corpus
from embedkit.sources import decompressed


def tarfile_members(path) -> list[tuple[str, bytes]]:
    with tarfile.open(path, "r|*") as archive:
        return [(m.name, archive.extractfile(m).read()) for m in archive if m.isfile()]


def fast_members(path, **options) -> list[tuple[str, bytes]]:
    with open(path, "rb") as f:
        return list(tarstream.members(decompressed(io.BufferedReader(f)), **options))


def test_same_members_as_tarfile_on_20newsgroups(shared_data):
    path = shared_data / "20newsgroups_bydate" / "20news-bydate.tar.gz"
    fast = fast_members(path)
    assert len(fast) == 18_846
    assert fast == tarfile_members(path)


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_long_and_unicode_names_links_and_folders(shared_data, tmp_path, fmt):
    chapters = sorted((shared_data / "salammbo" / "text").glob("salammbo_ch0*.txt"))[:3]
    deep = "d" * 60 + "/" + "e" * 60 + "/"  # over 100 characters: GNU L, pax path, ustar prefix
    archive = tmp_path / "book.tar.xz"
    with tarfile.open(archive, "w:xz", format=fmt) as t:
        for i, chapter in enumerate(chapters):
            name = deep + ("Salammbô " if fmt != tarfile.USTAR_FORMAT else "") + chapter.name
            t.add(chapter, name if i != 1 else chapter.name)
        folder = tarfile.TarInfo("folder")
        folder.type = tarfile.DIRTYPE
        t.addfile(folder)
        link = tarfile.TarInfo("link.txt")
        link.type, link.linkname = tarfile.SYMTYPE, chapters[0].name
        t.addfile(link)
    fast = fast_members(archive)
    assert fast == tarfile_members(archive) and len(fast) == 3
    assert fast[1][1] == chapters[1].read_bytes()


def test_large_members_fall_back_to_tarfile(shared_data, tmp_path, monkeypatch):
    chapters = sorted((shared_data / "salammbo" / "text").glob("salammbo_ch*.txt"))[:4]
    archive = tmp_path / "book.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for chapter in chapters:
            t.add(chapter, chapter.name)
    with pytest.raises(tarstream.Unsupported):
        fast_members(archive, max_member=10)
    expected = list(Corpus(archive).token_documents())
    # the 3rd member is too large for the fast reader: tarfile takes over from there
    limit = sorted(len(c.read_bytes()) for c in chapters)[1]
    small = functools.partial(tarstream.members, max_member=limit)
    monkeypatch.setattr(tarstream, "members", small)
    corpus = Corpus(archive)
    assert list(corpus.token_documents()) == expected and len(expected) == 4
    assert corpus.stats.members == 4


def test_bad_checksum_is_a_read_error(shared_data, tmp_path):
    chapter = sorted((shared_data / "salammbo" / "text").glob("salammbo_ch*.txt"))[0]
    archive = tmp_path / "book.tar"
    with tarfile.open(archive, "w") as t:
        t.add(chapter, chapter.name)
    data = bytearray(archive.read_bytes())
    data[10] ^= 0x20  # flip a bit of the name
    archive.write_bytes(bytes(data))
    with pytest.raises(tarfile.ReadError):
        fast_members(archive)
    corpus = Corpus(archive)
    assert list(corpus.documents()) == []
    assert corpus.stats.skipped[0][1].startswith("unreadable (invalid header")
