"""What the lab images contain, as data, and the hash that says when an image must be rebuilt.

A recipe names everything that shapes an image: the debootstrap call, the packages installed in the chroot, the
files written into it and the ``docker import --change`` lines. Its hash (with the builder's version) is stored
as the image label ``org.aerostack.lab.recipe``; ``scripts/lab images`` skips an image whose label matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

# Bump when the build steps in images.py change in a way the recipe data does not show.
BUILDER_VERSION = 1

RECIPE_LABEL = "org.aerostack.lab.recipe"
FILES_DIR = Path(__file__).resolve().parent / "files"
REPO_ROOT = Path(__file__).resolve().parents[3]
#: The hit-counter web app the app images ship (the same file apps/hitcounter/Dockerfile copies).
HITCOUNTER_APP = REPO_ROOT / "apps" / "hitcounter" / "hitcounter.py"
#: The Aerospike Python client of the app image: the pin of requirements/constraints.txt and the Dockerfile.
AEROSPIKE_CLIENT = "aerospike==19.3.0"

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY_MIRROR = "http://deb.debian.org/debian-security"

BASE_IMAGE = f"aerostack-lab/base:{SUITE}"
DOCKER_HOST_IMAGE = f"aerostack-lab/docker-host:{SUITE}"
SYSTEMD_HOST_IMAGE = f"aerostack-lab/systemd-host:{SUITE}"
HAPROXY_IMAGE = f"aerostack-lab/haproxy:{SUITE}"

FLAVOURS = ("docker", "systemd")
#: What ``scripts/lab images --flavour`` accepts: the host flavours, ``app`` (the images the demo app runs on,
#: loaded into the hosts) and ``all``.
SELECTIONS = FLAVOURS + ("app", "all")


@dataclass(frozen=True)
class FileSpec:
    """A file written into the image: ``source`` names a file in ``files/``, or ``text`` gives the content."""

    path: str
    mode: int = 0o644
    source: str | None = None
    text: str | None = None

    def content(self) -> bytes:
        if self.source is not None:
            return (FILES_DIR / self.source).read_bytes()
        return (self.text or "").encode()


@dataclass(frozen=True)
class RootfsRecipe:
    """The debootstrap call whose tarball every image starts from."""

    suite: str
    variant: str
    include: tuple[str, ...]
    mirror: str

    def digest(self) -> str:
        return _digest({"builder": BUILDER_VERSION, "kind": "rootfs", **self.__dict__})


@dataclass(frozen=True)
class ImageRecipe:
    """One image: the rootfs, plus packages, files, commands and symlinks, imported with ``changes``.

    ``run`` are commands run in the chroot, in order, after the packages are installed and the files written
    (for example a ``pip install`` of a pinned version); they see the build machine's DNS, no service starts.
    """

    image: str
    rootfs: RootfsRecipe
    packages: tuple[str, ...] = ()
    files: tuple[FileSpec, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (link path, target)
    changes: tuple[str, ...] = ()
    flavour: str | None = None
    description: str = ""
    run: tuple[tuple[str, ...], ...] = ()

    def digest(self) -> str:
        data = {
            "builder": BUILDER_VERSION,
            "kind": "image",
            "image": self.image,
            "rootfs": self.rootfs.digest(),
            "packages": sorted(self.packages),
            "files": [
                [f.path, oct(f.mode), hashlib.sha256(f.content()).hexdigest()]
                for f in sorted(self.files, key=lambda f: f.path)
            ],
            "links": sorted(list(link) for link in self.links),
            "changes": list(self.changes),
        }
        # Only recipes with commands carry the key: the digests (and images) of the others stay what they were.
        if self.run:
            data["run"] = [list(command) for command in self.run]
        return _digest(data)


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def sources_list(mirror: str, security_mirror: str, suite: str = SUITE) -> str:
    """The apt sources of a Debian host: the release, its updates and its security archive."""
    return (
        "# Written by the aerostack lab image build.\n"
        f"deb {mirror} {suite} main\n"
        f"deb {mirror} {suite}-updates main\n"
        f"deb {security_mirror} {suite}-security main\n"
    )


def hitcounter_version(app: Path = HITCOUNTER_APP) -> str:
    """The app's ``__version__``: the tag of its lab image (a changed app needs a new version to be redeployed)."""
    found = re.search(r'^__version__ = "([^"]+)"$', app.read_text(), re.M)
    if not found:
        raise ValueError(f"{app} has no __version__ line")
    return found.group(1)


