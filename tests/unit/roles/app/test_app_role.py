"""The app role's files agree with each other and with the app: defaults and argument specs, the HAProxy template
and the stack's constants, the lab demo's settings and the lab images."""

import base64
import importlib.util
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.plugins.filter.core import to_bool

from ansible_collections.aerostack.swarm.plugins.module_utils._app_stack import (
    LB_CONTAINER_PORT,
    STATS_CONTAINER_PORT,
    STATS_USERLIST,
    check_spec,
    stats_users,
)

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
    # As Ansible's template lookup renders it: trim_blocks, and its bool filter.
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True)
    environment.filters["bool"] = to_bool
    return environment.from_string((ROLE / "templates" / "haproxy.cfg.j2").read_text()).render(**values)


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
            "lb_memory": DEFAULTS["app_lb_memory_limit"], "max_backends": DEFAULTS["app_lb_max_backends"],
            "stats_enabled": DEFAULTS["app_lb_stats_enabled"], "stats_port": DEFAULTS["app_lb_stats_port"],
            "stats_sources": DEFAULTS["app_lb_stats_sources"], "stats_auth": DEFAULTS["app_lb_stats_auth"],
            "stats_user": DEFAULTS["app_lb_stats_user"], "stats_password": DEFAULTS["app_lb_stats_password"]}
    assert check_spec(spec) == {"errors": [], "warnings": []}
    assert set(spec) | {"haproxy_cfg", "timeout_ms"} == set(VARS["_app_spec"])


def test_the_statistics_page_is_off_by_default_and_has_no_default_password():
    assert DEFAULTS["app_lb_stats_enabled"] is False
    assert DEFAULTS["app_lb_stats_password"] == "" and DEFAULTS["app_lb_stats_auth"] is True
    assert SPECS["main"]["options"]["app_lb_stats_password"]["no_log"] is True
    assert "frontend stats" not in render_haproxy()
    assert (ROLE / "tasks" / "render.yml").read_text().count("no_log: true") == 1, "the userlist task hides its content"


def test_haproxy_finds_the_web_tasks_through_dockers_dns_and_listens_where_the_stack_publishes():
    text = render_haproxy()
    assert "    nameserver docker 127.0.0.11:53\n" in text
    assert ("    server-template web- 1-16 tasks.hitcounter_web:8080 check inter 2s fall 2 rise 1 resolvers docker "
            "resolve-prefer ipv4\n") in text
    assert "    bind :%d\n" % LB_CONTAINER_PORT in text
    assert VARS["_app_lb_container_port"] == LB_CONTAINER_PORT
    assert "    default-server init-addr none\n" in text


LAB_STATS = {"app_lb_stats_enabled": True, "app_lb_stats_sources": ["198.18.0.0/15", "2001:db8::/32"]}


def test_the_statistics_page_refuses_other_clients_before_asking_for_the_password():
    text = render_haproxy(**LAB_STATS)
    frontend = text[text.index("frontend stats\n"):]
    assert frontend.splitlines()[1:] == [
        "    bind :%d" % STATS_CONTAINER_PORT,
        "    acl stats_sources src 198.18.0.0/15 2001:db8::/32",
        "    http-request deny deny_status 403 unless stats_sources",
        "    # The userlist stats_users is a swarm secret, read as a second configuration file.",
        '    http-request auth realm "HAProxy statistics" unless { http_auth(stats_users) }',
        "    stats enable",
        "    stats uri /stats",
        "    stats refresh 5s",
    ]
    assert VARS["_app_lb_stats_container_port"] == STATS_CONTAINER_PORT
    assert VARS["_app_lb_stats_userlist"] == STATS_USERLIST
    assert "http_auth" not in render_haproxy(app_lb_stats_auth=False, **LAB_STATS)


def test_the_lab_demo_shows_the_statistics_page_to_this_machine_without_a_password():
    assert LAB_DEMO["app_lb_stats_enabled"] is True and LAB_DEMO["app_lb_stats_auth"] is False
    assert LAB_DEMO["app_lb_stats_sources"] == ["198.18.0.0/15"], "every lab subnet (docs/lab.md)"


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


def lab_haproxy_image():
    sys.path.insert(0, str(REPO / "tools" / "lab"))
    from aerostack_lab import recipes  # pylint: disable=import-outside-toplevel

    image = recipes.HAPROXY_IMAGE
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
        pytest.skip("%s is not built: scripts/lab images --flavour app" % image)
    return image


def status_of(url, credentials=None):
    request = urllib.request.Request(url)
    if credentials:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError) as error:
        return None, str(error)


@pytest.mark.lab
@pytest.mark.parametrize(("sources", "allowed"), [(["172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"], True),
                                                  (["192.0.2.0/24"], False)], ids=["allowed", "other-source"])
def test_haproxy_of_the_lab_image_serves_the_statistics_page_only_to_the_sources_with_the_password(tmp_path, sources,
                                                                                                   allowed):
    """The rendered haproxy.cfg and the userlist file, as the stack gives them to HAProxy (two -f files), in the lab
    image on this machine's engine: 403 outside app_lb_stats_sources, else 401 without the password."""
    image = lab_haproxy_image()
    password = "pa ss#'w\"ord"
    (tmp_path / "haproxy.cfg").write_text(render_haproxy(app_lb_stats_enabled=True, app_lb_stats_sources=sources))
    (tmp_path / "users.cfg").write_text(stats_users({"stats_user": "stats", "stats_password": password}))
    name = "aerostack-stats-test-%d-%s" % (os.getpid(), "allowed" if allowed else "other")
    started = subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "-p", "127.0.0.1::%d" % STATS_CONTAINER_PORT,
                              "-v", "%s:/cfg:ro" % tmp_path, image, "haproxy", "-W", "-db", "-f", "/cfg/haproxy.cfg",
                              "-f", "/cfg/users.cfg"], capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    try:
        port = subprocess.run(["docker", "port", name, "%d/tcp" % STATS_CONTAINER_PORT], capture_output=True,
                              text=True, check=True).stdout.split(":")[-1].strip()
        url = "http://127.0.0.1:%s/stats;csv" % port
        deadline = time.monotonic() + 20
        while status_of(url)[0] is None:
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
            assert time.monotonic() < deadline, "HAProxy did not listen within 20 s: %s" % (logs.stdout + logs.stderr)
            time.sleep(0.1)
        if not allowed:
            assert status_of(url, "stats:" + password)[0] == 403
            return
        assert status_of(url)[0] == 401
        assert status_of(url, "stats:wrong")[0] == 401
        status, csv = status_of(url, "stats:" + password)
        assert status == 200
        slots = [line.split(",")[1] for line in csv.splitlines() if line.startswith("web,web-")]
        assert slots == ["web-%d" % i for i in range(1, 17)], "every backend slot is listed"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
