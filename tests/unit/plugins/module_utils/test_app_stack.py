"""The app stack: what the services need on kernels without IP_VS, hashes that make scaling leave HAProxy alone, and
the judgement of what swarm runs, over probes recorded on the lab (fixtures/app/README.md)."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._app_stack import (
    HAPROXY_TARGET,
    LB_CONTAINER_PORT,
    SPEC_LABEL,
    STATS_CONTAINER_PORT,
    STATS_USERS_TARGET,
    AppStackError,
    build_stack,
    check_spec,
    haproxy_word,
    stack_state,
    stats_users,
    swarm_members,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "app"

SPEC = {
    "stack": "hitcounter",
    "aerospike_stack": "aerostack",
    "image": "aerostack/hitcounter:0.2.0",
    "replicas": 3,
    "web_port": 8080,
    "web_constraints": [],
    "web_memory": "128M",
    "namespace": "test",
    "hits_set": "hits",
    "totals_set": "totals",
    "timeout_ms": 1000,
    "lb_image": "haproxy:3.0.5-bookworm",
    "lb_port": 8080,
    "lb_constraints": [],
    "lb_memory": "128M",
    "max_backends": 16,
    "haproxy_cfg": "backend web\n    server-template web- 1-16 tasks.hitcounter_web:8080 check resolvers docker\n",
}


def spec(**changes):
    return dict(copy.deepcopy(SPEC), **changes)


def probe(name):
    return json.loads((FIXTURES / name).read_text())


def built_for(web_hash, lb_hash="6313fd47d5a6", stack="hitcounter"):
    """What build_stack returned for the recorded deploys (only what stack_state reads)."""
    return {"services": {"web": stack + "_web", "lb": stack + "_lb"}, "network": stack + "_web",
            "spec_hashes": {"web": web_hash, "lb": lb_hash}}


# --- the stack -------------------------------------------------------------------------------------------------


def test_web_tasks_use_dns_round_robin_and_join_the_aerospike_network_declared_external():
    built = build_stack(SPEC)
    web = built["stack"]["services"]["web"]
    assert web["deploy"]["endpoint_mode"] == "dnsrr"
    assert web["deploy"]["replicas"] == 3
    assert web["networks"] == ["web", "aerospike"]
    assert built["stack"]["networks"] == {"web": {"driver": "overlay"},
                                          "aerospike": {"external": True, "name": "aerostack_aerospike"}}
    assert web["environment"]["AEROSPIKE_HOST"] == "tasks.aerostack_aerospike" == built["seed"]
    assert web["environment"]["AEROSPIKE_NAMESPACE"] == "test"
    assert web["environment"]["HITCOUNTER_PORT"] == "8080"
    assert web["hostname"] == "web-{{.Task.Slot}}"
    assert web["deploy"]["update_config"]["order"] == "start-first"


def test_haproxy_runs_on_every_node_with_its_port_published_in_host_mode_and_its_config_mounted():
    built = build_stack(spec(lb_port=80))
    lb = built["stack"]["services"]["lb"]
    assert lb["deploy"]["mode"] == "global"
    assert lb["deploy"]["endpoint_mode"] == "dnsrr"
    assert "placement" not in lb["deploy"]
    assert lb["ports"] == [{"target": LB_CONTAINER_PORT, "published": 80, "protocol": "tcp", "mode": "host"}]
    assert lb["networks"] == ["web"], "HAProxy needs only the web tasks, not the database"
    assert lb["command"] == ["haproxy", "-W", "-db", "-f", HAPROXY_TARGET]
    assert lb["configs"] == [{"source": "haproxy", "target": HAPROXY_TARGET, "mode": 0o444}]
    assert built["stack"]["configs"]["haproxy"] == {"name": built["config_name"], "file": "./haproxy.cfg"}
    assert built["config_name"].startswith("hitcounter_haproxy_") and len(built["config_name"]) == 31


def test_constraints_and_memory_limits_are_placed_where_swarm_reads_them():
    lb = build_stack(spec(lb_constraints=["node.role == manager"], lb_memory=""))["stack"]["services"]["lb"]
    assert lb["deploy"]["placement"] == {"constraints": ["node.role == manager"]}
    assert "resources" not in lb["deploy"]
    web = build_stack(spec(web_constraints=["node.labels.web == true"]))["stack"]["services"]["web"]
    assert web["deploy"]["placement"] == {"constraints": ["node.labels.web == true"]}
    assert web["deploy"]["resources"] == {"limits": {"memory": "128M"}}


def test_each_service_and_its_tasks_carry_their_spec_hash():
    built = build_stack(SPEC)
    for name in ("web", "lb"):
        service = built["stack"]["services"][name]
        assert service["labels"] == {SPEC_LABEL: built["spec_hashes"][name]}
        assert service["deploy"]["labels"] == {SPEC_LABEL: built["spec_hashes"][name]}
    assert built["spec_hashes"]["web"] != built["spec_hashes"]["lb"]


def test_scaling_the_web_tier_changes_no_spec_hash_so_haproxy_is_left_alone():
    three, five = build_stack(spec(replicas=3)), build_stack(spec(replicas=5))
    assert three["spec_hashes"] == five["spec_hashes"]
    assert three["stack"]["services"]["lb"] == five["stack"]["services"]["lb"]
    assert five["stack"]["services"]["web"]["deploy"]["replicas"] == 5


@pytest.mark.parametrize(("change", "changed"), [
    ({"image": "aerostack/hitcounter:0.3.0"}, {"web"}),
    ({"namespace": "web"}, {"web"}),
    ({"aerospike_stack": "payments"}, {"web"}),
    ({"haproxy_cfg": SPEC["haproxy_cfg"] + "# tuned\n"}, {"lb"}),
    ({"lb_port": 80}, {"lb"}),
    ({"lb_image": "haproxy:3.0.6-bookworm"}, {"lb"}),
], ids=["web-image", "namespace", "aerospike-stack", "haproxy-cfg", "lb-port", "lb-image"])
def test_a_task_level_change_changes_the_hash_of_that_service_only(change, changed):
    before, after = build_stack(SPEC)["spec_hashes"], build_stack(spec(**change))["spec_hashes"]
    assert set(name for name in before if before[name] != after[name]) == changed


def test_a_changed_haproxy_config_is_a_new_config_name():
    assert build_stack(SPEC)["config_name"] != build_stack(spec(haproxy_cfg=SPEC["haproxy_cfg"] + "#\n"))["config_name"]


# --- HAProxy's statistics page --------------------------------------------------------------------------------------

STATS = {"stats_enabled": True, "stats_port": 8404, "stats_sources": ["198.18.0.0/15"], "stats_auth": True,
         "stats_user": "stats", "stats_password": "s3cret words"}
SECRET_PASSWORD = "hunter2-never-shown"


def with_stats(**changes):
    """The spec with the statistics page's settings of STATS, then ``changes``."""
    settings = dict(STATS)
    settings.update(changes)
    return spec(**settings)


