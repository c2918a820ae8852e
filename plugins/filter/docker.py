# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the docker role: thin adapters over plugins/module_utils/_docker_host.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_host import missing_packages


def docker_missing_packages(specs, installed):
    """The ``name`` / ``name=version`` specs not installed (or at another version) by ``{name: version or None}``."""
    return missing_packages(list(specs), dict((k, v) for k, v in (installed or {}).items() if v is not None))


class FilterModule:
    def filters(self):
        return {"docker_missing_packages": docker_missing_packages}
