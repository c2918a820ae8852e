"""The simulator reads aerospike.conf like an 8.x server and refuses to start where 8.x refuses."""

import os
import subprocess
import sys
import textwrap

import pytest

from simulator_support import SIMULATOR

from aerospike_sim.config import ConfigError, build, parse_tree, validate

GOOD = textwrap.dedent("""\
    # a comment
    service {
        cluster-name fixtures   # trailing comment
        proto-fd-max 15000
    }
    logging {
        console {
            context any info
        }
    }
    network {
        service {
            address eth0
            port 3000
        }
        heartbeat {
            mode mesh
            address eth0
            port 3002
            mesh-seed-address-port 10.0.6.2 3002
            mesh-seed-address-port 10.0.6.4 3002
            interval 150
            timeout 10
        }
        fabric {
            address eth0
            port 3001
        }
        admin {
            address eth0
            port 3003
        }
    }
    namespace test {
        replication-factor 2
        nsup-period 120
        storage-engine memory {
            data-size 1G
        }
    }
    namespace persistent {
        storage-engine device {
            file /opt/aerospike/data/persistent.dat
            filesize 4G
        }
    }
    """)


def config_of(text):
    config = build(parse_tree(text))
    validate(config, open_files_limit=1 << 20)
    return config


def refusal(text, limit=1 << 20):
    with pytest.raises(ConfigError) as info:
        validate(build(parse_tree(text)), open_files_limit=limit)
    return info.value


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_good_config_is_read_with_nested_contexts_comments_and_repeated_seeds():
    config = config_of(GOOD)
    assert config.cluster_name == "fixtures"
    assert [(s.host, s.port) for s in config.heartbeat.seeds] == [("10.0.6.2", 3002), ("10.0.6.4", 3002)]
    assert config.heartbeat.addresses == ["eth0"] and config.service.addresses == ["eth0"]
    assert (config.service.port, config.heartbeat.port, config.fabric.port, config.admin.port) == (3000, 3002, 3001, 3003)
    test, persistent = config.namespaces
    assert (test.name, test.engine, test.data_size, test.replication_factor, test.nsup_period) == (
        "test", "memory", 1 << 30, 2, 120)
    assert (persistent.engine, persistent.files, persistent.filesize, persistent.replication_factor) == (
        "device", ["/opt/aerospike/data/persistent.dat"], 4 << 30, 2)
    assert config.log_level == "info"


def test_admin_port_comes_from_admin_context_and_info_context_is_ignored_with_a_warning():
    text = GOOD.replace("    admin {\n        address eth0\n        port 3003\n    }\n",
                        "    info {\n        port 3003\n    }\n")
    config = config_of(text)
    assert config.admin.port == 0, "network { info { port } } must not open an admin port on 8.x"
    assert any("info" in w and "ignored" in w for w in config.warnings)


@pytest.mark.parametrize("context, line, key", [
    ("service", "paxos-single-replica-limit 1", "paxos-single-replica-limit"),
    ("service", "transaction-queues 4", "transaction-queues"),
    ("service", "transaction-threads-per-queue 4", "transaction-threads-per-queue"),
    ("namespace test", "memory-size 1G", "memory-size"),
    ("namespace test", "data-in-memory true", "data-in-memory"),
    ("storage-engine memory", "data-in-memory true", "data-in-memory"),
])
def test_obsolete_key_is_refused_naming_key_and_line(context, line, key):
    anchor = {"service": "    cluster-name fixtures", "namespace test": "    replication-factor 2",
              "storage-engine memory": "        data-size 1G"}[context]
    indent = anchor[: len(anchor) - len(anchor.lstrip())]
    text = GOOD.replace(anchor, anchor + "\n" + indent + line, 1)
    error = refusal(text)
    assert error.key == key
    assert error.line == line_of(text, line)
    assert "obsolete" in str(error) and "line %d" % error.line in str(error)


def test_missing_cluster_name_is_refused():
    error = refusal(GOOD.replace("    cluster-name fixtures   # trailing comment\n", ""))
    assert error.key == "cluster-name" and "required" in str(error)


def test_nonzero_default_ttl_without_nsup_period_is_refused():
    text = GOOD.replace("    nsup-period 120\n", "    default-ttl 30d\n")
    error = refusal(text)
    assert error.key == "default-ttl" and "nsup-period" in str(error) and "allow-ttl-without-nsup" in str(error)


def test_default_ttl_without_nsup_is_accepted_with_allow_ttl_without_nsup():
    text = GOOD.replace("    nsup-period 120\n", "    default-ttl 30d\n    allow-ttl-without-nsup true\n")
    assert config_of(text).namespaces[0].default_ttl == 30 * 86400


def test_zero_default_ttl_needs_no_nsup_period():
    assert config_of(GOOD.replace("    nsup-period 120\n", "    default-ttl 0\n")).namespaces[0].default_ttl == 0


def test_proto_fd_max_above_open_files_limit_is_refused():
    error = refusal(GOOD, limit=1024)
    assert error.key == "proto-fd-max" and error.line == line_of(GOOD, "proto-fd-max")
    assert "15000" in str(error) and "1024" in str(error) and "RLIMIT_NOFILE" in str(error)


def test_default_proto_fd_max_is_checked_too():
    error = refusal(GOOD.replace("    proto-fd-max 15000\n", ""), limit=4096)
    assert error.key == "proto-fd-max" and "default" in str(error)


