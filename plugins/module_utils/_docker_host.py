# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the docker role needs to know about a host and the daemon.json it writes. Standard library only.

``docker_host_info`` and ``docker_daemon`` are thin adapters over this file: the parsing and the decisions are pure
functions (tested with real file contents), the reads and writes are small functions taking paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import platform
import subprocess
import time

from ansible_collections.aerostack.swarm.plugins.module_utils._files import read_text as _read_text, write_atomically

# Names as Ansible's distribution facts give them, by the ID of /etc/os-release.
_DISTRIBUTIONS = {
    "debian": "Debian", "ubuntu": "Ubuntu", "fedora": "Fedora", "centos": "CentOS", "rhel": "RedHat",
    "rocky": "Rocky", "almalinux": "AlmaLinux", "amzn": "Amazon", "ol": "OracleLinux", "sles": "SLES",
    "opensuse-leap": "openSUSE Leap", "opensuse-tumbleweed": "openSUSE Tumbleweed", "arch": "Archlinux",
    "alpine": "Alpine", "raspbian": "Debian", "linuxmint": "Linux Mint",
}
# OS families as Ansible names them, by ID or an entry of ID_LIKE.
_FAMILIES = {
    "debian": "Debian", "ubuntu": "Debian", "raspbian": "Debian", "linuxmint": "Debian",
    "fedora": "RedHat", "rhel": "RedHat", "centos": "RedHat", "rocky": "RedHat", "almalinux": "RedHat",
    "amzn": "RedHat", "ol": "RedHat", "suse": "Suse", "sles": "Suse", "opensuse": "Suse",
    "opensuse-leap": "Suse", "opensuse-tumbleweed": "Suse", "arch": "Archlinux", "alpine": "Alpine",
}
DPKG_FORMAT = "${Package}\t${Version}\t${db:Status-Status}\n"


class DockerHostError(Exception):
    """A host could not be read or written; the message names the action and the cause."""


def parse_os_release(text):
    """``{KEY: value}`` of an os-release file (quotes removed, comments and blank lines skipped)."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def os_facts(os_release, debian_version=None, machine=""):
    """The distribution facts the docker role reads, named as Ansible's ``setup`` names them.

    ``os_release`` is the text of /etc/os-release, ``debian_version`` that of /etc/debian_version (Debian's point
    release, e.g. 12.8, which os-release does not give) and ``machine`` the kernel's machine name (x86_64).
    """
    values = parse_os_release(os_release)
    ident = values.get("ID", "").lower()
    version = values.get("VERSION_ID", "")
    if ident == "debian" and debian_version:
        point = debian_version.strip()
        if point[:1].isdigit():
            version = point
    family = _FAMILIES.get(ident)
    if family is None:
        for like in values.get("ID_LIKE", "").lower().split():
            if like in _FAMILIES:
                family = _FAMILIES[like]
                break
    release = values.get("VERSION_CODENAME") or values.get("UBUNTU_CODENAME") or ""
    if not release and ident == "debian" and debian_version and "/" in debian_version:
        release = debian_version.strip().split("/")[0]  # testing/unstable: "trixie/sid"
    return {
        "distribution": _DISTRIBUTIONS.get(ident, ident.capitalize() if ident else "NA"),
        "distribution_version": version or "NA",
        "distribution_major_version": (version.split(".")[0] if version else "NA"),
        "distribution_release": release or "NA",
        "os_family": family or (ident.capitalize() if ident else "NA"),
        "architecture": machine or "NA",
    }


def parse_dpkg_query(text):
    """``{package: version}`` of the installed packages in ``dpkg-query -W -f=DPKG_FORMAT`` output."""
    installed = {}
    for line in (text or "").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2] == "installed":
            installed[parts[0]] = parts[1]
    return installed


def spec_name(spec):
    return spec.split("=", 1)[0]


def missing_packages(specs, installed):
    """The ``name`` or ``name=version`` specs that are not installed, or installed at another version."""
    missing = []
    for spec in specs:
        name = spec_name(spec)
        if name not in installed:
            missing.append(spec)
        elif "=" in spec and installed[name] != spec.split("=", 1)[1]:
            missing.append(spec)
    return missing


def _run_dpkg_query(names):
    """``(rc, stdout)`` of dpkg-query for ``names``; rc None when dpkg-query is missing."""
    try:
        proc = subprocess.Popen(["dpkg-query", "-W", "-f=" + DPKG_FORMAT] + list(names),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, _err = proc.communicate()
    except (IOError, OSError):
        return None, ""
    return proc.returncode, out.decode("utf-8", "replace")


def read_host(packages, read_text=_read_text, run_dpkg=_run_dpkg_query, machine=platform.machine):
    """The docker_host_info result: the OS facts, the installed versions of ``packages`` and what is missing."""
    release = read_text("/etc/os-release") or read_text("/usr/lib/os-release")
    if release is None:
        raise DockerHostError("read the operating system failed: neither /etc/os-release nor /usr/lib/os-release "
                              "can be read")
    facts = os_facts(release, read_text("/etc/debian_version"), machine())
    names = sorted(set(spec_name(s) for s in packages) | set(["python3-apt"]))
    rc, out = run_dpkg(names)
    # dpkg-query exits 1 when some of the packages are unknown; that is an answer, not a failure.
    dpkg = rc is not None and rc in (0, 1)
    installed = parse_dpkg_query(out) if dpkg else {}
    return {
        "os": facts,
        "dpkg": dpkg,
        "packages": dict((spec_name(s), installed.get(spec_name(s))) for s in packages),
        "missing": missing_packages(packages, installed),
        "python_apt": "python3-apt" in installed,
    }


# --- daemon.json --------------------------------------------------------------------------------------------------

def render_daemon_json(config):
    """daemon.json as the role writes it: sorted keys, two-space indent, a final newline."""
    return json.dumps(config, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"


def daemon_json_differs(current_text, config):
    """Whether the file must be written: missing, not JSON, or JSON that means something else than ``config``."""
    if current_text is None:
        return True
    try:
        return json.loads(current_text) != config
    except ValueError:
        return True


def daemon_json_current(path, config, read_text=_read_text):
    """Whether ``path`` already holds ``config`` (nothing to write); read-only."""
    return not daemon_json_differs(read_text(path), config)


def engine_probe(info, error_types):
    """A probe for wait_for_engine over ``info()`` (the engine's /info), which raises one of ``error_types``."""
    def probe():
        try:
            return True, (info() or {}).get("ServerVersion"), None
        except error_types as exc:
            return False, None, str(exc)
    return probe


def write_daemon_json(path, text):
    """Write ``text`` to ``path`` atomically (root:root, 0644), creating its directory (0755) when missing."""
    directory = os.path.dirname(path) or "."
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        write_atomically(path, text.encode("utf-8"), 0o644)
    except (IOError, OSError) as exc:
        raise DockerHostError("write %s failed: %s" % (path, exc))


def wait_for_engine(probe, timeout, clock=time.monotonic, sleep=time.sleep, interval=0.25):
    """Poll ``probe()`` (returns ``(available, version, error)``) until the engine answers or ``timeout`` s pass.

    Returns ``{"available", "version", "error", "waited"}``; an engine that never answered is a DockerHostError
    naming the last error.
    """
    started = clock()
    while True:
        available, version, error = probe()
        if available:
            return {"available": True, "version": version, "error": None, "waited": round(clock() - started, 2)}
        if clock() - started >= timeout:
            raise DockerHostError("waited %ss for the Docker engine to answer: %s" % (timeout, error))
        sleep(interval)
