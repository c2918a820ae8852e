# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm stack (compose 3.8) of an Aerospike cluster and its discovery service, as data.

``build_stack(spec, files)`` returns the stack as a dict (the role writes it as YAML) together with
the names of its swarm configs and three hashes:

* every config NAME carries a hash of its content, so a changed aerospike.conf or discovery program
  is a new config that the next deploy switches to (a swarm config cannot be changed in place), and
  the old ones can be removed once no task uses them;
* ``aerospike_spec_hash`` / ``discovery_spec_hash`` cover what a task runs (image, command, configs,
  limits, placement, ...) but not the update policy. They are set as a container
  label, so each task says which spec it runs: that is how a rolling update is followed task by task;
* ``stack_hash`` covers the whole file and is set as a service label: equal hashes mean a deploy would
  change nothing (honest ``changed`` detection).

The Aerospike service is ``global`` and constrained to the nodes that carry the placement label: each
labelled host runs exactly one instance, and a replaced instance always starts on the same host with the
same local volume (``<stack>_aerospike-data``), so a persistent namespace finds its own data after a
restart, a crash or a full outage. The cluster size is the number of labelled hosts; the role labels and
unlabels them (see ``_aerospike_ops.placement_plan``).

Swarm does not promise that an instance's replacement starts only after it has exited: a host that was cut off for
longer than the node-down time gets a new task when it comes back while the old one is still stopping, and both
servers had the same data files open (seen on a real 8.1.2.0 server: the new one then read records the old one was
writing as unreadable). With a data volume the server therefore runs under ``flock`` on a lock file in that volume
(``locked_command``): a replacement waits until the instance before it has exited.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

CONF_TARGET = "/etc/aerostack/aerospike.conf"
DISCOVERY_ROOT = "/opt/aerostack"
MODULE_UTILS_DIR = DISCOVERY_ROOT + "/ansible_collections/aerostack/swarm/plugins/module_utils"
DATA_TARGET = "/opt/aerospike/data"
#: The lock an instance holds on its data volume while it runs (see locked_command).
DATA_LOCK = DATA_TARGET + "/.aerostack-instance.lock"
#: The hostname template of an instance: the host it is bound to.
HOSTNAME_TEMPLATE = "aerospike-{{.Node.Hostname}}"
SPEC_LABEL = "aerostack.spec-hash"
STACK_LABEL = "aerostack.stack-hash"
#: Set only while a rolling update is released task by task: a new value is a change of the service
#: spec, which makes swarm replace exactly one more task (the update delay holds it after that).
ROLLOUT_LABEL = "aerostack.rollout"
#: The collection's standard-library modules the discovery program imports.
DISCOVERY_MODULES = ("_aerospike_info.py", "_mesh.py", "_dns.py", "_discovery.py")
DISCOVERY_PROGRAM = "discovery.py"
CONF_FILE = "aerospike.conf"

_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")


class StackError(Exception):
    """The stack cannot be built from the given spec; the message names the setting and the fix."""


def digest(text, length=12):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _hash_of(data):
    return digest(json.dumps(data, sort_keys=True, separators=(",", ":")))


def config_key(filename):
    """The config's key inside the stack file: ``aerospike.conf`` -> ``aerospike_conf``, the program
    ``discovery.py`` -> ``discovery``, a module ``_aerospike_info.py`` -> ``mu_aerospike_info``."""
    if filename == DISCOVERY_PROGRAM:
        return "discovery"
    if filename.startswith("_") and filename.endswith(".py"):
        return "mu" + re.sub(r"[^a-z0-9]+", "_", filename[:-3].lower())
    return re.sub(r"[^a-z0-9]+", "_", filename.lower()).strip("_")


def config_name(stack, filename, content):
    """The swarm name of a config: ``<stack>_<key>_<content hash>``."""
    return "%s_%s_%s" % (stack, config_key(filename), digest(content))


def service_names(stack):
    return {"aerospike": "%s_aerospike" % stack, "discovery": "%s_discovery" % stack}


def network_name(stack):
    return "%s_aerospike" % stack


