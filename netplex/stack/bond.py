"""Bonding (drivers/net/bonding/bond_main.c, bond_3ad.c, bond_options.c): several
ports acting as one device, on the rx_handler seam of device.py.

`ip link add bond0 type bond mode MODE [miimon MS] [updelay MS] [downdelay MS]
[lacp_rate slow|fast] [xmit_hash_policy ...] [ad_select ...] [primary DEV] ...`
and `ip link set eth0 master bond0` (rtnl.py's `BondOps`). Enslaving (bond_enslave)
gives the port the bond's MAC (the bond takes the first port's MAC when its own
was random), opens it, and registers `Bond.handle_frame` as its rx_handler;
releasing gives the port back its permanent address.

Modes: balance-rr (round robin), active-backup (one active port; the others
drop what they receive; on failover the bond sends `num_grat_arp` gratuitous
ARPs through the new active port so switches learn where its MAC went),
balance-xor (`bond_xmit_hash` % ports), broadcast (every port), 802.3ad (LACP,
IEEE 802.1AX: LACPDUs every second (partner asks for short timeouts) or 30 s,
a port's partner times out after 3 or 90 s, ports with the same partner system
and key form an aggregator; the active one distributes by `bond_xmit_hash`).
balance-tlb (bond_alb.c's TLB half: transmit load balancing without switch
support): each port keeps its own MAC but the active one, which has the bond's
and alone receives; unicast IPv4 leaves by the port `tlb_choose_channel` gives
the destination's hash (tlb_dynamic_lb 1: the least loaded port when the hash is
first seen, every hash reassigned by its last 10 s of bytes every 10 s; 0:
bond_xmit_hash % usable ports), from that port's MAC; everything else leaves by
the active port. A new active port swaps MACs with the old one and sends
learning frames (ETH_P_LOOPBACK, 60 bytes, from and to its MAC) so switches
follow. balance-alb is balance-tlb with receive balancing as well (stack/bond_alb.py: each
client is answered, and taught, a different port's MAC); its ports other than the
active one take unicast frames too.

Link monitoring is the MII monitor or the ARP monitor. The MII monitor: every
`miimon` ms each port's carrier is read (use_carrier 1); `downdelay`/`updelay`
(multiples of miimon) hold a change back. A failed active port is therefore
replaced within one miimon period (+ downdelay): 100 ms by default.

The ARP monitor (`arp_interval MS arp_ip_target A[,B...]`, which turns the MII
monitor off): every `arp_interval` ms the bond sends an ARP request for each
target (bond_arp_send_all: from the address its route to the target picks) and
judges each port by when it last sent (trans_start) and last received
(last_rx: any frame, or with `arp_validate` only ARPs to or from a target;
`arp_all_targets all`: the oldest target's). active-backup
(bond_activebackup_arp_mon): the active port probes; it goes down when it has
neither sent nor heard within `arp_missed_max` intervals, a backup when it has
heard nothing within arp_missed_max + 1; with no active port the monitor tries
each port in turn (current_arp_slave, link "going back") until one hears an
answer. balance-rr/xor/broadcast (bond_loadbalance_arp_mon): every port probes
and is up while it sent and heard within the last interval(s). This catches a
path that dies beyond the cable (a switch's uplink), which the carrier never shows.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from netplex.errors import NetplexError
from netplex.packet.addr import int_to_ip
from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.lacp import (
    ETH_P_SLOW,
    LACP_ACTIVITY,
    LACP_AGGREGATION,
    LACP_COLLECTING,
    LACP_DEFAULTED,
    LACP_DISTRIBUTING,
    LACP_EXPIRED,
    LACP_MAC,
    LACP_SYNCHRONIZATION,
    LACP_TIMEOUT,
    MARKER_INFORMATION,
    MARKER_RESPONSE,
    Lacpdu,
    LacpInfo,
    Marker,
    state_names,
)
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.bond_alb import ALB_TICK_NS, Rlb
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)
from netplex.stack.if_flags import IFF_MASTER, IFF_SLAVE

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["Bond", "Slave", "BondParams", "BOND_MODES", "XMIT_HASH_POLICIES", "AD_SELECT", "bond_xmit_hash",
           "bond_mode_name", "proc_net_bonding"]

NSEC_PER_MSEC = 1_000_000
NSEC_PER_SEC = 1_000_000_000

# iproute2's tables (ip/iplink_bond.c): the index is the kernel's value
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
BOND_MODE_ROUNDROBIN, BOND_MODE_ACTIVEBACKUP, BOND_MODE_XOR, BOND_MODE_BROADCAST, BOND_MODE_8023AD, BOND_MODE_TLB, \
    BOND_MODE_ALB = range(7)
ETH_P_LOOPBACK = 0x0900          # alb_send_lp_vid's learning frames
TLB_REBALANCE_NS = 10 * NSEC_PER_SEC   # BOND_TLB_REBALANCE_INTERVAL
XMIT_HASH_POLICIES = ("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4")
AD_SELECT = ("stable", "bandwidth", "count")
PRIMARY_RESELECT = ("always", "better", "failure")
FAIL_OVER_MAC = ("none", "active", "follow")
ARP_VALIDATE = ("none", "active", "backup", "all")
ARP_ALL_TARGETS = ("any", "all")
LACP_RATE = ("slow", "fast")
_MODE_NAMES = ("load balancing (round-robin)", "fault-tolerance (active-backup)", "load balancing (xor)",
               "fault-tolerance (broadcast)", "IEEE 802.3ad Dynamic link aggregation",
               "transmit load balancing", "adaptive load balancing")   # bond_mode_name()

BOND_LINK_UP, BOND_LINK_FAIL, BOND_LINK_DOWN, BOND_LINK_BACK = 0, 1, 2, 3
_LINK_STATUS = ("up", "going down", "down", "going back")   # bond_slave_link_status()

# 802.3ad (bond_3ad.c): a tick every 100 ms; periodic LACPDUs every 1 s or 30 s; timeouts 3 s / 90 s
AD_TICK_NS = 100 * NSEC_PER_MSEC
AD_FAST_PERIODIC_NS, AD_SLOW_PERIODIC_NS = 1 * NSEC_PER_SEC, 30 * NSEC_PER_SEC
AD_SHORT_TIMEOUT_NS, AD_LONG_TIMEOUT_NS = 3 * NSEC_PER_SEC, 90 * NSEC_PER_SEC
# the churn detection machine (ad_churn_machine): AD_ACTOR_CHURN_TIMER = AD_PARTNER_CHURN_TIMER = 60 s
AD_CHURN_NS = 60 * NSEC_PER_SEC
AD_CHURN_MONITOR, AD_CHURN, AD_NO_CHURN = 0, 1, 2
_CHURN_DESC = ("monitoring", "churned", "none")   # bond_3ad_churn_desc
AD_LINK_SPEED_10000MBPS = 7     # enum ad_link_speed_type: a veth reports 10000 Mb/s full duplex
SPEED_MBPS = 10000
SLAVE_QUEUES = 16               # tx_queues' default: numtxqueues 16 numrxqueues 16


def default_partner() -> LacpInfo:
    """ad_initialize_port's partner_admin: what a port shows while it has no partner."""
    return LacpInfo(65535, b"\x00" * 6, 1, 255, 1, LACP_ACTIVITY)


