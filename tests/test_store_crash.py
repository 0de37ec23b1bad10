"""A writer killed mid-write, or an import that fails, leaves the previous set intact."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np

import embedkit
from embedkit.formats import import_to_workspace, read_vectors
from tests.cli_helpers import run_cli


def make_big_glove(source, path, rows: int) -> None:
    """A GloVe file of ``rows`` distinct words reusing the real rows of ``source``."""
    values = [line.split(b" ", 1)[1].rstrip(b"\n") for line in source.read_bytes().splitlines()]
    with open(path, "wb") as out:
        for start in range(0, rows, 50_000):
            block = [b"w%d %s" % (i, values[i % len(values)])
                     for i in range(start, min(rows, start + 50_000))]
            out.write(b"\n".join(block) + b"\n")


def snapshot(store):
    with embedkit.load(store) as vectors:
        return vectors.words, vectors.matrix.copy(), vectors.metadata["fingerprint"]


def _size(path) -> int:
    """Size of a file that may vanish meanwhile (the writability probe's temporary file)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def test_sigkill_during_import_leaves_the_old_store_intact(gensim_data, home, tmp_path):
    glove = gensim_data / "test_glove.txt"
    import_to_workspace(glove, "g").close()
    store = home / "g" / "vectors.h5"
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    big = tmp_path / "big.txt"
    make_big_glove(glove, big, 300_000)

    child = subprocess.Popen(
        [sys.executable, "-m", "embedkit", "import", str(big), "--name", "g", "--force",
         "--home", str(home)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            partial = [p for p in (home / "g").glob(".vectors.h5.*") if _size(p) > 1 << 20]
            if partial:  # the new store is being written: kill the writer now
                break
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    assert partial, "the child never started writing"

    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    words, matrix, _ = snapshot(store)
    original = read_vectors(glove)
    assert words == original.words
    np.testing.assert_array_equal(matrix, original.matrix)
    # the workspace still lists and describes the set normally
    listed = run_cli("list", "--json")
    assert listed.exit_code == 0 and '"size": 76' in listed.stdout
    # the next write of the set removes the killed writer's leftover once it is stale,
    # and leaves a fresh one (a writer that may still be running) alone
    leftovers = list((home / "g").glob(".vectors.h5.*"))
    assert leftovers
    stale = time.time() - 7 * 3600
    for leftover in leftovers:
        os.utime(leftover, (stale, stale))
    fresh = home / "g" / ".vectors.h5.live.tmp"
    fresh.write_bytes(b"partial")
    import_to_workspace(glove, "g", force=True).close()
    assert sorted((home / "g").glob(".vectors.h5.*")) == [fresh]
    fresh.unlink()


def test_failed_forced_import_keeps_the_old_set(gensim_data, home, tmp_path):
    import_to_workspace(gensim_data / "lee_fasttext.vec", "lee").close()
    store = home / "lee" / "vectors.h5"
    before = snapshot(store)
    broken = tmp_path / "broken.txt"
    lines = (gensim_data / "test_glove.txt").read_bytes().splitlines(keepends=True)
    lines[70] = lines[70].replace(b" ", b" x", 1)  # a bad value near the end
    broken.write_bytes(b"".join(lines))

    result = run_cli("import", broken, "--name", "lee", "--force")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {broken}:71:")
    after = snapshot(store)
    assert after[0] == before[0] and after[2] == before[2]
    np.testing.assert_array_equal(after[1], before[1])
    assert sorted(p.name for p in store.parent.iterdir()) == ["vectors.h5"]  # no temp files
