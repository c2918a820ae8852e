# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A directory of small text files written in one module run (the ``stack_files`` module): what a stack deploy reads
on a manager. Standard library only.

The decisions are pure functions (which names are acceptable, which files must be written and which only need their
mode or owner fixed); reading and writing are small functions taking paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.aerostack.swarm.plugins.module_utils._files import write_atomically


class StackFilesError(Exception):
    """A file could not be read or written; the message names the file and the cause."""


def name_problems(files):
    """Why ``files`` (name -> text) cannot be written into one directory: names must be plain file names and the
    contents text. Returns a list of messages, empty when all is well."""
    problems = []
    if not isinstance(files, dict) or not files:
        return ["files must map at least one file name to its content"]
    for name in sorted(files, key=str):
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\0" in name:
            problems.append("file name %r must be a plain name inside path (no '/', not '.' or '..')" % (name,))
        elif not isinstance(files[name], str):
            problems.append("content of %s must be text, not %s" % (name, type(files[name]).__name__))
    return problems


def plan(current, wanted, mode, uid, gid):
    """What to do per file. ``current``: name -> ``None`` (missing) or ``(bytes, mode, uid, gid)`` as found;
    ``wanted``: name -> text. Returns ``{"write": [names], "fix": [names]}``: files whose content differs or that are
    missing are written; files with the right content but another mode or owner only get those fixed."""
    write, fix = [], []
    for name in sorted(wanted):
        found = current.get(name)
        if found is None or found[0] != wanted[name].encode("utf-8"):
            write.append(name)
        elif (found[1], found[2], found[3]) != (mode, uid, gid):
            fix.append(name)
    return {"write": write, "fix": fix}


def read_current(directory, names):
    """``name -> (bytes, mode, uid, gid)`` of each of ``names`` in ``directory``, ``None`` for a missing one."""
    current = {}
    for name in names:
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
        except OSError:
            current[name] = None
            continue
        if not stat.S_ISREG(info.st_mode):
            raise StackFilesError("%s is not a regular file: remove it, the stack's files go there" % path)
        try:
            with open(path, "rb") as handle:
                current[name] = (handle.read(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
        except (IOError, OSError) as exc:
            raise StackFilesError("read %s failed: %s" % (path, exc))
    return current


def ensure_directory(directory, mode, uid, gid):
    """Create ``directory`` (and its parents) when missing and give it ``mode`` and owner; returns whether anything
    changed."""
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode)
            os.chmod(directory, mode)
            os.chown(directory, uid, gid)
            return True
        info = os.stat(directory)
        changed = False
        if stat.S_IMODE(info.st_mode) != mode:
            os.chmod(directory, mode)
            changed = True
        if (info.st_uid, info.st_gid) != (uid, gid):
            os.chown(directory, uid, gid)
            changed = True
        return changed
    except OSError as exc:
        raise StackFilesError("prepare the directory %s failed: %s" % (directory, exc))


def write_file(directory, name, text, mode, uid, gid):
    """Write ``text`` to ``directory/name`` atomically (a temporary file renamed over it) with ``mode`` and owner."""
    path = os.path.join(directory, name)
    try:
        write_atomically(path, text.encode("utf-8"), mode, (uid, gid))
    except (IOError, OSError) as exc:
        raise StackFilesError("write %s failed: %s" % (path, exc))


def fix_file(directory, name, mode, uid, gid):
    """Give ``directory/name`` ``mode`` and owner."""
    path = os.path.join(directory, name)
    try:
        os.chmod(path, mode)
        os.chown(path, uid, gid)
    except OSError as exc:
        raise StackFilesError("set the mode and owner of %s failed: %s" % (path, exc))
