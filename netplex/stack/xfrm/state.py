"""The SAD and the SPD of one namespace (net/xfrm/xfrm_state.c, xfrm_policy.c,
the checks of xfrm_user.c; include/uapi/linux/xfrm.h for the fields).

`Xfrm` holds the security associations (`XfrmState`, keyed by destination,
SPI and protocol) and the policies (`XfrmPolicy`, by direction, ordered by
priority then age, as xfrm_policy_insert keeps them). Every change bumps the
namespace's configuration generation (`Namespace.config_changed`) and is
told to the key managers listening (`listen`: `ip xfrm monitor`, the IKE
daemon), as km_state_notify / km_policy_notify do. Lifetimes: soft and hard
limits in bytes and packets are checked on each use (xfrm_state_check_expire);
the time limits run on the simulated clock (xfrm_timer_handler). A soft expiry
marks the SA dying and tells the key managers; a hard one deletes it.

Dumps list the newest first, as the kernel's walk of state_all/policy_all
(list_add at the head) does. The namespace's LINUX_MIB_XFRM* counters (`count`,
where the packet path drops) read as /proc/net/xfrm_stat (net/xfrm/xfrm_proc.c).
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from netplex.errors import NetplexError
from netplex.packet.addr import prefix_to_mask
from netplex.packet.esp import IPPROTO_AH
from netplex.stack.xfrm.algo import AhTransform, AlgoKey, EspTransform

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["XFRM_INF", "XFRM_MIB_LIST", "XFRM_MODE_TRANSPORT", "XFRM_MODE_TUNNEL", "XFRM_POLICY_FWD", "XFRM_POLICY_IN",
           "XFRM_POLICY_OUT", "Xfrm", "XfrmAcquire", "XfrmLifetime", "XfrmPolicy", "XfrmSelector", "XfrmState", "XfrmTmpl"]

XFRM_INF = (1 << 64) - 1
XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL = 0, 1
XFRM_POLICY_IN, XFRM_POLICY_OUT, XFRM_POLICY_FWD = 0, 1, 2
XFRM_POLICY_ALLOW, XFRM_POLICY_BLOCK = 0, 1
XFRM_STATE_VALID, XFRM_STATE_EXPIRED = 1, 3
AF_INET = 2
XFRM_STATE_ALIGN4 = 64
NSEC_PER_SEC = 1_000_000_000

KmListener = Callable[[str, Any, int], None]   # (event, state or policy, hard) → None


# net/xfrm/xfrm_proc.c xfrm_mib_list of Linux 6.1 (Debian 12's kernel), in its order
XFRM_MIB_LIST = (
    "XfrmInError", "XfrmInBufferError", "XfrmInHdrError", "XfrmInNoStates", "XfrmInStateProtoError",
    "XfrmInStateModeError", "XfrmInStateSeqError", "XfrmInStateExpired", "XfrmInStateMismatch",
    "XfrmInStateInvalid", "XfrmInTmplMismatch", "XfrmInNoPols", "XfrmInPolBlock", "XfrmInPolError",
    "XfrmOutError", "XfrmOutBundleGenError", "XfrmOutBundleCheckError", "XfrmOutNoStates",
    "XfrmOutStateProtoError", "XfrmOutStateModeError", "XfrmOutStateSeqError", "XfrmOutStateExpired",
    "XfrmOutPolBlock", "XfrmOutPolDead", "XfrmOutPolError", "XfrmFwdHdrError", "XfrmOutStateInvalid",
    "XfrmAcquireError",
)


class XfrmAcquire(NamedTuple):
    """XFRM_MSG_ACQUIRE (struct xfrm_user_acquire): the policy and template wanting an SA, and the flow
    (addresses, upper protocol and ports or ICMP type/code, output device) that hit it; `seq` is
    xfrm_get_acqseq's number."""

    policy: XfrmPolicy
    tmpl: XfrmTmpl
    saddr: int
    daddr: int
    src: int
    dst: int
    proto: int
    sport: int
    dport: int
    oif: int
    seq: int


