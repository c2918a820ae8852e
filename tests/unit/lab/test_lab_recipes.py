"""Image recipes: what each image holds, and the hash that decides when an image is rebuilt."""

import dataclasses
import hashlib
import subprocess

import pytest

from aerostack_lab import recipes
from aerostack_lab.recipes import FileSpec


def test_the_contract_image_names():
    names = {short: r.image for short, r in recipes.recipes().items()}
    assert names == {
        "base": "aerostack-lab/base:bookworm",
        "docker": "aerostack-lab/docker-host:bookworm",
        "systemd": "aerostack-lab/systemd-host:bookworm",
        "hitcounter": "aerostack-lab/hitcounter:%s" % recipes.hitcounter_version(),
        "haproxy": "aerostack-lab/haproxy:bookworm",
    }


def test_the_base_is_a_minbase_debootstrap_with_python3():
    rootfs = recipes.recipes()["base"].rootfs
    assert (rootfs.suite, rootfs.variant) == ("bookworm", "minbase")
    assert set(rootfs.include) == {"python3", "ca-certificates"}


def test_docker_hosts_get_an_engine_and_systemd_hosts_do_not():
    all_recipes = recipes.recipes()
    assert {"docker.io", "openssh-server", "python3-docker", "iptables", "sudo"} <= set(all_recipes["docker"].packages)
    assert {"systemd", "systemd-sysv", "openssh-server", "sudo", "gnupg", "ca-certificates"} <= set(
        all_recipes["systemd"].packages
    )
    assert not any("docker" in p for p in all_recipes["systemd"].packages)


def test_the_digest_is_stable_for_the_same_recipe():
    assert recipes.recipes()["docker"].digest() == recipes.recipes()["docker"].digest()


@pytest.mark.parametrize(
    "change",
    [
        lambda r: dataclasses.replace(r, packages=r.packages + ("vim",)),
        lambda r: dataclasses.replace(r, changes=r.changes + ("ENV X=1",)),
        lambda r: dataclasses.replace(r, files=r.files + (FileSpec("/etc/motd", text="hello\n"),)),
        lambda r: dataclasses.replace(
            r, files=(FileSpec(r.files[0].path, 0o600, text=r.files[0].content().decode()),) + r.files[1:]
        ),
        lambda r: dataclasses.replace(r, rootfs=dataclasses.replace(r.rootfs, include=r.rootfs.include + ("curl",))),
    ],
    ids=["package", "import-change", "new-file", "file-mode", "debootstrap-include"],
)
def test_any_change_to_a_recipe_changes_its_digest(change):
    recipe = recipes.recipes()["docker"]
    assert change(recipe).digest() != recipe.digest()


def test_editing_a_file_the_image_ships_changes_the_digest():
    recipe = recipes.recipes()["docker"]
    edited = tuple(
        FileSpec(f.path, f.mode, text=f.content().decode() + "# edited\n") if f.source else f for f in recipe.files
    )
    assert dataclasses.replace(recipe, files=edited).digest() != recipe.digest()


def test_the_mirror_is_part_of_the_recipe(monkeypatch):
    before = recipes.recipes()["base"].digest()
    monkeypatch.setenv("AEROSTACK_LAB_MIRROR", "http://mirror.example/debian")
    after = recipes.recipes()["base"]
    assert after.digest() != before
    assert after.rootfs.mirror == "http://mirror.example/debian"
    assert "deb http://mirror.example/debian bookworm main" in after.files[0].content().decode()


@pytest.mark.parametrize(
    ("flavour", "images"),
    [
        ("all", ["base", "docker", "systemd", "hitcounter", "haproxy"]),
        ("docker", ["base", "docker"]),
        ("systemd", ["base", "systemd"]),
        ("app", ["base", "hitcounter", "haproxy"]),
    ],
)
def test_selection_builds_the_base_first(flavour, images):
    assert recipes.selection(flavour) == images


def test_unknown_flavours_are_refused():
    with pytest.raises(ValueError, match="choose one of"):
        recipes.selection("podman")


