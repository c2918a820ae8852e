#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: aerospike_tip
short_description: Add or remove Aerospike mesh seeds (tip and tip-clear), idempotently
version_added: 0.1.0
description:
  - Makes O(peers) configured mesh seeds of every node in O(nodes) (O(state=present), the C(tip) info command) or
    removes them (O(state=absent), C(tip-clear)), and can reset the nodes' alumni list.
  - Idempotent although the server is not. A real 8.x server refuses a seed it already has with
    C(ERROR::unknown) and a tip-clear of a seed it does not have with C(ERROR::0 cleared, 1 not found). The module
    reads each node's configured seeds first (C(get-config:context=network)) and sends only what is missing or
    present. A seed that appears between the read and the tip (another process tipped it) is not an error.
  - A node is never tipped with its own address.
  - Tip-clear uses the C(host:port) form with the host spelled as it was tipped; the C(host;port) form of
    Aerospike's 2017 discovery script never cleared anything.
extends_documentation_fragment:
  - aerostack.swarm.targets
  - aerostack.swarm.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  peers:
    description:
      - The mesh seeds to add or remove, each C(host) or C(host:port) (heartbeat port, see O(heartbeat_port)).
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) tips the peers into every node that lacks them; V(absent) tip-clears them where configured.
    type: str
    choices: [present, absent]
    default: present
  heartbeat_port:
    description:
      - Heartbeat port for peers that do not name one. Mesh seeds use the heartbeat port (3002), not the info port.
    type: int
    default: 3002
  reset_alumni:
    description:
      - After tip-clearing, send C(services-alumni-reset) to nodes whose alumni list still names nodes that are no
        longer members. Only with O(state=absent).
    type: bool
    default: false
seealso:
  - module: aerostack.swarm.aerospike_info
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Full mesh between the tasks of a service, from inside a local task's network namespace
  aerostack.swarm.aerospike_tip:
    nodes_from_dns: tasks.aerospike_aerospike
    peers: "{{ aerospike_task_addresses }}"
    network_namespace:
      service: aerospike_aerospike
  become: true

- name: Forget a departed task everywhere and reset alumni
  aerostack.swarm.aerospike_tip:
    nodes: [10.0.6.2, 10.0.6.3]
    peers: [10.0.6.4]
    state: absent
    reset_alumni: true
