"""The stack document: swarm settings the facts call for, content-hashed config names, and the three hashes."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_stack import (
    CONF_TARGET,
    DISCOVERY_MODULES,
    ROLLOUT_LABEL,
    SPEC_LABEL,
    STACK_LABEL,
    StackError,
    build_stack,
    config_key,
    config_name,
    locked_command,
)

REPO = Path(__file__).resolve().parents[4]

SPEC = {
    "stack": "aerostack",
    "image": "aerospike/aerospike-server:8.1.2.0",
    "command": ["asd", "--config-file", "/etc/aerostack/aerospike.conf"],
    "env": {"AEROSPIKE_TELEMETRY": "FALSE"},
    "nofile": 65536,
    "stop_grace_period": "30s",
    "update_delay": "10s",
    "update_monitor": "10s",
    "placement_label": "aerostack.aerospike",
    "persistent": False,
    "resources": {},
    "network": {"encrypted": False, "attachable": False, "subnet": ""},
    "discovery": {"image": "python:3.12.8-slim-bookworm", "interval": 1.0, "audit_interval": 30,
                  "memory_limit": "64M", "constraints": []},
    "rollout_id": "",
}
FILES = dict((name, "content of %s\n" % name) for name in ("aerospike.conf", "discovery.py") + DISCOVERY_MODULES)


def build(files=None, **changes):
    spec = copy.deepcopy(SPEC)
    spec.update(changes)
    return build_stack(spec, files or FILES)


def test_the_server_service_follows_the_swarm_facts():
    service = build()["stack"]["services"]["aerospike"]
    deploy = service["deploy"]
    assert deploy["endpoint_mode"] == "dnsrr"
    # One instance on every labelled host, and only there: a replaced task starts on the same host (its data).
    assert deploy["mode"] == "global" and "replicas" not in deploy
    assert deploy["placement"] == {"constraints": ["node.labels.aerostack.aerospike == true"]}
    assert service["hostname"] == "aerospike-{{.Node.Hostname}}"
    assert deploy["restart_policy"] == {"condition": "any", "delay": "0s"}
    assert deploy["update_config"]["parallelism"] == 1 and deploy["update_config"]["order"] == "stop-first"
    assert service["ulimits"] == {"nofile": {"soft": 65536, "hard": 65536}}
    assert service["stop_grace_period"] == "30s"
    assert service["networks"] == ["aerospike"]
    assert service["image"] == "aerospike/aerospike-server:8.1.2.0"


def test_the_network_is_one_overlay_not_attachable_and_not_encrypted_by_default():
    stack = build()["stack"]
    assert stack["networks"] == {"aerospike": {"driver": "overlay", "attachable": False}}
    assert stack["services"]["discovery"]["networks"] == ["aerospike"]
    encrypted = build(network={"encrypted": True, "attachable": True, "subnet": "10.77.0.0/24"})["stack"]
    assert encrypted["networks"]["aerospike"] == {"driver": "overlay", "attachable": True,
                                                  "driver_opts": {"encrypted": ""},
                                                  "ipam": {"config": [{"subnet": "10.77.0.0/24"}]}}


def test_configs_carry_a_content_hash_in_their_name():
    result = build()
    configs = result["stack"]["configs"]
    assert configs["aerospike_conf"] == {"name": config_name("aerostack", "aerospike.conf", FILES["aerospike.conf"]),
                                         "file": "./aerospike.conf"}
    assert configs["aerospike_conf"]["name"].startswith("aerostack_aerospike_conf_")
    changed = dict(FILES, **{"aerospike.conf": "other content\n"})
    other = build(files=changed)
    assert other["stack"]["configs"]["aerospike_conf"]["name"] != configs["aerospike_conf"]["name"]
    assert other["stack"]["configs"]["discovery"] == configs["discovery"]
    assert result["config_names"] == sorted(c["name"] for c in configs.values())
    assert all(len(name) <= 64 for name in result["config_names"])


def test_config_keys_are_distinct_for_the_program_and_its_modules():
    keys = [config_key(name) for name in ("aerospike.conf", "discovery.py") + DISCOVERY_MODULES]
    assert keys == ["aerospike_conf", "discovery", "mu_aerospike_info", "mu_mesh", "mu_dns", "mu_discovery"]


def test_the_configuration_is_mounted_where_the_command_reads_it():
    service = build()["stack"]["services"]["aerospike"]
    assert service["configs"] == [{"source": "aerospike_conf", "target": CONF_TARGET, "mode": 0o444}]
    assert CONF_TARGET in service["command"]


def test_the_discovery_service_runs_the_program_against_the_tasks_name():
    discovery = build(discovery=dict(SPEC["discovery"], interval=0.5, constraints=["node.role == manager"]))[
        "stack"]["services"]["discovery"]
    assert discovery["command"] == ["python3", "-u", "/opt/aerostack/discovery.py", "--name",
                                    "tasks.aerostack_aerospike", "--interval", "0.5", "--audit-interval", "30"]
    assert discovery["deploy"]["replicas"] == 1
    assert discovery["deploy"]["restart_policy"]["delay"] == "0s"
    assert discovery["deploy"]["placement"] == {"constraints": ["node.role == manager"]}
    assert discovery["deploy"]["resources"] == {"limits": {"memory": "64M"}}
    assert discovery["environment"]["PYTHONPATH"] == "/opt/aerostack"


def test_the_mounted_layout_lets_the_program_import_the_collection_modules(tmp_path):
    """Lay the configs out as swarm mounts them and start the program: its imports must resolve."""
    discovery = build()["stack"]["services"]["discovery"]
    sources = {"discovery": REPO / "roles" / "aerospike" / "files" / "discovery.py"}
    for module in DISCOVERY_MODULES:
        sources[config_key(module)] = REPO / "plugins" / "module_utils" / module
    for entry in discovery["configs"]:
        target = tmp_path / entry["target"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sources[entry["source"]].read_text())
    program = tmp_path / discovery["command"][2].lstrip("/")
    env = {"PATH": os.environ.get("PATH", ""),
           "PYTHONPATH": str(tmp_path / discovery["environment"]["PYTHONPATH"].lstrip("/"))}
    done = subprocess.run([sys.executable, str(program), "--help"], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "--audit-interval" in done.stdout


def test_persistent_namespaces_keep_their_data_in_one_local_volume_per_host():
    result = build(persistent=True)
    service = result["stack"]["services"]["aerospike"]
    assert service["volumes"] == [{"type": "volume", "source": "data", "target": "/opt/aerospike/data"}]
    # The same name on every host: a local volume, so each host's instance finds its own data and no other.
    assert result["stack"]["volumes"] == {"data": {"name": "aerostack_aerospike-data"}}
    assert "{{" not in yaml.safe_dump(result["stack"]["volumes"])
    assert "volumes" not in build()["stack"]


def test_with_a_data_volume_the_server_holds_a_lock_on_it_while_it_runs():
    # A replacement task may start on the host while the instance before it still stops (a host cut off longer
    # than swarm's node-down time); flock makes it wait instead of opening the same data files.
    service = build(persistent=True)["stack"]["services"]["aerospike"]
    assert service["command"] == ["flock", "--exclusive", "--no-fork",
                                  "/opt/aerospike/data/.aerostack-instance.lock",
                                  "asd", "--config-file", "/etc/aerostack/aerospike.conf", "--foreground"]
    assert build()["stack"]["services"]["aerospike"]["command"] == SPEC["command"]
    assert build(persistent=True)["aerospike_spec_hash"] != build()["aerospike_spec_hash"]


@pytest.mark.parametrize("command, wanted", [
    # What the official image's entrypoint does for an asd command, done here because it skips a flock command.
    (["asd", "--config-file", "/c"], ["asd", "--config-file", "/c", "--foreground"]),
    (["--config-file", "/c"], ["asd", "--config-file", "/c", "--foreground"]),
    (["/usr/bin/asd", "--foreground", "--config-file", "/c"], ["/usr/bin/asd", "--foreground", "--config-file", "/c"]),
    # Another program (a wrapper of the user's) is run as it is.
    (["my-wrapper", "asd"], ["my-wrapper", "asd"]),
])
def test_the_locked_command_runs_the_server_in_the_foreground(command, wanted):
    given = list(command)
    assert locked_command(command, "/d/.lock") == ["flock", "--exclusive", "--no-fork", "/d/.lock"] + wanted
    assert command == given  # the caller's list is not changed


def test_spec_hash_follows_what_a_task_runs_not_the_update_pace():
    base = build()
    assert build(update_delay="31536000s")["aerospike_spec_hash"] == base["aerospike_spec_hash"]
    assert build(image="aerospike/aerospike-server:8.1.2.1")["aerospike_spec_hash"] != base["aerospike_spec_hash"]
    assert build(nofile=20000)["aerospike_spec_hash"] != base["aerospike_spec_hash"]
    conf = dict(FILES, **{"aerospike.conf": "changed\n"})
    assert build(files=conf)["aerospike_spec_hash"] != base["aerospike_spec_hash"]
    assert build(files=conf)["discovery_spec_hash"] == base["discovery_spec_hash"]
    program = dict(FILES, **{"discovery.py": "changed\n"})
    assert build(files=program)["discovery_spec_hash"] != base["discovery_spec_hash"]
    assert build(files=program)["aerospike_spec_hash"] == base["aerospike_spec_hash"]
    service = base["stack"]["services"]["aerospike"]
    assert service["labels"] == {SPEC_LABEL: base["aerospike_spec_hash"]}


def test_stack_hash_covers_the_whole_file_and_is_deterministic():
    base = build()
    assert build()["stack_hash"] == base["stack_hash"]
    assert build(persistent=True)["stack_hash"] != base["stack_hash"]
    assert build(update_delay="20s")["stack_hash"] != base["stack_hash"]
    for name in ("aerospike", "discovery"):
        assert base["stack"]["services"][name]["deploy"]["labels"] == {STACK_LABEL: base["stack_hash"]}


def test_a_rollout_id_changes_the_service_not_the_tasks():
    base = build()
    held = build(rollout_id="20261122T030000", update_delay="31536000s")
    assert held["aerospike_spec_hash"] == base["aerospike_spec_hash"]
    assert held["stack_hash"] != base["stack_hash"]
    assert held["stack"]["services"]["aerospike"]["deploy"]["labels"][ROLLOUT_LABEL] == "20261122T030000"
    assert ROLLOUT_LABEL not in held["stack"]["services"]["discovery"]["deploy"]["labels"]


def test_the_document_is_plain_yaml_that_round_trips():
    stack = build()["stack"]
    assert yaml.safe_load(yaml.safe_dump(stack)) == stack


@pytest.mark.parametrize("changes,expected", [
    ({"stack": "Has Space"}, "aerospike_stack_name"),
    ({"stack": "x" * 33}, "aerospike_stack_name"),
    ({"stop_grace_period": "thirty"}, "stop_grace_period"),
    ({"update_delay": "10"}, "update_delay"),
    ({"nofile": 100}, "aerospike_nofile"),
    ({"command": []}, "aerospike_command"),
    ({"image": ""}, "aerospike_image"),
])
def test_bad_spec_is_refused_naming_the_setting(changes, expected):
    with pytest.raises(StackError) as info:
        build(**changes)
    assert expected in str(info.value)


def test_missing_files_are_refused():
    files = dict(FILES)
    del files["_mesh.py"]
    with pytest.raises(StackError) as info:
        build(files=files)
    assert "the stack needs the content of _mesh.py" in str(info.value)
