"""The kernel twin: a scenario built for real in network namespaces (backend "linux").

Each node is a namespace named `npx-<8 hex>-<node>`; each link a veth pair
created directly inside its two namespaces (or, `kind: tap`, two TAP devices
joined by a relay process, as a hypervisor joins a tap to a guest NIC). A
veth link with `rate`, `delay` or `loss` is a cable with a namespace of its
own, `npx-<8 hex>-w<N>`, that shapes the traffic on the wire and leaves the
user's devices with the kernel's default qdisc (netplex/twin/wire.py). Setup
lines and `cmd` probes run in one bash session per node (netplex/twin/session.py:
variables, functions, `cd`, `set -e` carry from line to line, as on the simulator)
inside the node's namespace and its own mount namespace (private /etc, /run, /var/lib, /tmp: netplex/twin/mountns.py,
entered with nsenter), so `ip`, `iptables`, `tc` and `sysctl` are the real
tools and whatever a scenario writes stays on its node.
Services and probes are small stdlib programs in `netplex/twin/`.

This module is the twin's backend; its helpers live beside it in `netplex.twin`
(`netlink` is the one place netlink messages are encoded, `netns` makes the
namespaces, `wire` the shaped cables). It implements `netplex.scenario.backend.Backend`.

Everything the run owns is listed in a state file (`netplex.twin.state`)
before it is created; `close()` (also on SIGINT/SIGTERM and at exit) removes
it all, and `netplex clean` removes what a killed run left. The backend never
creates, changes or deletes anything in the root namespace.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import Any

from netplex.network import NODE_KINDS
from netplex.scenario.backend import (
    ALL_FEATURES,
    BackendUnsupported,
    CmdResult,
    EventDone,
    FlowGaps,
    LinkNetnsAliases,
    ProbeOutcome,
    Progress,
    TraceOutcome,
    gap_threshold_ns,
    paced_interval_ns,
)
from netplex.scenario.events import LinkEvents
from netplex.scenario.model import Event, IperfFlow, Link, Node
from netplex.shell.registry import Terminal
from netplex.twin import (
    TwinError,
    TwinUnavailable,
    cleanup,
    mountns,
    netlink,
    netns,
    session,
    state,
    wire,
)
from netplex.twin.netlink import NetlinkError, Rtnl
from netplex.twin.wire import Wire

__all__ = ["LinuxBackend", "check_available"]

_TWIN_DIR = os.path.dirname(os.path.abspath(__file__))
SERVICE = os.path.join(_TWIN_DIR, "service.py")
PROBE = os.path.join(_TWIN_DIR, "probe.py")
RELAY = os.path.join(_TWIN_DIR, "relay.py")
IPERF = os.path.join(_TWIN_DIR, "iperf.py")
CAPTURE = os.path.join(_TWIN_DIR, "capture.py")

RUN_TIMEOUT = 60.0  # a shell line that runs longer is stopped
READY_TIMEOUT = 10.0  # services and relays must say "ready" within this
DEFAULT_MTU = 1500
ETH_HLEN = 14
TBF_QUEUE_S = 0.05  # tbf queues up to 50 ms of traffic at the link's rate
KERNEL_HZ = 250  # tbf's burst must cover one timer tick at the rate

_OVS_SETUP = re.compile(r"\bovs-(?:vsctl|ofctl|appctl|dpctl)\b")
_PING_COUNTS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_PING_RTT = re.compile(r"= [\d.]+/([\d.]+)/")


# capability(7) bits the twin uses: namespaces and mounts (unshare, setns, mount --make-shared), links
REQUIRED_CAPS = (("CAP_SYS_ADMIN", 21), ("CAP_NET_ADMIN", 12))


def effective_caps() -> int:
    """This process's effective capability set (CapEff in /proc/self/status), all bits if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return -1


def check_available() -> None:
    """Raise TwinUnavailable with a one-line reason if the twin cannot run here."""
    if os.geteuid() != 0:
        raise TwinUnavailable("the linux backend needs root (netns, veth)")
    if not os.path.exists("/proc/self/ns/net"):
        raise TwinUnavailable("the linux backend needs network namespaces (no /proc/self/ns/net)")
    missing = [name for name, bit in REQUIRED_CAPS if not effective_caps() >> bit & 1]
    if missing:
        it = "them" if len(missing) > 1 else "it"
        raise TwinUnavailable(f"the linux backend needs {' and '.join(missing)}: this process runs as root "
                              f"without {it} (a container without --privileged, or capabilities dropped)")
    for tool in ("ip", "tc", "bash"):
        if shutil.which(tool) is None:
            raise TwinUnavailable(f"the linux backend needs `{tool}` on PATH")


