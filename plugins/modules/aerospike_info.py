#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: aerospike_info
short_description: Facts of Aerospike nodes and whether they form one stable cluster
version_added: 0.1.0
description:
  - Asks every node, concurrently and in one info request per node, for its identity, cluster view, migrations,
    namespaces, configured mesh seeds and peers, and returns them with a cluster verdict.
  - With O(wait_for), polls until the nodes form one stable cluster of the given size, or fails with the per-node
    picture of what disagrees.
  - Speaks the Aerospike info protocol itself; can work from inside a container's network namespace to reach nodes
    on an overlay network.
  - Never changes anything; always reports RV(ignore:changed=false).
extends_documentation_fragment:
  - aerostack.swarm.targets
  - aerostack.swarm.attributes
  - aerostack.swarm.attributes.INFO_MODULE
options:
  namespaces:
    description:
      - Namespaces to report on. Naming them lets the default facts come in ONE round trip per node.
      - When omitted, the module reads each node's namespace list first and then asks for each namespace (a second
        round trip).
    type: list
    elements: str
  namespace_check:
    description:
      - V(all) checks every node for every namespace of O(namespaces) (or, when that is omitted, of all the
        namespaces any node reports); a node without one is a problem.
      - V(own) checks each node only for the namespaces it reports itself. Use it during a rolling namespace change
        (a namespace added, removed or changed), where nodes on the old and on the new configuration legitimately
        differ; verify with V(all) once every node runs the new configuration.
    type: str
    choices: [all, own]
    default: all
    version_added: 0.2.0
  commands:
    description:
      - Extra raw info commands to send to every node in the same request; their raw answers are returned per node
        in RV(nodes[].commands). Error answers are returned as they are, not raised.
    type: list
    elements: str
    default: []
  allow_unreachable:
    description:
      - Report unreachable nodes in the result instead of failing.
      - Useful for a status report; leave it off where a missing node is an error.
    type: bool
    default: false
  wait_for:
    description:
      - Wait until the nodes form one stable cluster of O(wait_for.size) nodes, or fail after O(wait_for.timeout).
      - Stable means every node answers, all report the same cluster key and size, cluster integrity holds, every
        node is a member, no namespace has unavailable or dead partitions and, unless O(wait_for.migrations_done) is
        false, no migrations remain and the server's own C(cluster-stable) check agrees.
    type: dict
    suboptions:
      size:
        description: The expected cluster size (at least 1).
        type: int
        required: true
      migrations_done:
        description: Also wait until partition migrations have finished.
        type: bool
        default: true
      timeout:
        description: Seconds to wait before failing.
        type: float
        default: 120
      interval:
        description: Seconds between polls.
        type: float
        default: 0.5
seealso:
  - module: aerostack.swarm.aerospike_tip
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Facts of three nodes reachable from this host
  aerostack.swarm.aerospike_info:
    nodes: [10.0.0.11, 10.0.0.12, "10.0.0.13:3000"]
  register: aerospike_facts

- name: Wait until every task of the service forms one cluster of 3, from inside a local task's namespace
  aerostack.swarm.aerospike_info:
    nodes_from_dns: tasks.aerospike_aerospike
    network_namespace:
      service: aerospike_aerospike
    namespaces: [test]
    wait_for:
      size: 3
      timeout: 90
  become: true

- name: Raw commands, answered per node
  aerostack.swarm.aerospike_info:
    nodes: [127.0.0.1]
    commands: ["cluster-stable:size=3;ignore-migrations=false", "services-alumni"]
  register: aerospike_raw
