# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quorum-safe planning for a Docker swarm. Pure functions, standard library only.

Raft arithmetic: N managers need a majority, N // 2 + 1, to act, so they tolerate (N - 1) // 2
losses. An even count tolerates no more than the odd count below it and adds one more member that
must answer, which is why every plan here has an odd number of managers.

The functions decide; they never talk to an engine:

- ``plan_managers``: which inventory hosts should be managers.
- ``plan_role_changes``: in which order promotions and demotions keep quorum at every step.
- ``plan_swarm``: the whole reconciliation the ``swarm`` role carries out, from what each host
  reported (see ``docs/swarm.md``).
- ``find_stale_nodes`` and ``verify_swarm``: what to clean up and whether the result is right.

Every refusal is a ``SwarmError`` whose message names the problem and the fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

MAX_MANAGERS = 7
DEFAULT_MANAGERS_MAX = 5
SWARM_PORT = 2377
AEROSPIKE_LABEL = "aerostack.aerospike"
RECOVERY_HINT = (
    "if the lost managers cannot come back, rebuild the control plane from one surviving manager: "
    "ansible-playbook playbooks/swarm_recover.yml -e swarm_recover_host=<surviving manager> -e swarm_recover_confirm=yes"
)


class SwarmError(Exception):
    """A swarm action cannot go ahead. The message names the action, the cause and the fix."""


def quorum(managers):
    """Managers that must answer for a swarm of ``managers`` managers to act."""
    return managers // 2 + 1


def tolerated_losses(managers):
    """Managers a swarm of ``managers`` managers can lose and still act."""
    return max(managers - 1, 0) // 2