def test_without_the_statistics_page_the_stack_is_what_it_was():
    off = build_stack(with_stats(stats_enabled=False))
    assert off["spec_hashes"] == build_stack(SPEC)["spec_hashes"], "turning the option into the role redeploys nothing"
    assert off["stack"]["services"]["lb"]["ports"] == [
        {"target": LB_CONTAINER_PORT, "published": 8080, "protocol": "tcp", "mode": "host"}]
    assert "secrets" not in off["stack"] and "secrets" not in off["stack"]["services"]["lb"]
    assert off["stats"] == {"enabled": False, "port": 8404, "uri": "/stats", "secret": None}


def test_the_statistics_page_is_published_in_host_mode_with_its_userlist_as_a_secret_haproxy_reads():
    built = build_stack(with_stats())
    lb = built["stack"]["services"]["lb"]
    assert lb["ports"][1] == {"target": STATS_CONTAINER_PORT, "published": 8404, "protocol": "tcp", "mode": "host"}
    assert lb["command"] == ["haproxy", "-W", "-db", "-f", HAPROXY_TARGET, "-f", STATS_USERS_TARGET]
    assert lb["secrets"] == [{"source": "stats_users", "target": "haproxy_stats_users.cfg", "mode": 0o444}]
    secret = built["stats"]["secret"]
    assert built["stack"]["secrets"] == {"stats_users": {"name": secret, "file": "./stats-users.cfg"}}
    assert secret.startswith("hitcounter_stats_users_") and len(secret) == len("hitcounter_stats_users_") + 12
    assert "s3cret" not in json.dumps(built), "the password is only in the secret's file"


def test_a_new_password_is_a_new_secret_and_replaces_haproxys_tasks_only():
    before, after = build_stack(with_stats()), build_stack(with_stats(stats_password="other"))
    assert before["stats"]["secret"] != after["stats"]["secret"]
    assert before["spec_hashes"]["web"] == after["spec_hashes"]["web"]
    assert before["spec_hashes"]["lb"] != after["spec_hashes"]["lb"]


