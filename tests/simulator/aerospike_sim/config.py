"""Read an aerospike.conf the way an 8.x server does, and refuse what an 8.x server refuses.

Syntax: nested ``name [args] { ... }`` contexts, ``key value...`` lines, ``#`` comments, repeatable
keys (``mesh-seed-address-port``, ``address``). Every refusal is a ``ConfigError`` that names the line,
the key and the fix; the caller logs it as the real server does (one CRITICAL line) and exits non-zero.

What is checked (each is fatal at start on a real 8.1.2.0, see /work/shared/aerospike-facts.md):
obsolete keys (``paxos-single-replica-limit``, ``transaction-queues``, ``transaction-threads-per-queue``,
``memory-size``, ``data-in-memory``) anywhere; keys unknown in the contexts the simulator models
completely (network sub-contexts, namespace, storage-engine); a missing ``cluster-name``; a non-zero
``default-ttl`` without ``nsup-period`` (unless ``allow-ttl-without-nsup true``); ``proto-fd-max`` above
the open-files limit; Enterprise-only settings; a third namespace (Community Edition starts at most 2). ``network { info { port } }`` is ignored, as on 8.x.
"""

from __future__ import annotations

import ipaddress
import re
import resource
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


class ConfigError(Exception):
    """The configuration cannot start a server. ``line``/``key`` locate it when known."""

    def __init__(self, message: str, line: Optional[int] = None, key: Optional[str] = None):
        self.message = message
        self.line = line
        self.key = key
        where = []
        if line is not None:
            where.append("line %d" % line)
        if key is not None:
            where.append("'%s'" % key)
        super().__init__(("%s: %s" % (" ".join(where), message)) if where else message)


# --- the tree ---------------------------------------------------------------------------------------


@dataclass
class Entry:
    key: str
    values: List[str]
    line: int


@dataclass
class Context:
    name: str
    args: List[str]
    line: int
    entries: List[Entry] = field(default_factory=list)
    children: List["Context"] = field(default_factory=list)

    def label(self) -> str:
        return " ".join([self.name] + self.args)


def parse_tree(text: str) -> Context:
    """The contexts and entries of a configuration text; raises ConfigError on unbalanced braces."""
    root = Context("(top level)", [], 0)
    stack = [root]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0]
        tokens = line.replace("{", " { ").replace("}", " } ").split()
        pending: List[str] = []
        for token in tokens:
            if token == "{":
                if not pending:
                    raise ConfigError("'{' without a context name before it", number)
                child = Context(pending[0], pending[1:], number)
                stack[-1].children.append(child)
                stack.append(child)
                pending = []
            elif token == "}":
                if pending:
                    stack[-1].entries.append(Entry(pending[0], pending[1:], number))
                    pending = []
                if len(stack) == 1:
                    raise ConfigError("'}' closes nothing: remove it or add the missing '{'", line=number)
                stack.pop()
            else:
                pending.append(token)
        if pending:
            stack[-1].entries.append(Entry(pending[0], pending[1:], number))
    if len(stack) > 1:
        ctx = stack[-1]
        raise ConfigError(
            "context '%s' opened here is never closed: add the missing '}'" % ctx.label(), ctx.line, ctx.name
        )
    return root


# --- the model --------------------------------------------------------------------------------------


@dataclass
class Seed:
    host: str
    port: int


@dataclass
class Endpoint:
    """A network sub-context: ``addresses`` as written (``any``, an interface name or an IPv4)."""

    addresses: List[str]
    port: int
    address_line: Optional[int] = None
    disable_localhost: bool = False
    access_addresses: List[str] = field(default_factory=list)


@dataclass
class Heartbeat:
    addresses: List[str]
    port: int
    seeds: List[Seed]
    interval_ms: int = 150
    timeout: int = 10
    connect_timeout_ms: int = 500
    mtu: Optional[int] = None
    protocol: str = "v3"
    address_line: Optional[int] = None


