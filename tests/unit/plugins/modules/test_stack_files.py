"""stack_files: the pure decisions, then the module through main() on a temporary directory (check mode, the write,
an idempotent re-run, a changed file, a wrong mode, refusals)."""

import grp
import os
import pwd
import stat

import pytest
from ansible_collections.aerostack.swarm.plugins.module_utils._stack_files import name_problems, plan
from ansible_collections.aerostack.swarm.plugins.modules import stack_files
from module_runner import run_module

FILES = {"docker-stack.yml": "services: {}\n", "aerospike.conf": "service {\n}\n", "discovery.py": "print('é')\n"}
ME = {"owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}


def test_only_missing_or_different_files_are_written_and_a_wrong_mode_is_only_fixed():
    current = {"a": None, "b": (b"same", 0o640, 0, 0), "c": (b"old", 0o640, 0, 0), "d": (b"same", 0o644, 0, 0)}
    wanted = {"a": "new", "b": "same", "c": "new", "d": "same"}
    assert plan(current, wanted, 0o640, 0, 0) == {"write": ["a", "c"], "fix": ["d"]}
    assert plan(current, wanted, 0o640, 1000, 0) == {"write": ["a", "c"], "fix": ["b", "d"]}


@pytest.mark.parametrize(("files", "problem"), [
    ({}, "files must map at least one file name to its content"),
    ({"../escape": "x"}, "file name '../escape' must be a plain name inside path (no '/', not '.' or '..')"),
    ({"..": "x"}, "file name '..' must be a plain name inside path (no '/', not '.' or '..')"),
    ({"ok": 3}, "content of ok must be text, not int"),
])
def test_names_outside_the_directory_and_non_text_are_refused(files, problem):
    assert name_problems(files) == [problem]


def test_check_write_rerun_and_rerun_in_check_mode(tmp_path, capsys):
    directory = tmp_path / "stack"
    args = dict(ME, path=str(directory), files=FILES)
    result, failed = run_module(stack_files, args, check_mode=True, diff=True, capsys=capsys)
    assert not failed and result["changed"] is True and not directory.exists()
    assert result["written"] == sorted(FILES) and [d["after"] for d in result["diff"]] == [FILES[n] for n in sorted(FILES)]
    result, failed = run_module(stack_files, args, capsys=capsys)
    assert not failed and result["changed"] is True and result["written"] == sorted(FILES)
    assert {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()} == FILES
    assert stat.S_IMODE(directory.stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()} == {0o640}
    for check_mode in (False, True):
        result, failed = run_module(stack_files, args, check_mode=check_mode, diff=True, capsys=capsys)
        assert not failed and result == {"changed": False, "written": [], "fixed": [], "invocation": result["invocation"]}


def test_a_changed_file_is_rewritten_a_wrong_mode_fixed_and_other_files_left_alone(tmp_path, capsys):
    (tmp_path / "aerospike.conf").write_text("old\n")
    (tmp_path / "docker-stack.yml").write_text(FILES["docker-stack.yml"])
    os.chmod(tmp_path / "docker-stack.yml", 0o666)
    (tmp_path / "other").write_text("kept\n")
    result, failed = run_module(stack_files, dict(ME, path=str(tmp_path), files=FILES), diff=True, capsys=capsys)
    assert not failed and result["changed"] is True
    assert result["written"] == ["aerospike.conf", "discovery.py"] and result["fixed"] == ["docker-stack.yml"]
    assert result["diff"][0]["before"] == "old\n" and result["diff"][0]["after"] == FILES["aerospike.conf"]
    assert stat.S_IMODE((tmp_path / "docker-stack.yml").stat().st_mode) == 0o640
    assert (tmp_path / "other").read_text() == "kept\n"


@pytest.mark.parametrize(("change", "message"), [
    ({"files": {"a/b": "x"}}, "file name 'a/b' must be a plain name inside path (no '/', not '.' or '..')"),
    ({"mode": "rw-r-----"}, "mode 'rw-r-----' must be an octal mode such as '0640'"),
    ({"directory_mode": "99999"}, "directory_mode '99999' must be an octal mode such as '0640'"),
    ({"owner": "no-such-user-here"}, "owner 'no-such-user-here' does not exist on this host"),
])
def test_bad_arguments_are_refused_and_nothing_is_written(tmp_path, capsys, change, message):
    directory = tmp_path / "stack"
    args = dict(ME, path=str(directory), files=FILES)
    args.update(change)
    result, failed = run_module(stack_files, args, capsys=capsys)
    assert failed and result["msg"] == message and not directory.exists()


def test_a_directory_where_a_file_goes_is_refused(tmp_path, capsys):
    (tmp_path / "aerospike.conf").mkdir()
    result, failed = run_module(stack_files, dict(ME, path=str(tmp_path), files=FILES), capsys=capsys)
    assert failed and result["msg"] == "%s/aerospike.conf is not a regular file: remove it, the stack's files go there" % tmp_path
    assert not (tmp_path / "docker-stack.yml").exists()