"""

RETURN = r"""
nodes:
  description: One entry per node, in the order the nodes were given or resolved.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The node's info address, C(host:port).
      type: str
      sample: 10.0.6.2:3000
    reachable:
      description: Whether the node answered.
      type: bool
    error:
      description: Why the node did not answer (or an answer that was not understood); null otherwise.
      type: str
    node_id:
      description: The node ID.
      type: str
      sample: BB90306000A4202
    build:
      description: Server build.
      type: str
      sample: 8.1.2.0
    edition:
      description: Server edition.
      type: str
      sample: Aerospike Community Edition
    version:
      description: Server version string.
      type: str
    simulator:
      description: True when the node is the aerostack test simulator rather than an Aerospike server.
      type: bool
    cluster_name:
      description: The configured cluster name.
      type: str
    cluster_size:
      description: Cluster size as this node sees it.
      type: int
      sample: 3
    cluster_key:
      description: Cluster key as this node sees it.
      type: str
      sample: 8D27A45F0E85
    cluster_generation:
      description: Cluster generation.
      type: int
    cluster_principal:
      description: Node ID of the principal.
      type: str
    cluster_integrity:
      description: Cluster integrity flag.
      type: bool
    cluster_is_member:
      description: Whether the node is a member of a cluster.
      type: bool
    migrate_allowed:
      description: Whether migrations are allowed (false while the cluster is changing).
      type: bool
    migrate_partitions_remaining:
      description: Partition migrations remaining on this node.
      type: int
    uptime:
      description: Seconds since the server started.
      type: int
    objects:
      description: Objects stored on this node.
      type: int
    client_connections:
      description: Open client connections.
      type: int
    cluster_stable:
      description: The server's C(cluster-stable) answer (the cluster key) when O(wait_for) is used and it is stable.
      type: str
    cluster_stable_error:
      description: The server's C(cluster-stable) error answer, when there is one.
      type: str
    mesh_seeds:
      description: Configured mesh seeds (C(host:port), heartbeat port), from C(get-config:context=network).
      type: list
      elements: str
      sample: ["10.0.6.2:3002", "10.0.6.4:3002"]
    services:
      description: Info addresses of the other cluster members.
      type: list
      elements: str
    peers:
      description: The other members, from C(peers-clear-std).
      type: list
      elements: dict
      sample: [{"node_id": "BB90406000A4202", "tls_name": "", "addresses": ["10.0.6.4:3000"]}]
    namespace_names:
      description: Namespaces the node has.
      type: list
      elements: str
    namespaces:
      description: Per namespace, C(objects), C(unavailable_partitions), C(dead_partitions), C(ns_cluster_size),
        C(effective_replication_factor), C(replication_factor), C(storage_engine), C(stop_writes).
      type: dict
    missing_namespaces:
      description: Namespaces asked for in O(namespaces) that the node does not have.
      type: list
      elements: str
    commands:
      description: Raw answers to O(commands), keyed by command.
      type: dict
cluster:
  description: The verdict over all nodes.
  returned: always
  type: dict
  contains:
    stable:
      description: Whether the nodes form one stable cluster (see O(wait_for) for the definition).
      type: bool
    size:
      description: The cluster size, when every node reports the same one.
      type: int
    expected_size:
      description: O(wait_for.size), when given.
      type: int
    cluster_key:
      description: The cluster key, when every node reports the same one.
      type: str
    nodes_queried:
      description: Number of nodes asked.
      type: int
    nodes_reachable:
      description: Number of nodes that answered.
      type: int
    migrations_remaining:
      description: Sum of partition migrations remaining over the nodes.
      type: int
    problems:
      description: Why the cluster is not stable, one sentence per finding, naming the node.
      type: list
      elements: str
      sample: ["10.0.6.4:3000 reports cluster_size 1, expected 3"]
polls:
  description: How many times the nodes were polled (1 without O(wait_for)).
  returned: always
  type: int
round_trips:
  description: Info requests sent, over all nodes and polls.
  returned: always
  type: int