@dataclass(slots=True)
class XfrmSelector:
    """struct xfrm_selector: addresses with prefix lengths, upper protocol, ports (ICMP type/code), device."""

    saddr: int = 0
    splen: int = 0
    daddr: int = 0
    dplen: int = 0
    proto: int = 0
    sport: int = 0
    sport_mask: int = 0
    dport: int = 0
    dport_mask: int = 0
    ifindex: int = 0
    family: int = 0

    def match(self, src: int, dst: int, proto: int, sport: int, dport: int, ifindex: int) -> bool:
        """__xfrm4_selector_match."""
        return ((src ^ self.saddr) & prefix_to_mask(self.splen) == 0 and (dst ^ self.daddr) & prefix_to_mask(self.dplen) == 0
                and (not self.proto or self.proto == proto)
                and (sport ^ self.sport) & self.sport_mask == 0 and (dport ^ self.dport) & self.dport_mask == 0
                and (not self.ifindex or self.ifindex == ifindex))

    def key(self) -> tuple[int, ...]:
        return (self.saddr & prefix_to_mask(self.splen), self.splen, self.daddr & prefix_to_mask(self.dplen), self.dplen,
                self.proto, self.sport, self.sport_mask, self.dport, self.dport_mask, self.ifindex)


@dataclass(slots=True)
class XfrmLifetime:
    """struct xfrm_lifetime_cfg: soft/hard limits (XFRM_INF: none; 0 seconds: none)."""

    soft_bytes: int = XFRM_INF
    hard_bytes: int = XFRM_INF
    soft_packets: int = XFRM_INF
    hard_packets: int = XFRM_INF
    soft_add: int = 0
    hard_add: int = 0
    soft_use: int = 0
    hard_use: int = 0


UDP_ENCAP_ESPINUDP = 2     # include/uapi/linux/udp.h: ESP in UDP (RFC 3948), the non-ESP marker for IKE


@dataclass(slots=True)
class XfrmEncapTmpl:
    """struct xfrm_encap_tmpl (XFRMA_ENCAP): the UDP ports ESP travels in, and the original address."""

    encap_type: int = UDP_ENCAP_ESPINUDP
    sport: int = 4500
    dport: int = 4500
    oa: int = 0


@dataclass(slots=True)
class XfrmTmpl:
    """struct xfrm_user_tmpl: which SA a policy asks for."""

    daddr: int = 0
    saddr: int = 0
    proto: int = 50
    spi: int = 0
    reqid: int = 0
    mode: int = XFRM_MODE_TRANSPORT
    optional: int = 0            # `level use`
    share: int = 0
    ealgos: int = 0xFFFFFFFF
    aalgos: int = 0xFFFFFFFF
    calgos: int = 0xFFFFFFFF


@dataclass(slots=True, eq=False)
class XfrmState:
    """struct xfrm_state: one SA."""

    daddr: int
    spi: int
    proto: int
    saddr: int = 0
    mode: int = XFRM_MODE_TRANSPORT
    reqid: int = 0
    replay_window: int = 0
    flags: int = 0
    seq: int = 0
    sel: XfrmSelector = field(default_factory=XfrmSelector)
    lft: XfrmLifetime = field(default_factory=XfrmLifetime)
    aead: AlgoKey | None = None
    enc: AlgoKey | None = None
    auth: AlgoKey | None = None
    dir: int = 0                  # XFRMA_SA_DIR: 0 none, 1 in, 2 out
    encap: XfrmEncapTmpl | None = None   # NAT traversal: ESP in UDP (RFC 3948)
    # state (km) and counters
    km_state: int = XFRM_STATE_VALID
    dying: bool = False
    bytes: int = 0
    packets: int = 0
    add_time: int = 0             # seconds
    use_time: int = 0
    lastused: int = 0
    replay_seq: int = 0           # highest sequence received
    oseq: int = 0                 # last sequence sent
    bitmap: int = 0
    st_replay_window: int = 0     # xfrm_stats
    st_replay: int = 0
    st_integrity_failed: int = 0
    transform: EspTransform | None = None   # ESP's
    ah: AhTransform | None = None           # AH's
    gen: int = 0                  # timers of a replaced state must not fire on its successor
    out_route: tuple[int, Any] = (-1, None)   # (namespace generation, the ESP packet's route): cached

    def key(self) -> tuple[int, int, int]:
        return (self.daddr, self.spi, self.proto)


