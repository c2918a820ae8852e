#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: swarm_join
short_description: Bring one Docker node to its place in a swarm (init, join, leave, role, availability, labels)
version_added: 0.1.0
description:
  - Works through one Docker engine, over its unix socket, with the Python standard library only (no Docker SDK,
    no CLI on the host).
  - "B(Local scope) (O(node) not set): the engine of the host the task runs on is the node. V(init) creates a swarm
    with it as the first manager, or adopts the swarm it already manages; V(joined) joins it with O(join_token)
    through O(remote_addrs); V(absent) makes it leave."
  - "B(Node scope) (O(node) set): the task must run on a manager (use C(delegate_to)); the node named by O(node)
    gets the wanted O(role), O(availability) and O(labels), or with O(state=absent) its entry is removed from the
    swarm. Promotions and demotions of existing members are done this way, because only a manager's engine can
    change a node: a worker cannot promote itself and no manager exposes its socket to other hosts."
  - "Idempotent means: a member of THIS swarm with THIS role. THIS swarm is O(cluster_id) when given (a worker's
    cluster ID is read from its node certificate, which needs root), otherwise the swarm whose managers include
    one of O(remote_addrs)."
  - A node already in another swarm, or stuck in the C(pending) or C(error) state, is an error unless O(force=true)
    allows it to leave and join again; the ID it had is returned as RV(previous_node_id) so that its stale entry
    can be removed through a manager (node scope, O(state=absent)).
  - In local scope, a member with the wrong role is changed through its own engine when it is a manager (demoting
    itself); a worker that should be a manager is an error that names the node-scope fix, unless O(force=true) makes
    it leave and join again as a manager.
extends_documentation_fragment:
  - aerostack.swarm.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the swarm ID, node ID, state and role (node scope also availability and labels), before and
        after.