@dataclass
class Namespace:
    name: str
    line: int
    replication_factor: int = 2
    engine: str = "memory"
    data_size: int = 0
    files: List[str] = field(default_factory=list)
    devices: List[str] = field(default_factory=list)
    filesize: int = 0
    default_ttl: int = 0
    nsup_period: int = 0
    allow_ttl_without_nsup: bool = False
    # Every namespace / storage-engine key as written, normalised to what get-config would show.
    params: Dict[str, str] = field(default_factory=dict)
    engine_params: Dict[str, str] = field(default_factory=dict)


@dataclass
class NodeConfig:
    path: str
    cluster_name: Optional[str]
    node_id: Optional[str]
    proto_fd_max: int
    proto_fd_max_line: Optional[int]
    service: Endpoint
    admin: Endpoint
    fabric: Endpoint
    heartbeat: Heartbeat
    namespaces: List[Namespace]
    log_level: Optional[str]
    warnings: List[str] = field(default_factory=list)


# --- vocabulary ---------------------------------------------------------------------------------------

OBSOLETE = {
    "paxos-single-replica-limit": "it was removed in 7.0 and has no replacement: delete the line",
    "transaction-queues": "it was removed (service-threads sizes the transaction threads): delete the line",
    "transaction-threads-per-queue": "it was removed (service-threads sizes the transaction threads): "
    "delete the line",
    "memory-size": "it was removed in 7.0: size an in-memory namespace with "
    "'storage-engine memory { data-size 1G }'",
    "data-in-memory": "it was removed in 7.0: use 'storage-engine memory { data-size ... }' for an in-memory "
    "namespace",
}

ENTERPRISE_ONLY = {"strong-consistency", "rack-id", "migrate-fill-delay", "active-rack"}

LOG_LEVELS = ("critical", "warning", "info", "debug", "detail")

_SERVICE_ENDPOINT_KEYS = {
    "address", "port", "access-address", "access-port", "alternate-access-address", "alternate-access-port",
    "tls-address", "tls-port", "tls-access-address", "tls-access-port", "tls-alternate-access-address",
    "tls-alternate-access-port", "tls-authenticate-client", "tls-name", "disable-localhost",
}
_ADMIN_KEYS = {"address", "port", "tls-address", "tls-port", "tls-authenticate-client", "tls-name",
               "disable-localhost"}
_HEARTBEAT_KEYS = {
    "mode", "address", "port", "mesh-seed-address-port", "interval", "timeout", "connect-timeout-ms", "mtu",
    "protocol", "tls-address", "tls-port", "tls-mesh-seed-address-port", "tls-name", "multicast-group",
    "multicast-ttl",
}
_FABRIC_KEYS = {
    "address", "port", "tls-address", "tls-port", "tls-name", "channel-bulk-fds", "channel-bulk-recv-threads",
    "channel-ctrl-fds", "channel-ctrl-recv-threads", "channel-meta-fds", "channel-meta-recv-threads",
    "channel-rw-fds", "channel-rw-recv-pools", "channel-rw-recv-threads", "keepalive-enabled",
    "keepalive-intvl", "keepalive-probes", "keepalive-time", "latency-max-ms", "recv-rearm-threshold",
    "send-threads",
}
# A Community Edition server refuses a third namespace context at start, as 8.1.2.0 logs it:
# "CRITICAL (namespace): (namespace.c:69) too many namespaces (max is 2)".
COMMUNITY_NAMESPACE_LIMIT = 2

