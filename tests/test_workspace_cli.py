"""Workspace commands: list, info, remove; --home and $EMBEDKIT_HOME; CLI error manners."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gensim.models import KeyedVectors

from embedkit import Vectors, save, workspace
from embedkit.errors import NameExistsError, NotFoundError, UsageError
from tests.cli_helpers import run_cli


@pytest.fixture()
def glove_set(home, gensim_data):
    kv = KeyedVectors.load_word2vec_format(gensim_data / "test_glove.txt", no_header=True)
    vectors = Vectors(kv.index_to_key, kv.vectors,
                      metadata={"source": "test_glove.txt", "params": {"format": "glove"}})
    save(vectors, workspace.target_path("glove", home))
    return vectors


def test_list_and_info_json(glove_set, home):
    result = run_cli("list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["glove"]
    assert rows[0]["size"] == len(glove_set) and rows[0]["dim"] == glove_set.dim

    info = json.loads(run_cli("info", "glove", "--json").stdout)
    assert info["size"] == len(glove_set) and info["dim"] == glove_set.dim
    assert info["params"] == {"format": "glove"}
    assert info["disk_bytes"] == (home / "glove" / "vectors.h5").stat().st_size
    assert info["indexes"] == []


def test_info_table_and_path_argument(glove_set, home):
    result = run_cli("info", str(home / "glove" / "vectors.h5"))
    assert result.exit_code == 0
    assert "test_glove.txt" in result.stdout and "indexes: none" in result.stdout
    assert result.stderr == ""


def test_home_option_overrides_environment(glove_set, home, tmp_path):
    other = tmp_path / "elsewhere"
    assert json.loads(run_cli("list", "--json", "--home", str(other)).stdout) == []
    assert json.loads(run_cli("list", "--json").stdout)[0]["name"] == "glove"


def test_remove(glove_set, home):
    assert run_cli("remove", "glove").exit_code == 0
    assert not (home / "glove").exists()
    result = run_cli("remove", "glove")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no embedding set named 'glove'")


def test_unknown_name_lists_available_sets(glove_set):
    result = run_cli("info", "glvoe")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0  # one line
    assert result.stderr.startswith("Error: no embedding set named 'glvoe'; sets in ")
    assert "glove" in result.stderr


def test_not_a_store_is_one_line_error(tmp_path, home):
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    result = run_cli("info", str(bad))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {bad}: not an embedkit store (not an HDF5 file)\n"


def test_bad_usage_exits_2(home):
    result = run_cli("info")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_target_path_refuses_existing_names(glove_set, home):
    with pytest.raises(NameExistsError, match="--force"):
        workspace.target_path("glove", home)
    assert workspace.target_path("glove", home, force=True) == home / "glove" / "vectors.h5"
    with pytest.raises(UsageError, match="invalid set name"):
        workspace.target_path("../evil", home)
    with pytest.raises(NotFoundError):
        workspace.store_path("missing.h5")


def test_force_keeps_old_set_until_new_is_complete(glove_set, home):
    from embedkit.store import StoreWriter

    path = workspace.target_path("glove", home, force=True)
    with pytest.raises(KeyboardInterrupt), StoreWriter(path, 3) as writer:
        writer.append(["a"], np.ones((1, 3)))
        raise KeyboardInterrupt
    with workspace.open_set("glove") as back:
        assert back.words == glove_set.words


def test_interrupt_message_says_what_was_written(glove_set, home, gensim_data, monkeypatch):
    import embedkit.cli.io_cmds as io_cmds

    real = io_cmds.formats.import_to_workspace

    def then_interrupt(*args, **kwargs):
        real(*args, **kwargs)  # the new set is complete and renamed into place
        raise KeyboardInterrupt

    monkeypatch.setattr(io_cmds.formats, "import_to_workspace", then_interrupt)
    vec = gensim_data / "lee_fasttext.vec"
    result = run_cli("import", vec, "--name", "glove", "--force")
    assert result.exit_code == 130
    assert "interrupted after writing" in result.stderr and "glove" in result.stderr
    assert "nothing was changed" not in result.stderr
    monkeypatch.setattr(io_cmds.formats, "import_to_workspace", real)
    with workspace.open_set("glove") as now:
        assert len(now) == 1762  # the message is true: the set was replaced


def test_sigterm_cleans_up_like_ctrl_c(home, tmp_path):
    import gzip
    import signal
    import subprocess
    import sys
    import time

    row = " ".join(["0.5"] * 100)
    big = tmp_path / "big.txt.gz"  # small on disk, seconds to parse
    with gzip.open(big, "wt", compresslevel=1) as out:
        out.writelines(f"w{i} {row}\n" for i in range(600_000))
    proc = subprocess.Popen([sys.executable, "-m", "embedkit", "import", str(big), "--name",
                             "big"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(home.glob("big/.*.tmp")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)  # wait until the store is being written (the import takes ~2 s)
    assert proc.poll() is None, "the import ended before the signal could test anything"
    proc.send_signal(signal.SIGTERM)
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143 and "Traceback" not in stderr and "ignored" not in stderr
    assert not list(home.glob("big/.*.tmp"))  # no partial file left either way
    if "after writing" in stderr:  # the signal landed where Python could not raise it
        assert workspace.open_set("big", home).shape == (600_000, 100)
    else:
        assert "Error: terminated; nothing was changed" in stderr
        assert not (home / "big" / "vectors.h5").exists()


def test_every_command_has_help_with_an_example():
    from typer.main import get_command

    from embedkit.cli import app

    root = get_command(app)
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None) or {name: command}
        for sub in subcommands.values():
            if sub.hidden or (sub.help or "").startswith("Alias"):  # e.g. `neighbours`
                continue
            assert sub.help and "Example" in sub.help, f"{name} {sub.name}: no help/example"


def test_a_home_that_is_a_file_is_a_usage_error_before_any_work(gensim_data, tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    result = run_cli("import", gensim_data / "euclidean_vectors.bin", "--name", "e",
                     "--home", tmp_path / "afile")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "afile is a file, not a folder" in result.stderr.splitlines()[-1]
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_workspace_is_reachable_after_import_embedkit():
    import subprocess
    import sys

    code = "import embedkit; print(embedkit.workspace.open_set.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "open_set"


@pytest.mark.parametrize("args, fragment", [
    (["import", "x.txt"], "Missing option '--name'"),
    (["import", "x.txt", "--name", "x", "--limit", "abc"], "Invalid value for '--limit'"),
    (["nosuchcommand"], "No such command 'nosuchcommand'"),
])
def test_usage_errors_are_one_line(home, args, fragment):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error: ") and fragment in result.stderr
    assert "--help" in result.stderr


def test_quiet_silences_the_summary(home, gensim_data):
    loud = run_cli("import", gensim_data / "test_glove.txt", "--name", "a")
    quiet = run_cli("-q", "import", gensim_data / "test_glove.txt", "--name", "b")
    assert "imported 76 words" in loud.stderr and quiet.exit_code == 0
    assert quiet.stderr == "" and quiet.stdout == ""


def test_quiet_and_verbose_also_work_after_the_command(home, gensim_data):
    glove = gensim_data / "test_glove.txt"
    quiet = run_cli("import", glove, "--name", "b", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    quieter = run_cli("classify", "train", glove, "--quiet", "--model", "nosuch", "-o", "m.pt")
    assert quieter.exit_code == 2 and "unknown model 'nosuch'" in quieter.stderr
    assert run_cli("neighbors", "b", "the", "-k", "2", "-v").exit_code == 0
    named = run_cli("import", glove, "--name", "-q")  # an option's value stays its value
    assert named.exit_code == 2 and "invalid set name '-q'" in named.stderr
    word = run_cli("neighbors", "b", "--", "-q")  # after --, a word
    assert word.exit_code == 1 and "unknown word '-q'" in word.stderr


def test_list_with_a_file_as_home_is_a_usage_error(tmp_path):
    home = tmp_path / "afile"
    home.write_text("x")
    result = run_cli("list", "--home", home)
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr


def test_remove_clears_a_folder_left_without_a_set(home):
    (home / "left").mkdir(parents=True)
    (home / "left" / ".vectors.h5.abc.tmp").write_bytes(b"partial")
    assert run_cli("remove", "left").exit_code == 0 and not (home / "left").exists()
    (home / "kept").mkdir()
    (home / "kept" / "notes.txt").write_text("mine")
    result = run_cli("remove", "kept")
    assert result.exit_code == 1 and (home / "kept" / "notes.txt").exists()


@pytest.mark.parametrize("manifest", ["[1, 2]", "\"text\"", "{broken", None])
def test_info_marks_a_manifest_that_is_not_an_object_damaged(glove_set, home, manifest):
    (home / "glove" / "hnsw.faiss").write_bytes(b"not an index")
    if manifest is not None:  # None: the index file without its manifest
        (home / "glove" / "hnsw.json").write_text(manifest)
    result = run_cli("info", "glove")
    assert result.exit_code == 0, result.stderr
    assert "DAMAGED" in result.stdout
    assert json.loads(run_cli("info", "glove", "--json").stdout)["indexes"][0]["damaged"]


@pytest.mark.parametrize("name", ["glove.h5", "v1.hdf5"])
def test_a_set_name_read_as_a_store_path_is_refused(home, gensim_data, name):
    """`import --name glove.h5` made a set that info, export and every query then took for a
    missing file path."""
    result = run_cli("import", gensim_data / "test_glove.txt", "--name", name)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: invalid set name {name!r}: a name ending in .h5 or .hdf5 is read as a path "
        "to a store; choose a name without that ending"]
    assert not (home / name).exists()
    with pytest.raises(UsageError):
        workspace.target_path(name, home)


def test_an_empty_home_is_a_usage_error(glove_set):
    """--home '' silently fell back to $EMBEDKIT_HOME or ./indexes."""
    result = run_cli("list", "--home", "")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: Invalid value for '--home': is empty; give a path "
                             "(see 'embedkit list --help')\n")
