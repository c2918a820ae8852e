"""The roles' own refusals, run through the real roles with ansible-playbook on this machine -- no Docker, no lab.

One playbook run holds every case: each case is a play on its own local host alias, importing the role as the
collection's playbooks do (so its argument-spec validation runs first), with the bad input as play variables,
and a rescue that records the failed task and its message. Safety: ``--check`` plus ``--tags`` limited to the
preflight phases, so nothing past a preflight could run even if a refusal were missing. Where a role runs
``docker``, the host's Python interpreter is a wrapper that puts a fake ``docker`` first on PATH (it prints a
canned ``docker info`` or fails like a missing engine) and points DOCKER_HOST at a socket that does not exist;
the swarm role reads an engine socket that does not exist. The operating system a host reports is injected by a
test-only module, so the result does not depend on this machine.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
NO_SOCKET = "unix:///nonexistent/aerostack-test/docker.sock"
DEBIAN = {"distribution": "Debian", "version": "12.8", "family": "Debian", "architecture": "x86_64"}

FACTS_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(distribution=dict(type="str"), version=dict(type="str"),
                                              family=dict(type="str"), architecture=dict(type="str")),
                           supports_check_mode=True)
    p = module.params
    module.exit_json(changed=False, ansible_facts=dict(
        distribution=p["distribution"], distribution_version=p["version"],
        distribution_major_version=p["version"].split(".")[0], distribution_release="test",
        os_family=p["family"], architecture=p["architecture"]))


main()
'''

FAKE_DOCKER = '''#!/bin/sh
# A stand-in for the docker CLI: records the call, then prints $FAKE_DOCKER_INFO or fails like a missing engine;
# with $FAKE_DOCKER_NO_LEADER, `docker node ...` fails with that message, like a manager whose swarm lost its quorum.
echo "$*" >> "$FAKE_DOCKER_LOG"
if [ "$1" = node ] && [ -n "$FAKE_DOCKER_NO_LEADER" ]; then
    echo "$FAKE_DOCKER_NO_LEADER" >&2
    exit 1
fi
if [ -z "$FAKE_DOCKER_INFO" ]; then
    echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
    exit 1
fi
cat "$FAKE_DOCKER_INFO"
'''

SWARM_INFO = {
    "manager": {"Name": "lab1", "Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n1"}},
    "inactive": {"Name": "lab9", "Swarm": {"LocalNodeState": "inactive", "ControlAvailable": False, "NodeID": ""}},
}

ONE_COPY = [{"name": "test", "replication_factor": 1, "storage": {"type": "memory", "data_size": "1G"},
             "options": {"nsup-period": 120}}]

# case host -> (role, {"vars": host variables, "facts": reported system, "docker": fake docker info or None})
CASES = {
    "docker_os": ("docker", {"facts": dict(DEBIAN, distribution="Fedora", version="40", family="RedHat")}),
    "docker_source": ("docker", {"vars": {"docker_install_source": "snap"}}),
    "docker_live_restore": ("docker", {"vars": {"docker_daemon_options": {"live-restore": True}}}),
    "docker_version": ("docker", {"vars": {"docker_version": "latest"}}),
    "docker_users": ("docker", {"vars": {"docker_users": "alice"}}),
    "swarm_no_docker": ("swarm", {"vars": {"swarm_docker_host": NO_SOCKET, "swarm_hosts_group": "case_swarm",
                                           "swarm_managers_max": 4}}),
    "swarm_cap_text": ("swarm", {"vars": {"swarm_managers_max": "five", "swarm_hosts_group": "case_swarm_text"}}),
    "aerospike_replicas": ("aerospike", {"vars": {"aerospike_replicas": 6, "aerospike_nodes_group": "case_as1"}}),
    "aerospike_replicas_text": ("aerospike", {"vars": {"aerospike_replicas": "three",
                                                       "aerospike_nodes_group": "case_as1"}}),
    "aerospike_memory_size": ("aerospike", {"vars": {
        "aerospike_replicas": 1, "aerospike_nodes_group": "case_as1",
        "aerospike_namespaces": [dict(ONE_COPY[0], options={"nsup-period": 120, "memory-size": "4G"})]}}),
    "aerospike_no_docker": ("aerospike", {"vars": {"aerospike_nodes_group": "case_nd"}, "docker": None}),
    "aerospike_no_swarm": ("aerospike", {"vars": {"aerospike_nodes_group": "case_ns"}, "docker": "inactive"}),
    "aerospike_no_leader": ("aerospike", {"vars": {"aerospike_nodes_group": "case_nl"}, "docker": "manager",
                                          "no_leader": True}),
    "aerospike_teardown": ("teardown", {}),
}
# A two-host case: a manager, and an Aerospike host that is not in the swarm.
PAIR = {"aerospike_member_lab1": "manager", "aerospike_member_lab9": "inactive"}
GROUPS = {"case_swarm": ["swarm_no_docker"], "case_swarm_text": ["swarm_cap_text"],
          "case_as1": ["aerospike_replicas"], "case_nd": ["aerospike_no_docker"], "case_ns": ["aerospike_no_swarm"],
          "case_nl": ["aerospike_no_leader"],
          "case_pair": list(PAIR), "case_docker": [h for h, (role, _s) in CASES.items() if role == "docker"]}
TAGS = "docker_preflight,swarm_preflight,aerospike_preflight,case_teardown"
# What Docker 20.10's CLI prints on a manager whose swarm lost its quorum (measured on the lab).
NO_LEADER = ("Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's "
             "possible that too few managers are online. Make sure more than half of the managers are online.")


RECORD = {"name": "Record the refusal", "tags": ["always"], "ansible.builtin.set_fact": {"case_result": {
    "task": "{{ ansible_failed_task.name | default('') }}", "msg": "{{ ansible_failed_result.msg | default('') }}"}}}
#: A refusal judged once for every host of a play (run_once) fails the whole play; the next cases go on.
GO_ON = {"name": "Go on with the next cases", "tags": ["always"], "ansible.builtin.meta": "clear_host_errors"}


def _play(name, hosts, role):
    """A play that runs ``role`` as the collection's playbooks do, recording a refusal instead of stopping."""
    tasks = []
    if role == "docker":
        tasks.append({"name": "Report the operating system of the case", "tags": ["always"],
                      "aerostack_test_os_facts": "{{ case_facts }}"})
    if role == "teardown":
        include = {"name": "Run the role", "tags": ["case_teardown"], "ansible.builtin.include_role": {
            "name": "aerostack.swarm.aerospike", "tasks_from": "teardown", "apply": {"tags": ["case_teardown"]}}}
    else:
        include = {"name": "Run the role", "ansible.builtin.import_role": {"name": "aerostack.swarm.%s" % role}}
    tasks.append({"name": "Case", "block": [include], "rescue": [RECORD, GO_ON]})
    return {"name": name, "hosts": hosts, "gather_facts": False, "tasks": tasks}


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    """``{host: {"task": failed task name, "msg": message}}`` from one ansible-playbook run (None: no refusal)."""
    work = tmp_path_factory.mktemp("preflight")
    (work / "library").mkdir()
    (work / "library" / "aerostack_test_os_facts.py").write_text(FACTS_MODULE)
    fakebin = work / "bin"
    fakebin.mkdir()
    (fakebin / "docker").write_text(FAKE_DOCKER)
    (fakebin / "docker").chmod(0o755)
    calls = work / "docker-calls.log"
    calls.write_text("")

    hosts = {}
    docker_of = dict(PAIR)
    for host, (_role, spec) in CASES.items():
        docker_of[host] = spec.get("docker", "")
    for host, docker in docker_of.items():
        info_file = ""
        if docker:
            info_file = work / ("%s.json" % host)
            info_file.write_text(json.dumps(SWARM_INFO[docker]) + "\n")  # the CLI ends its line
        wrapper = work / ("python-%s" % host)
        no_leader = NO_LEADER if CASES.get(host, ("", {}))[1].get("no_leader") else ""
        environment = 'PATH="%s:$PATH" FAKE_DOCKER_INFO="%s" FAKE_DOCKER_LOG="%s" DOCKER_HOST="%s" %s' % (
            fakebin, info_file, calls, NO_SOCKET, "FAKE_DOCKER_NO_LEADER=%s" % shlex.quote(no_leader))
        wrapper.write_text('#!/bin/sh\nexport %s\nexec "%s" "$@"\n' % (environment, sys.executable))
        wrapper.chmod(0o755)
        spec = CASES.get(host, ("", {}))[1]
        hosts[host] = dict(spec.get("vars", {}), ansible_connection="local",
                           ansible_python_interpreter=str(wrapper), case_facts=spec.get("facts", DEBIAN),
                           aerospike_replicas=spec.get("vars", {}).get("aerospike_replicas", 1),
                           aerospike_namespaces=spec.get("vars", {}).get("aerospike_namespaces", ONE_COPY))
    for host in PAIR:
        # A limit any engine can give, so the host in the swarm passes the whole preflight on any machine.
        hosts[host].update(aerospike_nodes_group="case_pair", aerospike_nofile=1024,
                           aerospike_service={"proto-fd-max": 1000})
    inventory = {"all": {"hosts": hosts, "children": dict(
        (group, {"hosts": dict((h, {}) for h in members)}) for group, members in GROUPS.items())}}
    (work / "hosts.yml").write_text(json.dumps(inventory))

    # The docker role runs nothing once per play: its cases share a play. The others decide once per play.
    plays = [_play("docker cases", "case_docker", "docker")]
    plays += [_play("case %s" % host, host, role) for host, (role, _spec) in CASES.items() if role != "docker"]
    plays.append(_play("case: an Aerospike host outside the swarm", "case_pair", "aerospike"))
    plays.append({"name": "Write what each case recorded", "hosts": "all", "gather_facts": False, "tasks": [{
        "name": "Write the result", "tags": ["always"], "check_mode": False, "delegate_to": "localhost",
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "ansible.builtin.copy": {"content": "{{ case_result | default(None) | to_json }}",
                                 "dest": "%s/{{ inventory_hostname }}.result" % work}}]})
    (work / "cases.yml").write_text(json.dumps(plays))

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_PIPELINING="1")
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(ansible_playbook), "-i", str(work / "hosts.yml"), str(work / "cases.yml"), "--check",
                           "--tags", TAGS], capture_output=True, text=True, env=env, cwd=str(work), check=False,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = dict((host, json.loads((work / ("%s.result" % host)).read_text())) for host in docker_of)
    results["_docker_calls"] = calls.read_text().splitlines()
    return results


