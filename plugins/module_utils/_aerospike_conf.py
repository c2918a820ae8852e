# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""aerospike.conf for an 8.x server in a swarm task, from structured settings, and the checks behind it.

Pure functions, standard-library only. ``check_settings`` finds what an 8.x server would refuse at
start (or what would break it on an overlay network), ``check_deployment`` adds what the stack and the
inventory must agree on, and ``render_conf`` writes the file -- it refuses settings with problems, so
an invalid file is never produced.

Settings (the role builds them from its ``aerospike_*`` variables)::

    {"cluster_name": "aerostack", "bind_interface": "eth0",
     "service": {"proto-fd-max": 15000},                 # extra keys of service { }
     "logging": [{"sink": "console", "contexts": {"any": "info"}}],
     "network": {"heartbeat": {"interval": 150}},        # extra keys per network sub-context
     "namespaces": [{"name": "test", "replication_factor": 2,
                     "storage": {"type": "memory", "data_size": "1G"},
                     "options": {"nsup-period": 120}}]}

Keys of free-form option dicts may be written with ``_`` or ``-`` (``proto_fd_max`` is
``proto-fd-max``); a dict value is a sub-context, a list value repeats the key.
"""

from __future__ import annotations

import re

SERVICE_PORT = 3000
FABRIC_PORT = 3001
HEARTBEAT_PORT = 3002
ADMIN_PORT = 3003
DATA_DIR = "/opt/aerospike/data"
DEFAULT_PROTO_FD_MAX = 15000
STORAGE_TYPES = ("memory", "file")
# Community Edition 8.x refuses a third namespace at start: "too many namespaces (max is 2)".
COMMUNITY_NAMESPACE_LIMIT = 2
LOG_LEVELS = ("critical", "warning", "info", "debug", "detail")
NETWORK_CONTEXTS = ("service", "heartbeat", "fabric", "admin")

#: Keys an 8.x server no longer accepts: each one stops the server at start.
REMOVED_KEYS = {
    "memory-size": "size an in-memory namespace with storage: {type: memory, data_size: 4G} instead",
    "data-in-memory": "use storage type 'memory' for an in-memory namespace, or 'file' for a persistent one",
    "transaction-queues": "delete it (8.x runs transactions on the service threads)",
    "transaction-threads-per-queue": "delete it (8.x runs transactions on the service threads)",
    "paxos-single-replica-limit": "delete it",
}

#: Keys and contexts a Community Edition server refuses (Enterprise Edition features).
ENTERPRISE_KEYS = (
    "rack-id",
    "strong-consistency",
    "strong-consistency-allow-expunge",
    "migrate-fill-delay",
    "feature-key-file",
    "compression",
    "compression-level",
    "encryption-key-file",
)
ENTERPRISE_CONTEXTS = ("security", "xdr", "tls")

#: Network keys the role manages itself (the facts: bind to the overlay, mesh on 3002, admin on 3003).
MANAGED_NETWORK_KEYS = ("address", "port", "mode", "mesh-seed-address-port", "multicast-group")

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,31}$")
_SIZE = re.compile(r"^[1-9][0-9]*[KMGTkmgt]?$")
_ZERO = re.compile(r"^0+[SMHDsmhd]?$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9.-]*(?: [A-Za-z0-9_./:-]+)?$")


class ConfError(Exception):
    """The settings cannot be rendered; ``problems`` lists every reason, each naming the fix."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("aerospike.conf cannot be rendered: " + "; ".join(self.problems))


def normalize_key(key):
    """``proto_fd_max`` -> ``proto-fd-max``; a context key like ``set users`` keeps its argument."""
    key = str(key).strip()
    word, sep, rest = key.partition(" ")
    return word.replace("_", "-").lower() + sep + rest


def _nonzero(value):
    """Whether a TTL/period value (``0``, ``30d``, ``120``, ``false``) is set to something other than zero."""
    if value is None or value is False:
        return False
    return not _ZERO.match(str(value).strip())


