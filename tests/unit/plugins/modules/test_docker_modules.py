"""docker_daemon and docker_host_info through main(): check mode, the write, idempotent re-runs, the wait's failure."""

import json

from ansible_collections.aerostack.swarm.plugins.modules import docker_daemon, docker_host_info
from module_runner import run_module

CONFIG = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}


def test_daemon_json_four_times_check_real_rerun_rerun_in_check_mode(tmp_path, capsys):
    path = tmp_path / "docker" / "daemon.json"
    args = {"config": CONFIG, "path": str(path)}
    result, failed = run_module(docker_daemon, args, check_mode=True, diff=True, capsys=capsys)
    assert not failed and result["changed"] is True and not path.exists()
    assert json.loads(result["diff"]["after"]) == CONFIG and result["diff"]["before"] == ""
    result, failed = run_module(docker_daemon, args, diff=True, capsys=capsys)
    assert not failed and result["changed"] is True and json.loads(path.read_text()) == CONFIG
    for check_mode in (False, True):
        result, failed = run_module(docker_daemon, args, check_mode=check_mode, diff=True, capsys=capsys)
        assert not failed and result["changed"] is False and "diff" not in result


def test_a_changed_setting_rewrites_the_file(tmp_path, capsys):
    path = tmp_path / "daemon.json"
    path.write_text('{"log-driver": "journald"}\n')
    result, failed = run_module(docker_daemon, {"config": CONFIG, "path": str(path)}, capsys=capsys)
    assert not failed and result["changed"] is True and json.loads(path.read_text()) == CONFIG


def test_waiting_for_an_engine_that_is_not_there_fails_naming_the_socket(tmp_path, capsys):
    socket = tmp_path / "docker.sock"
    result, failed = run_module(docker_daemon, {"wait_timeout": 1, "docker_host": "unix://%s" % socket},
                                capsys=capsys)
    assert failed and result["changed"] is False
    assert result["msg"].startswith("waited 1s for the Docker engine to answer: Docker engine at unix://%s" % socket)


def test_host_info_reads_this_machine_and_changes_nothing(capsys):
    result, failed = run_module(docker_host_info, {"packages": ["python3"]}, check_mode=True, capsys=capsys)
    assert not failed and result["changed"] is False
    assert result["os"]["distribution"] and result["os"]["architecture"]
    assert set(result["packages"]) == {"python3"}
    assert "daemon_json_current" not in result and "engine" not in result  # neither was asked


def test_host_info_says_whether_daemon_json_holds_the_config_and_whether_the_engine_answers(tmp_path, capsys):
    path = tmp_path / "daemon.json"
    args = {"daemon_config": CONFIG, "daemon_json_path": str(path), "docker_host": "unix://%s" % (tmp_path / "no.sock")}
    result, failed = run_module(docker_host_info, args, check_mode=True, capsys=capsys)
    assert not failed and result["daemon_json_current"] is False  # no file yet
    assert result["engine"]["available"] is False and str(tmp_path / "no.sock") in result["engine"]["error"]
    run_module(docker_daemon, {"config": CONFIG, "path": str(path)}, capsys=capsys)
    result, failed = run_module(docker_host_info, args, check_mode=True, capsys=capsys)
    assert not failed and result["daemon_json_current"] is True and result["changed"] is False
    path.write_text('{"log-driver": "journald"}\n')
    result, failed = run_module(docker_host_info, args, check_mode=True, capsys=capsys)
    assert result["daemon_json_current"] is False
