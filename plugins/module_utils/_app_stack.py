# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hit-counter app's swarm stack (compose 3.8) and the app role's decisions over what swarm reports.

The stack has two services and its own overlay network:

* ``web``: the hit counter, ``replicas`` tasks, ``endpoint_mode: dnsrr`` (no VIP: kernels without IP_VS have
  none), on the stack's network AND on the Aerospike stack's overlay network, declared ``external`` (a swarm
  service of any stack may use an existing swarm overlay network; ``attachable`` only matters to standalone
  containers);
* ``lb``: HAProxy on every node the constraints allow (``mode: global``), its port published in ``host`` mode
  (the routing mesh needs IP_VS too), finding the web tasks itself through Docker's DNS (``tasks.<web service>``),
  so scaling the web service changes the backends without touching the load balancer.

Each service carries the label ``aerostack.spec-hash`` (on the service and its containers): a hash of
everything its tasks run, but not the replica count. Equal hashes and replica counts mean a deploy would change
nothing; scaling the web tier changes neither service's hash, so swarm leaves the load balancer's tasks alone.
The HAProxy configuration is a swarm config whose name carries a hash of its content.

With ``stats_enabled`` HAProxy also serves its statistics page (``/stats``, every backend slot and its state) on a
port of its own, published in host mode like the app's. Swarm cannot bind a published port to one host address
(moby/moby#26696), so HAProxy itself refuses clients outside ``stats_sources`` (host-mode ports keep the client's
address). With ``stats_auth`` the page asks for a user and password: the userlist is a swarm secret (encrypted in
swarm's raft log, mounted only into HAProxy's tasks) read as a second configuration file, never part of the config.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import re

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_ops import summarize_tasks

SPEC_LABEL = "aerostack.spec-hash"
HAPROXY_TARGET = "/etc/aerostack/haproxy.cfg"
#: The port HAProxy listens on inside its container (not a privileged port: the official image runs as a user).
LB_CONTAINER_PORT = 8080
#: The port of HAProxy's statistics page inside its container, and the page's path.
STATS_CONTAINER_PORT = 8404
STATS_URI = "/stats"
#: The userlist the statistics page checks credentials against (haproxy.cfg.j2 names it too).
STATS_USERLIST = "stats_users"
#: Where HAProxy's tasks find the userlist secret (swarm mounts secrets under /run/secrets).
STATS_USERS_TARGET = "/run/secrets/haproxy_stats_users.cfg"

_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_MEMORY = re.compile(r"^[0-9]+[kKmMgG]?$")
_PLACEMENT = re.compile(r"^\S+\s*(==|!=)\s*\S+$")


class AppStackError(Exception):
    """The stack cannot be built from the given spec; the message names the setting and the fix."""


def _hash_of(data, length=12):
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def plain(value):
    """Ansible's tagged strings and lazy containers as plain JSON values."""
    return json.loads(json.dumps(value))


def service_names(stack):
    return {"web": "%s_web" % stack, "lb": "%s_lb" % stack}


def _whole(value, low, high):
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _has_control(text):
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _check_stats(spec, errors, warnings):
    """The statistics page's settings; messages never show the password."""
    enabled, auth = spec.get("stats_enabled", False), spec.get("stats_auth", True)
    for value, name in ((enabled, "app_lb_stats_enabled"), (auth, "app_lb_stats_auth")):
        if not isinstance(value, bool):
            errors.append("%s %r must be true or false" % (name, value))
    port = spec.get("stats_port", STATS_CONTAINER_PORT)
    if not _whole(port, 1, 65535):
        errors.append("app_lb_stats_port %r must be a port number from 1 to 65535" % (port,))
    elif enabled is True and port == spec.get("lb_port"):
        errors.append("app_lb_stats_port %d is app_lb_port as well: the statistics page needs a port of its own "
                      "(default 8404)" % port)
    if enabled is not True:
        return
    sources = spec.get("stats_sources")
    if not isinstance(sources, list) or not sources:
        errors.append("app_lb_stats_sources is empty: list the client addresses or networks that may read the "
                      "statistics page, for example ['192.0.2.0/24'] (['0.0.0.0/0', '::/0'] for any). Swarm cannot "
                      "bind a published port to one host address, so HAProxy refuses every other client")
    else:
        for source in sources:
            try:
                ipaddress.ip_network(source, strict=False)
            except (TypeError, ValueError):
                errors.append("app_lb_stats_sources entry %r must be an IP address or network such as 192.0.2.0/24"
                              % (source,))
    if auth is not True:
        if auth is False:
            warnings.append("app_lb_stats_auth is false: every client in app_lb_stats_sources reads HAProxy's "
                            "statistics page without a password; keep that to a network you trust, such as the lab")
        return
    user, password = spec.get("stats_user"), spec.get("stats_password")
    if not isinstance(user, str) or not user.strip():
        errors.append("app_lb_stats_user is empty: the statistics page asks for a user and a password "
                      "(app_lb_stats_auth); set both")
    elif _has_control(user) or ":" in user:
        errors.append("app_lb_stats_user %r must be text without ':' or control characters (HTTP basic "
                      "authentication puts a ':' between user and password)" % (user,))
    if not isinstance(password, str) or not password:
        errors.append("app_lb_stats_password is empty: the statistics page needs credentials and has no default "
                      "password. Set it (from Ansible Vault), or set app_lb_stats_auth: false on a network you trust, "
                      "such as the lab")
    elif _has_control(password):
        errors.append("app_lb_stats_password must be text without control characters such as tabs or newlines "
                      "(its value is not shown)")


