"""One simulated node: info servers, mesh heartbeat channels and the clustering loop (asyncio).

Everything runs on one event loop, so the state needs no locks. Once per heartbeat interval the
node sends a heartbeat on every channel, dials the seeds and the endpoints it learned from peers,
drops peers silent for interval * timeout, and (if it is the principal) forms a new cluster when
the set of nodes it can join has been stable for the settle time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Set

from . import log
from .cluster import (PARTITIONS, ClusterInfo, Migration, PeerState, candidates, migration_load,
                      new_cluster_key, next_generation, principal_of)
from .config import NodeConfig, Seed
from .netif import Addresses, derive_node_id, interface_mtu
from .wire import (MAX_INFO_BODY, PROTO_VERSION, TYPE_INFO, TYPE_MESSAGE, FramingError, decode_heartbeat,
                   decode_heartbeat_length, encode_heartbeat, encode_reply, parse_info_header, split_commands)

HB = log.get("hb")
CLUSTERING = log.get("clustering")
MIGRATE = log.get("migrate")
INFO = log.get("info")
AS = log.get("as")

# Real 8.1.2.0 timings for the default heartbeat (interval 150 ms, timeout 10), in heartbeat intervals
# so that `heartbeat { interval }` scales them: settle before a join 1.5 s, before a departure-only
# change 0.5 s, migrations blocked 0.5 s before a change, a lone node forms its own cluster after 2 s.
SETTLE_JOIN_INTERVALS = 10.0
SETTLE_DEPART_INTERVALS = 10.0 / 3
EXCHANGE_INTERVALS = 10.0 / 3
ORPHAN_INTERVALS = 40.0 / 3
# 1 -> 3 nodes moved 6827 partitions in about 2.5 s (fixture formation-timeline.txt).
MIGRATION_RATE = PARTITIONS * (1 + 2 / 3) / 2.5
# Survivors keep dialling a departed node's old address for 15-20 s (facts file).
FORGET_SECONDS = 20.0


@dataclass(frozen=True)
class Timings:
    interval: float
    timeout: float
    connect_timeout: float
    settle_join: float
    settle_depart: float
    exchange: float
    orphan_delay: float
    migration_rate: float
    forget: float

    @classmethod
    def for_config(cls, config: NodeConfig, speed: float) -> "Timings":
        interval = config.heartbeat.interval_ms / 1000.0 / speed
        return cls(
            interval=interval,
            timeout=interval * config.heartbeat.timeout,
            connect_timeout=max(0.05, config.heartbeat.connect_timeout_ms / 1000.0 / speed),
            settle_join=interval * SETTLE_JOIN_INTERVALS,
            settle_depart=interval * SETTLE_DEPART_INTERVALS,
            exchange=interval * EXCHANGE_INTERVALS,
            orphan_delay=interval * ORPHAN_INTERVALS,
            migration_rate=MIGRATION_RATE * speed,
            forget=FORGET_SECONDS / speed,
        )


class SeedState:
    """A mesh seed from the configuration or a ``tip``. Bound to one address once dialled."""

    def __init__(self, host: str, port: int, origin: str):
        self.host = host
        self.port = port
        self.origin = origin
        self.is_self = False
        self.connecting = False
        self.channel: Optional["Channel"] = None
        self.next_attempt = 0.0
        self.last_log = 0.0

    def label(self) -> str:
        return "%s:%d" % (self.host, self.port)


class Learned:
    """An endpoint learned from a peer's heartbeat (its own address or one of the nodes it hears)."""

    def __init__(self, node_id: str, now: float):
        self.node_id = node_id
        self.last_seen = now
        self.connecting = False
        self.channel: Optional["Channel"] = None
        self.next_attempt = 0.0
        self.last_log = 0.0


class Channel:
    """One heartbeat TCP connection (either direction); both ends send a heartbeat every interval."""

    def __init__(self, node: "Node", reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 outbound: bool, origin=None):
        self.node = node
        self.reader = reader
        self.writer = writer
        self.outbound = outbound
        self.origin = origin
        self.remote_id: Optional[str] = None
        self.closed = False
        peer = writer.get_extra_info("peername")
        self.peer = "%s:%s" % (peer[0], peer[1]) if peer else "?"
        node.counters["heartbeat_connections_opened"] += 1
        node.channels.add(self)
        if origin is not None:
            origin.channel = self

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing() or transport.get_write_buffer_size() > (1 << 20):
            self.close()
            return
        self.writer.write(frame)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.writer.close()
        self.node.channels.discard(self)
        self.node.counters["heartbeat_connections_closed"] += 1
        if self.origin is not None and self.origin.channel is self:
            self.origin.channel = None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class BindError(Exception):
    """A listening socket could not be opened (the server would stop at start)."""


