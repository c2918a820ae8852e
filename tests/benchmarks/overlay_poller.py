"""Poll every Aerospike task of a service from inside a container's network namespace on its overlay; print JSON lines.

    nsenter --net=/proc/<pid>/ns/net python tests/benchmarks/overlay_poller.py tasks.<stack>_aerospike [interval]

Run by the lab benchmarks (tests/benchmarks/bench_ops.py) in the network namespace of the stack's discovery task, which
stays up while the Aerospike tasks come and go. Each round resolves the name with the engine's embedded DNS
(127.0.0.11), asks every address for ``statistics`` and ``cluster-stable:size=<addresses>;ignore-migrations=false``
(one request per node, all nodes at once) with the collection's info client, and prints one line:
``{"t": <epoch seconds>, "nodes": [{"address", "size", "key", "integrity", "migrations", "stable"}]}``
(``stable`` is the cluster key a node answered, or null). It stops when its standard input closes.
"""

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import InfoClient, InfoError, is_error
from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import parse_kv
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError, lookup_a


def ask(address, size):
    view = {"address": address, "size": None, "key": None, "integrity": None, "migrations": None, "stable": None}
    stable = "cluster-stable:size=%d;ignore-migrations=false" % size
    try:
        with InfoClient(address, 3000, timeout=1.0) as client:
            reply = client.request("statistics", stable)
    except InfoError as exc:
        view["error"] = str(exc)[-200:]
        return view
    stats = parse_kv(reply.get("statistics") or "")
    view.update(size=int(stats.get("cluster_size", 0)), key=stats.get("cluster_key"),
                integrity=stats.get("cluster_integrity") == "true",
                migrations=int(stats.get("migrate_partitions_remaining", 0)),
                stable=None if is_error(reply.get(stable) or "ERROR") else reply.get(stable))
    return view


def main():
    name = sys.argv[1]
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        while not stop.is_set():
            started = time.time()
            try:
                addresses = sorted(lookup_a(name, "127.0.0.11", timeout=0.5, attempts=1))
            except DnsError:
                addresses = []
            nodes = list(pool.map(lambda a: ask(a, len(addresses)), addresses))
            sys.stdout.write(json.dumps({"t": started, "nodes": nodes}) + "\n")
            sys.stdout.flush()
            stop.wait(max(0.0, interval - (time.time() - started)))


if __name__ == "__main__":
    main()