def check_managers_max(value, name="swarm_managers_max"):
    """Return ``value`` as an int when it is an odd number from 1 to 7, else raise SwarmError."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or isinstance(value, float):
                raise ValueError(value)
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise SwarmError("%s=%r is not a whole number: set it to 1, 3, 5 or 7" % (name, value))
    if value < 1 or value > MAX_MANAGERS:
        raise SwarmError(
            "%s=%d is out of range: set it to 1, 3, 5 or 7 (7 is the largest manager count Docker recommends; "
            "every manager takes part in each Raft write)" % (name, value)
        )
    if value % 2 == 0:
        raise SwarmError(
            "%s=%d is even: %d managers tolerate %d loss(es), no more than %d do, and need one more to answer; "
            "set it to %d or %d" % (name, value, value, tolerated_losses(value), value - 1, value - 1, value + 1)
        )
    return value


def auto_manager_count(host_count, managers_max=DEFAULT_MANAGERS_MAX):
    """Managers for ``host_count`` hosts under the ``auto`` policy.

    The largest odd number not above the host count or the cap: 1 host -> 1, 2 -> 1, 3-4 -> 3,
    5 or more -> 5 with the default cap of 5 (7 when the cap is raised to 7 and there are 7 hosts).
    """
    cap = check_managers_max(managers_max)
    if host_count < 1:
        raise SwarmError("the swarm has no hosts: put at least one host in the 'swarm' inventory group")
    count = min(host_count, cap)
    return count if count % 2 else count - 1


def _unique(names, what):
    seen = set()
    dupes = []
    for name in names:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    if dupes:
        raise SwarmError("%s lists %s more than once" % (what, ", ".join(dupes)))


def plan_managers(
    hosts,
    pinned_managers=(),
    pinned_workers=(),
    managers_max=DEFAULT_MANAGERS_MAX,
    current_managers=(),
    unavailable=(),
    replace_unavailable=False,
):
    """Return the hosts that should be managers, in inventory order.

    ``hosts`` is the ``swarm`` group in inventory order. ``pinned_managers`` / ``pinned_workers``
    are the ``swarm_managers`` / ``swarm_workers`` groups. ``current_managers`` are the hosts that
    are managers now; ``unavailable`` the hosts that cannot take a new role now (unreachable, or
    their node is Down). A current manager that is unavailable stays a manager unless
    ``replace_unavailable`` is set, in which case an available host takes its place.

    Explicit ``swarm_managers`` are honoured as given (the cap applies to ``auto`` only) but their
    count must be odd and at most 7. Under ``auto`` the choice is deterministic: current managers
    first, then inventory order.
    """
    hosts = list(hosts)
    _unique(hosts, "the 'swarm' group")
    known = set(hosts)
    pinned_managers = [h for h in hosts if h in set(pinned_managers)] + [h for h in pinned_managers if h not in known]
    pinned_workers = list(pinned_workers)
    unavailable = set(unavailable)
    current = set(current_managers)
    cap = check_managers_max(managers_max)
    if not hosts:
        raise SwarmError("the swarm has no hosts: put at least one host in the 'swarm' inventory group")

    outside = [h for h in pinned_managers if h not in known] + [h for h in pinned_workers if h not in known]
    if outside:
        raise SwarmError(
            "%s: in 'swarm_managers'/'swarm_workers' but not in the 'swarm' group; add them to 'swarm' or "
            "remove them from the pinning group" % ", ".join(sorted(set(outside)))
        )
    both = [h for h in hosts if h in set(pinned_managers) and h in set(pinned_workers)]
    if both:
        raise SwarmError(
            "%s: pinned both as manager ('swarm_managers') and as worker ('swarm_workers'); keep one" % ", ".join(both)
        )

    if pinned_managers:
        count = len(pinned_managers)
        if count % 2 == 0:
            raise SwarmError(
                "'swarm_managers' names %d hosts (%s): an even manager count is refused, because %d managers "
                "tolerate %d loss(es) like %d do and need one more to answer; pin %d or %d hosts, or empty the "
                "group to let the auto policy choose"
                % (
                    count,
                    ", ".join(pinned_managers),
                    count,
                    tolerated_losses(count),
                    count - 1,
                    count - 1,
                    count + 1,
                )
            )
        if count > MAX_MANAGERS:
            raise SwarmError(
                "'swarm_managers' names %d hosts: more than %d managers is refused (every manager takes part "
                "in each Raft write); pin 3, 5 or 7" % (count, MAX_MANAGERS)
            )
        blocked = [h for h in pinned_managers if h in unavailable and h not in current]
        if blocked:
            raise SwarmError(
                "%s: pinned as manager but unavailable (unreachable or Down), so it cannot be promoted now; "
                "bring it back or pin another host" % ", ".join(blocked)
            )
        return pinned_managers

    pinned_w = set(pinned_workers)
    candidates = [h for h in hosts if h not in pinned_w]
    if replace_unavailable:
        candidates = [h for h in candidates if h not in unavailable]
    else:
        candidates = [h for h in candidates if h not in unavailable or h in current]
    if not candidates:
        why = []
        if pinned_w:
            why.append("pinned as workers: %s" % ", ".join(h for h in hosts if h in pinned_w))
        if unavailable:
            why.append("unavailable: %s" % ", ".join(h for h in hosts if h in unavailable))
        raise SwarmError(
            "no host is eligible as a manager (%s): take a host out of 'swarm_workers' or make one reachable"
            % "; ".join(why)
        )
    count = auto_manager_count(len(hosts), cap)
    if count > len(candidates):
        count = len(candidates) if len(candidates) % 2 else len(candidates) - 1
    order = {h: i for i, h in enumerate(hosts)}
    ranked = sorted(
        candidates,
        key=lambda h: (h not in current, h in unavailable, order[h]),
    )
    chosen = set(ranked[:count])
    return [h for h in hosts if h in chosen]


def check_quorum(current_managers, unreachable):
    """Raise SwarmError ("quorum lost") when a majority of ``current_managers`` is unreachable."""
    managers = list(current_managers)
    down = [m for m in managers if m in set(unreachable)]
    up = [m for m in managers if m not in set(unreachable)]
    if managers and len(up) < quorum(len(managers)):
        raise SwarmError(
            "quorum lost: %d of %d managers reachable (%s), unreachable: %s; a swarm with %d managers needs %d "
            "to act, so nothing was changed; bring the lost managers back, or %s"
            % (
                len(up),
                len(managers),
                ", ".join(up) or "none",
                ", ".join(down),
                len(managers),
                quorum(len(managers)),
                RECOVERY_HINT,
            )
        )


def plan_role_changes(current_managers, desired_managers, unreachable=()):
    """Order the promotions and demotions that turn ``current_managers`` into ``desired_managers``.

    Returns a list of steps ``{"action": "promote"|"demote", "node": name, "via": name,
    "managers": n, "reachable": r}``, to run one at a time: ``via`` is a manager that is reachable
    at that moment and not the node itself, ``managers``/``reachable`` the counts after the step.
    Promotions come first (replacements before anyone steps down), so the manager count never
    drops below the desired count; unreachable managers are demoted before reachable ones. Refuses
    when quorum is lost now, or when a step would leave fewer reachable managers than a majority.
    """
    current = list(current_managers)
    desired = list(desired_managers)
    unreachable = set(unreachable)
    if not current:
        raise SwarmError("the swarm has no manager to act through: form the swarm first")
    if not desired:
        raise SwarmError("the plan has no manager: at least one host must stay a manager")
    check_quorum(current, unreachable)
    blocked = [h for h in desired if h not in current and h in unreachable]
    if blocked:
        raise SwarmError(
            "%s: cannot be promoted while unreachable; bring it back or choose another manager" % ", ".join(blocked)
        )
    promote = [h for h in desired if h not in current]
    demote_lost = [h for h in current if h not in desired and h in unreachable]
    demote_live = [h for h in current if h not in desired and h not in unreachable]

    managers = list(current)
    reachable = [m for m in current if m not in unreachable]
    steps = []

    def pick_via(target):
        kept = [m for m in desired if m in reachable and m in managers and m != target]
        if kept:
            return kept[0]
        others = [m for m in managers if m in reachable and m != target]
        if others:
            return others[0]
        raise SwarmError("no reachable manager left to change %s through" % target)

    for node in promote:
        via = pick_via(node)
        managers.append(node)
        reachable.append(node)
        steps.append(
            {"action": "promote", "node": node, "via": via, "managers": len(managers), "reachable": len(reachable)}
        )
    for node in demote_lost + demote_live:
        via = pick_via(node)
        managers.remove(node)
        if node in reachable:
            reachable.remove(node)
        if len(reachable) < quorum(len(managers)):
            raise SwarmError(
                "demoting %s would leave %d of %d managers reachable, below the %d a swarm of %d needs; nothing "
                "was changed: bring the unreachable managers back first" % (
                    node, len(reachable), len(managers), quorum(len(managers)), len(managers))
            )
        steps.append(
            {"action": "demote", "node": node, "via": via, "managers": len(managers), "reachable": len(reachable)}
        )
    return steps


# --- the whole reconciliation ----------------------------------------------------------------

def _ip(text):
    try:
        return ipaddress.ip_address(str(text).strip().strip("[]"))
    except ValueError:
        return None


def network_from_facts(facts):
    """``{"addresses", "interfaces", "default"}`` from Ansible's network facts (``ansible_facts``)."""
    facts = facts or {}
    interfaces = {}
    for name in facts.get("interfaces") or []:
        data = {}
        for key in (str(name), str(name).replace(":", "_"), str(name).replace("-", "_").replace(":", "_")):
            if isinstance(facts.get(key), dict):
                data = facts[key]
                break
        addrs = []
        ipv4 = data.get("ipv4") or {}
        if isinstance(ipv4, dict) and ipv4.get("address"):
            addrs.append(ipv4["address"])
        for extra in data.get("ipv4_secondaries") or []:
            if extra.get("address"):
                addrs.append(extra["address"])
        for extra in data.get("ipv6") or []:
            if extra.get("address"):
                addrs.append(extra["address"])
        interfaces[str(name)] = addrs
    addresses = list(facts.get("all_ipv4_addresses") or []) + list(facts.get("all_ipv6_addresses") or [])
    default = (facts.get("default_ipv4") or {}).get("address") or ""
    return {"addresses": addresses, "interfaces": interfaces, "default": default}


