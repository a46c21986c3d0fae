"""mlagd: netplex's multi-chassis LAG daemon — two Linux bridges acting as one switch
towards the bonds that reach both (what Cumulus Linux's clagd does; its protocol and
command line are clagd's business and not modelled: this is netplex's own daemon).

Each switch of the pair runs one, configured with its peer link (a bridge port
joining the two bridges), the peer's address on that link's layer-2 domain, and its
dual-connected bonds, each with an MLAG id the two switches share (`bond1:1`). The
operator gives those bonds the pair's LACP system id (`ip link add bond1 type bond mode
802.3ad ad_actor_system 44:38:39:ff:00:01`), so a server's 802.3ad bond sees one partner
across both switches and aggregates both links (IEEE 802.1AX: same partner system and
key). The daemon then keeps the pair one switch:

- **Peer state.** Every second (and at once when a local bond's carrier changes) it
  sends the peer a UDP datagram to port 5342 (clagd's) over the peer link: its dual
  bonds' ids and states, and the MAC addresses its bridge learnt on each. A peer not
  heard from for 3 seconds is dead: every bond it reported counts as down.
- **Split horizon.** While the peer's bond with the same id is up, nothing that came
  over the peer link may leave by the local bond (the host got its copy from the peer):
  the daemon keeps `ebtables -A FORWARD -i PEERLINK -o BOND -j DROP` in the bridge's
  filter table (netfilter/ebtables.py). When the peer's bond goes down or the peer
  dies, the rule goes: the local bond is then the host's only way in, and frames from
  the peer link must reach it. The rules start in place (the peer's bonds are presumed
  up until it says otherwise or stays silent), so the pair never loops at start.
- **FDB sync.** The bridge learns nothing on the peer link (the daemon turns its
  `learning` off, as `bridge link set dev PEERLINK learning off` does, and back on
  when it ends): a dual-connected host heard through the peer would otherwise be
  sent back over it and meet the peer's split horizon. Instead the MACs the peer
  learnt on a dual bond become static entries of the local bridge on the local bond
  with that id (`bridge fdb` shows them) unless the bridge learnt them there itself;
  while the local bond is down they point at the peer link (the host is reached
  through the peer), and they go when the peer stops reporting them.

`mlagctl` (shell/mlagd.py) prints the daemon's view. The daemon is a process of its
machine (`ps`, `kill`); ending it removes its rules and synced entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netplex.apps.process import ProcessTable, Program, ProgramExit
from netplex.packet.addr import bytes_to_mac, int_to_ip, mac_to_bytes
from netplex.stack.bridge import fdb_key
from netplex.stack.netfilter.ebtables import Ebtables, EbtRule

if TYPE_CHECKING:
    from netplex.stack.bridge import Bridge, BridgePort

__all__ = ["MLAG_PORT", "Mlagd", "MlagBond", "find_mlagd"]

MLAG_PORT = 5342                 # clagd's TCP/UDP port
HEARTBEAT_NS = 1_000_000_000
PEER_TIMEOUT_NS = 3_000_000_000


@dataclass(slots=True)
class MlagBond:
    """One dual-connected bond: the local device, the id both switches give it, what the
    peer last said of its own bond with that id, and the split-horizon rule while installed."""

    name: str
    mlag_id: int
    peer_up: bool = True
    peer_macs: set[bytes] = field(default_factory=set)
    rule: EbtRule | None = None
    synced: dict[bytes, str] = field(default_factory=dict)   # MAC -> the port its static entry is on


class Mlagd(Program):
    comm = "mlagd"
    vsz_kib, rss_kib = 31240, 18520

    def __init__(self, peer_link: str, peer_ip: int, bonds: list[tuple[str, int]]) -> None:
        super().__init__()
        self.peer_link = peer_link
        self.peer_ip = peer_ip
        self.bonds = [MlagBond(name, i) for name, i in bonds]
        self.peer_seen_ns: int | None = None
        self.peer_alive = False
        self.sent = 0
        self.received = 0
        self.sock: Any = None
        self.pending = False
        self.peer_learning = True

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        ns = self.ns
        br = self._bridge()
        if br is None:
            raise ProgramExit(1, f"mlagd: peer link {self.peer_link} is not a bridge port\n")
        for b in self.bonds:
            dev = ns.devices.get(b.name)
            if dev is None or dev.bridge_port is None or dev.bridge_port.bridge is not br:
                raise ProgramExit(1, f"mlagd: {b.name} is not a port of {br.name}\n")
        sk = self.own(ns.sockets.udp_socket())
        if sk.bind(0, MLAG_PORT):
            raise ProgramExit(1, f"mlagd: bind to port {MLAG_PORT}: Address already in use\n")
        sk.on_recv = self._recv
        self.sock = sk
        peer = self._port(self.peer_link)
        assert peer is not None
        self.peer_learning = peer.learning
        peer.learning = False           # `bridge link set dev PEERLINK learning off`
        ns.config_changed()
        ns.rtnl_listeners.append(self._rtnl)
        self._apply()
        self._heartbeat()

    def close_owned(self) -> None:
        ns = self.ns
        if self._rtnl in ns.rtnl_listeners:
            ns.rtnl_listeners.remove(self._rtnl)
        for b in self.bonds:
            self._set_rule(b, False)
            self._unsync(b, set())
        peer = self._port(self.peer_link)
        if peer is not None and self.sock is not None:
            peer.learning = self.peer_learning
            ns.config_changed()
        super().close_owned()

    # -- the local side ----------------------------------------------------------------
    def _bridge(self) -> Bridge | None:
        dev = self.ns.devices.get(self.peer_link)
        bp = dev.bridge_port if dev is not None else None
        return bp.bridge if bp is not None else None

    def _port(self, name: str) -> BridgePort | None:
        dev = self.ns.devices.get(name)
        return dev.bridge_port if dev is not None else None

    def local_up(self, b: MlagBond) -> bool:
        """The bond carries traffic: up, with carrier (a port in its active aggregator)."""
        dev = self.ns.devices.get(b.name)
        return dev is not None and dev.up and dev.carrier_ok()

    def _learnt(self, b: MlagBond) -> list[bytes]:
        """The MACs the bridge learnt (dynamic entries) on the bond."""
        br, port = self._bridge(), self._port(b.name)
        if br is None or port is None:
            return []
        return sorted(e.mac for e in br.fdb.values() if e.port is port and not e.is_local and not e.is_static)

    def _rtnl(self) -> None:
        """A link changed: tell the peer at once, and re-point the synced entries."""
        if not self.pending:
            self.pending = True
            self.after(0, self._changed)

    def _changed(self) -> None:
        self.pending = False
        self._apply()
        self._send()

    # -- the peer ----------------------------------------------------------------------
    def _heartbeat(self) -> None:
        now = self.ns.sched.now
        if self.peer_alive and self.peer_seen_ns is not None and now - self.peer_seen_ns >= PEER_TIMEOUT_NS:
            self.peer_alive = False
            for b in self.bonds:
                b.peer_up = False
                b.peer_macs = set()
        self._apply()
        self._send()
        self.after(HEARTBEAT_NS, self._heartbeat)

    def _send(self) -> None:
        lines = ["mlagd 1"]
        for b in self.bonds:
            lines.append(f"bond {b.mlag_id} {'up' if self.local_up(b) else 'down'}")
            lines += [f"mac {b.mlag_id} {bytes_to_mac(m)}" for m in self._learnt(b)]
        if self.sock is not None:
            self.sock.sendto(("\n".join(lines) + "\n").encode(), self.peer_ip, MLAG_PORT)
            self.sent += 1

    def _recv(self, data: bytes, src: int, sport: int) -> None:
        if src != self.peer_ip:
            return
        lines = data.decode(errors="replace").splitlines()
        if not lines or lines[0] != "mlagd 1":
            return
        self.received += 1
        self.peer_seen_ns = self.ns.sched.now
        self.peer_alive = True
        state: dict[int, bool] = {}
        macs: dict[int, set[bytes]] = {}
        for line in lines[1:]:
            w = line.split()
            if len(w) == 3 and w[0] == "bond" and w[1].isdigit():
                state[int(w[1])] = w[2] == "up"
            elif len(w) == 3 and w[0] == "mac" and w[1].isdigit():
                try:
                    macs.setdefault(int(w[1]), set()).add(mac_to_bytes(w[2]))
                except ValueError:
                    continue
        for b in self.bonds:
            b.peer_up = state.get(b.mlag_id, False)
            b.peer_macs = macs.get(b.mlag_id, set())
        self._apply()

    # -- what the state means for the bridge -------------------------------------------
    def _apply(self) -> None:
        for b in self.bonds:
            self._set_rule(b, b.peer_up)
            self._sync(b)

    def _set_rule(self, b: MlagBond, on: bool) -> None:
        ns = self.ns
        ebt = ns.ebtables
        if on and b.rule is None:
            if ebt is None:
                ebt = ns.ebtables = Ebtables()
            b.rule = EbtRule(target="DROP", iif=self.peer_link, oif=b.name)
            ebt.rules["FORWARD"].append(b.rule)
            ns.config_changed()
        elif not on and b.rule is not None:
            if ebt is not None:
                ebt.rules["FORWARD"] = [r for r in ebt.rules["FORWARD"] if r is not b.rule]
                if ebt.empty():
                    ns.ebtables = None
            b.rule = None
            ns.config_changed()

    def _sync(self, b: MlagBond) -> None:
        """The peer's MACs on this id as static entries: on the bond while it is up, else on
        the peer link. An entry the bridge learnt on the bond itself, or one configured by
        hand, is left alone (both switches learning a host keeps both reporting it)."""
        br = self._bridge()
        if br is None:
            return
        target = b.name if self.local_up(b) else self.peer_link
        port = self._port(target)
        if port is None:
            return
        for mac in sorted(b.peer_macs):
            if b.synced.get(mac) == target:
                continue
            e = br.fdb.get(_key(br, mac))
            if e is not None and mac not in b.synced and (e.is_static or e.port is port):
                continue        # configured by hand, or learnt on the bond itself
            br.fdb_add(mac, port, is_static=True, replace=True)
            b.synced[mac] = target
        self._unsync(b, b.peer_macs)

    def _unsync(self, b: MlagBond, keep: set[bytes]) -> None:
        br = self._bridge()
        for mac in [m for m in b.synced if m not in keep]:
            del b.synced[mac]
            if br is None:
                continue
            e = br.fdb.get(_key(br, mac))
            if e is not None and e.is_static and e.port is not None:
                del br.fdb[_key(br, mac)]
                self.ns.config_changed()

    # -- mlagctl -------------------------------------------------------------------------
    def status(self) -> str:
        peer = "alive" if self.peer_alive else "not alive"
        out = [f"The peer is {peer}",
               f"Peer link: {self.peer_link}, peer address {int_to_ip(self.peer_ip)}",
               f"Datagrams sent {self.sent}, received {self.received}",
               "",
               f"{'Interface':<12} {'MLAG Id':>7}  {'Local':<5} {'Peer':<5} {'Split-horizon':<13} Synced MACs"]
        for b in self.bonds:
            out.append(f"{b.name:<12} {b.mlag_id:>7}  {'up' if self.local_up(b) else 'down':<5} "
                       f"{'up' if b.peer_up else 'down':<5} {'on' if b.rule is not None else 'off':<13} "
                       f"{len(b.synced)}")
        return "\n".join(out) + "\n"


def _key(br: Bridge, mac: bytes) -> bytes:
    """The FDB key of an untagged entry."""
    return fdb_key(mac, 0)


def find_mlagd(procs: ProcessTable, ns: Any) -> Mlagd | None:
    """The running mlagd of network namespace `ns` on this machine."""
    for p in procs.by_program(Mlagd):
        if isinstance(p.program, Mlagd) and p.program.alive and p.netns is ns:
            return p.program
    return None
