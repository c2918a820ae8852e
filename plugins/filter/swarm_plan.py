# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the swarm role plans and checks with: thin adapters over ``module_utils/_swarm_plan.py``.

The plan needs what every host reported, so it is made on the controller (a filter), not in a module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import (
    SwarmError,
    find_stale_nodes,
    plan_swarm,
    verify_swarm,
)

REPORT_VAR = "swarm_host_report"


def _plain(value):
    """Lazy Ansible containers -> plain dicts/lists (the planner indexes and copies them)."""
    if isinstance(value, dict) or hasattr(value, "keys"):
        return dict((str(k), _plain(value[k])) for k in value.keys())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def swarm_plan(hosts, hostvars, settings=None):
    """The reconciliation plan; ``{"error": message}`` instead when the plan is refused."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("swarm_plan: expects the list of hosts of the 'swarm' group, got %r" % (hosts,))
    reports = {}
    for host in hosts:
        try:
            report = hostvars[host].get(REPORT_VAR)
        except KeyError:
            report = None
        reports[str(host)] = _plain(report) if report else {"reachable": False, "missing": True}
    try:
        plan = plan_swarm([str(h) for h in hosts], reports, _plain(settings or {}))
    except SwarmError as exc:
        return {"error": str(exc)}
    plan["error"] = None
    return plan


def swarm_verify(nodes, plan, node_ids):
    """Problems found comparing a manager's node list with the plan (empty list: all right)."""
    return verify_swarm(_plain(plan), _plain(nodes or []), _plain(node_ids or {}))


def swarm_stale_nodes(nodes):
    """Down worker entries replaced by a live node of the same hostname."""
    return find_stale_nodes(_plain(nodes or []))


class FilterModule(object):
    def filters(self):
        return {
            "swarm_plan": swarm_plan,
            "swarm_verify": swarm_verify,
            "swarm_stale_nodes": swarm_stale_nodes,
        }