# Namespace configuration keys as the 8.1.2.0 server lists them in namespace/<ns> (fixture).
_NAMESPACE_KEYS = {
    "active-rack", "allow-ttl-without-nsup", "apply-ttl-reductions", "auto-revive",
    "background-query-max-rps", "conflict-resolution-policy", "conflict-resolve-writes",
    "default-read-touch-ttl-pct", "default-ttl", "disable-cold-start-eviction", "disable-mrt-writes",
    "disable-write-dup-res", "disallow-expunge", "disallow-null-setname", "enable-benchmarks-batch-sub",
    "enable-benchmarks-ops-sub", "enable-benchmarks-read", "enable-benchmarks-udf", "enable-benchmarks-udf-sub",
    "enable-benchmarks-write", "enable-hist-proxy", "evict-hist-buckets", "evict-indexes-memory-pct",
    "evict-tenths-pct", "force-long-queries", "ignore-migrate-fill-delay", "index-stage-size",
    "indexes-memory-budget", "inline-short-queries", "max-record-size", "migrate-order",
    "migrate-retransmit-ms", "migrate-skip-unreadable", "migrate-sleep", "mrt-duration", "nsup-hist-period",
    "nsup-period", "nsup-threads", "partition-tree-sprigs", "prefer-uniform-balance", "rack-id",
    "read-consistency-level-override", "reject-non-xdr-writes", "reject-xdr-writes", "replication-factor",
    "sindex-stage-size", "single-query-threads", "stop-writes-sys-memory-pct", "strong-consistency",
    "strong-consistency-allow-expunge", "tomb-raider-eligible-age", "tomb-raider-period",
    "tomb-raider-unmark-threads", "transaction-pending-limit", "truncate-threads",
    "write-commit-level-override", "xdr-bin-tombstone-ttl", "xdr-tomb-raider-period",
    "xdr-tomb-raider-threads", "index-type", "sindex-type", "migrate-fill-delay",
}
_NAMESPACE_CONTEXTS = {"storage-engine", "set", "geo2dsphere-within", "index-type", "sindex-type"}
_STORAGE_KEYS = {
    "commit-to-device", "compression", "compression-acceleration", "compression-level", "data-size",
    "defrag-lwm-pct", "defrag-queue-min", "defrag-sleep", "defrag-startup-minimum", "direct-files",
    "disable-odsync", "enable-benchmarks-storage", "encryption-key-file", "encryption-old-key-file",
    "evict-used-pct", "filesize", "flush-max-ms", "max-write-cache", "stop-writes-avail-pct",
    "stop-writes-used-pct", "tomb-raider-sleep", "file", "device", "read-page-cache", "cold-start-empty",
    "post-write-cache", "serialize-tomb-raider", "sindex-startup-device-scan", "cache-replica-writes",
}
_STORAGE_ENGINES = ("memory", "device", "pmem")
_SIZE = re.compile(r"^(\d+)([KMGTkmgt]?)$")
_DURATION = re.compile(r"^(\d+)([smhdSMHD]?)$")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
_NODE_ID = re.compile(r"^[0-9A-Fa-f]{1,16}$")


def parse_size(text: str, line: int, key: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise ConfigError("'%s' is not a size: write a number with an optional K, M, G or T suffix (e.g. 1G)"
                          % text, line, key)
    number, unit = int(match.group(1)), match.group(2).upper()
    return number * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit]