@pytest.mark.parametrize("old, new, key", [
    ("        mode mesh\n", "        mode mesh\n        intervall 150\n", "intervall"),
    ("    replication-factor 2\n", "    replication-factor 2\n    high-water-memory-pct 60\n",
     "high-water-memory-pct"),
    ("        data-size 1G\n", "        data-size 1G\n        write-block-size 1M\n", "write-block-size"),
])
def test_unknown_key_in_a_modelled_context_is_refused(old, new, key):
    error = refusal(GOOD.replace(old, new, 1))
    assert error.key == key and "not a valid key" in str(error)


@pytest.mark.parametrize("old, new, key, words", [
    ("        data-size 1G\n", "", "data-size", "data-size 1G"),
    ("        filesize 4G\n", "", "filesize", "filesize"),
    ("        mode mesh\n", "        mode multicast\n", "mode", "mode mesh"),
    ("    replication-factor 2\n", "    strong-consistency true\n", "strong-consistency", "Enterprise"),
    ("    replication-factor 2\n", "    replication-factor two\n", "replication-factor", "integer"),
    ("        data-size 1G\n", "        data-size lots\n", "data-size", "size"),
])
def test_invalid_values_are_refused_with_the_fix(old, new, key, words):
    error = refusal(GOOD.replace(old, new, 1))
    assert error.key == key and words in str(error)


def test_unbalanced_braces_name_the_opening_line():
    text = GOOD[: GOOD.rindex("}")]  # drop the last closing brace
    with pytest.raises(ConfigError) as info:
        parse_tree(text)
    assert info.value.line == line_of(GOOD, "namespace persistent") and "never closed" in str(info.value)


def test_a_third_namespace_is_refused_as_community_edition_refuses_it():
    third = GOOD + "namespace third {\n    storage-engine memory {\n        data-size 1G\n    }\n}\n"
    with pytest.raises(ConfigError) as info:
        config_of(third)
    assert info.value.line == len(GOOD.splitlines()) + 1
    assert str(info.value).startswith("line %d 'namespace': too many namespaces (max is 2)" % info.value.line), \
        str(info.value)


def test_stray_closing_brace_is_refused():
    with pytest.raises(ConfigError) as info:
        parse_tree(GOOD + "}\n")
    assert info.value.line == len(GOOD.splitlines()) + 1


BLOG_2017 = textwrap.dedent("""\
    service {
        user root
        group root
        paxos-single-replica-limit 1
        pidfile /var/run/aerospike/asd.pid
        service-threads 4
        transaction-queues 4
        transaction-threads-per-queue 4
        proto-fd-max 15000
    }
    network {
        service { address any
            port 3000 }
        heartbeat { mode mesh
            address any
            port 3002
            interval 150
            timeout 10 }
        fabric { address any
            port 3001 }
        info { address any
            port 3003 }
    }
    namespace test {
        replication-factor 2
        memory-size 1G
        default-ttl 5d
        storage-engine memory
    }
    """)


def test_the_2017_blog_config_does_not_start():
    error = refusal(BLOG_2017)
    assert error.key == "paxos-single-replica-limit" and error.line == 4


def run_simulator(conf_text, tmp_path, *args, limit=None):
    path = tmp_path / "aerospike.conf"
    path.write_text(conf_text)

    def lower_limit():
        if limit is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    env = dict(os.environ, PYTHONPATH=str(SIMULATOR))
    return subprocess.run([sys.executable, "-m", "aerospike_sim", "--config", str(path), *args], check=False,
                          capture_output=True, text=True, timeout=20, env=env, preexec_fn=lower_limit)


@pytest.mark.parametrize("mutate, key", [
    (lambda t: t.replace("    replication-factor 2\n", "    replication-factor 2\n    memory-size 1G\n", 1),
     "memory-size"),
    (lambda t: t.replace("    cluster-name fixtures   # trailing comment\n", ""), "cluster-name"),
])
def test_process_refuses_to_start_with_one_critical_line_and_no_traceback(tmp_path, mutate, key):
    result = run_simulator(mutate(GOOD), tmp_path, "--interfaces", "eth0=127.0.40.1")
    assert result.returncode == 1
    critical = [line for line in result.stdout.splitlines() if "CRITICAL (config)" in line]
    assert len(critical) == 1 and "'%s'" % key in critical[0], result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_process_refuses_proto_fd_max_above_its_rlimit(tmp_path):
    result = run_simulator(GOOD, tmp_path, "--interfaces", "eth0=127.0.40.1", limit=1024)
    assert result.returncode == 1
    assert "line %d :: " % line_of(GOOD, "proto-fd-max") in result.stdout and "1024" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_process_refuses_an_interface_it_does_not_have(tmp_path):
    result = run_simulator(GOOD, tmp_path, "--interfaces", "eth7=127.0.40.1")
    assert result.returncode == 1
    assert "'eth0' is not an interface" in result.stdout and "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("args, words", [
    (("--speed", "0"), "out of range"),
    (("--node-id", "xyz"), "not a node id"),
    (("--service-port", "70000"), "not a port"),
])
def test_bad_overrides_are_refused_clearly(tmp_path, args, words):
    result = run_simulator(GOOD, tmp_path, "--interfaces", "eth0=127.0.40.1", *args)
    assert result.returncode == 1 and words in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