def bond_mode_name(mode: int) -> str:
    return _MODE_NAMES[mode]


def _einval(message: str = "RTNETLINK answers: Invalid argument") -> NetplexError:
    return NetplexError(message, errno.EINVAL)


@dataclass(slots=True)
class BondParams:
    """struct bond_params: the options `ip link ... type bond` sets (kernel units: ms)."""

    mode: int = BOND_MODE_ROUNDROBIN
    miimon: int = 100
    updelay: int = 0           # in multiples of miimon, as the kernel keeps it
    downdelay: int = 0
    peer_notif_delay: int = 0
    use_carrier: int = 1
    arp_interval: int = 0
    arp_missed_max: int = 2
    arp_validate: int = 0
    arp_all_targets: int = 0
    primary: str = ""
    primary_reselect: int = 0
    fail_over_mac: int = 0
    xmit_hash_policy: int = 0
    resend_igmp: int = 1
    num_grat_arp: int = 1
    all_slaves_active: int = 0
    min_links: int = 0
    lp_interval: int = 1
    packets_per_slave: int = 1
    lacp_active: int = 1
    lacp_rate: int = 0
    ad_select: int = 0
    ad_actor_sys_prio: int = 65535
    ad_user_port_key: int = 0
    ad_actor_system: bytes = b"\x00" * 6
    tlb_dynamic_lb: int = 1
    arp_ip_target: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Aggregator:
    """struct aggregator: the ports that share one partner (system, key)."""

    ident: int
    actor_key: int
    partner_system: bytes
    partner_key: int
    ports: list[Slave] = field(default_factory=list)


class Slave:
    """struct slave (and its 802.3ad `struct port`): one port of a bond."""

    def __init__(self, bond: Bond, dev: NetDevice, port_number: int) -> None:
        self.bond = bond
        self.dev = dev
        self.perm_hwaddr = dev.mac
        self.link = BOND_LINK_UP if dev.up and dev.has_carrier() else BOND_LINK_DOWN
        self.delay = 0
        self.link_failure_count = 0
        self.backup = False
        # the ARP monitor (jiffies as ns): enslaving sets last_rx one interval (+1) in the past
        self.last_rx = 0
        self.last_tx = 0
        self.last_link_up = 0
        self.target_last_arp_rx: list[int] = []
        # 802.3ad
        self.port_number = port_number
        self.actor_state = 0
        self.partner = default_partner()
        self.partner_valid = False
        self.current_while = 0
        self.aggregator: Aggregator | None = None
        self.next_tx = 0
        self.ntt = False
        self.lacpdu_rx = 0
        self.lacpdu_tx = 0
        # churn detection: AD_PORT_CHURNED, both machines' states, the timers' end, the counts
        self.churned = False
        self.churn_actor_state = AD_CHURN_MONITOR
        self.churn_partner_state = AD_CHURN_MONITOR
        self.churn_until: int | None = None
        self.churn_actor_count = 0
        self.churn_partner_count = 0

    @property
    def up(self) -> bool:
        return self.link == BOND_LINK_UP

    def distributing(self) -> bool:
        return bool(self.actor_state & LACP_DISTRIBUTING)

    def actor_info(self) -> LacpInfo:
        b = self.bond
        return LacpInfo(b.params.ad_actor_sys_prio, b.ad_system(), b.actor_key(), 255, self.port_number,
                        self.actor_state)


