# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to tip and what to tip-clear: pure decisions over mesh seeds, standard-library only.

A real 8.x server refuses a seed it already has (``ERROR::unknown``) and answers
``ERROR::0 cleared, 1 not found`` for a seed it does not have, so tipping is only idempotent when the
configured seeds (``get-config:context=network``) are read first and only the difference is sent.
Host strings are compared as the server stores them: exactly, except for letter case.
"""

from __future__ import annotations


def _key(seed):
    host, port = seed
    return host.lower(), int(port)


def tip_command(host, port):
    """The info command that adds ``host:port`` as a mesh seed."""
    return "tip:host=%s;port=%d" % (host, port)


def tip_clear_command(seeds):
    """The info command that removes the given ``(host, port)`` seeds.

    The list separator is a comma and host and port are joined by a colon; the 2017 discovery
    script's ``host;port`` form is parsed by the server as something else and never clears anything.
    """
    if not seeds:
        raise ValueError("tip-clear needs at least one seed")
    return "tip-clear:host-port-list=" + ",".join("%s:%d" % (h, p) for h, p in seeds)


def plan_tips(self_hosts, wanted, seeds):
    """The seeds of ``wanted`` to tip into a node: not configured yet, not the node itself, no repeats."""
    own = set(h.lower() for h in self_hosts)
    have = set(_key(s) for s in seeds)
    plan = []
    for seed in wanted:
        key = _key(seed)
        if key[0] in own or key in have:
            continue
        have.add(key)
        plan.append((seed[0], int(seed[1])))
    return plan


def plan_clears(unwanted, seeds):
    """The seeds of ``unwanted`` that are configured on the node (in the node's own spelling)."""
    configured = dict((_key(s), (s[0], int(s[1]))) for s in seeds)
    plan = []
    for seed in unwanted:
        found = configured.pop(_key(seed), None)
        if found is not None:
            plan.append(found)
    return plan


def parse_tip_clear_answer(value):
    """``ERROR::1 cleared, 2 not found`` -> ``(1, 2)``; ``ok`` -> None; anything else -> None."""
    text = value.strip()
    marker = text.rsplit(":", 1)[-1].strip()
    words = marker.replace(",", " ").split()
    if len(words) == 5 and words[1] == "cleared" and words[3:] == ["not", "found"]:
        try:
            return int(words[0]), int(words[2])
        except ValueError:
            return None
    return None