def test_without_credentials_the_page_has_no_secret():
    built = build_stack(with_stats(stats_auth=False, stats_password=""))
    assert built["stats"]["secret"] is None and "secrets" not in built["stack"]
    assert built["stack"]["services"]["lb"]["command"] == ["haproxy", "-W", "-db", "-f", HAPROXY_TARGET]


@pytest.mark.parametrize(("text", "word"), [
    ("plain", "plain"),
    ("two words", "two\\ words"),
    ("a#b", "a\\#b"),
    ("it's \"x\"", "it\\'s\\ \\\"x\\\""),
    ("back\\slash", "back\\\\slash"),
])
def test_credentials_are_escaped_as_one_haproxy_word(text, word):
    assert haproxy_word(text) == word


def test_the_userlist_names_the_user_and_the_escaped_password():
    assert stats_users(STATS) == "userlist stats_users\n    user stats insecure-password s3cret\\ words\n"


@pytest.mark.parametrize(("change", "message"), [
    ({"stats_port": 70000}, "app_lb_stats_port 70000 must be a port number from 1 to 65535"),
    ({"stats_port": 8080}, "app_lb_stats_port 8080 is app_lb_port as well: the statistics page needs a port of its "
                           "own (default 8404)"),
    ({"stats_sources": []}, "app_lb_stats_sources is empty: list the client addresses or networks that may read the "
                            "statistics page, for example ['192.0.2.0/24'] (['0.0.0.0/0', '::/0'] for any). Swarm "
                            "cannot bind a published port to one host address, so HAProxy refuses every other client"),
    ({"stats_sources": ["office"]}, "app_lb_stats_sources entry 'office' must be an IP address or network such as "
                                    "192.0.2.0/24"),
    ({"stats_password": ""}, "app_lb_stats_password is empty: the statistics page needs credentials and has no "
                             "default password. Set it (from Ansible Vault), or set app_lb_stats_auth: false on a "
                             "network you trust, such as the lab"),
    ({"stats_user": ""}, "app_lb_stats_user is empty: the statistics page asks for a user and a password "
                         "(app_lb_stats_auth); set both"),
    ({"stats_user": "ad:min"}, "app_lb_stats_user 'ad:min' must be text without ':' or control characters (HTTP "
                               "basic authentication puts a ':' between user and password)"),
    ({"stats_enabled": "yes"}, "app_lb_stats_enabled 'yes' must be true or false"),
], ids=["port-range", "port-taken", "no-sources", "bad-source", "no-password", "no-user", "user-colon", "not-bool"])
def test_bad_statistics_settings_are_refused_naming_the_variable(change, message):
    errors = check_spec(with_stats(**change))["errors"]
    assert errors == [message]


def test_a_bad_password_is_refused_without_showing_it():
    errors = check_spec(with_stats(stats_password=SECRET_PASSWORD + "\n"))["errors"]
    assert errors == ["app_lb_stats_password must be text without control characters such as tabs or newlines (its "
                      "value is not shown)"]
    assert SECRET_PASSWORD not in json.dumps(errors)


def test_a_port_out_of_range_is_refused_even_with_the_page_off():
    errors = check_spec(spec(stats_enabled=False, stats_port=0))["errors"]
    assert errors == ["app_lb_stats_port 0 must be a port number from 1 to 65535"]


def test_the_page_without_credentials_is_a_warning_and_good_settings_pass():
    assert check_spec(with_stats()) == {"errors": [], "warnings": []}
    assert check_spec(with_stats(stats_sources=["0.0.0.0/0", "::/0", "192.0.2.7"])) == {
        "errors": [], "warnings": []}
    assert check_spec(with_stats(stats_auth=False, stats_password="")) == {"errors": [], "warnings": [
        "app_lb_stats_auth is false: every client in app_lb_stats_sources reads HAProxy's statistics page without a "
        "password; keep that to a network you trust, such as the lab"]}


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    ({"stack": "Hit Counter"}, "app_stack_name 'Hit Counter' must be 1-32 lower-case letters"),
    ({"stack": "aerostack"}, "app_stack_name 'aerostack' is the Aerospike stack's name"),
    ({"replicas": 17}, "app_web_replicas 17 must be a whole number from 1 to app_lb_max_backends (16)"),
    ({"replicas": 0}, "app_web_replicas 0 must be a whole number from 1"),
    ({"replicas": True}, "app_web_replicas True must be a whole number"),
    ({"lb_port": 70000}, "app_lb_port 70000 must be a port number from 1 to 65535"),
    ({"image": ""}, "app_image must be an image reference"),
    ({"totals_set": "hits"}, "app_hits_set and app_totals_set must differ"),
    ({"namespace": "n" * 32}, "app_aerospike_namespace"),
    ({"lb_constraints": ["managers only"]}, "app_lb_constraints entry 'managers only' must be a swarm placement"),
    ({"web_memory": "lots"}, "app_web_memory_limit 'lots' must be a size such as 128M"),
], ids=["stack-name", "same-as-aerospike", "more-than-backends", "zero", "bool", "port", "image", "same-sets",
        "namespace", "constraint", "memory"])
