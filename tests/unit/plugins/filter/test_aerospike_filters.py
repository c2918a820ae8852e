"""The aerospike filter plugin: every filter is exposed, domain errors become AnsibleFilterError with their
message, and the filters work inside a real Ansible template (2.19 data tagging included)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aerostack.swarm.plugins.filter import aerospike as plugin

REPO = Path(__file__).resolve().parents[4]
SETTINGS = {
    "cluster_name": "aerostack",
    "bind_interface": "eth0",
    "service": {"proto-fd-max": 15000},
    "logging": [{"sink": "console", "contexts": {"any": "info"}}],
    "network": {},
    "namespaces": [{"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"}}],
}


def test_every_filter_is_exposed_under_its_name():
    filters = plugin.FilterModule().filters()
    assert set(filters) == {
        "aerospike_conf", "aerospike_preflight", "aerospike_settings_facts", "aerospike_host_reads",
        "aerospike_stack", "aerospike_tasks", "aerospike_placement", "aerospike_placement_refusal",
        "aerospike_service_mode_problem", "aerospike_service_state",
        "aerospike_stack_state", "aerospike_converged", "aerospike_rollout_progress", "aerospike_deploy_action",
        "aerospike_scale_steps", "aerospike_departed", "aerospike_status_rows", "aerospike_status_table",
    }
    assert all(name == func.__name__ for name, func in filters.items())


def test_a_domain_error_becomes_a_filter_error_with_its_message():
    with pytest.raises(AnsibleFilterError) as info:
        plugin.aerospike_conf(dict(SETTINGS, bind_interface="any"))
    assert "aerospike_bind_interface must not be 'any'" in str(info.value)
    with pytest.raises(AnsibleFilterError) as info:
        plugin.aerospike_scale_steps(5, 1, 2)
    assert "refusing to scale down to 1 nodes" in str(info.value)


def test_settings_facts():
    assert plugin.aerospike_settings_facts(SETTINGS) == {"namespaces": ["test"], "max_replication_factor": 2,
                                                         "persistent": False}


def test_host_reads_judges_the_engine_limits_of_aerospike_hosts_only_when_asked():
    lab = ["Max open files            20000                20000                files", "CapEff:\t000001fffeffffff"]
    reads = {"lab1": {"rc": 0, "stderr": "", "stdout_lines": [
        '{"Name":"lab1","Swarm":{"LocalNodeState":"active","ControlAvailable":true,"NodeID":"n1"}}',
        "aerostack-leader-probe: 0"] + lab}}
    assert "no CAP_SYS_RESOURCE" in plugin.aerospike_host_reads(reads, ["lab1"], "aerospike_nodes", 65536)["nofile"][0]
    assert plugin.aerospike_host_reads(reads, ["lab1"], "aerospike_nodes", 20000)["nofile"] == []
    assert plugin.aerospike_host_reads(reads, ["lab1"])["nofile"] == []
    assert plugin.aerospike_host_reads(reads, [])["manager"] == "lab1"


def test_filters_run_inside_an_ansible_template(tmp_path):
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  gather_facts: false\n"
        "  vars:\n"
        "    settings: %s\n"
        "  tasks:\n"
        "    - ansible.builtin.copy:\n"
        "        content: \"{{ settings | aerostack.swarm.aerospike_conf }}\"\n"
        "        dest: %s\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"{{ settings | aerostack.swarm.aerospike_preflight(replicas='3', eligible_hosts=3,"
        " nofile=65536, image='aerospike/aerospike-server:latest') | to_json }}\"\n"
        % (json.dumps(SETTINGS), tmp_path / "aerospike.conf"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    binary = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run([str(binary), "-c", "local", str(playbook)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    text = (tmp_path / "aerospike.conf").read_text()
    assert "cluster-name aerostack" in text and "storage-engine memory {" in text
    assert "pin a version tag" in done.stdout
