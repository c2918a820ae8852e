# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open sockets inside the network namespace of a local container.

Aerospike tasks live on an overlay network whose addresses the host cannot reach. A process can
still talk to them from inside the network namespace of any container attached to that network: a
socket belongs to the namespace of the thread that created it, whichever thread uses it later. So
one helper thread enters the namespace (``setns``) and creates sockets on request; the rest of the
module stays in the host's namespace (the Docker socket, Ansible's own I/O).

Entering another namespace needs root (CAP_SYS_ADMIN) on the host.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import socket
import threading

from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError, lookup_a, nameservers

CLONE_NEWNET = 0x40000000
SERVICE_LABEL = "com.docker.swarm.service.name"


class NetnsError(Exception):
    """The namespace could not be found or entered; the message says why and what to do."""


def _setns(fd):
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def locate(api, container=None, service=None):
    """``(pid, description)`` of the container to enter: a named container or a running task of a service."""
    from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApiError

    try:
        if service:
            tasks = api.list_containers(labels={SERVICE_LABEL: service})
            if not tasks:
                raise NetnsError(
                    "no running task of swarm service '%s' on this host (%s): run the task on a host that runs one "
                    "(docker service ps %s shows where), or name a container attached to the same network"
                    % (service, socket.gethostname(), service)
                )
            container = sorted(tasks, key=lambda c: c.get("Created", 0))[0]["Id"]
            what = "a task of service '%s' (container %s)" % (service, container[:12])
        else:
            what = "container '%s'" % container
        details = api.inspect_container(container)
    except DockerApiError as exc:
        if getattr(exc, "status", 0) == 404:
            raise NetnsError("container '%s' does not exist on this host (%s)" % (container, socket.gethostname()))
        raise NetnsError(str(exc))
    state = details.get("State") or {}
    pid = state.get("Pid") or 0
    if not state.get("Running") or pid <= 0:
        raise NetnsError("%s is not running (state: %s)" % (what, state.get("Status", "unknown")))
    return pid, what


class NetworkNamespace:
    """Sockets and DNS lookups inside the network namespace of process ``pid``."""

    def __init__(self, pid, description=None):
        self.pid = pid
        self.description = description or "process %d" % pid
        path = "/proc/%d/ns/net" % pid
        if os.geteuid() != 0:
            raise NetnsError(
                "entering the network namespace of %s needs root on this host: run the task with become: true"
                % self.description
            )
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise NetnsError("cannot open %s for %s: %s" % (path, self.description, exc.strerror))
        self._requests = queue.Queue()
        ready = queue.Queue()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="netns-%d" % pid, daemon=True)
        self._thread.start()
        error = ready.get()
        if error is not None:
            self.close()
            raise NetnsError(
                "cannot enter the network namespace of %s: %s (root with CAP_SYS_ADMIN is needed)"
                % (self.description, error)
            )

    def _serve(self, ready):
        try:
            _setns(self._fd)
        except OSError as exc:
            ready.put(exc.strerror or str(exc))
            return
        ready.put(None)
        while True:
            job = self._requests.get()
            if job is None:
                return
            args, reply = job
            try:
                reply.put((True, socket.socket(*args)))
            except OSError as exc:
                reply.put((False, exc))

    def socket(self, family=socket.AF_INET, kind=socket.SOCK_STREAM):
        """A new socket that lives in the namespace."""
        reply = queue.Queue()
        self._requests.put(((family, kind), reply))
        ok, result = reply.get()
        if not ok:
            raise result
        return result

    def connect(self, address, timeout):
        """Drop-in for ``socket.create_connection`` (IPv4 and IPv6 literals)."""
        host = address[0]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock

    def resolve(self, name, timeout=2.0):
        """The IPv4 addresses of ``name`` as the container sees them (its resolv.conf, its DNS server)."""
        conf_path = "/proc/%d/root/etc/resolv.conf" % self.pid
        try:
            with open(conf_path) as handle:
                servers = nameservers(handle.read())
        except OSError as exc:
            raise NetnsError("cannot read the resolv.conf of %s (%s): %s" % (self.description, conf_path, exc.strerror))
        if not servers:
            raise NetnsError("the resolv.conf of %s names no nameserver" % self.description)
        errors = []
        for server in servers:
            try:
                return lookup_a(name, server, timeout=timeout,
                                make_socket=lambda: self.socket(socket.AF_INET, socket.SOCK_DGRAM))
            except DnsError as exc:
                errors.append(str(exc))
        raise NetnsError("; ".join(errors))

    def close(self):
        if getattr(self, "_thread", None) is not None and self._thread.is_alive():
            self._requests.put(None)
            self._thread.join(5)
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            self._fd = None
