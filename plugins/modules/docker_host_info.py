#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_host_info
short_description: The operating system and the installed packages of a host, in one round trip
version_added: 0.1.0
description:
  - Reads what the aerostack.swarm.docker role decides on before it installs anything, with the Python standard
    library only, in one module run instead of fact gathering plus a package query.
  - The operating system comes from C(/etc/os-release) (Debian's point release from C(/etc/debian_version)) and
    the kernel's machine name, named as Ansible's distribution facts name them.
  - The installed version of each package of O(packages) comes from C(dpkg-query); a host without dpkg reports
    none installed and RV(dpkg=false).
  - Never changes anything.
extends_documentation_fragment:
  - aerostack.swarm.attributes
  - aerostack.swarm.attributes.INFO_MODULE
options:
  packages:
    description:
      - Packages to look up, each C(name) or C(name=version) (a pinned version counts as missing when another one
        is installed).
    type: list
    elements: str
    default: []
  daemon_config:
    description:
      - The engine configuration the role wants in O(daemon_json_path); RV(daemon_json_current) says whether the
        file already holds it (same JSON meaning), so that a caller can skip writing it.
    type: dict
  daemon_json_path:
    description:
      - The engine's configuration file, read with O(daemon_config).
    type: path
    default: /etc/docker/daemon.json
  docker_host:
    description:
      - When set, asks the engine on this unix socket once (no waiting) and returns RV(engine).
    type: str
seealso:
  - module: aerostack.swarm.docker_daemon
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Read the operating system and which of the engine's packages are installed
  aerostack.swarm.docker_host_info:
    packages: [docker.io, python3, python3-docker]
  register: docker_host

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ docker_host.missing }}"
  when: docker_host.missing | length > 0
"""

RETURN = r"""
os:
  description: The operating system, with the names of Ansible's distribution facts.
  returned: always
  type: dict
  contains:
    distribution:
      description: The distribution (Debian, Ubuntu, Fedora, ...).
      type: str
      sample: Debian
    distribution_version:
      description: Its version (Debian's point release).
      type: str
      sample: "12.8"
    distribution_major_version:
      description: The major version.
      type: str
      sample: "12"
    distribution_release:
      description: The release's code name.
      type: str
      sample: bookworm
    os_family:
      description: The family (Debian, RedHat, Suse, ...).
      type: str
      sample: Debian
    architecture:
      description: The kernel's machine name.
      type: str
      sample: x86_64
dpkg:
  description: Whether dpkg-query answered (false on hosts without dpkg).
  returned: always
  type: bool
packages:
  description: The installed version of each package of O(packages), None when it is not installed.
  returned: always
  type: dict
  sample: {"docker.io": "20.10.24+dfsg1-1+deb12u1", "python3-docker": null}
missing:
  description: The entries of O(packages) that are not installed, or installed at another version than pinned.
  returned: always
  type: list
  elements: str
  sample: ["python3-docker"]
python_apt:
  description: Whether python3-apt is installed (the apt module needs it to predict in check mode).
  returned: always
  type: bool
daemon_json_current:
  description: O(daemon_json_path) already holds O(daemon_config).
  returned: when O(daemon_config) is set
  type: bool
engine:
  description: Whether the engine answered on O(docker_host) (asked once, not waited for).
  returned: when O(docker_host) is set
  type: dict
  contains:
    available:
      description: The engine answered.
      type: bool
    version:
      description: Its version.
      type: str
    error:
      description: Why not, when it did not.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi, DockerApiError
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_host import (
    DockerHostError,
    daemon_json_current,
    engine_probe,
    read_host,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import socket_path
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type="list", elements="str", default=[]),
            daemon_config=dict(type="dict"),
            daemon_json_path=dict(type="path", default="/etc/docker/daemon.json"),
            docker_host=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = read_host(params["packages"])
        if params["daemon_config"] is not None:
            result["daemon_json_current"] = daemon_json_current(params["daemon_json_path"], params["daemon_config"])
        if params["docker_host"]:
            available, version, error = engine_probe(
                DockerApi(socket_path(params["docker_host"]), timeout=5.0).info, DockerApiError)()
            result["engine"] = {"available": available, "version": version, "error": error}
    except (DockerHostError, SwarmError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