def _walk(options, where):
    """Yield ``(normalized key, value, where)`` for every key of nested option dicts."""
    if not isinstance(options, dict):
        return
    for key, value in options.items():
        nkey = normalize_key(key)
        yield nkey, value, where
        if isinstance(value, dict):
            yield from _walk(value, "%s.%s" % (where, nkey))


def _check_options(options, where, problems):
    """Shape and 8.x validity of a free-form option dict."""
    if options is None:
        return
    if not isinstance(options, dict):
        problems.append("%s must be a mapping of Aerospike keys to values, got %s" % (where, type(options).__name__))
        return
    for key, value, place in _walk(options, where):
        if not _KEY.match(key):
            problems.append("%s: %r is not an Aerospike configuration key (lower-case words joined by '-')"
                            % (place, key))
            continue
        if key in REMOVED_KEYS:
            problems.append("%s: '%s' is not accepted by Aerospike 8.x and stops the server at start: %s"
                            % (place, key, REMOVED_KEYS[key]))
        if value is None:
            problems.append("%s: '%s' has no value; give one or remove the key" % (place, key))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, (dict, list)) or item is None:
                    problems.append("%s: '%s' is a list; its items must be plain values" % (place, key))
                    break
                _check_scalar(item, "%s.%s" % (place, key), problems)
        elif not isinstance(value, dict):
            _check_scalar(value, "%s.%s" % (place, key), problems)


def _check_scalar(value, where, problems):
    text = _scalar(value)
    if text == "" or any(c in text for c in "\n\r{}#"):
        problems.append("%s: value %r is empty or contains a newline, brace or '#'" % (where, text))


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _enterprise_findings(settings):
    """``[(where, key)]`` of Enterprise-only keys and contexts anywhere in the settings."""
    found = []
    sources = [(settings.get("service"), "aerospike_service")]
    network = settings.get("network")
    if isinstance(network, dict):
        for name, options in network.items():
            sources.append((options, "aerospike_network.%s" % name))
    for ns in _namespaces(settings):
        label = "namespace %s" % ns.get("name")
        sources.append((ns.get("options"), label + " options"))
        storage = ns.get("storage")
        if isinstance(storage, dict):
            sources.append((storage.get("options"), label + " storage options"))
    for options, where in sources:
        for key, _value, place in _walk(options, where):
            word = key.split(" ", 1)[0]
            if key in ENTERPRISE_KEYS or word in ENTERPRISE_CONTEXTS:
                found.append((place, key))
    extra = settings.get("contexts")
    if isinstance(extra, dict):
        for key in extra:
            word = normalize_key(key).split(" ", 1)[0]
            if word in ENTERPRISE_CONTEXTS:
                found.append(("aerospike_contexts", normalize_key(key)))
    return found


def _namespaces(settings):
    namespaces = settings.get("namespaces")
    if not isinstance(namespaces, list):
        return []
    return [ns for ns in namespaces if isinstance(ns, dict)]


def _check_namespace(ns, index, problems):
    name = ns.get("name")
    label = "aerospike_namespaces[%d]" % index
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append("%s: name %r must be 1-31 letters, digits, '_' or '-'" % (label, name))
    else:
        label = "namespace %s" % name
    unknown = sorted(set(ns) - {"name", "replication_factor", "storage", "options"})
    if unknown:
        problems.append("%s: unknown key(s) %s (allowed: name, replication_factor, storage, options)"
                        % (label, ", ".join(unknown)))
    rf = ns.get("replication_factor", 2)
    if isinstance(rf, bool) or not isinstance(rf, int) or rf < 1:
        problems.append("%s: replication_factor must be a whole number of at least 1, got %r" % (label, rf))
    options = ns.get("options") or {}
    _check_options(options, label + " options", problems)
    if isinstance(options, dict):
        keys = dict((normalize_key(k), v) for k, v in options.items())
        for managed, instead in (("replication-factor", "replication_factor"), ("storage-engine", "storage")):
            if managed in keys:
                problems.append("%s: set '%s' with the namespace's %s key, not in options" % (label, managed, instead))
        if _nonzero(keys.get("default-ttl")) and not _nonzero(keys.get("nsup-period")) \
                and _scalar(keys.get("allow-ttl-without-nsup", False)) != "true":
            problems.append(
                "%s: default-ttl %s needs nsup-period (8.x refuses a non-zero default-ttl without it and stops at "
                "start): add nsup-period (for example 120) to the options, or set default-ttl 0"
                % (label, _scalar(keys["default-ttl"]))
            )
    _check_storage(ns.get("storage"), label, name, problems)


