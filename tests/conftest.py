"""Shared fixtures: real data shipped with gensim, and ../shared/data when present."""

from __future__ import annotations

import os
from pathlib import Path

import gensim
import pytest

REPO = Path(__file__).resolve().parents[1]
GENSIM_DATA = Path(gensim.__file__).parent / "test" / "test_data"
SHARED_DATA = Path(os.environ.get("EMBEDKIT_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def gensim_data() -> Path:
    """gensim's bundled test data (real vector files, corpora, benchmarks)."""
    return GENSIM_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    """An empty workspace, also set as $EMBEDKIT_HOME."""
    path = tmp_path / "indexes"
    monkeypatch.setenv("EMBEDKIT_HOME", str(path))
    return path
