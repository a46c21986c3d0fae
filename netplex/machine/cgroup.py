"""A machine's cgroup v1 `net_cls` hierarchy, mounted at /sys/fs/cgroup/net_cls.

What a Docker host (cgroupfs driver, cgroup v1) and a shell see of it
(Documentation/admin-guide/cgroup-v1/net_cls.rst, net/core/netclassid_cgroup.c,
kernel/cgroup/cgroup-v1.c):

- `mkdir DIR` makes a cgroup; it starts with its parent's classid (cgrp_css_online);
  `rmdir` removes it, EBUSY while it holds tasks or child cgroups;
- each folder holds `net_cls.classid` (read as a decimal u64, written as a number in
  any base kstrtoull takes: `echo 0x100001 > net_cls.classid`), `tasks` and
  `cgroup.procs` (the pids in it, sorted; writing a pid moves that task, ESRCH when
  there is none), `cgroup.clone_children`, `notify_on_release` and, at the root,
  `release_agent` and `cgroup.sane_behavior`;
- a task's sockets carry its cgroup's classid (sk_cgrp_data): writing a classid
  updates the sockets of every task in the cgroup and moving a task updates its
  sockets (update_classid_task). netplex keeps the classid on the task
  (`Process.net_cls_classid`) and a socket reads it through the task it belongs to.

A fork starts in its parent's cgroup (netplex.apps.process). Control files
other than these are not modelled: writing one is EINVAL.
"""
from __future__ import annotations

import errno
import posixpath

from netplex.apps.process import ProcessTable
from netplex.machine.fs import CGROUP_MOUNT_ROOT, FsError, Stat

__all__ = ["NET_CLS_MOUNT", "NetClsFs"]

NET_CLS_MOUNT = CGROUP_MOUNT_ROOT + "/net_cls"
_FILES = ("cgroup.clone_children", "cgroup.procs", "net_cls.classid", "notify_on_release", "tasks")
_ROOT_FILES = ("cgroup.sane_behavior", "release_agent")
_READ_ONLY = ("cgroup.sane_behavior",)
U64_MAX = (1 << 64) - 1


def kstrtoull(text: str) -> int | None:
    """kstrtoull(strstrip(buf), 0): decimal, 0x hex or 0 octal, the whole string; None if not."""
    t = text.strip()
    if t.startswith("+"):
        t = t[1:]
    try:
        if t[:2].lower() == "0x":
            v = int(t[2:], 16) if t[2:] and all(c in "0123456789abcdefABCDEF" for c in t[2:]) else None
        elif t.startswith("0") and len(t) > 1:
            v = int(t[1:], 8) if t[1:].isdigit() else None
        else:
            v = int(t) if t.isdigit() else None
    except ValueError:
        return None
    return v if v is not None and v <= U64_MAX else None