def _check_storage(storage, label, name, problems):
    if not isinstance(storage, dict):
        problems.append("%s: storage must be a mapping with a type (%s)" % (label, " or ".join(STORAGE_TYPES)))
        return
    kind = storage.get("type")
    if kind not in STORAGE_TYPES:
        problems.append("%s: unknown storage type %r; use 'memory' (storage-engine memory) or 'file' (a data file "
                        "on the task's persistent volume)" % (label, kind))
        return
    allowed = {"type", "options"} | ({"data_size"} if kind == "memory" else {"filesize", "file"})
    unknown = sorted(set(storage) - allowed)
    if unknown:
        problems.append("%s: storage key(s) %s do not apply to type %s (allowed: %s)"
                        % (label, ", ".join(unknown), kind, ", ".join(sorted(allowed))))
    if kind == "memory":
        _check_size(storage.get("data_size"), label, "data_size", problems, required=True)
    else:
        _check_size(storage.get("filesize"), label, "filesize", problems, required=True)
        path = storage.get("file", "%s/%s.dat" % (DATA_DIR, name))
        if not isinstance(path, str) or not path.startswith(DATA_DIR + "/") or ".." in path or " " in path:
            problems.append("%s: storage file %r must be a path under %s/ (the per-task persistent volume)"
                            % (label, path, DATA_DIR))
    _check_options(storage.get("options"), label + " storage options", problems)
    if isinstance(storage.get("options"), dict):
        for key in storage["options"]:
            if normalize_key(key) in ("data-size", "filesize", "file", "device"):
                problems.append("%s: set storage '%s' with the storage keys, not in storage options"
                                % (label, normalize_key(key)))


def _check_size(value, label, key, problems, required):
    if value is None:
        if required:
            problems.append("%s: storage %s is required (for example 4G)" % (label, key))
        return
    if isinstance(value, bool) or not _SIZE.match(str(value)):
        problems.append("%s: storage %s %r is not a size like 512M, 4G or 1T" % (label, key, value))


def _check_logging(logging, problems):
    if not isinstance(logging, list) or not logging:
        problems.append("aerospike_logging must be a non-empty list of {sink, contexts} (sink: console or a file path)")
        return
    for index, sink in enumerate(logging):
        where = "aerospike_logging[%d]" % index
        if not isinstance(sink, dict):
            problems.append("%s must be a mapping {sink, contexts}" % where)
            continue
        target = sink.get("sink")
        if target != "console" and not (isinstance(target, str) and target.startswith("/") and " " not in target):
            problems.append("%s: sink %r must be 'console' or an absolute file path" % (where, target))
        contexts = sink.get("contexts")
        if not isinstance(contexts, dict) or not contexts:
            problems.append("%s: contexts must map log contexts to levels, for example {any: info}" % where)
            continue
        for context, level in contexts.items():
            if level not in LOG_LEVELS:
                problems.append("%s: level %r of context %s is not one of %s"
                                % (where, level, context, ", ".join(LOG_LEVELS)))


