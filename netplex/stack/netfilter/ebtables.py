"""The bridge's filter table (ebtables): rules on the frames a Linux bridge forwards.

What net/bridge/netfilter/ebtables.c (ebt_do_table) and ebtable_filter.c do, for the
`filter` table's three base chains: INPUT (NF_BR_LOCAL_IN, br_pass_frame_up: frames
the bridge passes up to its own device), FORWARD (NF_BR_FORWARD, __br_forward: frames
from one port to another, flooded or known) and OUTPUT (NF_BR_LOCAL_OUT: frames the
bridge device itself sends out of a port). Each rule matches the frame's EtherType
(`-p`, the names of netbase's /etc/ethertypes), source and destination MAC with an
optional mask (`-s`/`-d`), and the input and output port (`-i`/`-o`, `+` a wildcard
at the end), each possibly inverted; its target is ACCEPT, DROP, CONTINUE or RETURN
(in a base chain: the chain's policy). The first rule whose target is not CONTINUE
decides; none: the policy. Each rule counts the frames and bytes it matched
(skb->len at the hook: the frame without its Ethernet header).

What stays out (the command refuses it with netplex's words): the nat and broute
tables, user chains, and the extension matches and targets (--ip-*, --arp-*, --vlan-*,
--logical-in/out, mark, log, ...). `shell/ebtables.py` is the command; the bridge
calls `Ebtables.hook` where the kernel runs NF_HOOK(NFPROTO_BRIDGE, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CHAINS", "ETHERTYPES", "EbtRule", "Ebtables", "TARGETS", "ebt_mac_text", "ebt_proto_text"]

CHAINS = ("INPUT", "FORWARD", "OUTPUT")
TARGETS = ("ACCEPT", "DROP", "CONTINUE", "RETURN")
ETH_P_802_3_MIN = 0x0600

# netbase's /etc/ethertypes: the name ebtables prints, then the aliases it also accepts
ETHERTYPES: dict[int, tuple[str, ...]] = {
    0x0800: ("IPv4", "ip", "ip4"), 0x0805: ("X25",), 0x0806: ("ARP", "ether-arp"), 0x0808: ("FR_ARP",),
    0x08FF: ("BPQ",), 0x22F3: ("TRILL",), 0x22F4: ("L2-IS-IS",), 0x6558: ("TEB",), 0x6559: ("RAW_FR",),
    0x8035: ("RARP",), 0x809B: ("ATALK",), 0x80F3: ("AARP",), 0x8100: ("802_1Q", "8021q", "1q", "802.1q", "dot1q"),
    0x8137: ("IPX",), 0x8191: ("NetBEUI",), 0x86DD: ("IPv6", "ip6"), 0x880B: ("PPP",), 0x8847: ("MPLS",),
    0x8848: ("MPLS_MULTI",), 0x884C: ("ATMMPOA",), 0x8863: ("PPP_DISC",), 0x8864: ("PPP_SES",),
    0x8884: ("ATMFATE",), 0x888E: ("EAPOL",), 0x88A8: ("S-TAG",), 0x88C7: ("EAP_PREAUTH",), 0x88CC: ("LLDP",),
    0x88E5: ("MACSEC",), 0x88E7: ("PBB", "macinmac"), 0x88F5: ("MVRP",), 0x88F7: ("PTP",), 0x8906: ("FCOE",),
    0x8914: ("FIP",), 0x8915: ("ROCE",), 0xA0ED: ("LoWPAN",),
}
# ebtables' own names for address/mask pairs (ebt_print_mac_and_mask)
_MAC_NAMES = {
    (b"\x00" * 6, b"\x01" + b"\x00" * 5): "Unicast",
    (b"\x01" + b"\x00" * 5, b"\x01" + b"\x00" * 5): "Multicast",
    (b"\xff" * 6, b"\xff" * 6): "Broadcast",
    (b"\x01\x80\xc2\x00\x00\x00", b"\xff" * 6): "BGA",
}
FULL_MASK = b"\xff" * 6


def ebt_proto_text(proto: int | None) -> str:
    """The `-p` value as ebtables lists it: a name of /etc/ethertypes, LENGTH, or 0xhhhh."""
    if proto is None:
        return "Length"
    names = ETHERTYPES.get(proto)
    return names[0] if names else f"0x{proto:04x}"


def ebt_mac_text(mac: bytes, mask: bytes) -> str:
    """A MAC match as ebtables lists it: Broadcast/Multicast/Unicast/BGA, the address,
    or address/mask."""
    name = _MAC_NAMES.get((mac, mask))
    if name is not None:
        return name
    text = ":".join(f"{b:02x}" for b in mac)
    return text if mask == FULL_MASK else text + "/" + ":".join(f"{b:02x}" for b in mask)


def _ifname_match(pattern: str, name: str) -> bool:
    """ebt_dev_check: exact, or a prefix ending in `+`."""
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


@dataclass(slots=True)
class EbtRule:
    """One rule: each match is (value, inverted) or None; the target; its counters.
    `proto` None with `proto_set` is `-p LENGTH` (an 802.3 length field)."""

    target: str
    proto: int | None = None
    proto_set: bool = False
    proto_inv: bool = False
    src: tuple[bytes, bytes] | None = None
    src_inv: bool = False
    dst: tuple[bytes, bytes] | None = None
    dst_inv: bool = False
    iif: str | None = None
    iif_inv: bool = False
    oif: str | None = None
    oif_inv: bool = False
    pcnt: int = 0
    bcnt: int = 0

    def key(self) -> tuple[object, ...]:
        """What makes two rules the same rule (`-D` by specification)."""
        return (self.target, self.proto, self.proto_set, self.proto_inv, self.src, self.src_inv, self.dst,
                self.dst_inv, self.iif, self.iif_inv, self.oif, self.oif_inv)

    def text(self) -> str:
        """The rule as `ebtables -L` prints it (ebt_print order: -p, -s, -d, -i, -o, -j)."""
        parts = []
        if self.proto_set:
            parts.append(f"-p {'! ' if self.proto_inv else ''}{ebt_proto_text(self.proto)}")
        for opt, m, inv in (("-s", self.src, self.src_inv), ("-d", self.dst, self.dst_inv)):
            if m is not None:
                parts.append(f"{opt} {'! ' if inv else ''}{ebt_mac_text(*m)}")
        for opt, name, inv in (("-i", self.iif, self.iif_inv), ("-o", self.oif, self.oif_inv)):
            if name is not None:
                parts.append(f"{opt} {'! ' if inv else ''}{name}")
        parts.append(f"-j {self.target}")
        return " ".join(parts)

    def matches(self, ethertype: int, src: bytes, dst: bytes, iif: str | None, oif: str | None) -> bool:
        """ebt_basic_match."""
        if self.proto_set:
            hit = (ethertype < ETH_P_802_3_MIN) if self.proto is None else ethertype == self.proto
            if hit == self.proto_inv:
                return False
        for m, inv, mac in ((self.src, self.src_inv, src), (self.dst, self.dst_inv, dst)):
            if m is not None:
                want, mask = m
                hit = all((a & k) == (b & k) for a, b, k in zip(mac, want, mask))
                if hit == inv:
                    return False
        for pattern, inv, name in ((self.iif, self.iif_inv, iif), (self.oif, self.oif_inv, oif)):
            if pattern is not None:
                hit = name is not None and _ifname_match(pattern, name)
                if hit == inv:
                    return False
        return True


@dataclass(slots=True)
class Ebtables:
    """The filter table of one network namespace."""

    rules: dict[str, list[EbtRule]] = field(default_factory=lambda: {c: [] for c in CHAINS})
    policy: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHAINS, "ACCEPT"))

    def empty(self) -> bool:
        """No rule and every policy ACCEPT: the table changes nothing."""
        return not any(self.rules.values()) and all(p == "ACCEPT" for p in self.policy.values())

    def hook(self, chain: str, ethertype: int, src: bytes, dst: bytes, iif: str | None, oif: str | None,
             nbytes: int) -> bool:
        """ebt_do_table: True to let the frame pass (NF_ACCEPT), False to drop it."""
        for rule in self.rules[chain]:
            if not rule.matches(ethertype, src, dst, iif, oif):
                continue
            rule.pcnt += 1
            rule.bcnt += nbytes
            if rule.target == "CONTINUE":
                continue
            if rule.target == "RETURN":
                break
            return rule.target == "ACCEPT"
        return self.policy[chain] == "ACCEPT"

    def listing(self, chains: tuple[str, ...], counters: bool = False) -> str:
        """`ebtables -L [CHAIN] [--Lc]`."""
        out = ["Bridge table: filter\n"]
        for c in chains:
            out.append(f"\nBridge chain: {c}, entries: {len(self.rules[c])}, policy: {self.policy[c]}\n")
            for r in self.rules[c]:
                out.append(r.text() + (f" , pcnt = {r.pcnt} -- bcnt = {r.bcnt}" if counters else "") + "\n")
        return "".join(out)
