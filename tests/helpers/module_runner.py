"""Run a module's ``main()`` in-process with ansible's ``patch_module_args``; return its JSON result."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def run_module(module, args, check_mode=False, diff=False, capsys=None):
    """Call ``module.main()``; return ``(result, failed)`` from what it printed."""
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    return result, bool(result.get("failed")) or exit_info.value.code != 0