def _check_network(network, bind_interface, problems):
    if not isinstance(bind_interface, str) or not re.match(r"^[A-Za-z0-9_.-]{1,15}$", bind_interface or ""):
        problems.append("aerospike_bind_interface %r must be a network interface name such as eth0" % (bind_interface,))
    elif bind_interface == "any":
        problems.append(
            "aerospike_bind_interface must not be 'any': inside a swarm task a node then also publishes its "
            "docker_gwbridge address and the cluster never forms; use the overlay interface (eth0)"
        )
    if network is None:
        return
    if not isinstance(network, dict):
        problems.append("aerospike_network must map network sub-contexts (%s) to extra keys" % ", ".join(NETWORK_CONTEXTS))
        return
    for name, options in network.items():
        if name == "info":
            problems.append("aerospike_network.info: 8.x ignores network { info { } }; the admin port 3003 "
                            "(admin sub-context) is set by the role, remove 'info'")
            continue
        if name not in NETWORK_CONTEXTS:
            problems.append("aerospike_network.%s is not a network sub-context (%s)" % (name, ", ".join(NETWORK_CONTEXTS)))
            continue
        _check_options(options or {}, "aerospike_network.%s" % name, problems)
        for key in (options or {}) if isinstance(options, dict) else ():
            if normalize_key(key) in MANAGED_NETWORK_KEYS:
                problems.append(
                    "aerospike_network.%s.%s is managed by the role (addresses are bound to "
                    "aerospike_bind_interface, ports are fixed at 3000-3003, discovery tips the mesh seeds): remove it"
                    % (name, normalize_key(key))
                )


def check_settings(settings):
    """Everything in ``settings`` that an 8.x server would refuse, or that breaks it in a swarm task."""
    problems = []
    if not isinstance(settings, dict):
        return ["the Aerospike settings must be a mapping"]
    name = settings.get("cluster_name")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_.-]{1,64}$", name or ""):
        problems.append("aerospike_cluster_name %r must be 1-64 letters, digits, '.', '_' or '-' (8.x requires a "
                        "cluster-name)" % (name,))
    _check_options(settings.get("service") or {}, "aerospike_service", problems)
    service = settings.get("service") or {}
    if isinstance(service, dict) and "cluster-name" in [normalize_key(k) for k in service]:
        problems.append("aerospike_service: set the cluster name with aerospike_cluster_name, not cluster-name")
    _check_logging(settings.get("logging"), problems)
    _check_network(settings.get("network"), settings.get("bind_interface"), problems)
    namespaces = settings.get("namespaces")
    if not isinstance(namespaces, list) or not namespaces:
        problems.append("aerospike_namespaces must list at least one namespace")
    else:
        seen = set()
        for index, ns in enumerate(namespaces):
            if not isinstance(ns, dict):
                problems.append("aerospike_namespaces[%d] must be a mapping with name and storage" % index)
                continue
            _check_namespace(ns, index, problems)
            if ns.get("name") in seen:
                problems.append("namespace %s is defined twice" % ns.get("name"))
            seen.add(ns.get("name"))
        if len(namespaces) > 32:
            problems.append("aerospike_namespaces has %d namespaces; Aerospike allows at most 32" % len(namespaces))
    return problems


def proto_fd_max(settings):
    service = settings.get("service") or {}
    for key, value in service.items():
        if normalize_key(key) == "proto-fd-max":
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return DEFAULT_PROTO_FD_MAX


def image_tag(image):
    """The tag of an image reference (``None`` when it has none, or when pinned by digest only)."""
    if "@" in image:
        return "@" + image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return None


