# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the aerospike role: thin adapters over the collection's pure module_utils functions.

Each domain error (ConfError, StackError, OpsError) becomes an AnsibleFilterError in one place, with
the message that names the setting and the fix.
"""

from __future__ import annotations

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_conf as conf
from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_hosts as hosts
from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_ops as ops
from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_stack as stack

_DOMAIN_ERRORS = (conf.ConfError, stack.StackError, ops.OpsError)


def _filter(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _DOMAIN_ERRORS as exc:
            raise AnsibleFilterError(str(exc))
    return wrapper


def _plain(value):
    """Ansible's lazy/tagged containers as plain dicts, lists and scalars (stable JSON for hashing)."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


@_filter
def aerospike_conf(settings):
    """The text of aerospike.conf for the settings (fails listing every problem)."""
    return conf.render_conf(_plain(settings))


@_filter
def aerospike_preflight(settings, replicas, eligible_hosts, nofile, image, edition="community"):
    """``{"errors": [...], "warnings": [...]}`` for the settings and the deployment."""
    return conf.check_deployment(_plain(settings), _plain(replicas), _plain(eligible_hosts), _plain(nofile),
                                 _plain(image), _plain(edition))


@_filter
def aerospike_host_reads(reads, aerospike_hosts, group="aerospike_nodes", nofile=None):
    """Every host's swarm state, the manager, its leader check and every host's problems, from the role's reads."""
    return hosts.host_reads(_plain(reads), _plain(aerospike_hosts), _plain(group), _plain(nofile))


@_filter
def aerospike_settings_facts(settings):
    """Facts the role derives from the settings: namespaces, largest replication factor, persistence."""
    settings = _plain(settings)
    return {
        "namespaces": conf.namespace_names(settings),
        "max_replication_factor": conf.max_replication_factor(settings),
        "persistent": conf.uses_persistent_storage(settings),
    }


@_filter
def aerospike_stack(spec, files):
    """The stack document, config names, service names and hashes (see _aerospike_stack.build_stack)."""
    return stack.build_stack(_plain(spec), _plain(files))


@_filter
def aerospike_tasks(tasks, network, spec_hash=None):
    """Summary of a service's tasks from ``docker inspect --type task`` JSON."""
    return ops.summarize_tasks(_plain(tasks), _plain(network), _plain(spec_hash))


@_filter
def aerospike_placement(nodes, candidates, managed, replicas):
    """Which hosts run an instance and which to label or unlabel (see _aerospike_ops.placement_plan)."""
    return ops.placement_plan(_plain(nodes), _plain(candidates), _plain(managed), _plain(replicas))


@_filter
def aerospike_service_mode_problem(aerospike, name):
    """Why an existing Aerospike service cannot be taken over ('' when it can)."""
    return ops.service_mode_problem(_plain(aerospike), _plain(name)) or ""


@_filter
def aerospike_placement_refusal(plan, replicas, service, scaling=False):
    """Why the placement plan must not be applied by this run ('' when it may)."""
    return ops.placement_refusal(_plain(plan), _plain(replicas), _plain(service), bool(scaling)) or ""


@_filter
def aerospike_stack_state(raw, services, network, spec_hashes, label=None):
    """Services, task summaries and swarm nodes of the stack from the role's state probe JSON."""
    return ops.stack_state(_plain(raw), _plain(services), _plain(network), _plain(spec_hashes), _plain(label))


@_filter
def aerospike_converged(state, replicas, nodes=None):
    """Whether the stack runs as desired, and what it still waits for."""
    return ops.converged(_plain(state), _plain(replicas), _plain(nodes))


@_filter
def aerospike_rollout_progress(tasks, replicas, outdated_at_most):
    """Whether one step of a rolling update is done."""
    return ops.rollout_progress(_plain(tasks), _plain(replicas), _plain(outdated_at_most))


@_filter
def aerospike_service_state(services, name):
    """One service's replicas, hashes and update state from ``docker service inspect`` JSON."""
    return ops.service_state(_plain(services), _plain(name))


@_filter
def aerospike_deploy_action(desired, aerospike, discovery, tasks):
    """none, create, update or rollout, with the reasons."""
    return ops.deploy_action(_plain(desired), _plain(aerospike), _plain(discovery), _plain(tasks))


@_filter
def aerospike_scale_steps(current, target, min_replicas=1):
    """The replica counts to pass through (down: one node at a time)."""
    return ops.scale_steps(_plain(current), _plain(target), _plain(min_replicas))


@_filter
def aerospike_departed(before, after):
    """Addresses of ``before`` that are not in ``after``."""
    return ops.departed(_plain(before), _plain(after))


@_filter
def aerospike_status_rows(nodes, tasks=None, members=None, volume=None):
    """Per-instance status rows (aerospike_info nodes joined with swarm tasks, then labelled hosts without one)."""
    return ops.status_rows(_plain(nodes), _plain(tasks), _plain(members), _plain(volume))


@_filter
def aerospike_status_table(rows, cluster=None):
    """The status table as a list of lines."""
    return ops.status_table(_plain(rows), _plain(cluster))


class FilterModule:
    def filters(self):
        return {
            "aerospike_conf": aerospike_conf,
            "aerospike_preflight": aerospike_preflight,
            "aerospike_settings_facts": aerospike_settings_facts,
            "aerospike_host_reads": aerospike_host_reads,
            "aerospike_stack": aerospike_stack,
            "aerospike_tasks": aerospike_tasks,
            "aerospike_placement": aerospike_placement,
            "aerospike_placement_refusal": aerospike_placement_refusal,
            "aerospike_service_mode_problem": aerospike_service_mode_problem,
            "aerospike_service_state": aerospike_service_state,
            "aerospike_stack_state": aerospike_stack_state,
            "aerospike_converged": aerospike_converged,
            "aerospike_rollout_progress": aerospike_rollout_progress,
            "aerospike_deploy_action": aerospike_deploy_action,
            "aerospike_scale_steps": aerospike_scale_steps,
            "aerospike_departed": aerospike_departed,
            "aerospike_status_rows": aerospike_status_rows,
            "aerospike_status_table": aerospike_status_table,
        }
