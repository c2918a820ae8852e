"""The shared file helpers: a read that cannot fail loudly, and a write that leaves the old file or the new one."""

import os
import stat

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils import _files as files


def test_read_text_returns_the_text_or_none_when_missing(tmp_path):
    path = tmp_path / "os-release"
    assert files.read_text(str(path)) is None
    path.write_text("ID=debian\n")
    assert files.read_text(str(path)) == "ID=debian\n"


def test_write_atomically_replaces_the_file_with_the_mode_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "stack.yml"
    path.write_text("old\n")
    files.write_atomically(str(path), b"new\n", 0o640)
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert os.listdir(str(tmp_path)) == ["stack.yml"]


def test_write_atomically_sets_the_owner_when_given(tmp_path):
    path = tmp_path / "users.cfg"
    files.write_atomically(str(path), b"x", 0o600, (os.getuid(), os.getgid()))
    info = os.stat(str(path))
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (os.getuid(), os.getgid(), 0o600)


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "aerospike.conf"
    path.write_text("old\n")

    def refuse(_src, _dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "rename", refuse)
    with pytest.raises(OSError, match="No space left"):
        files.write_atomically(str(path), b"new\n", 0o644)
    assert path.read_text() == "old\n"
    assert os.listdir(str(tmp_path)) == ["aerospike.conf"]