# Writes done in every new namespace before its links exist (paths under
# /proc/sys/net, which show the calling thread's namespace).
#  - IPv6 off: the simulator is IPv4-only; a kernel namespace would add IPv6
#    link-local addresses to every interface and send ND/MLD frames, which
#    `ip addr`, `bridge fdb show` and the counters would show. `all` covers
#    the devices that exist (lo), `default` the ones the links create.
#  - IPv4 conf back to the kernel's defaults: with the default
#    net.core.devconf_inherit_init_net=0 a new namespace copies the root
#    namespace's conf/all and conf/default, so a host with systemd's
#    rp_filter=2 and promote_secondaries=1, or Docker's ip_forward=1, would
#    give every node those values. SCENARIO.md's nodes start fresh.
_FRESH_NS_SYSCTLS = (
    ("ipv6/conf/all/disable_ipv6", "1"),
    ("ipv6/conf/default/disable_ipv6", "1"),
    *((f"ipv4/conf/{scope}/{key}", "0") for scope in ("all", "default")
      for key in ("forwarding", "rp_filter", "promote_secondaries", "proxy_arp", "arp_ignore",
                  "arp_announce", "arp_filter", "accept_local", "route_localnet", "log_martians")),
)


def _fresh_sysctls(name: str, extra: tuple[tuple[str, str], ...] = ()) -> None:
    """Apply _FRESH_NS_SYSCTLS (and `extra`) in the namespace just created (runs in
    `netns.create`'s thread, which is inside it). A key the kernel lacks (no IPv6) is skipped."""
    for key, value in (*_FRESH_NS_SYSCTLS, *extra):
        try:
            with open(f"/proc/sys/net/{key}", "w") as f:
                f.write(value + "\n")
        except FileNotFoundError:
            continue


# Carrier changes reach a device's operstate (and a bridge port's STP state)
# through the kernel's linkwatch, which handles "non-urgent" events up to a
# second late - a veth whose peer has the same ifindex in the other namespace
# counts as non-urgent. Until then a bridge port stays `disabled` and drops
# frames. A non-dump RTM_GETLINK for the device runs its pending event now
# (netlink.getlink), so before each line and probe the backend asks for every
# device that is up with carrier but not yet running.
_LINK_READY = netlink.IFF_UP | netlink.IFF_LOWER_UP
_LINK_STATE = netlink.IFF_UP | netlink.IFF_LOWER_UP | netlink.IFF_RUNNING
# ... and the other way: a veth whose peer went down has lost its carrier (IFF_LOWER_UP, at once)
# but is still IFF_RUNNING (operstate UP) until linkwatch runs: `ip link` would show it UP
# without NO-CARRIER, where the simulator changes both at once (random differential seed 2105).
_LINK_LOST = netlink.IFF_UP | netlink.IFF_RUNNING


def _shaped(link: Link) -> bool:
    return bool(link.rate_bps or link.delay_ns or link.loss)


def tbf_params(rate_bps: int, mtu: int) -> tuple[int, int]:
    """(burst, limit) in bytes for a tbf at `rate_bps` on a device of `mtu`.

    burst: at least one full frame and one timer tick's worth of bytes;
    limit: burst plus TBF_QUEUE_S of queue, at least ten full frames.
    """
    frame = mtu + ETH_HLEN
    byte_rate = rate_bps / 8
    burst = max(frame, int(byte_rate / KERNEL_HZ) + 1)
    limit = burst + max(int(byte_rate * TBF_QUEUE_S), 10 * frame)
    return burst, limit


def _interval_ns(f: IperfFlow) -> int:
    return paced_interval_ns(f.proto, f.rate_bps, f.size)


def _wait_ready(proc: subprocess.Popen[bytes], what: str) -> None:
    """Wait for the program's `ready` line; raise TwinError with its stderr if it fails."""
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + READY_TIMEOUT
    line = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if r:
            line = proc.stdout.readline()
            break
    if line.strip() == b"ready":
        return
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    err = proc.stderr.read().decode(errors="replace").strip()
    raise TwinError(f"{what} did not start: {err or f'no ready signal within {READY_TIMEOUT:g} s'}")


class _LazyAddresses(Mapping[str, list[str]]):
    """`Node.twin_start`'s addresses, asked of the kernel only if a kind reads them."""

    def __init__(self, backend: LinuxBackend) -> None:
        self._backend = backend

    def __getitem__(self, key: str) -> list[str]:
        return self._backend.node_addresses()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.node_addresses())

    def __len__(self) -> int:
        return len(self._backend.node_addresses())