def resolve_advertise(name, report):
    """Return the address ``name`` advertises to the swarm, or raise SwarmError naming the fix.

    ``report`` carries ``advertise_addr`` / ``advertise_interface`` (inventory) and ``network``:
    ``{"addresses": [...], "interfaces": {name: [addresses]}, "default": address}`` from facts.
    """
    network = (
        report.get("network")
        or (report.get("info") or {}).get("network")
        or network_from_facts(report.get("facts"))
    )
    addresses = [str(a) for a in network.get("addresses") or []]
    interfaces = network.get("interfaces") or {}
    wanted_addr = str(report.get("advertise_addr") or "").strip()
    wanted_if = str(report.get("advertise_interface") or "").strip()
    if wanted_addr and wanted_if:
        raise SwarmError(
            "%s: set either swarm_advertise_addr or swarm_advertise_interface, not both" % name
        )
    if wanted_if:
        if wanted_if not in interfaces:
            raise SwarmError(
                "%s: swarm_advertise_interface=%s does not exist on the host; its interfaces are %s"
                % (name, wanted_if, ", ".join(sorted(interfaces)) or "(none reported)")
            )
        usable = [a for a in interfaces[wanted_if] or [] if _ip(a) is not None and not _ip(a).is_link_local]
        if not usable:
            raise SwarmError(
                "%s: swarm_advertise_interface=%s has no usable IP address; pick an interface with an address "
                "(%s)" % (name, wanted_if, ", ".join(sorted(i for i in interfaces if interfaces[i])) or "none")
            )
        return str(usable[0])
    if wanted_addr:
        ip = _ip(wanted_addr)
        if ip is None:
            raise SwarmError(
                "%s: swarm_advertise_addr=%s is not an IP address; give one of the host's addresses (%s) or set "
                "swarm_advertise_interface" % (name, wanted_addr, ", ".join(addresses) or "none reported")
            )
        if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
            raise SwarmError(
                "%s: swarm_advertise_addr=%s cannot be reached by other nodes; give one of the host's addresses (%s)"
                % (name, wanted_addr, ", ".join(addresses) or "none reported")
            )
        if addresses and str(ip) not in set(str(_ip(a)) for a in addresses if _ip(a) is not None):
            raise SwarmError(
                "%s: swarm_advertise_addr=%s is not an address of this host; its addresses are %s"
                % (name, wanted_addr, ", ".join(addresses))
            )
        return str(ip)
    default = str(network.get("default") or "").strip()
    if _ip(default) is None and _ip(report.get("address")) is not None:
        default = str(_ip(report.get("address")))
    if _ip(default) is None:
        raise SwarmError(
            "%s: no default IPv4 address to advertise; set swarm_advertise_addr (one of %s) or "
            "swarm_advertise_interface" % (name, ", ".join(addresses) or "none reported")
        )
    return default


