"""A machine's own small filesystem: /etc, /run, /var/lib, /tmp, /root (the modelled
/proc and /sys are read through `netplex.shell.sysfs`).

Paths are absolute and normalised; contents are bytes. Daemons read their
configuration here, scenarios place files here (`files:`), and the shell's
redirections and file tools (`cat`, `tee`, `ls`, `mkdir`, `rm`, ...) work on it.

The strict calls (`read_bytes`, `write_bytes`, `mkdir`, `unlink`, `rmdir`,
`rename`, `listdir`) fail as the system calls do, with an `FsError` carrying
the errno and its strerror text (open(2), mkdir(2), unlink(2), rmdir(2),
rename(2)); the shell prints that text the way each tool does
(`cat: /etc/x: No such file or directory`). `read` and `write` are the
lenient forms daemons and scenario files use (None when absent; parents made).

A kernel filesystem with behaviour of its own (a cgroup hierarchy, mount(2)ed at
/sys/fs/cgroup/NAME) is a `MountedFs` given to `mount`: every call on a path
under its mount point goes to it, with the path relative to the mount ("/...").
"""
from __future__ import annotations

import errno as _errno
import fnmatch
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from netplex.errors import NetplexError

__all__ = ["CGROUP_MOUNT_ROOT", "FileSystem", "FsError", "MountedFs", "NetnsEtcView", "Stat"]

TOP_DIRS = ("/", "/etc", "/run", "/var", "/var/lib", "/tmp", "/root", "/dev", "/proc", "/sys")
DEFAULT_FILE_MODE = 0o644
DEFAULT_DIR_MODE = 0o755
# Backed by netplex.shell.sysfs (or by the shell itself for /dev): never stored here.
VIRTUAL_ROOTS = ("/proc", "/sys", "/dev")
# Where cgroup hierarchies are mounted (a machine's `MountedFs`), inside /sys but not sysfs.
CGROUP_MOUNT_ROOT = "/sys/fs/cgroup"


class FsError(NetplexError):
    """A failed file operation: `errno` and the C library's strerror text as `message`."""

    def __init__(self, errno: int, path: str = "") -> None:
        super().__init__(os.strerror(errno), errno)
        self.path = path


@dataclass(slots=True, frozen=True)
class Stat:
    """What stat(2) tells the tools: the kind, the permission bits, the size."""

    is_dir: bool
    mode: int
    size: int


def _is_virtual(p: str) -> bool:
    if p == CGROUP_MOUNT_ROOT or p.startswith(CGROUP_MOUNT_ROOT + "/") or p == "/sys/fs":
        return False
    return any(p == root or p.startswith(root + "/") for root in VIRTUAL_ROOTS)


class MountedFs(Protocol):
    """A filesystem mounted on the machine's tree (paths relative to its mount point, "/" its root).

    Each call fails as the system call on that filesystem does (FsError)."""

    def stat(self, rel: str) -> Stat | None: ...
    def read_bytes(self, rel: str) -> bytes: ...
    def write_bytes(self, rel: str, data: bytes) -> None: ...
    def mkdir(self, rel: str) -> None: ...
    def rmdir(self, rel: str) -> None: ...
    def listdir(self, rel: str) -> list[str]: ...


