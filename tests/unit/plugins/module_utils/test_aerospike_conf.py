"""aerospike.conf rendering and the preflight checks: what an 8.x server accepts, and what it refuses."""

import copy
import re

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_conf import (
    ConfError,
    check_deployment,
    check_settings,
    image_tag,
    max_replication_factor,
    normalize_key,
    render_conf,
    uses_persistent_storage,
)

BASE = {
    "cluster_name": "aerostack",
    "bind_interface": "eth0",
    "service": {"proto-fd-max": 15000},
    "logging": [{"sink": "console", "contexts": {"any": "info"}}],
    "network": {"heartbeat": {"interval": 150, "timeout": 10}},
    "namespaces": [
        {"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"},
         "options": {"nsup-period": 120}},
    ],
}


def settings(**changes):
    result = copy.deepcopy(BASE)
    result.update(changes)
    return result


def with_ns(**changes):
    ns = copy.deepcopy(BASE["namespaces"][0])
    ns.update(changes)
    return settings(namespaces=[ns])


def deployment(s=None, replicas=3, eligible=3, nofile=65536, image="aerospike/aerospike-server:8.1.2.0",
               edition="community"):
    return check_deployment(s or settings(), replicas, eligible, nofile, image, edition)


def blocks(text):
    """``{'service': [...lines], 'network.heartbeat': [...], 'namespace test': [...], ...}`` of a rendered file."""
    found, stack = {}, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("{"):
            stack.append(line[:-1].strip())
            found.setdefault(".".join(stack), [])
        elif line == "}":
            stack.pop()
        else:
            found[".".join(stack)].append(line)
    assert not stack, "unbalanced braces"
    return found


def test_render_binds_every_listener_to_the_overlay_interface():
    parsed = blocks(render_conf(settings()))
    for context, port in (("service", 3000), ("fabric", 3001), ("heartbeat", 3002), ("admin", 3003)):
        assert "address eth0" in parsed["network.%s" % context]
        assert "port %d" % port in parsed["network.%s" % context]
    assert "mode mesh" in parsed["network.heartbeat"]
    assert not any("any" in line for lines in parsed.values() for line in lines if line.startswith("address"))


def test_render_always_sets_the_cluster_name_first_in_service():
    parsed = blocks(render_conf(settings(cluster_name="payments")))
    assert parsed["service"][0] == "cluster-name payments"
    assert "proto-fd-max 15000" in parsed["service"]


def test_render_memory_namespace_uses_the_8x_storage_engine_memory_form():
    parsed = blocks(render_conf(settings()))
    assert parsed["namespace test"] == ["replication-factor 2", "nsup-period 120"]
    assert parsed["namespace test.storage-engine memory"] == ["data-size 1G"]


def test_render_file_namespace_keeps_its_data_file_on_the_task_volume():
    text = render_conf(with_ns(storage={"type": "file", "filesize": "4G", "options": {"flush-max-ms": 1000}}))
    parsed = blocks(text)
    assert parsed["namespace test.storage-engine device"] == [
        "file /opt/aerospike/data/test.dat", "filesize 4G", "flush-max-ms 1000"]
    assert uses_persistent_storage(with_ns(storage={"type": "file", "filesize": "4G"}))
    assert not uses_persistent_storage(settings())


def test_render_turns_underscored_keys_booleans_lists_and_dicts_into_aerospike_syntax():
    text = render_conf(settings(service={"proto_fd_max": 20000, "enable_health_check": True}, network={
        "heartbeat": {"interval": 150}, "service": {"access-address": ["10.1.1.1", "10.1.1.2"]}},
        logging=[{"sink": "console", "contexts": {"any": "info", "migrate": "debug"}},
                 {"sink": "/var/log/aerospike.log", "contexts": {"any": "warning"}}]))
    parsed = blocks(text)
    assert "proto-fd-max 20000" in parsed["service"]
    assert "enable-health-check true" in parsed["service"]
    assert parsed["network.service"][-2:] == ["access-address 10.1.1.1", "access-address 10.1.1.2"]
    assert parsed["logging.console"] == ["context any info", "context migrate debug"]
    assert parsed["logging./var/log/aerospike.log"] == ["context any warning"]


def test_render_supports_nested_contexts_with_an_argument():
    text = render_conf(with_ns(options={"nsup-period": 120, "set users": {"enable-index": True}}))
    assert blocks(text)["namespace test.set users"] == ["enable-index true"]


def test_rendered_file_is_deterministic():
    assert render_conf(settings()) == render_conf(settings())


@pytest.mark.parametrize("key", ["memory-size", "data-in-memory", "transaction-queues",
                                 "transaction-threads-per-queue", "paxos-single-replica-limit"])
def test_keys_that_8x_refuses_are_rejected_with_the_reason(key):
    if key in ("memory-size", "data-in-memory"):
        s = with_ns(options={"nsup-period": 120, key.replace("-", "_"): "4G" if key == "memory-size" else True})
    else:
        s = settings(service={key: 4})
    problems = check_settings(s)
    assert len(problems) == 1, problems
    assert "'%s' is not accepted by Aerospike 8.x and stops the server at start" % key in problems[0]
    with pytest.raises(ConfError) as info:
        render_conf(s)
    assert key in str(info.value)


