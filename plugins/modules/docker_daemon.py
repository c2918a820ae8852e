#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_daemon
short_description: Write the Docker engine's daemon.json and wait until the engine answers
version_added: 0.1.0
description:
  - With O(config), makes O(path) hold that configuration as JSON (sorted keys, two-space indent), creating its
    directory; a file that already means the same (whatever its layout) is left alone. Root-owned, mode C(0644).
  - With O(wait_timeout) above 0, then waits in the module (no SSH polling) until the engine answers on
    O(docker_host), and returns its version; an engine that does not answer in time is a failure naming the last
    error.
  - It does not restart the engine; the aerostack.swarm.docker role restarts it through its service handler when the
    file changed.
extends_documentation_fragment:
  - aerostack.swarm.attributes
attributes:
  check_mode:
    support: full
    details:
      - The wait still runs in check mode (it only reads); set O(wait_timeout=0) where the engine cannot be there yet.
  diff_mode:
    support: full
    details:
      - The diff shows the file before and after.
options:
  config:
    description:
      - The engine's configuration. Not set leaves the file alone (only wait).
    type: dict
  path:
    description:
      - The file to write.
    type: path
    default: /etc/docker/daemon.json
  wait_timeout:
    description:
      - Seconds to wait until the engine answers; 0 does not wait.
    type: int
    default: 0
  docker_host:
    description:
      - The Docker engine's unix socket.
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: aerostack.swarm.docker_host_info
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Write daemon.json and wait until the engine answers
  aerostack.swarm.docker_daemon:
    config:
      log-driver: json-file
      log-opts: {max-size: 10m, max-file: "3"}
    wait_timeout: 30
  register: docker_daemon
"""

RETURN = r"""
docker:
  description: The engine, when O(wait_timeout) is above 0.
  returned: when waited
  type: dict
  contains:
    available:
      description: The engine answered.
      type: bool
    version:
      description: Its version.
      type: str
      sample: 20.10.24+dfsg1
    waited:
      description: Seconds the module waited for it.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApi, DockerApiError
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_host import (
    DockerHostError,
    daemon_json_differs,
    engine_probe,
    render_daemon_json,
    wait_for_engine,
    write_daemon_json,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import socket_path
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="dict"),
            path=dict(type="path", default="/etc/docker/daemon.json"),
            wait_timeout=dict(type="int", default=0),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = {"changed": False}
    try:
        socket = socket_path(params["docker_host"])
        if params["config"] is not None:
            try:
                with open(params["path"], "r") as handle:
                    current = handle.read()
            except (IOError, OSError):
                current = None
            wanted = render_daemon_json(params["config"])
            if daemon_json_differs(current, params["config"]):
                result["changed"] = True
                result["diff"] = {"before": current or "", "after": wanted, "before_header": params["path"],
                                  "after_header": params["path"]}
                if not module.check_mode:
                    write_daemon_json(params["path"], wanted)
        if params["wait_timeout"] > 0:
            result["docker"] = wait_for_engine(engine_probe(DockerApi(socket, timeout=10.0).info, DockerApiError),
                                               params["wait_timeout"])
    except (DockerHostError, SwarmError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
