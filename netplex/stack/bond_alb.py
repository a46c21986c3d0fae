"""balance-alb's receive load balancing (drivers/net/bonding/bond_alb.c, the `rlb_*` half).

A balance-alb bond is a balance-tlb bond (stack/bond.py: transmit balancing, the active
port holding the bond's MAC) that also spreads what it *receives*: it answers each client's
ARP with a different port's MAC, so the client sends to that port. The table (`rx_hashtbl`,
256 entries indexed by the XOR of the client address's bytes, _simple_hash) remembers, per
client, the bond's address it asked about, both MACs and the port assigned
(`__rlb_next_rx_slave`: the ports that can send, round robin).

- The bond sends an ARP reply (rlb_arp_xmit): the client's entry picks or keeps its port;
  the reply's sender MAC becomes that port's and it leaves by that port.
- The bond sends an ARP request: the entry is made (the client's MAC is learnt from its
  reply, rlb_update_entry_from_arp), and since a broadcast from the bond's MAC moves every
  client back to the active port, the clients of that address are marked to be taught again
  (rlb_req_update_subnet_clients) after RLB_UPDATE_DELAY monitor ticks.
- A port going down (rlb_clear_slave) hands its clients to the next port; a port coming up
  (rlb_rebalance) spreads all clients again; either marks them to be taught.
- Every monitor tick (100 ms, bond_alb_monitor) the marked clients get RLB_ARP_BURST_SIZE
  ARP replies from their port's MAC (rlb_update_client), repeated RLB_UPDATE_RETRY more
  times after a port failed.

Not modelled: rlb_purge_src_ip, VLANs above the bond, the promiscuous primary that
rlb_teach_disabled_mac_on_primary sets up (a failed port's clients are re-taught instead).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet

if TYPE_CHECKING:
    from netplex.stack.bond import Bond, Slave

__all__ = ["Rlb", "RlbClient", "ALB_TICK_NS", "rlb_hash"]

ALB_TICK_NS = 100_000_000        # ALB_TIMER_TICKS_PER_SEC 10
RLB_UPDATE_DELAY = 20            # 2 * ALB_TIMER_TICKS_PER_SEC: 2 s
RLB_UPDATE_RETRY = 3
RLB_ARP_BURST_SIZE = 2
ZERO_MAC = b"\x00" * 6


def rlb_hash(addr: int) -> int:
    """_simple_hash over the address's four bytes: their XOR."""
    return (addr ^ (addr >> 8) ^ (addr >> 16) ^ (addr >> 24)) & 0xFF


def _valid_unicast(mac: bytes) -> bool:
    """is_valid_ether_addr: neither multicast nor all zeros."""
    return not mac[0] & 1 and mac != ZERO_MAC


@dataclass(slots=True)
class RlbClient:
    """struct rlb_client_info: one client (ip_dst) of one of the bond's addresses (ip_src)."""

    ip_src: int
    ip_dst: int
    mac_src: bytes
    mac_dst: bytes
    slave: Slave | None
    ntt: bool = False