def _addr_host(addr):
    """'10.0.0.2:2377' -> '10.0.0.2', '[fd00::2]:2377' -> 'fd00::2'."""
    text = str(addr or "")
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def join_address(addr, port=SWARM_PORT):
    ip = _ip(addr)
    if ip is not None and ip.version == 6:
        return "[%s]:%d" % (ip, port)
    return "%s:%d" % (addr, port)


def match_nodes(hosts, reports, nodes):
    """Map inventory hosts to swarm node entries.

    A host that answered is matched by the node ID its engine reported, and only by that. A host
    that did not answer (unreachable) is matched by its expected address (``advertise_addr`` or
    ``address``, the inventory's ``ansible_host``) or by its hostname; among several entries a live
    one (not Down) wins, then the newest.
    """
    by_id = dict((n["id"], n) for n in nodes)
    result = {}
    for name in hosts:
        report = reports.get(name) or {}
        if report.get("reachable"):
            node_id = ((report.get("info") or {}).get("swarm") or {}).get("node_id")
            if node_id and node_id in by_id:
                result[name] = by_id[node_id]
            continue
        addrs = set(a for a in (report.get("advertise_addr"), report.get("address")) if a)
        names = set(a for a in (name, report.get("hostname")) if a)
        found = [n for n in nodes if _addr_host(n.get("addr")) in addrs or n.get("hostname") in names]
        if found:
            found.sort(key=lambda n: (n.get("state") != "down", str(n.get("created_at") or "")))
            result[name] = found[-1]
    return result


