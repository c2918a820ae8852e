"""The outer Docker engine, driven through the docker CLI.

Every call goes through :meth:`Engine.run`, so tests can replace the runner and the messages about a
missing CLI or an unreachable engine are written once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable, Sequence

from .errors import LabError

START_ENGINE_FIX = (
    "start the engine: `systemctl start docker`, or without systemd as PID 1 "
    "`nohup dockerd >/var/log/dockerd.log 2>&1 &`; then wait until `docker info` answers"
)
INSTALL_DOCKER_FIX = "apt-get install -y docker.io"


@dataclass(frozen=True)
class Result:
    """What a finished command returned (text decoded as UTF-8, undecodable bytes replaced)."""

    argv: tuple
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def brief(self) -> str:
        """The last line of stderr (or stdout), for one-line messages."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return text[-1] if text else f"exit status {self.rc}"


Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


class Engine:
    """Calls ``docker`` (the CLI) against the engine that DOCKER_HOST / the default socket names."""

    def __init__(self, docker: str = "docker", runner: Runner | None = None) -> None:
        self.docker = docker
        self._runner = runner or subprocess.run
        self._checked = False

    def run(
        self,
        args: Sequence[str],
        input: bytes | str | None = None,
        check: bool = True,
        timeout: float | None = None,
        what: str | None = None,
    ) -> Result:
        """Run ``docker ARGS``; raise LabError naming ``what`` (default: the command) when it fails and check is set."""
        argv = (self.docker, *args)
        data = input.encode() if isinstance(input, str) else input
        try:
            proc = self._runner(argv, input=data, capture_output=True, timeout=timeout, check=False)
        except FileNotFoundError:
            raise LabError(f"the docker CLI ({self.docker}) is not installed", fix=INSTALL_DOCKER_FIX) from None
        except subprocess.TimeoutExpired:
            raise LabError(f"{what or ' '.join(argv)} did not finish within {timeout:.0f} s") from None
        result = Result(
            argv=argv,
            rc=proc.returncode,
            stdout=(proc.stdout or b"").decode("utf-8", "replace"),
            stderr=(proc.stderr or b"").decode("utf-8", "replace"),
        )
        if check and not result.ok:
            if _engine_unreachable(result.stderr):
                raise LabError(f"the Docker engine is not reachable: {result.brief()}", fix=START_ENGINE_FIX)
            raise LabError(f"{what or ' '.join(argv)} failed: {result.brief()}")
        return result

    def check(self) -> str:
        """Make sure the CLI exists and the engine answers; return the engine's version."""
        if self.docker == "docker" and shutil.which("docker") is None and self._runner is subprocess.run:
            raise LabError("the docker CLI is not installed", fix=INSTALL_DOCKER_FIX)
        result = self.run(["version", "--format", "{{.Server.Version}}"], check=False, timeout=30)
        if not result.ok or not result.stdout.strip():
            raise LabError(f"the Docker engine is not running or not reachable: {result.brief()}", fix=START_ENGINE_FIX)
        self._checked = True
        return result.stdout.strip()

    # -- small typed helpers -------------------------------------------------------------------------------------

    def inspect(self, kind: str, names: Sequence[str]) -> list[dict]:
        """``docker KIND inspect`` of the objects that exist among ``names`` (missing ones are left out)."""
        found = []
        for name in names:
            result = self.run([kind, "inspect", name], check=False)
            if result.ok:
                found.extend(json.loads(result.stdout))
            elif not _is_missing(result.stderr):
                raise LabError(f"docker {kind} inspect {name} failed: {result.brief()}")
        return found

    def ids(self, kind: str, label: str, all_containers: bool = True) -> list[str]:
        """IDs (or names, for volumes) of the objects of ``kind`` carrying ``label`` (``key=value``)."""
        if kind == "container":
            args = ["ps", "-q", "--no-trunc", "--filter", f"label={label}"] + (["-a"] if all_containers else [])
        elif kind == "volume":
            args = ["volume", "ls", "-q", "--filter", f"label={label}"]
        elif kind == "network":
            args = ["network", "ls", "-q", "--no-trunc", "--filter", f"label={label}"]
        else:
            raise ValueError(kind)
        return self.run(args).stdout.split()

    def image_id(self, image: str) -> str | None:
        """The ID of a local image, or None when the engine has no such image."""
        result = self.run(["image", "inspect", "--format", "{{.Id}}", image], check=False)
        if result.ok:
            return result.stdout.strip()
        if _is_missing(result.stderr):
            return None
        raise LabError(f"docker image inspect {image} failed: {result.brief()}")

    def image_label(self, image: str, label: str) -> str | None:
        """A label of a local image ('' when unset), or None when the image does not exist."""
        result = self.run(
            ["image", "inspect", "--format", "{{index .Config.Labels %s}}" % json.dumps(label), image], check=False
        )
        if result.ok:
            value = result.stdout.strip()
            return "" if value == "<no value>" else value
        if _is_missing(result.stderr):
            return None
        raise LabError(f"docker image inspect {image} failed: {result.brief()}")


def _is_missing(stderr: str) -> bool:
    text = stderr.lower()
    return "no such" in text or "not found" in text


def _engine_unreachable(stderr: str) -> bool:
    text = stderr.lower()
    return "cannot connect to the docker daemon" in text or "is the docker daemon running" in text
