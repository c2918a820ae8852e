#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stack_files
short_description: Write a directory of text files in one round trip (a stack file and the files it names)
version_added: 0.2.0
description:
  - Makes O(path) a directory (mode O(directory_mode)) holding each file of O(files) with exactly that content, mode
    O(mode) and owner O(owner):O(group). Files with the right content are left alone (only a wrong mode or owner is
    fixed); the others are written atomically (a temporary file renamed over the old one).
  - One module run instead of a C(file) task plus a C(copy) task per file, each of which costs several SSH round
    trips. Other files in O(path) are left alone.
extends_documentation_fragment:
  - aerostack.swarm.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One diff per file that would be written.
options:
  path:
    description:
      - The directory.
    type: path
    required: true
  files:
    description:
      - File name (a plain name inside O(path)) to its content (text, written as UTF-8).
    type: dict
    required: true
  mode:
    description:
      - Mode of the files, as an octal string.
    type: str
    default: "0640"
  directory_mode:
    description:
      - Mode of O(path), as an octal string.
    type: str
    default: "0750"
  owner:
    description:
      - Owner of the directory and the files.
    type: str
    default: root
  group:
    description:
      - Group of the directory and the files.
    type: str
    default: root
author:
  - aerostack.swarm maintainers (@aerostack)
"""

EXAMPLES = r"""
- name: Write the stack file and the configuration it names
  aerostack.swarm.stack_files:
    path: /etc/aerostack/stack
    files:
      docker-stack.yml: "{{ stack | to_nice_yaml }}"
      aerospike.conf: "{{ conf }}"
"""

RETURN = r"""
written:
  description: The files written (new or with another content), in name order.
  returned: always
  type: list
  elements: str
  sample: [aerospike.conf, docker-stack.yml]
fixed:
  description: The files whose content was right but whose mode or owner was not.
  returned: always
  type: list
  elements: str
  sample: []
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aerostack.swarm.plugins.module_utils._stack_files import (
    StackFilesError,
    ensure_directory,
    fix_file,
    name_problems,
    plan,
    read_current,
    write_file,
)


def _mode(module, name):
    text = module.params[name]
    try:
        value = int(text, 8)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 0o7777:
        module.fail_json(msg="%s %r must be an octal mode such as '0640'" % (name, text))
    return value


def _id(module, name, lookup, attribute):
    try:
        return getattr(lookup(module.params[name]), attribute)
    except KeyError:
        module.fail_json(msg="%s %r does not exist on this host" % (name, module.params[name]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            mode=dict(type="str", default="0640"),
            directory_mode=dict(type="str", default="0750"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    problems = name_problems(params["files"])
    if problems:
        module.fail_json(msg="; ".join(problems))
    mode, directory_mode = _mode(module, "mode"), _mode(module, "directory_mode")
    uid, gid = _id(module, "owner", pwd.getpwnam, "pw_uid"), _id(module, "group", grp.getgrnam, "gr_gid")
    directory, files = params["path"], params["files"]
    result = {"changed": False, "written": [], "fixed": []}
    try:
        current = read_current(directory, files)
        todo = plan(current, files, mode, uid, gid)
        result.update(written=todo["write"], fixed=todo["fix"])
        diff = [{"before_header": "%s/%s" % (directory, name), "after_header": "%s/%s" % (directory, name),
                 "before": current[name][0].decode("utf-8", "replace") if current[name] else "",
                 "after": files[name]} for name in todo["write"]]
        if diff:
            result["diff"] = diff
        result["changed"] = bool(todo["write"] or todo["fix"])
        if module.check_mode:
            result["changed"] = result["changed"] or not os.path.isdir(directory)
        else:
            result["changed"] = ensure_directory(directory, directory_mode, uid, gid) or result["changed"]
            for name in todo["write"]:
                write_file(directory, name, files[name], mode, uid, gid)
            for name in todo["fix"]:
                fix_file(directory, name, mode, uid, gid)
    except StackFilesError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