def check_spec(spec):
    """``{"errors": [...], "warnings": [...]}`` for an app spec; each error names the variable and the fix."""
    errors, warnings = [], []
    stack = spec.get("stack")
    if not isinstance(stack, str) or not _STACK_NAME.match(stack):
        errors.append("app_stack_name %r must be 1-32 lower-case letters, digits, '_' or '-', starting with a letter "
                      "or digit" % (stack,))
    elif stack == spec.get("aerospike_stack"):
        errors.append("app_stack_name %r is the Aerospike stack's name: the app is a stack of its own, choose "
                      "another name" % stack)
    if not isinstance(spec.get("aerospike_stack"), str) or not _STACK_NAME.match(spec.get("aerospike_stack") or ""):
        errors.append("app_aerospike_stack_name %r must name the Aerospike stack (aerospike_stack_name)"
                      % (spec.get("aerospike_stack"),))
    max_backends = spec.get("max_backends")
    if not _whole(max_backends, 1, 1000):
        errors.append("app_lb_max_backends %r must be a whole number from 1 to 1000" % (max_backends,))
        max_backends = 1000
    replicas = spec.get("replicas")
    if not _whole(replicas, 1, max_backends):
        errors.append("app_web_replicas %r must be a whole number from 1 to app_lb_max_backends (%d): HAProxy has "
                      "that many backend slots; raise app_lb_max_backends to run more" % (replicas, max_backends))
    for key, name in (("web_port", "app_web_port"), ("lb_port", "app_lb_port")):
        if not _whole(spec.get(key), 1, 65535):
            errors.append("%s %r must be a port number from 1 to 65535" % (name, spec.get(key)))
    for key, name in (("image", "app_image"), ("lb_image", "app_lb_image")):
        image = spec.get(key)
        if not isinstance(image, str) or not image.strip():
            errors.append("%s must be an image reference" % name)
        elif "@" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            warnings.append("%s %s is not pinned to a version: every deploy may run something else" % (name, image))
    namespace = spec.get("namespace")
    if not isinstance(namespace, str) or not 0 < len(namespace) <= 31:
        errors.append("app_aerospike_namespace %r must be a namespace name of 1-31 characters" % (namespace,))
    for key, name in (("hits_set", "app_hits_set"), ("totals_set", "app_totals_set")):
        value = spec.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= 63:
            errors.append("%s %r must be a set name of 1-63 characters" % (name, value))
    if spec.get("hits_set") == spec.get("totals_set"):
        errors.append("app_hits_set and app_totals_set must differ (both are %r)" % (spec.get("hits_set"),))
    for key, name in (("web_constraints", "app_web_constraints"), ("lb_constraints", "app_lb_constraints")):
        for constraint in spec.get(key) or ():
            if not isinstance(constraint, str) or not _PLACEMENT.match(constraint):
                errors.append("%s entry %r must be a swarm placement constraint such as 'node.role == manager'"
                              % (name, constraint))
    for key, name in (("web_memory", "app_web_memory_limit"), ("lb_memory", "app_lb_memory_limit")):
        value = spec.get(key)
        if value not in (None, "") and not _MEMORY.match(str(value)):
            errors.append("%s %r must be a size such as 128M or 1G (empty: no limit)" % (name, value))
    _check_stats(spec, errors, warnings)
    return {"errors": errors, "warnings": warnings}


