"""A shaped link's cable on the kernel twin: a hidden "wire" namespace between the two ends.

In the simulator a link's `rate` is the cable's own serialisation rate, behind
each device's qdisc (SCENARIO.md, Links), so `tc qdisc show dev eth0` shows
the kernel's default and `tc qdisc add dev eth0 root …` works. The twin keeps
the user's devices untouched the same way: a link with `rate`, `delay` or
`loss` becomes two veth pairs through a namespace of its own,

    node A              wire namespace <prefix>-w<N>              node B
    ifa  <-- veth -->  wa ─┐                    ┌─ wb  <-- veth -->  ifb
                           └──── bridge wire ───┘

with tbf (and netem, where the kernel has it) on the egress of `wb` (A's
traffic towards B) and of `wa` (B's traffic towards A).

The bridge is configured to behave as a cable, not a switch (ip-link(8),
bridge(8)):

- `stp_state 0`: no BPDUs of its own. With STP off the kernel forwards
  frames to the Bridge Group Address 01:80:c2:00:00:00 (a user's STP BPDUs).
- `group_fwd_mask 0xfff8`: the other IEEE 802.1D link-local groups
  01:80:c2:00:00:03-0f (802.1X, LLDP, …) are forwarded too. The kernel
  refuses bits 0-2, so two kinds of frame cannot cross a wire, where a plain
  veth passes them: 01:80:c2:00:00:01 (MAC Control, PAUSE: always dropped)
  and 01:80:c2:00:00:02 (Slow Protocols: LACP, LAMP, OAM; taken by the
  wire's own stack and dropped).
- ports with `learning off` (the forwarding database holds only the ports'
  own addresses, so every frame floods to the other port and ageing never
  matters; a frame towards a MAC seen on its own side still crosses, as on a
  veth) and unicast, multicast and broadcast flooding on;
- `mcast_snooping 0`: multicast and IGMP cross unfiltered;
- `nf_call_*tables 0` and the namespace's `net.bridge.bridge-nf-call-*`
  sysctls 0: bridged IPv4/ARP never reaches the wire namespace's netfilter
  (br_netfilter is on by default and would also validate IP headers);
- IPv6 disabled in the wire namespace, so it sends no ND/MLD of its own;
- `wa`/`wb` at the veth maximum MTU (65535): the receiving user end's MTU
  decides what passes, as on a plain veth.

Also unlike a veth: the bridge drops frames whose source MAC is multicast or
all-zero, and delivers locally (so drops) frames addressed to `wa`'s, `wb`'s
or the bridge's own random MAC address.

Carrier: a veth end has carrier when both its ends are up. A user end's peer
here is `wa`/`wb`, which is always up, so a user end has carrier as soon as
it is up, whatever the far user end does (`ip link` shows `UP,LOWER_UP` /
`state UP` where a plain veth shows `NO-CARRIER` / `state LOWERLAYERDOWN`);
frames sent towards a far end that is down are dropped at `wb`/`wa` instead
of at the sender. `ip link` also shows the user end's peer in the wire
namespace (`eth0@if1001 … link-netns <prefix>-w3`): `far_node()` maps that to
the node the simulator names, for netplex.scenario.diff.
"""
from __future__ import annotations

from dataclasses import dataclass

from netplex.twin import netlink
from netplex.twin.netlink import Rtnl

__all__ = ["BRIDGE", "END_INDEX", "END_NAME", "WIRE_MTU", "WIRE_SYSCTLS", "Wire"]

BRIDGE = "wire"
END_NAME = ("wa", "wb")  # the wire devices facing the link's first and second end
# Fixed ifindexes: they name a user end's side in `eth0@if1001` (see far_node), and differ from
# the user ends' own small ifindexes, so carrier events count as urgent for the kernel's linkwatch.
END_INDEX = (1001, 1002)
BRIDGE_INDEX = 1000
WIRE_MTU = 65535  # veth's max_mtu
GROUP_FWD_MASK = 0xFFF8  # every 01:80:c2:00:00:0X the kernel lets a bridge forward (not 0-2)

BRIDGE_OPTIONS = {
    netlink.IFLA_BR_STP_STATE: (4, 0),
    netlink.IFLA_BR_GROUP_FWD_MASK: (2, GROUP_FWD_MASK),
    netlink.IFLA_BR_MCAST_SNOOPING: (1, 0),
    netlink.IFLA_BR_NF_CALL_IPTABLES: (1, 0),
    netlink.IFLA_BR_NF_CALL_IP6TABLES: (1, 0),
    netlink.IFLA_BR_NF_CALL_ARPTABLES: (1, 0),
}
PORT_OPTIONS = {
    netlink.IFLA_BRPORT_LEARNING: (1, 0),
    netlink.IFLA_BRPORT_UNICAST_FLOOD: (1, 1),
    netlink.IFLA_BRPORT_MCAST_FLOOD: (1, 1),
    netlink.IFLA_BRPORT_BCAST_FLOOD: (1, 1),
}
# /proc/sys/net paths written in a wire namespace, besides those of every new namespace
WIRE_SYSCTLS = tuple((f"bridge/bridge-nf-call-{t}", "0") for t in ("iptables", "ip6tables", "arptables"))


@dataclass(slots=True)
class Wire:
    """One shaped link's wire namespace: `ends[i]` is (node, ifname), joined to END_NAME[i]."""

    netns: str
    ends: tuple[tuple[str, str], tuple[str, str]]

    def egress(self, end: int) -> str:
        """The wire device whose egress carries end `end`'s traffic (towards the other end)."""
        return END_NAME[1 - end]

    def far_node(self, peer_index: int) -> str | None:
        """The node at the other side of the user end whose veth peer has ifindex `peer_index`."""
        for i, index in enumerate(END_INDEX):
            if index == peer_index:
                return self.ends[1 - i][0]
        return None

    def queue_bridge(self, rtnl: Rtnl) -> None:
        """Queue, on a socket in the wire namespace, the bridge joining wa and wb, all up.

        wa and wb must exist by the time the queue is committed.
        """
        rtnl.link_add(BRIDGE, "bridge", index=BRIDGE_INDEX, options=BRIDGE_OPTIONS)
        for index in END_INDEX:
            rtnl.link_set(index=index, master=BRIDGE_INDEX)
            rtnl.port_set(index, "bridge", PORT_OPTIONS)
            rtnl.link_set(index=index, up=True)
        rtnl.link_set(index=BRIDGE_INDEX, up=True)
