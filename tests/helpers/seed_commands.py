"""How a real 8.1.2.0 server answers the seed commands, on a plain list of ``host:port`` seeds (the test fakes' state).

``tip`` and ``tip-clear`` answers are the exact strings of tests/fixtures (tip.txt, tip-clear.txt): a duplicate tip is
``ERROR::unknown``, a tip without port ``ERROR:4:missing 'port'``, a tip-clear of a missing seed
``ERROR::<cleared> cleared, <missing> not found`` (the 2017 ``host;port`` form and ``all`` clear nothing).
"""

import re

TIP = re.compile(r"^tip:host=([^;]*)(?:;port=(.*))?$")
TIP_CLEAR = "tip-clear:host-port-list="


def answer_seed_command(seeds, command):
    """The answer to ``command`` when it is a tip or a tip-clear (``seeds`` is updated in place), else None."""
    match = TIP.match(command)
    if match:
        host, port = match.group(1), match.group(2)
        if port is None:
            return "ERROR:4:missing 'port'"
        if not port.isdigit():
            return "ERROR:4:'port' must be an integer"
        seed = "%s:%s" % (host, port)
        if seed in seeds:
            return "ERROR::unknown"
        seeds.append(seed)
        return "ok"
    if command.startswith(TIP_CLEAR):
        cleared = missing = 0
        for item in command[len(TIP_CLEAR):].split(","):
            if ":" not in item:
                continue
            if item in seeds:
                seeds.remove(item)
                cleared += 1
            else:
                missing += 1
        return "ok" if missing == 0 and cleared else "ERROR::%d cleared, %d not found" % (cleared, missing)
    return None
