# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""aerostack discovery: keeps the mesh seeds of every Aerospike task equal to the tasks DNS names.

Runs as a swarm service on the Aerospike overlay network. The stack mounts this file and the
collection's own info client, mesh planner, DNS client and discovery loop (standard-library modules)
under ``/opt/aerostack/ansible_collections/aerostack/swarm/plugins/module_utils/`` and sets
PYTHONPATH=/opt/aerostack, so the imports below are the very same ones the Ansible modules use.

    python3 -u discovery.py --name tasks.aerostack_aerospike [--interval 1] [--audit-interval 30]

One log line per action (tip, tip-clear, alumni reset) and per change (DNS answer, failures and
recoveries); nothing while nothing changes.
"""

import argparse
import signal
import socket
import sys
import threading
import time

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import InfoClient
from ansible_collections.aerostack.swarm.plugins.module_utils._discovery import Discovery
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError, lookup_a, nameservers


def positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above 0, got %s" % text)
    return value


def non_negative(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, got %s" % text)
    return value


def port(text):
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number (1-65535), got %s" % text)
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Tip every Aerospike task into every other one, clear departed ones.")
    parser.add_argument("--name", required=True, help="DNS name of the tasks, e.g. tasks.aerostack_aerospike")
    parser.add_argument("--info-port", type=port, default=3000, help="info (service) port of the tasks")
    parser.add_argument("--heartbeat-port", type=port, default=3002, help="mesh heartbeat port of the tasks")
    parser.add_argument("--interval", type=positive, default=1.0, help="seconds between DNS lookups")
    parser.add_argument("--audit-interval", type=non_negative, default=30.0,
                        help="seconds between full checks of every member's seeds while DNS is unchanged (0: never)")
    parser.add_argument("--timeout", type=positive, default=2.0, help="seconds to wait for a node or the DNS server")
    parser.add_argument("--resolv-conf", default="/etc/resolv.conf", help="where the DNS servers are named")
    return parser.parse_args(argv)


def log(line):
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    sys.stdout.write("%s discovery: %s\n" % (stamp, line))
    sys.stdout.flush()


def make_resolver(resolv_conf, timeout):
    """``resolve(name) -> [address]`` asking the container's DNS servers directly ([] when no task runs)."""
    try:
        with open(resolv_conf) as handle:
            servers = nameservers(handle.read())
    except OSError:
        servers = []

    def resolve(name):
        if not servers:
            try:
                infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
            except socket.gaierror as exc:
                if exc.errno == socket.EAI_NONAME:
                    return []
                raise DnsError("DNS lookup of %s failed: %s" % (name, exc.strerror or exc))
            return sorted(set(info[4][0] for info in infos))
        errors = []
        for server in servers:
            try:
                return lookup_a(name, server, timeout=timeout, attempts=1)
            except DnsError as exc:
                errors.append(str(exc))
        raise DnsError("; ".join(errors))

    return resolve


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log("signal %d: stopping" % signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    discovery = Discovery(
        args.name,
        make_resolver(args.resolv_conf, args.timeout),
        lambda address: InfoClient(address, args.info_port, timeout=args.timeout),
        log,
        heartbeat_port=args.heartbeat_port,
        interval=args.interval,
        audit_interval=args.audit_interval,
        lookup_errors=(DnsError, OSError),
    )
    log("watching %s every %.2f s (info port %d, heartbeat port %d, audit every %s s)"
        % (args.name, args.interval, args.info_port, args.heartbeat_port, args.audit_interval or "never"))
    try:
        discovery.run(stop.is_set, stop.wait)
    finally:
        discovery.close()
    log("stopped after %d round(s), %d action(s), %d failed"
        % (discovery.rounds, discovery.actions, discovery.failed_actions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
