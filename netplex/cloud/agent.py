"""The linuxbridge agent and its iptables firewall: the controller's state compiled into
the shell lines that give each compute host the Linux configuration Neutron writes.

Per network with a port on the host: a bridge `brq<network-id[:11]>` with a VXLAN device
`vxlan-<VNI>` (neutron/plugins/ml2/drivers/linuxbridge/agent/linuxbridge_neutron_agent.py
get_bridge_name/get_vxlan_device_name) and, as the l2population driver writes them, one
all-zeros FDB entry per other host with ports on the network; a VLAN network's bridge holds
`<interface>.<VLAN>` of the physical network's interface, a flat network's the interface. Per port: a veth whose host
end is `tap<port-id[:11]>` on the bridge and whose other end is the VM's eth0, in a
namespace named after the server. The firewall is IptablesFirewallDriver's (netplex.cloud.firewall):
`neutron-linuxbri-{i,o,s}<port-id[:10]>` chains reached through `neutron-linuxbri-sg-chain`
by physdev matches, anti-spoofing by IP/MAC pair, unmatched traffic to
`neutron-linuxbri-sg-fallback`, conntrack zones in raw, the NAT short-circuit; with
net.bridge.bridge-nf-call-iptables=1 so bridged frames traverse it (br_netfilter).

The DHCP agent: per network with DHCP a namespace `qdhcp-<network-id>` on its host with
`ns-<port-id[:11]>` and dnsmasq serving the network's ports from a hosts file (static
ranges); a VM on a DHCP subnet boots with `dhclient` on its NIC, after every host's
agents are done.

The L3 agent (neutron/agent/l3/router_info.py, legacy routers): per router on its host a
namespace `qrouter-<router-id>` with ip_forward on, a veth per router port whose host end
`tap<port-id[:11]>` is on the network's bridge and whose other end is `qr-<port-id[:11]>`
(an interface on a tenant subnet, holding the subnet's gateway address) or
`qg-<port-id[:11]>` (the external gateway, holding the gateway address, the floating IPs
as /32s and the default route to the external subnet's gateway) (BridgeInterfaceDriver).
Its iptables are IptablesManager's layout with the wrap name `neutron-l3-agent`:
the wrapped built-in chains, `neutron-filter-top`, `neutron-postrouting-bottom` jumping to
`neutron-l3-agent-snat`, the `float-snat` chain first in `snat`, SNAT of what leaves by
the gateway, the DNAT/SNAT pair of every floating IP, the external-ingress mark 0x2/0xffff
and the default address scope's mark 0x4000000/0xffff0000 with its CONNMARK save/restore.
SNAT rules carry `--random-fully` (use_random_fully = True with iptables >= 1.6.2).
Each address the router puts on a port (a `qr-` gateway address, the `qg-` gateway address
and each floating IP) is announced by gratuitous ARP (`arping -U`/`-A`, ip_lib's
send_ip_addr_adv_notif), so an upstream's neighbour cache follows a floating IP to this router.
"""
from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Callable
from typing import Any

from netplex.cloud.controller import Controller, DscpMarkingRule, Port, Router, Rule
from netplex.cloud.firewall import (
    HYBRID_WRAP,
    WRAP,
    ZONE_START,
    Call,
    ipset_name,
    port_calls,
    render,
    trailer_calls,
    trusted_calls,
)
from netplex.cloud.metadata import METADATA_IP, METADATA_PORT, data_path, instances_json

__all__ = ["VXLAN_PORT", "group_members", "host_lines", "rule_dict"]

VXLAN_PORT = 8472    # the kernel's default VXLAN port, which the linuxbridge agent keeps
L3 = "neutron-l3-agent"
LB = "neutron-linuxbri"                   # the linuxbridge agent's IptablesManager wrap name
MAX_CHAIN_LEN_WRAP = 11                   # iptables_manager: a wrapped chain's own part
EXT_MARK = "0x2/0xffff"                 # external_ingress_mark / ROUTER_MARK_MASK
METADATA_MARK = "0x1/0xffff"             # metadata_access_mark / ROUTER_MARK_MASK
SCOPE_MARK = "0x4000000/0xffff0000"     # the default address scope: mark id 1024 << 16
CONNMARK_MASKS = "--nfmask 0xffff0000 --ctmask 0xffff0000"