def test_default_ttl_without_nsup_period_is_refused_with_the_fix():
    problems = check_settings(with_ns(options={"default-ttl": "30d"}))
    assert problems == [
        "namespace test: default-ttl 30d needs nsup-period (8.x refuses a non-zero default-ttl without it and stops "
        "at start): add nsup-period (for example 120) to the options, or set default-ttl 0"]


@pytest.mark.parametrize("options", [
    {"default-ttl": 0},
    {"default-ttl": "0"},
    {"default-ttl": "30d", "nsup-period": 120},
    {"default-ttl": 3600, "allow-ttl-without-nsup": True},
])
def test_default_ttl_is_accepted_when_zero_or_with_nsup(options):
    assert check_settings(with_ns(options=options)) == []


def test_default_ttl_with_a_zero_nsup_period_is_refused():
    assert len(check_settings(with_ns(options={"default-ttl": 60, "nsup-period": 0}))) == 1


@pytest.mark.parametrize("where,s", [
    ("namespace test options", with_ns(options={"nsup-period": 120, "rack-id": 1})),
    ("namespace test options", with_ns(options={"nsup-period": 120, "strong-consistency": True})),
    ("namespace test storage options",
     with_ns(storage={"type": "memory", "data_size": "1G", "options": {"compression": "lz4"}})),
    ("aerospike_service", settings(service={"feature-key-file": "/etc/aerospike/features.conf"})),
])
def test_enterprise_only_keys_are_refused_on_community_edition(where, s):
    errors = deployment(s)["errors"]
    assert len(errors) == 1, errors
    assert errors[0].startswith(where)
    assert "is an Enterprise Edition feature; a Community Edition server refuses it" in errors[0]
    assert deployment(s, edition="enterprise")["errors"] == []


def test_a_third_namespace_is_refused_on_community_edition():
    ns = BASE["namespaces"][0]
    three = settings(namespaces=[ns, dict(ns, name="persist"), dict(ns, name="extra")])
    assert deployment(three)["errors"] == [
        "aerospike_namespaces lists 3 namespaces (test, persist, extra) but a Community Edition server starts with at "
        "most 2 (it stops with 'too many namespaces (max is 2)'): keep 2, for example by storing one's data as a set "
        "of another, or set aerospike_edition: enterprise with an Enterprise image"]
    assert deployment(three, edition="enterprise")["errors"] == []
    assert deployment(settings(namespaces=[ns, dict(ns, name="persist")]))["errors"] == []


def test_replication_factor_above_replicas_is_refused():
    errors = deployment(with_ns(replication_factor=3), replicas=2, eligible=3)["errors"]
    assert errors == ["namespace test has replication_factor 3 but aerospike_replicas is 2: the cluster could never "
                      "hold that many copies; lower replication_factor or raise aerospike_replicas"]


def test_proto_fd_max_above_the_stack_nofile_is_refused():
    errors = deployment(settings(service={"proto-fd-max": 70000}), nofile=65536)["errors"]
    assert errors == ["proto-fd-max 70000 is above the open-files limit 65536 the stack gives the tasks "
                      "(aerospike_nofile); the server stops at start: raise aerospike_nofile or lower proto-fd-max"]


def test_default_proto_fd_max_is_checked_when_not_set():
    errors = deployment(settings(service={}), nofile=10000)["errors"]
    assert len(errors) == 1 and "proto-fd-max 15000" in errors[0]


def test_more_replicas_than_eligible_hosts_is_refused():
    errors = deployment(replicas=4, eligible=3)["errors"]
    assert errors == ["aerospike_replicas is 4 but only 3 host(s) are in the aerospike_nodes group; each host runs "
                      "one Aerospike instance, bound to it with its data: add hosts to aerospike_nodes or lower "
                      "aerospike_replicas"]


def test_replicas_given_on_the_command_line_as_text_are_numbers():
    assert deployment(replicas="3")["errors"] == []
    assert len(deployment(replicas="4")["errors"]) == 1


@pytest.mark.parametrize("replicas", [0, -1, "three", "0", True, None])
def test_replicas_that_are_not_a_positive_number_are_refused(replicas):
    errors = deployment(replicas=replicas)["errors"]
    assert len(errors) == 1 and errors[0].startswith("aerospike_replicas is ")


@pytest.mark.parametrize("storage", [{"type": "ssd", "data_size": "1G"}, {"type": None}, "memory"])
def test_unknown_storage_type_is_refused(storage):
    problems = check_settings(with_ns(storage=storage))
    assert len(problems) == 1 and "storage" in problems[0]


def test_unknown_storage_type_names_the_supported_ones():
    problems = check_settings(with_ns(storage={"type": "device"}))
    assert problems == ["namespace test: unknown storage type 'device'; use 'memory' (storage-engine memory) or "
                        "'file' (a data file on the task's persistent volume)"]


