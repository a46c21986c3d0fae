"""IEEE 802.1D spanning tree as the Linux bridge runs it (net/bridge/br_stp*.c).

Every bridge starts out believing it is the root and sends config BPDUs on
its designated ports every hello time. A received BPDU that is better than
what a port holds (br_supersedes_port_info) is recorded; root selection
(br_root_selection) picks the port with the best path to the lowest bridge
id; designated-port selection (br_designated_port_selection) decides which
ports speak for their segment; port-state selection (br_port_state_selection)
makes root and designated ports forwarding — through listening and learning,
one forward delay each — and the others blocking. A port whose carrier goes
disabled forgets what it heard (br_stp_disable_port), and when the root's
BPDUs stop arriving the message-age timer does the same, so the tree
re-converges around a failed link. Topology changes travel to the root as
TCN BPDUs and back in the TC flag; while one lasts the FDB ages in twice the
forward delay.

Names and rules follow the kernel function by function. Times are kept in
nanoseconds; the configured values live on the Bridge in USER_HZ centiseconds
(`forward_delay 1500`) as `ip -d link` and sysfs show them; BPDUs carry
1/256 s. Timers are generation-counted events, so a cancelled timer costs
nothing when its event fires. Nothing here runs unless `stp_state` is 1.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.packet.ethernet import Ethernet
from netplex.packet.stp import (
    BPDU_TYPE_CONFIG,
    BPDU_TYPE_TCN,
    BR_GROUP_ADDRESS,
    STP_CONFIG_LEN,
    STP_TCN_LEN,
    TC_FLAG,
    TCA_FLAG,
    Bpdu,
)

if TYPE_CHECKING:
    from netplex.stack.bridge import Bridge, BridgePort

BR_STATE_DISABLED, BR_STATE_LISTENING, BR_STATE_LEARNING, BR_STATE_FORWARDING, BR_STATE_BLOCKING = range(5)
STATE_NAMES = ("disabled", "listening", "learning", "forwarding", "blocking")
HZ = 250                      # the kernel's tick; MESSAGE_AGE_INCR is one tick
JIFFY_NS = 1_000_000_000 // HZ
CS_NS = 10_000_000            # one USER_HZ tick (what sysfs and netlink speak)
HOLD_NS = 1_000_000_000       # BR_HOLD_TIME
BR_PORT_BITS = 10
# the ranges br_set_forward_delay, br_set_hello_time and br_set_max_age accept (seconds)
BR_MIN_FORWARD_DELAY, BR_MAX_FORWARD_DELAY = 2, 30
BR_MIN_HELLO_TIME, BR_MAX_HELLO_TIME = 1, 10
BR_MIN_MAX_AGE, BR_MAX_MAX_AGE = 6, 40


def ns_to_ticks(t: int) -> int:
    """br_set_ticks: nanoseconds to the BPDU's 1/256 s units."""
    return t * 256 // 1_000_000_000