def rule_dict(rule: Rule) -> dict[str, Any]:
    """The rule as the server hands it to the agent (security_group_info_for_ports)."""
    d: dict[str, Any] = {"direction": rule.direction, "ethertype": rule.ethertype, "protocol": rule.protocol,
                         "port_range_min": rule.port_min, "port_range_max": rule.port_max,
                         "remote_group_id": rule.remote_group_id}
    if rule.remote_ip_prefix is not None:
        d["source_ip_prefix" if rule.direction == "ingress" else "dest_ip_prefix"] = rule.remote_ip_prefix
    return d


def group_members(ctl: Controller) -> dict[str, list[str]]:
    """Each security group's members' addresses, in address order (the remote groups' ipsets)."""
    members: dict[str, list[str]] = {}
    for p in ctl.ports.values():
        for g in p.security_groups:
            members.setdefault(g, []).append(str(p.ip))
    for ips in members.values():
        ips.sort(key=lambda a: tuple(int(x) for x in a.split(".")))
    return members


def _firewall(ports: list[Port], trusted: list[Port], ctl: Controller, hybrid: bool = False) -> list[str]:
    """IptablesFirewallDriver for the host (netplex.cloud.firewall): the network-owned ports
    trusted, then per VM port the provider rules (DHCP replies to its address and to
    broadcast, _add_ingress_dhcp_rule) and its groups' rules, remote groups as ipsets
    (created first, as IpsetManager.set_members does); one conntrack zone per network.
    `hybrid`: OVSHybridIptablesFirewallDriver (the OVS agent's iptables_hybrid): the wrap
    name `neutron-openvswi`, the port's `qvb<id>` as its bridge device, a zone per port.
    Every port gets both halves, as IptablesManager keeps ipv4 and ipv6 tables: `iptables`
    and `ip6tables` (its ICMPv6/DHCPv6 rules and IPv6 group rules; no IPv6 data path here)."""
    members = group_members(ctl)
    zones: dict[str, int] = {}
    calls: list[Call] = [c for p in trusted for c in trusted_calls(p.tap)]
    calls6 = list(calls)
    remote: dict[tuple[str, str], None] = {}
    for p in ports:
        zone = zones.setdefault(p.id if hybrid else p.network_id, ZONE_START + len(zones))
        dhcp = [{"direction": "ingress", "ethertype": "IPv4", "protocol": "udp", "port_range_min": 68,
                 "port_range_max": 68, "source_port_range_min": 67, "source_port_range_max": 67,
                 "dest_ip_prefix": dest} for dest in (f"{p.ip}/32", "255.255.255.255/32")]
        rules = dhcp + [rule_dict(r) for g in p.security_groups for r in ctl.groups[g].rules]
        remote.update(((r["remote_group_id"], r["ethertype"]), None) for r in rules if r.get("remote_group_id"))
        bridge = p.device("qvb") if hybrid else f"brq{p.network_id[:11]}"
        for family, out in (("IPv4", calls), ("IPv6", calls6)):     # IptablesManager's ipv4 and ipv6 tables
            out += port_calls(p.tap, p.mac, [str(p.ip)], bridge, zone, rules, members, ipset=True,
                              port_name=p.id if hybrid else None, ethertype=family)
    sets = []
    for g, family in remote:      # IpsetManager: a set per group and ethertype with members of that family
        ips = [ip for ip in members.get(g, []) if ipaddress.ip_address(ip).version == (6 if family == "IPv6" else 4)]
        if ips:
            name = ipset_name(g, family)
            sets.append(f"ipset create -exist {name} hash:net family {'inet6' if family == 'IPv6' else 'inet'}")
            sets += [f"ipset add -exist {name} {ip}/{ipaddress.ip_address(ip).max_prefixlen}" for ip in ips]
    wrap = HYBRID_WRAP if hybrid else WRAP
    return sets + render(calls + trailer_calls(), wrap=wrap) + render(calls6 + trailer_calls(), wrap=wrap, command="ip6tables")