class FileSystem:
    """Regular files and directories kept in memory, keyed by normalised path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set(TOP_DIRS)
        self.modes: dict[str, int] = {"/tmp": 0o1777, "/root": 0o700}
        self.mounts: dict[str, MountedFs] = {}

    def mount(self, point: str, mfs: MountedFs) -> None:
        """mount(2) `mfs` on `point` (its parent folders made)."""
        p = self.norm(point)
        self.makedirs(p)
        self.mounts[p] = mfs

    @staticmethod
    def _on_mount(p: str, fn: Callable[..., object], *args: object) -> object:
        """Call a mounted filesystem, its errors naming the full path."""
        try:
            return fn(*args)
        except FsError as e:
            raise FsError(e.errno, p) from None

    def _mounted(self, p: str) -> tuple[MountedFs, str] | None:
        for point, mfs in self.mounts.items():
            if p == point:
                return mfs, "/"
            if p.startswith(point + "/"):
                return mfs, p[len(point):]
        return None

    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        p = posixpath.normpath(posixpath.join(cwd, path))
        return "/" + p.lstrip("/")   # POSIX keeps a leading "//"; Linux treats it as "/"

    @staticmethod
    def is_virtual(path: str) -> bool:
        """True for /proc, /sys and /dev paths, which other modules model."""
        return _is_virtual(path)

    # -- lookups

    def _parent_ok(self, p: str) -> None:
        """Raise as path resolution does when a component of p's parent is missing or a file."""
        parent = posixpath.dirname(p)
        parts = [] if parent == "/" else parent.strip("/").split("/")
        cur = ""
        for part in parts:
            cur += "/" + part
            if cur in self.files:
                raise FsError(_errno.ENOTDIR, p)
            if cur not in self.dirs:
                raise FsError(_errno.ENOENT, p)

    def stat(self, path: str, cwd: str = "/") -> Stat | None:
        """The file's kind, mode and size, None when it does not exist (or a parent is a file)."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            return m[0].stat(m[1])
        if p in self.dirs:
            return Stat(True, self.modes.get(p, DEFAULT_DIR_MODE), 4096)
        data = self.files.get(p)
        if data is None:
            return None
        return Stat(False, self.modes.get(p, DEFAULT_FILE_MODE), len(data))

    def is_dir(self, path: str, cwd: str = "/") -> bool:
        if self.mounts:
            st = self.stat(path, cwd)
            return st is not None and st.is_dir
        return self.norm(path, cwd) in self.dirs

    def is_file(self, path: str, cwd: str = "/") -> bool:
        if self.mounts:
            st = self.stat(path, cwd)
            return st is not None and not st.is_dir
        return self.norm(path, cwd) in self.files

    def exists(self, path: str, cwd: str = "/") -> bool:
        if self.mounts:
            return self.stat(path, cwd) is not None
        p = self.norm(path, cwd)
        return p in self.dirs or p in self.files

    # -- lenient forms (daemons, scenario files)

    def read(self, path: str) -> bytes | None:
        """The file's bytes, None when there is no such regular file."""
        p = self.norm(path)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            try:
                return m[0].read_bytes(m[1])
            except FsError:
                return None
        return self.files.get(p)

    def write(self, path: str, data: bytes) -> None:
        """Create or replace a file, making its parent folders (as `files:` does)."""
        p = self.norm(path)
        if p in self.dirs:
            raise FsError(_errno.EISDIR, p)
        self.makedirs(posixpath.dirname(p))
        self.files[p] = data

    def makedirs(self, path: str, cwd: str = "/") -> None:
        """mkdir -p: every missing folder on the way; a file in the way is ENOTDIR / EEXIST."""
        p = self.norm(path, cwd)
        missing: list[str] = []
        d = p
        while d not in self.dirs:
            if d in self.files:
                raise FsError(_errno.EEXIST if d == p else _errno.ENOTDIR, p)
            missing.append(d)
            d = posixpath.dirname(d)
        self.dirs.update(missing)

    # -- strict forms (the shell's redirections and file tools)

    def read_bytes(self, path: str, cwd: str = "/") -> bytes:
        """open(O_RDONLY) + read: ENOENT, ENOTDIR, EISDIR as the kernel reports them."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            data = self._on_mount(p, m[0].read_bytes, m[1])
            assert isinstance(data, bytes)
            return data
        data = self.files.get(p)
        if data is not None:
            return data
        if p in self.dirs:
            raise FsError(_errno.EISDIR, p)
        self._parent_ok(p)
        raise FsError(_errno.ENOENT, p)

    def write_bytes(self, path: str, data: bytes, append: bool = False, cwd: str = "/") -> None:
        """open(O_WRONLY|O_CREAT|O_TRUNC or O_APPEND) + write."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            self._on_mount(p, m[0].write_bytes, m[1], data)
            return
        if p in self.dirs:
            raise FsError(_errno.EISDIR, p)
        if p not in self.files:
            self._parent_ok(p)
            if _is_virtual(p):
                raise FsError(_errno.ENOENT if not p.startswith("/proc/") else _errno.EACCES, p)
            self.files[p] = b""
        self.files[p] = self.files[p] + data if append else data

    def mkdir(self, path: str, mode: int = DEFAULT_DIR_MODE, cwd: str = "/") -> None:
        """mkdir(2): EEXIST when anything is there, ENOENT when the parent is missing."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            self._on_mount(p, m[0].mkdir, m[1])
            return
        if p in self.dirs or p in self.files:
            raise FsError(_errno.EEXIST, p)
        self._parent_ok(p)
        self.dirs.add(p)
        if mode != DEFAULT_DIR_MODE:
            self.modes[p] = mode

    def listdir(self, path: str, cwd: str = "/") -> list[str]:
        """The names in a folder, sorted (ENOTDIR for a file, ENOENT when missing)."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            names = self._on_mount(p, m[0].listdir, m[1])
            assert isinstance(names, list)
            return names
        if p not in self.dirs:
            if p in self.files:
                raise FsError(_errno.ENOTDIR, p)
            self._parent_ok(p)
            raise FsError(_errno.ENOENT, p)
        prefix = p.rstrip("/") + "/"
        names = {q[len(prefix):] for q in (*self.dirs, *self.files)
                 if q.startswith(prefix) and q != p and "/" not in q[len(prefix):]}
        return sorted(names)

    def unlink(self, path: str, cwd: str = "/") -> None:
        """unlink(2) of a regular file: EISDIR for a folder; a missing one is left to the caller to report."""
        p = self.norm(path, cwd)
        if self.mounts and self._mounted(p) is not None:
            raise FsError(_errno.EISDIR if self.is_dir(p) else _errno.EPERM, p)   # kernfs has no unlink
        if p in self.dirs:
            raise FsError(_errno.EISDIR, p)
        self.files.pop(p, None)
        self.modes.pop(p, None)

    def rmdir(self, path: str, cwd: str = "/") -> None:
        """rmdir(2): ENOTEMPTY, ENOTDIR, ENOENT; the top folders stay (EBUSY)."""
        p = self.norm(path, cwd)
        m = self._mounted(p) if self.mounts else None
        if m is not None:
            self._on_mount(p, m[0].rmdir, m[1])
            return
        if p not in self.dirs:
            if p in self.files:
                raise FsError(_errno.ENOTDIR, p)
            self._parent_ok(p)
            raise FsError(_errno.ENOENT, p)
        if self.listdir(p):
            raise FsError(_errno.ENOTEMPTY, p)
        if p in TOP_DIRS:
            raise FsError(_errno.EBUSY, p)
        self.dirs.discard(p)
        self.modes.pop(p, None)

    def remove_tree(self, path: str, cwd: str = "/") -> None:
        """rm -r: the folder and everything under it (the top folders themselves stay)."""
        p = self.norm(path, cwd)
        prefix = p.rstrip("/") + "/"
        for q in [q for q in self.files if q.startswith(prefix)]:
            del self.files[q]
            self.modes.pop(q, None)
        for q in sorted((q for q in self.dirs if q.startswith(prefix)), reverse=True):
            if q not in TOP_DIRS:
                self.dirs.discard(q)
                self.modes.pop(q, None)
        if p not in TOP_DIRS:
            self.dirs.discard(p)
            self.modes.pop(p, None)

    def rename(self, src: str, dst: str, cwd: str = "/") -> None:
        """rename(2) of a file or a folder (with what it holds); dst is replaced if a file."""
        s, d = self.norm(src, cwd), self.norm(dst, cwd)
        if s == d:
            return
        if s in self.files:
            if d in self.dirs:
                raise FsError(_errno.EISDIR, d)
            self._parent_ok(d)
            self.files[d] = self.files.pop(s)
            if s in self.modes:
                self.modes[d] = self.modes.pop(s)
            return
        if s not in self.dirs:
            self._parent_ok(s)
            raise FsError(_errno.ENOENT, s)
        if d.startswith(s.rstrip("/") + "/") or s in TOP_DIRS:
            raise FsError(_errno.EINVAL, d)
        if d in self.files:
            raise FsError(_errno.ENOTDIR, d)
        if d in self.dirs and self.listdir(d):
            raise FsError(_errno.ENOTEMPTY, d)
        self._parent_ok(d)
        prefix = s.rstrip("/") + "/"
        moved_dirs = [q for q in self.dirs if q == s or q.startswith(prefix)]
        moved_files = [q for q in self.files if q.startswith(prefix)]
        for q in moved_dirs:
            self.dirs.discard(q)
            self.dirs.add(d + q[len(s):])
        for q in moved_files:
            self.files[d + q[len(s):]] = self.files.pop(q)
        for q in [q for q in self.modes if q == s or q.startswith(prefix)]:
            self.modes[d + q[len(s):]] = self.modes.pop(q)

    def chmod(self, path: str, mode: int, cwd: str = "/") -> None:
        p = self.norm(path, cwd)
        if p not in self.files and p not in self.dirs:
            self._parent_ok(p)
            raise FsError(_errno.ENOENT, p)
        self.modes[p] = mode & 0o7777

    def glob(self, pattern: str, cwd: str = "/",
             lister: Callable[[str], list[str] | None] | None = None) -> list[str]:
        """Pathname expansion (bash's, without dotglob): the matches, sorted; [] when none.

        Relative patterns give relative names, as bash prints them. `lister` gives
        the names in a modelled /proc or /sys folder (None when it is not one).
        """
        def names(d: str) -> list[str] | None:
            if self.mounts and self._mounted(d) is not None:
                return self.listdir(d) if self.is_dir(d) else None
            virtual = lister(d) if lister is not None and _is_virtual(d) else None
            if d not in self.dirs and virtual is None:
                return None
            return sorted(set(self.listdir(d) if d in self.dirs else []) | set(virtual or []))

        def exists(p: str) -> bool:
            if p in self.dirs or p in self.files or (self.mounts and self.exists(p)):
                return True
            parent = names(posixpath.dirname(p)) if _is_virtual(p) else None
            return parent is not None and posixpath.basename(p) in parent

        def is_dir(p: str) -> bool:
            return names(p) is not None

        absolute = pattern.startswith("/")
        parts = [c for c in pattern.split("/") if c]
        found: list[str] = ["/" if absolute else ""]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: list[str] = []
            for base in found:
                if not any(c in part for c in "*?["):
                    cand = posixpath.join(base, part) if base else part
                    p = self.norm(cand, cwd)
                    if exists(p) and (last or is_dir(p)):
                        nxt.append(cand)
                    continue
                for name in names(self.norm(base or ".", cwd)) or []:
                    if name.startswith(".") and not part.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(name, part):
                        cand = posixpath.join(base, name) if base else name
                        if last or is_dir(self.norm(cand, cwd)):
                            nxt.append(cand)
            found = nxt
        return sorted(found) if parts else []


class NetnsEtcView(FileSystem):
    """The machine's files as `ip netns exec NAME CMD` leaves them for CMD: each entry of
    /etc/netns/NAME bind-mounted over the entry of the same name in /etc (ip-netns(8); iproute2
    ip/ipnetns.c bind_etc), the entries there when the command starts. Same files, same state:
    only the paths under a bound name resolve elsewhere."""

    def __init__(self, fs: FileSystem, name: str) -> None:
        self.files, self.dirs, self.modes, self.mounts = fs.files, fs.dirs, fs.modes, fs.mounts
        self.etc = f"/etc/netns/{name}"
        self.bound = set(fs.listdir(self.etc)) if fs.is_dir(self.etc) else set()

    def norm(self, path: str, cwd: str = "/") -> str:  # type: ignore[override]
        p = FileSystem.norm(path, cwd)
        if p.startswith("/etc/") and p[5:].split("/", 1)[0] in self.bound:
            return self.etc + p[4:]
        return p
