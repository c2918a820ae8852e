"""The lab: N Debian hosts as containers on one bridge, reachable over SSH, each with its own docker engine.

Everything the lab creates carries the label ``org.aerostack.lab=<name>``; ``down`` removes exactly what carries
it. The shape (host count, flavour) is stored on the lab network's labels, so any process can attach to a lab
that is up with :meth:`Lab.existing`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from ipaddress import IPv4Network, ip_network
from pathlib import Path
from typing import Callable, Sequence

from . import health, inventory, net
from .engine import Engine, Result
from .errors import LabError
from .images import ImageBuilder
from .progress import Progress
from .recipes import FLAVOURS, RECIPE_LABEL, recipes

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_NAME = "aerostack-lab"
DEFAULT_HOSTS = 5
DEFAULT_FLAVOUR = "docker"
READY_TIMEOUT = 180.0

LABEL = "org.aerostack.lab"
#: Settings written next to a lab's generated inventory (scripts/demo: the demo's choices for the ``swarm`` group),
#: relative to the inventory's directory; ``down`` removes them with the inventory.
GENERATED_VARS = Path("group_vars") / "swarm" / "demo.yml"
LABEL_HOST = "org.aerostack.lab.host"
LABEL_INDEX = "org.aerostack.lab.index"
LABEL_HOSTS = "org.aerostack.lab.hosts"
LABEL_FLAVOUR = "org.aerostack.lab.flavour"

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,39}$")

# --privileged fails on this kind of machine (the kernel's capability bounding set lacks CAP_SYS_RESOURCE):
# every other capability, no seccomp/AppArmor filter, unmasked /proc and /sys, and all devices instead.
HOST_SECURITY = (
    "--cap-add", "ALL",
    "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
    "--device-cgroup-rule", "a *:* rwm",
)  # fmt: skip


@dataclass(frozen=True)
class Host:
    """One lab host: its inventory name (``lab1``), its container (``<lab>-1``) and its address on the bridge."""

    name: str
    container: str
    address: str
    index: int


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise LabError(
            f"lab name {name!r} is not usable",
            fix="use 1-40 characters: lower-case letters, digits, '.' and '-', starting with a letter or digit",
        )
    return name


def check_flavour(flavour: str) -> str:
    if flavour not in FLAVOURS:
        raise LabError(f"flavour {flavour!r} is unknown", fix=f"choose one of: {', '.join(FLAVOURS)}")
    return flavour


def container_name(lab: str, index: int) -> str:
    return f"{lab}-{index}"


def volume_name(lab: str, index: int) -> str:
    return f"{lab}-{index}-var-lib-docker"


def run_argv(lab: str, flavour: str, host: Host, image: str, recipe: str) -> list[str]:
    """The ``docker run`` arguments of one lab host (a pure function, so the flags are reviewable and tested)."""
    argv = [
        "run", "--detach",
        "--name", host.container,
        "--hostname", host.name,
        "--network", lab,
        "--ip", host.address,
        "--network-alias", host.name,
        "--label", f"{LABEL}={lab}",
        "--label", f"{LABEL_HOST}={host.name}",
        "--label", f"{LABEL_INDEX}={host.index}",
        "--label", f"{LABEL_FLAVOUR}={flavour}",
        "--label", f"{RECIPE_LABEL}={recipe}",
        *HOST_SECURITY,
        "--tmpfs", "/run",
        "--tmpfs", "/tmp",
        "--volume", f"{volume_name(lab, host.index)}:/var/lib/docker",
        "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=2",
    ]  # fmt: skip
    if flavour == "systemd":
        # systemd is PID 1 and stops on SIGRTMIN+3 (docker import cannot set STOPSIGNAL, so it is set here).
        argv += ["--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3"]
    else:
        # docker-init reaps the orphans of SSH sessions; dockerd does not.
        argv += ["--init"]
    return argv + [image]


def compare_shape(name: str, have: dict, want: dict) -> None:
    """LabError when a lab that exists differs from the one asked for. ``have``/``want``: hosts, flavour, subnet
    (``want['subnet']`` is None when the caller did not ask for one)."""
    diffs = []
    if have["hosts"] != want["hosts"]:
        diffs.append(f"{have['hosts']} hosts, not {want['hosts']}")
    if have["flavour"] != want["flavour"]:
        diffs.append(f"flavour {have['flavour']}, not {want['flavour']}")
    if want.get("subnet") is not None and str(have["subnet"]) != str(want["subnet"]):
        diffs.append(f"subnet {have['subnet']}, not {want['subnet']}")
    if diffs:
        raise LabError(
            f"lab {name} is already up with a different shape: " + "; ".join(diffs),
            fix=f"take it down first: scripts/lab down --name {name}",
        )


class Lab:
    """A lab named ``name``: ``hosts`` containers of ``flavour`` (docker | systemd) on the bridge ``name``.

    The CLI and the tests use the same methods. Every failure is a LabError whose message names the fix.
    """

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        hosts: int = DEFAULT_HOSTS,
        flavour: str = DEFAULT_FLAVOUR,
        subnet: str | None = None,
        root: str | Path | None = None,
        engine: Engine | None = None,
        progress: Progress | None = None,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.name = check_name(name)
        self.flavour = check_flavour(flavour)
        self.count = int(hosts)
        self._requested_subnet = net.parse_subnet(subnet) if subnet else None
        if self._requested_subnet is not None:
            net.check_hosts(self.count, self._requested_subnet)
        elif not 1 <= self.count <= net.MAX_HOSTS:
            raise LabError(f"--hosts {self.count} is out of range", fix=f"choose between 1 and {net.MAX_HOSTS} hosts")
        self._subnet: IPv4Network | None = self._requested_subnet
        self.root = Path(root).resolve() if root else REPO_ROOT
        self.engine = engine or Engine()
        self.progress = progress or Progress()
        self.ready_timeout = ready_timeout
        self.state_dir = self.root / ".lab" / self.name
        self.key_path = self.state_dir / "id_ed25519"
        self.cache_dir = self.root / ".cache" / "lab"

    # -- identity --------------------------------------------------------------------------------------------------

    @classmethod
    def existing(cls, name: str = DEFAULT_NAME, **kwargs) -> "Lab":
        """The lab ``name`` as it is up now (shape read from its network); LabError when it is not up."""
        probe = cls(name=name, hosts=1, **kwargs)
        shape = probe._network_shape()
        if shape is None:
            raise LabError(f"lab {name} is not up (no network {name})", fix=f"start it: scripts/lab up --name {name}")
        lab = cls(name=name, hosts=shape["hosts"], flavour=shape["flavour"], **kwargs)
        lab._subnet = shape["subnet"]
        return lab

    @property
    def inventory_path(self) -> Path:
        """The inventory to hand to Ansible: inventories/lab/hosts.yml for the default lab, else .lab/<name>/."""
        if self.name == DEFAULT_NAME:
            return self.root / "inventories" / "lab" / "hosts.yml"
        return self.state_dir / "hosts.yml"

    @property
    def subnet(self) -> IPv4Network:
        if self._subnet is None:
            shape = self._network_shape()
            if shape is None:
                raise LabError(
                    f"lab {self.name} is not up, so it has no subnet yet", fix=f"scripts/lab up --name {self.name}"
                )
            self._subnet = shape["subnet"]
        return self._subnet

    @property
    def hosts(self) -> list[Host]:
        return [
            Host(f"lab{i}", container_name(self.name, i), net.host_address(self.subnet, i), i)
            for i in range(1, self.count + 1)
        ]

    def host(self, which: str | int | Host) -> Host:
        """A host by inventory name (``lab2``), container name, index (2) or Host; LabError when unknown."""
        if isinstance(which, Host):
            return which
        for host in self.hosts:
            if which in (host.name, host.container, host.index, str(host.index)):
                return host
        names = ", ".join(h.name for h in self.hosts)
        raise LabError(f"lab {self.name} has no host {which!r}", fix=f"use one of: {names}")

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def up(self) -> dict:
        """Create (or converge) the lab and wait until every host is ready. Returns a summary."""
        started = time.monotonic()
        self.engine.check()
        _need_tool("ssh", "apt-get install -y openssh-client")
        _need_tool("ssh-keygen", "apt-get install -y openssh-client")
        shape = self._network_shape()
        containers = self._containers()
        if shape is None and containers:
            raise LabError(
                f"lab {self.name} is half-gone: {len(containers)} container(s) but no network {self.name}",
                fix=f"clean it up first: scripts/lab down --name {self.name}",
            )
        want = {"hosts": self.count, "flavour": self.flavour, "subnet": self._requested_subnet}
        if shape is not None:
            compare_shape(self.name, shape, want)
            self._subnet = shape["subnet"]
        extra = sorted(c["index"] for c in containers.values() if c["index"] > self.count or c["index"] < 1)
        if extra:
            raise LabError(
                f"lab {self.name} has containers outside its shape (indexes {extra})",
                fix=f"scripts/lab down --name {self.name}",
            )
        image = recipes()[self.flavour].image
        actions: dict[str, str] = {}
        missing = [h for h in self._planned_hosts() if h.index not in {c["index"] for c in containers.values()}]
        if missing:
            ImageBuilder(self.engine, self.cache_dir, self.progress).ensure(self.flavour)
        recipe = self.engine.image_label(image, RECIPE_LABEL) or ""
        if shape is None:
            self._create_network()
        self._ensure_key()
        for host in self.hosts:
            existing = containers.get(host.index)
            if existing is None:
                self._create_host(host, image, recipe)
                actions[host.name] = "created"
            elif existing["state"] == "paused":
                self.engine.run(["unpause", host.container], what=f"unpausing {host.container}")
                actions[host.name] = "unpaused"
            elif existing["state"] != "running":
                self.engine.run(["start", host.container], what=f"starting {host.container}")
                actions[host.name] = f"started (was {existing['state']})"
            elif existing["recipe"] != recipe:
                self.progress.say(
                    f"{host.name} runs an older {image} than the current recipe; "
                    f"`scripts/lab down --name {self.name}` then `up` to use the new one"
                )
        self._parallel(self._authorize_key, self.hosts)
        self.wait_ready()
        self._write_inventory()
        elapsed = time.monotonic() - started
        what = f"{self.count} {self.flavour} host{'s' if self.count > 1 else ''} on {self.subnet}"
        if actions:
            by_action: dict[str, list[str]] = {}
            for host_name, action in actions.items():
                by_action.setdefault(action, []).append(host_name)
            done = "; ".join(f"{action}: {' '.join(names)}" for action, names in by_action.items())
            self.progress.say(f"lab {self.name} is up: {what} ({done}) in {elapsed:.1f} s")
        else:
            self.progress.say(f"lab {self.name} was already up with the same shape ({what}): nothing changed")
        self.progress.say(f"inventory: {self.inventory_path}")
        return {"name": self.name, "changed": bool(actions), "actions": actions, "seconds": elapsed,
                "inventory": str(self.inventory_path)}  # fmt: skip

    def down(self) -> dict:
        """Remove the lab's containers, volumes, network, inventory and state directory. Idempotent."""
        self.engine.check()
        removed: dict[str, list[str]] = {"containers": [], "volumes": [], "networks": [], "files": []}
        containers = self.engine.ids("container", f"{LABEL}={self.name}")
        # One call per object, in parallel: removing a host's inner engine state takes seconds, mostly waiting.
        if containers:
            names = [c["Name"].lstrip("/") for c in self.engine.inspect("container", containers)]
            self._parallel(
                lambda ident: self.engine.run(
                    ["rm", "--force", "--volumes", ident], what=f"removing container {ident[:12]}"
                ),
                containers,
            )
            removed["containers"] = sorted(names)
        volumes = self.engine.ids("volume", f"{LABEL}={self.name}")
        if volumes:
            self._parallel(
                lambda volume: self.engine.run(["volume", "rm", "--force", volume], what=f"removing volume {volume}"),
                volumes,
            )
            removed["volumes"] = sorted(volumes)
        for network in self.engine.inspect("network", [self.name]):
            if (network.get("Labels") or {}).get(LABEL) != self.name:
                self.progress.say(f"left network {self.name} alone: it is not a lab network")
                continue
            self.engine.run(["network", "rm", network["Id"]], what=f"removing network {self.name}")
            removed["networks"].append(self.name)
        targets = [self.state_dir]
        if self.name == DEFAULT_NAME:
            targets += [self.inventory_path, self.inventory_path.parent / GENERATED_VARS]
        for path in targets:
            if path.is_dir():
                shutil.rmtree(path)
                removed["files"].append(str(path))
            elif path.exists():
                path.unlink()
                removed["files"].append(str(path))
                if path.parent.name == GENERATED_VARS.parent.name and not any(path.parent.iterdir()):
                    path.parent.rmdir()  # group_vars/swarm/, made for the generated settings alone
        if any(removed.values()):
            self.progress.say(
                f"lab {self.name} removed: {len(removed['containers'])} containers, {len(removed['volumes'])} volumes, "
                f"{len(removed['networks'])} network, {len(removed['files'])} generated files"
            )
        else:
            self.progress.say(f"lab {self.name}: nothing to remove")
        return removed

    # -- hosts -----------------------------------------------------------------------------------------------------

    def exec(
        self,
        host: str | int | Host,
        argv: Sequence[str],
        input: bytes | str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str, str]:
        """Run ``argv`` in a host (``docker exec``, as root); returns (rc, stdout, stderr)."""
        target = self.host(host)
        if not argv:
            raise LabError("exec needs a command", fix="e.g. scripts/lab exec lab1 -- docker info")
        result = self.engine.run(
            ["exec", *(["-i"] if input is not None else []), target.container, *argv], input=input, check=False,
            timeout=timeout,
        )  # fmt: skip
        return result.rc, result.stdout, result.stderr

    def ssh_argv(self, host: str | int | Host, command: Sequence[str] = ()) -> list[str]:
        """The ssh command line that logs into a host with the lab key (what Ansible does)."""
        target = self.host(host)
        if not self.key_path.exists():
            raise LabError(f"the lab key {self.key_path} is missing", fix=f"scripts/lab up --name {self.name}")
        return ["ssh", "-i", str(self.key_path), "-o", "BatchMode=yes", *inventory.SSH_COMMON_ARGS.split(),
                f"root@{target.address}", *command]  # fmt: skip

    def kill(self, host: str | int | Host) -> None:
        """SIGKILL a host's container (a crash: nothing inside gets to clean up)."""
        target = self.host(host)
        self.engine.run(["kill", "--signal", "KILL", target.container], what=f"killing {target.container}")

    def start(self, host: str | int | Host, wait: bool = True) -> None:
        """Start a stopped host again and (by default) wait until it is ready."""
        target = self.host(host)
        self.engine.run(["start", target.container], what=f"starting {target.container}")
        if wait:
            self.wait_ready([target])

    def pause(self, host: str | int | Host) -> None:
        """Freeze every process of a host (``docker pause``): it stops answering but keeps its state and sockets."""
        target = self.host(host)
        self.engine.run(["pause", target.container], what=f"pausing {target.container}")

    def unpause(self, host: str | int | Host) -> None:
        """Let a paused host run again."""
        target = self.host(host)
        self.engine.run(["unpause", target.container], what=f"unpausing {target.container}")

    def disconnect(self, host: str | int | Host) -> None:
        """Cut a host off the lab network (a partition); it keeps running."""
        target = self.host(host)
        self.engine.run(["network", "disconnect", self.name, target.container], what=f"disconnecting {target.name}")

    def connect(self, host: str | int | Host) -> None:
        """Reattach a host to the lab network at its fixed address."""
        target = self.host(host)
        self.engine.run(
            ["network", "connect", "--ip", target.address, "--alias", target.name, self.name, target.container],
            what=f"connecting {target.name}",
        )

    def load(self, images: Sequence[str]) -> dict[str, dict[str, str]]:
        """Copy images from the outer engine into every running host with a docker engine, in parallel.

        A host that already has the same image ID is skipped. Returns ``{image: {host: 'loaded' | 'present'}}``.
        """
        if not images:
            raise LabError("load needs at least one image", fix="e.g. scripts/lab load aerostack-lab/base:bookworm")
        self.engine.check()
        wanted = {}
        for image in images:
            image_id = self.engine.image_id(image)
            if image_id is None:
                raise LabError(
                    f"image {image} is not on the outer Docker engine, so it cannot be loaded into the lab",
                    fix=f"build or import it first; `docker images {image.split(':')[0]}` lists what is there",
                )
            wanted[image] = image_id
        states = self._host_states()
        targets = [h for h in self.hosts if states[h.name]["docker"] == "ready"]
        if not targets:
            raise LabError(
                f"lab {self.name} has no running host with a docker engine to load into",
                fix=f"scripts/lab up --name {self.name} (and check `scripts/lab status --name {self.name}`)",
            )
        for host in self.hosts:
            if host not in targets:
                self.progress.say(
                    f"skipping {host.name}: {states[host.name]['state']}, docker {states[host.name]['docker']}"
                )
        report: dict[str, dict[str, str]] = {}
        tmp_dir = self.cache_dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        for image, image_id in wanted.items():
            have = dict(
                zip([h.name for h in targets], self._parallel(lambda h: self._inner_image_id(h, image), targets))
            )
            need = [h for h in targets if have[h.name] != image_id]
            report[image] = {h.name: "present" for h in targets if h not in need}
            if not need:
                self.progress.say(f"{image} ({image_id[7:19]}) is already on every host")
                continue
            with self.progress.step(f"Loading {image} ({image_id[7:19]}) into {', '.join(h.name for h in need)}"):
                fd, archive = tempfile.mkstemp(prefix="load-", suffix=".tar", dir=tmp_dir)
                os.close(fd)
                try:
                    self.engine.run(["save", "--output", archive, image], what=f"docker save {image}")
                    self._parallel(lambda h: self._load_archive(h, archive, image, image_id), need)
                finally:
                    os.unlink(archive)
            report[image].update({h.name: "loaded" for h in need})
        return report

    # -- readiness -------------------------------------------------------------------------------------------------

    def wait_ready(self, hosts: Sequence[Host] | None = None, timeout: float | None = None) -> None:
        """Wait until each host runs, answers SSH with the lab key and (docker flavour) its engine answers."""
        targets = list(hosts or self.hosts)
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        with self.progress.step(f"Waiting for {', '.join(h.name for h in targets)} (sshd, {self._ready_what()})"):
            self._parallel(lambda h: self._wait_host(h, deadline), targets)

    def _ready_what(self) -> str:
        return "inner docker info" if self.flavour == "docker" else "systemctl is-system-running"

    def _wait_host(self, host: Host, deadline: float) -> None:
        checks: list[tuple[str, Callable[[], str | None]]] = [
            ("the container to run", lambda: self._check_running(host)),
            (f"{self._ready_what()} to answer", lambda: self._check_inside(host)),
            (f"sshd on {host.address}:22 to answer", lambda: _check_ssh_banner(host.address)),
            ("an SSH login with the lab key", lambda: self._check_ssh_login(host)),
        ]
        for what, check in checks:
            problem = check()
            while problem is not None:
                if time.monotonic() > deadline:
                    raise LabError(
                        f"{host.name} ({host.container}) was not ready in time: waiting for {what}; last answer: {problem}",
                        fix=f"look at `docker logs {host.container}` and `scripts/lab status --name {self.name}`",
                    )
                time.sleep(0.2)
                problem = check()

    def _check_running(self, host: Host) -> str | None:
        result = self.engine.run(
            ["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", host.container], check=False
        )
        if not result.ok:
            return result.brief()
        status, code = result.stdout.split()
        if status == "running":
            return None
        if status in ("exited", "dead"):
            logs = self.engine.run(["logs", "--tail", "8", host.container], check=False)
            tail = (logs.stdout + logs.stderr).strip().splitlines()[-8:]
            raise LabError(
                f"{host.container} stopped (exit code {code}); its last log lines:\n    " + "\n    ".join(tail),
                fix=f"scripts/lab down --name {self.name} && scripts/lab up --name {self.name}",
            )
        return status

    def _check_inside(self, host: Host) -> str | None:
        if self.flavour == "docker":
            result = self.engine.run(
                ["exec", host.container, "docker", "info", "--format", "{{.ServerVersion}}"], check=False
            )
            return None if result.ok and result.stdout.strip() else result.brief()
        result = self.engine.run(["exec", host.container, "systemctl", "is-system-running"], check=False)
        state = result.stdout.strip()
        if state in ("running", "degraded"):
            return None
        return state or result.brief()

    def _check_ssh_login(self, host: Host) -> str | None:
        argv = self.ssh_argv(host, ["true"])
        argv[1:1] = ["-o", "ConnectTimeout=3"]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=15, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return "ssh timed out"
        if proc.returncode == 0:
            return None
        return proc.stderr.decode(errors="replace").strip() or f"ssh exit status {proc.returncode}"

    # -- status ----------------------------------------------------------------------------------------------------

    def status(self) -> dict:
        """The lab as it is: network, hosts (state, inner docker, swarm role) and problems found."""
        self.engine.check()
        shape = self._network_shape()
        containers = self._containers()
        report: dict = {
            "name": self.name,
            "up": shape is not None,
            "network": self.name if shape else None,
            "subnet": str(shape["subnet"]) if shape else None,
            "flavour": shape["flavour"] if shape else None,
            "inventory": str(self.inventory_path) if self.inventory_path.exists() else None,
            "hosts": [],
            "problems": [],
        }
        if shape is None and not containers:
            return report
        if shape is None:
            report["problems"].append(f"{len(containers)} container(s) without the network: run scripts/lab down")
            return report
        self._subnet = shape["subnet"]
        self.count, self.flavour = shape["hosts"], shape["flavour"]
        states = self._host_states(containers)
        for host in self.hosts:
            row = {"host": host.name, "container": host.container, "address": host.address, **states[host.name]}
            report["hosts"].append(row)
            if row["state"] == "missing":
                report["problems"].append(
                    f"{host.name}: container {host.container} is missing (scripts/lab up repairs it)"
                )
            if row["swarm"].startswith("error"):
                report["problems"].append(f"{host.name}: swarm {row['swarm']}")
        managers = [h for h in self.hosts if states[h.name]["swarm"] == "active/manager"]
        if managers:
            try:
                for stuck in self.stuck_tasks(managers[0]):
                    report["problems"].append(stuck.describe() + "; fix: " + health.DEADLOCK_FIX.format(name=self.name))
            except LabError as exc:
                report["problems"].append(f"could not list the swarm's tasks on {managers[0].name}: {exc.message}")
        return report

    def stuck_tasks(self, manager: str | int | Host, threshold: float = health.STUCK_AFTER) -> list[health.StuckTask]:
        """Tasks stuck in 'assigned' (the engine's overlay deadlock), as a manager host sees them."""
        host = self.host(manager)
        rc, out, err = self.exec(host, ["docker", "service", "ls", "--format", "{{.ID}} {{.Name}}"])
        if rc != 0:
            raise LabError(f"docker service ls on {host.name} failed: {err.strip()}")
        services = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
        if not services:
            return []
        rc, out, err = self.exec(host, ["docker", "service", "ps", "--quiet", "--no-trunc", *services])
        if rc != 0:
            raise LabError(f"docker service ps on {host.name} failed: {err.strip()}")
        task_ids = sorted(set(out.split()))
        if not task_ids:
            return []
        rc, out, err = self.exec(host, ["docker", "inspect", "--type", "task", *task_ids])
        if rc != 0:
            raise LabError(f"docker inspect of the tasks on {host.name} failed: {err.strip()}")
        tasks = json.loads(out)
        rc, out, _err = self.exec(host, ["docker", "node", "ls", "--format", "{{.ID}} {{.Hostname}}"])
        nodes = dict(line.split(" ", 1) for line in out.splitlines() if " " in line) if rc == 0 else {}
        return health.stuck_tasks(tasks, datetime.now(timezone.utc), services, nodes, threshold)

    def _host_states(self, containers: dict | None = None) -> dict[str, dict]:
        containers = self._containers() if containers is None else containers

        def probe(host: Host) -> dict:
            found = containers.get(host.index)
            if found is None:
                return {"state": "missing", "docker": "-", "swarm": "-"}
            if found["state"] != "running":
                return {"state": found["state"], "docker": "-", "swarm": "-"}
            result = self.engine.run(
                ["exec", host.container, "sh", "-c",
                 'command -v docker >/dev/null || { echo not-installed; exit 0; }; docker info --format "{{json .Swarm}}"'],
                check=False, timeout=30,
            )  # fmt: skip
            text = result.stdout.strip()
            if text == "not-installed":
                return {"state": "running", "docker": "not installed", "swarm": "-"}
            if not result.ok or not text.startswith("{"):
                return {"state": "running", "docker": "not ready", "swarm": "-"}
            return {"state": "running", "docker": "ready", "swarm": health.parse_swarm_info(text).describe()}

        return dict(zip([h.name for h in self.hosts], self._parallel(probe, self.hosts)))

    # -- internals -------------------------------------------------------------------------------------------------

    def _planned_hosts(self) -> list[Host]:
        if self._subnet is None:
            return [Host(f"lab{i}", container_name(self.name, i), "", i) for i in range(1, self.count + 1)]
        return self.hosts

    def _network_shape(self) -> dict | None:
        """The shape stored on the lab network, or None when there is no such network."""
        found = self.engine.inspect("network", [self.name])
        if not found:
            return None
        network = found[0]
        labels = network.get("Labels") or {}
        if labels.get(LABEL) != self.name:
            raise LabError(
                f"a Docker network named {self.name} exists but was not made by the lab",
                fix="choose another lab name with --name, or remove that network if it is unused",
            )
        configs = (network.get("IPAM") or {}).get("Config") or []
        return {
            "hosts": int(labels.get(LABEL_HOSTS, "0")),
            "flavour": labels.get(LABEL_FLAVOUR, ""),
            "subnet": ip_network(configs[0]["Subnet"]) if configs else None,
        }

    def _containers(self) -> dict[int, dict]:
        """The lab's containers by host index: name, state and the recipe hash of the image they run."""
        ids = self.engine.ids("container", f"{LABEL}={self.name}")
        found = {}
        for info in self.engine.inspect("container", ids) if ids else []:
            labels = info["Config"].get("Labels") or {}
            index = int(labels.get(LABEL_INDEX, "0"))
            found[index] = {
                "index": index,
                "name": info["Name"].lstrip("/"),
                "state": info["State"]["Status"],
                "recipe": labels.get(RECIPE_LABEL, ""),
            }
        return found

    def _create_network(self) -> None:
        tried: list[str] = []
        for _attempt in range(5):
            if self._requested_subnet is not None:
                subnet = self._requested_subnet
            else:
                subnet = net.choose_subnet(self.name, DEFAULT_NAME, self._taken_subnets() + tried)
            net.check_hosts(self.count, subnet)
            result = self.engine.run(
                ["network", "create", "--driver", "bridge", "--subnet", str(subnet), "--gateway", net.gateway(subnet),
                 "--label", f"{LABEL}={self.name}", "--label", f"{LABEL_HOSTS}={self.count}",
                 "--label", f"{LABEL_FLAVOUR}={self.flavour}", self.name],
                check=False,
            )  # fmt: skip
            if result.ok:
                self._subnet = subnet
                self.progress.say(f"created network {self.name} ({subnet})")
                return
            if "overlap" not in result.stderr or self._requested_subnet is not None:
                fix = "pick another --subnet" if "overlap" in result.stderr else None
                raise LabError(f"creating network {self.name} ({subnet}) failed: {result.brief()}", fix=fix)
            tried.append(str(subnet))  # another network took it in the meantime: try the next one
        raise LabError(f"could not find a free subnet for network {self.name}", fix="pass --subnet")

    def _taken_subnets(self) -> list[str]:
        ids = self.engine.run(["network", "ls", "-q"]).stdout.split()
        subnets = []
        for network in self.engine.inspect("network", ids) if ids else []:
            for config in (network.get("IPAM") or {}).get("Config") or []:
                if config.get("Subnet"):
                    subnets.append(config["Subnet"])
        return subnets

    def _create_host(self, host: Host, image: str, recipe: str) -> None:
        volume = volume_name(self.name, host.index)
        self.engine.run(
            ["volume", "create", "--label", f"{LABEL}={self.name}", "--label", f"{LABEL_HOST}={host.name}", volume],
            what=f"creating volume {volume}",
        )
        self.engine.run(run_argv(self.name, self.flavour, host, image, recipe), what=f"starting {host.container}")

    def _ensure_key(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.key_path.exists() and self.key_path.with_suffix(".pub").exists():
            return
        for path in (self.key_path, self.key_path.with_suffix(".pub")):
            path.unlink(missing_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"aerostack-lab {self.name}", "-f", str(self.key_path)],
            check=True, capture_output=True,
        )  # fmt: skip

    def _authorize_key(self, host: Host) -> None:
        public = self.key_path.with_suffix(".pub").read_text()
        deadline = time.monotonic() + self.ready_timeout
        while True:
            result = self.engine.run(
                ["exec", "-i", host.container, "sh", "-c",
                 "umask 077 && mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys"],
                input=public, check=False,
            )  # fmt: skip
            if result.ok:
                return
            if self._check_running(host) is None and "is not running" not in result.stderr:
                raise LabError(f"authorizing the lab key on {host.name} failed: {result.brief()}")
            if time.monotonic() > deadline:
                raise LabError(f"{host.container} did not start running in time: {result.brief()}")
            time.sleep(0.2)

    def _write_inventory(self) -> None:
        text = inventory.render(self.name, self.flavour, [(h.name, h.address) for h in self.hosts], str(self.key_path))
        group_vars = self.root / "inventories" / "lab" / "group_vars" / "all.yml"
        targets = [self.state_dir / "hosts.yml", self.inventory_path]
        for path in dict.fromkeys(targets):
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        if group_vars.exists():
            # .lab/<name>/hosts.yml must see the same lab-wide settings as inventories/lab/hosts.yml.
            copy = self.state_dir / "group_vars" / "all.yml"
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(group_vars, copy)
        (self.state_dir / "lab.json").write_text(
            json.dumps(
                {"name": self.name, "flavour": self.flavour, "subnet": str(self.subnet),
                 "hosts": [asdict(h) for h in self.hosts], "inventory": str(self.inventory_path)},
                indent=2,
            ) + "\n"
        )  # fmt: skip

    def _inner_image_id(self, host: Host, image: str) -> str | None:
        rc, out, _err = self.exec(host, ["docker", "image", "inspect", "--format", "{{.Id}}", image])
        return out.strip() if rc == 0 else None

    def _load_archive(self, host: Host, archive: str, image: str, image_id: str) -> None:
        with open(archive, "rb") as data:
            proc = subprocess.run(
                [self.engine.docker, "exec", "-i", host.container, "docker", "load", "--quiet"],
                stdin=data, capture_output=True, check=False,
            )  # fmt: skip
        if proc.returncode != 0:
            raise LabError(f"loading {image} into {host.name} failed: {proc.stderr.decode(errors='replace').strip()}")
        got = self._inner_image_id(host, image)
        if got != image_id:
            raise LabError(f"after loading {image} into {host.name} its ID is {got}, not {image_id}")

    def _parallel(self, func: Callable, items: Sequence) -> list:
        """``[func(item) ...]`` in threads; the first LabError (in item order) is raised after all finish."""
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
            futures = [pool.submit(func, item) for item in items]
        results, errors = [], []
        for future in futures:
            exc = future.exception()
            if exc is not None:
                errors.append(exc)
                results.append(None)
            else:
                results.append(future.result())
        if errors:
            if len(errors) > 1 and all(isinstance(e, LabError) for e in errors):
                raise LabError("\n".join(e.message for e in errors), fix=errors[0].fix)
            raise errors[0]
        return results


def _need_tool(tool: str, fix: str) -> None:
    if shutil.which(tool) is None:
        raise LabError(f"{tool} is not installed; the lab needs it", fix=fix)


def _check_ssh_banner(address: str) -> str | None:
    """None when an SSH server answers on address:22 with its banner, else what went wrong."""
    try:
        with socket.create_connection((address, 22), timeout=2) as sock:
            sock.settimeout(2)
            banner = sock.recv(64)
    except OSError as exc:
        return str(exc)
    if banner.startswith(b"SSH-"):
        return None
    return f"unexpected banner {banner[:20]!r}"


__all__ = ["Lab", "Host", "LabError", "Result", "DEFAULT_NAME", "run_argv", "compare_shape"]