class LinuxBackend:
    """The kernel twin. SCENARIO.md is the contract; `notes` lists what the kernel could not do."""

    name = "linux"
    supports = ALL_FEATURES - {"trace"}

    def __init__(self, pcap_dir: str | os.PathLike[str] | None = None) -> None:
        check_available()
        self.pcap_dir = pcap_dir
        self.notes: list[str] = []
        self.progress: Progress | None = None  # the twin's iperf runs in wall time and reports no progress
        self.prefix = state.new_prefix()
        self._ns: dict[str, str] = {}  # node -> namespace name
        self._procs: list[subprocess.Popen[bytes]] = []
        self._state: state.RunState | None = None
        self._nodes: dict[str, Node] = {}
        self._node_addrs: dict[str, list[str]] | None = None
        self._old_handlers: dict[int, Any] = {}
        self._closed = False
        self._lock = threading.RLock()
        self._env = dict(os.environ, LC_ALL="C")
        # commands netplex provides on both backends (docker-proxy, docker, dockerd) come first on PATH,
        # run by this Python
        self._env["PATH"] = os.path.join(_TWIN_DIR, "bin") + os.pathsep + self._env.get("PATH", "")
        self._env["NETPLEX_PYTHON"] = sys.executable
        self._link_socks: dict[str, socket.socket] = {}  # namespace -> rtnetlink socket (linkwatch sync)
        self._seq = 0
        self._wires: list[Wire] = []  # the shaped links' wire namespaces
        self._links_seen = 0  # links built so far: a wire is named after its link's index
        self._sessions: dict[str, session.ShellSession] = {}  # node -> its shell (setup lines, cmd probes)
        self._links: list[Link] = []
        self._event_thread: threading.Thread | None = None
        self._event_stop = threading.Event()
        self._event_done: list[EventDone] = []

    # --- context manager ----------------------------------------------------
    def __enter__(self) -> LinuxBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def namespace(self, node: str) -> str:
        """The namespace name of `node` (for `ip netns exec` by hand)."""
        return self._ns[node]

    @property
    def namespaces(self) -> list[str]:
        """Every namespace this run owns (listed in its state file)."""
        return list(self._state.namespaces) if self._state is not None else []

    @property
    def link_netns_aliases(self) -> LinkNetnsAliases:
        """{(wire namespace, ifindex of a user end's peer in it): the node at the far side}.

        A user end of a shaped link shows its peer as `eth0@if<ifindex>` with `link-netns
        <wire namespace>` where a plain veth shows the far node's namespace; the simulator
        names the far node. netplex.scenario.diff normalises one into the other with these
        (the runner copies them into the ScenarioResult).
        """
        return {(w.netns, index): far for w in self._wires for index in wire.END_INDEX
                if (far := w.far_node(index)) is not None}

    @property
    def state_path(self) -> str | None:
        """The run's state file while it is live."""
        return self._state.path if self._state is not None and not self._closed else None

    # --- build --------------------------------------------------------------
    def build(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        if self._closed:
            raise TwinError("this linux backend is closed")
        other = sorted({n.kind for n in nodes.values() if not NODE_KINDS[n.kind].linux_host})
        if other:
            raise TwinError(f"the linux backend builds Linux hosts only, not node kind {other[0]!r}")
        self._nodes = dict(nodes)
        try:
            self._start_run()
            self._build(nodes, links)
            if self.pcap_dir is not None:
                self._start_capture(links)
        except BaseException:
            self.close()
            raise

    def _start_capture(self, links: Sequence[Link]) -> None:
        """One capture program per node, one pcap per link end (the simulator's file names)."""
        assert self.pcap_dir is not None
        os.makedirs(self.pcap_dir, exist_ok=True)
        ends: dict[str, list[str]] = {}
        for link in links:
            for node, ifname in link.ends:
                ends.setdefault(node, []).append(ifname)
        for node, ifnames in ends.items():
            proc = self._spawn([sys.executable, "-I", CAPTURE, os.path.abspath(self.pcap_dir), node, *ifnames],
                               in_ns=node)
            _wait_ready(proc, f"capture on {node}")

    def _start_run(self) -> None:
        if self._state is None:
            self._state = state.RunState(self.prefix)
            self._state.save()  # before anything exists
            self._install_handlers()
            atexit.register(self.close)

    def _build(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        assert self._state is not None
        self._links.extend(links)
        new = [n for n in nodes if n not in self._ns]
        names = {n: f"{self.prefix}-{n}" for n in new}
        for w in self._wires:
            if w.netns in names.values():
                raise TwinError(f"node {w.netns[len(self.prefix) + 1:]!r} has the name of a wire namespace")
        self._ns.update(names)
        wires: list[tuple[Wire, Link]] = []
        for i, link in enumerate(links, start=self._links_seen):
            if link.kind == "veth" and _shaped(link):
                wires.append((Wire(self._wire_name(i), self._ends(link)), link))
        self._links_seen += len(links)
        wire_ns = {w.netns for w, _ in wires}
        self._state.add_namespaces([*names.values(), *wire_ns])
        socks = netns.create(
            [*names.values(), *wire_ns], sockets=True,
            on_created=lambda ns: _fresh_sysctls(ns, wire.WIRE_SYSCTLS if ns in wire_ns else ()),
        )
        try:
            # a node's /run/netns holds only the namespaces `ip netns add` makes on it: `ip netns
            # list` shows those, and a veth to another node shows `link-netnsid N` (issue 9)
            mountns.create({ns: node for node, ns in names.items()}, peers=[])
        except OSError as e:
            for sock in socks.values():
                sock.close()
            raise TwinError(f"cannot give the nodes their own files: {e.strerror or e}") from None
        self._wires.extend(w for w, _ in wires)
        rtnl = {ns: Rtnl(sock) for ns, sock in socks.items()}
        fds: dict[str, int] = {}
        try:
            # Each node's namespace creates the veths of the links it is the first end of, in link
            # order, so every namespace's ifindexes follow one fixed order; a shaped link's two
            # pairs are created from its wire namespace (whose ends get fixed ifindexes) at the
            # point where the first end's namespace would have created its pair.
            cables = {id(link): w for w, link in wires}
            groups: dict[str, list[Link]] = {ns: [] for ns in names.values()}
            for link in links:
                if link.kind == "veth":
                    groups.setdefault(self._ns[self._ends(link)[0][0]], []).append(link)
            for ns, group in groups.items():
                r = self._rtnl_in(ns, rtnl)
                for link in group:
                    cable = cables.get(id(link))
                    if cable is None:
                        (_a, ifa), (b, ifb) = self._ends(link)
                        r.veth_add(ifa, ifb, self._fd_of(self._ns[b], fds), mtu=link.mtu)
                        continue
                    self._commit(ns, r)
                    in_wire = rtnl[cable.netns]
                    for (node, ifname), peer, index in zip(cable.ends, wire.END_NAME, wire.END_INDEX):
                        in_wire.veth_add(peer, ifname, self._fd_of(self._ns[node], fds), mtu=wire.WIRE_MTU,
                                         index=index, peer_mtu=link.mtu or DEFAULT_MTU)
                    self._commit(cable.netns, in_wire)
                self._commit(ns, r)
            for cable, _link in wires:
                cable.queue_bridge(rtnl[cable.netns])
                self._commit(cable.netns, rtnl[cable.netns])
        finally:
            for fd in fds.values():
                os.close(fd)
            for r in rtnl.values():
                r.close()
        self._userspace_ovs_offloads(nodes, links)
        for link in links:
            if link.kind == "tap":
                self._add_tap(link)
                if _shaped(link):
                    (a, ifa), (b, ifb) = self._ends(link)
                    self.notes.append(f"rate, delay and loss of tap link {a}:{ifa} -- {b}:{ifb} not applied: "
                                      "the linux backend shapes veth links only")
        self._shape(wires)

    def _userspace_ovs_offloads(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        """Open vSwitch on the twin is the userspace datapath, whose AF_PACKET sockets take a
        veth's frames with the partial checksums TX offload leaves them, and whose conntrack
        then drops those as bad (a ct() firewall never sees a handshake). As OVS's own
        userspace system tests do (tests/system-userspace-macros.at, CONFIGURE_VETH_OFFLOADS),
        TX offloads are turned off on both ends of every veth link of a node whose setup runs
        ovs-*: the kernel checksums in software what it sends there."""
        ovs = {name for name, node in nodes.items() if _OVS_SETUP.search(node.setup)}
        ends = [end for link in links if link.kind == "veth" and {e[0] for e in link.ends} & ovs
                for end in self._ends(link)]
        if ends and shutil.which("ethtool") is None:
            self.notes.append("TX offloads left on beside Open vSwitch: no `ethtool` on this machine "
                              "(apt-get install ethtool)")
            return
        for node, ifname in ends:
            self._must(node, f"ethtool -K {ifname} tx off >/dev/null")

    def _wire_name(self, index: int) -> str:
        """`<prefix>-w<link index>`, or (when a node has that name) a name no node can have."""
        short = f"w{index}"
        if short in self._ns:
            short = f"w{index}_"
        return f"{self.prefix}-{short}"

    def _ends(self, link: Link) -> tuple[tuple[str, str], tuple[str, str]]:
        (a, ifa), (b, ifb) = link.ends
        for node in (a, b):
            if node not in self._ns:
                raise TwinError(f"link end on unknown node {node!r}")
        return (a, ifa), (b, ifb)

    def _rtnl_in(self, ns: str, rtnl: dict[str, Rtnl]) -> Rtnl:
        r = rtnl.get(ns)
        if r is None:  # a node from an earlier build(): open a socket in it
            r = rtnl[ns] = Rtnl(netns.socket_in(ns))
        return r

    def _commit(self, ns: str, r: Rtnl) -> None:
        try:
            r.commit()
        except NetlinkError as exc:
            raise TwinError(f"{ns[len(self.prefix) + 1:]}: {exc.request}: RTNETLINK answers: {exc.strerror}",
                            exc.errno) from None

    @staticmethod
    def _fd_of(ns: str, fds: dict[str, int]) -> int:
        if ns not in fds:
            fds[ns] = os.open(netns.path(ns), os.O_RDONLY | os.O_CLOEXEC)
        return fds[ns]

    def _add_tap(self, link: Link) -> None:
        (a, ifa), (b, ifb) = self._ends(link)
        proc = self._spawn(
            [sys.executable, "-I", RELAY, self._ns[a], ifa, self._ns[b], ifb], in_ns=None
        )
        _wait_ready(proc, f"tap relay {a}:{ifa} -- {b}:{ifb}")
        mtu = link.mtu
        if mtu:
            for node, ifname in ((a, ifa), (b, ifb)):
                self._must(node, f"ip link set dev {ifname} mtu {int(mtu)}")

    def _shape(self, wires: list[tuple[Wire, Link]]) -> None:
        """On each wire: tbf for `rate`; netem for `delay`/`loss` where the kernel has it, else a note.

        An end's traffic is shaped on the egress of the wire device facing the other end.
        """
        for cable, link in wires:
            rate, delay, loss = link.rate_bps, link.delay_ns, link.loss
            mtu = link.mtu or DEFAULT_MTU
            lines = []
            for end, (node, ifname) in enumerate(cable.ends):
                dev = cable.egress(end)
                tbf_parent = "root"
                if delay or loss:
                    netem = self._netem_args(delay, loss)
                    res = self._tc(cable.netns, [f"qdisc replace dev {dev} root handle 1: netem {netem}"])
                    if res.returncode == 0:
                        tbf_parent = "parent 1:1"
                    else:
                        err = res.stderr.strip()
                        why = ("kernel lacks sch_netem" if "unknown" in err.lower()
                               else err.splitlines()[0] if err else "tc failed")
                        if delay:
                            self.notes.append(f"delay on {node}:{ifname} not applied: {why}")
                        if loss:
                            self.notes.append(f"loss on {node}:{ifname} not applied: {why}")
                if rate:
                    burst, limit = tbf_params(int(rate), mtu)
                    lines.append(f"qdisc replace dev {dev} {tbf_parent} tbf rate {int(rate)}bit"
                                 f" burst {burst} limit {limit}")
            if lines:
                res = self._tc(cable.netns, lines)
                if res.returncode != 0:
                    (a, ifa), (b, ifb) = cable.ends
                    raise TwinError(f"link {a}:{ifa} -- {b}:{ifb}: tc: {res.stderr.strip()}")

    def _tc(self, ns: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
        """`tc -n NS -batch -` with `lines`."""
        return subprocess.run(["tc", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n",
                              capture_output=True, text=True, env=self._env, check=False)

    @staticmethod
    def _netem_args(delay_ns: int | None, loss: float | None) -> str:
        args = []
        if delay_ns:
            args.append(f"delay {int(delay_ns) / 1000:g}us")
        if loss:
            args.append(f"loss {float(loss) * 100:g}%")
        return " ".join(args)

    def _must(self, node: str, line: str) -> None:
        res = self.run(node, line)
        if res.status != 0:
            raise TwinError(f"{node}: {line}: {res.error.strip()}")

    # --- processes ----------------------------------------------------------
    def _spawn(self, argv: list[str], in_ns: str | None) -> subprocess.Popen[bytes]:
        if in_ns is not None:
            argv = ["ip", "netns", "exec", self._ns_of(in_ns), *argv]
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=self._env,
        )
        with self._lock:
            self._procs.append(proc)
            if self._state is not None:
                self._state.add_pid(proc.pid)
        return proc

    def _ns_of(self, node: str) -> str:
        try:
            return self._ns[node]
        except KeyError:
            raise TwinError(f"unknown node {node!r}") from None

    def _exec(self, node: str, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run argv in the node's namespace until it exits (not until its children do).

        Output goes to temporary files, not pipes, so a line that starts a
        background daemon (`dnsmasq &`) returns when the shell exits; the daemon
        stays in the namespace until teardown stops it.
        """
        ns = self._ns_of(node)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [*mountns.enter_argv(ns), *argv], stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, env=self._env, start_new_session=True,
            )
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the line's whole session
                proc.wait()
                raise
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                proc.args, status, out.read().decode(errors="replace"), err.read().decode(errors="replace")
            )

    def _sync_linkwatch(self) -> None:
        """Run the pending linkwatch event of every device that has one (see RTM_GETLINK above),
        in the nodes' namespaces and the wires' (whose bridge ports follow the user ends' state)."""
        with self._lock:   # the events' thread syncs too
            self._sync_linkwatch_locked()

    def _sync_linkwatch_locked(self) -> None:
        for ns in [*self._ns.values(), *(w.netns for w in self._wires)]:
            sock = self._link_socks.get(ns)
            if sock is None:
                try:
                    sock = self._link_socks[ns] = netns.socket_in(ns)
                except OSError:
                    continue
            self._seq += 1
            for idx, flags in netlink.getlink(sock, self._seq).items():
                if flags & _LINK_STATE in (_LINK_READY, _LINK_LOST):
                    self._seq += 1
                    netlink.getlink(sock, self._seq, idx)

    # --- the seam -----------------------------------------------------------
    def run(self, node: str, line: str, terminal: Terminal | None = None) -> CmdResult:
        """Run one complete command in the node's shell session (netplex.twin.session); its
        output arrives when it ends (`terminal` unused)."""
        self._sync_linkwatch()
        with self._lock:
            if self._closed:
                raise TwinError("this linux backend is closed")
            sh = self._sessions.get(node)
            if sh is None:
                # NETPLEX_NODE: the node's name, as the simulator's machine knows it (docker's ids)
                sh = self._sessions[node] = session.ShellSession(
                    mountns.enter_argv(self._ns_of(node)), dict(self._env, NETPLEX_NODE=node), self._track)
        status, out, err = sh.run(line, RUN_TIMEOUT)
        return CmdResult(status, out, err)

    def _track(self, proc: subprocess.Popen[bytes]) -> None:
        """List a process of the run in its state file (a node's shell), so teardown and
        `netplex clean` stop it."""
        with self._lock:
            if self._state is not None:
                self._state.add_pid(proc.pid)

    def write_file(self, node: str, path: str, data: bytes) -> None:
        """Place a file on the node, inside its own mount namespace (never the host's files).

        Only the node's private folders (/etc, /run, /var/lib, /tmp) take files; a
        symlink in the way that leads out of them is refused, and one at the path
        itself is replaced, so no write can follow a link onto the host.
        """
        if not path.startswith("/") or not mountns.private_path(path) or os.path.normpath(path) in mountns.PRIVATE_DIRS:
            raise TwinError(f"{node}: {path}: files go under {', '.join(mountns.PRIVATE_DIRS)} on the linux backend")
        script = ('p=$1; d=$(dirname -- "$p"); r=$(realpath -m -- "$d") || exit 1; '
                  'case "$r" in /etc|/etc/*|/run|/run/*|/var/lib|/var/lib/*|/tmp|/tmp/*) ;; '
                  '*) echo "$d leads out of the node\'s private folders (to $r)" >&2; exit 1;; esac; '
                  'mkdir -p -- "$r" && rm -f -- "$r/${p##*/}" && cat > "$r/${p##*/}"')
        res = subprocess.run([*mountns.enter_argv(self._ns_of(node)), "sh", "-c", script, "sh",
                              os.path.normpath(path)], input=data, capture_output=True, env=self._env,
                             timeout=RUN_TIMEOUT)
        if res.returncode != 0:
            raise TwinError(f"{node}: cannot write {path}: {res.stderr.decode(errors='replace').strip()}")

    def start_node(self, node: str) -> None:
        """What the node's kind runs on the twin (`Node.twin_start`: the EPC's daemons), in its shell."""
        lines = NODE_KINDS[self._nodes[node].kind].twin_start(node, self._nodes, self._links, _LazyAddresses(self))
        for line in lines:
            r = self.run(node, line)
            if r.status != 0:
                raise TwinError(f"{node}: {line.splitlines()[0]}: {(r.error or r.output).strip()}")

    def node_addresses(self) -> dict[str, list[str]]:
        """Each node's global IPv4 addresses once every setup has run (asked of the kernel once,
        when a kind's twin start first needs them)."""
        if self._node_addrs is None:
            self._node_addrs = {}
            for name in self._nodes:
                out = self.run(name, "ip -j -4 addr show").output
                devs = json.loads(out) if out.strip() else []
                self._node_addrs[name] = [a["local"] for d in devs for a in d.get("addr_info", [])
                                          if a.get("scope") == "global"]
        return self._node_addrs

    def start_services(self, node: str, services: list[tuple[str, int]], netns: str | None = None) -> None:
        if not services:
            return
        specs = [f"{proto}:{int(port)}" for proto, port in services]
        if netns is None:
            proc = self._spawn([sys.executable, "-I", SERVICE, *specs], in_ns=node)
        else:   # a named namespace of the node's own /run/netns: entered from its mount namespace
            proc = self._spawn([*mountns.enter_argv(self._ns_of(node)), *self._in_netns(netns),
                                sys.executable, "-I", SERVICE, *specs], in_ns=None)
        _wait_ready(proc, f"services {' '.join(specs)} on {node}" + (f" in {netns}" if netns else ""))

    @staticmethod
    def _in_netns(netns: str | None) -> list[str]:
        """The argv prefix that runs a probe in the node's named namespace (a cloud server's)."""
        return [] if netns is None else ["ip", "netns", "exec", netns]

    def ping(self, src: str, dst: str, count: int, netns: str | None = None) -> ProbeOutcome:
        self._sync_linkwatch()
        count = max(1, int(count))
        try:
            res = self._exec(src, [*self._in_netns(netns), "ping", "-c", str(count), "-W", "1", dst], timeout=count * 2 + 10)
            text = res.stdout
        except subprocess.TimeoutExpired:
            text = ""
        observed: dict[str, Any] = {"sent": 0, "replies": 0}
        m = _PING_COUNTS.search(text)
        if m:
            observed["sent"], observed["replies"] = int(m.group(1)), int(m.group(2))
        rtt = _PING_RTT.search(text)
        if rtt and observed["replies"]:
            observed["rtt_ms"] = round(float(rtt.group(1)), 3)
        return ProbeOutcome(observed["replies"] >= 1, observed)

    def _probe(self, kind: str, src: str, dst: str, port: int, netns: str | None) -> ProbeOutcome:
        self._sync_linkwatch()
        try:
            res = self._exec(src, [*self._in_netns(netns), sys.executable, "-I", PROBE, kind, dst, str(int(port))], timeout=15)
            observed = json.loads(res.stdout) if res.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError):
            observed = None
        if not isinstance(observed, dict):
            observed = {"error": "probe failed"}
            if kind == "udp":
                observed["reply"] = ""
        return ProbeOutcome("error" not in observed, observed)

    def tcp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        return self._probe("tcp", src, dst, port, netns)

    def udp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        return self._probe("udp", src, dst, port, netns)

    def iperf(self, duration_ns: int, flows: Sequence[IperfFlow]) -> ProbeOutcome:
        """SCENARIO.md's iperf probe with netplex/twin/iperf.py inside the namespaces (wall time)."""
        if any(f.cgroup for f in flows):    # the twin leaves the host's cgroups alone
            return ProbeOutcome(False, {"error": "netplex: an iperf flow's cgroup is not supported on the linux "
                                                 "backend (the kernel twin does not touch the host's cgroups)"})
        duration = duration_ns / 1e9
        owners: dict[str, str] = {}
        for node in self._ns:
            res = self.run(node, "ip -4 -o addr show")
            for line in res.output.splitlines():
                parts = line.split()
                if "inet" in parts:
                    owners.setdefault(parts[parts.index("inet") + 1].split("/")[0], node)
        start = time.time() + 1.5
        receivers: dict[tuple[str, str, int], subprocess.Popen[bytes]] = {}
        rx_of: list[tuple[str, str, int] | None] = []
        for f in flows:
            owner = owners.get(f.to)
            key: tuple[str, str, int] | None = (owner, f.proto, f.port) if owner else None
            rx_of.append(key)
            if owner is not None and key is not None and key not in receivers:
                gap = gap_threshold_ns(_interval_ns(f)) / 1e9
                proc = self._spawn([sys.executable, "-I", IPERF, "recv", f.proto, str(f.port), repr(start),
                                    repr(duration), repr(gap)], in_ns=owner)
                _wait_ready(proc, f"iperf receiver {f.proto}:{f.port} on {owner}")
                receivers[key] = proc
        senders = []
        for f in flows:
            argv = [sys.executable, "-I", IPERF, "send", f.proto, f.to, str(f.port),
                    repr(start), repr(duration), str(int(f.rate_bps or (1_000_000 if f.proto == "udp" else 0))),
                    str(int(f.size or (1460 if f.proto == "udp" else 0))), str(int(f.tos or 0))]
            senders.append(self._spawn(argv, in_ns=f.src))
        results: dict[Any, Any] = {}
        for key, proc in receivers.items():
            out, _ = proc.communicate(timeout=duration + 30)
            last = out.decode(errors="replace").strip().splitlines()[-1:] if out else []
            results[key] = json.loads(last[0]) if last and last[0].startswith("{") else None
        sent_info = []
        for proc in senders:
            out, _ = proc.communicate(timeout=duration + 30)
            lines = out.decode(errors="replace").strip().splitlines()
            sent_info.append(json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"error": "no report"})
        observed_flows = []
        flow_gaps: list[FlowGaps] = []
        ok = True
        start_ns, stop_ns = int(start * 1e9), int((start + duration) * 1e9)
        for f, key, snd in zip(flows, rx_of, sent_info):
            r = results.get(key) if key else None
            fg = FlowGaps(start_ns, stop_ns, _interval_ns(f))
            flow_gaps.append(fg)
            if r is None:
                observed_flows.append({"goodput_bps": 0, "wire_bps": 0, "intervals": [], "error": "no receiver"})
                fg.gaps.append((start_ns, stop_ns))
                fg.open_at_end = True
                ok = False
                continue
            fg.gaps.extend((int(a * 1e9), int(b * 1e9)) for a, b in r.get("gaps", []) if a * 1e9 < stop_ns)
            last_ns = int(float(r.get("last") or 0) * 1e9)
            if not last_ns or stop_ns - last_ns > gap_threshold_ns(fg.interval_ns):
                fg.gaps.append((last_ns or start_ns, stop_ns))
                fg.open_at_end = True
            per_hdr = 42 if f.proto == "udp" else 66
            wire = [g + p * per_hdr for g, p in zip(r["good"], r["pkts"])]
            o: dict[str, Any] = {"goodput_bps": round(sum(r["good"]) * 8 / duration),
                                 "wire_bps": round(sum(wire) * 8 / duration),
                                 "intervals": [g * 8 for g in r["good"]], "wire_intervals": [w * 8 for w in wire]}
            if f.proto == "udp":
                o["sent"] = snd.get("sent", 0)
                o["received"] = r.get("received", 0)
                o["lost"] = max(0, o["sent"] - o["received"])
            if snd.get("error"):
                o["error"] = snd["error"]
                ok = False
            if not sum(r["good"]):
                ok = False
            observed_flows.append(o)
        return ProbeOutcome(ok, {"duration_s": duration, "flows": observed_flows}, flow_gaps=flow_gaps)

    # --- events (wall time) ------------------------------------------------------
    def clock_ns(self) -> int:
        return time.time_ns()

    def arm_events(self, events: Sequence[Event]) -> None:
        """A thread runs the events at their wall times while the probes run in this one:
        `ip link set IF down|up` on the cable's ends, a `run` line in a shell of its own."""
        self.disarm_events()
        origin = time.time_ns()
        self._event_stop = threading.Event()
        self._event_done = [EventDone(None) for _ in events]
        plan = LinkEvents(self._links)
        order = sorted(range(len(events)), key=lambda i: events[i].at_ns)

        def loop(stop: threading.Event, done: list[EventDone]) -> None:
            for i in order:
                if stop.wait(max(0.0, (origin + events[i].at_ns - time.time_ns()) / 1e9)):
                    return
                done[i].time_ns = time.time_ns()
                done[i].error = self._event(events[i], plan)

        self._event_thread = threading.Thread(target=loop, args=(self._event_stop, self._event_done),
                                              name="netplex-events", daemon=True)
        self._event_thread.start()

    def disarm_events(self) -> list[EventDone]:
        self._event_stop.set()
        if self._event_thread is not None:
            self._event_thread.join()
            self._event_thread = None
        return list(self._event_done)

    def _event(self, ev: Event, plan: LinkEvents) -> str | None:
        """Carry out one event; the error text, or None."""
        if ev.run is not None:
            try:
                res = self._exec(ev.run.node, ["bash", "-c", ev.run.cmd], timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                return "timed out"
            return None if res.returncode == 0 else (res.stderr or res.stdout or f"exit {res.returncode}").strip()

        def is_up(end: tuple[str, str]) -> bool:
            res = subprocess.run(["ip", "-n", self._ns_of(end[0]), "-o", "link", "show", "dev", end[1]],
                                 capture_output=True, text=True, env=self._env)
            flags = res.stdout.partition("<")[2].partition(">")[0].split(",")
            return res.returncode == 0 and "UP" in flags

        ends, up = plan.apply(ev, is_up)
        errors = []
        # one rtnetlink request per end, back to back (tens of microseconds apart, as a cable's
        # two ends change together): the first end up must not send into a peer still down
        reqs: dict[str, Rtnl] = {}
        for node, ifname in ends:
            ns = self._ns_of(node)
            if ns not in reqs:
                reqs[ns] = Rtnl(netns.socket_in(ns))
            reqs[ns].link_set(ifname, up=up)
        for ns, r in reqs.items():
            try:
                r.commit()
            except TwinError as e:
                errors.append(f"{ns[len(self.prefix) + 1:]}: {e}")
            finally:
                r.close()
        if up and ends:
            # the carrier comes back now, not when linkwatch's once-a-second batching gets to it
            self._sync_linkwatch()
        return "; ".join(errors) or None

    def trace(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> TraceOutcome:
        """The kernel shows no packet's path through its hooks to an unprivileged observer
        of the namespaces: `netplex trace` runs on the simulator only."""
        raise BackendUnsupported("the linux backend cannot trace")

    def attach(self, ue: str) -> ProbeOutcome:
        """The UE kind's attach on the twin (`Node.twin_procedure`): its line prints the outcome as JSON."""
        line = NODE_KINDS[self._nodes[ue].kind].twin_procedure("attach")
        if line is None:
            raise BackendUnsupported(f"node kind {self._nodes[ue].kind} has no attach on the linux backend")
        r = self.run(ue, line)
        try:
            observed = json.loads(r.output)
        except ValueError:
            return ProbeOutcome(False, {"error": (r.error or r.output).strip() or "no answer from the UE's modem"})
        ok = bool(observed.pop("ok", False))
        return ProbeOutcome(ok, observed)

    def trace_attach(self, ue: str) -> TraceOutcome:
        raise BackendUnsupported("the linux backend cannot trace")

    # --- teardown -----------------------------------------------------------
    def close(self) -> None:
        self.disarm_events()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            procs, self._procs = self._procs, []
            socks, self._link_socks = self._link_socks, {}
            sessions, self._sessions = self._sessions, {}
        for sock in socks.values():
            sock.close()
        for sh in sessions.values():
            sh.close()
        try:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            st = self._state
            namespaces = st.namespaces if st is not None else list(self._ns.values())
            # only children not yet reaped: a reaped child's pid may already be another's
            cleanup.teardown(namespaces, [p.pid for p in procs if p.poll() is None])
            mountns.release()   # the last run to end takes the private mount point with it
            for proc in procs:
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()
            if st is not None:
                st.remove()
        finally:
            self._restore_handlers()
            atexit.unregister(self.close)

    # --- signals ------------------------------------------------------------
    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def _restore_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        old = self._old_handlers.get(signum, signal.SIG_DFL)
        self.close()  # restores the previous handlers
        if callable(old):
            old(signum, frame)
        elif old == signal.SIG_DFL:
            os.kill(os.getpid(), signum)
