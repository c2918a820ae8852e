"""Build the simulator image: aerostack-lab/aerospike-simulator:<version> FROM aerostack-lab/base:bookworm.

    tests/simulator/build-image [--base IMAGE] [--tag TAG]      (a wrapper that runs this file with python3)

No registry is needed. If the default base image is missing it is made the way the lab makes it
(debootstrap --variant=minbase --include=python3,ca-certificates bookworm, then docker import); the
lab tool (scripts/lab images) builds the same name, whoever comes first. Given a command of options, the image
runs ``python3 -m aerospike_sim --config /etc/aerospike/aerospike.conf OPTIONS``; it also has an ``asd`` that starts
the simulator from a server's command line (``asd --config-file FILE``), so that a command written for the server
runs it too, under ``flock`` as well (image/). It logs to stdout and stops cleanly on SIGTERM. It is a TEST TOOL: no
data path, never a real server.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from aerospike_sim import EDITION, SERVER_BUILD, __version__  # noqa: E402

DEFAULT_BASE = "aerostack-lab/base:bookworm"
REPOSITORY = "aerostack-lab/aerospike-simulator"
MIRROR = os.environ.get("AEROSTACK_LAB_MIRROR", "http://deb.debian.org/debian")

# The configuration baked into the image, so that it starts on its own. The stack mounts its own file
# over it. 'address any' is what a default real server does, and it shows the same failure in a task
# with several interfaces (see the README).
DEFAULT_CONF = """\
# aerostack simulator: default configuration (the stack mounts its own at this path)
service {
    cluster-name aerospike-simulator
    proto-fd-max 15000
}
logging {
    console {
        context any info
    }
}
network {
    service {
        address any
        port 3000
    }
    heartbeat {
        mode mesh
        address any
        port 3002
        interval 150
        timeout 10
    }
    fabric {
        address any
        port 3001
    }
    admin {
        address any
        port 3003
    }
}
namespace test {
    replication-factor 2
    nsup-period 120
    storage-engine memory {
        data-size 1G
    }
}
"""

DOCKERFILE = """\
FROM {base}
COPY aerospike_sim /opt/aerostack-simulator/aerospike_sim
COPY aerospike.conf /etc/aerospike/aerospike.conf
COPY entrypoint.sh /usr/local/bin/aerospike-simulator-entrypoint
COPY asd.sh /usr/local/bin/asd
ENV PYTHONPATH=/opt/aerostack-simulator PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
LABEL org.aerostack.simulator.version="{version}" \\
      org.aerostack.simulator.imitates="{edition} {build}" \\
      org.opencontainers.image.title="aerostack Aerospike simulator (test tool, no data path)" \\
      org.opencontainers.image.description="Info protocol and mesh heartbeats of {edition} {build} for tests; not a database"
EXPOSE 3000 3001 3002 3003
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/aerospike-simulator-entrypoint"]
"""


class BuildError(Exception):
    """The image cannot be built; the message says why and what to do."""


def run(argv, what, **kwargs):
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    except FileNotFoundError:
        raise BuildError("%s: %s is not installed" % (what, argv[0])) from None
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BuildError("%s failed (exit %d):\n%s" % (what, result.returncode, tail))
    return result


def image_exists(name):
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False).returncode == 0


def build_base(name):
    """debootstrap minbase bookworm + python3 + ca-certificates, imported as ``name``."""
    if os.geteuid() != 0:
        raise BuildError("the base image %s is missing and building it needs root (debootstrap): run as root, or "
                         "build it with 'scripts/lab images'" % name)
    if shutil.which("debootstrap") is None:
        raise BuildError("the base image %s is missing and debootstrap is not installed: "
                         "apt-get install -y debootstrap (or build it with 'scripts/lab images')" % name)
    print("building the base image %s with debootstrap from %s (about a minute)" % (name, MIRROR), flush=True)
    with tempfile.TemporaryDirectory(prefix="aerostack-sim-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        run(["debootstrap", "--variant=minbase", "--include=python3,ca-certificates", "bookworm", str(root),
             MIRROR], "debootstrap bookworm")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (root / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        try:
            run(["docker", "import", "--change", 'CMD ["/bin/bash"]', "-", name], "docker import of the base image",
                stdin=tar.stdout)
        finally:
            tar.stdout.close()
            if tar.wait() != 0:
                raise BuildError("tar of the debootstrap tree failed (exit %d)" % tar.returncode)


def build(base, tag):
    if shutil.which("docker") is None:
        raise BuildError("the docker CLI is not installed")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        raise BuildError("the Docker engine does not answer 'docker info': start it "
                         "(nohup /usr/sbin/dockerd >/tmp/dockerd.log 2>&1 &) and try again")
    if not image_exists(base):
        if base != DEFAULT_BASE:
            raise BuildError("the base image %s does not exist locally (no registry here): build it first or "
                             "leave --base at %s" % (base, DEFAULT_BASE))
        build_base(base)
    with tempfile.TemporaryDirectory(prefix="aerostack-sim-image-") as tmp:
        context = Path(tmp)
        shutil.copytree(HERE / "aerospike_sim", context / "aerospike_sim",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (context / "aerospike.conf").write_text(DEFAULT_CONF)
        for script in ("entrypoint.sh", "asd.sh"):
            shutil.copy2(HERE / "image" / script, context / script)
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=base, version=__version__, edition=EDITION,
                                                              build=SERVER_BUILD))
        # The classic builder uses the local base image as is and never tries a registry.
        env = dict(os.environ, DOCKER_BUILDKIT="0")
        run(["docker", "build", "--pull=false", "-t", tag, str(context)], "docker build of %s" % tag, env=env)
    print("built %s (FROM %s): aerostack simulator %s imitating %s %s" % (tag, base, __version__, EDITION,
                                                                          SERVER_BUILD))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="build-image", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="base image (default: %(default)s)")
    parser.add_argument("--tag", default="%s:%s" % (REPOSITORY, __version__), help="image tag (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        build(args.base, args.tag)
    except BuildError as exc:
        print("build-image: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