options:
  state:
    description:
      - V(joined) (local scope) a member of the swarm of O(remote_addrs)/O(cluster_id); (node scope) the node's spec
        as given.
      - V(init) (local scope only) the first manager of a new swarm, or a manager of the swarm it already has.
      - V(absent) (local scope) not in any swarm; (node scope) the node's entry removed (it must be Down, or
        O(force=true)).
    type: str
    choices: [joined, init, absent]
    default: joined
  node:
    description:
      - Switch to node scope and act on this node, by node ID or hostname, through the engine the task runs on,
        which must be a manager.
    type: str
  role:
    description:
      - The node's role. When joining, the check that O(join_token) gave this role; when a member, the role to
        change to (node scope, or local scope on a manager).
      - Not set means the role is not checked (membership only).
    type: str
    choices: [manager, worker]
  cluster_id:
    description:
      - The ID of the swarm the node must be in (C(docker info --format '{{.Swarm.Cluster.ID}}') on a manager).
      - In node scope, the manager the task runs on must belong to it.
    type: str
  remote_addrs:
    description:
      - Addresses of managers of the swarm to join, C(host) or C(host:port) (port 2377 when not given).
      - Required with O(state=joined) in local scope.
    type: list
    elements: str
  join_token:
    description:
      - The swarm's manager or worker join token. Secret (never logged). Not needed when already a member, nor in
        check mode.
    type: str
  advertise_addr:
    description:
      - Address (or interface name) other nodes reach this node at, for O(state=init) and when joining.
    type: str
  listen_addr:
    description:
      - Address the node listens on for swarm traffic.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description:
      - Address used for the overlay (data path) traffic, when it differs from O(advertise_addr).
    type: str
  availability:
    description:
      - V(active), V(pause) or V(drain). Not set means unchanged. Through a manager only.
      - With O(wait=true), V(drain) waits until no task runs on the node any more.
    type: str
    choices: [active, pause, drain]
  labels:
    description:
      - Node labels to add or update (values are strings). Through a manager only.
    type: dict
  labels_absent:
    description:
      - Node label keys to remove.
    type: list
    elements: str
  labels_exclusive:
    description:
      - Remove every label not in O(labels).
    type: bool
    default: false
  force:
    description:
      - Allow leaving another swarm (or a stuck membership) to join this one, leaving as a manager, or removing
        the entry of a node that is not Down.
      - In local scope with O(role=manager), a worker of this swarm leaves and joins again with the manager token
        (a worker cannot promote itself); this is how a manager left behind by a force-new-cluster comes back.
    type: bool
    default: false
  force_new_cluster:
    description:
      - With O(state=init) on a manager of a swarm that lost its quorum, rebuild the control plane as a one-manager
        swarm from this host's state (C(docker swarm init --force-new-cluster)). Services, networks and the other
        nodes are kept; the lost managers have to be demoted and replaced afterwards.
      - Refused, with no change, when the swarm still has a leader.
      - Always a change when it runs. C(playbooks/swarm_recover.yml) wraps it with an explicit confirmation.
    type: bool
    default: false
  wait:
    description:
      - Wait until the change took effect. A promoted node is a reachable manager, a demoted node left the Raft
        members, a joined node is active, a drained node runs no task.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each condition of O(wait). The failure names what was still missing.
      - Also how long a leave is asked again when the engine gives up on it before the host is out (HTTP 500
        "context deadline exceeded"), and how long a join the engine carries on in the background (HTTP 503 "Timeout
        was reached before node joined") is waited for; the state the engine reports decides, not that answer.
    type: int
    default: 60
  return_join_tokens:
    description:
      - Return the swarm's join tokens (RV(join_tokens)) when the engine is a manager.
      - Set C(no_log=true) on the task, because returned values are not masked.
    type: bool
    default: false
  docker_host:
    description:
      - The Docker engine's unix socket.
    type: str
    default: unix:///var/run/docker.sock
notes:
  - Managers should join one at a time; workers can join in parallel.
  - The M(aerostack.swarm.swarm_info) module reads the same state without changing anything.
seealso:
  - module: aerostack.swarm.swarm_info
  - name: Docker swarm administration guide (Raft quorum)
    description: Why manager counts are odd, and what a lost quorum means.
    link: https://docs.docker.com/engine/swarm/admin_guide/
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Create the swarm on the first manager (or adopt the one it manages)
  aerostack.swarm.swarm_join:
    state: init
    advertise_addr: 10.0.0.11
  register: swarm_join_first

- name: Read the join tokens on that manager
  aerostack.swarm.swarm_info:
    join_tokens: true
  register: swarm_join_tokens
  no_log: true

- name: Join a worker
  aerostack.swarm.swarm_join:
    state: joined
    role: worker
    cluster_id: "{{ swarm_join_first.swarm.swarm_id }}"
    remote_addrs: [10.0.0.11]
    join_token: "{{ swarm_join_tokens.join_tokens.worker }}"
    advertise_addr: 10.0.0.14

- name: Promote lab4 through a manager
  aerostack.swarm.swarm_join:
    node: lab4
    role: manager
  delegate_to: lab1

- name: Label a node and drain it, waiting until its tasks have moved
  aerostack.swarm.swarm_join:
    node: lab3
    labels:
      aerostack.aerospike: "true"
    availability: drain
    wait_timeout: 120
  delegate_to: lab1

- name: Remove the stale entry a rejoined host left behind
  aerostack.swarm.swarm_join:
    node: 7x1k2y3a4b5c6d7e8f9g0h1i2
    state: absent
  delegate_to: lab1
"""

RETURN = r"""
swarm:
  description: The node after the task (predicted in check mode; unknown values are in parentheses).
  returned: always
  type: dict
  contains:
    swarm_id:
      description: The cluster ID (None outside a swarm; for a worker, None when its certificate is unreadable).
      type: str
      sample: ybs5xllsvqq0nirhr6dhj7hgn
    node_id:
      description: The node ID.
      type: str
      sample: 2ie4ctqfldhcbkmkzjf6y4w8m
    state:
      description: Local scope, the engine's swarm state (inactive, pending, active, error, locked); node scope, the
        node's status (ready, down, unknown, disconnected).
      type: str
      sample: active
    role:
      description: C(manager), C(worker), or None outside a swarm.
      type: str
      sample: manager
    availability:
      description: The node's availability (node scope, or local scope on a manager after a spec change).
      type: str
      returned: when known
      sample: active
    labels:
      description: The node's labels (node scope).
      type: dict
      returned: when known
    hostname:
      description: The node's hostname as the swarm knows it (node scope).
      type: str
      returned: when known
actions:
  description: What was done (or would be done in check mode), one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["join through 10.0.0.11:2377 as worker"]
previous_node_id:
  description: The ID the node had in the swarm it left because of O(force=true).
  returned: when the node left a swarm to join again
  type: str
join_tokens:
  description: The swarm's join tokens. Secret.
  returned: when O(return_join_tokens=true) and the engine is a manager (not in check mode before the swarm exists)
  type: dict
  contains:
    manager:
      description: The manager join token.
      type: str
    worker:
      description: The worker join token.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import (
    Swarm,
    ensure_local,
    ensure_node,
    socket_path,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError

LOCAL_ONLY = ("remote_addrs", "join_token", "advertise_addr", "data_path_addr")


def run(params, check_mode, swarm=None):
    """Check the combination of options, act, and return the result dict (raises SwarmError)."""
    if swarm is None:
        swarm = Swarm(DockerApi(socket_path(params["docker_host"])))
    if params["wait_timeout"] < 1:
        raise SwarmError("wait_timeout=%d: give a number of seconds of at least 1" % params["wait_timeout"])
    if params["node"]:
        given = (["state=init"] if params["state"] == "init" else []) + [
            k for k in LOCAL_ONLY + ("force_new_cluster",) if params.get(k)]
        if given:
            raise SwarmError(
                "node=%s selects the node scope (a manager changes that node), where %s does not apply; drop node "
                "to act on this host's own membership" % (params["node"], ", ".join(given))
            )
        result = ensure_node(swarm, params, check_mode)
    else:
        result = ensure_local(swarm, params, check_mode)
    if params["return_join_tokens"]:
        local = swarm.local()
        if local["local_state"] == "active" and local["is_manager"]:
            tokens = swarm.inspect().get("JoinTokens") or {}
            result["join_tokens"] = {"manager": tokens.get("Manager"), "worker": tokens.get("Worker")}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["joined", "init", "absent"], default="joined"),
            node=dict(type="str"),
            role=dict(type="str", choices=["manager", "worker"]),
            cluster_id=dict(type="str"),
            remote_addrs=dict(type="list", elements="str"),
            join_token=dict(type="str", no_log=True),
            advertise_addr=dict(type="str"),
            listen_addr=dict(type="str", default="0.0.0.0:2377"),
            data_path_addr=dict(type="str"),
            availability=dict(type="str", choices=["active", "pause", "drain"]),
            labels=dict(type="dict"),
            labels_absent=dict(type="list", elements="str"),
            labels_exclusive=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            force_new_cluster=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=60),
            return_join_tokens=dict(type="bool", default=False),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        ),
        required_if=[("state", "joined", ("remote_addrs", "node"), True)],
        supports_check_mode=True,
    )
    try:
        result = run(module.params, module.check_mode)
    except SwarmError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
