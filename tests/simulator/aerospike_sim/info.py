"""The info commands: each takes the command as sent and returns the value the real server would.

Reply shapes come from the 8.1.2.0 transcripts (``shapes.py``). Error strings marked "fixture" below
are byte-for-byte from the transcripts; the few marked "modelled" follow the real server's code but
were not captured from 8.1.2.0 (see README, known differences).
"""

from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional, Tuple

from . import EDITION, SERVER_BUILD, __version__, log, shapes
from .cluster import sort_nodes

INFO = log.get("info")

# fixture
UNRECOGNIZED = "ERROR:4:unrecognized command"
UNSTABLE = "ERROR:7:unstable cluster"
NOT_SIZE = "ERROR:7:cluster not specified size"
TIP_DUPLICATE = "ERROR::unknown"
TIP_NO_PORT = "ERROR:4:missing 'port'"
TIP_BAD_PORT = "ERROR:4:'port' must be an integer"
# modelled
TIP_NO_HOST = "ERROR:4:missing 'host'"
TIP_BAD_TLS = "ERROR:4:'tls' must be true or false"
BAD_SIZE = "ERROR:4:bad size"
BAD_IGNORE = "ERROR:4:bad ignore-migrations"
UNKNOWN_NAMESPACE = "ERROR:4:unknown namespace"
BAD_CONTEXT = "ERROR:4:invalid context"

AEROSPIKE_EPOCH = 1262304000  # 2010-01-01T00:00:00Z, the server's clock origin
WBLOCK = 8 << 20
MEMORY_STRIPES = 8


def parse_params(text: str) -> Dict[str, str]:
    """``a=1;b=2`` -> dict, like the server's parameter lookup (items without '=' are ignored)."""
    params: Dict[str, str] = {}
    for item in text.split(";"):
        name, sep, value = item.partition("=")
        if sep and name not in params:
            params[name] = value
    return params


