"""Command line: ``python3 -m aerospike_sim --config /etc/aerospike/aerospike.conf [overrides]``.

Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when the configuration is refused or a port
cannot be opened (one CRITICAL log line says which key/line/port and how to fix it), 2 for bad
command-line arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import List, Optional

from . import EDITION, SERVER_BUILD, __version__, log
from .config import LOG_LEVELS, ConfigError, check_address, load, validate
from .netif import Addresses, InterfaceError, parse_interface_map
from .node import BindError, Node

SPEED_ENV = "AEROSPIKE_SIM_SPEED"
MAX_SPEED = 50.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m aerospike_sim",
        description="aerostack Aerospike simulator: the info protocol and mesh heartbeats of an Aerospike CE "
                    "%s node, for tests. No data path." % SERVER_BUILD)
    parser.add_argument("--config", required=True, help="aerospike.conf, as the real server reads it")
    parser.add_argument("--address", help="bind service, heartbeat, fabric and admin to this address "
                                          "(IPv4, interface name or 'any')")
    parser.add_argument("--service-port", type=int, help="override network.service.port")
    parser.add_argument("--heartbeat-port", type=int, help="override network.heartbeat.port")
    parser.add_argument("--admin-port", type=int, help="override network.admin.port (0 disables it)")
    parser.add_argument("--fabric-port", type=int, help="override network.fabric.port (part of the node id)")
    parser.add_argument("--node-id", help="node id (1-16 hex digits); default: derived from address and "
                                          "fabric port")
    parser.add_argument("--cluster-name", help="override service.cluster-name")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help="default: the config's console level, else info")
    parser.add_argument("--speed", type=float,
                        help="run every timing this many times faster (default: $%s or 1 = real)" % SPEED_ENV)
    parser.add_argument("--interfaces", help="TEST SEAM: pretend the host's interfaces are NAME=IPV4[,...] "
                                             "(e.g. eth0=127.0.20.1,eth1=127.0.21.1)")
    parser.add_argument("--version", action="version",
                        version="aerostack-simulator %s (imitates %s %s)" % (__version__, EDITION, SERVER_BUILD))
    return parser


def _speed(args: argparse.Namespace) -> float:
    raw = args.speed
    source = "--speed"
    if raw is None:
        text = os.environ.get(SPEED_ENV, "").strip()
        if not text:
            return 1.0
        source = SPEED_ENV
        try:
            raw = float(text)
        except ValueError:
            raise ConfigError("%s=%r is not a number: set it to a factor such as 4 (or unset it)"
                              % (SPEED_ENV, text)) from None
    if not 0.1 <= raw <= MAX_SPEED:
        raise ConfigError("%s %s is out of range: use a factor from 0.1 to %g (1 = real timings)"
                          % (source, raw, MAX_SPEED))
    return raw


def _port(value: Optional[int], option: str, allow_zero: bool = False) -> Optional[int]:
    if value is None:
        return None
    if not (0 if allow_zero else 1) <= value <= 65535:
        raise ConfigError("%s %d is not a port: use 1-65535" % (option, value))
    return value


def _apply_overrides(config, args: argparse.Namespace) -> None:
    if args.address is not None:
        address = check_address(args.address, None, "--address")
        for endpoint in (config.service, config.fabric, config.admin):
            endpoint.addresses = [address]
        config.heartbeat.addresses = [address]
    if _port(args.service_port, "--service-port") is not None:
        config.service.port = args.service_port
    if _port(args.heartbeat_port, "--heartbeat-port") is not None:
        config.heartbeat.port = args.heartbeat_port
    if _port(args.admin_port, "--admin-port", allow_zero=True) is not None:
        config.admin.port = args.admin_port
    if _port(args.fabric_port, "--fabric-port") is not None:
        config.fabric.port = args.fabric_port
    if args.node_id is not None:
        text = args.node_id.strip()
        if not (1 <= len(text) <= 16 and all(c in "0123456789abcdefABCDEF" for c in text)) or int(text, 16) == 0:
            raise ConfigError("--node-id %r is not a node id: use 1 to 16 hex digits, not all zero" % args.node_id)
        config.node_id = text.upper().lstrip("0")
    if args.cluster_name is not None:
        if not args.cluster_name.strip():
            raise ConfigError("--cluster-name is empty: give the cluster a name")
        config.cluster_name = args.cluster_name


def _refuse(exc: Exception) -> int:
    if isinstance(exc, ConfigError) and exc.line is not None:
        log.get("config").critical("line %d :: %s", exc.line, exc)
    else:
        log.get("config").critical("%s", exc)
    log.get("as").critical("the simulator refuses to start (as an 8.x server would): fix the above")
    return 1


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    log.setup(args.log_level or "info")
    try:
        speed = _speed(args)
        config = load(args.config)
        if args.log_level is None and config.log_level:
            log.set_level(config.log_level)
        for warning in config.warnings:
            log.get("config").warning("%s", warning)
        _apply_overrides(config, args)
        validate(config)
        interfaces = parse_interface_map(args.interfaces) if args.interfaces else None
        node = Node(config, Addresses(interfaces), speed)
    except (ConfigError, InterfaceError) as exc:
        return _refuse(exc)
    log.get("as").info("aerostack-simulator %s imitating %s %s (a test tool: info protocol and mesh only, "
                       "no data path)%s", __version__, EDITION, SERVER_BUILD,
                       "" if speed == 1.0 else ", timings %gx faster" % speed)
    try:
        return asyncio.run(_serve(node))
    except BindError as exc:
        return _refuse(exc)


async def _serve(node: Node) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await node.run(stop)
    log.get("as").info("finished clean shutdown - exiting")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
