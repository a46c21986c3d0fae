"""A machine's filesystem through its public API: what the system calls do and the
errno each failure carries (open(2), mkdir(2), rmdir(2), unlink(2), rename(2))."""
from __future__ import annotations

import errno

import pytest

from netplex.machine.fs import FileSystem, FsError


def _err(fn, *args) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(FsError) as info:
        fn(*args)
    return info.value.errno, info.value.message


def test_top_folders_exist_and_paths_are_normalised() -> None:
    fs = FileSystem()
    assert fs.listdir("/") == ["dev", "etc", "proc", "root", "run", "sys", "tmp", "var"]
    assert FileSystem.norm("a/../b//c", "/etc") == "/etc/b/c"
    assert FileSystem.norm("//x") == "/x"
    assert fs.stat("/tmp") is not None and fs.stat("/tmp").mode == 0o1777   # type: ignore[union-attr]


def test_read_and_write_fail_as_open_does() -> None:
    fs = FileSystem()
    fs.write_bytes("/etc/a", b"1")
    fs.write_bytes("/etc/a", b"2", append=True)
    assert fs.read_bytes("/etc/a") == b"12"
    assert _err(fs.read_bytes, "/etc/nosuch") == (errno.ENOENT, "No such file or directory")
    assert _err(fs.read_bytes, "/etc") == (errno.EISDIR, "Is a directory")
    assert _err(fs.read_bytes, "/etc/a/b") == (errno.ENOTDIR, "Not a directory")
    assert _err(fs.write_bytes, "/nodir/f", b"") == (errno.ENOENT, "No such file or directory")
    assert _err(fs.write_bytes, "/etc", b"") == (errno.EISDIR, "Is a directory")


def test_folders() -> None:
    fs = FileSystem()
    fs.mkdir("/etc/d")
    assert _err(fs.mkdir, "/etc/d") == (errno.EEXIST, "File exists")
    assert _err(fs.mkdir, "/x/y") == (errno.ENOENT, "No such file or directory")
    fs.makedirs("/var/lib/app/state")
    assert fs.is_dir("/var/lib/app")
    fs.write("/run/flannel/subnet.env", b"FLANNEL_SUBNET=10.1.2.1/24\n")   # parents made, as files: does
    assert fs.read("/run/flannel/subnet.env") == b"FLANNEL_SUBNET=10.1.2.1/24\n"
    assert fs.read("/run/nosuch") is None
    assert _err(fs.rmdir, "/run/flannel") == (errno.ENOTEMPTY, "Directory not empty")
    assert _err(fs.unlink, "/run/flannel") == (errno.EISDIR, "Is a directory")
    fs.remove_tree("/run/flannel")
    assert not fs.exists("/run/flannel") and fs.is_dir("/run")
    assert _err(fs.listdir, "/etc/nosuch") == (errno.ENOENT, "No such file or directory")


def test_rename_moves_a_folder_with_what_it_holds() -> None:
    fs = FileSystem()
    fs.write("/etc/app/conf.d/a.conf", b"a")
    fs.chmod("/etc/app/conf.d/a.conf", 0o600)
    fs.rename("/etc/app", "/etc/app2")
    assert fs.read("/etc/app2/conf.d/a.conf") == b"a"
    assert fs.stat("/etc/app2/conf.d/a.conf").mode == 0o600   # type: ignore[union-attr]
    assert not fs.exists("/etc/app")
    assert _err(fs.rename, "/etc/app2", "/etc/app2/conf.d/x") == (errno.EINVAL, "Invalid argument")
    assert _err(fs.rename, "/etc/nosuch", "/etc/x") == (errno.ENOENT, "No such file or directory")


def test_glob_matches_as_bash_does() -> None:
    fs = FileSystem()
    for name in ("b.conf", "a.conf", ".hidden.conf", "x.txt"):
        fs.write(f"/etc/{name}", b"")
    assert fs.glob("/etc/*.conf") == ["/etc/a.conf", "/etc/b.conf"]
    assert fs.glob("*.txt", "/etc") == ["x.txt"]
    assert fs.glob("/etc/.*.conf") == ["/etc/.hidden.conf"]
    assert fs.glob("/e*/[ab].conf") == ["/etc/a.conf", "/etc/b.conf"]
    assert fs.glob("/etc/*.none") == []