def _refused(refusals, host, task):
    result = refusals[host]
    assert result is not None, "%s was not refused" % host
    assert result["task"] == task, result
    return result["msg"]


def test_docker_role_refuses_an_unsupported_system(refusals):
    assert _refused(refusals, "docker_os", "Check that the operating system is supported") == (
        "docker_os runs Fedora 40 (family RedHat), which the docker role does not support. Supported: Debian 11, "
        "12, 13; Ubuntu 22, 24.")


def test_docker_role_refuses_live_restore(refusals):
    assert _refused(refusals, "docker_live_restore", "Check the role's settings") == (
        "Invalid docker role settings on docker_live_restore: live-restore must stay off: swarm mode refuses it "
        "(remove it from docker_daemon_options).")


def test_docker_role_refuses_a_version_that_is_not_x_y_z(refusals):
    assert _refused(refusals, "docker_version", "Check the role's settings") == (
        "Invalid docker role settings on docker_version: docker_version must be an exact version such as 28.5.2 "
        "(it is \"latest\").")


def test_docker_role_refuses_users_given_as_a_string(refusals):
    assert _refused(refusals, "docker_users", "Check the role's settings") == (
        "Invalid docker role settings on docker_users: docker_users must be a list (it is \"alice\").")


def test_docker_role_argument_spec_refuses_an_unknown_install_source_before_its_preflight(refusals):
    assert _refused(refusals, "docker_source", "Validating arguments against arg spec 'main' - Install, configure "
                    "and start the Docker engine") == (
        "Validation of arguments failed:\nvalue of docker_install_source must be one of: docker, distribution, "
        "got: snap")