elapsed:
  description: Seconds spent querying and waiting.
  returned: always
  type: float
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import parse_list
from ansible_collections.aerostack.swarm.plugins.module_utils._cluster import (
    node_commands,
    node_facts,
    poll,
    summarize,
    wait_stable,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._targets import (
    TARGET_ERRORS,
    TARGET_MUTUALLY_EXCLUSIVE,
    TARGET_REQUIRED_ONE_OF,
    Targets,
    target_argument_spec,
)


def _discover_namespaces(clients, executor):
    """The union of namespace names over the nodes that answer (one extra round trip each)."""
    def one(client):
        try:
            return parse_list(client.request("namespaces")["namespaces"])
        except TARGET_ERRORS:
            return []
    names = []
    for found in executor.map(one, clients):
        names.extend(n for n in found if n not in names)
    return names


def gather(params):
    """Query the nodes (and wait, if asked). Returns the module result; raises a TARGET_ERRORS member."""
    wait_for = params.get("wait_for")
    if wait_for is not None:
        if wait_for["size"] < 1:
            raise ValueError("wait_for.size must be at least 1, got %d" % wait_for["size"])
        if wait_for["timeout"] < 0 or wait_for["interval"] <= 0:
            raise ValueError("wait_for.timeout must be 0 or more and wait_for.interval above 0")
    expected = wait_for["size"] if wait_for else None
    migrations_done = wait_for["migrations_done"] if wait_for else True
    started = time.monotonic()
    with Targets(params) as targets:
        clients = targets.clients()
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(32, len(clients)))) as executor:
                namespaces = params.get("namespaces")
                if namespaces is None:
                    namespaces = _discover_namespaces(clients, executor)
                commands = node_commands(namespaces, expected, migrations_done, params["commands"])

                own = params["namespace_check"] == "own"

                def build(address, answers):
                    return node_facts(address, answers, namespaces, expected, migrations_done, params["commands"],
                                      own_namespaces=own)

                if wait_for:
                    nodes, summary, polls = wait_stable(
                        clients, commands, build, expected, migrations_done, wait_for["timeout"], wait_for["interval"]
                    )
                else:
                    nodes = poll(clients, commands, build, executor)
                    summary, polls = summarize(nodes, None, True), 1
        finally:
            round_trips = sum(c.round_trips for c in clients)
            for client in clients:
                client.close()
    return dict(
        changed=False,
        nodes=nodes,
        cluster=summary,
        polls=polls,
        round_trips=round_trips,
        elapsed=round(time.monotonic() - started, 3),
    )


def argument_spec():
    """The options, with the node-addressing options shared with aerospike_tip."""
    spec = target_argument_spec()
    spec.update(
        namespaces=dict(type="list", elements="str"),
        namespace_check=dict(type="str", choices=["all", "own"], default="all"),
        commands=dict(type="list", elements="str", default=[]),
        allow_unreachable=dict(type="bool", default=False),
        wait_for=dict(
            type="dict",
            options=dict(
                size=dict(type="int", required=True),
                migrations_done=dict(type="bool", default=True),
                timeout=dict(type="float", default=120),
                interval=dict(type="float", default=0.5),
            ),
        ),
    )
    return spec


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_one_of=TARGET_REQUIRED_ONE_OF,
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    try:
        result = gather(module.params)
    except TARGET_ERRORS + (ValueError,) as exc:
        module.fail_json(msg=str(exc))
    unreachable = [n for n in result["nodes"] if not n["reachable"]]
    wait_for = module.params.get("wait_for")
    if wait_for and not result["cluster"]["stable"]:
        module.fail_json(
            msg="the cluster is not stable at size %d after %.0f s (%d polls): %s"
            % (wait_for["size"], result["elapsed"], result["polls"], "; ".join(result["cluster"]["problems"])),
            **result
        )
    if unreachable and not module.params["allow_unreachable"]:
        module.fail_json(
            msg="%d of %d nodes did not answer: %s (set allow_unreachable to report them instead)"
            % (len(unreachable), len(result["nodes"]),
               "; ".join("%s: %s" % (n["address"], n["error"]) for n in unreachable)),
            **result
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