def plan_swarm(hosts, reports, settings=None):
    """Plan the reconciliation of a whole swarm from what each host reported.

    ``hosts``: the ``swarm`` group in inventory order. ``reports``: per host, the dict the role
    collects (``reachable``, ``info`` = the ``swarm_info`` result, ``network``, ``advertise_addr``,
    ``advertise_interface``, ``labels``, ``availability``). ``settings``:
    ``pinned_managers``, ``pinned_workers``, ``managers_max``, ``replace_lost_managers``,
    ``cluster_id``, ``force_rejoin``.

    Returns a dict (see ``docs/swarm.md``) or raises SwarmError listing every problem found;
    nothing has been changed when it raises.
    """
    settings = settings or {}
    hosts = list(hosts)
    problems = []
    force = bool(settings.get("force_rejoin"))

    try:
        managers_max = check_managers_max(settings.get("managers_max", DEFAULT_MANAGERS_MAX))
    except SwarmError as exc:
        problems.append(str(exc))
        managers_max = None

    reachable = [h for h in hosts if (reports.get(h) or {}).get("reachable")]
    unreachable = [h for h in hosts if h not in reachable]
    for name in hosts:
        if AEROSPIKE_LABEL in ((reports.get(name) or {}).get("labels") or {}):
            problems.append(
                "%s: swarm_node_labels must not set %s: that label places an Aerospike instance (with its data) on the "
                "host, and only the aerospike role sets or removes it, one verified step at a time. Put the host in the "
                "aerospike_nodes group instead" % (name, AEROSPIKE_LABEL))
    infos = {h: (reports[h].get("info") or {}) for h in reachable}

    # Docker present, advertise address valid.
    advertise = {}
    for name in reachable:
        docker = infos[name].get("docker") or {}
        if not docker.get("available"):
            problems.append(
                "%s: Docker engine not available (%s); install it with the aerostack.swarm.docker role "
                "(playbooks/swarm.yml does) and start the service"
                % (name, docker.get("error") or "no swarm_info result")
            )
            continue
        try:
            advertise[name] = resolve_advertise(name, reports[name])
        except SwarmError as exc:
            problems.append(str(exc))

    # Which swarm is THIS swarm: the one holding most of the inventory's managers.
    local = {h: (infos[h].get("swarm") or {}) for h in reachable}
    clusters = {}
    for name in reachable:
        sw = local[name]
        if sw.get("local_state") == "active" and sw.get("is_manager") and sw.get("cluster_id"):
            clusters.setdefault(sw["cluster_id"], []).append(name)
    wanted_id = str(settings.get("cluster_id") or "").strip() or None
    if wanted_id:
        cluster_id = wanted_id
        if wanted_id not in clusters:
            seen = sorted(clusters) or ["none"]
            problems.append(
                "swarm_cluster_id=%s: no reachable inventory host is a manager of that swarm (swarms seen: %s); "
                "fix swarm_cluster_id or leave it empty" % (wanted_id, ", ".join(seen))
            )
    elif not clusters:
        cluster_id = None
    else:
        ranked = sorted(clusters.items(), key=lambda kv: -len(kv[1]))
        if len(ranked) > 1 and len(ranked[0][1]) == len(ranked[1][1]):
            problems.append(
                "the inventory holds managers of %d different swarms (%s); set swarm_cluster_id to the one to keep"
                % (len(ranked), "; ".join("%s: %s" % (cid, ", ".join(names)) for cid, names in ranked))
            )
        cluster_id = ranked[0][0]

    # The node list, as seen by a manager of THIS swarm that has a leader.
    nodes = None
    no_leader = []
    for name in clusters.get(cluster_id, []):
        info = infos[name]
        if info.get("nodes") is not None:
            nodes = info["nodes"]
            break
        no_leader.append(name)
    if cluster_id and clusters.get(cluster_id) and nodes is None:
        # Without a leader nothing else can be read or changed: this is the only thing worth saying.
        raise SwarmError(
            "swarm plan refused, nothing was changed:\n- quorum lost: managers %s of swarm %s answer but the swarm "
            "has no leader (%s)%s; %s"
            % (
                ", ".join(no_leader),
                cluster_id,
                infos[no_leader[0]].get("nodes_error") or local[no_leader[0]].get("error") or "no leader",
                "; unreachable over SSH: %s" % ", ".join(unreachable) if unreachable else "",
                RECOVERY_HINT,
            )
        )
    nodes = nodes or []
    matched = match_nodes(hosts, reports, nodes) if cluster_id else {}

    # Membership of each host.
    members = []
    join = []
    rejoin = {}
    for name in reachable:
        if name not in advertise:
            continue
        sw = local[name]
        state = sw.get("local_state") or "inactive"
        if state == "active" and name in matched and _left_out_of_raft(matched[name]):
            # A manager that a force-new-cluster left behind came back: Docker lists it as a manager by spec, it
            # acts as a worker, and neither promotion nor demotion works on it. Leaving and rejoining does.
            what = ("%s: its node %s is a manager by spec but not in Raft (left behind by a force-new-cluster)"
                    % (name, matched[name].get("id")))
            if force:
                rejoin[name] = what
                join.append(name)
            else:
                problems.append(what + "; set swarm_force_rejoin=true to make it leave and rejoin")
            continue
        if state == "active" and name in matched and sw.get("cluster_id") in (None, cluster_id):
            members.append(name)
            continue
        if state == "inactive":
            join.append(name)
            continue
        if state == "locked":
            problems.append(
                "%s: the swarm is locked on this host; unlock it with 'docker swarm unlock' and the unlock key, "
                "then re-run" % name
            )
            continue
        if state == "active" and cluster_id and sw.get("cluster_id") == cluster_id:
            what = "%s: its node %s is no longer listed by this swarm's managers (removed)" % (name, sw.get("node_id"))
            fix = "; set swarm_force_rejoin=true to make it leave and rejoin"
        elif state == "active":
            what = "%s: already in another swarm%s as %s%s" % (
                name,
                " " + sw["cluster_id"] if sw.get("cluster_id") else "",
                "manager" if sw.get("is_manager") else "worker",
                ", not in swarm %s" % cluster_id if cluster_id else "",
            )
            fix = (
                "; remove it from the inventory, or set swarm_force_rejoin=true to make it leave that swarm "
                "(its tasks there stop) and join this one"
            )
        else:
            what = "%s: swarm membership stuck in state '%s'%s" % (
                name, state, " (%s)" % sw["error"] if sw.get("error") else "")
            fix = "; set swarm_force_rejoin=true to make it leave and rejoin"
        if force:
            rejoin[name] = what
            join.append(name)
        else:
            problems.append(what + fix)

    # Unreachable hosts: tolerated only when the swarm already knows them as Down (lost nodes).
    lost_hosts = []
    for name in unreachable:
        node = matched.get(name)
        if node and _is_lost(node):
            lost_hosts.append(name)
        elif (reports.get(name) or {}).get("missing"):
            problems.append(
                "%s: did not report (it failed earlier in this run, or --limit left it out); the plan needs every "
                "host of the 'swarm' group: fix it, or remove it from the group" % name
            )
        else:
            problems.append(
                "%s: unreachable over SSH (%s)%s; fix the connection or remove it from the 'swarm' group"
                % (
                    name,
                    (reports.get(name) or {}).get("error") or "no answer",
                    "" if not node else "; the swarm still sees its node as %s" % node.get("state"),
                )
            )

    # Managers: who they are now, who they should be.
    current = [h for h in hosts if h in matched and _raft_manager(matched[h]) and (h in members or h in lost_hosts)]
    foreign_managers = [
        n for n in nodes if n.get("role") == "manager" and n.get("id") not in set(m["id"] for m in matched.values())
    ]
    for n in foreign_managers:
        problems.append(
            "node %s (%s, %s) is a manager of this swarm but not in the 'swarm' group; add its host to the inventory "
            "or demote it ('docker node demote %s') so the manager plan stays odd"
            % (n.get("hostname"), n.get("id"), n.get("addr"), n.get("id"))
        )
    unreachable_managers = [
        h for h in current if h in lost_hosts or (matched[h].get("reachability") not in (None, "reachable"))
    ]
    unavailable = set(unreachable) | set(unreachable_managers) | set(h for h in reachable if h not in advertise)
    desired = []
    if managers_max is not None:
        try:
            desired = plan_managers(
                hosts,
                pinned_managers=settings.get("pinned_managers") or (),
                pinned_workers=settings.get("pinned_workers") or (),
                managers_max=managers_max,
                current_managers=current,
                unavailable=unavailable,
                replace_unavailable=bool(settings.get("replace_lost_managers")),
            )
        except SwarmError as exc:
            problems.append(str(exc))
    if current:
        try:
            check_quorum(current, unreachable_managers)
        except SwarmError as exc:
            problems.append(str(exc))

    if problems:
        raise SwarmError("swarm plan refused, nothing was changed:\n- " + "\n- ".join(_dedupe(problems)))

    # Init or adopt, then joins (managers one at a time), then role steps on the result.
    desired_set = set(desired)
    init = None
    if cluster_id is None:
        init = next(h for h in desired)
        join = [h for h in join if h != init]
        acting = init
    else:
        kept = [h for h in desired if h in current and h not in unreachable_managers]
        live = [h for h in current if h not in unreachable_managers]
        acting = (kept or live)[0]
    join_managers = [h for h in hosts if h in join and h in desired_set]
    join_workers = [h for h in hosts if h in join and h not in desired_set]
    after_join = current + [h for h in join_managers if h not in current]
    if init:
        after_join = [init] + [h for h in join_managers if h != init]
    steps = plan_role_changes(after_join, desired, unreachable_managers) if after_join else []
    node_ids = {h: n["id"] for h, n in matched.items() if h in members or h in lost_hosts}
    for step in steps:
        step["node_id"] = node_ids.get(step["node"])

    if init:
        remote_addrs = [join_address(advertise[init])]
    else:
        remote_addrs = [
            n.get("manager_addr") or join_address(_addr_host(n.get("addr")))
            for h, n in matched.items()
            if h in current and h not in unreachable_managers
        ]
        remote_addrs = sorted(set(remote_addrs))

    lost = [
        {
            "host": next((h for h, m in matched.items() if m["id"] == n["id"]), None),
            "node_id": n.get("id"),
            "hostname": n.get("hostname"),
            "addr": n.get("addr"),
            "role": n.get("role"),
            "state": n.get("state"),
            "reachability": n.get("reachability"),
        }
        for n in nodes
        if _is_lost(n)
    ]
    specs = dict((h, node_spec(reports[h])) for h in reachable)
    spec_updates = [
        h for h in hosts
        if h in specs and (
            ((h in join or h == init) and (specs[h]["labels"] or specs[h]["availability"]))
            or (h in members and spec_differs(matched[h], specs[h]))
        )
    ]
    total = len(desired)
    report = report_lines(desired, [h for h in hosts if h not in desired_set], lost,
                          [h for h in unreachable_managers if h in desired_set])
    return {
        "report": report,
        "cluster_id": cluster_id,
        "init": init,
        "acting": acting,
        "managers": desired,
        "workers": [h for h in hosts if h not in desired_set],
        "members": members,
        "join_managers": join_managers,
        "join_workers": join_workers,
        "rejoin": rejoin,
        "steps": steps,
        "node_ids": node_ids,
        "advertise": advertise,
        "remote_addrs": remote_addrs,
        "active_hosts": [h for h in hosts if h in reachable],
        "lost_hosts": lost_hosts,
        "lost": lost,
        "node_specs": specs,
        "spec_updates": spec_updates,
        "quorum": {
            "managers": total,
            "needed": quorum(total) if total else 0,
            "tolerates": tolerated_losses(total),
            "unreachable": [h for h in unreachable_managers if h in desired_set],
        },
    }