def haproxy_word(text):
    """``text`` as one word of an HAProxy configuration line: backslash before a space, '#', a quote or a backslash."""
    return re.sub(r"([\\ #'\"])", r"\\\1", text)


def stats_users(spec):
    """The content of the userlist secret of the statistics page (a second HAProxy configuration file).

    ``insecure-password`` means "compared in clear": the file lives only in a swarm secret and in the mode-0600 file
    the secret is created from, never in the swarm config.
    """
    spec = plain(spec)
    return "userlist %s\n    user %s insecure-password %s\n" % (
        STATS_USERLIST, haproxy_word(spec["stats_user"]), haproxy_word(spec["stats_password"]))


def build_stack(spec):
    """The stack document and what the role needs to deploy and follow it.

    Returns ``{"stack", "services": {"web", "lb"}, "spec_hashes": {"web", "lb"}, "config_name", "network",
    "aerospike_network", "seed", "stats": {"enabled", "port", "uri", "secret"}}`` (``secret``: the name of the
    statistics page's userlist secret, None without credentials). Raises AppStackError listing every problem of the spec.
    """
    spec = plain(spec)
    errors = check_spec(spec)["errors"]
    if not isinstance(spec.get("haproxy_cfg"), str) or "server-template" not in spec["haproxy_cfg"]:
        errors.append("the HAProxy configuration must be rendered text with a server-template line")
    if errors:
        raise AppStackError("; ".join(errors))
    stack = spec["stack"]
    names = service_names(stack)
    aerospike_network = "%s_aerospike" % spec["aerospike_stack"]
    seed = "tasks.%s_aerospike" % spec["aerospike_stack"]
    config_name = "%s_haproxy_%s" % (stack, _hash_of(spec["haproxy_cfg"]))
    if len(config_name) > 64:
        raise AppStackError("config name %s is longer than the 64 characters Docker allows: shorten app_stack_name"
                            % config_name)
    web = {
        "image": spec["image"],
        "hostname": "web-{{.Task.Slot}}",
        "environment": {
            "AEROSPIKE_HOST": seed,
            "AEROSPIKE_PORT": "3000",
            "AEROSPIKE_NAMESPACE": spec["namespace"],
            "HITCOUNTER_HITS_SET": spec["hits_set"],
            "HITCOUNTER_TOTALS_SET": spec["totals_set"],
            "HITCOUNTER_PORT": str(spec["web_port"]),
            "HITCOUNTER_TIMEOUT_MS": str(spec.get("timeout_ms") or 1000),
        },
        "networks": ["web", "aerospike"],
        "stop_grace_period": "10s",
        "deploy": {
            "mode": "replicated",
            "replicas": spec["replicas"],
            "endpoint_mode": "dnsrr",
            "restart_policy": {"condition": "any", "delay": "1s"},
            # Stateless: start the new task before stopping the old one, so capacity never drops.
            "update_config": {"parallelism": 1, "order": "start-first", "failure_action": "rollback",
                              "monitor": "5s"},
        },
    }
    lb = {
        "image": spec["lb_image"],
        "command": ["haproxy", "-W", "-db", "-f", HAPROXY_TARGET],
        "configs": [{"source": "haproxy", "target": HAPROXY_TARGET, "mode": 0o444}],
        "networks": ["web"],
        "ports": [{"target": LB_CONTAINER_PORT, "published": spec["lb_port"], "protocol": "tcp", "mode": "host"}],
        "stop_signal": "SIGUSR1",
        "stop_grace_period": "5s",
        "deploy": {
            "mode": "global",
            "endpoint_mode": "dnsrr",
            "restart_policy": {"condition": "any", "delay": "1s"},
            "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "rollback"},
        },
    }
    secrets = {}
    stats_secret = None
    if spec.get("stats_enabled"):
        lb["ports"].append({"target": STATS_CONTAINER_PORT, "published": spec["stats_port"], "protocol": "tcp",
                            "mode": "host"})
        if spec.get("stats_auth", True):
            stats_secret = "%s_stats_users_%s" % (stack, _hash_of(stats_users(spec)))
            if len(stats_secret) > 64:
                raise AppStackError("secret name %s is longer than the 64 characters Docker allows: shorten "
                                    "app_stack_name" % stats_secret)
            lb["command"] += ["-f", STATS_USERS_TARGET]
            lb["secrets"] = [{"source": "stats_users", "target": STATS_USERS_TARGET.rsplit("/", 1)[1],
                              "mode": 0o444}]
            secrets["stats_users"] = {"name": stats_secret, "file": "./stats-users.cfg"}
    for service, key, memory in ((web, "web_constraints", "web_memory"), (lb, "lb_constraints", "lb_memory")):
        if spec.get(key):
            service["deploy"]["placement"] = {"constraints": list(spec[key])}
        if spec.get(memory):
            service["deploy"]["resources"] = {"limits": {"memory": str(spec[memory])}}
    networks = {"web": {"driver": "overlay"}, "aerospike": {"external": True, "name": aerospike_network}}
    hashes = {}
    for label, service in (("web", web), ("lb", lb)):
        task_part = copy.deepcopy(service)
        task_part["deploy"].pop("replicas", None)
        task_part["networks"] = dict((n, networks[n]) for n in service["networks"])
        if label == "lb":
            task_part["config_name"] = config_name
            if stats_secret:
                task_part["stats_secret"] = stats_secret
        hashes[label] = _hash_of(task_part)
        service["labels"] = {SPEC_LABEL: hashes[label]}
        service["deploy"]["labels"] = {SPEC_LABEL: hashes[label]}
    document = {
        "version": "3.8",
        "services": {"web": web, "lb": lb},
        "networks": networks,
        "configs": {"haproxy": {"name": config_name, "file": "./haproxy.cfg"}},
    }
    if secrets:
        document["secrets"] = secrets
    return {
        "stack": document,
        "services": names,
        "spec_hashes": hashes,
        "config_name": config_name,
        "network": "%s_web" % stack,
        "aerospike_network": aerospike_network,
        "seed": seed,
        "stats": {"enabled": bool(spec.get("stats_enabled")), "port": spec.get("stats_port"), "uri": STATS_URI,
                  "secret": stats_secret},
    }