@pytest.mark.parametrize("storage,expected", [
    ({"type": "memory"}, "storage data_size is required"),
    ({"type": "memory", "data_size": "lots"}, "is not a size like 512M, 4G or 1T"),
    ({"type": "file", "data_size": "1G"}, "do not apply to type file"),
    ({"type": "file", "filesize": "4G", "file": "/var/lib/x.dat"}, "must be a path under /opt/aerospike/data/"),
])
def test_storage_settings_are_checked(storage, expected):
    problems = check_settings(with_ns(storage=storage))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("image,warned", [
    ("aerospike/aerospike-server:latest", True),
    ("aerospike/aerospike-server", True),
    ("registry:5000/aerospike-server", True),
    ("aerospike/aerospike-server:8.1.2.0", False),
    ("registry:5000/aerospike/aerospike-server:8.1.2.0", False),
    ("aerospike/aerospike-server@sha256:" + "a" * 64, False),
])
def test_an_unpinned_image_is_a_warning_not_an_error(image, warned):
    result = deployment(image=image)
    assert result["errors"] == []
    assert bool(result["warnings"]) is warned
    if warned:
        assert "pin a version tag" in result["warnings"][0]


def test_image_tag_parsing():
    assert image_tag("registry:5000/a/b") is None
    assert image_tag("a/b:1.2") == "1.2"
    assert image_tag("a/b@sha256:ff") == "@sha256:ff"


def test_bind_interface_any_is_refused_with_the_swarm_reason():
    problems = check_settings(settings(bind_interface="any"))
    assert len(problems) == 1 and "docker_gwbridge" in problems[0] and "eth0" in problems[0]


@pytest.mark.parametrize("network,expected", [
    ({"info": {"port": 3003}}, "8.x ignores network { info { } }"),
    ({"heartbeat": {"port": 3012}}, "is managed by the role"),
    ({"service": {"address": "any"}}, "is managed by the role"),
    ({"heartbeat": {"mesh-seed-address-port": "tasks.x 3002"}}, "is managed by the role"),
    ({"multicast": {}}, "is not a network sub-context"),
])
def test_network_settings_the_role_manages_are_refused(network, expected):
    problems = check_settings(settings(network=network))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("name", ["", None, "has space", "x" * 65])
def test_cluster_name_is_required(name):
    problems = check_settings(settings(cluster_name=name))
    assert len(problems) == 1 and problems[0].startswith("aerospike_cluster_name")


def test_namespaces_are_required_unique_and_well_named():
    assert check_settings(settings(namespaces=[])) == ["aerospike_namespaces must list at least one namespace"]
    ns = BASE["namespaces"][0]
    assert check_settings(settings(namespaces=[ns, ns])) == ["namespace test is defined twice"]
    assert "name 'bad name'" in check_settings(settings(namespaces=[dict(ns, name="bad name")]))[0]


def test_replication_factor_and_storage_engine_belong_to_their_structured_keys():
    problems = check_settings(with_ns(options={"nsup-period": 120, "replication-factor": 3,
                                               "storage-engine": "memory"}))
    assert len(problems) == 2
    assert all("not in options" in p for p in problems)


@pytest.mark.parametrize("logging", [[], None, [{"sink": "stdout", "contexts": {"any": "info"}}],
                                     [{"sink": "console", "contexts": {"any": "loud"}}]])
def test_logging_is_checked(logging):
    assert len(check_settings(settings(logging=logging))) == 1


@pytest.mark.parametrize("value", ["a\nb", "x { y", "", "# nope"])
def test_values_that_would_break_the_file_are_refused(value):
    problems = check_settings(settings(service={"proto-fd-max": 15000, "work-directory": value}))
    assert len(problems) == 1 and "newline, brace or '#'" in problems[0]


def test_a_null_value_is_refused():
    problems = check_settings(settings(service={"proto-fd-max": None}))
    assert problems == ["aerospike_service: 'proto-fd-max' has no value; give one or remove the key"]


def test_render_reports_every_problem_at_once():
    with pytest.raises(ConfError) as info:
        render_conf(settings(cluster_name="", bind_interface="any"))
    assert len(info.value.problems) == 2


def test_max_replication_factor_is_the_largest_over_namespaces():
    s = settings(namespaces=[dict(BASE["namespaces"][0]), dict(BASE["namespaces"][0], name="b", replication_factor=3)])
    assert max_replication_factor(s) == 3


def test_normalize_key_keeps_context_arguments():
    assert normalize_key("Proto_FD_Max") == "proto-fd-max"
    assert normalize_key("set my_set") == "set my_set"


def test_rendered_file_has_no_option_8x_refuses():
    text = render_conf(settings())
    for key in ("memory-size", "data-in-memory", "transaction-queues", "paxos-single-replica-limit", "address any"):
        assert not re.search(r"\b%s\b" % re.escape(key), text)
