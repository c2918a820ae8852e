# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Which Aerospike nodes a module talks to, and from which network namespace.
    DOCUMENTATION = r"""
options:
  nodes:
    description:
      - Info addresses of the Aerospike nodes, each C(host), C(host:port), C([ipv6]) or C([ipv6]:port).
      - Exactly one of O(nodes) and O(nodes_from_dns) is required.
    type: list
    elements: str
  nodes_from_dns:
    description:
      - A DNS name whose A records are the nodes, typically C(tasks.<stack>_<service>) for a swarm service
        deployed with C(endpoint_mode=dnsrr).
      - With O(network_namespace) the name is resolved by the DNS server of that container (the swarm's embedded
        DNS), otherwise by this host's resolver.
    type: str
  port:
    description:
      - Info port used for node addresses that do not name one (the service port; the admin port 3003 answers
        the same commands).
    type: int
    default: 3000
  network_namespace:
    description:
      - Talk to the nodes from inside the network namespace of a container running on this host.
      - Needed when the nodes live on an overlay network, whose addresses the host itself cannot reach.
      - Needs root on this host (use C(become=true)); the module fails with that advice otherwise.
    type: dict
    suboptions:
      container:
        description: Name or ID of a running container attached to the nodes' network.
        type: str
      service:
        description:
          - Name of a swarm service (for example C(aerospike_aerospike)); the oldest of its running tasks on this
            host is used. The module fails, naming the host, when no task of it runs here.
        type: str
  docker_host:
    description:
      - The Docker engine socket used to find the container of O(network_namespace).
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description:
      - Seconds to wait for a connection and for each answer from a node.
    type: float
    default: 5.0
notes:
  - The modules speak the Aerospike info protocol themselves; no C(asinfo) or Aerospike client is needed on the host.
"""