def parse_host_port(text: str) -> Optional[Tuple[str, int]]:
    """``h:p`` or ``[v6]:p``; None when it is not one (the 2017 ``h;p`` form, ``all``, no port)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not text[end + 1:].startswith(":"):
            return None
        host, port_text = text[1:end], text[end + 2:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            return None
    if not host or not port_text.isdigit():
        return None
    return host, int(port_text)


def _kv(pairs: List[Tuple[str, str]]) -> str:
    return ";".join("%s=%s" % (k, v) for k, v in pairs)


def _meminfo() -> Tuple[int, int]:
    """``(available kB, total kB)`` from /proc/meminfo; (0, 0) where it cannot be read."""
    values: Dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                name, _sep, rest = line.partition(":")
                values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return 0, 0
    return values.get("MemAvailable", 0), values.get("MemTotal", 0)


class InfoCommands:
    def __init__(self, node):
        self.node = node
        self._simple = {
            "build": lambda: SERVER_BUILD,
            "version": lambda: "%s build %s (aerostack-simulator %s, not a real server)"
                               % (EDITION, SERVER_BUILD, __version__),
            "edition": lambda: EDITION,
            "node": lambda: node.node_id,
            "cluster-name": lambda: node.cluster_name,
            "status": lambda: "ok",
            "statistics": self.statistics,
            "namespaces": lambda: ";".join(ns.name for ns in node.config.namespaces),
            "services": lambda: self._services(self._members()),
            "services-alumni": lambda: self._services(sort_nodes(node.alumni)),
            "peers-clear-std": lambda: self._peers(node.peers_gen, self._members()),
            "alumni-clear-std": lambda: self._peers(node.alumni_gen, sort_nodes(node.alumni)),
            "simulator": lambda: "aerostack-simulator %s" % __version__,
        }
        self._with_params = {
            "get-config": self.get_config,
            "cluster-stable": self.cluster_stable,
            "tip": self.tip,
            "tip-clear": self.tip_clear,
            "services-alumni-reset": self.alumni_reset,
            "recluster": self.recluster,
        }

    def handle(self, command: str) -> str:
        try:
            return self._dispatch(command)
        except Exception:  # a simulator bug must not take the server down; the log shows it
            INFO.log(logging.WARNING, "internal error answering %r", command, exc_info=True)
            return "ERROR::internal simulator error (see its log)"

    def _dispatch(self, command: str) -> str:
        if command.startswith("namespace/"):
            return self.namespace(command[len("namespace/"):])
        name, _sep, params = command.partition(":")
        if name in self._simple and not params:
            return self._simple[name]()
        if name in self._with_params:
            return self._with_params[name](parse_params(params))
        return UNRECOGNIZED

    # --- membership ---------------------------------------------------------------------------------

    def _members(self) -> List[str]:
        node = self.node
        if node.cluster is None:
            return []
        return sort_nodes(m for m in node.cluster.members if m != node.node_id)

    def _services(self, node_ids: List[str]) -> str:
        out = []
        for node_id in node_ids:
            addrs = self.node.member_service(node_id)
            if addrs:
                out.append(addrs[0])
        return ";".join(out)

    def _peers(self, generation: int, node_ids: List[str]) -> str:
        port = self.node.config.service.port
        items = []
        for node_id in node_ids:
            hosts = []
            for endpoint in self.node.member_service(node_id):
                host, _sep, peer_port = endpoint.rpartition(":")
                hosts.append(host if peer_port == str(port) else endpoint)
            items.append("[%s,,[%s]]" % (node_id, ",".join(hosts)))
        return "%d,%d,[%s]" % (generation, port, ",".join(items))

    # --- statistics -------------------------------------------------------------------------------

    def statistics(self) -> str:
        node = self.node
        now = node.now()
        cluster = node.cluster
        avail, total = _meminfo()
        remaining = sum(tx + rx for tx, rx in node.migrations_remaining(now).values())
        counters = node.counters
        values = {
            "cluster_size": str(node.cluster_size()),
            "cluster_key": cluster.key if cluster else "0",
            "cluster_generation": str(cluster.generation if cluster else 0),
            "cluster_principal": cluster.principal if cluster else "0",
            "cluster_integrity": "true" if cluster else "false",
            "cluster_is_member": "true" if cluster else "false",
            "uptime": str(int(time.time() - node.started_wall)),
            "system_free_mem_kbytes": str(avail),
            "system_free_mem_pct": str(avail * 100 // total if total else 0),
            "host_free_mem_kbytes": str(avail),
            "host_free_mem_pct": str(avail * 100 // total if total else 0),
            "heartbeat_connections": str(len(node.channels)),
            "paxos_principal": cluster.principal if cluster else "0",
            "time_since_rebalance": str(int(now - node.cluster_formed_at) if cluster else 0),
            "migrate_allowed": "true" if node.migrate_allowed(now) else "false",
            "migrate_partitions_remaining": str(remaining),
        }
        for key in ("client_connections", "client_connections_opened", "client_connections_closed",
                    "admin_connections", "admin_connections_opened", "admin_connections_closed",
                    "heartbeat_connections_opened", "heartbeat_connections_closed",
                    "heartbeat_received_self", "heartbeat_received_foreign", "info_complete"):
            values[key] = str(counters[key])
        return _kv([(k, values.get(k, v)) for k, v in shapes.pairs(shapes.STATISTICS)])

    # --- namespaces -------------------------------------------------------------------------------

    def _namespace_config(self, ns) -> Dict[str, str]:
        values = dict(ns.params)
        values.update({
            "replication-factor": str(ns.replication_factor),
            "default-ttl": str(ns.default_ttl),
            "nsup-period": str(ns.nsup_period),
            "allow-ttl-without-nsup": "true" if ns.allow_ttl_without_nsup else "false",
            "storage-engine": ns.engine,
        })
        for key, value in ns.engine_params.items():
            values["storage-engine." + key] = value
        values["storage-engine.data-size"] = str(ns.data_size)
        values["storage-engine.filesize"] = str(ns.filesize)
        return values

    def _stripes(self, ns) -> Tuple[str, List[Tuple[str, int]]]:
        """``(kind, [(name, size)])``: memory has 8 stripes; a device namespace one per file/device."""
        if ns.engine == "memory" and not (ns.files or ns.devices):
            size = ns.data_size // MEMORY_STRIPES
            return "stripe", [("stripe-%d" % i, size) for i in range(MEMORY_STRIPES)]
        if ns.files:
            return "file", [(path, ns.filesize) for path in ns.files]
        return "device", [(path, 0) for path in ns.devices]

    def namespace(self, name: str) -> str:
        node = self.node
        ns = next((n for n in node.config.namespaces if n.name == name), None)
        if ns is None:
            return "type=unknown"  # fixture: not an error string
        now = node.now()
        size = node.cluster_size()
        tx_left, rx_left = node.migrations_remaining(now)[ns.name]
        migration = node.migrations[ns.name]
        kind, stripes = self._stripes(ns)
        free_blocks = [max(0, size // WBLOCK - 1) for _name, size in stripes]
        total_bytes = ns.data_size if kind == "stripe" else sum(size for _name, size in stripes)
        values = {
            "ns_cluster_size": str(size),
            "effective_replication_factor": str(min(ns.replication_factor, size)),
            "current_time": str(int(time.time()) - AEROSPIKE_EPOCH),
            "data_total_bytes": str(total_bytes),
            "data_avail_pct": str(sum(free_blocks) * WBLOCK * 100 // total_bytes if total_bytes else 0),
            "migrate_tx_partitions_initial": str(migration.tx_initial),
            "migrate_tx_partitions_remaining": str(tx_left),
            "migrate_rx_partitions_initial": str(migration.rx_initial),
            "migrate_rx_partitions_remaining": str(rx_left),
            "migrate_rx_instances": str(node.rx_instances[ns.name]),
            "migrate_fresh_partitions": str(node.fresh[ns.name]),
        }
        values.update(self._namespace_config(ns))
        out: List[Tuple[str, str]] = []
        for key, default in shapes.pairs(shapes.NAMESPACE):
            out.append((key, values.get(key, default)))
            if key == "data_compression_ratio":
                for i, free in enumerate(free_blocks):
                    prefix = "storage-engine.%s[%d]." % (kind, i)
                    out.extend([(prefix + "used_bytes", "0"), (prefix + "free_wblocks", str(free)),
                                (prefix + "writes", "0"), (prefix + "defrag_q", "0"),
                                (prefix + "defrag_reads", "0"), (prefix + "defrag_writes", "0")])
            elif key == "storage-engine":
                out.extend(("storage-engine.%s[%d]" % (kind, i), path) for i, (path, _size) in enumerate(stripes))
        known = {k for k, _value in out}
        # keys the user set that the 8.1.2.0 listing does not show (e.g. migrate-fill-delay 0)
        out.extend((k, v) for k, v in self._namespace_config(ns).items() if k not in known)
        return _kv(out)

    # --- get-config -------------------------------------------------------------------------------

    def get_config(self, params: Dict[str, str]) -> str:
        context = params.get("context", "service")
        if context == "network":
            return self._network_config()
        if context == "service":
            config = self.node.config
            return _kv([("cluster-name", self.node.cluster_name), ("node-id", self.node.node_id),
                        ("proto-fd-max", str(config.proto_fd_max))])
        if context == "namespace":
            name = params.get("id") or params.get("namespace")
            ns = next((n for n in self.node.config.namespaces if n.name == name), None)
            if ns is None:
                return UNKNOWN_NAMESPACE
            full = self.namespace(ns.name).split(";")
            start = next(i for i, item in enumerate(full) if item.startswith("active-rack="))
            return ";".join(full[start:])
        return BAD_CONTEXT

    def _network_config(self) -> str:
        node = self.node
        config = node.config
        values = {
            "service.port": str(config.service.port),
            "service.address": ",".join(config.service.addresses),
            "service.disable-localhost": "true" if config.service.disable_localhost else "false",
            "admin.port": str(config.admin.port),
            "admin.address": ",".join(config.admin.addresses),
            "admin.disable-localhost": "true" if config.admin.disable_localhost else "false",
            "heartbeat.address": ",".join(config.heartbeat.addresses),
            "heartbeat.port": str(config.heartbeat.port),
            "heartbeat.interval": str(config.heartbeat.interval_ms),
            "heartbeat.timeout": str(config.heartbeat.timeout),
            "heartbeat.connect-timeout-ms": str(config.heartbeat.connect_timeout_ms),
            "heartbeat.mtu": str(node.mtu),
            "heartbeat.protocol": config.heartbeat.protocol,
            "fabric.address": ",".join(config.fabric.addresses),
            "fabric.port": str(config.fabric.port),
        }
        out: List[Tuple[str, str]] = []
        for key, default in shapes.pairs(shapes.NETWORK):
            out.append((key, values.get(key, default)))
            if key == "heartbeat.tls-name":
                out.extend(("heartbeat.mesh-seed-address-port", "%s:%d" % (s.host, s.port))
                           for s in node.seeds)
        return _kv(out)

    # --- commands -----------------------------------------------------------------------------------

    def cluster_stable(self, params: Dict[str, str]) -> str:
        """The real server's order of checks (info_command_cluster_stable)."""
        node = self.node
        now = node.now()
        key_at_start = node.cluster.key if node.cluster else "0"
        if not node.migrate_allowed(now):
            return UNSTABLE
        if "size" in params:
            text = params["size"]
            if not text.isdigit() or len(text) > 3:
                return BAD_SIZE
            if int(text) != node.cluster_size():
                return NOT_SIZE
        ignore = False
        if "ignore-migrations" in params:
            text = params["ignore-migrations"]
            if text in ("true", "yes"):
                ignore = True
            elif text not in ("false", "no"):
                return BAD_IGNORE
        if not ignore:
            remaining = node.migrations_remaining(now)
            if "namespace" in params:
                if params["namespace"] not in remaining:
                    return UNKNOWN_NAMESPACE
                if sum(remaining[params["namespace"]]):
                    return UNSTABLE
            elif any(sum(v) for v in remaining.values()):
                return UNSTABLE
        if (node.cluster.key if node.cluster else "0") != key_at_start:
            return UNSTABLE
        return key_at_start

    def tip(self, params: Dict[str, str]) -> str:
        host = params.get("host")
        if not host:
            return TIP_NO_HOST
        port_text = params.get("port")
        if port_text is None:
            return TIP_NO_PORT
        tls = params.get("tls", "false")
        if tls not in ("true", "false"):
            return TIP_BAD_TLS
        try:
            port = int(port_text)
        except ValueError:
            return TIP_BAD_PORT
        if tls == "true" or not 1 <= port <= 65535:
            return TIP_DUPLICATE  # the server's generic tip failure
        if not self.node.add_seed(host, port):
            return TIP_DUPLICATE
        return "ok"

    def tip_clear(self, params: Dict[str, str]) -> str:
        cleared = not_found = 0
        success = "host-port-list" in params
        if success:
            for item in params["host-port-list"].split(","):
                parsed = parse_host_port(item)
                if parsed is None:
                    INFO.warning("tip-clear: '%s' is not host:port (use tip-clear:host-port-list=h:p,h:p)", item)
                    success = False
                    break
                if self.node.clear_seed(*parsed):
                    cleared += 1
                else:
                    INFO.warning("tip-clear: seed %s:%d does not exist", *parsed)
                    not_found += 1
                    success = False
        if success:
            return "ok"
        return "ERROR::%d cleared, %d not found" % (cleared, not_found)

    def alumni_reset(self, params: Dict[str, str]) -> str:
        self.node.reset_alumni()
        return "ok"

    def recluster(self, params: Dict[str, str]) -> str:
        return "ok" if self.node.request_recluster() else "ignored-by-non-principal"
