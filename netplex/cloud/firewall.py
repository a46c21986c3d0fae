"""Neutron's iptables firewall driver for the linuxbridge agent, as a pure function
(neutron/agent/linux/iptables_firewall.py IptablesFirewallDriver, ipset_manager.py, and
iptables_manager.py IptablesManager's layout, ip6tables included).

`port_calls` gives, for one port, the `add_chain`/`add_rule` requests
prepare_port_filter makes: the conntrack zone rules in raw PREROUTING (one zone per
network from 4097, ip_conntrack.ZONE_START), the NAT short-circuit for its tap in nat
PREROUTING, the jumps from FORWARD, INPUT and `sg-chain` to its chains `i<dev>`,
`o<dev>` and `s<dev>` (device name without `tap`, 11 characters), the ingress chain
(known sessions, then each rule, invalid dropped, the rest to `sg-fallback`) and the
egress chain (DHCP discovery, the IP/MAC anti-spoofing chain, DHCP renewal, no DHCP
server in a VM, known sessions, each rule, invalid, fallback). A rule is Neutron's rule
dict (`direction`, `ethertype`, `protocol`, `port_range_min/max`,
`source_port_range_min/max`, `source_ip_prefix`, `dest_ip_prefix`, `remote_group_id`)
and `plain_rule_args` is _generate_plain_rule_args: the arguments in the order
iptables-save prints them; a remote group is an ipset `N<ethertype><group-id>`
(enable_ipset = True, Neutron's default) or one rule per other member.
Each call gives one family (IptablesManager's ipv4 or ipv6 tables, `ethertype`): the IPv6 half
adds ICMPv6 MLD/NS/NA in, DAD and MLD reports from `::`, no RA and DHCPv6 client only out, the
IPv6 pairs (each IPv6 address and the MAC's EUI-64 link-local address), and the IPv6 rules.
`trusted_calls` is process_trusted_ports, for network-owned ports. `render` turns the requests into `iptables` lines with the
wrap name `neutron-linuxbri` (`$chain` jumps to the wrapped chain, chain names cut to
11 characters before wrapping), the top rules of a chain first, and comments where
comment_iptables_rules puts them (before `-j`).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

__all__ = ["HYBRID_WRAP", "WRAP", "ZONE_START", "Call", "ipset_name", "link_local", "plain_rule_args", "port_calls", "port_chain", "render",
           "rule_texts",
           "trailer_calls", "trusted_calls"]

WRAP = "neutron-linuxbri"
HYBRID_WRAP = "neutron-openvswi"     # the OVS agent's wrap name (OVSHybridIptablesFirewallDriver)
ZONE_START = 4097
SG_CHAIN, FALLBACK = "sg-chain", "sg-fallback"

# iptables_comments.py
UNMATCH_DROP = "Default drop rule for unmatched traffic."
VM_INT_SG = "Direct traffic from the VM interface to the security group chain."
SG_TO_VM_SG = "Jump to the VM specific chain."
INPUT_TO_SG = "Direct incoming traffic from VM to the security group chain."
PAIR_ALLOW = "Allow traffic from defined IP/MAC pairs."
PAIR_DROP = "Drop traffic without an IP/MAC allow rule."
DHCP_CLIENT = "Allow DHCP client traffic."
DHCP_SPOOF = "Prevent DHCP Spoofing by VM."
UNMATCHED = "Send unmatched traffic to the fallback chain."
INVALID_DROP = ("Drop packets that appear related to an existing connection (e.g. TCP ACK/FIN) but do not have an "
                "entry in conntrack.")
ALLOW_ASSOC = "Direct packets associated with a known session to the RETURN chain."
TRUSTED_ACCEPT = "Accept all packets when port is trusted."
IPV6_RA_DROP = "Drop IPv6 Router Advts from VM Instance."
IPV6_ICMP_ALLOW = "Allow IPv6 ICMP traffic."

# neutron/agent/firewall.py and neutron_lib constants: ICMPv6 a port lets in (MLD query, NS, NA), ICMPv6 it
# may send from the unspecified address (MLD report, NS, MLDv2 report: DAD), and the RA it may not send
ICMPV6_ALLOWED_INGRESS_TYPES = (130, 135, 136)
ICMPV6_ALLOWED_UNSPEC_ADDR_TYPES = (131, 135, 143)
ICMPV6_TYPE_RA = 134
IPV6_ICMP_LEGACY = ("icmp", "icmpv6")       # IPV6_ICMP_LEGACY_PROTO_LIST, read as ipv6-icmp in an IPv6 rule
IPV6_LLA_PREFIX = ipaddress.IPv6Network("fe80::/64")

# neutron_lib constants.IPTABLES_PROTOCOL_NAME_MAP, then Debian's /etc/protocols (netbase) for the numbers it
# names; 'ipip' is mapped to what '4' is named there (bug #2054324)
PROTOCOL_NAMES = {"1": "icmp", "2": "igmp", "4": "ipencap", "6": "tcp", "17": "udp", "33": "dccp", "41": "ipv6",
                  "47": "gre", "50": "esp", "51": "ah", "58": "ipv6-icmp", "89": "ospf", "94": "ipip", "98": "encap",
                  "103": "pim", "112": "vrrp", "132": "sctp", "136": "udplite", "icmpv6": "ipv6-icmp",
                  "ipv6-encap": "ipv6", "ipip": "ipencap"}
# protocols iptables loads a match module of the same name for (IPTABLES_PROTOCOL_MAP)
PROTOCOL_MATCH = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "icmp6", "sctp": "sctp", "dccp": "dccp"}
PORT_PROTOCOLS = ("tcp", "udp", "dccp", "sctp", "udplite")      # SG_PORT_PROTO_NAMES
MULTIPORT_ONLY = ("udplite",)                                  # IPTABLES_MULTIPORT_ONLY_PROTOCOLS


@dataclass(frozen=True)
class Call:
    """One IptablesTable.add_rule: table, chain (unwrapped name or a built-in), rule text, top, comment."""

    table: str
    chain: str
    rule: str
    top: bool = False
    comment: str | None = None


def _protocol(protocol: Any) -> str | None:
    """_iptables_protocol_name: '' and '0' mean any; a number by its name."""
    if protocol in (None, "", "0", 0):
        return None
    return PROTOCOL_NAMES.get(str(protocol), str(protocol))


def _port_args(direction: str, protocol: str | None, lo: Any, hi: Any) -> list[str]:
    if lo is None:
        return []
    if protocol in ("icmp", "ipv6-icmp"):
        kind = "icmpv6" if protocol == "ipv6-icmp" else "icmp"
        return [f"--{kind}-type", f"{lo}/{hi}" if hi is not None else f"{lo}"]
    if protocol in PORT_PROTOCOLS:
        if lo == hi:
            if protocol in MULTIPORT_ONLY:
                return ["-m", "multiport", f"--{direction}s", f"{lo}"]
            return [f"--{direction}", f"{lo}"]
        return ["-m", "multiport", f"--{direction}s", f"{lo}:{hi}"]
    return []


def _prefix_args(flag: str, prefix: str | None) -> list[str]:
    if not prefix:
        return []
    if "/" not in prefix:
        prefix = f"{prefix}/{ipaddress.ip_address(prefix).max_prefixlen}"
    elif prefix.endswith("/0"):
        return []      # an allow for every address is no constraint
    return [f"-{flag}", prefix]


def _version(ethertype: str) -> int:
    return 6 if ethertype == "IPv6" else 4


def _of_family(ips: list[str], ethertype: str) -> list[str]:
    return [ip for ip in ips if ipaddress.ip_address(ip).version == _version(ethertype)]


def link_local(mac: str) -> str:
    """The EUI-64 link-local address of a MAC (netutils.get_ipv6_addr_by_EUI64 with fe80::/64,
    RFC 4291 appendix A): the universal/local bit flipped, ff:fe in the middle."""
    b = bytes(int(x, 16) for x in mac.split(":"))
    eui = bytes([b[0] ^ 0x02]) + b[1:3] + b"\xff\xfe" + b[3:6]
    return str(IPV6_LLA_PREFIX[int.from_bytes(eui, "big")])


def ipset_name(group_id: str, ethertype: str = "IPv4") -> str:
    """ipset_manager.get_name: `N` + ethertype + id, cut to 29 characters (31 less the swap suffix)."""
    return f"N{ethertype}{group_id}"[:29]


def _protocol_and_port_args(rule: dict[str, Any]) -> list[str]:
    """_generate_protocol_and_port_args."""
    args: list[str] = []
    protocol = _protocol(rule.get("protocol"))
    is_port = rule.get("source_port_range_min") is not None or rule.get("port_range_min") is not None
    if protocol is not None:
        args += ["-p", protocol]
        if is_port and protocol in PROTOCOL_MATCH:
            args += ["-m", PROTOCOL_MATCH[protocol]]
    args += _port_args("sport", protocol, rule.get("source_port_range_min"), rule.get("source_port_range_max"))
    args += _port_args("dport", protocol, rule.get("port_range_min"), rule.get("port_range_max"))
    return args


def plain_rule_args(rule: dict[str, Any]) -> str:
    """_generate_plain_rule_args: source, destination, protocol, sport, dport, target."""
    args = _prefix_args("s", rule.get("source_ip_prefix")) + _prefix_args("d", rule.get("dest_ip_prefix"))
    return " ".join([*args, *_protocol_and_port_args(rule), "-j RETURN"])


def port_chain(prefix: str, device: str) -> str:
    """_port_chain_name: the direction letter and the device without `tap`, cut to 11 characters."""
    return f"{prefix}{device[3:]}"[:11]


def _sg_rules(rules: list[dict[str, Any]], direction: str, port_ips: list[str],
              members: dict[str, list[str]], ipset: bool, ethertype: str = "IPv4") -> list[str]:
    """_convert_sgr_to_iptables_rules of one direction's rules of `ethertype`, duplicates pruned; a remote
    group is its ipset (`-m set --match-set N... src|dst`, only when the set has members) or,
    without ipsets, one rule per other member (_expand_sg_rule_with_remote_ips)."""
    out = [f"{ALLOW_ASSOC}\0-m state --state RELATED,ESTABLISHED -j RETURN"]
    seen: set[str] = set()
    for rule in rules:
        if rule["direction"] != direction or rule.get("ethertype", "IPv4") != ethertype:
            continue
        for text in rule_texts(rule, port_ips, members, ipset):
            if text not in seen:
                seen.add(text)
                out.append(f"\0{text}")
    return out + [f"{INVALID_DROP}\0-m state --state INVALID -j DROP", f"{UNMATCHED}\0-j ${FALLBACK}"]


def rule_texts(rule: dict[str, Any], port_ips: list[str], members: dict[str, list[str]], ipset: bool) -> list[str]:
    """The iptables rule texts one security-group rule becomes in its port's chain (the
    arguments after `-A CHAIN`, before duplicates are pruned): its ipset match, nothing
    while the remote group's set is empty, or one rule per remote address. A remote group's
    members are its addresses of the rule's ethertype (`NIPv4<id>`, `NIPv6<id>`)."""
    group = rule.get("remote_group_id")
    ethertype = rule.get("ethertype", "IPv4")
    if ethertype == "IPv6" and rule.get("protocol") in IPV6_ICMP_LEGACY:     # _split_sgr_by_ethertype
        rule = {**rule, "protocol": "ipv6-icmp"}
    remote = _of_family(members.get(group, []), ethertype) if group else []
    if group and ipset:
        if not remote:
            return []
        return [" ".join([*_protocol_and_port_args(rule), "-m set", "--match-set", ipset_name(group, ethertype),
                          "src" if rule["direction"] == "ingress" else "dst", "-j RETURN"])]
    expanded = [rule]
    if group:
        key = "source_ip_prefix" if rule["direction"] == "ingress" else "dest_ip_prefix"
        expanded = [{**rule, key: f"{ip}/{ipaddress.ip_address(ip).max_prefixlen}"} for ip in remote
                    if ip not in port_ips]
    return [plain_rule_args(r) for r in expanded]