def test_swarm_role_lists_every_problem_of_the_plan_and_changes_nothing(refusals):
    assert _refused(refusals, "swarm_no_docker", "Stop when the plan is refused") == (
        "swarm plan refused, nothing was changed:\n"
        "- swarm_managers_max=4 is even: 4 managers tolerate 1 loss(es), no more than 3 do, and need one more to "
        "answer; set it to 3 or 5\n"
        "- swarm_no_docker: Docker engine not available (Docker engine at unix:///nonexistent/aerostack-test/docker"
        ".sock: GET /info failed: [Errno 2] No such file or directory (is the engine running, and may this user use "
        "its socket?)); install it with the aerostack.swarm.docker role (playbooks/swarm.yml does) and start the "
        "service")


def test_swarm_role_argument_spec_refuses_a_manager_cap_that_is_not_a_number(refusals):
    assert _refused(refusals, "swarm_cap_text", "Validating arguments against arg spec 'main' - Reconcile a Docker "
                    "swarm from the inventory, quorum-safely") == (
        "Validation of arguments failed:\nargument 'swarm_managers_max' is of type str and we were unable to "
        "convert to int: \"'five'\" cannot be converted to an int")


def test_aerospike_preflight_refuses_more_replicas_than_aerospike_hosts(refusals):
    assert _refused(refusals, "aerospike_replicas", "Refuse settings the server or the stack would reject") == [
        "Aerospike preflight refused the settings (nothing was changed):",
        "aerospike_replicas is 6 but only 1 host(s) are in the aerospike_nodes group; each host runs one Aerospike "
        "instance, bound to it with its data: add hosts to aerospike_nodes or lower aerospike_replicas"]


