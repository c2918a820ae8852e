"""aerostack_lab: a multi-host Docker swarm lab on one machine (Docker-in-Docker hosts).

Standard library only. The CLI (``scripts/lab``) and the tests use the same API::

    from aerostack_lab import Lab
    lab = Lab(name="my-lab", hosts=3)
    lab.up()
    rc, out, err = lab.exec("lab1", ["docker", "info"])
    lab.down()
"""

from .errors import LabError
from .lab import DEFAULT_FLAVOUR, DEFAULT_HOSTS, DEFAULT_NAME, Host, Lab

__all__ = ["Lab", "Host", "LabError", "DEFAULT_NAME", "DEFAULT_HOSTS", "DEFAULT_FLAVOUR"]