def parse_duration(text: str, line: int, key: str) -> int:
    match = _DURATION.match(text)
    if not match:
        raise ConfigError("'%s' is not a duration: write seconds, or a number with s, m, h or d (e.g. 30d)"
                          % text, line, key)
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def parse_int(text: str, line: int, key: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError("'%s' is not an integer: write a whole number from %d to %d" % (text, low, high),
                          line, key) from None
    if not low <= value <= high:
        raise ConfigError("%d is out of range: it must be from %d to %d" % (value, low, high), line, key)
    return value


def parse_bool(text: str, line: int, key: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise ConfigError("'%s' is not a boolean: write true or false" % text, line, key)


def check_address(text: str, line: int, key: str) -> str:
    """``any``, an IPv4 literal or an interface name; IPv6 is not simulated."""
    if text == "any":
        return text
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _INTERFACE.match(text):
            raise ConfigError("'%s' is neither 'any', an IPv4 address nor an interface name" % text,
                              line, key) from None
        return text
    if address.version != 4:
        raise ConfigError("IPv6 address '%s': the simulator binds IPv4 only; use an IPv4 address or an "
                          "interface name" % text, line, key)
    return text


def _one_value(entry: Entry) -> str:
    if len(entry.values) != 1:
        raise ConfigError("expects exactly one value, got %d: write '%s <value>'"
                          % (len(entry.values), entry.key), entry.line, entry.key)
    return entry.values[0]


def _check_obsolete(entry: Entry) -> None:
    if entry.key in OBSOLETE:
        raise ConfigError("is obsolete and refused by 8.x: %s" % OBSOLETE[entry.key], entry.line, entry.key)


def _check_context_obsolete(ctx: Context) -> None:
    if ctx.name in OBSOLETE:
        raise ConfigError("is obsolete and refused by 8.x: %s" % OBSOLETE[ctx.name], ctx.line, ctx.name)


def _unknown(entry_or_ctx, where: str) -> ConfigError:
    name = entry_or_ctx.key if isinstance(entry_or_ctx, Entry) else entry_or_ctx.name
    return ConfigError("is not a valid key in %s on 8.1 (a real server refuses to start): check the spelling "
                       "or remove it" % where, entry_or_ctx.line, name)


# --- building -----------------------------------------------------------------------------------------


def _endpoint(ctx: Optional[Context], allowed: set, where: str, default_port: int) -> Endpoint:
    endpoint = Endpoint(addresses=[], port=default_port)
    if ctx is None:
        endpoint.addresses = ["any"]
        return endpoint
    for child in ctx.children:
        _check_context_obsolete(child)
        raise _unknown(child, where)
    for entry in ctx.entries:
        _check_obsolete(entry)
        if entry.key not in allowed:
            raise _unknown(entry, where)
        if entry.key == "address":
            endpoint.addresses.append(check_address(_one_value(entry), entry.line, entry.key))
            endpoint.address_line = entry.line
        elif entry.key == "port":
            endpoint.port = parse_int(_one_value(entry), entry.line, entry.key, 0, 65535)
        elif entry.key == "disable-localhost":
            endpoint.disable_localhost = parse_bool(_one_value(entry), entry.line, entry.key)
        elif entry.key == "access-address":
            endpoint.access_addresses.append(_one_value(entry))
        elif entry.key.startswith("tls-") and entry.key != "tls-name":
            raise ConfigError("TLS is not simulated: remove it (or test TLS against a real server)",
                              entry.line, entry.key)
        else:
            _one_value(entry)
    if not endpoint.addresses:
        endpoint.addresses = ["any"]
    return endpoint


def _heartbeat(ctx: Optional[Context]) -> Heartbeat:
    if ctx is None:
        raise ConfigError("network { heartbeat { ... } } is missing: add 'heartbeat { mode mesh  port 3002 }'",
                          key="heartbeat")
    hb = Heartbeat(addresses=[], port=0, seeds=[])
    mode = None
    for child in ctx.children:
        _check_context_obsolete(child)
        raise _unknown(child, "network.heartbeat")
    for entry in ctx.entries:
        _check_obsolete(entry)
        if entry.key not in _HEARTBEAT_KEYS:
            raise _unknown(entry, "network.heartbeat")
        if entry.key == "mesh-seed-address-port":
            if len(entry.values) != 2:
                raise ConfigError("expects a host and a port: write 'mesh-seed-address-port 10.0.0.2 3002'",
                                  entry.line, entry.key)
            host = entry.values[0]
            port = parse_int(entry.values[1], entry.line, entry.key, 1, 65535)
            if any(s.host == host and s.port == port for s in hb.seeds):
                raise ConfigError("seed %s:%d is listed twice: remove the duplicate line" % (host, port),
                                  entry.line, entry.key)
            hb.seeds.append(Seed(host, port))
            continue
        value = _one_value(entry)
        if entry.key == "mode":
            mode = value
        elif entry.key == "address":
            hb.addresses.append(check_address(value, entry.line, entry.key))
            hb.address_line = entry.line
        elif entry.key == "port":
            hb.port = parse_int(value, entry.line, entry.key, 1, 65535)
        elif entry.key == "interval":
            hb.interval_ms = parse_int(value, entry.line, entry.key, 50, 600000)
        elif entry.key == "timeout":
            hb.timeout = parse_int(value, entry.line, entry.key, 3, 100000)
        elif entry.key == "connect-timeout-ms":
            hb.connect_timeout_ms = parse_int(value, entry.line, entry.key, 50, 60000)
        elif entry.key == "mtu":
            hb.mtu = parse_int(value, entry.line, entry.key, 0, 1 << 20)
        elif entry.key == "protocol":
            if value not in ("v3", "none"):
                raise ConfigError("'%s' is not a heartbeat protocol: write v3" % value, entry.line, entry.key)
            hb.protocol = value
        elif entry.key.startswith("tls-") and entry.key != "tls-name":
            raise ConfigError("TLS heartbeats are not simulated: remove it", entry.line, entry.key)
        elif entry.key.startswith("multicast"):
            raise ConfigError("multicast heartbeats are not simulated: use 'mode mesh'", entry.line, entry.key)
    if mode != "mesh":
        raise ConfigError("heartbeat mode is %s: the simulator (and Docker Swarm) needs 'mode mesh'"
                          % ("missing" if mode is None else "'%s'" % mode), ctx.line, "mode")
    if hb.port == 0:
        raise ConfigError("heartbeat port is missing: add 'port 3002' to network { heartbeat { } }",
                          line=ctx.line, key="port")
    if not hb.addresses:
        hb.addresses = ["any"]
    return hb


def _storage(ns: Namespace, ctx: Context) -> None:
    if len(ctx.args) != 1 or ctx.args[0] not in _STORAGE_ENGINES:
        raise ConfigError("storage-engine must be one of %s, as 'storage-engine memory { data-size 1G }'"
                          % ", ".join(_STORAGE_ENGINES), ctx.line, "storage-engine")
    ns.engine = ctx.args[0]
    if ns.engine == "pmem":
        raise ConfigError("storage-engine pmem is Enterprise-only: use memory or device", ctx.line,
                          "storage-engine")
    where = "namespace %s storage-engine %s" % (ns.name, ns.engine)
    for child in ctx.children:
        _check_context_obsolete(child)
        raise _unknown(child, where)
    for entry in ctx.entries:
        _check_obsolete(entry)
        if entry.key not in _STORAGE_KEYS:
            raise _unknown(entry, where)
        value = _one_value(entry)
        if entry.key == "data-size":
            ns.data_size = parse_size(value, entry.line, entry.key)
            value = str(ns.data_size)
        elif entry.key == "filesize":
            ns.filesize = parse_size(value, entry.line, entry.key)
            value = str(ns.filesize)
        elif entry.key == "file":
            ns.files.append(value)
            continue
        elif entry.key == "device":
            ns.devices.append(value)
            continue
        ns.engine_params[entry.key] = value
    if ns.engine == "memory":
        if not ns.data_size and not (ns.files or ns.devices):
            raise ConfigError("storage-engine memory needs a size: add 'data-size 1G' inside its braces",
                              ctx.line, "data-size")
    else:
        if not (ns.files or ns.devices):
            raise ConfigError("storage-engine device needs storage: add 'file /opt/aerospike/data/%s.dat' "
                              "and 'filesize 4G' (or 'device /dev/...')" % ns.name, ctx.line, "file")
        if ns.files and not ns.filesize:
            raise ConfigError("storage-engine device with 'file' needs 'filesize' (e.g. 'filesize 4G')",
                              ctx.line, "filesize")


def _namespace(ctx: Context) -> Namespace:
    if len(ctx.args) != 1:
        raise ConfigError("a namespace needs exactly one name: write 'namespace test { ... }'",
                          line=ctx.line, key="namespace")
    ns = Namespace(ctx.args[0], ctx.line)
    where = "namespace %s" % ns.name
    storage = None
    for child in ctx.children:
        _check_context_obsolete(child)
        if child.name not in _NAMESPACE_CONTEXTS:
            raise _unknown(child, where)
        if child.name == "storage-engine":
            storage = child
    for entry in ctx.entries:
        _check_obsolete(entry)
        if entry.key == "storage-engine":
            # 'storage-engine memory' without braces: the same as an empty context.
            storage = Context(entry.key, entry.values, entry.line)
            continue
        if entry.key not in _NAMESPACE_KEYS:
            raise _unknown(entry, where)
        value = _one_value(entry)
        if entry.key == "replication-factor":
            ns.replication_factor = parse_int(value, entry.line, entry.key, 1, 256)
        elif entry.key == "default-ttl":
            ns.default_ttl = parse_duration(value, entry.line, entry.key)
            value = str(ns.default_ttl)
        elif entry.key == "nsup-period":
            ns.nsup_period = parse_duration(value, entry.line, entry.key)
            value = str(ns.nsup_period)
        elif entry.key == "allow-ttl-without-nsup":
            ns.allow_ttl_without_nsup = parse_bool(value, entry.line, entry.key)
        elif entry.key in ("strong-consistency",):
            if parse_bool(value, entry.line, entry.key):
                raise ConfigError("strong-consistency is Enterprise-only: remove it (CE is AP only)",
                                  entry.line, entry.key)
        elif entry.key in ENTERPRISE_ONLY:
            if value != "0":
                raise ConfigError("is Enterprise-only (a CE server refuses it): remove it", entry.line, entry.key)
        ns.params[entry.key] = value
    if storage is None:
        raise ConfigError("namespace %s has no storage-engine: add 'storage-engine memory { data-size 1G }'"
                          % ns.name, ctx.line, "storage-engine")
    _storage(ns, storage)
    if ns.default_ttl and not ns.nsup_period and not ns.allow_ttl_without_nsup:
        raise ConfigError("namespace %s has default-ttl %d but no nsup-period, so records would never expire: "
                          "add 'nsup-period 120' (or 'allow-ttl-without-nsup true')"
                          % (ns.name, ns.default_ttl), ctx.line, "default-ttl")
    return ns


def _logging_level(ctx: Context) -> Optional[str]:
    level = None
    for child in ctx.children:
        if child.name != "console":
            continue
        for entry in child.entries:
            if entry.key == "context" and len(entry.values) == 2 and entry.values[0] == "any":
                if entry.values[1] not in LOG_LEVELS:
                    raise ConfigError("'%s' is not a log level: use one of %s"
                                      % (entry.values[1], ", ".join(LOG_LEVELS)), entry.line, "context")
                level = entry.values[1]
    return level


def build(tree: Context, path: str = "<text>") -> NodeConfig:
    """A NodeConfig from a parsed tree; raises ConfigError for anything an 8.x server refuses."""
    warnings: List[str] = []
    for entry in tree.entries:
        _check_obsolete(entry)
        raise ConfigError("keys must sit inside a context (service, network, namespace ...): move it",
                          entry.line, entry.key)
    service_ctx = network_ctx = logging_ctx = None
    namespace_ctxs = []
    for ctx in tree.children:
        _check_context_obsolete(ctx)
        if ctx.name == "service":
            service_ctx = ctx
        elif ctx.name == "network":
            network_ctx = ctx
        elif ctx.name == "logging":
            logging_ctx = ctx
        elif ctx.name == "namespace":
            namespace_ctxs.append(ctx)
        elif ctx.name in ("mod-lua", "xdr"):
            warnings.append("line %d: context '%s' is accepted but not simulated" % (ctx.line, ctx.name))
        elif ctx.name == "security":
            raise ConfigError("security is Enterprise-only: remove the context", ctx.line, ctx.name)
        else:
            raise ConfigError("is not a top-level context on 8.1: use service, logging, network, namespace, "
                              "mod-lua or xdr", ctx.line, ctx.name)

    cluster_name = node_id = None
    proto_fd_max, proto_line = 15000, None
    if service_ctx is not None:
        for child in service_ctx.children:
            _check_context_obsolete(child)
            raise _unknown(child, "service")
        for entry in service_ctx.entries:
            _check_obsolete(entry)
            if entry.key == "cluster-name":
                cluster_name = _one_value(entry)
            elif entry.key == "proto-fd-max":
                proto_fd_max = parse_int(_one_value(entry), entry.line, entry.key, 0, 1 << 31)
                proto_line = entry.line
            elif entry.key == "node-id":
                value = _one_value(entry)
                if not _NODE_ID.match(value) or int(value, 16) == 0:
                    raise ConfigError("'%s' is not a node id: write 1 to 16 hex digits, not all zero" % value,
                                      entry.line, entry.key)
                node_id = value.upper().lstrip("0")

    if network_ctx is None:
        raise ConfigError("the network context is missing: add network { service { port 3000 } "
                          "heartbeat { mode mesh  port 3002 } fabric { port 3001 } }", key="network")
    sub: Dict[str, Context] = {}
    for entry in network_ctx.entries:
        _check_obsolete(entry)
        raise _unknown(entry, "network")
    for child in network_ctx.children:
        _check_context_obsolete(child)
        if child.name not in ("service", "heartbeat", "fabric", "info", "admin", "tls"):
            raise _unknown(child, "network")
        if child.name == "tls":
            raise ConfigError("TLS is not simulated: remove the tls context", child.line, "tls")
        sub[child.name] = child
    if "info" in sub:
        warnings.append("line %d: network { info { ... } } is ignored on 8.x; the admin port is set with "
                        "network { admin { port 3003 } }" % sub["info"].line)
    service = _endpoint(sub.get("service"), _SERVICE_ENDPOINT_KEYS, "network.service", 3000)
    admin = _endpoint(sub.get("admin"), _ADMIN_KEYS, "network.admin", 0)
    if "admin" in sub and admin.port == 0:
        admin.port = 3003
    fabric = _endpoint(sub.get("fabric"), _FABRIC_KEYS, "network.fabric", 3001)
    heartbeat = _heartbeat(sub.get("heartbeat"))

    namespaces = []
    for ctx in namespace_ctxs:
        ns = _namespace(ctx)
        if any(n.name == ns.name for n in namespaces):
            raise ConfigError("namespace %s is defined twice: merge the two contexts" % ns.name, ctx.line,
                              "namespace")
        if len(namespaces) == COMMUNITY_NAMESPACE_LIMIT:
            raise ConfigError("too many namespaces (max is %d): Community Edition starts at most %d; remove one"
                              % (COMMUNITY_NAMESPACE_LIMIT, COMMUNITY_NAMESPACE_LIMIT), ctx.line, "namespace")
        namespaces.append(ns)

    return NodeConfig(
        path=path,
        cluster_name=cluster_name,
        node_id=node_id,
        proto_fd_max=proto_fd_max,
        proto_fd_max_line=proto_line,
        service=service,
        admin=admin,
        fabric=fabric,
        heartbeat=heartbeat,
        namespaces=namespaces,
        log_level=_logging_level(logging_ctx) if logging_ctx is not None else None,
        warnings=warnings,
    )


def validate(config: NodeConfig, open_files_limit: Optional[int] = None) -> None:
    """The whole-configuration checks, run after command-line overrides were applied."""
    if not config.cluster_name:
        raise ConfigError("cluster-name is required on 8.x: add 'cluster-name <name>' to the service context",
                          None, "cluster-name")
    if not config.namespaces:
        raise ConfigError("no namespace is configured: add 'namespace test { storage-engine memory "
                          "{ data-size 1G } }'", key="namespace")
    if open_files_limit is None:
        open_files_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if open_files_limit != resource.RLIM_INFINITY and config.proto_fd_max > open_files_limit:
        raise ConfigError(
            "proto-fd-max %d%s exceeds the open-files limit %d (RLIMIT_NOFILE): set proto-fd-max to at most "
            "%d or raise the limit (docker: --ulimit nofile=%d:%d)"
            % (config.proto_fd_max, "" if config.proto_fd_max_line else " (the default)", open_files_limit,
               open_files_limit, config.proto_fd_max + 1024, config.proto_fd_max + 1024),
            config.proto_fd_max_line, "proto-fd-max")
    ports = [("service", config.service.port), ("heartbeat", config.heartbeat.port),
             ("fabric", config.fabric.port)]
    if config.admin.port:
        ports.append(("admin", config.admin.port))
    seen: Dict[int, str] = {}
    for name, port in ports:
        if port in seen:
            raise ConfigError("the %s port %d is also the %s port: give each its own port"
                              % (name, port, seen[port]), None, "port")
        seen[port] = name


def load(path: str) -> NodeConfig:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError("cannot read the configuration file %s: %s" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ConfigError("the configuration file %s is not UTF-8 text" % path) from None
    return build(parse_tree(text), path)


def seed_list(config: NodeConfig) -> List[Tuple[str, int]]:
    return [(s.host, s.port) for s in config.heartbeat.seeds]