def report_lines(managers, workers, lost, unreachable_managers):
    """What a person should read after a run: the shape of the swarm, its fault tolerance, and every lost node."""
    total = len(managers)
    up = total - len(unreachable_managers)
    lines = [
        "%d manager(s) (%s), %d worker(s) (%s)"
        % (total, ", ".join(managers), len(workers), ", ".join(workers) or "none"),
        "quorum: %d of %d managers needed, %d reachable, %d more manager loss(es) tolerated"
        % (quorum(total), total, up, max(up - quorum(total), 0)),
    ]
    for node in lost:
        lines.append(
            "LOST: %s (node %s, %s, last address %s) is %s%s; %s" % (
                node.get("host") or node.get("hostname"),
                node.get("node_id"),
                "manager left out of Raft" if node.get("role") == "manager" and node.get("reachability") is None
                else node.get("role"),
                node.get("addr"),
                node.get("state"),
                " and unreachable for Raft" if node.get("reachability") == "unreachable" else "",
                "when it is back it must leave and rejoin (swarm_force_rejoin=true); or remove its entry (docker "
                "node rm %s) and its host from the inventory" % node.get("node_id")
                if node.get("role") == "manager" and node.get("reachability") is None else
                "bring it back, or set swarm_replace_lost_managers=true to promote a replacement and demote it"
                if node.get("role") == "manager" else
                "bring it back, or remove its entry (docker node rm %s) and its host from the inventory"
                % node.get("node_id"),
            )
        )
    return lines


