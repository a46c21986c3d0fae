"""`Machine`: a host's root namespace, its named namespaces, files and processes.

Named namespaces are what ip-netns(8) manages (iproute2 `ip/ipnetns.c`): a
name is a file under /run/netns bind-mounted on the namespace, so
`ip netns add NAME` makes one, `ip netns list` reads the directory (newest
first, as a tmpfs lists it), `ip netns del` unlinks it. A namespace's *nsid*
as seen from another (`ip netns list` shows `(id: N)`, `ip link` shows
`link-netnsid N`) is allocated the way net/core/net_namespace.c's
`peernet2id_alloc` is: the first time a device's link crosses between the
two, in both directions, numbered from 0 in each viewer.

`move_device` is the machine's side of `ip link set DEV netns NAME`
(`dev_change_net_namespace` in net/core/dev.c); the rule itself lives in the
stack (`Namespace.change_net_namespace`).
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING

from netplex.apps.process import ProcessTable
from netplex.errors import NetplexError
from netplex.machine.cgroup import NET_CLS_MOUNT, NetClsFs
from netplex.machine.fs import FileSystem
from netplex.stack.device import NetDevice, Veth
from netplex.stack.netns import Namespace

if TYPE_CHECKING:
    from netplex.engine.world import World

__all__ = ["NETNS_RUN_DIR", "Machine", "NetnsError", "NetnsResolver"]

NETNS_RUN_DIR = "/run/netns"

# Finds a namespace by a name this machine does not hold (e.g. another node's root
# namespace, which the simulator has always accepted as `netns NODE`); None if unknown.
NetnsResolver = Callable[[str], "Namespace | None"]


class NetnsError(NetplexError):
    """An `ip netns` failure: iproute2's message and the exit status `ip` returns."""

    def __init__(self, message: str, status: int, err: int = 0) -> None:
        super().__init__(message, err)
        self.status = status


def valid_netns_name(name: str) -> bool:
    """ipnetns.c `is_valid_netns_name` (a file name under /run/netns)."""
    return bool(name) and len(name) < 4096 and "/" not in name and name not in (".", "..")


