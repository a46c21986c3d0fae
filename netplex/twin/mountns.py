"""Each twin node's own mount namespace: private /etc, /run, /var/lib and /tmp.

A scenario file is untrusted input, so whatever its setup lines or its
`files:` write must stay on the node, as `ip netns exec` keeps /etc/netns/NAME
for its namespace (ip-netns(8)) and a container keeps its own root. Every node
gets a mount namespace, made once when it is built (unshare(1) `--mount=FILE`
keeps it alive by bind-mounting it on /run/netplex/mnt/<namespace>), in which:

- /sys is sysfs remounted for the node's network namespace (as `ip netns exec` does);
- /etc is an overlay: the host's /etc read-only below, a tmpfs above, so tools
  find their configuration (nsswitch.conf, passwd, iproute2/, protocols,
  services) and every write lands in the node's tmpfs (a tmpfs copy of /etc
  where the kernel has no overlayfs);
- /run, /var/lib and /tmp are empty tmpfs, so `ip netns add` inside a node makes
  its namespaces in the node's own /run/netns, and they die with the node;
- netplex's own folders (its source tree, the virtual environment, the
  interpreter) that lie inside one of those private folders (a checkout under
  /tmp, say) are bound back read-only at the same path, so the twin's helper
  programs (probes, services, iperf) run on the node as on the host.

Each node also gets its own UTS namespace (kept alive on /run/netplex/mnt/<namespace>.uts)
whose hostname is the node's name, as a container's is: daemons that name themselves
by uname(2) (FRR's hostname capability, say) see the node, never the host.

Commands run there with nsenter(1) `--mount=... --uts=... --net=...`. The bind mounts
live under a private mount point, so nothing propagates back to the host. The last run
to end releases that mount point (and the folder): making it with a run's namespace
files and releasing it once empty both hold an flock on the folder itself, so a run
starting while another ends never loses it in between.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from netplex.twin import netns

__all__ = ["MNT_DIR", "PRIVATE_DIRS", "create", "delete", "enter_argv", "exists", "inode", "nested_netns_inodes",
           "path", "private_path", "release", "uts_path"]

MNT_DIR = "/run/netplex/mnt"
PRIVATE_DIRS = ("/etc", "/run", "/var/lib", "/tmp")

MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]

# Runs inside the new mount namespace, already in the node's network namespace, with
# $NETPLEX_PEERS the run's namespaces: they stay visible in the node's fresh
# /run/netns (bound there before the tmpfs covers the host's), so `ip link` names a
# veth peer's namespace (`link-netns npx-...-h2`) as it did without the mount
# namespace; the node's own ($NETPLEX_NS) is left out, as a host's root namespace
# has no name (its nested namespaces see it as `link-netnsid 0`). /var/lib before /run: mount(8) records its mounts in /run/mount/utab,
# which must not appear in the node's fresh /run.
_ETC_OVERLAY = ("mkdir /tmp/upper /tmp/work"
                " && mount -t overlay overlay -o lowerdir=/etc,upperdir=/tmp/upper,workdir=/tmp/work /etc")
_ETC_COPY = "mkdir /tmp/etc && cp -a /etc/. /tmp/etc/ && mount --bind /tmp/etc /etc"
# $NETPLEX_KEEP: netplex's own folders inside the private ones (see `keep_paths`), each
# opened as fd 3, 4, ... before anything covers it and bound back from that fd at the
# end (mount -c: the fd's path, canonicalised, would name the new empty folder).
_SETUP = ("set -e; echo \"$NETPLEX_HOST\" > /proc/sys/kernel/hostname; i=3; for k in $NETPLEX_KEEP; do eval \"exec $i<\\\"\\$k\\\"\"; i=$((i+1)); done; "
          "umount -l /sys; mount -t sysfs sysfs /sys; "
          "mount -t tmpfs -o mode=0755 netplex-scratch /tmp; {etc}; mkdir /tmp/peers; "
          'for p in $NETPLEX_PEERS; do [ "$p" = "$NETPLEX_NS" ] && continue; '
          'touch "/tmp/peers/$p"; mount --bind "/run/netns/$p" "/tmp/peers/$p"; done; '
          "mount -t tmpfs -o mode=0755 tmpfs /var/lib; mount -t tmpfs -o mode=0755 tmpfs /run; "
          'if [ -n "$NETPLEX_PEERS" ]; then mkdir -m 0755 /run/netns; fi; '
          'for p in $NETPLEX_PEERS; do [ "$p" = "$NETPLEX_NS" ] && continue; '
          'touch "/run/netns/$p"; mount --move "/tmp/peers/$p" "/run/netns/$p"; done; '
          "umount -l /tmp; mount -t tmpfs -o mode=1777 tmpfs /tmp; "
          'i=3; for k in $NETPLEX_KEEP; do mkdir -p "$k"; mount -c --bind "/proc/self/fd/$i" "$k"; '
          'mount -o remount,bind,ro "$k"; i=$((i+1)); done')
# One shell for every node: `unshare` per namespace (its arguments: namespace, hostname, ...),
# each entering its network namespace.
_LOOP = ('while [ $# -gt 1 ]; do ns=$1; NETPLEX_NS="$ns" NETPLEX_HOST="$2" unshare --mount="$0/$ns" '
         '--uts="$0/$ns.uts" --propagation private nsenter --net="/run/netns/$ns" sh -c "$NETPLEX_SETUP" '
         '|| exit 1; shift 2; done')


def path(name: str) -> str:
    return os.path.join(MNT_DIR, name)


def uts_path(name: str) -> str:
    return os.path.join(MNT_DIR, name + ".uts")


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what} {MNT_DIR}: {os.strerror(err)}")


@contextlib.contextmanager
def _dir_lock() -> Iterator[None]:
    """An exclusive flock(2) on MNT_DIR itself, made if missing. Binding the folder onto
    itself keeps its inode, so the lock holds across _prepare_dir; a holder that finds the
    folder removed or replaced when it gets the lock (release ran first) takes the new one."""
    while True:
        try:
            os.makedirs(MNT_DIR, exist_ok=True)
            fd = os.open(MNT_DIR, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, FileExistsError):   # a release() removed it (or its parent) meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                now = os.stat(MNT_DIR)
            except FileNotFoundError:
                continue
            held = os.fstat(fd)
            if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                yield
                return
        finally:
            os.close(fd)


def _prepare_dir() -> None:
    """MNT_DIR as a private mount point: unshare(1) cannot bind a mount namespace under a
    shared one, and the nodes' bind mounts must not propagate anywhere."""
    os.makedirs(MNT_DIR, exist_ok=True)
    d = MNT_DIR.encode()
    if _libc.mount(b"none", d, None, MS_PRIVATE, None) == 0:
        return
    if ctypes.get_errno() != errno.EINVAL:  # EINVAL: not yet a mount point
        _check(-1, "make-private")
    _check(_libc.mount(d, d, b"none", MS_BIND, None), "bind")
    _check(_libc.mount(b"none", d, None, MS_PRIVATE, None), "make-private")