def _raft_manager(node):
    """A manager that takes part in Raft (has a manager status), not just one whose spec says manager."""
    return node.get("role") == "manager" and node.get("reachability") is not None


def _left_out_of_raft(node):
    return node.get("role") == "manager" and node.get("reachability") is None


def _is_lost(node):
    """The swarm itself sees the node as gone: not ready (down, unknown, disconnected), or a manager Raft cannot reach."""
    return node.get("state") in ("down", "unknown", "disconnected") or (
        _raft_manager(node) and node.get("reachability") == "unreachable")


def node_spec(report):
    """Labels and availability the role manages for one host.

    Keys from ``swarm_node_labels`` are added or updated; other labels are left alone. The
    ``aerostack.aerospike`` label is never touched here: it says which hosts run an Aerospike instance,
    and only the aerospike role sets and removes it (one verified step at a time; see ``plan_swarm``,
    which refuses it in ``swarm_node_labels``). Availability is changed only when
    ``swarm_node_availability`` is set.
    """
    labels = dict((str(k), str(v)) for k, v in (report.get("labels") or {}).items() if str(k) != AEROSPIKE_LABEL)
    absent = []
    availability = str(report.get("availability") or "").strip() or None
    return {"labels": labels, "labels_absent": absent, "availability": availability}


