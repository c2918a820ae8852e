"""Image recipes: what each image holds, and the hash that decides when an image is rebuilt."""

import dataclasses
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
    [("all", ["base", "docker", "systemd"]), ("docker", ["base", "docker"]), ("systemd", ["base", "systemd"])],
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