class NetClsFs:
    """The net_cls hierarchy of one machine: cgroups by path ("/" the root) and their classids."""

    def __init__(self, procs: ProcessTable) -> None:
        self.procs = procs
        self.classid: dict[str, int] = {"/": 0}

    # -- the model
    def tasks(self, cgroup: str) -> list[int]:
        """The live pids in `cgroup`, sorted (the v1 pidlist)."""
        return sorted(p.pid for p in self.procs if p.alive and p.net_cls_cgroup == cgroup)

    def set_classid(self, cgroup: str, classid: int) -> None:
        """write_classid: the cgroup's classid, and the sockets of every task in it."""
        self.classid[cgroup] = classid
        for p in self.procs:
            if p.net_cls_cgroup == cgroup:
                p.net_cls_classid = classid

    def attach(self, cgroup: str, pid: int) -> None:
        """cgroup_attach_task (a write to tasks or cgroup.procs); ESRCH when no such task."""
        if cgroup not in self.classid:
            raise FsError(errno.ENOENT)
        p = self.procs.get(pid)
        if p is None or not p.alive:
            raise FsError(errno.ESRCH)
        p.net_cls_cgroup = cgroup
        p.net_cls_classid = self.classid[cgroup]

    def make(self, cgroup: str) -> None:
        """mkdir in the hierarchy: the new cgroup takes its parent's classid."""
        if cgroup in self.classid:
            raise FsError(errno.EEXIST)
        parent = posixpath.dirname(cgroup)
        if parent not in self.classid:
            raise FsError(errno.ENOENT)
        self.classid[cgroup] = self.classid[parent]

    # -- MountedFs
    def _split(self, rel: str) -> tuple[str, str] | None:
        """(cgroup, control file or "") for a path in the hierarchy; None when nothing is there."""
        if rel in self.classid:
            return rel, ""
        d, name = posixpath.split(rel)
        if d in self.classid and (name in _FILES or (d == "/" and name in _ROOT_FILES)):
            return d, name
        return None

    def stat(self, rel: str) -> Stat | None:
        hit = self._split(rel)
        if hit is None:
            return None
        if not hit[1]:
            return Stat(True, 0o755, 0)
        return Stat(False, 0o444 if hit[1] in _READ_ONLY else 0o644, 0)

    def _missing(self, rel: str) -> FsError:
        parent = posixpath.dirname(rel)
        return FsError(errno.ENOENT if self._split(parent) is None or parent in self.classid else errno.ENOTDIR)

    def read_bytes(self, rel: str) -> bytes:
        hit = self._split(rel)
        if hit is None:
            raise self._missing(rel)
        cgroup, name = hit
        if not name:
            raise FsError(errno.EISDIR)
        if name == "net_cls.classid":
            return f"{self.classid[cgroup]}\n".encode()
        if name in ("tasks", "cgroup.procs"):
            return "".join(f"{pid}\n" for pid in self.tasks(cgroup)).encode()
        if name == "release_agent":
            return b"\n"
        return b"0\n"

    def write_bytes(self, rel: str, data: bytes) -> None:
        hit = self._split(rel)
        if hit is None:
            raise FsError(errno.EACCES if posixpath.dirname(rel) in self.classid else errno.ENOENT)
        cgroup, name = hit
        if not name:
            raise FsError(errno.EISDIR)
        if not data:            # open(O_TRUNC) writes nothing
            return
        if name in _READ_ONLY:
            raise FsError(errno.EACCES)
        text = data.decode("utf-8", "replace")
        if name == "net_cls.classid":
            v = kstrtoull(text)
            if v is None:
                raise FsError(errno.EINVAL)
            self.set_classid(cgroup, v & 0xFFFFFFFF)    # cs->classid is a u32
        elif name in ("tasks", "cgroup.procs"):
            v = kstrtoull(text)
            if v is None or v > 0x7FFFFFFF:
                raise FsError(errno.EINVAL)
            self.attach(cgroup, v)
        else:
            raise FsError(errno.EINVAL)

    def mkdir(self, rel: str) -> None:
        if self._split(rel) is not None:
            raise FsError(errno.EEXIST)
        self.make(rel)

    def rmdir(self, rel: str) -> None:
        hit = self._split(rel)
        if hit is None:
            raise self._missing(rel)
        cgroup, name = hit
        if name:
            raise FsError(errno.ENOTDIR)
        if cgroup == "/":
            raise FsError(errno.EBUSY)
        if self.tasks(cgroup) or any(c.startswith(cgroup + "/") for c in self.classid):
            raise FsError(errno.EBUSY)
        del self.classid[cgroup]

    def listdir(self, rel: str) -> list[str]:
        hit = self._split(rel)
        if hit is None:
            raise self._missing(rel)
        cgroup, name = hit
        if name:
            raise FsError(errno.ENOTDIR)
        prefix = cgroup.rstrip("/") + "/"
        subs = {c[len(prefix):] for c in self.classid
                if c != cgroup and c.startswith(prefix) and "/" not in c[len(prefix):]}
        files = set(_FILES) | (set(_ROOT_FILES) if cgroup == "/" else set())
        return sorted(subs | files)
