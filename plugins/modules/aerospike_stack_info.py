#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: aerospike_stack_info
short_description: What swarm runs for an aerostack Aerospike stack, optionally waiting until it runs as wanted
version_added: 0.2.0
description:
  - Reads, on a swarm manager through the engine's unix socket, the stack's services, their tasks (history included),
    its configs and the swarm's nodes with their placement label, and summarizes them the way the aerospike role judges them
    (which tasks run which spec, on which host, with which overlay address; swarm's own error for a task that does not
    run).
  - With O(wait_for), polls in this one process until the Aerospike instances and the discovery task run the wanted
    spec (or, during a rolling update, until one more task was replaced), or until O(wait_for.timeout) passes. A wait
    that runs out is reported in RV(waited), not failed, so the caller words the failure.
  - Never changes anything.
extends_documentation_fragment:
  - aerostack.swarm.attributes
  - aerostack.swarm.attributes.INFO_MODULE
options:
  stack:
    description: The stack name (its services are C(<stack>_aerospike) and C(<stack>_discovery)).
    type: str
    required: true
  spec_hashes:
    description:
      - The wanted task spec hash of each service (C(aerospike), C(discovery)), as the stack file labels them; a task
        with another hash is outdated. Omitted, every task counts as current.
    type: dict
    default: {}
  label:
    description: The node label whose hosts run an Aerospike instance.
    type: str
    default: aerostack.aerospike
  wait_for:
    description: Wait until the stack runs as wanted.
    type: dict
    suboptions:
      instances:
        description: How many Aerospike instances must run.
        type: int
        required: true
      nodes:
        description: Swarm node IDs that must each run an instance.
        type: list
        elements: str
        default: []
      outdated_at_most:
        description:
          - During a rolling update, the step is done when at most this many tasks still run an older spec and
            O(wait_for.instances) tasks run.
        type: int
      timeout:
        description: Seconds to wait.
        type: float
        default: 180
      interval:
        description: Seconds between reads.
        type: float
        default: 0.5
  docker_host:
    description: The Docker engine's unix socket (a manager's).
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: aerostack.swarm.aerospike_info
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Wait until 3 instances and discovery run the new spec
  aerostack.swarm.aerospike_stack_info:
    stack: aerostack
    spec_hashes: {aerospike: fa2bf71e2ee0, discovery: 708e8caf0031}
    wait_for:
      instances: 3
      timeout: 120
  register: stack_state
  become: true
"""

RETURN = r"""
state:
  description: The stack as the aerospike role judges it.
  returned: always
  type: dict
  contains:
    aerospike:
      description: The Aerospike service (exists, mode, spec and stack hashes, image, volumes, update state).
      type: dict
    discovery:
      description: The discovery service, the same way.
      type: dict
    tasks:
      description: The Aerospike tasks (desired, running, current, outdated counts; each task's host and address;
        C(addresses) of the running ones; C(problems) in swarm's own words).
      type: dict
    discovery_tasks:
      description: The discovery tasks, the same way.
      type: dict
    nodes:
      description: Every swarm node (id, hostname, labelled, ready, state, availability, role).
      type: list
      elements: dict
    configs:
      description: The names of the stack's configs, whether a service uses them or not.
      type: list
      elements: str
waited:
  description: How the wait ended.
  returned: when O(wait_for) is given
  type: dict
  contains:
    done:
      description: Whether the stack ran as wanted before the timeout.
      type: bool
    waiting_for:
      description: What was still missing at the end (empty when done).
      type: list
      elements: str
    polls:
      description: How many times the stack was read.
      type: int
    seconds:
      description: How long the wait took.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_stack import network_name, service_names
from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_swarm import reader, wait
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import socket_path
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            stack=dict(type="str", required=True),
            spec_hashes=dict(type="dict", default={}),
            label=dict(type="str", default="aerostack.aerospike"),
            wait_for=dict(type="dict", options=dict(
                instances=dict(type="int", required=True),
                nodes=dict(type="list", elements="str", default=[]),
                outdated_at_most=dict(type="int"),
                timeout=dict(type="float", default=180),
                interval=dict(type="float", default=0.5),
            )),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    wait_for = params["wait_for"]
    if wait_for and (wait_for["instances"] < 0 or wait_for["timeout"] < 0 or wait_for["interval"] <= 0):
        module.fail_json(msg="wait_for.instances and wait_for.timeout must be 0 or more and wait_for.interval above 0")
    try:
        api = DockerApi(socket_path(params["docker_host"]))
    except SwarmError as exc:
        module.fail_json(msg=str(exc))
    spec_hashes = dict((k, params["spec_hashes"].get(k)) for k in ("aerospike", "discovery"))
    read = reader(api, params["stack"], service_names(params["stack"]), network_name(params["stack"]), spec_hashes,
                  params["label"])
    if not wait_for:
        state = read()
        if state["probe_error"]:
            module.fail_json(msg="cannot read the state of stack %s: %s" % (params["stack"], state["probe_error"]))
        module.exit_json(changed=False, state=state)
    state, verdict, polls, seconds = wait(read, wait_for, wait_for["timeout"], wait_for["interval"])
    module.exit_json(changed=False, state=state,
                     waited=dict(verdict, polls=polls, seconds=round(seconds, 3)))


if __name__ == "__main__":
    main()
