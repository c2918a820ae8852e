"""The discovery program itself (roles/aerospike/files/discovery.py), run as a process over real sockets.

It resolves its name through a DNS server it finds in a resolv.conf, and speaks the info protocol to
members on loopback addresses: the same code path as inside the swarm, only the addresses differ.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[4]
PROGRAM = REPO / "roles" / "aerospike" / "files" / "discovery.py"
COLLECTIONS = REPO / ".cache" / "collections"
NAME = "tasks.unit_aerospike"
DNS_HOST = "127.0.83.53"


def wait_until(condition, what, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("waited %.0f s for %s" % (timeout, what))


def start(resolv_conf, port, *extra):
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    return subprocess.Popen(
        [sys.executable, "-u", str(PROGRAM), "--name", NAME, "--info-port", str(port), "--interval", "0.1",
         "--resolv-conf", str(resolv_conf), "--timeout", "1"] + list(extra),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)


def test_bad_arguments_are_refused_with_the_reason():
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    done = subprocess.run([sys.executable, str(PROGRAM), "--name", NAME, "--interval", "0"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert "argument --interval: must be above 0, got 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_program_meshes_new_tasks_clears_departed_ones_and_stops_on_sigterm(tmp_path, fakes):
    FakeMember, InfoServer, DnsServer = fakes.FakeMember, fakes.InfoServer, fakes.DnsServer
    members = dict((ip, FakeMember(ip)) for ip in ("127.0.83.2", "127.0.83.3", "127.0.83.4"))
    first = InfoServer(members["127.0.83.2"], "127.0.83.2", 0)
    port = first.port
    servers = [first] + [InfoServer(members[ip], ip, port) for ip in ("127.0.83.3", "127.0.83.4")]
    dns_addresses = list(members)
    try:
        dns = DnsServer(DNS_HOST, NAME, dns_addresses)
    except PermissionError:
        pytest.skip("binding a DNS server on %s:53 needs root" % DNS_HOST)
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search example\nnameserver %s\noptions ndots:0\n" % DNS_HOST)
    process = start(resolv, port)
    try:
        def meshed():
            return all(sorted(m.seeds) == sorted("%s:3002" % o for o in dns_addresses if o != ip)
                       for ip, m in members.items() if ip in dns_addresses)

        wait_until(meshed, "the 3 members to hold each other as seeds")
        new = FakeMember("127.0.83.5")
        members[new.address] = new
        servers.append(InfoServer(new, new.address, port))
        dns_addresses.append(new.address)
        wait_until(meshed, "the new member to be tipped both ways")
        dns_addresses.remove("127.0.83.3")
        wait_until(lambda: all("127.0.83.3:3002" not in m.seeds for m in members.values()),
                   "the departed member's seed to be cleared everywhere")
        requests = sum(m.requests for m in members.values())
        queries = dns.queries
        wait_until(lambda: dns.queries >= queries + 5, "five more DNS lookups")
        assert sum(m.requests for m in members.values()) == requests  # quiet while nothing changes
    finally:
        process.send_signal(signal.SIGTERM)
        out = process.communicate(timeout=15)[0]
        for server in servers:
            server.close()
        dns.close()
    assert process.returncode == 0, out
    lines = out.splitlines()
    assert "discovery: watching tasks.unit_aerospike every 0.10 s" in lines[0]
    assert any(line.endswith("discovery: tip 127.0.83.5:3002 into 127.0.83.2: ok") for line in lines)
    assert any(line.endswith("discovery: tip-clear 127.0.83.3:3002 from 127.0.83.4: ok") for line in lines)
    assert not [line for line in lines if " failed:" in line or "failed (" in line]
    assert lines[-1].endswith("action(s), 0 failed")
    assert "signal 15: stopping" in lines[-2]
    assert "Traceback" not in out


def test_program_survives_a_failing_dns_server_and_recovers(tmp_path, fakes):
    FakeMember, InfoServer, DnsServer = fakes.FakeMember, fakes.InfoServer, fakes.DnsServer
    member = FakeMember("127.0.83.12")
    server = InfoServer(member, member.address, 0)
    try:
        dns = DnsServer(DNS_HOST, NAME, [member.address])
    except PermissionError:
        server.close()
        pytest.skip("binding a DNS server on %s:53 needs root" % DNS_HOST)
    dns.servfail = True
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % DNS_HOST)
    process = start(resolv, server.port)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("retrying with backoff" in line for line in lines), "the DNS failure to be logged")
        wait_until(lambda: dns.queries >= 3, "two more lookups after the failure (backoff 1 s, 2 s)")
        assert process.poll() is None, "the program exited on a DNS failure"
        dns.servfail = False
        wait_until(lambda: any("answers again" in line for line in lines), "the recovery to be logged")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        reader.join(5)
        server.close()
        dns.close()
    assert process.returncode == 0
    assert sum("failed: DNS lookup" in line for line in lines) == 1, lines
    assert not [line for line in lines if "Traceback" in line]