class Bond(NetDevice):
    """A bonding master (struct bonding)."""

    kind = "bond"
    accepts_ports = True
    default_flags = NetDevice.default_flags | IFF_MASTER
    slave_flag = IFF_SLAVE
    num_tx_queues = SLAVE_QUEUES

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.params = BondParams()
        self.slaves: list[Slave] = []
        self.curr_active: Slave | None = None
        self.rr_counter = 0
        self.timer_gen = 0                 # the live monitor's generation (older timers are stale)
        self.aggregators: list[Aggregator] = []
        self.active_agg: Aggregator | None = None
        self.carrier = False
        self.curr_arp_slave: Slave | None = None
        # balance-tlb (struct tlb_client_info per hash: its port, bytes this period, bytes last period)
        self.tlb_table: dict[int, list[Any]] = {}
        self.tlb_load: dict[int, int] = {}          # ifindex -> SLAVE_TLB_INFO(slave).load
        self.unbalanced_load = 0
        self.rlb = Rlb(self)                        # balance-alb's receive balancing

    # -- state ---------------------------------------------------------------
    def has_carrier(self) -> bool:
        return self.up and self.carrier

    def carrier_ok(self) -> bool:
        return self.carrier

    def _usable(self) -> list[Slave]:
        if self.params.mode == BOND_MODE_8023AD:
            agg = self.active_agg
            return [s for s in agg.ports if s.distributing()] if agg is not None else []
        return [s for s in self.slaves if s.up]

    def _set_carrier(self) -> None:
        """bond_set_carrier: on while a port can carry traffic (802.3ad: the active aggregator
        has at least min_links ports)."""
        if self.params.mode == BOND_MODE_8023AD:
            agg = self.active_agg
            n = len([s for s in agg.ports if s.up]) if agg is not None else 0
            on = n > 0 and n >= self.params.min_links
        else:
            on = any(s.up for s in self.slaves)
        if on != self.carrier:
            self.carrier = on
            self.ns.device_state_changed(self)

    def set_up(self, up: bool) -> None:
        super().set_up(up)
        self._arm()

    # -- options (bond_changelink) -------------------------------------------------
    def change(self, opts: dict[str, Any]) -> None:
        """bond_changelink: check every option against the bond's state, then apply."""
        p = self.params
        for key in ("mode", "lacp_rate", "ad_select", "ad_actor_system", "ad_actor_sys_prio", "ad_user_port_key"):
            if key in opts and opts[key] != getattr(p, key) and self.up:
                raise NetplexError("Error: unable to set option because the bond is up.", errno.EBUSY)
        if "mode" in opts and opts["mode"] != p.mode and self.slaves:
            raise NetplexError("Error: unable to set option because the bond device has slaves.", errno.ENOTEMPTY)
        mode = opts.get("mode", p.mode)
        if opts.get("arp_interval") and opts.get("miimon"):
            raise NetplexError("Error: ARP monitoring cannot be used with MII monitoring.", errno.EINVAL)
        if opts.get("arp_interval") and mode in (BOND_MODE_8023AD, BOND_MODE_TLB, BOND_MODE_ALB):
            raise NetplexError("RTNETLINK answers: Permission denied", errno.EACCES)   # bond_opt_check_deps
        targets = opts.get("arp_ip_target", [])
        for i, t in enumerate(targets):   # bond_is_ip_target_ok; a repeated target is refused too
            if t == 0 or t == 0xFFFFFFFF or t >> 28 == 14 or t in targets[:i]:
                raise _einval()
        primary = opts.get("primary")
        if primary is not None and primary not in self.ns.devices:
            raise NetplexError(f'Cannot find device "{primary}"', errno.ENODEV)
        miimon = opts.get("miimon", p.miimon)
        for key in ("updelay", "downdelay", "peer_notif_delay"):
            v = opts.get(key)
            if v is not None and miimon and v % miimon:
                raise _einval()
        for key, value in opts.items():
            if key in ("updelay", "downdelay", "peer_notif_delay"):
                value = value // miimon if miimon else 0
            setattr(p, key, value)
        # bond_option_miimon_set / bond_option_arp_interval_set: one monitor turns the other off
        if opts.get("miimon"):
            p.arp_interval = 0
        if opts.get("arp_interval"):
            p.miimon = 0
        if "primary" in opts:
            self._select_active()
        self.ns.config_changed()
        self._arm()

    # -- ports (bond_enslave / bond_release) -------------------------------------------
    def check_slave(self, dev: NetDevice) -> None:
        if dev is self:
            raise NetplexError("Error: Cannot enslave bond to itself.", errno.EPERM)

    def ndo_add_slave(self, dev: NetDevice) -> None:
        netdev_rx_handler_register(dev, partial(self.handle_frame, dev))
        number = 1 + max((s.port_number for s in self.slaves), default=0)
        slave = Slave(self, dev, number)
        if not self.slaves and self.addr_assign_random:
            self.ns.set_mac(self, dev.mac)     # the bond takes its first port's address
        self.slaves.append(slave)
        dev.master = self
        if dev.mac != self.mac and (not self._is_lb() or len(self.slaves) == 1):
            self.ns.set_mac(dev, self.mac)      # balance-tlb/alb: a later port keeps its own address
        if not dev.up:
            self.ns.set_link_up(dev, True)      # bond_enslave: dev_open(slave_dev)
        slave.link = BOND_LINK_UP if dev.has_carrier() else BOND_LINK_DOWN
        slave.backup = self._uses_primary()
        now = self.ns.sched.now
        slave.last_link_up = now
        slave.last_rx = now - self.params.arp_interval * NSEC_PER_MSEC - 1
        slave.target_last_arp_rx = [slave.last_rx] * len(self.params.arp_ip_target)
        if self.params.mode == BOND_MODE_8023AD:
            self._ad_init_port(slave)
        self.rlb.rebalance_due = self.params.mode == BOND_MODE_ALB   # bond_alb_init_slave
        self._select_active()
        self._set_carrier()
        self._arm()

    def ndo_del_slave(self, dev: NetDevice) -> None:
        slave = self._slave_of(dev)
        netdev_rx_handler_unregister(dev)
        if slave is None:
            return
        self.slaves.remove(slave)
        if slave.aggregator is not None:
            self._ad_unselect(slave)
        if self.params.mode == BOND_MODE_ALB:
            self.rlb.clear_slave(slave)         # bond_alb_deinit_slave
        dev.master = None
        self.ns.set_mac(dev, slave.perm_hwaddr)
        if slave is self.curr_active:
            self.curr_active = None
        if slave is self.curr_arp_slave:
            self.curr_arp_slave = None
        if not self.slaves:   # __bond_release_one: the last port gone, a new random address
            self.ns.set_mac(self, self.ns.world.random_mac())
            self.addr_assign_random = True
        self._select_active()
        self._set_carrier()

    def lower_event(self, dev: NetDevice) -> None:
        """NETDEV_UP/DOWN/CHANGE on a port: the MII monitor notices at its next round."""

    def _slave_of(self, dev: NetDevice) -> Slave | None:
        return next((s for s in self.slaves if s.dev is dev), None)

    # -- the MII monitor (bond_mii_monitor) and the 802.3ad state machines (bond_3ad_state_machine_handler) --
    def _arm(self) -> None:
        self.timer_gen += 1
        if not self.up or not self.slaves:
            return
        gen = self.timer_gen
        if self.params.miimon:
            self.ns.sched.after(self.params.miimon * NSEC_PER_MSEC, self._mii_tick, gen)
        elif self.params.arp_interval:
            self.ns.sched.after(self.params.arp_interval * NSEC_PER_MSEC, self._arp_tick, gen)
        if self.params.mode == BOND_MODE_8023AD:
            self.ns.sched.after(AD_TICK_NS, self._ad_tick, gen)
        if self.params.mode == BOND_MODE_TLB and self.params.tlb_dynamic_lb or self.params.mode == BOND_MODE_ALB:
            self.ns.sched.after(TLB_REBALANCE_NS, self._tlb_rebalance, gen)
        if self.params.mode == BOND_MODE_ALB:
            self.ns.sched.after(ALB_TICK_NS, self._alb_tick, gen)

    def _mii_tick(self, gen: int) -> None:
        if gen != self.timer_gen:
            return
        changed = False
        p = self.params
        for s in self.slaves:
            carrier = s.dev.up and s.dev.has_carrier()
            if s.link in (BOND_LINK_UP, BOND_LINK_FAIL) and not carrier:
                if s.link == BOND_LINK_UP:
                    s.link, s.delay = BOND_LINK_FAIL, p.downdelay
                if s.delay <= 0:
                    s.link = BOND_LINK_DOWN
                    s.link_failure_count += 1
                    changed = True
                    if p.mode == BOND_MODE_ALB:
                        self.rlb.clear_slave(s)    # bond_alb_handle_link_change
                else:
                    s.delay -= 1
            elif s.link == BOND_LINK_FAIL and carrier:
                s.link = BOND_LINK_UP          # back before downdelay ran out
            elif s.link in (BOND_LINK_DOWN, BOND_LINK_BACK) and carrier:
                if s.link == BOND_LINK_DOWN:
                    s.link, s.delay = BOND_LINK_BACK, p.updelay
                if s.delay <= 0:
                    s.link = BOND_LINK_UP
                    changed = True
                    s.churned = p.mode == BOND_MODE_8023AD   # the port's key changes back: AD_PORT_BEGIN
                    self.rlb.rebalance_due = p.mode == BOND_MODE_ALB
                else:
                    s.delay -= 1
            elif s.link == BOND_LINK_BACK and not carrier:
                s.link = BOND_LINK_DOWN
        if changed:
            if p.mode == BOND_MODE_8023AD:
                for s in self.slaves:
                    if not s.up and s.aggregator is not None:
                        self._ad_port_disabled(s)
                self._ad_select()
            self._select_active()
            self._set_carrier()
        self.ns.sched.after(p.miimon * NSEC_PER_MSEC, self._mii_tick, gen)

    # -- the ARP monitor (bond_activebackup_arp_mon, bond_loadbalance_arp_mon) -----------------
    def _in_interval(self, last: int, mod: int) -> bool:
        """bond_time_in_interval: `last` within mod intervals (and half of one) of now."""
        delta = self.params.arp_interval * NSEC_PER_MSEC
        return last - delta <= self.ns.sched.now <= last + mod * delta + delta // 2

    def _do_arp_validate(self, s: Slave) -> bool:
        """slave_do_arp_validate: arp_validate's bit for the port's state (active 1, backup 2)."""
        return bool(self.params.arp_validate & (2 if self._is_backup(s) else 1))

    def _is_backup(self, s: Slave) -> bool:
        return self.params.mode == BOND_MODE_ACTIVEBACKUP and s is not self.curr_active

    def _last_rx(self, s: Slave) -> int:
        """slave_last_rx: with arp_all_targets all (and validation), the target heard from longest ago."""
        if self.params.arp_all_targets and self._do_arp_validate(s) and s.target_last_arp_rx:
            return min(s.target_last_arp_rx)
        return s.last_rx

    def _arp_send_all(self, s: Slave) -> None:
        """bond_arp_send_all: an ARP request for each target, out of the port, asking from the
        address the bond's route to the target picks (0 when there is no route; none when the
        route leaves by another device)."""
        for target in self.params.arp_ip_target:
            rt = self.ns.ip_route_output(target)
            if isinstance(rt, int):
                src = 0
            elif rt.dev is self:
                src = rt.src or self.ns.inet_select_addr(self, target, 0)
            else:
                continue
            arp = Arp(ARPOP_REQUEST, s.dev.mac, src, b"\x00" * 6, target)
            self.slave_xmit(s, Ethernet(b"\xff" * 6, s.dev.mac, ETH_P_ARP, arp))

    def slave_xmit(self, s: Slave, frame: Ethernet, nbytes: int = 0) -> None:
        """Out of a port; a port with carrier takes it (dev_trans_start moves)."""
        if s.dev.up and s.dev.has_carrier():
            s.last_tx = self.ns.sched.now
        s.dev.xmit(frame, nbytes)

    def _arp_tick(self, gen: int) -> None:
        if gen != self.timer_gen:
            return
        if self.params.mode == BOND_MODE_ACTIVEBACKUP:
            self._ab_arp_mon()
        else:
            self._lb_arp_mon()
        self.ns.sched.after(self.params.arp_interval * NSEC_PER_MSEC, self._arp_tick, gen)

    def _lb_arp_mon(self) -> None:
        """bond_loadbalance_arp_mon: a port is up while it sent and heard within one interval,
        down once it has not within arp_missed_max; every port with carrier probes."""
        changed = False
        for s in self.slaves:
            if s.link != BOND_LINK_UP:
                if self._in_interval(s.last_tx, 1) and self._in_interval(s.last_rx, 1):
                    s.link = BOND_LINK_UP
                    s.last_link_up = self.ns.sched.now
                    changed = True
            elif not self._in_interval(s.last_tx, self.params.arp_missed_max) or \
                    not self._in_interval(s.last_rx, self.params.arp_missed_max):
                s.link = BOND_LINK_DOWN
                s.link_failure_count += 1
                changed = True
            if s.dev.up and s.dev.has_carrier():
                self._arp_send_all(s)
        if changed:
            self._set_carrier()

    def _ab_arp_mon(self) -> None:
        """bond_ab_arp_inspect + bond_ab_arp_commit, then bond_ab_arp_probe."""
        now = self.ns.sched.now
        missed = self.params.arp_missed_max
        proposals: list[tuple[Slave, int]] = []
        for s in self.slaves:
            last_rx = self._last_rx(s)
            if s.link != BOND_LINK_UP:
                if self._in_interval(last_rx, 1):
                    proposals.append((s, BOND_LINK_UP))
                elif s.link == BOND_LINK_BACK:
                    proposals.append((s, BOND_LINK_FAIL))
                continue
            if self._in_interval(s.last_link_up, 2):
                continue       # two intervals' grace after enslaving or coming up
            if s is not self.curr_active and self.curr_arp_slave is None and not self._in_interval(last_rx, missed + 1):
                proposals.append((s, BOND_LINK_DOWN))
            elif s is self.curr_active and (not self._in_interval(s.last_tx, missed)
                                            or not self._in_interval(last_rx, missed)):
                proposals.append((s, BOND_LINK_DOWN))
        failover = False
        for s, new in proposals:
            if new == BOND_LINK_UP:
                if self.curr_active is not s:
                    s.link = BOND_LINK_UP
                    s.last_link_up = now
                    self.curr_arp_slave = None
                    if self.curr_active is None or s.dev.name == self.params.primary:
                        failover = True
            elif new == BOND_LINK_DOWN:
                s.link = BOND_LINK_DOWN
                s.link_failure_count += 1
                if s is self.curr_active:
                    self.curr_arp_slave = None
                    failover = True
            else:
                s.link = BOND_LINK_FAIL
                if self.curr_active is not None:
                    self.curr_arp_slave = None
        if failover:
            self._select_active()
            self._set_carrier()
        self._ab_arp_probe()

    def _ab_arp_probe(self) -> None:
        """bond_ab_arp_probe: the active port probes; without one, the next port with carrier
        after current_arp_slave is tried (link "going back") and probes."""
        if self.curr_active is not None:
            self._arp_send_all(self.curr_active)
            return
        if not self.slaves:
            return
        cur = self.curr_arp_slave or self.slaves[0]
        found = False
        before = new = None
        for s in self.slaves:
            carrier = s.dev.up and s.dev.has_carrier()
            if not found and before is None and carrier:
                before = s
            if found and new is None and carrier:
                new = s
            if not carrier and s.link == BOND_LINK_UP:
                s.link = BOND_LINK_DOWN
                s.link_failure_count += 1
            if s is cur:
                found = True
        new = new or before
        if new is None:
            return
        new.link = BOND_LINK_BACK
        self._arp_send_all(new)
        new.last_link_up = self.ns.sched.now
        self.curr_arp_slave = new

    def _arp_rcv(self, s: Slave, frame: Ethernet) -> None:
        """bond_rcv_validate / bond_arp_rcv: what counts as having heard something on a port."""
        now = self.ns.sched.now
        if not self._do_arp_validate(s):
            s.last_rx = now
            return
        arp = frame.payload
        if frame.type != ETH_P_ARP or not isinstance(arp, Arp):
            return
        if frame.dst != self.mac and frame.dst != b"\xff" * 6:
            return     # PACKET_OTHERHOST
        active = self.curr_active
        if not self._is_backup(s):
            self._validate_arp(s, arp.spa, arp.tpa)
        elif active is not None and self._last_rx(active) > active.last_link_up:
            self._validate_arp(s, arp.tpa, arp.spa)     # the active port's request, heard on a backup
        elif self.curr_arp_slave is not None and arp.op == ARPOP_REPLY \
                and self._in_interval(self.curr_arp_slave.last_tx, 1):
            self._validate_arp(s, arp.spa, arp.tpa)

    def _validate_arp(self, s: Slave, sip: int, tip: int) -> None:
        """bond_validate_arp: from a target to one of the bond's addresses."""
        if not sip or not any(a.addr == tip for a in self.ns.addrs.get(self.ifindex, [])):
            return
        targets = self.params.arp_ip_target
        if sip not in targets:
            return
        s.last_rx = self.ns.sched.now
        i = targets.index(sip)
        if i < len(s.target_last_arp_rx):
            s.target_last_arp_rx[i] = s.last_rx

    def _select_active(self) -> None:
        """bond_select_active_slave (active-backup): the primary when it is up, else keep the
        current one while it is up, else the first port that is up; a change sends the
        gratuitous ARPs (NETDEV_NOTIFY_PEERS)."""
        if not self._uses_primary():
            self.curr_active = None
            return
        old = self.curr_active
        primary = next((s for s in self.slaves if s.dev.name == self.params.primary and s.up), None)
        if primary is not None and (old is None or self.params.primary_reselect == 0 or not old.up):
            new: Slave | None = primary
        elif old is not None and old.up and old in self.slaves:
            new = old
        else:
            new = next((s for s in self.slaves if s.up), None)
        self.curr_active = new
        for s in self.slaves:
            s.backup = s is not new
        if self._is_lb():
            if new is not None and new is not old:
                self._tlb_active_change(old, new)
            return
        if new is not None and new is not old and self.up:
            for _ in range(self.params.num_grat_arp):
                self._send_garp(new)

    def _uses_primary(self) -> bool:
        """bond_uses_primary: one active port (active-backup, balance-tlb, balance-alb)."""
        return self.params.mode in (BOND_MODE_ACTIVEBACKUP, BOND_MODE_TLB, BOND_MODE_ALB)

    def _is_lb(self) -> bool:
        """bond_is_lb: balance-tlb or balance-alb (bond_alb.c)."""
        return self.params.mode in (BOND_MODE_TLB, BOND_MODE_ALB)

    # -- balance-tlb (bond_alb.c) ---------------------------------------------------------
    def _tlb_active_change(self, old: Slave | None, new: Slave) -> None:
        """bond_alb_handle_active_change: the new active port takes the bond's MAC, the port
        that had it takes the new one's; both are forgotten by the hash table, and each port
        that can send tells the switches (alb_fasten_mac_swap)."""
        swap = old if old is not None and old in self.slaves else \
            next((s for s in self.slaves if s.dev.mac == self.mac and s is not new), None)
        for s in (swap, new):
            if s is not None:
                self._tlb_clear_slave(s, save_load=True)
        if new.dev.mac == self.mac:
            return
        if swap is None:
            self.ns.set_mac(new.dev, self.mac)
            pair = [new]
        else:
            mine = new.dev.mac
            self.ns.set_mac(new.dev, self.mac)
            self.ns.set_mac(swap.dev, mine)
            pair = [swap, new]
        if self.params.mode == BOND_MODE_ALB:
            for s in pair:
                self.rlb.update_slave_clients(s)   # alb_fasten_mac_swap: their clients learn the new MACs
        for s in pair:
            if s.up and s.dev.up and s.dev.has_carrier() and self.up:
                self.slave_xmit(s, Ethernet(s.dev.mac, s.dev.mac, ETH_P_LOOPBACK, bytes(46)))

    def _tlb_clear_slave(self, s: Slave, save_load: bool) -> None:
        """tlb_clear_slave: the port's hashes become unassigned (their bytes kept as history)."""
        for entry in self.tlb_table.values():
            if entry[0] is s:
                entry[0] = None
                if save_load:
                    entry[2], entry[1] = entry[1], 0
        self.tlb_load[s.dev.ifindex] = 0

    def _tlb_least_loaded(self) -> Slave | None:
        """tlb_get_least_loaded_slave: the port that can send with the largest gap
        (speed << 20) - (load << 3); the first on a tie."""
        best, gap = None, None
        for s in self.slaves:
            if not (s.up and s.dev.up and s.dev.has_carrier()):
                continue
            g = (SPEED_MBPS << 20) - (self.tlb_load.get(s.dev.ifindex, 0) << 3)
            if gap is None or g > gap:
                best, gap = s, g
        return best

    def _tlb_choose_channel(self, h: int, nbytes: int) -> Slave | None:
        """tlb_choose_channel: the hash's port, or the least loaded one for a new hash."""
        entry = self.tlb_table.setdefault(h, [None, 0, 0])
        if entry[0] is None:
            assigned = self._tlb_least_loaded()
            if assigned is not None:
                entry[0] = assigned
                self.tlb_load[assigned.dev.ifindex] = self.tlb_load.get(assigned.dev.ifindex, 0) + entry[2]
        if entry[0] is not None:
            entry[1] += nbytes
        return entry[0]

    def _tlb_rebalance(self, gen: int) -> None:
        """bond_alb_monitor's rebalance, every BOND_TLB_REBALANCE_INTERVAL: every hash is
        reassigned by the bytes it sent; the active port carries what went unbalanced."""
        if gen != self.timer_gen:
            return
        for s in self.slaves:
            self._tlb_clear_slave(s, save_load=True)
            if s is self.curr_active:
                self.tlb_load[s.dev.ifindex] = self.unbalanced_load // 10
                self.unbalanced_load = 0
        self.ns.sched.after(TLB_REBALANCE_NS, self._tlb_rebalance, gen)

    def _alb_tick(self, gen: int) -> None:
        """bond_alb_monitor's receive-balancing part, every 100 ms."""
        if gen != self.timer_gen:
            return
        self.rlb.tick()
        self.ns.sched.after(ALB_TICK_NS, self._alb_tick, gen)

    def _tlb_xmit(self, frame: Ethernet, nbytes: int) -> None:
        """bond_tlb_xmit / bond_alb_xmit: unicast IPv4 balanced, balance-alb's own ARPs by the
        port receive balancing gives their client, the rest (and unassigned) by the active port;
        a frame leaving by another port carries that port's MAC."""
        p = self.params
        dynamic = p.tlb_dynamic_lb or p.mode == BOND_MODE_ALB
        tx: Slave | None = None
        if frame.type == ETH_P_ARP and p.mode == BOND_MODE_ALB:
            tx, frame = self.rlb.arp_xmit(frame)
        elif not frame.dst[0] & 1 and frame.type == ETH_P_IP:
            h = bond_xmit_hash(frame, p.xmit_hash_policy)
            if dynamic:
                tx = self._tlb_choose_channel(h & 0xFF, nbytes or frame.wire_len())
            else:
                usable = [s for s in self.slaves if s.up]
                tx = usable[h % len(usable)] if usable else None
        if tx is None:
            tx = self.curr_active
            if dynamic:
                self.unbalanced_load += nbytes or frame.wire_len()
        if tx is not None and tx.up and tx.dev.up and tx.dev.has_carrier():
            if tx is not self.curr_active:
                frame = Ethernet(frame.dst, tx.dev.mac, frame.type, frame.payload, frame.vlans, frame.meta)
            self.slave_xmit(tx, frame, nbytes)
            return
        if tx is not None and dynamic:
            self._tlb_clear_slave(tx, save_load=False)
        self.stats.tx_dropped += 1

    def _send_garp(self, slave: Slave) -> None:
        """inetdev_send_gratuitous_arp: an ARP request for each of the bond's addresses,
        asking for itself, from the bond's MAC through the new active port."""
        for a in self.ns.addrs.get(self.ifindex, []):
            arp = Arp(ARPOP_REQUEST, self.mac, a.addr, b"\x00" * 6, a.addr)
            self.slave_xmit(slave, Ethernet(b"\xff" * 6, self.mac, ETH_P_ARP, arp))

    # -- 802.3ad ---------------------------------------------------------------
    def ad_system(self) -> bytes:
        s = self.params.ad_actor_system
        return s if any(s) else self.mac

    def actor_key(self) -> int:
        """The oper key: the user's key (<< 6), the speed and full duplex (__get_agg_key)."""
        return (self.params.ad_user_port_key << 6) | (AD_LINK_SPEED_10000MBPS << 1) | 1

    def _ad_init_port(self, s: Slave) -> None:
        s.actor_state = LACP_AGGREGATION | (LACP_ACTIVITY if self.params.lacp_active else 0) \
            | (LACP_TIMEOUT if self.params.lacp_rate else 0) | LACP_DEFAULTED
        s.partner = default_partner()
        s.partner_valid = False
        s.next_tx = 0
        s.ntt = True
        s.churned = True              # AD_PORT_BEGIN: the receive machine's INITIALIZE churns the port

    def _ad_unselect(self, s: Slave) -> None:
        agg = s.aggregator
        if agg is None:
            return
        agg.ports.remove(s)
        s.aggregator = None
        s.actor_state &= ~(LACP_SYNCHRONIZATION | LACP_COLLECTING | LACP_DISTRIBUTING)
        s.ntt = True
        if not agg.ports:
            self.aggregators.remove(agg)
            if self.active_agg is agg:
                self.active_agg = None

    def _ad_port_disabled(self, s: Slave) -> None:
        """A port whose link went down leaves its aggregator and forgets its partner."""
        self._ad_unselect(s)
        s.partner = default_partner()
        s.partner_valid = False
        s.actor_state |= LACP_DEFAULTED
        s.actor_state &= ~LACP_EXPIRED

    def _ad_select(self) -> None:
        """ad_port_selection_logic + ad_agg_selection_logic (ad_select stable/count/bandwidth)."""
        for s in self.slaves:
            if not s.up or s.aggregator is not None:
                continue
            system = s.partner.system if s.partner_valid else b"\x00" * 6
            key = s.partner.key if s.partner_valid else 0
            agg = next((a for a in self.aggregators if a.partner_system == system and a.partner_key == key
                        and a.actor_key == self.actor_key() and any(system)), None)
            if agg is None:
                used = {a.ident for a in self.aggregators}
                ident = next(i for i in range(1, len(used) + 2) if i not in used)
                agg = Aggregator(ident, self.actor_key(), system, key)
                self.aggregators.append(agg)
            agg.ports.append(s)
            s.aggregator = agg
            s.ntt = True
        cur = self.active_agg
        if cur is not None and cur in self.aggregators and any(p.up for p in cur.ports) \
                and (self.params.ad_select == 0 or not self._better_agg(cur)):
            return
        best = None
        for a in sorted(self.aggregators, key=lambda a: a.ident):
            if not any(p.up for p in a.ports):
                continue
            if best is None or self._agg_rank(a) > self._agg_rank(best):
                best = a
        if best is not self.active_agg:
            self.active_agg = best
            for s in self.slaves:
                s.ntt = True

    def _agg_rank(self, a: Aggregator) -> tuple[int, int]:
        """ad_agg_selection_test: an aggregator with a partner beats one without, then more ports."""
        return (1 if any(a.partner_system) else 0, len([p for p in a.ports if p.up]))

    def _better_agg(self, cur: Aggregator) -> bool:
        return any(self._agg_rank(a) > self._agg_rank(cur) for a in self.aggregators)

    def _ad_tick(self, gen: int) -> None:
        if gen != self.timer_gen:
            return
        now = self.ns.sched.now
        reselect = False
        for s in self.slaves:
            if not s.up:
                if s.aggregator is not None:
                    self._ad_port_disabled(s)
                    reselect = True
                continue
            # the receive machine: a partner that stops speaking expires, then is forgotten
            if s.partner_valid and now >= s.current_while:
                if s.actor_state & LACP_EXPIRED:
                    self._ad_unselect(s)
                    s.partner = default_partner()
                    s.partner_valid = False
                    s.actor_state = (s.actor_state | LACP_DEFAULTED) & ~LACP_EXPIRED
                    reselect = True
                else:
                    s.actor_state |= LACP_EXPIRED
                    s.partner.state |= LACP_TIMEOUT
                    s.partner.state &= ~LACP_SYNCHRONIZATION
                    s.current_while = now + AD_SHORT_TIMEOUT_NS
                    s.ntt = True
                    s.churned = True      # AD_RX_EXPIRED
            if s.aggregator is None:
                reselect = True
        if reselect:
            self._ad_select()
        for s in self.slaves:
            if s.up:
                self._ad_mux(s)
        self._set_carrier()
        for s in self.slaves:
            if not s.up:
                continue
            periodic = AD_FAST_PERIODIC_NS if s.partner.state & LACP_TIMEOUT else AD_SLOW_PERIODIC_NS
            if s.ntt or now >= s.next_tx:
                self._ad_send(s)
                s.next_tx = now + periodic
        for s in self.slaves:
            self._ad_churn(s, now)
        self.ns.sched.after(AD_TICK_NS, self._ad_tick, gen)

    @staticmethod
    def _ad_churn(s: Slave, now: int) -> None:
        """ad_churn_machine: a churned port (begun, or its partner expired) is monitored for 60 s;
        then each side not in sync is churned (and counted), each in sync has no churn."""
        if s.churned:
            s.churned = False
            s.churn_actor_state = s.churn_partner_state = AD_CHURN_MONITOR
            s.churn_until = now + AD_CHURN_NS
            return
        if s.churn_until is None or now < s.churn_until:
            return
        s.churn_until = None
        if s.churn_actor_state == AD_CHURN_MONITOR:
            if s.actor_state & LACP_SYNCHRONIZATION:
                s.churn_actor_state = AD_NO_CHURN
            else:
                s.churn_actor_state = AD_CHURN
                s.churn_actor_count += 1
        if s.churn_partner_state == AD_CHURN_MONITOR:
            if s.partner.state & LACP_SYNCHRONIZATION:
                s.churn_partner_state = AD_NO_CHURN
            else:
                s.churn_partner_state = AD_CHURN
                s.churn_partner_count += 1

    def _ad_mux(self, s: Slave) -> None:
        """The mux machine (coupled control): in sync once selected into the active aggregator
        with a partner; collecting and distributing once the partner is in sync too."""
        old = s.actor_state
        selected = s.aggregator is not None and s.aggregator is self.active_agg and s.partner_valid \
            and not s.actor_state & LACP_EXPIRED
        if selected:
            s.actor_state |= LACP_SYNCHRONIZATION
            if s.partner.state & LACP_SYNCHRONIZATION:
                s.actor_state |= LACP_COLLECTING | LACP_DISTRIBUTING
            else:
                s.actor_state &= ~(LACP_COLLECTING | LACP_DISTRIBUTING)
        else:
            s.actor_state &= ~(LACP_SYNCHRONIZATION | LACP_COLLECTING | LACP_DISTRIBUTING)
        if s.actor_state != old:
            s.ntt = True

    def _ad_send(self, s: Slave) -> None:
        """ad_lacpdu_send: from the port's permanent address to the Slow Protocols group."""
        s.ntt = False
        p = s.partner   # partner_oper: the admin defaults until a partner speaks
        pdu = Lacpdu(s.actor_info(), LacpInfo(p.system_priority, p.system, p.key, p.port_priority, p.port, p.state))
        s.lacpdu_tx += 1
        s.dev.xmit(Ethernet(LACP_MAC, s.perm_hwaddr, ETH_P_SLOW, pdu))

    def _ad_rx(self, s: Slave, pdu: Lacpdu) -> None:
        """bond_3ad_lacpdu_recv → ad_rx_machine (CURRENT): record the partner, restart the timer."""
        s.lacpdu_rx += 1
        if self.params.mode != BOND_MODE_8023AD or not s.up:
            return
        a = pdu.actor
        changed = not s.partner_valid or (a.system, a.key, a.port) != (s.partner.system, s.partner.key,
                                                                        s.partner.port)
        s.partner = LacpInfo(a.system_priority, a.system, a.key, a.port_priority, a.port, a.state)
        s.partner_valid = True
        s.actor_state &= ~(LACP_EXPIRED | LACP_DEFAULTED)
        now = self.ns.sched.now
        s.current_while = now + (AD_SHORT_TIMEOUT_NS if s.actor_state & LACP_TIMEOUT else AD_LONG_TIMEOUT_NS)
        mine = s.actor_info()
        p = pdu.partner
        if (p.system, p.key, p.port, p.state) != (mine.system, mine.key, mine.port, mine.state):
            s.ntt = True      # __update_ntt: the partner's view of us is out of date
        if changed:
            self._ad_unselect(s)
            self._ad_select()
        self._ad_mux(s)
        self._set_carrier()

    # -- receive (bond_handle_frame) ----------------------------------------------------
    def handle_frame(self, dev: NetDevice, frame: Ethernet, nbytes: int = 0) -> RxHandlerResult:
        slave = self._slave_of(dev)
        if slave is None:
            return RX_HANDLER_CONSUMED
        if self.params.arp_interval:
            self._arp_rcv(slave, frame)     # bond->recv_probe: before the inactive port's drop
        elif self.params.mode == BOND_MODE_ALB and frame.type == ETH_P_ARP and isinstance(frame.payload, Arp):
            self.rlb.arp_recv(frame.payload)   # bond->recv_probe: rlb_arp_recv
        if frame.type == ETH_P_SLOW:
            pdu = frame.payload
            if isinstance(pdu, Lacpdu):
                self._ad_rx(slave, pdu)
            elif isinstance(pdu, Marker) and pdu.tlv_type == MARKER_INFORMATION and self.params.mode == BOND_MODE_8023AD:
                # ad_marker_info_received: the same PDU back as a Marker Response, from the port's own address
                reply = Marker(MARKER_RESPONSE, pdu.requester_port, pdu.requester_system, pdu.transaction_id,
                               pdu.version)
                self.slave_xmit(slave, Ethernet(LACP_MAC, slave.perm_hwaddr, ETH_P_SLOW, reply))
            return RX_HANDLER_CONSUMED
        if not self._accepts(slave, frame.dst):
            # bond_should_deliver_exact_match: an inactive port's frames reach only sockets bound to it
            self.stats.rx_dropped += 1
            return RX_HANDLER_CONSUMED
        if frame.dst == dev.mac != self.mac:
            # balance-alb: a client taught this port's MAC; eth_type_trans ran on the port, so
            # the bond's stack takes the frame as PACKET_HOST
            frame = Ethernet(self.mac, frame.src, frame.type, frame.payload, frame.vlans, frame.meta)
        self.rx(frame)
        return RX_HANDLER_CONSUMED

    def _accepts(self, slave: Slave, frame_dst: bytes) -> bool:
        if self.params.all_slaves_active:
            return True
        mode = self.params.mode
        if mode in (BOND_MODE_ACTIVEBACKUP, BOND_MODE_TLB):
            return slave is self.curr_active
        if mode == BOND_MODE_ALB:    # bond_should_deliver_exact_match: an inactive port takes unicast
            return slave is self.curr_active or not frame_dst[0] & 1
        if mode == BOND_MODE_8023AD:
            return bool(slave.actor_state & LACP_COLLECTING) and slave.aggregator is self.active_agg
        return True

    # -- transmit (bond_start_xmit) ----------------------------------------------------
    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        if not self.upper_xmit_start(frame, nbytes):
            return
        mode = self.params.mode
        if mode in (BOND_MODE_TLB, BOND_MODE_ALB):
            self._tlb_xmit(frame, nbytes)
            return
        if mode == BOND_MODE_ACTIVEBACKUP:
            s = self.curr_active
            if s is None or not s.up:
                self.stats.tx_dropped += 1
                return
            self.slave_xmit(s, frame, nbytes)
            return
        usable = self._usable()
        if not usable:
            self.stats.tx_dropped += 1
            return
        if mode == BOND_MODE_BROADCAST:
            for s in usable[:-1]:
                self.slave_xmit(s, frame.copy(), nbytes)
            self.slave_xmit(usable[-1], frame, nbytes)
            return
        if mode == BOND_MODE_ROUNDROBIN:
            i = self.rr_counter // max(1, self.params.packets_per_slave)
            self.rr_counter += 1
            self.slave_xmit(usable[i % len(usable)], frame, nbytes)
            return
        self.slave_xmit(usable[bond_xmit_hash(frame, self.params.xmit_hash_policy) % len(usable)], frame, nbytes)

    # -- what `ip -d link` and /proc/net/bonding show ------------------------------------
    def details_text(self) -> str:
        """iproute2's bond_print_opt over what bond_fill_info sends (kernel 6.x, iproute2 6.1)."""
        p = self.params
        out = [f"    bond mode {BOND_MODES[p.mode]} "]
        if self.curr_active is not None:
            out.append(f"active_slave {self.curr_active.dev.name} ")
        out.append(f"miimon {p.miimon} updelay {p.updelay * p.miimon} downdelay {p.downdelay * p.miimon} "
                   f"peer_notify_delay {p.peer_notif_delay * p.miimon} use_carrier {p.use_carrier} "
                   f"arp_interval {p.arp_interval} arp_missed_max {p.arp_missed_max} ")
        if p.arp_ip_target:
            out.append(f"arp_ip_target {','.join(int_to_ip(t) for t in p.arp_ip_target)} ")
        out.append(f"arp_validate {ARP_VALIDATE[p.arp_validate]} arp_all_targets {ARP_ALL_TARGETS[p.arp_all_targets]} ")
        prim = next((s for s in self.slaves if s.dev.name == p.primary), None)
        if prim is not None:
            out.append(f"primary {prim.dev.name} ")
        out.append(f"primary_reselect {PRIMARY_RESELECT[p.primary_reselect]} fail_over_mac "
                   f"{FAIL_OVER_MAC[p.fail_over_mac]} xmit_hash_policy {XMIT_HASH_POLICIES[p.xmit_hash_policy]} "
                   f"resend_igmp {p.resend_igmp} num_grat_arp {p.num_grat_arp} all_slaves_active "
                   f"{p.all_slaves_active} min_links {p.min_links} lp_interval {p.lp_interval} packets_per_slave "
                   f"{p.packets_per_slave} lacp_active {'on' if p.lacp_active else 'off'} lacp_rate "
                   f"{LACP_RATE[p.lacp_rate]} ad_select {AD_SELECT[p.ad_select]} ")
        if p.mode == BOND_MODE_8023AD:
            agg = self.active_agg
            if agg is not None:
                out.append(f"ad_aggregator {agg.ident} ad_num_ports {len(agg.ports)} ad_actor_key {agg.actor_key} "
                           f"ad_partner_key {agg.partner_key} ad_partner_mac {_mac(agg.partner_system)} ")
            out.append(f"ad_actor_sys_prio {p.ad_actor_sys_prio} ad_user_port_key {p.ad_user_port_key} "
                       f"ad_actor_system {_mac(p.ad_actor_system)} ")
        out.append(f"tlb_dynamic_lb {p.tlb_dynamic_lb} ")
        return "".join(out)

    def slave_text(self, dev: NetDevice) -> str:
        """iplink_bond_slave.c's print_slave_opt (the `bond_slave` part of `ip -d link show PORT`)."""
        s = self._slave_of(dev)
        if s is None:
            return ""
        # bond_set_slave_inactive_flags: balance-tlb/alb ports stay ACTIVE (bond_is_lb)
        active = (not self._uses_primary() or s is self.curr_active or self._is_lb()) and \
            (self.params.mode != BOND_MODE_8023AD or (s.aggregator is self.active_agg and s.aggregator is not None))
        out = (f"    bond_slave state {'ACTIVE' if active else 'BACKUP'} mii_status {_LINK_STATUS[s.link].upper()} "
               f"link_failure_count {s.link_failure_count} perm_hwaddr {_mac(s.perm_hwaddr)} queue_id 0 prio 0 ")
        if self.params.mode == BOND_MODE_8023AD:
            if s.aggregator is not None:
                out += f"ad_aggregator_id {s.aggregator.ident} "
            partner = s.partner.state if s.partner_valid else 0
            out += (f"ad_actor_oper_port_state {s.actor_state} ad_actor_oper_port_state_str "
                    f"<{state_names(s.actor_state)}> ad_partner_oper_port_state {partner} "
                    f"ad_partner_oper_port_state_str <{state_names(partner)}> ")
        return out


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _le32(b: bytes) -> int:
    return int.from_bytes(b, "little")