def check_deployment(settings, replicas, eligible_hosts, nofile, image, edition="community"):
    """Problems of the settings plus what the stack and inventory must agree on.

    Returns ``{"errors": [...], "warnings": [...]}``; any error means: deploy nothing.
    """
    errors = check_settings(settings)
    warnings = []
    if isinstance(replicas, str) and re.match(r"^\s*-?[0-9]+\s*$", replicas):
        replicas = int(replicas)  # -e aerospike_replicas=5 arrives as a string
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        errors.append("aerospike_replicas is %r: a cluster needs at least 1 replica (3 or more for "
                      "replication and safe maintenance)" % (replicas,))
        replicas = None
    elif replicas > eligible_hosts:
        errors.append(
            "aerospike_replicas is %d but only %d host(s) are in the aerospike_nodes group; each host runs one "
            "Aerospike instance, bound to it with its data: add hosts to aerospike_nodes or lower aerospike_replicas"
            % (replicas, eligible_hosts)
        )
    if replicas is not None:
        for ns in _namespaces(settings):
            rf = ns.get("replication_factor", 2)
            if isinstance(rf, int) and not isinstance(rf, bool) and rf > replicas:
                errors.append(
                    "namespace %s has replication_factor %d but aerospike_replicas is %d: the cluster could never "
                    "hold that many copies; lower replication_factor or raise aerospike_replicas"
                    % (ns.get("name"), rf, replicas)
                )
    fd_max = proto_fd_max(settings)
    if fd_max is None:
        errors.append("aerospike_service.proto-fd-max must be a whole number")
    elif isinstance(nofile, int) and fd_max > nofile:
        errors.append(
            "proto-fd-max %d is above the open-files limit %d the stack gives the tasks (aerospike_nofile); the "
            "server stops at start: raise aerospike_nofile or lower proto-fd-max" % (fd_max, nofile)
        )
    if edition not in ("community", "enterprise"):
        errors.append("aerospike_edition %r must be 'community' or 'enterprise'" % (edition,))
    elif edition == "community" and isinstance(settings, dict):
        for where, key in _enterprise_findings(settings):
            errors.append("%s: '%s' is an Enterprise Edition feature; a Community Edition server refuses it at "
                          "start: remove it, or set aerospike_edition: enterprise with an Enterprise image"
                          % (where, key))
        names = [str(ns.get("name")) for ns in settings.get("namespaces") or [] if isinstance(ns, dict)]
        if len(names) > COMMUNITY_NAMESPACE_LIMIT:
            errors.append(
                "aerospike_namespaces lists %d namespaces (%s) but a Community Edition server starts with at most %d "
                "(it stops with 'too many namespaces (max is %d)'): keep %d, for example by storing one's data as a "
                "set of another, or set aerospike_edition: enterprise with an Enterprise image"
                % (len(names), ", ".join(names), COMMUNITY_NAMESPACE_LIMIT, COMMUNITY_NAMESPACE_LIMIT,
                   COMMUNITY_NAMESPACE_LIMIT))
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        errors.append("aerospike_image %r must be an image reference such as aerospike/aerospike-server:8.1.2.0"
                      % (image,))
    else:
        tag = image_tag(image)
        if tag is None or tag == "latest":
            warnings.append(
                "aerospike_image %s is not pinned (%s): every host may run a different server build and upgrades "
                "happen behind your back; pin a version tag such as aerospike/aerospike-server:8.1.2.0"
                % (image, "tag latest" if tag else "no tag")
            )
    return {"errors": errors, "warnings": warnings}


CAP_SYS_RESOURCE = 24


def engine_nofile_problem(report, nofile, host):
    """A problem when the Docker engine on ``host`` cannot give tasks ``nofile`` open files, else None.

    ``report``: the engine's ``Max open files`` line of /proc/PID/limits and ``CapEff`` line of
    /proc/PID/status, as one text or a list of lines. An engine without CAP_SYS_RESOURCE cannot raise a
    task's limit above its own hard limit: every task would fail to start with "error setting rlimit type 7".
    """
    hard, caps = None, None
    lines = (report or "").splitlines() if isinstance(report, str) else [str(line) for line in report or ()]
    for line in lines:
        words = line.split()
        if line.startswith("Max open files") and len(words) >= 5:
            hard = words[4]
        elif line.startswith("CapEff:") and len(words) == 2:
            try:
                caps = int(words[1], 16)
            except ValueError:
                caps = None
    if hard is None or caps is None or hard == "unlimited" or not hard.isdigit():
        return None
    if caps & (1 << CAP_SYS_RESOURCE) or nofile <= int(hard):
        return None
    return (
        "aerospike_nofile %d is above the open-files limit %s of the Docker engine on %s, which cannot raise it (no "
        "CAP_SYS_RESOURCE): every Aerospike task would fail with 'error setting rlimit type 7'. Set aerospike_nofile "
        "to %s or less (proto-fd-max below it), or raise the engine's limit (LimitNOFILE)" % (nofile, hard, host, hard)
    )