"""

RETURN = r"""
nodes:
  description: What was done (or would be done, in check mode) per node.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The node's info address.
      type: str
      sample: 10.0.6.2:3000
    seeds_before:
      description: Mesh seeds configured before the change.
      type: list
      elements: str
      sample: ["10.0.6.4:3002"]
    seeds_after:
      description: Mesh seeds configured after the change (predicted in check mode).
      type: list
      elements: str
      sample: ["10.0.6.4:3002", "10.0.6.3:3002"]
    tipped:
      description: Seeds tipped into this node.
      type: list
      elements: str
    cleared:
      description: Seeds tip-cleared from this node.
      type: list
      elements: str
    already:
      description: Seeds another process configured between the read and the tip (not an error, not a change).
      type: list
      elements: str
    alumni_reset:
      description: Whether C(services-alumni-reset) was sent (or would be).
      type: bool
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import (
    format_address,
    is_error,
    parse_address,
    parse_list,
    parse_mesh_seeds,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._mesh import (
    plan_clears,
    plan_tips,
    tip_clear_command,
    tip_command,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._targets import (
    TARGET_ERRORS,
    TARGET_MUTUALLY_EXCLUSIVE,
    TARGET_REQUIRED_ONE_OF,
    Targets,
    target_argument_spec,
)

SEEDS = "get-config:context=network"


class TipFailed(Exception):
    """A node refused a tip or tip-clear that it should have accepted."""


def _labels(seeds):
    return [format_address(h, p) for h, p in seeds]


def _read_seeds(client):
    return parse_mesh_seeds(client.command(SEEDS))


def apply_to_node(client, peers, state, reset_alumni, check_mode):
    """Bring one node's seeds to the desired state. Returns the per-node result dict."""
    before = _read_seeds(client)
    result = dict(address=client.node, seeds_before=_labels(before), tipped=[], cleared=[], already=[],
                  alumni_reset=False)
    if state == "present":
        plan = plan_tips([client.host], peers, before)
        after = before + plan
        if plan and not check_mode:
            commands = [tip_command(h, p) for h, p in plan]
            answers = client.request(*commands)
            refused = [(seed, answers[cmd]) for seed, cmd in zip(plan, commands) if answers[cmd].strip() != "ok"]
            if refused:
                # A duplicate is refused with ERROR::unknown: fine if the seed is there now (a race).
                now = _read_seeds(client)
                still_missing = [(seed, value) for seed, value in refused if plan_tips([], [seed], now)]
                if still_missing:
                    raise TipFailed("; ".join(
                        "tip %s into %s failed: %s" % (format_address(*seed), client.node, value)
                        for seed, value in still_missing))
                result["already"] = _labels(seed for seed, _value in refused)
                plan = [seed for seed in plan if seed not in [s for s, _v in refused]]
                after = now
        result["tipped"] = _labels(plan)
    else:
        plan = plan_clears(peers, before)
        after = [seed for seed in before if seed not in plan]
        if plan and not check_mode:
            command = tip_clear_command(plan)
            value = client.request(command)[command]
            if value.strip() != "ok":
                now = _read_seeds(client)
                left = plan_clears(plan, now)
                if left:
                    raise TipFailed("tip-clear %s from %s failed: %s" % (", ".join(_labels(left)), client.node, value))
                after = now
        result["cleared"] = _labels(plan)
        if reset_alumni:
            answers = client.request("services", "services-alumni")
            members = set(parse_list(answers["services"]))
            departed = [a for a in parse_list(answers["services-alumni"]) if a not in members]
            if departed:
                result["alumni_reset"] = True
                if not check_mode:
                    value = client.request("services-alumni-reset")["services-alumni-reset"]
                    if is_error(value):
                        raise TipFailed("services-alumni-reset on %s failed: %s" % (client.node, value))
    result["seeds_after"] = _labels(after)
    return result


def run(params, check_mode):
    """Apply to every node concurrently. Returns (per-node results, errors)."""
    if not params["peers"]:
        raise ValueError("peers is empty: name at least one seed (host or host:port)")
    if not 1 <= params["heartbeat_port"] <= 65535:
        raise ValueError("heartbeat_port %d is out of range (1-65535)" % params["heartbeat_port"])
    if params["reset_alumni"] and params["state"] != "absent":
        raise ValueError("reset_alumni is only meaningful with state=absent")
    peers = [parse_address(p, params["heartbeat_port"]) for p in params["peers"]]
    with Targets(params) as targets:
        clients = targets.clients()

        def one(client):
            try:
                return apply_to_node(client, peers, params["state"], params["reset_alumni"], check_mode), None
            except TARGET_ERRORS + (TipFailed,) as exc:
                return dict(address=client.node), str(exc)
            finally:
                client.close()

        with ThreadPoolExecutor(max_workers=max(1, min(32, len(clients)))) as executor:
            outcomes = list(executor.map(one, clients))
    return [r for r, _e in outcomes], [e for _r, e in outcomes if e]


def _diff(results):
    def render(key):
        return "".join("%s: %s\n" % (r["address"], ", ".join(r.get(key) or []) or "(no seeds)")
                       for r in results if key in r)
    return dict(before=render("seeds_before"), after=render("seeds_after"))


def main():
    argument_spec = target_argument_spec()
    argument_spec.update(
        peers=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        heartbeat_port=dict(type="int", default=3002),
        reset_alumni=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=TARGET_REQUIRED_ONE_OF,
        mutually_exclusive=TARGET_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    try:
        results, errors = run(module.params, module.check_mode)
    except TARGET_ERRORS + (ValueError,) as exc:
        module.fail_json(msg=str(exc))
    changed = any(r.get("tipped") or r.get("cleared") or r.get("alumni_reset") for r in results)
    outcome = dict(changed=changed, nodes=results)
    if module._diff:
        outcome["diff"] = _diff(results)
    if errors:
        module.fail_json(msg="; ".join(errors), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
