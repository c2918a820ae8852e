"""The example production inventory is a valid deployment: its Aerospike settings pass preflight and render."""

from pathlib import Path

import yaml

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_conf import check_deployment, render_conf

REPO = Path(__file__).resolve().parents[4]
PROD = REPO / "inventories" / "prod"
DEFAULTS = yaml.safe_load((REPO / "roles" / "aerospike" / "defaults" / "main.yml").read_text())


def settings(values):
    merged = dict(DEFAULTS, **values)
    return {"cluster_name": merged["aerospike_cluster_name"], "bind_interface": merged["aerospike_bind_interface"],
            "service": merged["aerospike_service"], "logging": merged["aerospike_logging"],
            "network": merged["aerospike_network"], "namespaces": merged["aerospike_namespaces"]}, merged


def test_the_role_defaults_pass_preflight_and_render():
    conf, merged = settings({})
    assert check_deployment(conf, merged["aerospike_replicas"], 3, merged["aerospike_nofile"],
                            merged["aerospike_image"], merged["aerospike_edition"]) == {"errors": [], "warnings": []}
    assert "cluster-name aerostack" in render_conf(conf)


def test_the_example_inventory_passes_preflight_and_renders():
    values = yaml.safe_load((PROD / "group_vars" / "swarm" / "aerospike.yml").read_text())
    hosts = yaml.safe_load((PROD / "hosts.yml").read_text())
    eligible = len(hosts["all"]["children"]["aerospike_nodes"]["hosts"])
    conf, merged = settings(values)
    result = check_deployment(conf, merged["aerospike_replicas"], eligible, merged["aerospike_nofile"],
                              merged["aerospike_image"], merged["aerospike_edition"])
    assert result == {"errors": [], "warnings": []}
    text = render_conf(conf)
    assert "namespace accounts {" in text and "file /opt/aerospike/data/accounts.dat" in text