def _spoof_calls(s: str, mac: str, ips: list[str], ethertype: str) -> list[Call]:
    """_spoofing_rule's IP/MAC pairs chain of one family (_setup_spoof_filter_chain): the port's
    addresses of the family (an IPv6 one followed by the MAC's link-local address, once), or the
    MAC alone when the port has no address at all; no chain when the family has no pair."""
    pairs: list[str | None] = []
    for ip in _of_family(ips, ethertype):
        pairs.append(ip)
        if ethertype == "IPv6" and link_local(mac) not in pairs:
            pairs.append(link_local(mac))
    if not ips:
        pairs.append(None)
    if not pairs:
        return []
    calls = [Call("filter", s, f"-m mac --mac-source {mac.upper()} -j RETURN" if ip is None else
                  f"-s {ip}/{ipaddress.ip_address(ip).max_prefixlen} -m mac --mac-source {mac.upper()} -j RETURN",
                  comment=PAIR_ALLOW) for ip in pairs]
    return calls + [Call("filter", s, "-j DROP", comment=PAIR_DROP)]


def _egress_fixed(s: str, spoof: bool, ethertype: str) -> list[str]:
    """_add_fixed_egress_rules of one family: traffic from the unspecified address (DHCP
    discovery; IPv6 DAD's NS and MLD reports), the jump to the pairs chain, DHCP renewal (IPv6:
    no RA from a VM, any other ICMPv6, DHCPv6 client), no DHCP server in a VM."""
    jump = [f"\0-j ${s}"] if spoof else []
    if ethertype == "IPv4":
        return [f"{DHCP_CLIENT}\0-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN",
                *jump, f"{DHCP_CLIENT}\0-p udp -m udp --sport 68 --dport 67 -j RETURN",
                f"{DHCP_SPOOF}\0-p udp -m udp --sport 67 --dport 68 -j DROP"]
    return [*(f"{IPV6_ICMP_ALLOW}\0-s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 --icmpv6-type {t} -j RETURN"
              for t in ICMPV6_ALLOWED_UNSPEC_ADDR_TYPES),
            *jump, f"{IPV6_RA_DROP}\0-p ipv6-icmp -m icmp6 --icmpv6-type {ICMPV6_TYPE_RA} -j DROP",
            f"{IPV6_ICMP_ALLOW}\0-p ipv6-icmp -j RETURN",
            f"{DHCP_CLIENT}\0-p udp -m udp --sport 546 --dport 547 -j RETURN",
            f"{DHCP_SPOOF}\0-p udp -m udp --sport 547 --dport 546 -j DROP"]