def test_every_shipped_file_exists_and_every_shell_script_parses():
    for recipe in recipes.recipes().values():
        for spec in recipe.files:
            content = spec.content()
            assert content, spec.path
            if content.startswith(b"#!/bin/sh"):
                subprocess.run(["sh", "-n"], input=content, check=True)


def test_entrypoints_are_executable_and_named_by_the_import_changes():
    for short in ("docker", "systemd"):
        recipe = recipes.recipes()[short]
        entry = [c for c in recipe.changes if c.startswith("ENTRYPOINT")][0]
        path = entry.split('"')[1]
        (spec,) = [f for f in recipe.files if f.path == path]
        assert spec.mode == 0o755


def test_import_changes_do_not_use_stopsignal_which_docker_import_rejects():
    for recipe in recipes.recipes().values():
        assert not any(c.upper().startswith("STOPSIGNAL") for c in recipe.changes)


# --- the demo app's images ---------------------------------------------------------------------------------------


def test_recipes_without_commands_keep_the_digest_they_had_before_commands_existed():
    recipe = recipes.recipes()["docker"]
    assert recipe.run == ()
    legacy = recipes._digest(
        {
            "builder": recipes.BUILDER_VERSION,
            "kind": "image",
            "image": recipe.image,
            "rootfs": recipe.rootfs.digest(),
            "packages": sorted(recipe.packages),
            "files": [
                [f.path, oct(f.mode), hashlib.sha256(f.content()).hexdigest()]
                for f in sorted(recipe.files, key=lambda f: f.path)
            ],
            "links": sorted(list(link) for link in recipe.links),
            "changes": list(recipe.changes),
        }
    )
    assert recipe.digest() == legacy


@pytest.mark.parametrize(
    "change",
    [
        lambda r: dataclasses.replace(r, run=r.run + (("true",),)),
        lambda r: dataclasses.replace(r, run=r.run[:1] + (r.run[1][:-1] + ("aerospike==19.2.0",),) + r.run[2:]),
        lambda r: dataclasses.replace(r, run=tuple(reversed(r.run))),
    ],
    ids=["new-command", "other-pin", "order"],
)
def test_any_change_to_the_commands_changes_the_digest(change):
    recipe = recipes.recipes()["hitcounter"]
    assert change(recipe).digest() != recipe.digest()


def test_editing_the_app_changes_the_app_image_digest(tmp_path, monkeypatch):
    before = recipes.recipes()["hitcounter"].digest()
    edited = tmp_path / "hitcounter.py"
    edited.write_text(recipes.HITCOUNTER_APP.read_text() + "# edited\n")
    monkeypatch.setattr(recipes, "HITCOUNTER_APP", edited)
    assert recipes.recipes()["hitcounter"].digest() != before


def test_the_app_image_installs_the_pinned_client_of_the_constraints_and_the_dockerfile():
    recipe = recipes.recipes()["hitcounter"]
    pip = [c for c in recipe.run if "install" in c]
    assert pip == [("/opt/hitcounter/venv/bin/pip", "install", "--no-cache-dir", recipes.AEROSPIKE_CLIENT)]
    constraints = (recipes.REPO_ROOT / "requirements" / "constraints.txt").read_text().split()
    assert recipes.AEROSPIKE_CLIENT in constraints
    dockerfile = (recipes.REPO_ROOT / "apps" / "hitcounter" / "Dockerfile").read_text()
    assert "ARG AEROSPIKE_CLIENT_VERSION=%s\n" % recipes.AEROSPIKE_CLIENT.split("==")[1] in dockerfile
    assert "python3-venv" in recipe.packages


def test_the_app_image_ships_the_app_and_runs_it_as_a_user_not_root():
    recipe = recipes.recipes()["hitcounter"]
    (app,) = [f for f in recipe.files if f.path == "/opt/hitcounter/hitcounter.py"]
    assert app.content() == recipes.HITCOUNTER_APP.read_bytes()
    assert "USER hitcounter" in recipe.changes
    assert any(c[0] == "useradd" and c[-1] == "hitcounter" for c in recipe.run)
    assert 'CMD ["/opt/hitcounter/venv/bin/python3", "/opt/hitcounter/hitcounter.py"]' in recipe.changes