def _mounted(p: str) -> bool:
    """True if `p` is a mount point in this mount namespace (/proc/self/mountinfo's fifth
    field; os.path.ismount misses a folder bound onto itself on the same file system)."""
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == p for line in f)
    except OSError:
        return False


def release() -> bool:
    """Undo _prepare_dir once no node's namespace is kept in MNT_DIR: lazily unmount its
    private bind mount and remove the folders, so nothing of netplex's stays mounted on the
    host. False if it was not mounted or still holds a namespace."""
    if not os.path.isdir(MNT_DIR):
        return False
    with _dir_lock():
        if not _mounted(MNT_DIR) or os.listdir(MNT_DIR):
            return False
        _libc.umount2(MNT_DIR.encode(), netns.MNT_DETACH)
        for d in (MNT_DIR, os.path.dirname(MNT_DIR)):
            try:
                os.rmdir(d)
            except OSError:   # not empty: another of netplex's folders (state files) lives there
                break
    return True


def _has_overlay() -> bool:
    try:
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == "overlay" for line in f if line.strip())
    except OSError:
        return False


def keep_paths() -> list[str]:
    """netplex's own folders that lie inside a private folder: its source tree, the virtual
    environment and the interpreter's prefix (outermost first, none inside another)."""
    found = [str(Path(__file__).resolve().parents[2]), sys.prefix, sys.base_prefix,
             str(Path(sys.executable).resolve().parent.parent)]
    keep: list[str] = []
    for p in sorted({os.path.realpath(f) for f in found}, key=len):
        if private_path(p) and not any(p == k or p.startswith(k + "/") for k in keep):
            keep.append(p)
    if len(keep) > 7 or any(any(c.isspace() for c in k) for k in keep):
        raise OSError(errno.EINVAL, f"netplex cannot run its twin from {' '.join(keep)}: move it out of "
                      f"{', '.join(PRIVATE_DIRS)} or to a path without blanks")
    return keep