def port_calls(device: str, mac: str, ips: list[str], bridge: str, zone: int, rules: list[dict[str, Any]],
               members: dict[str, list[str]] | None = None, ipset: bool = False,
               port_name: str | None = None, ethertype: str = "IPv4") -> list[Call]:
    """prepare_port_filter of one port, one family: what _setup_chains_apply adds for it to
    `iptables` (`ethertype` IPv4) or to `ip6tables` (IPv6: the same zone, NAT and jump rules;
    ICMPv6 MLD query/NS/NA let in; DAD, no RA, DHCPv6 out; the port's IPv6 rules). `ips` are the
    port's fixed IPs of both families. `bridge` is _get_br_device_name (`brq<network>` for
    linuxbridge, the port's `qvb<id>` for the OVS hybrid driver), `port_name` the agent's device
    name where it is no `tap` name (the OVS agent's device is the port id, which the zone
    comment shows whole)."""
    members = members or {}
    i, o, s = port_chain("i", device), port_chain("o", device), port_chain("s", device)
    short = port_name or (device[4:] if device.startswith("tap") else device)     # _get_port_device_name
    calls = [Call("raw", "PREROUTING", f'{match} -m comment --comment "Set zone for {short}" -j CT --zone {zone}')
             for match in (f"-m physdev --physdev-in {bridge}", f"-i {bridge}", f"-m physdev --physdev-in {device}")]
    calls += [Call("nat", "PREROUTING", f"-m physdev --{way} {device} -j ACCEPT", comment=TRUSTED_ACCEPT)
              for way in ("physdev-out", "physdev-in")]
    for chain, way, sg in ((i, "physdev-out", "ingress"), (o, "physdev-in", "egress")):
        calls += [Call("filter", "FORWARD", f"-m physdev --{way} {device} --physdev-is-bridged -j ${SG_CHAIN}",
                       top=True, comment=VM_INT_SG),
                  Call("filter", SG_CHAIN, f"-m physdev --{way} {device} --physdev-is-bridged -j ${chain}",
                       comment=SG_TO_VM_SG)]
        body = _sg_rules(rules, sg, ips, members, ipset, ethertype)
        if sg == "ingress" and ethertype == "IPv6":
            body = [f"\0-p ipv6-icmp -m icmp6 --icmpv6-type {t} -j RETURN" for t in ICMPV6_ALLOWED_INGRESS_TYPES] + body
        if sg == "egress":
            calls.append(Call("filter", "INPUT", f"-m physdev --physdev-in {device} --physdev-is-bridged -j ${o}",
                              comment=INPUT_TO_SG))
            spoof = _spoof_calls(s, mac, ips, ethertype)
            calls += spoof
            body = [*_egress_fixed(s, bool(spoof), ethertype), *body]
        for entry in body:
            comment, _, text = entry.partition("\0")
            calls.append(Call("filter", chain, text, comment=comment or None))
    return calls