# --- what swarm runs ------------------------------------------------------------------------------------------


def swarm_members(reads):
    """Every host's swarm membership from the swarm_info result of each (``{host: result}`` in play order), judged
    once: ``{"node_ids": {host: ID}, "states": {host: local_state}, "manager": the first active manager ("" if
    none), "no_docker": [a message per host whose engine did not answer]}``."""
    out = {"node_ids": {}, "states": {}, "manager": "", "no_docker": []}
    for host, read in (reads or {}).items():
        read = read or {}
        docker, swarm = read.get("docker") or {}, read.get("swarm") or {}
        if not docker.get("available"):
            out["no_docker"].append("Docker does not answer on %s (%s). Install it and form the swarm with "
                                    "playbooks/swarm.yml first." % (host, docker.get("error") or "no detail"))
        out["node_ids"][host] = swarm.get("node_id") or ""
        out["states"][host] = swarm.get("local_state") or "unknown"
        if not out["manager"] and swarm.get("is_manager") and swarm.get("local_state") == "active":
            out["manager"] = host
    return out


def _decode(probe):
    """The probe's ``{"services": [...], "tasks": [...]}``, or an error string."""
    raw = probe
    if isinstance(probe, dict) and "rc" in probe:
        if probe.get("rc") != 0:
            lines = (probe.get("stderr") or "").strip().splitlines()
            return None, "the state probe failed (rc %s): %s" % (probe.get("rc"), lines[-1] if lines else "no message")
        try:
            raw = json.loads(probe.get("stdout") or "")
        except ValueError as exc:
            return None, "the state probe printed no JSON (%s)" % exc
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), list) or not isinstance(raw.get("tasks"), list):
        return None, "the state probe's output has no 'services' and 'tasks' lists"
    return raw, None


def _service(services, name):
    for service in services:
        spec = service.get("Spec") or {}
        if spec.get("Name") == name:
            mode = spec.get("Mode") or {}
            return {
                "exists": True,
                "id": service.get("ID"),
                "replicas": (mode.get("Replicated") or {}).get("Replicas"),
                "global": "Global" in mode,
                "spec_hash": (spec.get("Labels") or {}).get(SPEC_LABEL),
                "update_state": (service.get("UpdateStatus") or {}).get("State"),
            }
    return {"exists": False, "id": None, "replicas": None, "global": False, "spec_hash": None, "update_state": None}


#: Update states in which swarm has given up the last update of a service (failure_action: rollback or pause).
ROLLED_BACK = ("rollback_started", "rollback_paused", "rollback_completed", "paused")