def test_bad_settings_are_refused_naming_the_variable(change, message):
    errors = check_spec(spec(**change))["errors"]
    assert any(e.startswith(message) for e in errors), errors
    with pytest.raises(AppStackError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_stack(spec(**change))


def test_good_settings_pass_and_an_unpinned_image_is_only_a_warning():
    assert check_spec(SPEC) == {"errors": [], "warnings": []}
    result = check_spec(spec(lb_image="haproxy", image="registry.example:5000/hitcounter:latest"))
    assert result["errors"] == []
    assert result["warnings"] == [
        "app_image registry.example:5000/hitcounter:latest is not pinned to a version: every deploy may run "
        "something else",
        "app_lb_image haproxy is not pinned to a version: every deploy may run something else",
    ]


def test_a_stack_without_a_rendered_haproxy_config_is_refused():
    with pytest.raises(AppStackError, match="HAProxy configuration must be rendered text with a server-template"):
        build_stack(spec(haproxy_cfg=""))


# --- what swarm runs (recorded on the lab) ---------------------------------------------------------------------


def test_a_converged_stack_needs_no_deploy_and_names_the_nodes_that_run_haproxy():
    state = stack_state(probe("probe-web5-lb5-running.json"), built_for("940579c39c19"), 5)
    assert state["done"] and state["waiting_for"] == [] and state["fatal"] is None
    assert state["deploy"] == {"needed": False, "reasons": []}
    assert state["web_tasks"]["running"] == 5 and state["lb_tasks"]["running"] == 5
    assert len(state["lb_tasks"]["node_ids"]) == 5
    assert state["lb"]["global"] and state["web"]["replicas"] == 5


def test_another_replica_count_needs_a_deploy_and_is_waited_for():
    state = stack_state(probe("probe-web5-lb5-running.json"), built_for("940579c39c19"), 3)
    assert state["deploy"] == {"needed": True, "reasons": ["hitcounter_web has 5 replicas, wanted 3"]}
    assert not state["done"]
    assert state["waiting_for"] == ["5 of 3 hitcounter_web task(s) running (5 scheduled)"]


def test_another_spec_needs_a_deploy_naming_both_hashes():
    state = stack_state(probe("probe-web5-lb5-running.json"), built_for("940579c39c19", lb_hash="aaaaaaaaaaaa"), 5)
    assert state["deploy"]["reasons"] == ["hitcounter_lb runs spec 6313fd47d5a6, wanted aaaaaaaaaaaa"]
    assert "5 hitcounter_lb task(s) still run an older spec" in state["waiting_for"]


def test_a_new_stack_whose_image_no_node_has_stops_the_wait_at_once_saying_so():
    state = stack_state(probe("probe-create-missing-image.json"), built_for("4e529bf50bce"), 3)
    assert not state["done"]
    assert state["fatal"] == ("hitcounter_web cannot start: No such image: aerostack-lab/hitcounter:0.0.0-missing "
                              "(rejected). Load or pull the image on every node that may run it (in the lab: "
                              "scripts/lab load IMAGE)")


def test_an_update_swarm_rolled_back_stops_the_wait_with_the_new_tasks_error():
    state = stack_state(probe("probe-update-rolled-back-missing-image.json"), built_for("4e529bf50bce"), 3)
    assert state["fatal"] == (
        "swarm gave up updating hitcounter_web and went back to the previous spec (update state rollback_completed): "
        "the new task's last error: No such image: aerostack-lab/hitcounter:0.0.0-missing (rejected). Load or pull "
        "the image on every node that may run it (in the lab: scripts/lab load IMAGE)")
    assert state["deploy"]["needed"]


def test_failed_attempts_of_an_earlier_spec_are_not_a_problem_of_the_current_deploy():
    state = stack_state(probe("probe-fixed-image-updating.json"), built_for("940579c39c19"), 3)
    assert state["fatal"] is None
    assert not any("No such image" in line for line in state["waiting_for"]), state["waiting_for"]
    assert state["waiting_for"] == ["6 of 3 hitcounter_web task(s) running (6 scheduled)",  # start-first, mid-update
                                    "swarm is still updating hitcounter_web (a rolling update, one task at a time)"]
    assert state["deploy"] == {"needed": False, "reasons": []}


def test_a_rolling_update_of_haproxy_is_waited_for_even_when_every_task_left_runs_the_new_spec():
    # Mid-update of the global service, stop-first: one node's old task is gone, its new one not yet there, so the
    # 4 tasks that exist all run the current spec. Only the service's update state tells the update is not over.
    recorded = probe("probe-web5-lb5-running.json")
    lb_id = next(s["ID"] for s in recorded["services"] if s["Spec"]["Name"] == "hitcounter_lb")
    running = [t for t in recorded["tasks"] if t["ServiceID"] == lb_id and t["DesiredState"] == "running"]
    recorded["tasks"].remove(running[0])
    assert stack_state(recorded, built_for("940579c39c19"), 5)["done"], "without an update state: looks converged"
    for service in recorded["services"]:
        if service["ID"] == lb_id:
            service["UpdateStatus"] = {"State": "updating", "Message": "update in progress"}
    state = stack_state(recorded, built_for("940579c39c19"), 5)
    assert not state["done"] and state["fatal"] is None
    assert state["waiting_for"] == ["swarm is still updating hitcounter_lb (a rolling update, one task at a time)"]


def test_a_stack_that_does_not_exist_needs_a_deploy():
    state = stack_state({"rc": 0, "stdout": '{"services": [], "tasks": []}', "stderr": ""}, built_for("x"), 3)
    assert state["deploy"]["reasons"] == ["hitcounter_web does not exist", "hitcounter_lb does not exist"]
    assert not state["done"] and state["fatal"] is None


@pytest.mark.parametrize(("result", "error"), [
    ({"rc": 1, "stdout": "", "stderr": "Error response from daemon: This node is not a swarm manager.\n"},
     "the state probe failed (rc 1): Error response from daemon: This node is not a swarm manager."),
    ({"rc": 0, "stdout": "not json", "stderr": ""}, "the state probe printed no JSON"),
    ({"rc": 0, "stdout": "{}", "stderr": ""}, "the state probe's output has no 'services' and 'tasks' lists"),
], ids=["not-a-manager", "not-json", "no-lists"])
def test_a_probe_that_failed_is_waited_on_never_raised(result, error):
    state = stack_state(result, built_for("x"), 3)
    assert state["probe_error"].startswith(error)
    assert not state["done"] and state["deploy"]["needed"] and state["waiting_for"] == [state["probe_error"]]


def _member(state="active", manager=False, node_id="n1"):
    # What swarm_info (nodes: false) returns on a host whose engine answers.
    return {"docker": {"available": True, "version": "28.5.2"},
            "swarm": {"local_state": state, "is_manager": manager, "node_id": node_id}}


def test_swarm_members_finds_the_first_active_manager_and_every_node_id():
    reads = {"lab4": _member(node_id="w4"), "lab1": _member(manager=True, node_id="m1"),
             "lab2": _member(manager=True, node_id="m2")}
    assert swarm_members(reads) == {"node_ids": {"lab4": "w4", "lab1": "m1", "lab2": "m2"}, "manager": "lab1",
                                    "states": {"lab4": "active", "lab1": "active", "lab2": "active"},
                                    "no_docker": []}


def test_swarm_members_names_every_host_without_an_engine_and_finds_no_manager_outside_a_swarm():
    reads = {"lab1": _member(state="inactive", manager=False, node_id=""),
             "lab2": {"docker": {"available": False, "error": "connection refused"}},
             "lab3": {"docker": {"available": False}}}
    got = swarm_members(reads)
    assert got["manager"] == "" and got["states"] == {"lab1": "inactive", "lab2": "unknown", "lab3": "unknown"}
    assert got["no_docker"] == [
        "Docker does not answer on lab2 (connection refused). Install it and form the swarm with playbooks/swarm.yml "
        "first.",
        "Docker does not answer on lab3 (no detail). Install it and form the swarm with playbooks/swarm.yml first."]