# --- rendering -------------------------------------------------------------------------------------


def _lines(options, depth):
    out = []
    pad = "    " * depth
    for key, value in (options or {}).items():
        key = normalize_key(key)
        if isinstance(value, dict):
            out.append("%s%s {" % (pad, key))
            out.extend(_lines(value, depth + 1))
            out.append("%s}" % pad)
        elif isinstance(value, list):
            out.extend("%s%s %s" % (pad, key, _scalar(item)) for item in value)
        else:
            out.append("%s%s %s" % (pad, key, _scalar(value)))
    return out


def _block(name, body, depth):
    pad = "    " * depth
    return ["%s%s {" % (pad, name)] + body + ["%s}" % pad]


def render_conf(settings):
    """The text of aerospike.conf. Raises ConfError (listing every problem) for invalid settings."""
    problems = check_settings(settings)
    if problems:
        raise ConfError(problems)
    iface = settings["bind_interface"]
    out = ["# Rendered by the aerostack.swarm.aerospike role; edits here are overwritten.", ""]
    service_lines = ["    cluster-name %s" % settings["cluster_name"]] + _lines(settings.get("service"), 1)
    out += _block("service", service_lines, 0) + [""]
    logging = []
    for sink in settings["logging"]:
        body = ["        context %s %s" % (context, level) for context, level in sink["contexts"].items()]
        logging += _block(sink["sink"], body, 1)
    out += _block("logging", logging, 0) + [""]
    network = settings.get("network") or {}
    fixed = {
        "service": [("address", iface), ("port", SERVICE_PORT)],
        "heartbeat": [("mode", "mesh"), ("address", iface), ("port", HEARTBEAT_PORT)],
        "fabric": [("address", iface), ("port", FABRIC_PORT)],
        "admin": [("address", iface), ("port", ADMIN_PORT)],
    }
    net = []
    for name in NETWORK_CONTEXTS:
        body = ["        %s %s" % (k, v) for k, v in fixed[name]] + _lines(network.get(name), 2)
        net += _block(name, body, 1)
    out += _block("network", net, 0)
    for ns in settings["namespaces"]:
        storage = ns["storage"]
        body = ["    replication-factor %d" % ns.get("replication_factor", 2)] + _lines(ns.get("options"), 1)
        if storage["type"] == "memory":
            engine = ["        data-size %s" % storage["data_size"]]
            engine_name = "storage-engine memory"
        else:
            engine = ["        file %s" % storage.get("file", "%s/%s.dat" % (DATA_DIR, ns["name"])),
                      "        filesize %s" % storage["filesize"]]
            engine_name = "storage-engine device"
        engine += _lines(storage.get("options"), 2)
        body += _block(engine_name, engine, 1)
        out += [""] + _block("namespace %s" % ns["name"], body, 0)
    return "\n".join(out) + "\n"


def uses_persistent_storage(settings):
    """Whether any namespace keeps its data in a file (the stack then mounts the data volume of each instance's host)."""
    return any((ns.get("storage") or {}).get("type") == "file" for ns in _namespaces(settings))


def max_replication_factor(settings):
    factors = [ns.get("replication_factor", 2) for ns in _namespaces(settings)]
    factors = [f for f in factors if isinstance(f, int) and not isinstance(f, bool)]
    return max(factors) if factors else 1


def namespace_names(settings):
    return [ns.get("name") for ns in _namespaces(settings)]
