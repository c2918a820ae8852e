# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the app role: thin adapters over plugins/module_utils/_app_stack.py.

AppStackError becomes an AnsibleFilterError in one place, with the message that names the setting and the fix.
"""

from __future__ import annotations

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.aerostack.swarm.plugins.module_utils import _app_stack as app


def _filter(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except app.AppStackError as exc:
            raise AnsibleFilterError(str(exc)) from None
    return wrapper


@_filter
def app_preflight(spec):
    """``{"errors": [...], "warnings": [...]}`` for the app's settings."""
    return app.check_spec(app.plain(spec))


@_filter
def app_stack(spec):
    """The stack document, service names, spec hashes and config name (see _app_stack.build_stack)."""
    return app.build_stack(spec)


@_filter
def app_stats_users(spec):
    """The userlist file of HAProxy's statistics page (it holds the password: use it only in no_log tasks)."""
    return app.stats_users(spec)


@_filter
def app_stack_state(probe, built, replicas):
    """What swarm runs of the app stack: whether a deploy is needed, whether every task runs (see stack_state)."""
    return app.stack_state(probe, built, replicas)


@_filter
def app_swarm_members(reads):
    """Every host's node ID and swarm state, the manager to deploy from and the hosts without an engine."""
    return app.swarm_members(app.plain(reads))


class FilterModule:
    def filters(self):
        return {
            "app_preflight": app_preflight,
            "app_stack": app_stack,
            "app_stack_state": app_stack_state,
            "app_stats_users": app_stats_users,
            "app_swarm_members": app_swarm_members,
        }
