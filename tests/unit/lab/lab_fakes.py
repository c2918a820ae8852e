"""A scripted stand-in for the docker CLI, for unit tests of the lab's decisions (no engine needed)."""

import json
import subprocess


class FakeDocker:
    """Answers docker CLI calls from ``rules``: (argv prefix after 'docker', rc, stdout, stderr), first match wins.

    Calls are recorded in ``calls`` (argv without the leading 'docker'). Unmatched calls fail loudly.
    """

    def __init__(self, rules=()):
        self.rules = [(tuple(prefix), rc, out, err) for prefix, rc, out, err in rules]
        self.calls = []

    def __call__(self, argv, input=None, capture_output=True, timeout=None, check=False):
        args = tuple(argv[1:])
        self.calls.append(args)
        for prefix, rc, out, err in self.rules:
            if args[: len(prefix)] == prefix:
                return subprocess.CompletedProcess(argv, rc, out.encode(), err.encode())
        raise AssertionError(f"unexpected docker call: {' '.join(args)}")

    def called(self, *prefix):
        return [c for c in self.calls if c[: len(prefix)] == prefix]


ENGINE_UP = (("version",), 0, "20.10.24+dfsg1\n", "")
NO_CONTAINERS = (("ps",), 0, "", "")
NO_VOLUMES = (("volume", "ls"), 0, "", "")


def no_such(kind, name):
    return ((kind, "inspect", name), 1, "", f"Error: No such {kind}: {name}\n")


def network(name, labels, subnet="198.18.0.0/24"):
    body = [{"Name": name, "Id": "n" * 64, "Labels": labels, "IPAM": {"Config": [{"Subnet": subnet}]}}]
    return (("network", "inspect", name), 0, json.dumps(body), "")