def bond_xmit_hash(frame: Ethernet, policy: int) -> int:
    """bond_xmit_hash (bond_main.c): layer2 is the last bytes of both MACs xor the EtherType;
    layer2+3 and layer3+4 fold the IPv4 addresses (and, for 3+4, the ports) into 32 bits
    read as the little-endian machine reads them (`(__force u32)` of network-order words)."""
    eth = frame.dst[5] ^ frame.src[5] ^ frame.type
    if policy == 0 or frame.type != ETH_P_IP:
        return eth
    ip = frame.payload
    if not isinstance(ip, IPv4):
        return eth
    if policy in (2, 3):          # layer2+3, encap2+3
        h = eth
    else:                         # layer3+4, encap3+4: the ports as one word (none for other protocols)
        l4 = ip.payload
        h = _le32(l4.sport.to_bytes(2, "big") + l4.dport.to_bytes(2, "big")) if isinstance(l4, (Tcp, Udp)) else 0
    h ^= _le32(ip.dst.to_bytes(4, "big")) ^ _le32(ip.src.to_bytes(4, "big"))
    h ^= h >> 16
    h ^= h >> 8
    return (h & 0xFFFFFFFF) >> 1


def proc_net_bonding(bond: Bond, version: str) -> str:
    """/proc/net/bonding/BOND as bond_procfs.c prints it (as root: CAP_NET_ADMIN details)."""
    p = bond.params
    out = [f"Ethernet Channel Bonding Driver: v{version}\n\n", f"Bonding Mode: {bond_mode_name(p.mode)}\n"]
    if p.mode in (BOND_MODE_XOR, BOND_MODE_8023AD):
        out.append(f"Transmit Hash Policy: {XMIT_HASH_POLICIES[p.xmit_hash_policy]} ({p.xmit_hash_policy})\n")
    if bond._uses_primary():
        prim = next((s for s in bond.slaves if s.dev.name == p.primary), None)
        out.append(f"Primary Slave: {prim.dev.name if prim else 'None'}")
        if prim is not None:
            out.append(f" (primary_reselect {PRIMARY_RESELECT[p.primary_reselect]})")
        out.append(f"\nCurrently Active Slave: {bond.curr_active.dev.name if bond.curr_active else 'None'}\n")
    out.append(f"MII Status: {'up' if bond.carrier else 'down'}\n"
               f"MII Polling Interval (ms): {p.miimon}\n"
               f"Up Delay (ms): {p.updelay * p.miimon}\n"
               f"Down Delay (ms): {p.downdelay * p.miimon}\n"
               f"Peer Notification Delay (ms): {p.peer_notif_delay * p.miimon}\n")
    if p.arp_interval:
        out.append(f"ARP Polling Interval (ms): {p.arp_interval}\nARP Missed Max: {p.arp_missed_max}\n"
                   f"ARP IP target/s (n.n.n.n form):{','.join(' ' + int_to_ip(t) for t in p.arp_ip_target)}\n"
                   "NS IPv6 target/s (xx::xx form):\n")
    if p.mode == BOND_MODE_8023AD:
        out.append(f"\n802.3ad info\nLACP active: {'on' if p.lacp_active else 'off'}\n"
                   f"LACP rate: {LACP_RATE[p.lacp_rate]}\nMin links: {p.min_links}\n"
                   f"Aggregator selection policy (ad_select): {AD_SELECT[p.ad_select]}\n"
                   f"System priority: {p.ad_actor_sys_prio}\nSystem MAC address: {_mac(bond.ad_system())}\n")
        agg = bond.active_agg
        if agg is None:
            out.append(f"bond {bond.name} has no active aggregator\n")
        else:
            out.append(f"Active Aggregator Info:\n\tAggregator ID: {agg.ident}\n\tNumber of ports: {len(agg.ports)}\n"
                       f"\tActor Key: {agg.actor_key}\n\tPartner Key: {agg.partner_key}\n"
                       f"\tPartner Mac Address: {_mac(agg.partner_system)}\n")
    for s in bond.slaves:
        up = s.dev.up and s.dev.has_carrier()
        out.append(f"\nSlave Interface: {s.dev.name}\nMII Status: {_LINK_STATUS[s.link]}\n"
                   f"Speed: {f'{SPEED_MBPS} Mbps' if up else 'Unknown'}\nDuplex: {'full' if up else 'Unknown'}\n"
                   f"Link Failure Count: {s.link_failure_count}\nPermanent HW addr: {_mac(s.perm_hwaddr)}\n"
                   "Slave queue ID: 0\n")
        if p.mode == BOND_MODE_8023AD:
            if s.aggregator is None:
                out.append("Aggregator ID: N/A\n")
                continue
            partner = s.partner
            a = s.actor_info()
            out.append(f"Aggregator ID: {s.aggregator.ident}\nActor Churn State: {_CHURN_DESC[s.churn_actor_state]}\n"
                       f"Partner Churn State: {_CHURN_DESC[s.churn_partner_state]}\n"
                       f"Actor Churned Count: {s.churn_actor_count}\nPartner Churned Count: {s.churn_partner_count}\n"
                       f"details actor lacp pdu:\n    system priority: {a.system_priority}\n"
                       f"    system mac address: {_mac(a.system)}\n    port key: {a.key}\n"
                       f"    port priority: {a.port_priority}\n    port number: {a.port}\n"
                       f"    port state: {a.state}\n"
                       f"details partner lacp pdu:\n    system priority: {partner.system_priority}\n"
                       f"    system mac address: {_mac(partner.system)}\n    oper key: {partner.key}\n"
                       f"    port priority: {partner.port_priority}\n    port number: {partner.port}\n"
                       f"    port state: {partner.state}\n")
    return "".join(out)