DEFAULT_BURST_RATE = 0.8      # qos_consts: a burst of 80 % of a second's worth at the rate
KERNEL_HZ = 250
TBF_LATENCY_MS = 50           # [QOS] tbf_latency


def _qos_lines(ctl: Controller, p: Port) -> list[str]:
    """The linuxbridge agent's QoS driver (tc_lib.TcCommand) on the VM's tap: a bandwidth limit
    on what the VM sends is policed as it enters the tap (ingress qdisc, a match-all u32 filter
    at prio 49 with police ... mtu 65535 drop), one on what it receives shapes the tap's root
    (tbf, latency 50 ms); the burst is max_burst_kbps, else 80 % of max_kbps."""
    policy = ctl.port_qos(p)
    out: list[str] = []
    for r in policy.rules if policy is not None else []:
        if isinstance(r, DscpMarkingRule):
            continue
        burst_kbit = r.max_burst_kbps or int(r.max_kbps * DEFAULT_BURST_RATE)
        if r.direction == "egress":
            out += [f"tc qdisc add dev {p.tap} ingress",
                    f"tc filter add dev {p.tap} parent ffff: protocol all prio 49 u32 match u32 0 0 police rate "
                    f"{r.max_kbps}kbit burst {burst_kbit * 1000 // 8}b mtu 65535 drop flowid :1"]
        else:
            burst_kbit = max(burst_kbit, r.max_kbps // KERNEL_HZ)
            out.append(f"tc qdisc replace dev {p.tap} root tbf rate {r.max_kbps}kbit latency {TBF_LATENCY_MS}ms "
                       f"burst {burst_kbit * 1000 // 8}b")
    return out


def _dscp_lines(ctl: Controller, ports: list[Port]) -> list[str]:
    """The QoS driver's DSCP marking (linuxbridge qos_driver.py, through the agent's
    IptablesManager): per marked port a chain `neutron-linuxbri-qos-o<tap[3:]>` (cut to the
    wrapped chain's 11 characters) in mangle, entered from POSTROUTING for what the VM's tap
    sends (`--physdev-in`), setting the rule's DSCP (`--set-dscp 0x1a`)."""
    marks = []
    for p in ports:
        policy = ctl.port_qos(p)
        rule = next((r for r in policy.rules if isinstance(r, DscpMarkingRule)), None) if policy else None
        if rule is not None:
            marks.append((p, f"{LB}-{f'qos-o{p.tap[3:]}'[:MAX_CHAIN_LEN_WRAP]}", rule.dscp_mark))
    if not marks:
        return []
    out = [f"iptables -t mangle -N {LB}-POSTROUTING", f"iptables -t mangle -A POSTROUTING -j {LB}-POSTROUTING"]
    out += [f"iptables -t mangle -N {chain}" for _, chain, _ in marks]
    out += [f"iptables -t mangle -A {LB}-POSTROUTING -m physdev --physdev-in {p.tap} --physdev-is-bridged "
            f"-j {chain}" for p, chain, _ in marks]
    return out + [f"iptables -t mangle -A {chain} -j DSCP --set-dscp {mark:#04x}" for _, chain, mark in marks]


# an interface driver's plug: (port, namespace, device in it, prefix length or None) -> lines
Plug = Callable[[Port, str, str, "int | None"], list[str]]


def _veth(p: Port, ns: str, dev: str, prefixlen: int | None) -> list[str]:
    """BridgeInterfaceDriver.plug: tap<id> on the network's bridge, `dev` in the namespace
    (with the port's address unless None: a VM that asks DHCP for it)."""
    addr = [f"ip -n {ns} addr add {p.ip}/{prefixlen} dev {dev}"] if prefixlen is not None else []
    return [f"ip link add {p.tap} type veth peer name {dev} netns {ns}",
            f"ip link set {p.tap} master brq{p.network_id[:11]}", f"ip link set {p.tap} up",
            f"ip -n {ns} link set {dev} address {p.mac}", *addr, f"ip -n {ns} link set {dev} up"]


DHCP_DIR = "/var/lib/neutron/dhcp"
DNS_DOMAIN = "openstacklocal"
LEASE = 86400             # dhcp_lease_duration


def _quoted(lines: list[str]) -> str:
    return " ".join("'" + ln + "'" for ln in lines)


def _dhcp_lines(ctl: Controller, port: Port, plug: Plug = _veth, prefix: str = "ns-") -> list[str]:
    """The DHCP agent's qdhcp-<network> namespace and its dnsmasq (neutron/agent/linux/dhcp.py
    Dnsmasq: the hosts file `MAC,host-A-B-C-D.openstacklocal,IP` of every port on the network,
    the options file per subnet, the command line of _build_cmdline_callback plus --port=0)."""
    net = ctl.networks[port.network_id]
    ns, conf = f"qdhcp-{net.id}", f"{DHCP_DIR}/{net.id}"
    subs = [ctl.subnets[s] for s in net.subnets if ctl.subnets[s].enable_dhcp]
    hosts = [f"{p.mac},host-{str(p.ip).replace('.', '-')}.{DNS_DOMAIN},{p.ip}" for p in ctl.ports.values()
             if p.network_id == net.id and p.host and ctl.subnets[p.subnet_id].enable_dhcp]
    opts = []
    for sub in subs:
        tag = f"tag:subnet-{sub.id}"
        routed = sub.gateway_ip is not None and any(
            ctl.ports[pid].subnet_id == sub.id for r in ctl.routers.values() for pid in r.interfaces)
        if routed:   # not isolated: the metadata route via the router, then the default route
            routes = f"169.254.169.254/32,{sub.gateway_ip},0.0.0.0/0,{sub.gateway_ip}"
            opts += [f"{tag},option:classless-static-route,{routes}", f"{tag},249,{routes}"]
        opts.append(f"{tag},option:router,{sub.gateway_ip}" if sub.gateway_ip is not None else f"{tag},option:router")
    mtu = 1450 if net.network_type == "vxlan" else 1500
    ranges = [f"--dhcp-range=set:subnet-{sub.id},{sub.cidr.network_address},static,{sub.cidr.netmask},{LEASE}s"
              for sub in subs]
    cmd = ["dnsmasq", "--no-hosts", "--no-resolv", f"--pid-file={conf}/pid", f"--dhcp-hostsfile={conf}/host",
           f"--addn-hosts={conf}/addn_hosts", f"--dhcp-optsfile={conf}/opts", f"--dhcp-leasefile={conf}/leases",
           "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE", "--local-service", "--bind-dynamic",
           *ranges, f"--dhcp-option-force=option:mtu,{mtu}",
           f"--dhcp-lease-max={min(sum(s.cidr.num_addresses for s in subs), 16777216)}",
           "--conf-file=/dev/null", f"--domain={DNS_DOMAIN}", "--port=0"]
    return [f"mkdir -p {conf}", f"printf '%s\\n' {_quoted(hosts)} > {conf}/host",
            f"printf '%s\\n' {_quoted(opts)} > {conf}/opts", f"printf '' > {conf}/addn_hosts",
            f"printf '' > {conf}/leases",
            f"ip netns add {ns}", f"ip -n {ns} link set lo up",
            *plug(port, ns, port.device(prefix), ctl.subnets[port.subnet_id].cidr.prefixlen),
            f"ip netns exec {ns} {' '.join(cmd)}"]


def l3_rules(ctl: Controller, r: Router) -> list[tuple[str, str]]:
    """The router namespace's IPv4 iptables as (table, `-N`/`-A` argument) in IptablesManager's order."""
    rules: list[tuple[str, str]] = []
    builtin = {"filter": ("INPUT", "OUTPUT", "FORWARD"), "raw": ("PREROUTING", "OUTPUT"),
               "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
               "nat": ("PREROUTING", "OUTPUT", "POSTROUTING")}
    extra = {"filter": ("local", "scope"), "raw": (), "mangle": ("mark", "scope", "floatingip", "float-snat"),
             "nat": ("snat", "float-snat")}
    for table in ("raw", "filter", "mangle", "nat"):
        if table == "filter":
            rules.append(("filter", "-N neutron-filter-top"))
        if table == "nat":
            rules.append(("nat", "-N neutron-postrouting-bottom"))
        rules += [(table, f"-N {L3}-{c}") for c in (*builtin[table], *extra[table])]
        for c in builtin[table]:
            if table == "filter" and c in ("FORWARD", "OUTPUT"):
                rules.append((table, f"-A {c} -j neutron-filter-top"))
            rules.append((table, f"-A {c} -j {L3}-{c}"))
        if table == "nat":
            rules.append(("nat", "-A POSTROUTING -j neutron-postrouting-bottom"))
    gw = ctl.ports[r.gateway_port] if r.gateway_port is not None else None
    qg = gw.device("qg-") if gw is not None else None
    devices = [ctl.ports[pid].device("qr-") for pid in r.interfaces] + ([qg] if qg is not None else [])
    fips = [(f.address, ctl.ports[f.fixed_port_id].ip) for f in ctl.floating_ips.values()
            if f.router_id == r.id and f.fixed_port_id is not None]
    random_fully = " --random-fully"
    rules += [("filter", f"-A neutron-filter-top -j {L3}-local"), ("filter", f"-A {L3}-FORWARD -j {L3}-scope"),
              ("nat", f'-A neutron-postrouting-bottom -m comment --comment "Perform source NAT on outgoing traffic." '
                      f"-j {L3}-snat"),
              ("nat", f"-A {L3}-snat -j {L3}-float-snat"),
              # address scopes (initialize_address_scope_iptables)
              ("mangle", f"-A {L3}-PREROUTING -j {L3}-mark"),
              ("mangle", f"-A {L3}-PREROUTING -j {L3}-scope"),
              ("mangle", f"-A {L3}-PREROUTING -m connmark ! --mark 0x0/0xffff0000 -j CONNMARK --restore-mark "
                         f"{CONNMARK_MASKS}"),
              ("mangle", f"-A {L3}-PREROUTING -j {L3}-floatingip"),
              ("mangle", f"-A {L3}-float-snat -m connmark --mark 0x0/0xffff0000 -j CONNMARK --save-mark "
                         f"{CONNMARK_MASKS}")]
    for dev in devices:   # process_ports_address_scope_iptables
        rules.append(("mangle", f"-A {L3}-scope -i {dev} -j MARK --set-xmark {SCOPE_MARK}"))
        if not (dev == qg and r.enable_snat):
            rules.append(("filter", f"-A {L3}-scope -o {dev} -m mark ! --mark {SCOPE_MARK} -j DROP"))
    if gw is not None and qg is not None:   # _handle_router_snat_rules
        if r.enable_snat:
            rules.append(("mangle", f"-A {L3}-POSTROUTING -o {qg} -m connmark --mark 0x0/0xffff0000 "
                                    f"-j CONNMARK --save-mark {CONNMARK_MASKS}"))
            rules.append(("nat", f"-A {L3}-snat -o {qg} -j SNAT --to-source {gw.ip}{random_fully}"))
        rules += [("nat", f"-A {L3}-POSTROUTING ! -o {qg} -m conntrack ! --ctstate DNAT -j ACCEPT"),
                  ("nat", f"-A {L3}-snat -m mark ! --mark {EXT_MARK} -m conntrack --ctstate DNAT "
                          f"-j SNAT --to-source {gw.ip}{random_fully}"),
                  ("mangle", f"-A {L3}-mark -i {qg} -j MARK --set-xmark {EXT_MARK}")]
        for fip, fixed in fips:   # floating_forward_rules
            rules += [("nat", f"-A {L3}-PREROUTING -d {fip}/32 -j DNAT --to-destination {fixed}"),
                      ("nat", f"-A {L3}-OUTPUT -d {fip}/32 -j DNAT --to-destination {fixed}"),
                      ("nat", f"-A {L3}-float-snat -s {fixed}/32 -j SNAT --to-source {fip}{random_fully}")]
    # the metadata service (RouterInfo.initialize_metadata_iptables, then MetadataDriver's
    # metadata_filter_rules and metadata_nat_rules when the router is added): requests from the
    # tenant ports to 169.254.169.254:80 are marked and redirected to the proxy's port
    to_metadata = f"-d {METADATA_IP}/32 -i qr-+ -p tcp -m tcp --dport 80"
    rules += [("mangle", f"-A {L3}-PREROUTING {to_metadata} -j MARK --set-xmark {METADATA_MARK}"),
              ("filter", f"-A {L3}-INPUT -m mark --mark {METADATA_MARK} -j ACCEPT"),
              ("filter", f"-A {L3}-INPUT -p tcp -m tcp --dport {METADATA_PORT} -j DROP"),
              ("nat", f"-A {L3}-PREROUTING {to_metadata} -j REDIRECT --to-ports {METADATA_PORT}")]
    return rules


GARP_COUNT = 3   # ip_lib.send_ip_addr_adv_notif(count=3)


def _garp_lines(ns: str, dev: str, address: str) -> list[str]:
    """ip_lib.send_ip_addr_adv_notif / _arping: gratuitous ARP for an address the router put on
    `dev` (its ports' addresses, the gateway's, each floating IP's), so the neighbours' caches
    move to this router's MAC at once: GARP_COUNT rounds of a gratuitous request and a
    gratuitous reply (`arping -U`, `arping -A`, one packet each, `-w 2`). Neutron runs them in a
    thread with 2 s between rounds; here they run in order with the agent's other lines."""
    return [f"ip netns exec {ns} arping {mode} -I {dev} -c 1 -w 2 {address}"
            for _ in range(GARP_COUNT) for mode in ("-U", "-A")]


def _router_lines(ctl: Controller, r: Router, plug: Plug = _veth) -> list[str]:
    ns = r.namespace
    out = [f"ip netns add {ns}", f"ip -n {ns} link set lo up", f"ip netns exec {ns} sysctl -q -w net.ipv4.ip_forward=1"]
    for pid in r.interfaces:
        p = ctl.ports[pid]
        out += plug(p, ns, p.device("qr-"), ctl.subnets[p.subnet_id].cidr.prefixlen)
    if r.gateway_port is not None:
        gw = ctl.ports[r.gateway_port]
        sub, qg = ctl.subnets[gw.subnet_id], gw.device("qg-")
        out += plug(gw, ns, qg, sub.cidr.prefixlen)
        out += [f"ip -n {ns} addr add {f.address}/32 dev {qg}" for f in ctl.floating_ips.values()
                if f.router_id == r.id and f.fixed_port_id is not None]
        if sub.gateway_ip is not None:
            out.append(f"ip -n {ns} route add default via {sub.gateway_ip} dev {qg}")
    out += [f"ip netns exec {ns} iptables -t {table} {rule}" for table, rule in l3_rules(ctl, r)]
    for pid in r.interfaces:
        out += _garp_lines(ns, ctl.ports[pid].device("qr-"), str(ctl.ports[pid].ip))
    if r.gateway_port is not None:
        gw = ctl.ports[r.gateway_port]
        for address in [gw.ip] + [f.address for f in ctl.floating_ips.values()
                                  if f.router_id == r.id and f.fixed_port_id is not None]:
            out += _garp_lines(ns, gw.device("qg-"), str(address))
    # the metadata proxy (MetadataDriver: spawned after the router's rules), answering from
    # what Nova knows of the instances behind the router
    data = data_path(r.id)
    return out + [f"mkdir -p {data.rsplit('/', 1)[0]} /var/lib/neutron/external/pids && printf '%s\\n' "
                  f"{shlex.quote(instances_json(ctl, r))} > {data}",
                  f"ip netns exec {ns} neutron-ns-metadata-proxy --pid_file=/var/lib/neutron/external/pids/{r.id}.pid "
                  f"--router_id={r.id} --state_path=/var/lib/neutron --metadata_port={METADATA_PORT}"]


def host_lines(ctl: Controller, host: str, local_ips: dict[str, str]) -> tuple[list[str], list[str]]:
    """The shell lines that give `host` what the agents write for the controller's state, and
    the lines its VMs run as they boot (dhclient on the NICs whose subnet has DHCP)."""
    ports = [p for p in ctl.ports.values() if p.host == host]
    if not ports:
        return [], []
    out = ["sysctl -q -w net.bridge.bridge-nf-call-iptables=1"]
    for net_id in dict.fromkeys(p.network_id for p in ports):
        net = ctl.networks[net_id]
        br = f"brq{net.id[:11]}"
        out.append(f"ip link add {br} type bridge")
        if net.physical_network is not None:   # vlan: a sub-interface of the mapped one; flat: the interface
            phys = ctl.mappings[host][net.physical_network]
            dev = phys if net.network_type == "flat" else f"{phys}.{net.segmentation_id}"
            if net.network_type == "vlan":
                out.append(f"ip link add link {phys} name {dev} type vlan id {net.segmentation_id}")
            out += [f"ip link set {dev} master {br}", f"ip link set {dev} up", f"ip link set {br} up"]
            continue
        vx = f"vxlan-{net.segmentation_id}"
        out += [f"ip link add {vx} type vxlan id {net.segmentation_id} local {local_ips[host]} dstport {VXLAN_PORT} nolearning",
                f"ip link set {vx} master {br}", f"ip link set {vx} up", f"ip link set {br} up"]
        remote = [p for p in ctl.ports.values() if p.network_id == net.id and p.host not in ("", host)]
        out += [f"bridge fdb append 00:00:00:00:00:00 dev {vx} dst {local_ips[h]}" for h in dict.fromkeys(p.host for p in remote)]
        out += [f"bridge fdb append {p.mac} dev {vx} dst {local_ips[p.host]}" for p in remote]
    vms = [p for p in ports if p.device_owner.startswith("compute:")]
    vm_out, boot = _vm_lines(ctl, vms, _veth)
    out += vm_out
    for p in vms:
        out += _qos_lines(ctl, p)
    out += _dscp_lines(ctl, vms)
    for r in ctl.routers.values():
        if r.host == host:
            out += _router_lines(ctl, r)
    for p in ports:
        if p.device_owner == "network:dhcp":
            out += _dhcp_lines(ctl, p)
    trusted = [p for p in ports if p.device_owner.startswith("network:")]
    return out + _firewall(vms, trusted, ctl), boot


def _vm_lines(ctl: Controller, vms: list[Port], plug: Plug) -> tuple[list[str], list[str]]:
    """Each server's namespace and NICs (plugged by `plug`), and the lines it boots with:
    dhclient on a NIC whose subnet has DHCP, else the address and default route set as
    config-drive would."""
    out: list[str] = []
    for server in dict.fromkeys(ctl.servers[p.device_id].name for p in vms):
        out += [f"ip netns add {server}", f"ip -n {server} link set lo up"]
    boot = []
    for p in vms:
        server = ctl.servers[p.device_id]
        nic = f"eth{server.ports.index(p.id)}"
        sub = ctl.subnets[p.subnet_id]
        if sub.enable_dhcp and ctl.dhcp_port(p.network_id) is not None:
            out += plug(p, server.name, nic, None)
            run = f"/run/dhclient-{server.name}-{nic}"
            boot.append(f"ip netns exec {server.name} dhclient -lf {run}.leases -pf {run}.pid {nic}")
            continue
        out += plug(p, server.name, nic, sub.cidr.prefixlen)   # no DHCP: configured as config-drive would
        if sub.gateway_ip is not None and nic == "eth0":
            out.append(f"ip -n {server.name} route add default via {sub.gateway_ip}")
    return out, boot