class Rlb:
    """A balance-alb bond's receive balancing table and its timers' state."""

    def __init__(self, bond: Bond) -> None:
        self.bond = bond
        self.table: dict[int, RlbClient] = {}     # hash index -> client; newest first in `used`
        self.used: list[int] = []                 # rx_hashtbl_used list, head first
        self.rx_slave: Slave | None = None
        self.rx_ntt = False
        self.update_delay = 0
        self.update_retry = 0
        self.rebalance_due = False

    # -- choosing ports ------------------------------------------------------------------
    def _can_tx(self, s: Slave) -> bool:
        return s.up and s.dev.up and s.dev.has_carrier()

    def next_rx_slave(self) -> Slave | None:
        """__rlb_next_rx_slave: the first port that can send after the last one given (all ports
        being equally fast), wrapping round to the first."""
        ports = [s for s in self.bond.slaves if self._can_tx(s)]
        if not ports:
            return None
        last = self.rx_slave
        after = ports[ports.index(last) + 1:] if last in ports else []
        self.rx_slave = after[0] if after else ports[0]
        return self.rx_slave

    def _choose_channel(self, arp: Arp) -> Slave | None:
        """rlb_choose_channel: the client's port, a new one for a new client (a different
        client in the same slot is moved to the active port and told so)."""
        index = rlb_hash(arp.tpa)
        client = self.table.get(index)
        active = self.bond.curr_active
        if client is not None:
            if client.ip_src == arp.spa and client.ip_dst == arp.tpa:
                if not arp.tha[0] & 1:
                    client.mac_dst = arp.tha
                client.mac_src = arp.sha
                if client.slave is not None:
                    return client.slave
            elif active is not None and client.slave is not active:
                client.slave = active
                self._update_client(client)
        assigned = self.next_rx_slave()
        if assigned is None:
            return None
        ntt = _valid_unicast(arp.tha)
        if client is None:
            self.used.insert(0, index)
        self.table[index] = RlbClient(arp.spa, arp.tpa, arp.sha, arp.tha, assigned, ntt)
        if ntt:
            self.rx_ntt = True
        return assigned

    # -- the bond's own ARPs ---------------------------------------------------------------
    def arp_xmit(self, frame: Ethernet) -> tuple[Slave | None, Ethernet]:
        """rlb_arp_xmit: the port an ARP from the bond leaves by, and the frame (a reply's
        sender MAC rewritten to that port's)."""
        arp = frame.payload
        bond = self.bond
        if not isinstance(arp, Arp) or (arp.sha != bond.mac and all(arp.sha != s.dev.mac for s in bond.slaves)):
            return None, frame          # not the bond's own ARP (a bridge above it, say)
        if arp.op == ARPOP_REPLY:
            tx = self._choose_channel(arp)
            if tx is not None:
                rewritten = Arp(arp.op, tx.dev.mac, arp.spa, arp.tha, arp.tpa, arp.hwtype, arp.ptype)
                frame = Ethernet(frame.dst, frame.src, frame.type, rewritten, frame.vlans, frame.meta)
            return tx, frame
        if arp.op == ARPOP_REQUEST:
            tx = self._choose_channel(arp)
            self.update_delay = RLB_UPDATE_DELAY   # the replies wait out the broadcast's effect
            self._req_update_subnet_clients(arp.spa)
            return tx, frame
        return None, frame

    def _req_update_subnet_clients(self, src: int) -> None:
        """rlb_req_update_subnet_clients: every client of that address is to be taught again."""
        for index in self.used:
            client = self.table[index]
            if client.slave is not None and client.ip_src == src:
                client.ntt = True
                self.rx_ntt = True

    def arp_recv(self, arp: Arp) -> None:
        """rlb_arp_recv (bond->recv_probe) -> rlb_update_entry_from_arp: a client's reply gives
        its MAC to its entry, to be taught its port."""
        if arp.op != ARPOP_REPLY:
            return
        client = self.table.get(rlb_hash(arp.spa))
        if client is not None and client.ip_src == arp.tpa and client.ip_dst == arp.spa and client.mac_dst != arp.sha:
            client.mac_dst = arp.sha
            client.ntt = True
            self.rx_ntt = True

    # -- ports coming and going ------------------------------------------------------------
    def clear_slave(self, s: Slave) -> None:
        """rlb_clear_slave: the port's clients go to the next port, to be told (and retried)."""
        for index in self.used:
            client = self.table[index]
            if client.slave is s:
                assigned = self.next_rx_slave()
                client.slave = assigned
                if assigned is not None and _valid_unicast(client.mac_dst):
                    client.ntt = True
                    self.rx_ntt = True
                    self.update_retry = RLB_UPDATE_RETRY
        if self.rx_slave is s:
            self.rx_slave = None

    def update_slave_clients(self, s: Slave) -> None:
        """rlb_req_update_slave_clients: the port's MAC changed (an active-port swap)."""
        for index in self.used:
            client = self.table[index]
            if client.slave is s:
                client.ntt = True
                self.rx_ntt = True

    def _rebalance(self) -> None:
        """rlb_rebalance: every client, newest first, gets the next port."""
        for index in self.used:
            client = self.table[index]
            assigned = self.next_rx_slave()
            if assigned is not None and client.slave is not assigned:
                client.slave = assigned
                if client.mac_dst != ZERO_MAC:
                    client.ntt = True
                    self.rx_ntt = True

    # -- the monitor (bond_alb_monitor's rlb part) -----------------------------------------
    def tick(self) -> None:
        if self.rebalance_due:
            self.rebalance_due = False
            self._rebalance()
        if not self.rx_ntt:
            return
        if self.update_delay:
            self.update_delay -= 1
            return
        for index in self.used:      # rlb_update_rx_clients
            client = self.table[index]
            if client.ntt:
                self._update_client(client)
                if not self.update_retry:
                    client.ntt = False
        if self.update_retry:
            self.update_retry -= 1
        else:
            self.rx_ntt = False

    def _update_client(self, client: RlbClient) -> None:
        """rlb_update_client: ARP replies telling the client the bond's address is at its port's
        MAC, sent by that port."""
        s = client.slave
        if s is None or not _valid_unicast(client.mac_dst) or not self._can_tx(s):
            return
        for _ in range(RLB_ARP_BURST_SIZE):
            arp = Arp(ARPOP_REPLY, s.dev.mac, client.ip_src, client.mac_dst, client.ip_dst)
            self.bond.slave_xmit(s, Ethernet(client.mac_dst, s.dev.mac, ETH_P_ARP, arp))
