# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the Docker Engine API over its unix socket, standard library only.

Private to this collection: the modules need a handful of engine calls (swarm state, join, node
update, the PID of a local container) and a host should not need the docker SDK for that.
Every failure is a DockerApiError whose message names the request and the cause.
"""

from __future__ import annotations

import json
import socket

import http.client as _http
from urllib.parse import quote, urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"
API_VERSION = "1.41"  # Docker 20.10, the oldest engine the collection supports


class DockerApiError(Exception):
    """A Docker Engine API request failed. ``status`` is the HTTP status (0 when none came back)."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


class _UnixHTTPConnection(_http.HTTPConnection):
    def __init__(self, path, timeout):
        _http.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


class DockerApi:
    """Blocking JSON calls to one engine. ``socket_path`` is the engine's unix socket."""

    def __init__(self, socket_path=DEFAULT_SOCKET, timeout=60.0):
        self.socket_path = socket_path
        self.timeout = timeout

    def request(self, method, path, query=None, body=None, expect=(200, 201, 204)):
        """Send one request; return the decoded JSON reply (None for an empty body)."""
        url = "/v%s%s" % (API_VERSION, path)
        if query:
            url += "?" + urlencode(query)
        what = "%s %s" % (method, path)
        payload = None
        headers = {}
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = _UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            conn.request(method, url, body=payload, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, _http.HTTPException) as exc:
            raise DockerApiError(
                "Docker engine at unix://%s: %s failed: %s (is the engine running, and may this user use its socket?)"
                % (self.socket_path, what, exc or exc.__class__.__name__)
            )
        finally:
            conn.close()
        if resp.status not in expect:
            raise DockerApiError(
                "Docker engine: %s failed: HTTP %d: %s" % (what, resp.status, _error_text(raw)), status=resp.status
            )
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            # Some endpoints (swarm join, node update) answer with a bare string or nothing at all.
            return raw.decode("utf-8", "replace").strip()

    # --- the few calls the collection needs -------------------------------------------------

    def info(self):
        return self.request("GET", "/info")

    def inspect_container(self, name_or_id):
        return self.request("GET", "/containers/%s/json" % quote(name_or_id, safe=""))

    def list_containers(self, labels=None, running_only=True):
        filters = {}
        if labels:
            filters["label"] = ["%s=%s" % (k, v) for k, v in sorted(labels.items())]
        if running_only:
            filters["status"] = ["running"]
        return self.request("GET", "/containers/json", query={"filters": json.dumps(filters)})

    # --- swarm mode (used by swarm_join / swarm_info) ---------------------------------------

    def inspect_swarm(self):
        """The swarm as a manager sees it (ID, JoinTokens, Spec). HTTP 503 on a worker or outside a swarm."""
        return self.request("GET", "/swarm")

    def init_swarm(self, body):
        """Create a swarm with this engine as its first manager; returns the new node ID."""
        return self.request("POST", "/swarm/init", body=body)

    def join_swarm(self, body):
        return self.request("POST", "/swarm/join", body=body)

    def leave_swarm(self, force=False):
        return self.request("POST", "/swarm/leave", query={"force": "true" if force else "false"})

    def list_nodes(self):
        return self.request("GET", "/nodes")

    def inspect_node(self, node_id):
        return self.request("GET", "/nodes/%s" % quote(node_id, safe=""))

    def update_node(self, node_id, version, spec):
        """Replace a node's spec (Role, Availability, Labels, Name); ``version`` is the Version.Index read."""
        return self.request(
            "POST", "/nodes/%s/update" % quote(node_id, safe=""), query={"version": str(version)}, body=spec
        )

    def list_tasks(self, filters):
        """Swarm tasks matching ``filters`` (a dict of lists, e.g. {"node": [id], "desired-state": ["running"]})."""
        return self.request("GET", "/tasks", query={"filters": json.dumps(filters)})

    def remove_node(self, node_id, force=False):
        return self.request(
            "DELETE", "/nodes/%s" % quote(node_id, safe=""), query={"force": "true" if force else "false"}
        )


def _error_text(raw):
    try:
        data = json.loads(raw.decode("utf-8"))
        if isinstance(data, dict) and "message" in data:
            return data["message"]
    except ValueError:
        pass
    return raw.decode("utf-8", "replace").strip() or "(empty reply)"