def recipes(mirror: str | None = None, security_mirror: str | None = None) -> dict[str, ImageRecipe]:
    """The lab images by short name (``base``, ``docker``, ``systemd``, ``hitcounter``, ``haproxy``).

    The mirrors default to Debian's CDN; AEROSTACK_LAB_MIRROR and AEROSTACK_LAB_SECURITY_MIRROR override them
    (they are written into the images' apt sources, so they are part of the recipe).
    """
    mirror = mirror or os.environ.get("AEROSTACK_LAB_MIRROR") or DEFAULT_MIRROR
    security_mirror = security_mirror or os.environ.get("AEROSTACK_LAB_SECURITY_MIRROR") or DEFAULT_SECURITY_MIRROR
    rootfs = RootfsRecipe(suite=SUITE, variant="minbase", include=("python3", "ca-certificates"), mirror=mirror)
    common = (FileSpec("/etc/apt/sources.list", text=sources_list(mirror, security_mirror)),)
    remount = FileSpec("/usr/local/sbin/aerostack-lab-remount", 0o755, source="aerostack-lab-remount")
    # What every lab host has, whichever flavour: sshd for Ansible, python3 for modules, sudo, and iproute2
    # because Ansible's network facts (ansible_default_ipv4) come from `ip`.
    host_packages = ("openssh-server", "python3", "sudo", "ca-certificates", "iproute2", "procps")
    return {
        "base": ImageRecipe(
            image=BASE_IMAGE,
            rootfs=rootfs,
            files=common,
            changes=('CMD ["/bin/bash"]',),
            description="Debian minbase + python3: a small image to load into lab hosts and run as a service",
        ),
        "docker": ImageRecipe(
            image=DOCKER_HOST_IMAGE,
            rootfs=rootfs,
            flavour="docker",
            packages=host_packages + ("docker.io", "python3-docker", "iptables", "iputils-ping"),
            files=common
            + (
                remount,
                FileSpec("/usr/local/sbin/aerostack-lab-docker-host", 0o755, source="aerostack-lab-docker-host"),
            ),
            changes=('ENTRYPOINT ["/usr/local/sbin/aerostack-lab-docker-host"]', "VOLUME /var/lib/docker"),
            description="a Debian host running sshd and a docker engine (dockerd is the main process)",
        ),
        "systemd": ImageRecipe(
            image=SYSTEMD_HOST_IMAGE,
            rootfs=rootfs,
            flavour="systemd",
            packages=host_packages + ("systemd", "systemd-sysv", "dbus", "gnupg"),
            files=common
            + (
                remount,
                FileSpec("/usr/local/sbin/aerostack-lab-systemd-host", 0o755, source="aerostack-lab-systemd-host"),
                FileSpec(
                    "/etc/systemd/system/aerostack-lab-ssh-hostkeys.service",
                    source="aerostack-lab-ssh-hostkeys.service",
                ),
            ),
            links=(
                (
                    "/etc/systemd/system/multi-user.target.wants/aerostack-lab-ssh-hostkeys.service",
                    "/etc/systemd/system/aerostack-lab-ssh-hostkeys.service",
                ),
            ),
            changes=('ENTRYPOINT ["/usr/local/sbin/aerostack-lab-systemd-host"]', "ENV container=docker"),
            description="a bare Debian host with systemd as PID 1 and sshd, no docker (the docker role installs it)",
        ),
        # The demo app's images (roles/app), loaded into the hosts: what apps/hitcounter/Dockerfile and the
        # official haproxy image give users, made without a registry.
        "hitcounter": ImageRecipe(
            image=f"aerostack-lab/hitcounter:{hitcounter_version()}",
            rootfs=rootfs,
            packages=("python3-venv",),
            files=common + (FileSpec("/opt/hitcounter/hitcounter.py", text=HITCOUNTER_APP.read_text()),),
            run=(
                ("python3", "-m", "venv", "/opt/hitcounter/venv"),
                ("/opt/hitcounter/venv/bin/pip", "install", "--no-cache-dir", AEROSPIKE_CLIENT),
                ("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "hitcounter"),
            ),
            changes=(
                "ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1",
                "USER hitcounter",
                "EXPOSE 8080",
                'CMD ["/opt/hitcounter/venv/bin/python3", "/opt/hitcounter/hitcounter.py"]',
            ),
            description=f"the hit-counter web app with the Aerospike client {AEROSPIKE_CLIENT} (apps/hitcounter)",
        ),
        "haproxy": ImageRecipe(
            image=HAPROXY_IMAGE,
            rootfs=rootfs,
            packages=("haproxy",),
            files=common,
            changes=('CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]',),
            description="HAProxy from Debian, in the foreground; the app role mounts its configuration",
        ),
    }


def selection(flavour: str) -> list[str]:
    """The short names of the images a flavour needs (``all`` = every image), in build order.

    ``app`` is what the demo app loads into the hosts: the base (the discovery service's image in the lab), the
    hit counter and HAProxy.
    """
    if flavour == "all":
        return ["base", "docker", "systemd", "hitcounter", "haproxy"]
    if flavour == "docker":
        return ["base", "docker"]
    if flavour == "systemd":
        return ["base", "systemd"]
    if flavour == "app":
        return ["base", "hitcounter", "haproxy"]
    raise ValueError(f"unknown flavour {flavour!r}: choose one of {', '.join(SELECTIONS)}")


def host_image(flavour: str) -> str:
    """The short name of the host image for a lab flavour."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}: choose one of {', '.join(FLAVOURS)}")
    return flavour
