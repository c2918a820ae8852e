"""Build the lab images without a registry: debootstrap, chroot, ``docker import``.

The debootstrap result is kept as a tarball under ``.cache/lab/rootfs/``; every image starts from it, gets its
packages and files in a chroot, and is imported with its recipe hash as a label, so an image whose recipe has not
changed is never rebuilt. Builds take a lock (``.cache/lab/build.lock``): two builds never share a work tree.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .engine import Engine
from .errors import LabError
from .progress import Progress
from .recipes import RECIPE_LABEL, ImageRecipe, RootfsRecipe, recipes, selection

APT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}
#: The environment of a recipe's ``run`` commands. Like apt, they use the build machine's network settings, which
#: change where a pinned package comes from, not the image: its DNS, its package index (PIP_INDEX_URL,
#: PIP_TRUSTED_HOST) and the certificate authorities it trusts (PIP_CERT, else the system bundle; a proxy that
#: re-signs TLS is only trusted there), copied into the tree for the build and removed afterwards.
RUN_ENV = dict(APT_ENV, HOME="/root", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
RUN_ENV_PASSED = ("PIP_INDEX_URL", "PIP_TRUSTED_HOST")
BUILD_CA_BUNDLE = "/tmp/aerostack-build-ca.pem"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
RUN_FIX = "check that PyPI (or PIP_INDEX_URL) is reachable from this machine and retry"


class ImageBuilder:
    """Makes sure the lab images exist and match their recipes."""

    def __init__(self, engine: Engine, cache_dir: Path, progress: Progress | None = None) -> None:
        self.engine = engine
        self.cache = Path(cache_dir)
        self.progress = progress or Progress()
        self.recipes = recipes()

    # -- public ----------------------------------------------------------------------------------------------------

    def status(self, flavour: str = "all") -> dict[str, str]:
        """``{image: 'current' | 'stale' | 'missing'}`` for the images a flavour needs."""
        states = {}
        for short in selection(flavour):
            recipe = self.recipes[short]
            label = self.engine.image_label(recipe.image, RECIPE_LABEL)
            states[recipe.image] = "missing" if label is None else "current" if label == recipe.digest() else "stale"
        return states

    def ensure(self, flavour: str = "all", rebuild: bool = False) -> dict[str, str]:
        """Build what is missing or stale (everything, debootstrap included, with ``rebuild``).

        Returns ``{image: 'built' | 'current'}``.
        """
        wanted = selection(flavour)
        if not rebuild and all(state == "current" for state in self.status(flavour).values()):
            for short in wanted:
                self.progress.say(
                    f"{self.recipes[short].image} is up to date (recipe {self.recipes[short].digest()[:12]})"
                )
            return {self.recipes[short].image: "current" for short in wanted}
        self._preflight()
        outcome = {}
        with self._lock():
            self._clean_work()
            fresh_rootfs: set[str] = set()
            for short in wanted:
                recipe = self.recipes[short]
                digest = recipe.digest()
                # Checked again under the lock: another build may have just made it.
                if not rebuild and self.engine.image_label(recipe.image, RECIPE_LABEL) == digest:
                    self.progress.say(f"{recipe.image} is up to date (recipe {digest[:12]})")
                    outcome[recipe.image] = "current"
                    continue
                tarball = self._rootfs(recipe.rootfs, force=rebuild and recipe.rootfs.digest() not in fresh_rootfs)
                fresh_rootfs.add(recipe.rootfs.digest())
                self._build(recipe, tarball)
                outcome[recipe.image] = "built"
        return outcome

    def rootfs_path(self, rootfs: RootfsRecipe) -> Path:
        return self.cache / "rootfs" / f"{rootfs.suite}-{rootfs.variant}-{rootfs.digest()[:12]}.tar"

    # -- steps -----------------------------------------------------------------------------------------------------

    def _preflight(self) -> None:
        self.engine.check()
        if os.geteuid() != 0:
            raise LabError(
                "building the lab images needs root (debootstrap, chroot and mount)",
                fix="run it as root: sudo scripts/lab images",
            )
        if shutil.which("debootstrap") is None:
            raise LabError(
                "debootstrap is not installed; the lab builds its images with it", fix="apt-get install -y debootstrap"
            )
        for tool in ("tar", "chroot", "mount", "umount"):
            if shutil.which(tool) is None:
                raise LabError(f"{tool} is not installed", fix="apt-get install -y coreutils tar mount")

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.cache.mkdir(parents=True, exist_ok=True)
        with open(self.cache / "build.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.progress.say(f"waiting for another image build to finish (lock {self.cache / 'build.lock'})")
                fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _clean_work(self) -> None:
        """Remove work trees an interrupted build left behind (after unmounting anything still mounted there)."""
        work = self.cache / "work"
        if not work.exists():
            return
        for entry in work.iterdir():
            _unmount_below(entry)
            if _mounts_below(entry):
                raise LabError(
                    f"{entry} still has file systems mounted below it",
                    fix=f"umount -R {entry}; then retry",
                )
            shutil.rmtree(entry)

    def _rootfs(self, rootfs: RootfsRecipe, force: bool) -> Path:
        tarball = self.rootfs_path(rootfs)
        if tarball.exists() and not force:
            self.progress.say(f"using the cached debootstrap tarball {tarball}")
            return tarball
        tree = self.cache / "work" / f"debootstrap-{os.getpid()}"
        tree.parent.mkdir(parents=True, exist_ok=True)
        log = self._log_path("debootstrap")
        include = ",".join(rootfs.include)
        with self.progress.step(f"Running debootstrap --variant={rootfs.variant} --include={include} {rootfs.suite}"):
            self._logged(
                [
                    "debootstrap",
                    f"--variant={rootfs.variant}",
                    f"--include={include}",
                    rootfs.suite,
                    str(tree),
                    rootfs.mirror,
                ],
                log,
                f"debootstrap {rootfs.suite} from {rootfs.mirror}",
            )
        with self.progress.step(f"Packing the tree into {tarball.name}"):
            tarball.parent.mkdir(parents=True, exist_ok=True)
            partial = tarball.with_suffix(".partial")
            self._logged(
                ["tar", "--numeric-owner", "-C", str(tree), "-cf", str(partial), "."],
                log,
                "tar of the debootstrap tree",
            )
            partial.replace(tarball)
        shutil.rmtree(tree)
        for old in tarball.parent.glob(f"{rootfs.suite}-{rootfs.variant}-*.tar"):
            if old != tarball:
                old.unlink()
        return tarball

    def _build(self, recipe: ImageRecipe, tarball: Path) -> None:
        digest = recipe.digest()
        short = recipe.image.split("/")[-1].split(":")[0]
        tree = self.cache / "work" / f"{short}-{os.getpid()}"
        log = self._log_path(short)
        old_id = self.engine.image_id(recipe.image)
        with self.progress.step(f"Building {recipe.image} (recipe {digest[:12]})"):
            tree.mkdir(parents=True)
            try:
                self._logged(
                    ["tar", "--numeric-owner", "-C", str(tree), "-xpf", str(tarball)], log, "unpacking the rootfs"
                )
                self._customise(recipe, tree, log)
                self._import(recipe, tree, digest)
            finally:
                _unmount_below(tree)
                if not _mounts_below(tree):
                    shutil.rmtree(tree, ignore_errors=True)
        new_id = self.engine.image_id(recipe.image)
        if old_id and old_id != new_id:
            gone = self.engine.run(["image", "rm", old_id], check=False)
            if not gone.ok:
                self.progress.say(f"kept the previous {recipe.image} ({old_id[7:19]}): {gone.brief()}")

    def _customise(self, recipe: ImageRecipe, tree: Path, log: Path) -> None:
        policy = tree / "usr/sbin/policy-rc.d"
        resolv = tree / "etc/resolv.conf"
        saved_resolv = resolv.read_bytes() if resolv.is_file() and not resolv.is_symlink() else None
        for spec in recipe.files:
            target = tree / spec.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(spec.content())
            target.chmod(spec.mode)
        if recipe.packages or recipe.run:
            shutil.copyfile(Path(__file__).parent / "files" / "policy-rc.d", policy)
            policy.chmod(0o755)
            if resolv.is_symlink():
                resolv.unlink()
            shutil.copyfile("/etc/resolv.conf", resolv)
            proc = tree / "proc"
            subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
            try:
                if recipe.packages:
                    self._chroot(tree, ["apt-get", "update", "-q"], log, "apt-get update")
                    self._chroot(
                        tree,
                        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *recipe.packages],
                        log,
                        f"apt-get install {' '.join(recipe.packages)}",
                    )
                    self._chroot(tree, ["apt-get", "clean"], log, "apt-get clean")
                if recipe.run:
                    run_env = self._run_env(tree)
                    for command in recipe.run:
                        self._chroot(tree, list(command), log, " ".join(command), env=run_env, fix=RUN_FIX)
            finally:
                _unmount_below(tree)
                (tree / BUILD_CA_BUNDLE.lstrip("/")).unlink(missing_ok=True)
        for link, target in recipe.links:
            path = tree / link.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()
            path.symlink_to(target)
        # What must not travel in an image: build-time policy, package lists, host keys, this machine's DNS.
        policy.unlink(missing_ok=True)
        for lists in (tree / "var/lib/apt/lists").glob("*"):
            if lists.is_file():
                lists.unlink()
        for key in (tree / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        if saved_resolv is not None:
            resolv.write_bytes(saved_resolv)
        machine_id = tree / "etc/machine-id"
        if machine_id.exists():
            machine_id.write_text("")

    def _import(self, recipe: ImageRecipe, tree: Path, digest: str) -> None:
        changes = list(recipe.changes) + [
            f"LABEL {RECIPE_LABEL}={digest}",
            'LABEL org.aerostack.lab.description="%s"' % recipe.description.replace('"', "'"),
        ]
        argv = [self.engine.docker, "import"]
        for change in changes:
            argv += ["--change", change]
        argv += ["-", recipe.image]
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(tree), "-c", "."], stdout=subprocess.PIPE)
        try:
            imported = subprocess.run(argv, stdin=tar.stdout, capture_output=True, check=False)
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar_rc = tar.wait()
        if tar_rc != 0 or imported.returncode != 0:
            raise LabError(
                f"docker import of {recipe.image} failed: "
                + (imported.stderr.decode(errors="replace").strip() or f"tar exited {tar_rc}")
            )

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _log_path(self, name: str) -> Path:
        logs = self.cache / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"{name}.log"
        path.write_text(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} aerostack lab image build\n")
        return path

    def _run_env(self, tree: Path) -> dict[str, str]:
        """RUN_ENV plus the build machine's package index and CA bundle (copied into the tree)."""
        env = dict(RUN_ENV, **{k: os.environ[k] for k in RUN_ENV_PASSED if os.environ.get(k)})
        bundle = Path(os.environ.get("PIP_CERT") or SYSTEM_CA_BUNDLE)
        if bundle.is_file():
            copy = tree / BUILD_CA_BUNDLE.lstrip("/")
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundle, copy)
            env.update(PIP_CERT=BUILD_CA_BUNDLE, SSL_CERT_FILE=BUILD_CA_BUNDLE)
        return env

    def _chroot(
        self, tree: Path, argv: list[str], log: Path, what: str, env: dict[str, str] | None = None, fix: str = ""
    ) -> None:
        variables = APT_ENV if env is None else env
        argv = ["chroot", str(tree), "env", "-i", *(f"{k}={v}" for k, v in variables.items()), *argv]
        self._logged(argv, log, what, fix=fix)

    def _logged(self, argv: list[str], log: Path, what: str, fix: str = "") -> None:
        with open(log, "ab") as out:
            out.write(("$ " + " ".join(argv) + "\n").encode())
            out.flush()
            rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        if rc != 0:
            tail = log.read_text(errors="replace").splitlines()[-12:]
            raise LabError(
                f"{what} failed (exit status {rc}); last lines of {log}:\n    " + "\n    ".join(tail),
                fix=fix or "check that the Debian mirror is reachable (AEROSTACK_LAB_MIRROR overrides it) and retry",
            )


def _mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix) or point == prefix[:-1]:
                points.append(point)
    return points


def _unmount_below(path: Path) -> None:
    for point in sorted(_mounts_below(path), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)
