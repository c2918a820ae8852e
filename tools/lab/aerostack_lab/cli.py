"""``scripts/lab``: the command line of the lab. Every LabError ends here as a message and exit status 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from .engine import Engine
from .errors import LabError
from .images import ImageBuilder
from .lab import DEFAULT_FLAVOUR, DEFAULT_HOSTS, DEFAULT_NAME, REPO_ROOT, Lab
from .net import DEFAULT_SUBNET, MAX_HOSTS
from .progress import Progress
from .recipes import RECIPE_LABEL, SELECTIONS, recipes, selection

EPILOG = """\
typical session:
  scripts/lab images                 build the images (once; cached)
  scripts/lab up                     5 docker hosts lab1..lab5, inventory in inventories/lab/hosts.yml
  ansible -i inventories/lab/hosts.yml all -m ansible.builtin.ping
  scripts/lab load IMAGE             copy an image from this engine into every host
  scripts/lab status
  scripts/lab down                   remove everything the lab made

exit status: 0 success; 1 `status` found the lab down or with problems, or the command run by `exec` failed;
2 the lab could not do what was asked (the message says why and how to fix it).
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_HOSTS:
        raise argparse.ArgumentTypeError(f"{value} is out of range: choose between 1 and {MAX_HOSTS}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/lab",
        description="A multi-host Docker swarm lab on one machine: Debian hosts as containers, each with sshd "
        "and its own docker engine, on one bridge network.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, summary: str, description: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description or summary)

    def with_name(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", default=DEFAULT_NAME, help=f"the lab's name (default: {DEFAULT_NAME})")

    p = add(
        "images",
        "build the lab images (no registry needed)",
        "Build aerostack-lab/base, docker-host and systemd-host (the hosts) and hitcounter and haproxy (the demo "
        "app, loaded into the hosts) from a debootstrap of Debian bookworm. An image whose recipe has not changed "
        "is skipped; the debootstrap tarball is cached in .cache/lab/. Needs root and debootstrap; the app image "
        "also installs the Aerospike client from PyPI. AEROSTACK_LAB_MIRROR / AEROSTACK_LAB_SECURITY_MIRROR choose "
        "the Debian mirrors.",
    )
    p.add_argument(
        "--flavour",
        choices=list(SELECTIONS),
        default="all",
        help="docker or systemd: a host flavour's images; app: base, hitcounter and haproxy; all: every image "
        "(default: all)",
    )
    p.add_argument(
        "--rebuild", action="store_true", help="rebuild from scratch: debootstrap again and re-import every image"
    )

    p = add(
        "up",
        "create the lab (or converge one that is up) and wait until every host is ready",
        "Create network NAME, hosts NAME-1..N (hostnames lab1..labN, fixed addresses from .11), one volume per host "
        "for /var/lib/docker and an SSH key in .lab/NAME/; wait until sshd and the inner engine answer; write "
        ".lab/NAME/hosts.yml (and inventories/lab/hosts.yml for the default name). Builds missing images first. "
        "Running it again on a lab with the same shape changes nothing.",
    )
    with_name(p)
    p.add_argument("--hosts", type=_positive, default=DEFAULT_HOSTS, help=f"number of hosts (default: {DEFAULT_HOSTS})")
    p.add_argument(
        "--flavour",
        choices=["docker", "systemd"],
        default=DEFAULT_FLAVOUR,
        help="docker: sshd + dockerd; systemd: systemd as PID 1 + sshd, no docker (default: docker)",
    )
    p.add_argument(
        "--subnet",
        help=f"the bridge subnet (default: {DEFAULT_SUBNET} for the default lab, "
        "a free /24 in 198.18.0.0/15 derived from the name otherwise)",
    )
    p.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for the hosts to be ready (default: 180)"
    )

    p = add(
        "load",
        "copy images from this engine into every running host (skips hosts that have the same image ID)",
    )
    with_name(p)
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = add("status", "show the hosts, their inner engines and swarm roles, and known problems")
    with_name(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("down", "remove the lab: containers, volumes, network, generated inventory and .lab/NAME (idempotent)")
    with_name(p)

    p = add("exec", "run a command in a host as root (docker exec)", "Example: scripts/lab exec lab1 -- docker node ls")
    with_name(p)
    p.add_argument("host", help="lab1..labN, an index or a container name")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command and its arguments")

    p = add("ssh", "log into a host over SSH with the lab key (as Ansible does)")
    with_name(p)
    p.add_argument("host", help="lab1..labN, an index or a container name")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="an optional remote command")

    for name, summary in (
        ("kill", "SIGKILL a host's container (a crash)"),
        ("start", "start a stopped host and wait until it is ready"),
        ("pause", "freeze a host (docker pause): it stops answering but keeps its state"),
        ("unpause", "let a paused host run again"),
        ("disconnect", "cut a host off the lab network (a partition)"),
        ("connect", "reattach a host to the lab network at its address"),
    ):
        p = add(name, summary)
        with_name(p)
        p.add_argument("host", help="lab1..labN, an index or a container name")
    return parser


def _strip_dashes(argv: Sequence[str]) -> list[str]:
    argv = list(argv)
    return argv[1:] if argv[:1] == ["--"] else argv


def _status_table(report: dict) -> str:
    if not report["up"] and not report["hosts"]:
        lines = [f"lab {report['name']} is not up"]
    else:
        lines = [f"lab {report['name']}: {report['flavour']} hosts on network {report['network']} ({report['subnet']})"]
        columns = ("host", "container", "address", "state", "docker", "swarm")
        rows = [[c.upper() for c in columns]] + [[str(h[c]) for c in columns] for h in report["hosts"]]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        if report["inventory"]:
            lines.append(f"inventory: {report['inventory']}")
    lines += [f"problem: {p}" for p in report["problems"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    engine = Engine()
    if args.command == "images":
        builder = ImageBuilder(engine, REPO_ROOT / ".cache" / "lab", progress)
        builder.ensure(args.flavour, rebuild=args.rebuild)
        all_recipes = recipes()
        for short in selection(args.flavour):
            image = all_recipes[short].image
            image_id = engine.image_id(image) or "?"
            label = engine.image_label(image, RECIPE_LABEL) or "?"
            print(f"{image}  id {image_id[7:19]}  recipe {label[:12]}")
        return 0
    if args.command == "up":
        lab = Lab(name=args.name, hosts=args.hosts, flavour=args.flavour, subnet=args.subnet, engine=engine,
                  progress=progress, ready_timeout=args.timeout)  # fmt: skip
        lab.up()
        print(lab.inventory_path)
        return 0
    if args.command == "down":
        Lab(name=args.name, engine=engine, progress=progress).down()
        return 0
    if args.command == "status":
        report = Lab(name=args.name, engine=engine, progress=progress).status()
        print(json.dumps(report, indent=2) if args.json else _status_table(report))
        return 0 if report["up"] and not report["problems"] else 1
    lab = Lab.existing(args.name, engine=engine, progress=progress)
    if args.command == "load":
        for image, hosts in lab.load(args.images).items():
            print(f"{image}: " + ", ".join(f"{host} {state}" for host, state in sorted(hosts.items())))
        return 0
    if args.command == "exec":
        command = _strip_dashes(args.argv)
        if not command:
            raise LabError("exec needs a command after the host", fix=f"scripts/lab exec {args.host} -- docker info")
        host = lab.host(args.host)
        tty = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
        os.execvp(engine.docker, [engine.docker, "exec", "-i", *tty, host.container, *command])
    if args.command == "ssh":
        argv = lab.ssh_argv(args.host, _strip_dashes(args.argv))
        os.execvp(argv[0], argv)
    if args.command == "kill":
        lab.kill(args.host)
        progress.say(f"killed {lab.host(args.host).container}")
    elif args.command == "start":
        lab.start(args.host)
    elif args.command == "pause":
        lab.pause(args.host)
        progress.say(f"paused {lab.host(args.host).container}")
    elif args.command == "unpause":
        lab.unpause(args.host)
        progress.say(f"unpaused {lab.host(args.host).container}")
    elif args.command == "disconnect":
        lab.disconnect(args.host)
        progress.say(f"{lab.host(args.host).name} is cut off network {lab.name}")
    elif args.command == "connect":
        lab.connect(args.host)
        progress.say(f"{lab.host(args.host).name} is back on network {lab.name} at {lab.host(args.host).address}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except LabError as exc:
        print(f"scripts/lab {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"scripts/lab {args.command}: interrupted", file=sys.stderr)
        return 130
