"""The Dask builder when the user presses Ctrl-C or the scheduler goes away: one Error line.

Ctrl-C reaches the whole foreground process group, a local cluster's worker processes too;
a lost scheduler makes Dask's client log its reconnection failures. Neither may print a
traceback, and neither may touch an existing set.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embedkit import distributed as dist

distributed = pytest.importorskip("distributed")
EMBEDKIT = [sys.executable, "-m", "embedkit"]
DASK = [sys.executable, "-m"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Lines of random words, about 6 MB: a few seconds of tokenising on 2 workers."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(3000)])
    picks = words[rng.zipf(1.3, 1_000_000) % words.size].reshape(-1, 10)
    path = tmp_path_factory.mktemp("signals") / "corpus.txt"
    path.write_text("\n".join(" ".join(row) for row in picks) + "\n")
    return path


def start_build(corpus: Path, home: Path, *cluster_args: str) -> subprocess.Popen:
    """The CLI build in its own process group (as a shell's foreground job)."""
    args = [*EMBEDKIT, "build", "ppmi", str(corpus), "--name", "old", "--force",
            "--format", "lines", "--dim", "10", "--home", str(home), *cluster_args]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_line(process: subprocess.Popen, text: str, timeout: float = 60) -> list[str]:
    """Stderr lines up to the first one holding ``text`` (the build is then running)."""
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
            line = process.stderr.readline()
            lines.append(line)
            if text in line or not line:
                return lines
    raise AssertionError(f"no {text!r} on stderr: {lines}")


def an_old_set(home: Path) -> Path:
    path = home / "old" / "vectors.h5"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"an existing set")
    return path


def assert_one_error_line(stderr: str, text: str) -> None:
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and text in errors[0], stderr
    assert stderr.rstrip().splitlines()[-1] == errors[0]


def test_local_workers_ignore_sigint_and_this_process_keeps_it():
    with dist.dask_client(cluster="local:1") as client:
        handlers = client.run(lambda: signal.getsignal(signal.SIGINT))
        assert list(handlers.values()) == [signal.SIG_IGN]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_on_a_local_cluster_is_one_line_and_keeps_the_set(corpus, tmp_path):
    old = an_old_set(tmp_path)
    build = start_build(corpus, tmp_path, "--cluster", "local:2")
    head = wait_for_line(build, "shards (")
    time.sleep(0.5)  # the workers are tokenising
    os.killpg(build.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = build.communicate(timeout=60)
    assert build.returncode == 130, stderr
    assert_one_error_line("".join(head) + stderr, "interrupted")
    assert old.read_bytes() == b"an existing set"


def test_dask_client_logs_are_quiet_though_dask_sets_their_level():
    client_log = logging.getLogger("distributed.client")
    assert client_log.level != logging.NOTSET  # Dask's config: its own level and handler
    level = client_log.level
    with dist._quiet_dask():
        assert not client_log.isEnabledFor(logging.ERROR)
    assert client_log.level == level


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scheduler_and_worker(tmp_path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real `dask scheduler` and `dask worker` (2 processes, 1 thread each)."""
    address = f"tcp://127.0.0.1:{free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path}
    port = address.rsplit(":", 1)[1]
    scheduler = subprocess.Popen([*DASK, "distributed.cli.dask_scheduler", "--port", port,
                                  "--dashboard-address", ":0"], **quiet)
    worker = subprocess.Popen([*DASK, "distributed.cli.dask_worker", address, "--nworkers", "2",
                               "--nthreads", "1", "--dashboard-address", ":0"], **quiet)
    try:
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, scheduler
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


def test_a_scheduler_lost_mid_build_is_one_line(corpus, tmp_path, scheduler_and_worker):
    address, scheduler = scheduler_and_worker
    old = an_old_set(tmp_path)
    build = start_build(corpus, tmp_path, "--scheduler", address)
    head = wait_for_line(build, "shards (")
    scheduler.kill()
    _, stderr = build.communicate(timeout=120)
    assert build.returncode == 1, stderr
    assert_one_error_line("".join(head) + stderr, "lost the Dask cluster")
    assert old.read_bytes() == b"an existing set"
