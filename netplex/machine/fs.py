"""A machine's own small filesystem: /etc, /run, /var/lib, /tmp (the modelled
/proc and /sys are read through `netplex.shell.sysfs`).

Paths are absolute and normalised; contents are bytes. Daemons read their
configuration here, scenarios place files here (`files:`), and the shell's
redirections and file tools (`cat`, `tee`, `ls`, `mkdir`, `rm`, ...) work on it.
"""
from __future__ import annotations

import posixpath

__all__ = ["FileSystem"]

TOP_DIRS = ("/", "/etc", "/run", "/var", "/var/lib", "/tmp")


class FileSystem:
    """Regular files and directories kept in memory, keyed by normalised path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set(TOP_DIRS)

    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")

    def read(self, path: str) -> bytes | None:
        return self.files.get(self.norm(path))

    def write(self, path: str, data: bytes) -> None:
        p = self.norm(path)
        d = posixpath.dirname(p)
        while d not in self.dirs:
            self.dirs.add(d)
            d = posixpath.dirname(d)
        self.files[p] = data

    def unlink(self, path: str, cwd: str = "/") -> None:
        """unlink(2) of a regular file (a missing one is left to the caller to report)."""
        self.files.pop(self.norm(path, cwd), None)
