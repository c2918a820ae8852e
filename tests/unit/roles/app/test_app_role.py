"""The app role's files agree with each other and with the app: defaults and argument specs, the HAProxy template
and the stack's constants, the lab demo's settings and the lab images."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.aerostack.swarm.plugins.module_utils._app_stack import LB_CONTAINER_PORT, check_spec

REPO = Path(__file__).resolve().parents[4]
ROLE = REPO / "roles" / "app"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
LAB_DEMO = yaml.safe_load((REPO / "playbooks" / "vars" / "lab_demo.yml").read_text())
# Values the role computes from other roles' variables, documented with their usual result.
TEMPLATED = {"app_aerospike_stack_name": "aerostack"}


def render_haproxy(**overrides):
    values = dict(DEFAULTS, **TEMPLATED, **VARS, ansible_managed="Ansible managed")
    values.update(overrides)
    template = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True).from_string(
        (ROLE / "templates" / "haproxy.cfg.j2").read_text())
    return template.render(**values)


def test_every_default_is_documented_with_its_type_and_value():
    options = SPECS["main"]["options"]
    assert set(DEFAULTS) - {"app_teardown_confirm"} == set(options)
    for name, value in DEFAULTS.items():
        if name == "app_teardown_confirm":
            assert SPECS["teardown"]["options"][name]["default"] == value
            continue
        option = options[name]
        assert option["description"] and option["type"], name
        assert option["default"] == TEMPLATED.get(name, value), name


def test_the_teardown_entry_point_documents_what_it_uses_with_the_same_defaults():
    for name, option in SPECS["teardown"]["options"].items():
        assert option["default"] == DEFAULTS[name], name
        assert option["description"] and option["type"], name


def test_the_defaults_pass_the_preflight():
    spec = {"stack": DEFAULTS["app_stack_name"], "aerospike_stack": "aerostack", "image": DEFAULTS["app_image"],
            "replicas": DEFAULTS["app_web_replicas"], "web_port": DEFAULTS["app_web_port"],
            "web_constraints": DEFAULTS["app_web_constraints"], "web_memory": DEFAULTS["app_web_memory_limit"],
            "namespace": DEFAULTS["app_aerospike_namespace"], "hits_set": DEFAULTS["app_hits_set"],
            "totals_set": DEFAULTS["app_totals_set"], "lb_image": DEFAULTS["app_lb_image"],
            "lb_port": DEFAULTS["app_lb_port"], "lb_constraints": DEFAULTS["app_lb_constraints"],
            "lb_memory": DEFAULTS["app_lb_memory_limit"], "max_backends": DEFAULTS["app_lb_max_backends"]}
    assert check_spec(spec) == {"errors": [], "warnings": []}
    assert set(spec) | {"haproxy_cfg", "timeout_ms"} == set(VARS["_app_spec"])


def test_haproxy_finds_the_web_tasks_through_dockers_dns_and_listens_where_the_stack_publishes():
    text = render_haproxy()
    assert "    nameserver docker 127.0.0.11:53\n" in text
    assert ("    server-template web- 1-16 tasks.hitcounter_web:8080 check inter 2s fall 2 rise 1 resolvers docker "
            "resolve-prefer ipv4\n") in text
    assert "    bind :%d\n" % LB_CONTAINER_PORT in text
    assert VARS["_app_lb_container_port"] == LB_CONTAINER_PORT
    assert "    default-server init-addr none\n" in text


def test_haproxy_follows_the_settings():
    text = render_haproxy(app_stack_name="shop", app_web_port=9000, app_lb_max_backends=4)
    assert " 1-4 tasks.shop_web:9000 " in text


def test_haproxy_checks_a_page_the_app_answers_without_its_database():
    spec = importlib.util.spec_from_file_location("hitcounter_for_role", REPO / "apps" / "hitcounter" / "hitcounter.py")
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app
    spec.loader.exec_module(app)
    text = render_haproxy()
    assert "    option httpchk GET /live\n" in text and "    http-check expect status 200\n" in text

    def unreachable(config):
        raise OSError("no route")

    nowhere = app.Database(app.Settings(server="web-1"), factory=unreachable)
    assert app.answer(nowhere, "/live")[0] == 200
    assert app.answer(nowhere, "/health")[0] == 503


def test_the_lab_demo_runs_the_lab_images_and_enables_the_app():
    sys.path.insert(0, str(REPO / "tools" / "lab"))
    from aerostack_lab import recipes  # pylint: disable=import-outside-toplevel

    images = recipes.recipes()
    assert LAB_DEMO["aerostack_app_enabled"] is True
    assert LAB_DEMO["app_image"] == images["hitcounter"].image
    assert LAB_DEMO["app_lb_image"] == images["haproxy"].image
    assert LAB_DEMO["aerospike_discovery_image"] == images["base"].image
    assert LAB_DEMO["aerospike_nofile"] <= 20000
    assert set(recipes.selection("app")) == {"base", "hitcounter", "haproxy"}


def test_production_leaves_the_app_off():
    prod = yaml.safe_load((REPO / "inventories" / "prod" / "group_vars" / "swarm" / "app.yml").read_text())
    assert prod["aerostack_app_enabled"] is False
    site = (REPO / "playbooks" / "site.yml").read_text()
    assert "when: aerostack_app_enabled | default(false) | bool" in site


@pytest.mark.lab
def test_haproxy_of_the_lab_image_accepts_the_rendered_configuration(tmp_path):
    sys.path.insert(0, str(REPO / "tools" / "lab"))
    from aerostack_lab import recipes  # pylint: disable=import-outside-toplevel

    image = recipes.HAPROXY_IMAGE
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
        pytest.skip("%s is not built: scripts/lab images --flavour app" % image)
    (tmp_path / "haproxy.cfg").write_text(render_haproxy())
    done = subprocess.run(["docker", "run", "--rm", "-v", "%s:/cfg:ro" % tmp_path, image,
                           "haproxy", "-c", "-f", "/cfg/haproxy.cfg"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout + done.stderr
