"""Why the stack freed a packet: `enum skb_drop_reason` (include/net/dropreason-core.h).

Every data-plane drop is `ns.drop(frame, dev, SkbDropReason.X)` (kfree_skb_reason):
counted per member in `ns.drops` and, while tracing, emitted as a "drop" trace
event whose `reason` is the member.

Members carry the kernel's names (`SKB_DROP_REASON_` left off). Where netplex
tells apart cases the kernel folds into one reason — or drops where the kernel
only bumps a counter — the member has a name in the kernel's style and its
`kernel` attribute names the reason the kernel reports (None when the kernel
frees no skb there). Each member's `text` is the word netplex has always
printed (`netplex trace`, drop lines), kept so outputs do not change.

Adding a reason: one member here, `NAME = "text"` for a kernel reason or
`NAME = ("text", "KERNEL_REASON")` for a netplex one (see docs/arch/trace.md).
"""
from __future__ import annotations

from enum import Enum

__all__ = ["ROUTE_TYPE_DROP", "SkbDropReason"]


class SkbDropReason(Enum):
    """enum skb_drop_reason: one member per reason netplex drops for."""

    text: str
    kernel: str | None

    def __init__(self, text: str, kernel: str | None = "") -> None:
        self.text = text
        # "" = the member is itself the kernel's reason; a name = what the kernel reports
        self.kernel = self.name if kernel == "" else kernel

    # a member is its own identity: hashed as an object (C), not by Enum's `hash(self._name_)`
    # in Python, twice for every drop counted (`ns.drops`)
    __hash__ = object.__hash__

    # -- the kernel's reasons ---------------------------------------------------
    NOT_SPECIFIED = "not_specified"
    NETFILTER_DROP = "netfilter_drop"                 # NF_DROP (and NF_QUEUE with no listener)
    UNHANDLED_PROTO = "unknown_protocol"              # no packet_type for the EtherType
    IP_INVALID_SOURCE = "martian_source"              # fib_validate_source / martian checks
    IP_RPFILTER = "rp_filter"                         # fib_validate_source: -EXDEV (reverse path)
    IP_INVALID_DEST = "martian_destination"           # 127/8 destination without route_localnet
    IP_INNOROUTES = "no_route"                        # ip_route_input_slow: no route (forwarding on)
    IP_NOPROTO = "unknown_ip_protocol"                # ip_protocol_deliver_rcu: no inet_protos entry
    PKT_TOO_BIG = "frag_needed"                       # ip_forward/ip_fragment: DF set and over the MTU
    NEIGH_FAILED = "neigh_failed"                     # neigh_invalidate: resolution failed
    NEIGH_QUEUEFULL = "neigh_queue_full"              # __neigh_event_send: arp_queue over its limit
    QDISC_DROP = "qdisc_drop"                         # qdisc_drop: queue full
    TC_INGRESS = "tc_ingress_drop"                    # TC_ACT_SHOT on ingress
    BRIDGE_INGRESS_STP_STATE = "br_port_state"        # br_handle_frame: port not learning/forwarding
    VXLAN_INVALID_HDR = "vxlan_malformed"             # vxlan_rcv: bad VXLAN header
    VXLAN_VNI_NOT_FOUND = "vxlan_vni_unknown"         # vxlan_rcv: no device for the VNI
    NO_TX_TARGET = "vxlan_no_fdb"                     # vxlan_xmit: no FDB entry and no default
    LOCAL_MAC = "vxlan_own_address"                   # vxlan_set_mac: inner source is our own MAC

    # -- netplex's finer reasons (kernel style; `kernel` = what the kernel reports) --
    ARP_MALFORMED = ("arp_malformed", "PKT_TOO_SMALL")
    ARP_BOGUS = ("arp_bogus", "NOT_SPECIFIED")        # arp_process: multicast/loopback target
    VLAN_UNKNOWN = ("vlan_unknown", "OTHERHOST")      # vlan_do_receive: no device for the tag
    IP_MC_NOT_MEMBER = ("mc_not_member", "OTHERHOST")  # ip_check_mc_rcu: group not joined
    IP_INNOROUTES_NOT_FORWARDING = ("no_route_not_forwarding", "IP_INNOROUTES")  # no ICMP sent
    IP_FORWARDING_DISABLED = ("forwarding_disabled", "IP_INNOROUTES")  # !IN_DEV_FORWARD
    IP_TTL_EXCEEDED = ("ttl_exceeded", "IP_INHDR")    # ip_forward: too_many_hops
    IP_LOOPBACK_DOWN = ("loopback_down", "DEV_READY")
    ICMP_RATELIMIT = ("icmp_ratelimit", None)         # icmpv4_xrlim_allow: the error is not built
    MTU_EXCEEDED = ("mtu_exceeded", "PKT_TOO_BIG")
    FRAG_FAILED = ("frag_failed", "NOT_SPECIFIED")   # ip_do_fragment: the MTU leaves < 8 bytes after the header    # is_skb_forwardable: frame over the device MTU
    NF_CONNTRACK_CLASH = ("nf_conntrack_clash", "NETFILTER_DROP")  # __nf_conntrack_confirm: lost race
    # route types that drop (ip_error / dst_discard), one per RTN_* type
    ROUTE_BLACKHOLE = ("route_blackhole", "NOT_SPECIFIED")
    ROUTE_UNREACHABLE = ("route_unreachable", "IP_INADDRERRORS")
    ROUTE_PROHIBIT = ("route_prohibit", "NOT_SPECIFIED")
    ROUTE_THROW = ("route_throw", "IP_INNOROUTES")
    ROUTE_MULTICAST = ("route_multicast", "NOT_SPECIFIED")
    ROUTE_NAT = ("route_nat", "NOT_SPECIFIED")
    ROUTE_ANYCAST = ("route_anycast", "NOT_SPECIFIED")
    # bridge (br_input.c / br_forward.c free with NOT_SPECIFIED)
    BRIDGE_DOWN = ("br_down", "NOT_SPECIFIED")        # the bridge device is down
    BRIDGE_PORT_LEARNING = ("br_port_learning", "NOT_SPECIFIED")  # learnt, then dropped
    BRIDGE_SAME_PORT = ("br_same_port", "NOT_SPECIFIED")  # should_deliver: back out the ingress port
    BRIDGE_VLAN_FILTERED = ("br_vlan_filtered", "NOT_SPECIFIED")  # br_allowed_ingress/egress
    # qdiscs (sch_*.c free with QDISC_DROP)
    TC_CLASSIFY_DROP = ("tc_classify_drop", "QDISC_DROP")  # htb_classify: TC_ACT_SHOT
    HTB_DIRECT_FULL = ("htb_direct_full", "QDISC_DROP")
    SFQ_NO_SLOT = ("sfq_no_slot", "QDISC_DROP")
    SFQ_FLOW_DEPTH = ("sfq_flow_depth", "QDISC_DROP")
    SFQ_OVERLIMIT = ("sfq_overlimit", "QDISC_DROP")
    TBF_OVERSIZE = ("tbf_oversize", "QDISC_DROP")
    NETEM_LOSS = ("netem_loss", "QDISC_DROP")         # netem_enqueue: loss_event
    # tunnels (ip_tunnel.c / vxlan_core.c)
    VXLAN_NO_ROUTE = ("vxlan_no_route", "IP_OUTNOROUTES")
    VXLAN_LOOP = ("vxlan_loop", "NOT_SPECIFIED")      # the route leads back into the device
    GRE_NO_REMOTE = ("gre_no_remote", "NOT_SPECIFIED")
    GRE_NO_ROUTE = ("gre_no_route", "IP_OUTNOROUTES")
    GRE_LOOP = ("gre_loop", "NOT_SPECIFIED")
    GRE_MALFORMED = ("gre_malformed", "NOT_SPECIFIED")
    GRE_NO_TUNNEL = ("gre_no_tunnel", "NOT_SPECIFIED")  # gre_rcv: ICMP port unreachable, then freed
    GRE_CSUM_REQUIRED = ("gre_csum_required", "NOT_SPECIFIED")
    # IPsec (net/xfrm: xfrm_input / xfrm_lookup / __xfrm_policy_check; the /proc/net/xfrm_stat counter in the comment)
    XFRM_POLICY = "xfrm_policy"                       # __xfrm_policy_check failed (XfrmInNoPols, XfrmInTmplMismatch, XfrmInPolBlock)
    XFRM_OUT_NO_STATES = ("xfrm_out_no_states", "NOT_SPECIFIED")   # no SA for a template: blackhole (XfrmOutNoStates)
    XFRM_OUT_POL_BLOCK = ("xfrm_out_pol_block", "NOT_SPECIFIED")   # an out policy with action block (XfrmOutPolBlock)
    XFRM_OUT_EXPIRED = ("xfrm_out_state_expired", "NOT_SPECIFIED")  # hard limit reached (XfrmOutStateExpired)
    XFRM_OUT_SEQ = ("xfrm_out_seq_overflow", "NOT_SPECIFIED")      # sequence number wrap (XfrmOutStateSeqError)
    XFRM_IN_NO_STATES = ("xfrm_in_no_states", "NOT_SPECIFIED")     # no SA for the SPI (XfrmInNoStates)
    XFRM_IN_REPLAY = ("xfrm_in_replay", "NOT_SPECIFIED")           # anti-replay window (XfrmInStateSeqError)
    XFRM_IN_AUTH = ("xfrm_in_auth_failed", "NOT_SPECIFIED")        # ICV or padding wrong (XfrmInStateProtoError)
    XFRM_IN_EXPIRED = ("xfrm_in_state_expired", "NOT_SPECIFIED")   # hard limit reached (XfrmInStateExpired)
    XFRM_IN_MODE = ("xfrm_in_state_mode", "NOT_SPECIFIED")         # inner packet not what the mode carries (XfrmInStateModeError)
    XFRM_IN_HDR = ("xfrm_in_hdr_error", "NOT_SPECIFIED")           # truncated ESP (XfrmInHdrError)
    XFRM_IN_MISMATCH = ("xfrm_in_state_mismatch", "NOT_SPECIFIED")  # ESP in UDP for an SA without encap, or back (XfrmInStateMismatch)
    # multicast routing (ipmr.c)
    IPMR_NO_VIF = ("ipmr_no_vif", "NOT_SPECIFIED")
    IPMR_UNRES_FULL = ("ipmr_unres_full", "NOT_SPECIFIED")
    IPMR_UNRES_QUEUE_FULL = ("ipmr_unres_queue_full", "NOT_SPECIFIED")
    IPMR_WRONG_VIF = ("ipmr_wrong_vif", "NOT_SPECIFIED")
    IPMR_FRAG_NEEDED = ("ipmr_frag_needed", "NOT_SPECIFIED")  # ipmr_queue_xmit: DF over the MTU

    def __str__(self) -> str:
        return self.text


# ip_route_input_slow: a route of one of these types drops the packet
ROUTE_TYPE_DROP: dict[str, SkbDropReason] = {
    "blackhole": SkbDropReason.ROUTE_BLACKHOLE,
    "unreachable": SkbDropReason.ROUTE_UNREACHABLE,
    "prohibit": SkbDropReason.ROUTE_PROHIBIT,
    "throw": SkbDropReason.ROUTE_THROW,
    "multicast": SkbDropReason.ROUTE_MULTICAST,
    "nat": SkbDropReason.ROUTE_NAT,
    "anycast": SkbDropReason.ROUTE_ANYCAST,
}