def create(names: Iterable[str] | Mapping[str, str], peers: Iterable[str] = ()) -> None:
    """A mount and a UTS namespace for each named network namespace (which must exist),
    the hostname its node's name (`names` maps namespace to node; a bare list names each
    after its namespace); `peers` (the run's namespaces) are the names each node's
    /run/netns shows."""
    hosts = dict(names) if isinstance(names, Mapping) else {n: n for n in names}
    if not hosts:
        return
    with _dir_lock():
        _prepare_dir()
        for name in hosts:
            for p in (path(name), uts_path(name)):
                os.close(os.open(p, os.O_RDONLY | os.O_CREAT, 0))
    setup = _SETUP.format(etc=_ETC_OVERLAY if _has_overlay() else _ETC_COPY)
    res = subprocess.run(["sh", "-c", _LOOP, MNT_DIR, *(w for pair in hosts.items() for w in pair)], capture_output=True, text=True,
                         env=dict(os.environ, NETPLEX_SETUP=setup, NETPLEX_PEERS=" ".join(peers), LC_ALL="C",
                                  NETPLEX_KEEP=" ".join(keep_paths())))
    if res.returncode != 0:
        raise OSError(errno.EIO, f"mount namespace setup failed: {res.stderr.strip()}")


def exists(name: str) -> bool:
    return inode(name) is not None


def inode(name: str) -> int | None:
    """The mount namespace's inode (as /proc/PID/ns/mnt shows it), None if there is none."""
    return netns.nsfs_inode(path(name), "mnt")


def delete(name: str) -> bool:
    """Unbind the node's mount and UTS namespaces (they die with their last process).
    False if absent."""
    netns.unbind(uts_path(name))
    return netns.unbind(path(name))


def enter_argv(name: str) -> list[str]:
    """The command prefix that runs a program on the node: its mount and network namespaces,
    in the caller's working directory unless that is one of the node's private folders."""
    cwd = os.getcwd()
    if private_path(cwd):
        cwd = "/"
    return ["nsenter", f"--mount={path(name)}", f"--uts={uts_path(name)}", f"--net={netns.path(name)}",
            f"--wd={cwd}", "--"]


def private_path(p: str) -> bool:
    """True for a path inside one of the node's private folders."""
    p = os.path.normpath(p)
    return any(p == d or p.startswith(d + "/") for d in PRIVATE_DIRS)


def nested_netns_inodes(name: str) -> set[int]:
    """The network namespaces `ip netns add` made inside the node (its /run/netns)."""
    if not exists(name):
        return set()
    script = 'for f in /run/netns/*; do [ -e "$f" ] && stat -L -c %i "$f"; done; true'
    res = subprocess.run(["nsenter", f"--mount={path(name)}", "--", "sh", "-c", script],
                         capture_output=True, text=True, timeout=10)
    return {int(w) for w in res.stdout.split() if w.isdigit()}
