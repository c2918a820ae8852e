# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing small files on a managed host, shared by the modules that do. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile


def read_text(path):
    """The text of ``path``, or None when it cannot be read (missing, unreadable)."""
    try:
        with open(path, "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_atomically(path, data, mode, owner=None):
    """Write ``data`` (bytes) to ``path`` through a temporary file in the same directory renamed over it, so a reader
    sees the old content or the new, never a part; the file gets ``mode`` and, when given, ``owner`` (uid, gid).
    Raises IOError/OSError; the temporary file never stays behind."""
    handle, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        if owner is not None:
            os.chown(temp, owner[0], owner[1])
        os.rename(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