def test_the_app_image_tag_is_the_app_version():
    version = recipes.hitcounter_version()
    assert version and '__version__ = "%s"' % version in recipes.HITCOUNTER_APP.read_text()
    assert recipes.recipes()["hitcounter"].image.endswith(":" + version)


def test_the_haproxy_image_is_haproxy_from_debian_in_the_foreground():
    recipe = recipes.recipes()["haproxy"]
    assert recipe.packages == ("haproxy",)
    assert any(c.startswith("CMD") and '"-db"' in c for c in recipe.changes)


def _customised(tmp_path, monkeypatch, recipe):
    """Run ImageBuilder._customise on an empty tree, recording the chroot commands instead of running them."""
    from aerostack_lab import images  # pylint: disable=import-outside-toplevel

    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "usr/sbin").mkdir(parents=True)
    (tree / "proc").mkdir()
    chrooted, mounted = [], []
    builder = images.ImageBuilder.__new__(images.ImageBuilder)
    bundles = []

    def chroot(tree, argv, log, what, env=None, fix=""):
        chrooted.append((argv, env, fix))
        copy = tree / images.BUILD_CA_BUNDLE.lstrip("/")
        bundles.append(copy.read_text() if copy.exists() else None)

    monkeypatch.setattr(builder, "_chroot", chroot, raising=False)
    monkeypatch.setattr(images.subprocess, "run", lambda argv, **kwargs: mounted.append(argv))
    builder._customise(recipe, tree, tmp_path / "build.log")
    chrooted[:] = [(argv, env, fix, bundle) for (argv, env, fix), bundle in zip(chrooted, bundles)]
    return chrooted, mounted, tree


def test_commands_run_in_the_chroot_after_the_packages_in_order(tmp_path, monkeypatch):
    from aerostack_lab import images  # pylint: disable=import-outside-toplevel

    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.mirror.example/simple")
    monkeypatch.setenv("PIP_CERT", str(bundle))
    monkeypatch.delenv("PIP_TRUSTED_HOST", raising=False)
    recipe = recipes.recipes()["hitcounter"]
    chrooted, mounted, tree = _customised(tmp_path, monkeypatch, recipe)
    argvs = [argv for argv, _env, _fix, _bundle in chrooted]
    assert argvs[:3] == [
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "python3-venv"],
        ["apt-get", "clean"],
    ]
    assert argvs[3:] == [list(command) for command in recipe.run]
    assert all(env is None and fix == "" for _argv, env, fix, _bundle in chrooted[:3])  # apt runs with APT_ENV
    for _argv, env, fix, bundle in chrooted[3:]:
        assert bundle == "-----BEGIN CERTIFICATE-----\n", "the build machine's CA bundle is there while commands run"
        assert env == dict(
            images.RUN_ENV,
            PIP_INDEX_URL="https://pypi.mirror.example/simple",
            PIP_CERT=images.BUILD_CA_BUNDLE,
            SSL_CERT_FILE=images.BUILD_CA_BUNDLE,
        )
        assert "PyPI" in fix
    assert mounted == [["mount", "-t", "proc", "proc", str(tree / "proc")]]
    assert (tree / "opt/hitcounter/hitcounter.py").read_bytes() == recipes.HITCOUNTER_APP.read_bytes()
    assert not (tree / "usr/sbin/policy-rc.d").exists()
    assert not (tree / images.BUILD_CA_BUNDLE.lstrip("/")).exists(), "the build's CA bundle stays out of the image"


def test_a_recipe_with_commands_and_no_packages_runs_no_apt(tmp_path, monkeypatch):
    recipe = dataclasses.replace(recipes.recipes()["base"], run=(("useradd", "demo"),))
    chrooted, mounted, _tree = _customised(tmp_path, monkeypatch, recipe)
    assert [argv for argv, _env, _fix, _bundle in chrooted] == [["useradd", "demo"]]
    assert len(mounted) == 1


def test_a_recipe_without_packages_or_commands_never_enters_the_chroot(tmp_path, monkeypatch):
    chrooted, mounted, _tree = _customised(tmp_path, monkeypatch, recipes.recipes()["base"])
    assert chrooted == [] and mounted == []
