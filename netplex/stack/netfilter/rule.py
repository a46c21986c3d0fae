"""One iptables rule (struct ipt_entry): the IP header part, its matches, its target, its counters.

`Rule.ip_match` is ip_packet_match (net/ipv4/netfilter/ip_tables.c):
addresses under masks, interface names with the `+` wildcard, protocol,
fragments, each with its `!`. The rule's text as iptables-save prints it is
built once (`save_text`) — `-D`/`-C` compare rules by it, as iptables-nft
compares the rules it parsed back. The -L formatting lives with the command (netplex/shell/iptables.py).
"""
from __future__ import annotations

from typing import Any

from netplex.stack.netfilter.core import Match, Target

# ipt_ip invflags
INV_VIA_IN = 0x01
INV_VIA_OUT = 0x02
INV_SRCIP = 0x08
INV_DSTIP = 0x10
INV_FRAG = 0x20
INV_PROTO = 0x40

# target kinds
T_NONE, T_ACCEPT, T_DROP, T_RETURN, T_JUMP, T_GOTO, T_EXT = range(7)
STANDARD = {"ACCEPT": T_ACCEPT, "DROP": T_DROP, "RETURN": T_RETURN}

# /etc/protocols (Debian netbase) — what getprotobynumber / getprotobyname see.
PROTOCOLS: dict[str, int] = {}
PROTO_NAMES: dict[int, str] = {}
for _item in ["ip 0", "hopopt 0", "icmp 1", "igmp 2", "ggp 3", "ipencap 4", "st 5", "tcp 6", "egp 8", "igp 9", "pup 12", "udp 17", "hmp 20", "xns-idp 22", "rdp 27", "iso-tp4 29", "dccp 33", "xtp 36", "ddp 37", "idpr-cmtp 38", "ipv6 41", "ipv6-route 43", "ipv6-frag 44", "idrp 45", "rsvp 46", "gre 47", "esp 50", "ah 51", "skip 57", "ipv6-icmp 58", "ipv6-nonxt 59", "ipv6-opts 60", "rspf 73", "vmtp 81", "eigrp 88", "ospf 89", "ax.25 93", "ipip 94", "etherip 97", "encap 98", "pim 103", "ipcomp 108", "vrrp 112", "l2tp 115", "isis 124", "sctp 132", "fc 133", "mobility-header 135", "udplite 136", "mpls-in-ip 137", "manet 138", "hip 139", "shim6 140", "wesp 141", "rohc 142", "ethernet 143"]:
    _n, _v = _item.split()
    PROTOCOLS.setdefault(_n, int(_v))
    PROTOCOLS.setdefault(_n.upper(), int(_v))   # the aliases column
    PROTO_NAMES.setdefault(int(_v), _n)
# xtables_chain_protos
CHAIN_PROTOS = {"all": 0, "tcp": 6, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58,
                "esp": 50, "ah": 51, "sctp": 132, "mh": 135}
# /etc/hosts and /etc/networks of a Debian host, for -L without -n
HOSTS = {0x7F000001: "localhost"}
NETWORKS = {0x7F000000: "loopback", 0xA9FE0000: "link-local"}


def proto_name(proto: int) -> str | None:
    """proto_to_name(proto, 0) as iptables-save and -L (without -n) use it."""
    if proto == 0:
        return "all"
    return PROTO_NAMES.get(proto)


def ip_str(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def mask_to_plen(m: int) -> int:
    """The prefix length of a contiguous mask, or -1."""
    plen = 32 - (((~m) & 0xFFFFFFFF).bit_length())
    return plen if ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0) == m else -1


def mask_text(m: int, list_mode: bool = False) -> str:
    """xtables_ipmask_to_numeric: `/24`, `/255.0.255.0`; -L omits `/32`."""
    plen = mask_to_plen(m)
    if plen == 32 and list_mode:
        return ""
    if plen < 0:
        return "/" + ip_str(m)
    return f"/{plen}"


def iface_match(rule_if: str, name: str) -> bool:
    if rule_if.endswith("+"):
        return name.startswith(rule_if[:-1])
    return name == rule_if