def volume_name(stack):
    """The local volume that holds an instance's persistent namespaces on its host (one per host)."""
    return "%s_aerospike-data" % stack


def check_spec(spec, files):
    """Problems with a stack spec, each naming the setting and the fix."""
    problems = []
    stack = spec.get("stack")
    if not isinstance(stack, str) or not _STACK_NAME.match(stack):
        problems.append("aerospike_stack_name %r must be 1-32 lower-case letters, digits, '_' or '-', starting with "
                        "a letter or digit" % (stack,))
    for key in ("stop_grace_period", "update_delay", "update_monitor"):
        value = spec.get(key)
        if not isinstance(value, str) or not _DURATION.match(value):
            problems.append("%s %r must be a duration such as 30s, 500ms or 1m30s" % (key, value))
    nofile = spec.get("nofile")
    if isinstance(nofile, bool) or not isinstance(nofile, int) or nofile < 1024:
        problems.append("aerospike_nofile %r must be a whole number of at least 1024" % (nofile,))
    command = spec.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        problems.append("aerospike_command must be a non-empty list of strings")
    for key in ("image",):
        if not isinstance(spec.get(key), str) or not spec[key]:
            problems.append("aerospike_%s must be an image reference" % key)
    discovery = spec.get("discovery") or {}
    if not isinstance(discovery.get("image"), str) or not discovery.get("image"):
        problems.append("aerospike_discovery_image must be an image reference that has python3")
    for name in (CONF_FILE, DISCOVERY_PROGRAM) + DISCOVERY_MODULES:
        if not isinstance(files.get(name), str) or not files.get(name):
            problems.append("the stack needs the content of %s" % name)
    return problems


def locked_command(command, lock=DATA_LOCK):
    """``command`` run under an exclusive lock on ``lock``, held by the server process itself.

    ``flock --no-fork`` takes the lock and then becomes the command, so the lock lasts exactly as long as the server
    runs and is released when it exits or is killed; a second instance on the same volume waits for it. The official
    image's entrypoint only starts an ``asd`` command in the foreground (it appends ``--foreground``, and prepends
    ``asd`` to a command of options); a command that starts with ``flock`` is run as it is, so both are done here."""
    argv = list(command)
    if argv[0].startswith("-"):
        argv = ["asd"] + argv
    if argv[0].rsplit("/", 1)[-1] == "asd" and "--foreground" not in argv:
        argv.append("--foreground")
    return ["flock", "--exclusive", "--no-fork", lock] + argv