def trusted_calls(device: str) -> list[Call]:
    """process_trusted_ports: a network-owned port (a router's or DHCP server's tap) is let
    through FORWARD, and short-circuits NAT."""
    return [*(Call("filter", "FORWARD", f"-m physdev --{way} {device} --physdev-is-bridged -j ACCEPT",
                   comment=TRUSTED_ACCEPT) for way in ("physdev-out", "physdev-in")),
            *(Call("nat", "PREROUTING", f"-m physdev --{way} {device} -j ACCEPT", comment=TRUSTED_ACCEPT)
              for way in ("physdev-out", "physdev-in"))]


def trailer_calls() -> list[Call]:
    """What every host's firewall has around the ports: the fallback drop and sg-chain's ACCEPT."""
    return [Call("filter", FALLBACK, "-j DROP", comment=UNMATCH_DROP), Call("filter", SG_CHAIN, "-j ACCEPT")]


BUILTIN = {"filter": ("INPUT", "OUTPUT", "FORWARD"), "raw": ("PREROUTING", "OUTPUT"), "nat": ("PREROUTING",)}


def _wrapped(name: str, wrap: str = WRAP) -> str:
    return f"{wrap}-{name[:11]}" if name not in ("neutron-filter-top",) else name


def render(calls: list[Call], comments: bool = True, wrap: str = WRAP, command: str = "iptables") -> list[str]:
    """The `iptables` lines that build IptablesManager's tables: wrapped built-in chains with
    their jumps (neutron-filter-top first in FORWARD and OUTPUT), then each chain's rules,
    top ones first. `wrap` is the agent's binary name cut to 16 characters: `neutron-linuxbri`
    (the linuxbridge agent), `neutron-openvswi` (the OVS agent's hybrid firewall); `command`
    `iptables` or `ip6tables` (IptablesManager's ipv4 and ipv6 tables)."""
    out: list[str] = []
    for table in ("raw", "nat", "filter"):
        chains: dict[str, tuple[list[str], list[str]]] = {}
        for c in BUILTIN[table]:
            chains[c] = ([], [])
        if table == "filter":
            chains["local"] = ([], [])
        for call in calls:
            if call.table != table:
                continue
            text = call.rule
            if comments and call.comment:
                comment = f'-m comment --comment "{call.comment}"'
                text = f"{comment} {text}" if text.startswith("-j") else \
                    text.replace(" -j ", f" {comment} -j ", 1) if " -j " in text else f"{text} {comment}"
            words = [_wrapped(w[1:], wrap) if w.startswith("$") else w for w in text.split(" ")]
            top, bottom = chains.setdefault(call.chain, ([], []))
            (top if call.top else bottom).append(" ".join(words))
        pre = f"{command} -t {table} " if table != "filter" else f"{command} "
        if table == "filter":
            out.append(f"{pre}-N neutron-filter-top")
        out += [f"{pre}-N {_wrapped(c, wrap)}" for c in chains]
        for c in BUILTIN[table]:
            if table == "filter" and c in ("FORWARD", "OUTPUT"):
                out.append(f"{pre}-A {c} -j neutron-filter-top")
            out.append(f"{pre}-A {c} -j {_wrapped(c, wrap)}")
        if table == "filter":
            out.append(f"{pre}-A neutron-filter-top -j {_wrapped('local', wrap)}")
        for c, (top, bottom) in chains.items():
            out += [f"{pre}-A {_wrapped(c, wrap)} {r}" for r in top + bottom]
    return out