class Rule:
    """struct ipt_entry plus its matches and target."""

    __slots__ = (
        "bcnt",
        "chain_ref",
        "dmsk",
        "dst",
        "frag",
        "iniface",
        "inv",
        "matches",
        "nomatch_ip",
        "outiface",
        "pcnt",
        "proto",
        "smsk",
        "src",
        "text",
        "tkind",
        "tname",
        "tobj",
    )

    def __init__(self) -> None:
        self.src = self.smsk = self.dst = self.dmsk = 0
        self.iniface = self.outiface = ""
        self.proto = 0
        self.frag = False
        self.inv = 0
        self.matches: list[Match] = []
        self.tname = ""          # ACCEPT, DROP, RETURN, a chain name, an extension name, "" (none)
        self.tkind = T_NONE
        self.tobj: Target | None = None
        self.pcnt = 0
        self.bcnt = 0
        self.text = ""
        self.nomatch_ip = True   # no IP header conditions at all (fast path)
        self.chain_ref: Any = None

    def finish(self) -> None:
        """Compute the saved text and the fast-path flag once the rule is complete."""
        self.nomatch_ip = not (self.smsk or self.dmsk or self.iniface or self.outiface or self.proto
                               or self.frag or self.inv)
        self.text = self.save_text()

    # -- matching -----------------------------------------------------------
    def ip_match(self, ip: Any, indev: str, outdev: str) -> bool:
        """ip_packet_match."""
        inv = self.inv
        if self.smsk or inv & INV_SRCIP:
            if ((ip.src & self.smsk) == self.src) == bool(inv & INV_SRCIP):
                return False
        if self.dmsk or inv & INV_DSTIP:
            if ((ip.dst & self.dmsk) == self.dst) == bool(inv & INV_DSTIP):
                return False
        if self.iniface:
            if iface_match(self.iniface, indev) == bool(inv & INV_VIA_IN):
                return False
        if self.outiface:
            if iface_match(self.outiface, outdev) == bool(inv & INV_VIA_OUT):
                return False
        if self.proto:
            if (ip.proto == self.proto) == bool(inv & INV_PROTO):
                return False
        if self.frag:
            if bool(ip.frag) == bool(inv & INV_FRAG):
                return False
        return True

    # -- text ------------------------------------------------------------------
    def addr_save(self, a: int, m: int) -> str:
        """An address and mask as iptables-save prints them (`10.0.0.0/8`)."""
        return ip_str(a) + mask_text(m)

    def save_text(self, counters: bool = False) -> str:
        """The rule after `-A CHAIN` as iptables-save prints it (save_rule_details order)."""
        out: list[str] = []
        inv = self.inv
        if self.smsk or inv & INV_SRCIP:
            out.append(("! " if inv & INV_SRCIP else "") + "-s " + self.addr_save(self.src, self.smsk))
        if self.dmsk or inv & INV_DSTIP:
            out.append(("! " if inv & INV_DSTIP else "") + "-d " + self.addr_save(self.dst, self.dmsk))
        if self.iniface:
            out.append(("! " if inv & INV_VIA_IN else "") + "-i " + self.iniface)
        if self.outiface:
            out.append(("! " if inv & INV_VIA_OUT else "") + "-o " + self.outiface)
        if self.proto:
            pn = proto_name(self.proto)
            out.append(("! " if inv & INV_PROTO else "") + "-p " + (pn or str(self.proto)))
        if self.frag:
            out.append(("! " if inv & INV_FRAG else "") + "-f")
        for m in self.matches:
            s = m.save()
            out.append(f"-m {m.name}" + (" " + s if s else ""))
        if counters:
            out.append(f"-c {self.pcnt} {self.bcnt}")
        if self.tkind == T_GOTO:
            out.append("-g " + self.tname)
        elif self.tkind == T_EXT and self.tobj is not None:
            s = self.tobj.save()
            out.append(f"-j {self.tname}" + (" " + s if s else ""))
        elif self.tkind != T_NONE:
            out.append("-j " + self.tname)
        return " ".join(out)

    def same(self, other: Rule) -> bool:
        return self.text == other.text
