"""Measure the lab: image builds, `up` to ready, `load`, `down`. Prints numbers; asserts nothing about them.

    python tools/lab/bench_lab.py          # cached image check, then --runs cycles of up / ping / load / down
    python tools/lab/bench_lab.py --cold   # first rebuild every image from scratch (debootstrap included)

Uses its own lab name (default aerostack-bench) and takes it down even when a step fails.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aerostack_lab import Lab, LabError  # noqa: E402
from aerostack_lab.engine import Engine  # noqa: E402
from aerostack_lab.images import ImageBuilder  # noqa: E402
from aerostack_lab.lab import REPO_ROOT  # noqa: E402
from aerostack_lab.progress import Progress  # noqa: E402
from aerostack_lab.recipes import BASE_IMAGE  # noqa: E402


def timed(results: dict[str, list[float]], name: str, func, *args, **kwargs):
    started = time.monotonic()
    value = func(*args, **kwargs)
    results.setdefault(name, []).append(time.monotonic() - started)
    print(f"  {name}: {results[name][-1]:.2f} s", flush=True)
    return value


def ansible_ping(lab: Lab) -> None:
    ansible = Path(sys.executable).parent / "ansible"
    command = str(ansible) if ansible.exists() else shutil.which("ansible")
    if not command:
        raise LabError("ansible is not installed", fix=". .venv/bin/activate")
    result = subprocess.run([command, "-i", str(lab.inventory_path), "all", "-m", "ansible.builtin.ping"],
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        raise LabError(f"ansible ping failed: {result.stdout[-500:]}{result.stderr[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="aerostack-bench", help="lab name to use (default: aerostack-bench)")
    parser.add_argument("--hosts", type=int, default=5, help="hosts per lab (default: 5)")
    parser.add_argument("--runs", type=int, default=1, help="up/load/down cycles (default: 1)")
    parser.add_argument("--cold", action="store_true", help="rebuild all images from scratch first (minutes)")
    parser.add_argument("--image", default=BASE_IMAGE, help=f"image to load (default: {BASE_IMAGE})")
    args = parser.parse_args()

    quiet = Progress(quiet=True)
    engine = Engine()
    results: dict[str, list[float]] = {}
    try:
        engine.check()
        builder = ImageBuilder(engine, REPO_ROOT / ".cache" / "lab", Progress())
        if args.cold:
            print("images, cold (debootstrap + base + docker-host + systemd-host):", flush=True)
            timed(results, "images cold", builder.ensure, "all", rebuild=True)
        print("images, cached:", flush=True)
        timed(results, "images cached", ImageBuilder(engine, REPO_ROOT / ".cache" / "lab", quiet).ensure, "all")
        size = engine.run(["image", "inspect", "--format", "{{.Size}}", args.image]).stdout.strip()
        for run in range(1, args.runs + 1):
            print(f"run {run}/{args.runs} ({args.hosts} docker hosts, lab {args.name}):", flush=True)
            lab = Lab(name=args.name, hosts=args.hosts, progress=quiet)
            try:
                timed(results, f"up {args.hosts} hosts to ready", lab.up)
                timed(results, "up again (converge, no change)", lab.up)
                timed(results, f"ansible ping {args.hosts} hosts", ansible_ping, lab)
                timed(
                    results, f"load {args.image} ({int(size) / 1e6:.0f} MB) into {args.hosts}", lab.load, [args.image]
                )
                timed(results, "load again (every host has it)", lab.load, [args.image])
            finally:
                timed(results, f"down {args.hosts} hosts", lab.down)
    except LabError as exc:
        print(f"bench_lab: {exc}", file=sys.stderr)
        return 2
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"\nsummary (seconds; machine: {load}):")
    print(f"  {'step':55} {'median':>8} {'min':>8} {'max':>8} {'n':>3}")
    for name, values in results.items():
        print(f"  {name:55} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f} {len(values):3d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