def _spec_label(task):
    return (((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels") or {}).get(SPEC_LABEL)


def _latest_error(tasks, service_id, spec_hash):
    """The newest error of a task of the service that ran ``spec_hash`` ('' when there is none)."""
    latest = ("", "")
    for task in tasks:
        status = task.get("Status") or {}
        if task.get("ServiceID") != service_id or _spec_label(task) != spec_hash or not status.get("Err"):
            continue
        if (status.get("Timestamp") or "") >= latest[0]:
            latest = (status.get("Timestamp") or "", "%s (%s)" % (status["Err"], status.get("State")))
    return latest[1]


def stack_state(probe, built, replicas):
    """What swarm runs of the app stack, and what is still missing.

    ``probe``: the registered result of the role's state probe (``docker service inspect`` and ``docker inspect
    --type task`` of the stack as ``{"services": [...], "tasks": [...]}``). ``built``: the result of
    build_stack; ``replicas``: the web replicas wanted. Returns ``{"probe_error", "web", "lb", "web_tasks",
    "lb_tasks", "deploy": {"needed", "reasons"}, "done", "waiting_for", "fatal"}``: ``deploy`` says whether
    ``docker stack deploy`` would change anything; ``done`` whether every task of the current specs runs;
    ``fatal`` a reason to stop waiting at once (an image missing on a node), else None. Never raises for a
    failed probe, so it can be polled.
    """
    built, replicas = plain(built), int(replicas)
    raw, error = _decode(plain(probe))
    result = {"probe_error": error, "deploy": {"needed": True, "reasons": []}, "done": False, "fatal": None}
    if error:
        result.update(web=_service([], ""), lb=_service([], ""), web_tasks=None, lb_tasks=None,
                      waiting_for=[error])
        result["deploy"]["reasons"] = [error]
        return result
    waiting, reasons = [], []
    for label in ("web", "lb"):
        service = _service(raw["services"], built["services"][label])
        # Failed attempts of earlier specs (a missing image fixed since) are history, not a problem of this deploy.
        relevant = [t for t in raw["tasks"]
                    if t.get("DesiredState") == "running" or _spec_label(t) == built["spec_hashes"][label]]
        tasks = summarize_tasks(relevant, built["network"], built["spec_hashes"][label], service["id"])
        result[label], result[label + "_tasks"] = service, tasks
        name = built["services"][label]
        if not service["exists"]:
            reasons.append("%s does not exist" % name)
            waiting.append("the service %s does not exist" % name)
            continue
        if service["spec_hash"] != built["spec_hashes"][label]:
            reasons.append("%s runs spec %s, wanted %s" % (name, service["spec_hash"], built["spec_hashes"][label]))
        if label == "web" and service["replicas"] != replicas:
            reasons.append("%s has %s replicas, wanted %d" % (name, service["replicas"], replicas))
        want = replicas if label == "web" else max(tasks["desired"], 1)
        if tasks["running"] != want or tasks["desired"] != want:
            waiting.append("%d of %d %s task(s) running (%d scheduled)"
                           % (tasks["running"], want, name, tasks["desired"]))
        if tasks["current"] != tasks["running"] or tasks["outdated"]:
            stale = max(tasks["outdated"], tasks["running"] - tasks["current"])
            waiting.append("%d %s task(s) still run an older spec" % (stale, name))
        if service["update_state"] == "updating":
            # A rolling update of a global service (HAProxy) stops a node's old task before it starts the new one:
            # for a moment every task that exists runs the current spec, and one node runs none.
            waiting.append("swarm is still updating %s (a rolling update, one task at a time)" % name)
        for problem in tasks["problems"]:
            waiting.append("%s %s" % (name, problem))
        # Reasons to stop waiting at once: swarm went back to the previous spec, or a task of this spec was refused
        # because its image is not there (swarm would retry for ever).
        error = _latest_error(raw["tasks"], service["id"], built["spec_hashes"][label])
        fatal = None
        if service["update_state"] in ROLLED_BACK and service["spec_hash"] != built["spec_hashes"][label]:
            fatal = ("swarm gave up updating %s and went back to the previous spec (update state %s)%s"
                     % (name, service["update_state"], ": the new task's last error: " + error if error else ""))
        elif "No such image" in error:
            fatal = "%s cannot start: %s" % (name, error)
        if fatal and "No such image" in error:
            fatal += ". Load or pull the image on every node that may run it (in the lab: scripts/lab load IMAGE)"
        if fatal and result["fatal"] is None:
            result["fatal"] = fatal
    result["deploy"] = {"needed": bool(reasons), "reasons": reasons}
    result["waiting_for"] = waiting
    result["done"] = not waiting
    return result