def ticks_to_ns(ticks: int) -> int:
    """br_get_ticks, rounded up to a whole jiffy as the kernel does."""
    jiffies = -(-ticks * HZ // 256)
    return jiffies * JIFFY_NS


def make_port_id(priority: int, port_no: int) -> int:
    """br_make_port_id."""
    return ((priority << BR_PORT_BITS) | (port_no & ((1 << BR_PORT_BITS) - 1))) & 0xFFFF


def bridge_id_bytes(priority: int, mac: bytes) -> bytes:
    return priority.to_bytes(2, "big") + mac


def fmt_id(bid: bytes) -> str:
    """`8000.020000000001`: how sysfs prints a bridge id."""
    return bid[:2].hex() + "." + bid[2:].hex()


class StpTimer:
    """A kernel timer_list: mod() re-arms, cancel() disarms; remaining() for sysfs."""

    __slots__ = ("sched", "fn", "args", "gen", "expires")

    def __init__(self, sched: Any, fn: Callable[..., None], *args: Any) -> None:
        self.sched = sched
        self.fn = fn
        self.args = args
        self.gen = 0
        self.expires = -1

    def mod(self, when: int) -> None:
        self.gen += 1
        self.expires = when
        self.sched.at(when, self._fire, self.gen)

    def cancel(self) -> None:
        self.gen += 1
        self.expires = -1

    def pending(self) -> bool:
        return self.expires >= 0

    def remaining_cs(self) -> int:
        """br_timer_value in USER_HZ ticks: 0 when not pending."""
        if self.expires < 0:
            return 0
        return max(0, self.expires - self.sched.now) // CS_NS

    def _fire(self, gen: int) -> None:
        if gen != self.gen:
            return
        self.expires = -1
        self.fn(*self.args)


class PortStp:
    """The STP half of net_bridge_port."""

    __slots__ = ("port_id", "designated_root", "designated_cost", "designated_bridge", "designated_port",
                 "designated_age", "topology_change_ack", "config_pending", "message_age_timer",
                 "forward_delay_timer", "hold_timer")

    def __init__(self, stp: Stp, port: BridgePort) -> None:
        sched = stp.br.ns.sched
        self.port_id = make_port_id(port.priority, port.port_no)
        self.designated_root = stp.designated_root
        self.designated_cost = stp.root_path_cost
        self.designated_bridge = stp.bridge_id
        self.designated_port = self.port_id
        self.designated_age = 0
        self.topology_change_ack = False
        self.config_pending = False
        self.message_age_timer = StpTimer(sched, stp.message_age_timer_expired, port)
        self.forward_delay_timer = StpTimer(sched, stp.forward_delay_timer_expired, port)
        self.hold_timer = StpTimer(sched, stp.hold_timer_expired, port)


class Stp:
    """The STP half of net_bridge: one per bridge, created when STP is first enabled."""

    def __init__(self, br: Bridge) -> None:
        self.br = br
        sched = br.ns.sched
        self.bridge_id = bridge_id_bytes(br.priority, br.mac)
        self.designated_root = self.bridge_id
        self.root_path_cost = 0
        self.root_port = 0
        # the values in use: the root's, as its BPDUs carry them (ns)
        self.max_age = br.max_age * CS_NS
        self.hello_time = br.hello_time * CS_NS
        self.forward_delay = br.forward_delay * CS_NS
        self.topology_change = False
        self.topology_change_detected = False
        self.saved_ageing_ns: int | None = None
        self.hello_timer = StpTimer(sched, self.hello_timer_expired)
        self.tcn_timer = StpTimer(sched, self.tcn_timer_expired)
        self.topology_change_timer = StpTimer(sched, self.topology_change_timer_expired)
        for p in br.ports:
            p.stp = PortStp(self, p)

    # -- helpers ------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.br.stp_state)

    @property
    def bridge_hello_time(self) -> int:
        return self.br.hello_time * CS_NS

    @property
    def bridge_max_age(self) -> int:
        return self.br.max_age * CS_NS

    @property
    def bridge_forward_delay(self) -> int:
        return self.br.forward_delay * CS_NS

    def _now(self) -> int:
        return self.br.ns.sched.now

    def _trace(self, text: str) -> None:
        ns = self.br.ns
        if ns.world.tracer.on:
            ns.trace("stp", f"{self.br.name}: {text}", dev=self.br.name)

    def port(self, port_no: int) -> BridgePort | None:
        for p in self.br.ports:
            if p.port_no == port_no:
                return p
        return None

    def is_root_bridge(self) -> bool:
        return self.designated_root == self.bridge_id

    def is_designated_port(self, p: BridgePort) -> bool:
        s = p.stp
        return s.designated_bridge == self.bridge_id and s.designated_port == s.port_id

    def set_state(self, p: BridgePort, state: int) -> None:
        """br_set_state (and br_log_state)."""
        if p.state != state:
            p.state = state
            self.br.port_fwd_check(p)
            self._trace(f"port {p.port_no}({p.dev.name}) entered {STATE_NAMES[state]} state")
            self.br.note_carrier()   # br_port_state_selection's netif_carrier_on/off
            self.br.ns.config_changed()

    # -- transmit (br_stp_bpdu.c) ------------------------------------------
    def _send(self, p: BridgePort, bpdu: Bpdu) -> None:
        dev = p.dev
        length = STP_TCN_LEN if bpdu.type == BPDU_TYPE_TCN else STP_CONFIG_LEN
        dev.xmit(Ethernet(BR_GROUP_ADDRESS, dev.mac, length, bpdu))

    def transmit_config(self, p: BridgePort) -> None:
        """br_transmit_config: at most one config BPDU per hold time on a port."""
        s = p.stp
        if s.hold_timer.pending():
            s.config_pending = True
            return
        if self.is_root_bridge():
            age = 0
        else:
            root = self.port(self.root_port)
            age = self._now() - root.stp.designated_age + JIFFY_NS if root is not None else 0
        if age >= self.max_age:
            return
        flags = (TC_FLAG if self.topology_change else 0) | (TCA_FLAG if s.topology_change_ack else 0)
        self._send(p, Bpdu(BPDU_TYPE_CONFIG, flags, self.designated_root, self.root_path_cost,
                           self.bridge_id, s.port_id, ns_to_ticks(age), ns_to_ticks(self.max_age),
                           ns_to_ticks(self.hello_time), ns_to_ticks(self.forward_delay)))
        s.topology_change_ack = False
        s.config_pending = False
        s.hold_timer.mod(self._now() + HOLD_NS)

    def transmit_tcn(self) -> None:
        """br_transmit_tcn: on the root port."""
        p = self.port(self.root_port)
        if p is not None:
            self._trace(f"sending TCN BPDU on port {p.port_no}({p.dev.name})")
            self._send(p, Bpdu(BPDU_TYPE_TCN))

    def config_bpdu_generation(self) -> None:
        """br_config_bpdu_generation: a config BPDU on every designated port."""
        for p in self.br.ports:
            if p.state != BR_STATE_DISABLED and self.is_designated_port(p):
                self.transmit_config(p)

    # -- the decision (br_stp.c) ------------------------------------------
    def should_become_root_port(self, p: BridgePort, root_port: int) -> bool:
        s = p.stp
        if p.state == BR_STATE_DISABLED or self.is_designated_port(p):
            return False
        if self.bridge_id <= s.designated_root:
            return False
        if not root_port:
            return True
        r = self.port(root_port).stp  # type: ignore[union-attr]
        if s.designated_root != r.designated_root:
            return s.designated_root < r.designated_root
        a, b = s.designated_cost + p.path_cost, r.designated_cost + self.port(root_port).path_cost  # type: ignore[union-attr]
        if a != b:
            return a < b
        if s.designated_bridge != r.designated_bridge:
            return s.designated_bridge < r.designated_bridge
        if s.designated_port != r.designated_port:
            return s.designated_port < r.designated_port
        return s.port_id < r.port_id

    def root_selection(self) -> None:
        root_port = 0
        for p in self.br.ports:
            if not self.should_become_root_port(p, root_port):
                continue
            if p.root_block:   # br_root_port_block: held listening, not elected
                self._trace(f"port {p.port_no}({p.dev.name}) tried to become root port (blocked)")
                self.set_state(p, BR_STATE_LISTENING)
                if self.forward_delay > 0:
                    p.stp.forward_delay_timer.mod(self._now() + self.forward_delay)
            else:
                root_port = p.port_no
        old = (self.root_port, self.designated_root)
        self.root_port = root_port
        if not root_port:
            self.designated_root = self.bridge_id
            self.root_path_cost = 0
        else:
            rp = self.port(root_port)
            assert rp is not None
            self.designated_root = rp.stp.designated_root
            self.root_path_cost = rp.stp.designated_cost + rp.path_cost
        if old != (self.root_port, self.designated_root):
            if root_port:
                self._trace(f"root is {fmt_id(self.designated_root)} via port {root_port}, cost {self.root_path_cost}")
            else:
                self._trace("this bridge is the root")

    def become_designated_port(self, p: BridgePort) -> None:
        s = p.stp
        s.designated_root = self.designated_root
        s.designated_cost = self.root_path_cost
        s.designated_bridge = self.bridge_id
        s.designated_port = s.port_id

    def should_become_designated_port(self, p: BridgePort) -> bool:
        s = p.stp
        if self.is_designated_port(p):
            return True
        if s.designated_root != self.designated_root:
            return True
        if self.root_path_cost != s.designated_cost:
            return self.root_path_cost < s.designated_cost
        if self.bridge_id != s.designated_bridge:
            return self.bridge_id < s.designated_bridge
        return s.port_id < s.designated_port

    def designated_port_selection(self) -> None:
        for p in self.br.ports:
            if p.state != BR_STATE_DISABLED and self.should_become_designated_port(p):
                self.become_designated_port(p)

    def configuration_update(self) -> None:
        self.root_selection()
        self.designated_port_selection()

    def supersedes_port_info(self, p: BridgePort, b: Bpdu) -> bool:
        s = p.stp
        if b.root != s.designated_root:
            return b.root < s.designated_root
        if b.root_path_cost != s.designated_cost:
            return b.root_path_cost < s.designated_cost
        if b.bridge != s.designated_bridge:
            return b.bridge < s.designated_bridge
        if b.bridge != self.bridge_id:
            return True
        return b.port_id <= s.designated_port

    def make_forwarding(self, p: BridgePort) -> None:
        if p.state != BR_STATE_BLOCKING:
            return
        if not self.enabled or self.bridge_forward_delay == 0:
            self.set_state(p, BR_STATE_FORWARDING)
            self.topology_change_detection()
            p.stp.forward_delay_timer.cancel()
        else:
            self.set_state(p, BR_STATE_LISTENING)
        if self.forward_delay:
            p.stp.forward_delay_timer.mod(self._now() + self.forward_delay)

    def make_blocking(self, p: BridgePort) -> None:
        if p.state not in (BR_STATE_DISABLED, BR_STATE_BLOCKING):
            if p.state in (BR_STATE_FORWARDING, BR_STATE_LEARNING):
                self.topology_change_detection()
            self.set_state(p, BR_STATE_BLOCKING)
            p.stp.forward_delay_timer.cancel()

    def port_state_selection(self) -> None:
        for p in self.br.ports:
            if p.state == BR_STATE_DISABLED:
                continue
            s = p.stp
            if p.port_no == self.root_port:
                s.config_pending = False
                s.topology_change_ack = False
                self.make_forwarding(p)
            elif self.is_designated_port(p):
                s.message_age_timer.cancel()
                self.make_forwarding(p)
            else:
                s.config_pending = False
                s.topology_change_ack = False
                self.make_blocking(p)

    def set_topology_change(self, val: bool) -> None:
        """__br_set_topology_change: while a change lasts the bridge's ageing time is twice the
        forward delay (what `brctl showstp` and `ip -d link` show); learned entries expire after
        one forward delay (Bridge.hold_time, what has_expired applies)."""
        br = self.br
        if self.enabled and self.topology_change != val:
            if val:
                self.saved_ageing_ns = br.ageing_ns
                br.ageing_ns = 2 * self.forward_delay
            elif self.saved_ageing_ns is not None:
                br.ageing_ns = self.saved_ageing_ns
                self.saved_ageing_ns = None
        self.topology_change = val

    def topology_change_detection(self) -> None:
        if not self.enabled:
            return
        if self.is_root_bridge():
            self._trace("topology change detected, propagating")
            self.set_topology_change(True)
            self.topology_change_timer.mod(self._now() + self.bridge_forward_delay + self.bridge_max_age)
        elif not self.topology_change_detected:
            self._trace("topology change detected, sending tcn bpdu")
            self.transmit_tcn()
            self.tcn_timer.mod(self._now() + self.bridge_hello_time)
        self.topology_change_detected = True

    def become_root_bridge(self) -> None:
        self.max_age = self.bridge_max_age
        self.hello_time = self.bridge_hello_time
        self.forward_delay = self.bridge_forward_delay
        self.topology_change_detection()
        self.tcn_timer.cancel()
        if self.br.up:
            self.config_bpdu_generation()
            self.hello_timer.mod(self._now() + self.hello_time)

    # -- receive (br_stp.c, br_stp_bpdu.c) ---------------------------------
    def rcv(self, p: BridgePort, frame: Ethernet) -> None:
        """br_stp_rcv: a BPDU arrived on a port."""
        if not self.enabled or not self.br.up or p.state == BR_STATE_DISABLED:
            return
        if p.guard:   # BR_BPDU_GUARD
            self._trace(f"BPDU received on blocked port {p.port_no}({p.dev.name})")
            self.br.stp_disable_port(p)
            return
        b = frame.payload
        if not isinstance(b, Bpdu):
            try:
                b = Bpdu.decode(bytes(b))  # type: ignore[call-overload]
            except ValueError:
                return
        if b.type == BPDU_TYPE_TCN:
            self.received_tcn_bpdu(p)
        elif b.type == BPDU_TYPE_CONFIG:
            if b.message_age > b.max_age:
                return
            self.received_config_bpdu(p, b)

    def record_config_information(self, p: BridgePort, b: Bpdu) -> None:
        s = p.stp
        s.designated_root = b.root
        s.designated_cost = b.root_path_cost
        s.designated_bridge = b.bridge
        s.designated_port = b.port_id
        age = ticks_to_ns(b.message_age)
        s.designated_age = self._now() - age
        s.message_age_timer.mod(self._now() + ticks_to_ns(b.max_age) - age)

    def received_config_bpdu(self, p: BridgePort, b: Bpdu) -> None:
        was_root = self.is_root_bridge()
        if self.supersedes_port_info(p, b):
            self.record_config_information(p, b)
            self.configuration_update()
            self.port_state_selection()
            if not self.is_root_bridge() and was_root:
                self.hello_timer.cancel()
                if self.topology_change_detected:
                    self.topology_change_timer.cancel()
                    self.transmit_tcn()
                    self.tcn_timer.mod(self._now() + self.bridge_hello_time)
            if p.port_no == self.root_port:
                self.max_age = ticks_to_ns(b.max_age)
                self.hello_time = ticks_to_ns(b.hello_time)
                self.forward_delay = ticks_to_ns(b.forward_delay)
                self.set_topology_change(b.topology_change)
                self.config_bpdu_generation()
                if b.topology_change_ack:
                    self.topology_change_detected = False
                    self.tcn_timer.cancel()
        elif self.is_designated_port(p):
            self.transmit_config(p)   # br_reply

    def received_tcn_bpdu(self, p: BridgePort) -> None:
        if self.is_designated_port(p):
            self._trace(f"port {p.port_no}({p.dev.name}) received tcn bpdu")
            self.topology_change_detection()
            p.stp.topology_change_ack = True
            self.transmit_config(p)

    # -- timers (br_stp_timer.c) ---------------------------------------------
    def hello_timer_expired(self) -> None:
        if self.br.up:
            self.config_bpdu_generation()
            if self.enabled:
                self.hello_timer.mod(self._now() + self.hello_time)

    def message_age_timer_expired(self, p: BridgePort) -> None:
        if p.state == BR_STATE_DISABLED:
            return
        self._trace(f"port {p.port_no}({p.dev.name}) neighbor {fmt_id(p.stp.designated_bridge)} lost")
        was_root = self.is_root_bridge()
        self.become_designated_port(p)
        self.configuration_update()
        self.port_state_selection()
        if self.is_root_bridge() and not was_root:
            self.become_root_bridge()

    def forward_delay_timer_expired(self, p: BridgePort) -> None:
        if p.state == BR_STATE_LISTENING:
            self.set_state(p, BR_STATE_LEARNING)
            p.stp.forward_delay_timer.mod(self._now() + self.forward_delay)
        elif p.state == BR_STATE_LEARNING:
            self.set_state(p, BR_STATE_FORWARDING)
            # br_is_designated_for_some_port: an enabled port this bridge speaks for
            if any(q.state != BR_STATE_DISABLED and q.stp.designated_bridge == self.bridge_id
                   for q in self.br.ports):
                self.topology_change_detection()

    def tcn_timer_expired(self) -> None:
        if not self.is_root_bridge() and self.br.up:
            self.transmit_tcn()
            self.tcn_timer.mod(self._now() + self.bridge_hello_time)

    def topology_change_timer_expired(self) -> None:
        self.topology_change_detected = False
        self.set_topology_change(False)

    def hold_timer_expired(self, p: BridgePort) -> None:
        if p.stp.config_pending:
            self.transmit_config(p)

    # -- administration (br_stp_if.c) ----------------------------------------
    def init_port(self, p: BridgePort) -> None:
        s = p.stp
        s.port_id = make_port_id(p.priority, p.port_no)
        self.become_designated_port(p)
        self.set_state(p, BR_STATE_BLOCKING)
        s.topology_change_ack = False
        s.config_pending = False

    def enable_port(self, p: BridgePort) -> None:
        """br_stp_enable_port."""
        self.init_port(p)
        self.port_state_selection()

    def disable_port(self, p: BridgePort) -> None:
        """br_stp_disable_port (the FDB flush is the bridge's)."""
        was_root = self.is_root_bridge()
        self.become_designated_port(p)
        self.set_state(p, BR_STATE_DISABLED)
        s = p.stp
        s.topology_change_ack = False
        s.config_pending = False
        s.message_age_timer.cancel()
        s.forward_delay_timer.cancel()
        s.hold_timer.cancel()
        self.configuration_update()
        self.port_state_selection()
        if self.is_root_bridge() and not was_root:
            self.become_root_bridge()

    def enable_bridge(self) -> None:
        """br_stp_enable_bridge: the bridge went up."""
        if self.enabled:
            self.hello_timer.mod(self._now() + self.hello_time)
        self.config_bpdu_generation()
        for p in self.br.ports:
            if self.br.port_should_run(p):
                self.enable_port(p)

    def disable_bridge(self) -> None:
        """br_stp_disable_bridge: the bridge went down."""
        for p in self.br.ports:
            if p.state != BR_STATE_DISABLED:
                self.disable_port(p)
        self.set_topology_change(False)
        self.topology_change_detected = False
        self.hello_timer.cancel()
        self.topology_change_timer.cancel()
        self.tcn_timer.cancel()

    def start(self) -> None:
        """br_stp_start: kernel STP takes over (forward delay clamped to its range)."""
        br = self.br
        br.forward_delay = min(max(br.forward_delay, BR_MIN_FORWARD_DELAY * 100), BR_MAX_FORWARD_DELAY * 100)
        if self.is_root_bridge():
            self.forward_delay = self.bridge_forward_delay
        if br.up:
            self.hello_timer.mod(self._now() + self.hello_time)
        self.port_state_selection()

    def stop(self) -> None:
        """br_stp_stop: ports keep their states; the timers that send BPDUs stop."""
        self.hello_timer.cancel()
        self.tcn_timer.cancel()
        self.topology_change_timer.cancel()
        for p in self.br.ports:
            p.stp.hold_timer.cancel()

    def change_bridge_id(self) -> None:
        """br_stp_change_bridge_id / br_stp_set_bridge_priority."""
        br = self.br
        was_root = self.is_root_bridge()
        old = self.bridge_id
        new = bridge_id_bytes(br.priority, br.mac)
        if new == old:
            return
        for p in br.ports:
            if p.stp.designated_bridge == old:
                p.stp.designated_bridge = new
        self.bridge_id = new
        if was_root:
            self.designated_root = new
        self.configuration_update()
        self.port_state_selection()
        if self.is_root_bridge() and not was_root:
            self.become_root_bridge()

    def port_params_changed(self, p: BridgePort) -> None:
        """br_stp_set_port_priority / br_stp_set_path_cost."""
        s = p.stp
        new_id = make_port_id(p.priority, p.port_no)
        if self.is_designated_port(p):
            s.designated_port = new_id
        s.port_id = new_id
        if self.bridge_id == s.designated_bridge and s.port_id < s.designated_port:
            self.become_designated_port(p)
        self.configuration_update()
        self.port_state_selection()

    def set_timer_values(self) -> None:
        """br_set_forward_delay / hello_time / max_age: the root uses its own at once."""
        if self.is_root_bridge():
            self.max_age = self.bridge_max_age
            self.hello_time = self.bridge_hello_time
            self.forward_delay = self.bridge_forward_delay