@dataclass(slots=True, eq=False)
class XfrmPolicy:
    """struct xfrm_policy."""

    sel: XfrmSelector
    dir: int
    action: int = XFRM_POLICY_ALLOW
    priority: int = 0
    index: int = 0
    ptype: int = 0
    flags: int = 0
    share: int = 0
    lft: XfrmLifetime = field(default_factory=XfrmLifetime)
    tmpls: list[XfrmTmpl] = field(default_factory=list)
    add_time: int = 0
    use_time: int = 0
    order: int = 0

    def key(self) -> tuple[Any, ...]:
        return (self.dir, self.ptype, self.sel.key())


class Xfrm:
    """The namespace's SAD and SPD (struct netns_xfrm)."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.states: list[XfrmState] = []                 # newest first
        self.by_id: dict[tuple[int, int, int], XfrmState] = {}
        self.policies: list[XfrmPolicy] = []              # newest first (policy_all)
        self.spd: tuple[list[XfrmPolicy], list[XfrmPolicy], list[XfrmPolicy]] = ([], [], [])  # by dir, in lookup order
        self.spd_out = False      # a policy for dir out exists: the output path looks (else nothing runs)
        self.active = False       # any policy or SA exists: the input and forward checks run
        self.idx_generator = 0
        self.order = 0
        self.listeners: list[KmListener] = []
        self.larval: dict[tuple[int, ...], int] = {}   # acquiring templates → until (s): one ACQUIRE each
        self.acqseq = 0                                   # xfrm_get_acqseq: the last ACQUIRE's sequence number
        self.stats: dict[str, int] = {}                   # /proc/net/xfrm_stat counters (XfrmInNoStates, ...)

    def __bool__(self) -> bool:
        """Empty (no SA, no policy) reads as unset: the flow fast path's purity test
        (fastpath.unknown_state) then lets a namespace without IPsec through."""
        return self.active

    # -- key managers ------------------------------------------------------
    def listen(self, fn: KmListener) -> None:
        self.listeners.append(fn)

    def unlisten(self, fn: KmListener) -> None:
        if fn in self.listeners:
            self.listeners.remove(fn)

    def notify(self, event: str, obj: Any, hard: int = 0) -> None:
        for fn in list(self.listeners):
            fn(event, obj, hard)

    def count(self, name: str) -> None:
        """XFRM_INC_STATS: one of XFRM_MIB_LIST."""
        self.stats[name] = self.stats.get(name, 0) + 1

    def proc_stat(self) -> str:
        """/proc/net/xfrm_stat: xfrm_statistics_seq_show's `%-24s\\t%lu` per counter."""
        return "".join(f"{name:<24}\t{self.stats.get(name, 0)}\n" for name in XFRM_MIB_LIST)

    def _changed(self) -> None:
        spd = self.spd
        self.spd_out = bool(spd[XFRM_POLICY_OUT])
        self.active = bool(self.policies or self.states)
        self.ns.config_changed()

    def now_sec(self) -> int:
        """get_seconds(): CLOCK_REALTIME in seconds, as the add/use times `ip -s xfrm` prints."""
        return self.ns.world.realtime_ns() // NSEC_PER_SEC

    # -- SAD -----------------------------------------------------------------
    def state_add(self, x: XfrmState, update: bool = False) -> None:
        """xfrm_add_sa: NEWSA (EEXIST when the SA exists) or UPDSA (ESRCH when it does not)."""
        for k in (x.aead, x.enc, x.auth):
            if k is not None and not k.key_ok():
                raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        if x.proto == IPPROTO_AH:
            # ah_init_state: an authentication algorithm, no cipher, no UDP encapsulation
            if x.auth is None or x.enc is not None or x.aead is not None:
                raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
            if x.encap is not None:
                raise NetplexError("Error: AH is not compatible with encapsulation.", errno.EINVAL)
            x.ah = AhTransform(x.auth, bool(x.flags & XFRM_STATE_ALIGN4))
        elif x.aead is not None:
            x.transform = EspTransform(x.aead, None, None)
        elif x.enc is not None:
            x.transform = EspTransform(None, x.enc, x.auth)
        old = self.by_id.get(x.key())
        if update:
            if old is None:
                raise NetplexError("RTNETLINK answers: No such process", errno.ESRCH)
            # xfrm_state_update: the new SA takes the old one's place and counters
            x.bytes, x.packets, x.add_time, x.use_time, x.lastused = (old.bytes, old.packets, old.add_time,
                                                                        old.use_time, old.lastused)
            x.oseq, x.replay_seq, x.bitmap = old.oseq or x.oseq, old.replay_seq or x.replay_seq, old.bitmap
            self.states[self.states.index(old)] = x
            old.gen = -1
        else:
            if old is not None:
                raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
            x.add_time = self.now_sec()
            self.states.insert(0, x)
        self.by_id[x.key()] = x
        self._arm_timers(x)
        self._changed()
        self.notify("updsa" if update else "newsa", x)

    def state_get(self, daddr: int, spi: int, proto: int) -> XfrmState:
        x = self.by_id.get((daddr, spi, proto))
        if x is None:
            raise NetplexError("RTNETLINK answers: No such process", errno.ESRCH)
        return x

    def state_del(self, x: XfrmState, notify: bool = True) -> None:
        """__xfrm_state_delete."""
        if self.by_id.get(x.key()) is not x:
            return
        del self.by_id[x.key()]
        self.states.remove(x)
        x.km_state = XFRM_STATE_EXPIRED
        x.gen = -1
        self._changed()
        if notify:
            self.notify("delsa", x)

    def state_flush(self, proto: int = 0) -> None:
        """xfrm_state_flush: every SA of `proto` (0: IPsec protocols)."""
        gone = [x for x in self.states if (x.proto == proto if proto else x.proto in (50, 51, 108))]
        for x in gone:
            self.state_del(x, notify=False)
        self._changed()
        self.notify("flushsa", proto)

    def state_find(self, daddr: int, saddr: int, proto: int, reqid: int, mode: int, spi: int,
                   src: int, dst: int, uproto: int, sport: int, dport: int) -> XfrmState | None:
        """xfrm_state_find: the valid SA for a template and flow; not dying, newest first."""
        best: XfrmState | None = None
        for x in self.states:
            if (x.daddr != daddr or x.saddr != saddr or x.proto != proto or x.mode != mode
                    or (reqid and x.reqid != reqid) or (spi and x.spi != spi) or x.km_state != XFRM_STATE_VALID
                    or x.dir == 1):
                continue
            if x.sel.family and not x.sel.match(src, dst, uproto, sport, dport, 0):
                continue
            if best is None or (best.dying and not x.dying) or (best.dying == x.dying and x.add_time > best.add_time):
                best = x
        return best

    # -- lifetimes -----------------------------------------------------------
    def _arm_timers(self, x: XfrmState) -> None:
        lft = x.lft
        gen = x.gen = x.gen + 1
        sched = self.ns.sched
        if lft.soft_add:
            sched.at(sched.now + lft.soft_add * NSEC_PER_SEC, self._timer, x, gen, 0)
        if lft.hard_add:
            sched.at(sched.now + lft.hard_add * NSEC_PER_SEC, self._timer, x, gen, 1)

    def _timer(self, x: XfrmState, gen: int, hard: int) -> None:
        """xfrm_timer_handler for a time limit."""
        if x.gen != gen or x.km_state != XFRM_STATE_VALID:
            return
        self.expire(x, hard)

    def expire(self, x: XfrmState, hard: int) -> None:
        """km_state_expired: soft marks the SA dying, hard deletes it."""
        if hard:
            x.km_state = XFRM_STATE_EXPIRED
            self.notify("expire", x, 1)
            self.state_del(x, notify=False)
            return
        if not x.dying:
            x.dying = True
            self.notify("expire", x, 0)

    def check_expire(self, x: XfrmState) -> bool:
        """xfrm_state_check_expire: False once the SA is past a hard limit (the packet is dropped)."""
        if x.km_state != XFRM_STATE_VALID:
            return False
        now = self.now_sec()
        if not x.use_time:
            x.use_time = now
            lft = x.lft
            sched = self.ns.sched
            if lft.soft_use:
                sched.at(sched.now + lft.soft_use * NSEC_PER_SEC, self._timer, x, x.gen, 0)
            if lft.hard_use:
                sched.at(sched.now + lft.hard_use * NSEC_PER_SEC, self._timer, x, x.gen, 1)
        lft = x.lft
        if x.bytes >= lft.hard_bytes or x.packets >= lft.hard_packets:
            self.expire(x, 1)
            return False
        if not x.dying and (x.bytes >= lft.soft_bytes or x.packets >= lft.soft_packets):
            self.expire(x, 0)
        return True

    # -- SPD -----------------------------------------------------------------
    def policy_add(self, p: XfrmPolicy, update: bool = False) -> None:
        """xfrm_add_policy → xfrm_policy_insert: EEXIST for the same selector and direction
        unless `update`; an update keeps the index."""
        old = next((q for q in self.policies if q.key() == p.key()), None)
        if old is not None:
            if not update:
                raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
            p.index = p.index or old.index
            self._unlink(old)
        if not p.index:
            # xfrm_gen_index: (idx_generator | dir), then += 8
            p.index = self.idx_generator | p.dir
            self.idx_generator += 8
        elif any(q.index == p.index for q in self.policies):
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        p.add_time = old.add_time if old is not None else self.now_sec()
        self.order += 1
        p.order = self.order
        self.policies.insert(0, p)
        lst = self.spd[p.dir]
        lst.append(p)
        lst.sort(key=lambda q: (q.priority, q.order))
        self._changed()
        self.notify("updpolicy" if update and old is not None else "newpolicy", p)

    def _unlink(self, p: XfrmPolicy) -> None:
        self.policies.remove(p)
        self.spd[p.dir].remove(p)

    def policy_get(self, dir: int, sel: XfrmSelector | None, index: int, ptype: int = 0) -> XfrmPolicy:
        """xfrm_policy_bysel_ctx / xfrm_policy_byid: ENOENT when none."""
        for p in self.policies:
            if p.dir != dir or p.ptype != ptype:
                continue
            if (sel is not None and p.sel.key() == sel.key()) or (sel is None and p.index == index):
                return p
        raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)

    def policy_del(self, p: XfrmPolicy, notify: bool = True) -> None:
        self._unlink(p)
        self._changed()
        if notify:
            self.notify("delpolicy", p)

    def policy_flush(self, ptype: int = 0) -> None:
        for p in [q for q in self.policies if q.ptype == ptype]:
            self._unlink(p)
        self._changed()
        self.notify("flushpolicy", ptype)

    def policy_lookup(self, dir: int, src: int, dst: int, proto: int, sport: int, dport: int,
                      ifindex: int) -> XfrmPolicy | None:
        """xfrm_policy_lookup_bytype: the first match by priority, then age."""
        for p in self.spd[dir]:
            if p.sel.match(src, dst, proto, sport, dport, ifindex):
                return p
        return None
