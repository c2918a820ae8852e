# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Aerospike nodes a module talks to, and from where (the host, or a container's namespace).

Shared by ``aerospike_info`` and ``aerospike_tip``: the argument spec of the target options, their
validation, and opening info clients for them.
"""

from __future__ import annotations

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import (
    InfoClient,
    InfoError,
    format_address,
    parse_address,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi, DockerApiError
from ansible_collections.aerostack.swarm.plugins.module_utils._netns import NetnsError, NetworkNamespace, locate

#: The exceptions a module turns into ``fail_json`` (each message names what failed and why).
TARGET_ERRORS = (InfoError, NetnsError, DnsError, DockerApiError)


def target_argument_spec():
    return dict(
        nodes=dict(type="list", elements="str"),
        nodes_from_dns=dict(type="str"),
        port=dict(type="int", default=3000),
        network_namespace=dict(
            type="dict",
            options=dict(
                container=dict(type="str"),
                service=dict(type="str"),
            ),
            mutually_exclusive=[("container", "service")],
            required_one_of=[("container", "service")],
        ),
        docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        timeout=dict(type="float", default=5.0),
    )


TARGET_REQUIRED_ONE_OF = [("nodes", "nodes_from_dns")]
TARGET_MUTUALLY_EXCLUSIVE = [("nodes", "nodes_from_dns")]


def _socket_path(docker_host):
    if docker_host.startswith("unix://"):
        return docker_host[len("unix://"):]
    if docker_host.startswith("/"):
        return docker_host
    raise InfoError("docker_host", None, "%r is not a unix socket (unix:///path/to/docker.sock)" % docker_host)


class Targets:
    """The resolved node addresses and a way to reach them. Use as a context manager."""

    def __init__(self, params):
        self.params = params
        self.netns = None
        self.where = "this host"
        port = params["port"]
        if not 1 <= port <= 65535:
            raise InfoError("port", None, "port %d is out of range (1-65535)" % port)
        if params["timeout"] <= 0:
            raise InfoError("timeout", None, "timeout must be above 0 seconds, got %s" % params["timeout"])
        if params.get("nodes") is not None:
            if not params["nodes"]:
                raise InfoError("nodes", None, "the list is empty: give at least one node address (host or host:port)")
            # Validate every address before anything is opened or sent.
            self.addresses = [parse_address(text, port) for text in params["nodes"]]
        else:
            self.addresses = None
            if not params.get("nodes_from_dns"):
                # nodes: null (an empty YAML value) passes Ansible's required_one_of; say what is missing.
                raise InfoError("nodes", None, "no nodes given: set nodes (host or host:port addresses) or "
                                               "nodes_from_dns (a DNS name such as tasks.<stack>_aerospike)")
        namespace = params.get("network_namespace")
        if namespace:
            api = DockerApi(_socket_path(params["docker_host"]))
            pid, description = locate(api, container=namespace.get("container"), service=namespace.get("service"))
            self.netns = NetworkNamespace(pid, description)
            self.where = "the network namespace of %s" % description
        if self.addresses is None:
            name = params["nodes_from_dns"]
            if self.netns is not None:
                found = self.netns.resolve(name)
            else:
                found = _resolve_here(name)
            if not found:
                raise InfoError(name, None, "the name resolves to no address from %s (is any task of the service "
                                            "running?)" % self.where)
            self.addresses = [(address, port) for address in found]
        # Duplicates would be queried twice and counted twice in the verdict.
        self.addresses = list(dict.fromkeys(self.addresses))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def labels(self):
        return [format_address(h, p) for h, p in self.addresses]

    def clients(self):
        connect = self.netns.connect if self.netns is not None else None
        return [InfoClient(h, p, timeout=self.params["timeout"], connect=connect) for h, p in self.addresses]

    def close(self):
        if self.netns is not None:
            self.netns.close()
            self.netns = None


def _resolve_here(name):
    import socket

    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DnsError("DNS lookup of %s on this host failed: %s" % (name, exc.strerror or exc))
    return sorted(set(info[4][0] for info in infos), key=lambda a: tuple(int(x) for x in a.split(".")))
