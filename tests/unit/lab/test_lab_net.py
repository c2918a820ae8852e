"""Lab addressing: the default subnet, per-name subnets, host addresses and the checks on --subnet / --hosts."""

import ipaddress

import pytest

from aerostack_lab import net
from aerostack_lab.errors import LabError

DEFAULT = "aerostack-lab"


def test_default_lab_gets_the_fixed_default_subnet():
    assert net.choose_subnet(DEFAULT, DEFAULT, taken=[]) == ipaddress.ip_network("198.18.0.0/24")


def test_other_lab_names_get_a_stable_subnet_of_their_own_inside_the_lab_block():
    first = net.choose_subnet("swarmdev", DEFAULT, taken=[])
    again = net.choose_subnet("swarmdev", DEFAULT, taken=[])
    assert first == again
    assert first.subnet_of(net.LAB_BLOCK)
    assert first != net.DEFAULT_SUBNET
    assert first.prefixlen == 24


def test_other_lab_names_never_take_the_default_subnet_even_when_it_is_free():
    names = [f"lab-{i}" for i in range(300)]
    assert all(net.choose_subnet(name, DEFAULT, taken=[]) != net.DEFAULT_SUBNET for name in names)


def test_choose_subnet_skips_subnets_that_existing_networks_overlap():
    preferred = net.choose_subnet("asdev", DEFAULT, taken=[])
    # an existing /16 covering the preferred /24 (and docker's own bridge, which is irrelevant)
    covering = str(ipaddress.ip_network(f"{preferred.network_address}/16", strict=False))
    chosen = net.choose_subnet("asdev", DEFAULT, taken=["172.17.0.0/16", covering])
    assert not chosen.overlaps(ipaddress.ip_network(covering))
    assert chosen.subnet_of(net.LAB_BLOCK)


def test_default_lab_moves_to_another_subnet_when_its_own_is_taken():
    chosen = net.choose_subnet(DEFAULT, DEFAULT, taken=["198.18.0.0/24"])
    assert chosen == ipaddress.ip_network("198.18.1.0/24")


def test_choose_subnet_ignores_ipv6_and_garbage_in_the_taken_list():
    assert net.choose_subnet(DEFAULT, DEFAULT, taken=["fd00::/64", "not-a-subnet"]) == net.DEFAULT_SUBNET


def test_choose_subnet_fails_with_a_fix_when_the_whole_block_is_taken():
    with pytest.raises(LabError) as error:
        net.choose_subnet("x", DEFAULT, taken=["198.18.0.0/15"])
    assert "--subnet" in error.value.fix


@pytest.mark.parametrize(
    ("index", "address"),
    [(1, "198.18.0.11"), (2, "198.18.0.12"), (5, "198.18.0.15"), (64, "198.18.0.74")],
)
def test_host_addresses_are_fixed_and_start_at_dot_eleven(index, address):
    assert net.host_address(net.DEFAULT_SUBNET, index) == address


def test_gateway_is_the_first_address():
    assert net.gateway(ipaddress.ip_network("198.18.7.0/24")) == "198.18.7.1"


@pytest.mark.parametrize(
    ("text", "problem", "fix"),
    [
        ("banana", "is not a valid network", "e.g. --subnet"),
        ("198.18.7.1/24", "is not a valid network", "network address"),
        ("fd00::/64", "is IPv6", "IPv4"),
        ("198.18.7.0/28", "too small", "/26"),
        ("10.20.0.0/24", "overlaps 10.0.0.0/8", "outside 10.0.0.0/8"),
    ],
)
def test_bad_subnets_are_refused_with_the_problem_and_the_fix(text, problem, fix):
    with pytest.raises(LabError) as error:
        net.parse_subnet(text)
    assert problem in error.value.message
    assert fix in error.value.fix


def test_a_good_subnet_is_accepted():
    assert net.parse_subnet("192.168.250.0/24") == ipaddress.ip_network("192.168.250.0/24")


@pytest.mark.parametrize("count", [0, -1, net.MAX_HOSTS + 1])
def test_host_counts_out_of_range_are_refused(count):
    with pytest.raises(LabError) as error:
        net.check_hosts(count, net.DEFAULT_SUBNET)
    assert "between 1 and" in error.value.fix


def test_hosts_that_do_not_fit_the_subnet_are_refused():
    small = ipaddress.ip_network("198.18.7.0/26")  # .11 .. .62 usable for hosts: 52 of them
    net.check_hosts(52, small)
    with pytest.raises(LabError) as error:
        net.check_hosts(53, small)
    assert "does not fit" in error.value.message