def test_aerospike_preflight_refuses_a_key_8x_no_longer_accepts(refusals):
    assert _refused(refusals, "aerospike_memory_size", "Refuse settings the server or the stack would reject") == [
        "Aerospike preflight refused the settings (nothing was changed):",
        "namespace test options: 'memory-size' is not accepted by Aerospike 8.x and stops the server at start: size "
        "an in-memory namespace with storage: {type: memory, data_size: 4G} instead"]


def test_aerospike_argument_spec_refuses_replicas_that_are_not_a_number(refusals):
    assert _refused(refusals, "aerospike_replicas_text", "Validating arguments against arg spec 'main' - Deploy a "
                    "verified Aerospike cluster on the swarm") == (
        "Validation of arguments failed:\nargument 'aerospike_replicas' is of type str and we were unable to "
        "convert to int: \"'three'\" cannot be converted to an int")


def test_aerospike_preflight_refuses_a_host_without_a_working_docker(refusals):
    assert _refused(refusals, "aerospike_no_docker", "Refuse hosts without a working Docker engine") == (
        "Docker does not answer on aerospike_no_docker (docker info: rc 1: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?). Install and start it with playbooks/swarm.yml "
        "(roles docker and swarm) first.")


def test_aerospike_preflight_refuses_to_go_on_without_a_formed_swarm(refusals):
    assert _refused(refusals, "aerospike_no_swarm", "Refuse to go on without a formed swarm") == (
        "The swarm is not formed: no host of this play is an active swarm manager (aerospike_no_swarm: inactive). "
        "Form it with playbooks/swarm.yml first.")


def test_aerospike_preflight_refuses_an_aerospike_host_outside_the_swarm(refusals):
    # One task on the controller judges every host's read (run_once): the whole play is refused, naming the host.
    assert _refused(refusals, "aerospike_member_lab1", "Refuse Aerospike hosts that are not in a swarm") == (
        "aerospike_member_lab9 is in group case_pair but is not an active swarm member (its swarm state: inactive). "
        "Join it with playbooks/swarm.yml, or remove it from case_pair.")


def test_aerospike_preflight_stops_with_quorum_lost_and_the_recovery_when_the_swarm_has_no_leader(refusals):
    assert _refused(refusals, "aerospike_no_leader", "Stop when the swarm has lost its quorum") == (
        "quorum lost: the swarm of aerospike_no_leader has no leader (Error response from daemon: rpc error: code = "
        "Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure "
        "more than half of the managers are online.). Nothing was changed, and the Aerospike tasks keep running. "
        "Bring the lost managers back; if they cannot come back, rebuild the control plane from one surviving "
        "manager: ansible-playbook playbooks/swarm_recover.yml -e swarm_recover_host=aerospike_no_leader -e "
        "swarm_recover_confirm=yes (docs/swarm.md).")


def test_teardown_without_the_stack_name_as_confirmation_is_refused(refusals):
    assert _refused(refusals, "aerospike_teardown", "Refuse to remove a stack without its name as confirmation") == (
        "Teardown removes the stack aerostack and the data of its in-memory namespaces. Confirm with -e "
        "aerospike_teardown_confirm=aerostack (nothing was changed).")


def test_only_the_fake_docker_was_ever_called(refusals):
    # Every aerospike case that reached its swarm check ran `docker info` -- the fake one, through the wrapper.
    assert refusals["_docker_calls"].count("info --format {{json .}}") == 5