class Machine:
    """One host: `root` is its initial network namespace, `netns` the named ones."""

    def __init__(self, world: World, name: str, resolve_netns: NetnsResolver | None = None) -> None:
        self.world = world
        self.name = name
        self.root = Namespace(world, name)
        self.netns: dict[str, Namespace] = {}   # `ip netns add NAME` (/run/netns/NAME), oldest first
        self.fs = FileSystem()
        self.procs = ProcessTable(self.fs)
        self.net_cls = NetClsFs(self.procs)           # cgroup v1 net_cls, as a Docker host mounts it
        self.fs.mount(NET_CLS_MOUNT, self.net_cls)
        self._resolve_other = resolve_netns
        # peernet2id: viewer namespace -> {peer namespace: nsid}
        self._nsids: dict[Namespace, dict[Namespace, int]] = {}

    def __repr__(self) -> str:
        return f"<Machine {self.name}>"

    # -- named namespaces (ip netns) -------------------------------------------
    def netns_add(self, name: str) -> Namespace:
        """`ip netns add NAME`: a fresh namespace (only `lo`, down), /run/netns/NAME."""
        if not valid_netns_name(name):
            raise NetnsError(f'Invalid netns name "{name}"', 255, errno.EINVAL)
        if name in self.netns:
            raise NetnsError(f'Cannot create namespace file "{NETNS_RUN_DIR}/{name}": File exists', 1,
                             errno.EEXIST)
        ns = Namespace(self.world, name)
        self.netns[name] = ns
        self.fs.write(f"{NETNS_RUN_DIR}/{name}", b"")
        return ns

    def netns_del(self, name: str) -> None:
        """`ip netns del NAME`: the name goes; the namespace dies with its last user.

        Its devices go as in cleanup_net: a veth takes its peer with it, other
        physical-like devices would return to the root namespace (none here).
        """
        ns = self.netns.get(name)
        if ns is None:
            raise NetnsError(f'Cannot remove namespace file "{NETNS_RUN_DIR}/{name}": No such file or directory',
                             1, errno.ENOENT)
        del self.netns[name]
        self.fs.unlink(f"{NETNS_RUN_DIR}/{name}")
        if any(p.alive for p in self.procs.in_netns(ns)):
            return   # a process keeps it alive (its devices stay, unnamed)
        for dev in [d for d in ns.devices.values() if d is not ns.lo]:
            if dev.name in ns.devices:
                ns.del_device(dev)
        self._nsids.pop(ns, None)
        for ids in self._nsids.values():
            ids.pop(ns, None)

    def netns_list(self) -> list[str]:
        """Names newest first, as `ip netns list` reads /run/netns."""
        return list(reversed(self.netns))

    def netns_get(self, name: str) -> Namespace:
        """The named namespace, or iproute2's `Cannot open network namespace` error (status 255)."""
        ns = self.netns.get(name)
        if ns is None:
            raise NetnsError(f'Cannot open network namespace "{name}": No such file or directory', 255,
                             errno.ENOENT)
        return ns

    def netns_lookup(self, name: str) -> Namespace | None:
        """`... netns NAME` in a link request: a named namespace of this machine first,
        then whatever the machine's owner resolves (another node's root), else None."""
        ns = self.netns.get(name)
        if ns is None and self._resolve_other is not None:
            ns = self._resolve_other(name)
        return ns

    def netns_name(self, ns: Namespace) -> str | None:
        """The /run/netns name of `ns` (None for the root or an unnamed one)."""
        return next((n for n, v in self.netns.items() if v is ns), None)

    def netns_of_pid(self, pid: int) -> Namespace | None:
        """The namespace process `pid` runs in (/proc/PID/ns/net; pid 1 is init, in the root)."""
        if pid == 1:
            return self.root
        proc = self.procs.get(pid)
        if proc is None or not proc.alive or proc.netns is None:
            return None
        return proc.netns

    def namespaces(self) -> list[Namespace]:
        """The root namespace and every named one."""
        return [self.root, *self.netns.values()]

    # -- nsids -------------------------------------------------------------------
    def peernet2id(self, viewer: Namespace, peer: Namespace) -> int | None:
        """The id `viewer` knows `peer` by, or None (NETNSA_NSID_NOT_ASSIGNED)."""
        return self._nsids.get(viewer, {}).get(peer)

    def nsids_of(self, viewer: Namespace) -> dict[Namespace, int]:
        """Every nsid `viewer` holds (`ip netns list-id`)."""
        return dict(self._nsids.get(viewer, {}))

    def peernet2id_alloc(self, viewer: Namespace, peer: Namespace) -> int:
        """alloc_netid: the lowest free id in `viewer` for `peer` (kept once given)."""
        ids = self._nsids.setdefault(viewer, {})
        if peer not in ids:
            used = set(ids.values())
            ids[peer] = next(i for i in range(len(used) + 1) if i not in used)
        return ids[peer]

    def netns_set_id(self, name: str, nsid: int) -> None:
        """`ip netns set NAME NSID`, seen from the root namespace."""
        ns = self.netns_get(name)
        ids = self._nsids.setdefault(self.root, {})
        if ns in ids or nsid in ids.values():
            raise NetnsError("RTNETLINK answers: File exists", 2, errno.EEXIST)
        ids[ns] = nsid

    def link_crossed(self, dev: NetDevice) -> None:
        """A veth whose ends now sit in two of this machine's namespaces: each side
        gets an id for the other (rtnl_fill_link_netnsid allocating on notify)."""
        peer = dev.peer
        if not isinstance(dev, Veth) or peer is None or peer.ns is dev.ns:
            return
        mine = self.namespaces()
        if dev.ns in mine and peer.ns in mine:
            self.peernet2id_alloc(dev.ns, peer.ns)
            self.peernet2id_alloc(peer.ns, dev.ns)

    # -- moving devices ------------------------------------------------------------
    def move_device(self, dev: NetDevice, target: Namespace) -> None:
        """`ip link set DEV netns NAME` between this machine's namespaces."""
        dev.ns.change_net_namespace(dev, target)
        self.link_crossed(dev)
