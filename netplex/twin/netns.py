"""Named network namespaces, created and deleted in-process.

This is what `ip netns add NAME` does (see ip-netns(8) and iproute2's
`ip/ipnetns.c`): make /run/netns a shared mount point, create an empty file
/run/netns/NAME, `unshare(CLONE_NEWNET)`, then bind-mount the thread's
/proc/thread-self/ns/net onto that file. Doing it in one thread of this
process instead of one `ip` process per namespace is what lets the twin build
a thousand namespaces in about a second. `unshare` and `setns` change only the
calling thread's namespace, so the work runs in a short-lived helper thread and
the main thread never leaves the root namespace.

A netlink socket belongs to the namespace its creating thread was in, so
`create()` can hand back one rtnetlink socket per new namespace, opened right
after the `unshare`, and `socket_in()` opens one in an existing namespace.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from netplex.twin import netlink

__all__ = [
    "NETNS_RUN_DIR",
    "create",
    "delete",
    "exists",
    "inode",
    "list_names",
    "run_in",
    "socket_in",
]

NETNS_RUN_DIR = "/run/netns"

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]

T = TypeVar("T")


def _check(ret: int, what: str, name: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what} {name}: {os.strerror(err)}")


def path(name: str) -> str:
    return os.path.join(NETNS_RUN_DIR, name)


def _prepare_rundir() -> None:
    """Make /run/netns a shared mount point, as `ip netns add` does."""
    os.makedirs(NETNS_RUN_DIR, exist_ok=True)
    run = NETNS_RUN_DIR.encode()
    if _libc.mount(b"none", run, None, MS_SHARED | MS_REC, None) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:  # EINVAL: not yet a mount point
        _check(-1, "make-shared", NETNS_RUN_DIR)
    _check(_libc.mount(run, run, b"none", MS_BIND | MS_REC, None), "bind", NETNS_RUN_DIR)
    _check(_libc.mount(b"none", run, None, MS_SHARED | MS_REC, None), "make-shared", NETNS_RUN_DIR)


def _in_thread(fn: Callable[[], T]) -> T:
    """Run `fn` in a fresh thread (whose namespace changes die with it)."""
    box: dict[str, object] = {}

    def body() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    th = threading.Thread(target=body, name="netplex-netns")
    th.start()
    th.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def create(
    names: Iterable[str],
    sockets: bool = False,
    on_created: Callable[[str], None] | None = None,
) -> dict[str, socket.socket]:
    """Create each named namespace (EEXIST if one exists); optionally a netlink socket in each.

    `on_created(name)` runs after each namespace exists, e.g. to record it.
    On failure the namespaces created so far stay (the caller owns and deletes them).
    """
    names = list(names)
    _prepare_rundir()

    def work() -> dict[str, socket.socket]:
        socks: dict[str, socket.socket] = {}
        try:
            for name in names:
                p = path(name).encode()
                os.close(os.open(p, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
                if _libc.unshare(CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    os.unlink(p)
                    raise OSError(err, f"unshare {name}: {os.strerror(err)}")
                if _libc.mount(b"/proc/thread-self/ns/net", p, b"none", MS_BIND, None) != 0:
                    err = ctypes.get_errno()
                    os.unlink(p)
                    raise OSError(err, f"mount {name}: {os.strerror(err)}")
                if on_created is not None:
                    on_created(name)
                if sockets:
                    socks[name] = netlink.rtnl_socket()
        except BaseException:
            for s in socks.values():
                s.close()
            raise
        return socks

    return _in_thread(work)


def run_in(name: str, fn: Callable[[], T]) -> T:
    """Call `fn` in a helper thread that has entered namespace `name`."""

    def work() -> T:
        fd = os.open(path(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), "setns", name)
        finally:
            os.close(fd)
        return fn()

    return _in_thread(work)


def socket_in(name: str) -> socket.socket:
    """An rtnetlink socket inside namespace `name`."""
    return run_in(name, netlink.rtnl_socket)


def unbind(p: str) -> bool:
    """Lazily unmount a namespace file and unlink it. False if there was no file."""
    _libc.umount2(p.encode(), MNT_DETACH)
    try:
        os.unlink(p)
    except FileNotFoundError:
        return False
    return True


def nsfs_inode(p: str, kind: str = "net") -> int | None:
    """The inode of the namespace bound on file `p` (as /proc/PID/ns/<kind> shows it),
    None when `p` is missing or an unmounted placeholder, not an nsfs inode."""
    try:
        st = os.stat(p)
    except OSError:
        return None
    if st.st_dev != os.stat(f"/proc/self/ns/{kind}").st_dev:
        return None
    return st.st_ino


def delete(name: str) -> bool:
    """Delete a namespace as `ip netns delete` does (lazy unmount, unlink). False if absent."""
    return unbind(path(name))


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def list_names() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


def inode(name: str) -> int | None:
    """The namespace's inode number (as /proc/PID/ns/net shows it), None if not mounted."""
    return nsfs_inode(path(name))