def spec_differs(node, spec):
    """Whether a node (as listed by a manager) lacks something ``spec`` (from ``node_spec``) asks for."""
    labels = node.get("labels") or {}
    if any(labels.get(k) != v for k, v in spec["labels"].items()):
        return True
    if any(k in labels for k in spec["labels_absent"]):
        return True
    return bool(spec["availability"]) and node.get("availability") != spec["availability"]


def _dedupe(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def find_stale_nodes(nodes):
    """Down node entries that a live node with the same hostname has replaced (a host that left and rejoined)."""
    live = set(n.get("hostname") for n in nodes if n.get("state") != "down")
    return [n for n in nodes if n.get("state") == "down" and n.get("hostname") in live and n.get("role") == "worker"]


def verify_swarm(plan, nodes, node_ids):
    """Compare the node list from a manager with the plan; return the problems (empty: the swarm is right).

    ``node_ids`` maps each active inventory host to the node ID its engine reported after the run.
    """
    by_id = dict((n["id"], n) for n in nodes)
    expected = set(plan.get("managers") or [])
    lost = set(plan.get("lost_hosts") or [])
    problems = []
    for host in plan.get("active_hosts") or []:
        node = by_id.get((node_ids or {}).get(host))
        want = "manager" if host in expected else "worker"
        if node is None:
            problems.append("%s: not a member of swarm %s" % (host, plan.get("cluster_id") or "(new)"))
            continue
        if node.get("role") != want:
            problems.append("%s: is a %s, the plan wants a %s" % (host, node.get("role"), want))
        if node.get("state") != "ready":
            problems.append("%s: node state is '%s', not 'ready'" % (host, node.get("state")))
        if want == "manager" and node.get("reachability") != "reachable":
            problems.append("%s: manager reachability is '%s'" % (host, node.get("reachability")))
    managers = [n for n in nodes if _raft_manager(n)]
    if len(managers) != len(expected):
        problems.append(
            "%d managers in the swarm (%s), the plan wants %d (%s)"
            % (
                len(managers),
                ", ".join(sorted(str(n.get("hostname")) for n in managers)),
                len(expected),
                ", ".join(sorted(expected)),
            )
        )
    down_managers = [n for n in managers if n.get("state") == "down"]
    if len(down_managers) > len([h for h in lost if h in expected]):
        problems.append(
            "managers Down beyond the known lost hosts: %s" % ", ".join(str(n.get("hostname")) for n in down_managers)
        )
    return problems