class Node:
    def __init__(self, config: NodeConfig, addresses: Addresses, speed: float = 1.0):
        self.config = config
        self.speed = speed
        self.timings = Timings.for_config(config, speed)
        self.cluster_name = config.cluster_name or ""
        self.service_binds, service_pub = addresses.resolve(config.service.addresses, "service")
        self.hb_binds, hb_pub = addresses.resolve(config.heartbeat.addresses, "heartbeat")
        self.fabric_binds, fabric_pub = addresses.resolve(config.fabric.addresses, "fabric")
        self.admin_binds: List[str] = []
        if config.admin.port:
            self.admin_binds, _published = addresses.resolve(config.admin.addresses, "admin")
        self.published_hb = ["%s:%d" % (a, config.heartbeat.port) for a in hb_pub]
        service_hosts = config.service.access_addresses or service_pub
        self.published_service = ["%s:%d" % (a, config.service.port) for a in service_hosts]
        self.node_id = config.node_id or derive_node_id(hb_pub[0], config.fabric.port)
        self.joinable = len(self.published_hb) == 1
        iface = addresses.interface_of(hb_pub[0])
        self.mtu = config.heartbeat.mtu or (interface_mtu(iface) if iface else None) or 1500

        self.started_wall = time.time()
        self.started = time.monotonic()
        self.peers: Dict[str, PeerState] = {}
        self.cluster: Optional[ClusterInfo] = None
        self.cluster_formed_at = 0.0
        self.migrations: Dict[str, Migration] = {ns.name: Migration() for ns in config.namespaces}
        self.fresh: Dict[str, int] = {ns.name: 0 for ns in config.namespaces}
        self.rx_instances: Dict[str, int] = {ns.name: 0 for ns in config.namespaces}
        self.seeds: List[SeedState] = [SeedState(s.host, s.port, "config") for s in config.heartbeat.seeds]
        self.learned: Dict[str, Learned] = {}
        self.channels: Set[Channel] = set()
        self.alumni: Dict[str, List[str]] = {}
        self.peers_gen = 0
        self.alumni_gen = 0
        self.counters: Dict[str, int] = {k: 0 for k in (
            "client_connections", "client_connections_opened", "client_connections_closed",
            "admin_connections", "admin_connections_opened", "admin_connections_closed",
            "heartbeat_connections_opened", "heartbeat_connections_closed",
            "heartbeat_received_self", "heartbeat_received_foreign", "info_complete")}
        self._live_prev: Set[str] = set()
        self._jl_prev: frozenset = frozenset()
        self._jl_since = self.started
        self._sig = None
        self._sig_since = self.started
        self._force_recluster = False
        self._warned: Dict[str, float] = {}
        self._tasks: Set[asyncio.Task] = set()
        self._servers: List[asyncio.AbstractServer] = []
        self._info_writers: Set[asyncio.StreamWriter] = set()
        from .info import InfoCommands  # late import: info renders this node's state
        self.info = InfoCommands(self)

    # --- small helpers ------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _warn_once(self, key: str, logger, message: str, every: float = 10.0) -> None:
        now = self.now()
        if now - self._warned.get(key, -1e9) >= every:
            self._warned[key] = now
            logger.warning(message)

    def is_live(self, peer: PeerState, now: float) -> bool:
        return now - peer.last_heard <= self.timings.timeout

    def live_peers(self, now: float) -> Dict[str, PeerState]:
        return {n: p for n, p in self.peers.items() if self.is_live(p, now)}

    def joinable_live(self, now: float) -> Dict[str, PeerState]:
        if not self.joinable:
            return {}
        return {n: p for n, p in self.live_peers(now).items() if p.joinable}

    def cluster_size(self) -> int:
        return len(self.cluster.members) if self.cluster else 0

    def migrations_remaining(self, now: float) -> Dict[str, tuple]:
        return {name: m.remaining(now, self.timings.migration_rate) for name, m in self.migrations.items()}

    def exchange_pending(self, now: float) -> bool:
        """True while a cluster change is about to happen (the real server blocks migrations then)."""
        members = set(self.cluster.members) if self.cluster else set()
        jl = self.joinable_live(now)
        if principal_of(self.node_id, jl) == self.node_id:
            if self._sig is None:
                return False
            cands, mismatched = self._sig
            if cands == members and not mismatched and self.cluster and self.cluster.principal == self.node_id:
                return False
            joining = bool(cands - members) or bool(mismatched)
            settle = self.timings.settle_join if joining else self.timings.settle_depart
            return now >= self._sig_since + settle - self.timings.exchange
        view = set(jl) | {self.node_id}
        if view == members:
            return False
        settle = self.timings.settle_join if view - members else self.timings.settle_depart
        return now >= self._jl_since + settle - self.timings.exchange

    def migrate_allowed(self, now: float) -> bool:
        return self.cluster is not None and not self.exchange_pending(now)

    def member_service(self, node_id: str) -> List[str]:
        peer = self.peers.get(node_id)
        if peer is not None:
            return list(peer.service)
        return list(self.alumni.get(node_id, []))

    # --- seeds (tip / tip-clear) --------------------------------------------------------------------

    def add_seed(self, host: str, port: int) -> bool:
        if any(s.host.lower() == host.lower() and s.port == port for s in self.seeds):
            return False
        self.seeds.append(SeedState(host, port, "tip"))
        HB.info("added mesh seed %s:%d (tip)", host, port)
        return True

    def clear_seed(self, host: str, port: int) -> bool:
        for seed in self.seeds:
            if seed.host.lower() == host.lower() and seed.port == port:
                self.seeds.remove(seed)
                HB.info("removed mesh seed %s:%d (tip-clear)", seed.host, seed.port)
                return True
        return False

    def seed_list(self) -> List[Seed]:
        return [Seed(s.host, s.port) for s in self.seeds]

    def reset_alumni(self) -> None:
        members = set(self.cluster.members) - {self.node_id} if self.cluster else set()
        dropped = [n for n in self.alumni if n not in members]
        for node_id in dropped:
            del self.alumni[node_id]
        self.alumni_gen += len(dropped)
        INFO.info("services-alumni reset: dropped %d departed node(s)", len(dropped))

    def request_recluster(self) -> bool:
        if self.cluster is None or self.cluster.principal != self.node_id:
            return False
        self._force_recluster = True
        return True

    # --- heartbeats ---------------------------------------------------------------------------------

    def _heartbeat_frame(self, now: float) -> bytes:
        hears = {n: p.addrs for n, p in self.live_peers(now).items()}
        return encode_heartbeat({
            "v": 1,
            "node": self.node_id,
            "cluster_name": self.cluster_name,
            "addrs": self.published_hb,
            "service": self.published_service,
            "hears": hears,
            "cluster": self.cluster.to_wire() if self.cluster else None,
        })

    def send_heartbeats(self) -> None:
        frame = self._heartbeat_frame(self.now())
        for channel in list(self.channels):
            channel.send(frame)

    async def _read_channel(self, channel: Channel) -> None:
        try:
            while not channel.closed:
                head = await channel.reader.readexactly(4)
                body = await channel.reader.readexactly(decode_heartbeat_length(head))
                self._on_heartbeat(channel, decode_heartbeat(body))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except FramingError as exc:
            HB.warning("closing heartbeat connection from %s: %s", channel.peer, exc)
        finally:
            channel.close()

    async def _on_hb_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = Channel(self, reader, writer, outbound=False)
        channel.send(self._heartbeat_frame(self.now()))
        await self._read_channel(channel)

    def _on_heartbeat(self, channel: Channel, message: Dict) -> None:
        try:
            node_id = message["node"]
            addrs = message["addrs"]
            service = message["service"]
            hears = message["hears"]
            cluster = ClusterInfo.from_wire(message["cluster"]) if message.get("cluster") else None
            name = message["cluster_name"]
            if not (isinstance(node_id, str) and isinstance(addrs, list) and isinstance(service, list)
                    and isinstance(hears, dict) and isinstance(name, str)):
                raise ValueError("wrong field types")
            int(node_id, 16)
        except (KeyError, TypeError, ValueError) as exc:
            raise FramingError("malformed heartbeat: %s" % exc) from None
        now = self.now()
        if node_id == self.node_id:
            self.counters["heartbeat_received_self"] += 1
            origin = channel.origin
            if isinstance(origin, SeedState):
                origin.is_self = True
                HB.info("mesh seed %s is this node: not dialling it again", origin.label())
            elif isinstance(origin, Learned):
                for ep, learned in list(self.learned.items()):
                    if learned is origin:
                        del self.learned[ep]
            channel.close()
            return
        if name != self.cluster_name:
            self._warn_once("name:" + node_id, HB,
                            "ignoring heartbeat from node %s at %s: its cluster-name is '%s', ours is '%s'"
                            % (node_id, channel.peer, name, self.cluster_name))
            channel.close()
            return
        self.counters["heartbeat_received_foreign"] += 1
        channel.remote_id = node_id
        known = self.peers.get(node_id)
        if known is None or not self.is_live(known, now):
            HB.info("node %s is adjacent (heartbeat from %s, publishes %s)", node_id, channel.peer,
                    ",".join(addrs))
        if (known is not None and known.service != service and self.cluster
                and node_id in self.cluster.members):
            self.peers_gen += 1
        self.peers[node_id] = PeerState(node_id, [str(a) for a in addrs], [str(s) for s in service],
                                        {str(k): list(v) for k, v in hears.items()}, cluster, now)
        for ep in addrs:
            self._learn(str(ep), node_id, now)
        for other, eps in hears.items():
            if other != self.node_id:
                for ep in eps:
                    self._learn(str(ep), str(other), now)
        if len(addrs) > 1:
            self._warn_once("multi:" + node_id, CLUSTERING,
                            "node %s publishes %d heartbeat addresses (%s): join requests with it time out "
                            "(bind heartbeat to one interface, e.g. 'address eth0')"
                            % (node_id, len(addrs), ",".join(addrs)))
        self._maybe_adopt(node_id, now)

    def _learn(self, endpoint: str, node_id: str, now: float) -> None:
        if endpoint in self.published_hb:
            return
        learned = self.learned.get(endpoint)
        if learned is None:
            self.learned[endpoint] = Learned(node_id, now)
        else:
            learned.node_id = node_id
            learned.last_seen = now

    # --- dialling -----------------------------------------------------------------------------------

    async def _dial(self, host: str, port: int, origin) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                self.timings.connect_timeout)
        channel = Channel(self, reader, writer, outbound=True, origin=origin)
        channel.send(self._heartbeat_frame(self.now()))
        self._spawn(self._read_channel(channel))

    def _live_endpoints(self, now: float) -> Set[str]:
        return {ep for p in self.live_peers(now).values() for ep in p.addrs}

    async def _dial_seed(self, seed: SeedState) -> None:
        now = self.now()
        try:
            host = seed.host
            if not _is_ip(host):
                infos = await asyncio.get_running_loop().getaddrinfo(host, seed.port, family=socket.AF_INET,
                                                                     type=socket.SOCK_STREAM)
                host = infos[0][4][0]
            endpoint = "%s:%d" % (host, seed.port)
            if endpoint in self.published_hb:
                seed.is_self = True
                HB.info("mesh seed %s is this node: not dialling it again", seed.label())
                return
            if endpoint in self._live_endpoints(now):
                seed.next_attempt = now + self.timings.interval
                return
            await self._dial(host, seed.port, seed)
        except (OSError, asyncio.TimeoutError) as exc:
            seed.next_attempt = self.now() + self.timings.interval
            if self.now() - seed.last_log > 5.0:
                seed.last_log = self.now()
                HB.debug("could not connect to mesh seed %s: %s (retrying)", seed.label(),
                         exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__)
        finally:
            seed.connecting = False

    async def _dial_learned(self, endpoint: str, learned: Learned) -> None:
        host, _sep, port = endpoint.rpartition(":")
        try:
            await self._dial(host, int(port), learned)
        except (OSError, asyncio.TimeoutError, ValueError) as exc:
            learned.next_attempt = self.now() + self.timings.interval
            if self.now() - learned.last_log > 5.0:
                learned.last_log = self.now()
                HB.debug("could not connect to node %s at %s: %s (retrying)", learned.node_id, endpoint,
                         type(exc).__name__)
        finally:
            learned.connecting = False

    def _dial_all(self, now: float) -> None:
        for seed in self.seeds:
            if seed.is_self or seed.connecting or now < seed.next_attempt:
                continue
            if seed.channel is not None and not seed.channel.closed:
                continue
            seed.connecting = True
            self._spawn(self._dial_seed(seed))
        live = self.live_peers(now)
        for endpoint, learned in list(self.learned.items()):
            if learned.node_id in live:
                continue
            if now - learned.last_seen > self.timings.forget:
                del self.learned[endpoint]
                continue
            if learned.connecting or now < learned.next_attempt:
                continue
            if learned.channel is not None and not learned.channel.closed:
                continue
            learned.connecting = True
            self._spawn(self._dial_learned(endpoint, learned))

    # --- clustering ---------------------------------------------------------------------------------

    def _maybe_adopt(self, sender: str, now: float) -> None:
        peer = self.peers[sender]
        proposal = peer.cluster
        if proposal is None or proposal.principal != sender or self.node_id not in proposal.members:
            return
        if self.cluster is not None and proposal.key == self.cluster.key:
            return
        if not (self.joinable and peer.joinable):
            return
        if principal_of(self.node_id, self.joinable_live(now)) != sender:
            return
        if (self.cluster is not None and self.cluster.principal == sender
                and proposal.generation <= self.cluster.generation):
            return  # a stale heartbeat from another channel
        self._adopt(proposal, now)

    def _form(self, members: frozenset, now: float) -> None:
        peers = [self.peers[m] for m in members if m != self.node_id]
        prior = {p.node_id: p.cluster_key for p in peers}
        prior[self.node_id] = self.cluster.key if self.cluster else ""
        avoid = [self.cluster.key] if self.cluster else []
        cluster = ClusterInfo(new_cluster_key(avoid), next_generation(self.cluster, peers), self.node_id,
                              tuple(sorted(members, key=lambda m: int(m, 16), reverse=True)), prior)
        # The members adopt it from the next heartbeat: until then their old keys are expected, not a change.
        self._sig = (frozenset(members), frozenset())
        self._sig_since = now
        self._adopt(cluster, now)

    def _adopt(self, new: ClusterInfo, now: float) -> None:
        previous = self.cluster
        moved = []
        for ns in self.config.namespaces:
            tx, rx = migration_load(ns.replication_factor, self.node_id, previous, new)
            self.migrations[ns.name] = Migration(tx, rx, now)
            self.rx_instances[ns.name] += rx
            if previous is None and not any(new.prior.values()):
                self.fresh[ns.name] = PARTITIONS
            elif tx or rx:
                self.fresh[ns.name] = 0
            if tx or rx:
                moved.append("%s: tx %d rx %d" % (ns.name, tx, rx))
        before = set(previous.members) - {self.node_id} if previous else set()
        after = set(new.members) - {self.node_id}
        added, removed = after - before, before - after
        self.peers_gen += 2 * len(added) + len(removed)
        for node_id in after:
            if node_id not in self.alumni:
                self.alumni_gen += 2
            self.alumni[node_id] = self.member_service(node_id)
        self.cluster = new
        self.cluster_formed_at = now
        CLUSTERING.info("%s cluster: size %d key %s generation %d principal %s members %s",
                        "formed" if new.principal == self.node_id else "joined", len(new.members), new.key,
                        new.generation, new.principal, ",".join(new.members))
        if moved:
            MIGRATE.info("migrations to do: %s", "; ".join(moved))
        if new.principal == self.node_id:
            self.send_heartbeats()

    def _cluster_step(self, now: float) -> None:
        joinable = self.joinable_live(now)
        if principal_of(self.node_id, joinable) != self.node_id:
            self._sig = None
            return
        cands = candidates(self.node_id, joinable)
        mine = self.cluster.key if self.cluster else ""
        mismatched = frozenset(c for c in cands if c != self.node_id and self.peers[c].cluster_key != mine)
        signature = (cands, mismatched)
        if signature != self._sig:
            self._sig = signature
            self._sig_since = now
        if self._force_recluster:
            self._force_recluster = False
            CLUSTERING.info("recluster requested")
            self._form(cands, now)
            return
        members = set(self.cluster.members) if self.cluster else set()
        if self.cluster is None and cands == {self.node_id}:
            if self.live_peers(now):
                return  # it hears nodes it cannot (yet) join: keep waiting, as an orphan
            if now - self.started >= self.timings.orphan_delay:
                self._form(cands, now)
            return
        if (cands == members and not mismatched and self.cluster is not None
                and self.cluster.principal == self.node_id):
            return
        joining = bool(cands - members) or bool(mismatched)
        settle = self.timings.settle_join if joining else self.timings.settle_depart
        if now - self._sig_since >= settle:
            self._form(cands, now)

    def _tick(self) -> None:
        now = self.now()
        live = set(self.live_peers(now))
        for gone in self._live_prev - live:
            HB.info("node %s departed: no heartbeat for %.1f s", gone, self.timings.timeout)
            for channel in list(self.channels):
                if channel.remote_id == gone:
                    channel.close()
        self._live_prev = live
        for node_id, peer in list(self.peers.items()):
            if node_id not in live and now - peer.last_heard > self.timings.forget:
                del self.peers[node_id]
        jl = frozenset(self.joinable_live(now))
        if jl != self._jl_prev:
            self._jl_prev = jl
            self._jl_since = now
        self.send_heartbeats()
        self._dial_all(now)
        self._cluster_step(now)

    # --- info servers -------------------------------------------------------------------------------

    async def _serve_info(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str) -> None:
        self.counters[kind + "_connections"] += 1
        self.counters[kind + "_connections_opened"] += 1
        self._info_writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(8)
                version, proto_type, length = parse_info_header(header)
                if version != PROTO_VERSION or proto_type != TYPE_INFO:
                    if version == PROTO_VERSION and proto_type == TYPE_MESSAGE:
                        self._warn_once("datapath", INFO, "closing a connection that sent a data-path "
                                        "message: the simulator has no data path (no reads or writes)")
                    else:
                        INFO.debug("closing connection: bad header %s", header.hex())
                    break
                if length > MAX_INFO_BODY:
                    INFO.debug("closing connection: request of %d bytes", length)
                    break
                body = await reader.readexactly(length)
                pairs = [(command, self.info.handle(command)) for command in split_commands(body)]
                writer.write(encode_reply(pairs))
                await writer.drain()
                self.counters["info_complete"] += 1
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.counters[kind + "_connections"] -= 1
            self.counters[kind + "_connections_closed"] += 1
            self._info_writers.discard(writer)
            writer.close()

    async def _listen(self, handler, hosts: List[str], port: int, what: str) -> None:
        for host in hosts:
            try:
                server = await asyncio.start_server(handler, host, port, reuse_address=True)
            except OSError as exc:
                raise BindError("cannot listen on %s port %s:%d: %s (another process holds it, or the address "
                                "is not on this host)" % (what, host, port, exc.strerror or exc)) from None
            self._servers.append(server)

    def _info_hosts(self, binds: List[str], disable_localhost: bool) -> List[str]:
        hosts = list(binds)
        if not disable_localhost and "0.0.0.0" not in hosts and "127.0.0.1" not in hosts:
            hosts.append("127.0.0.1")
        return hosts

    async def start(self) -> None:
        config = self.config
        await self._listen(lambda r, w: self._serve_info(r, w, "client"),
                           self._info_hosts(self.service_binds, config.service.disable_localhost),
                           config.service.port, "service")
        if config.admin.port:
            await self._listen(lambda r, w: self._serve_info(r, w, "admin"),
                               self._info_hosts(self.admin_binds, config.admin.disable_localhost),
                               config.admin.port, "admin")
        await self._listen(self._on_hb_connection, self.hb_binds, config.heartbeat.port, "heartbeat")
        AS.info("node %s: service %s, heartbeat %s, admin %s, cluster-name %s, %d seed(s)",
                self.node_id, ",".join(self.published_service), ",".join(self.published_hb),
                ("%s:%d" % (",".join(self.admin_binds), config.admin.port)) if config.admin.port else "off",
                self.cluster_name, len(self.seeds))
        if not self.joinable:
            CLUSTERING.warning("this node publishes %d heartbeat addresses (%s): it will hear peers but never "
                               "complete a join (bind heartbeat to one interface, e.g. 'address eth0')",
                               len(self.published_hb), ",".join(self.published_hb))
        AS.info("service ready: answering info requests (no data path: this is the aerostack simulator)")

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.start()
            while not stop.is_set():
                self._tick()
                try:
                    await asyncio.wait_for(stop.wait(), self.timings.interval)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for channel in list(self.channels):
            channel.close()
        for writer in list(self._info_writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=0.5)
        for server in self._servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 0.5)
            except asyncio.TimeoutError:
                pass
        self._servers.clear()