def build_stack(spec, files):
    """The stack dict and its metadata. ``files`` maps file names (see DISCOVERY_MODULES) to contents.

    Raises StackError listing every problem of the spec.
    """
    problems = check_spec(spec, files)
    if problems:
        raise StackError("; ".join(problems))
    stack = spec["stack"]
    names = service_names(stack)
    configs = {}
    for filename in (CONF_FILE, DISCOVERY_PROGRAM) + DISCOVERY_MODULES:
        key = config_key(filename)
        configs[key] = {"name": config_name(stack, filename, files[filename]), "file": "./" + filename}
    for key, value in configs.items():
        if len(value["name"]) > 64:
            raise StackError("config name %s is longer than the 64 characters Docker allows: shorten "
                             "aerospike_stack_name" % value["name"])

    aerospike = {
        "image": spec["image"],
        "command": list(spec["command"]),
        "hostname": HOSTNAME_TEMPLATE,
        "environment": dict((str(k), str(v)) for k, v in sorted((spec.get("env") or {}).items())),
        "configs": [{"source": config_key(CONF_FILE), "target": CONF_TARGET, "mode": 0o444}],
        "networks": ["aerospike"],
        "ulimits": {"nofile": {"soft": spec["nofile"], "hard": spec["nofile"]}},
        "stop_grace_period": spec["stop_grace_period"],
        "deploy": {
            "mode": "global",
            "endpoint_mode": "dnsrr",
            "placement": {
                "constraints": ["node.labels.%s == true" % spec.get("placement_label", "aerostack.aerospike")],
            },
            "restart_policy": {"condition": "any", "delay": "0s"},
            "update_config": {
                "parallelism": 1,
                "delay": spec["update_delay"],
                "order": "stop-first",
                "failure_action": "pause",
                "monitor": spec["update_monitor"],
            },
            "rollback_config": {"parallelism": 1, "order": "stop-first"},
        },
    }
    if not aerospike["environment"]:
        del aerospike["environment"]
    if spec.get("resources"):
        aerospike["deploy"]["resources"] = copy.deepcopy(spec["resources"])
    volumes = None
    if spec.get("persistent"):
        aerospike["volumes"] = [{"type": "volume", "source": "data", "target": DATA_TARGET}]
        aerospike["command"] = locked_command(aerospike["command"])
        volumes = {"data": {"name": volume_name(stack)}}

    discovery_spec = spec["discovery"]
    discovery_command = [
        "python3", "-u", "%s/%s" % (DISCOVERY_ROOT, DISCOVERY_PROGRAM),
        "--name", "tasks.%s" % names["aerospike"],
        "--interval", str(discovery_spec.get("interval", 1.0)),
        "--audit-interval", str(discovery_spec.get("audit_interval", 30)),
    ]
    program_target = "%s/%s" % (DISCOVERY_ROOT, DISCOVERY_PROGRAM)
    discovery_configs = [{"source": config_key(DISCOVERY_PROGRAM), "target": program_target, "mode": 0o444}]
    for module in DISCOVERY_MODULES:
        discovery_configs.append({"source": config_key(module), "target": "%s/%s" % (MODULE_UTILS_DIR, module),
                                  "mode": 0o444})
    discovery = {
        "image": discovery_spec["image"],
        "command": discovery_command,
        "environment": {"PYTHONPATH": DISCOVERY_ROOT, "PYTHONDONTWRITEBYTECODE": "1"},
        "configs": discovery_configs,
        "networks": ["aerospike"],
        "stop_grace_period": "5s",
        "deploy": {
            "mode": "replicated",
            "replicas": 1,
            "endpoint_mode": "dnsrr",
            "restart_policy": {"condition": "any", "delay": "0s"},
            "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "pause"},
        },
    }
    if discovery_spec.get("constraints"):
        discovery["deploy"]["placement"] = {"constraints": list(discovery_spec["constraints"])}
    if discovery_spec.get("memory_limit"):
        discovery["deploy"]["resources"] = {"limits": {"memory": str(discovery_spec["memory_limit"])}}

    net_spec = spec.get("network") or {}
    network = {"driver": "overlay", "attachable": bool(net_spec.get("attachable", False))}
    if net_spec.get("encrypted"):
        network["driver_opts"] = {"encrypted": ""}
    if net_spec.get("subnet"):
        network["ipam"] = {"config": [{"subnet": str(net_spec["subnet"])}]}

    spec_hashes = {}
    for label, service in (("aerospike", aerospike), ("discovery", discovery)):
        task_part = copy.deepcopy(service)
        for key in ("update_config", "rollback_config"):
            task_part["deploy"].pop(key, None)
        task_part["config_names"] = [configs[c["source"]]["name"] for c in service["configs"]]
        spec_hashes[label] = _hash_of(task_part)
        service["labels"] = {SPEC_LABEL: spec_hashes[label]}

    document = {
        "version": "3.8",
        "services": {"aerospike": aerospike, "discovery": discovery},
        "networks": {"aerospike": network},
        "configs": configs,
    }
    if volumes:
        document["volumes"] = volumes
    stack_hash = _hash_of(dict(document, rollout_id=spec.get("rollout_id") or None))
    for service in (aerospike, discovery):
        service["deploy"]["labels"] = {STACK_LABEL: stack_hash}
    if spec.get("rollout_id"):
        aerospike["deploy"]["labels"][ROLLOUT_LABEL] = str(spec["rollout_id"])
    return {
        "stack": document,
        "config_names": sorted(c["name"] for c in configs.values()),
        "services": names,
        "network": network_name(stack),
        "aerospike_spec_hash": spec_hashes["aerospike"],
        "discovery_spec_hash": spec_hashes["discovery"],
        "stack_hash": stack_hash,
    }
