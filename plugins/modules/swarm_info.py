#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_info
short_description: Swarm facts of one Docker engine, and the node list when it is a manager
version_added: 0.1.0
description:
  - Reads, through the engine's unix socket with the Python standard library only, whether Docker answers, this
    engine's swarm membership (state, node ID, role, cluster ID) and, on a manager, every node of the swarm.
  - A missing or stopped engine is a result (RV(docker.available=false)), not a failure, so that a play can report
    every host without Docker at once.
  - On a manager of a swarm that lost its quorum the node list cannot be read; RV(nodes) is then None and
    RV(nodes_error) says why.
  - Warns about nodes that are Down and managers that Raft cannot reach.
  - Never changes anything.
extends_documentation_fragment:
  - aerostack.swarm.attributes
  - aerostack.swarm.attributes.INFO_MODULE
options:
  nodes:
    description:
      - On a manager, list the swarm's nodes.
    type: bool
    default: true
  join_tokens:
    description:
      - On a manager, return the join tokens. Secret; set C(no_log=true) on the task.
    type: bool
    default: false
  network:
    description:
      - Also return this host's addresses per interface and the address of its default route (from C(ip -j), so
        iproute2 must be installed; RV(network) is None without it). Saves gathering Ansible's network facts.
    type: bool
    default: false
  wait_ready:
    description:
      - Node IDs or hostnames to wait for (on a manager) until each is C(ready), and reachable when it is a manager.
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Seconds to wait for O(wait_ready). The failure names the nodes that were not ready and their state.
    type: int
    default: 60
  docker_host:
    description:
      - The Docker engine's unix socket.
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: aerostack.swarm.swarm_join
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Read this host's swarm state
  aerostack.swarm.swarm_info:
  register: swarm_info_local

- name: Wait on a manager until two freshly joined nodes are ready
  aerostack.swarm.swarm_info:
    wait_ready: [lab4, lab5]
    wait_timeout: 90
  delegate_to: lab1
"""

RETURN = r"""
docker:
  description: Whether the engine answered.
  returned: always
  type: dict
  contains:
    available:
      description: The engine answered on its socket.
      type: bool
    error:
      description: Why not, when it did not.
      type: str
    version:
      description: The engine's version.
      type: str
      sample: 20.10.24+dfsg1
swarm:
  description: This engine's swarm membership.
  returned: when the engine answered
  type: dict
  contains:
    local_state:
      description: C(inactive), C(pending), C(active), C(error) or C(locked).
      type: str
    node_id:
      description: This node's ID in the swarm.
      type: str
    node_addr:
      description: The address this node advertises.
      type: str
    is_manager:
      description: This engine is a manager (its API can change the swarm).
      type: bool
    cluster_id:
      description: The swarm's ID (on a worker, read from the node certificate; None when unreadable).
      type: str
    error:
      description: The engine's swarm error message, if any.
      type: str
    remote_managers:
      description: Addresses of the managers this node knows.
      type: list
      elements: str
    hostname:
      description: The engine's hostname.
      type: str
nodes:
  description: Every node of the swarm, as this manager sees it; None when not a manager or when the swarm has no
    leader.
  returned: when the engine answered
  type: list
  elements: dict
  contains:
    id:
      description: Node ID.
      type: str
    hostname:
      description: Hostname.
      type: str
    role:
      description: C(manager) or C(worker).
      type: str
    availability:
      description: C(active), C(pause) or C(drain).
      type: str
    labels:
      description: Node labels.
      type: dict
    state:
      description: C(ready), C(down), C(unknown) or C(disconnected).
      type: str
    addr:
      description: The node's address.
      type: str
    leader:
      description: This manager is the Raft leader.
      type: bool
    reachability:
      description: For managers, C(reachable), C(unreachable) or C(unknown); None for workers.
      type: str
    manager_addr:
      description: For managers, the address other nodes join through (C(host:2377)).
      type: str
network:
  description: This host's addresses.
  returned: when O(network=true)
  type: dict
  contains:
    addresses:
      description: Every address of every interface.
      type: list
      elements: str
    interfaces:
      description: Addresses per interface name.
      type: dict
      sample: {"eth0": ["10.0.0.11"], "lo": ["127.0.0.1"]}
    default:
      description: The IPv4 address of the default route's interface (empty without a default route).
      type: str
      sample: 10.0.0.11
nodes_error:
  description: Why the node list could not be read on a manager (typically the swarm has no leader).
  returned: when listing failed
  type: str
join_tokens:
  description: The join tokens. Secret.
  returned: when O(join_tokens=true) and the engine is a manager
  type: dict
  contains:
    manager:
      description: Manager join token.
      type: str
    worker:
      description: Worker join token.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import Swarm, gather, socket_path
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type="bool", default=True),
            join_tokens=dict(type="bool", default=False),
            network=dict(type="bool", default=False),
            wait_ready=dict(type="list", elements="str", default=[]),
            wait_timeout=dict(type="int", default=60),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        ),
        supports_check_mode=True,
    )
    try:
        swarm = Swarm(DockerApi(socket_path(module.params["docker_host"])))
        result = gather(swarm, module.params)
    except SwarmError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
