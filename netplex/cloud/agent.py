"""The linuxbridge agent and its iptables firewall: the controller's state compiled into
the shell lines that give each compute host the Linux configuration Neutron writes.

Per network with a port on the host: a bridge `brq<network-id[:11]>` with a VXLAN device
`vxlan-<VNI>` (neutron/plugins/ml2/drivers/linuxbridge/agent/linuxbridge_neutron_agent.py
get_bridge_name/get_vxlan_device_name) and, as the l2population driver writes them, one
all-zeros FDB entry per other host with ports on the network; a VLAN network's bridge holds
`<interface>.<VLAN>` of the physical network's interface, a flat network's the interface. Per port: a veth whose host
end is `tap<port-id[:11]>` on the bridge and whose other end is the VM's eth0, in a
namespace named after the server. The firewall is IptablesFirewallDriver's layout
(neutron/agent/linux/iptables_firewall.py): `neutron-linuxbri-{i,o,s}<port-id[:10]>`
chains reached through `neutron-linuxbri-sg-chain` by physdev matches, anti-spoofing by
IP/MAC pair, unmatched traffic to `neutron-linuxbri-sg-fallback`; with
net.bridge.bridge-nf-call-iptables=1 so bridged frames traverse it (br_netfilter).
Remote-group rules are expanded to the members' addresses (enable_ipset = False).

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
"""
from __future__ import annotations

from netplex.cloud.controller import Controller, Port, Router, Rule

__all__ = ["VXLAN_PORT", "host_lines"]

VXLAN_PORT = 8472    # the kernel's default VXLAN port, which the linuxbridge agent keeps
WRAP = "neutron-linuxbri"
L3 = "neutron-l3-agent"
EXT_MARK = "0x2/0xffff"                 # external_ingress_mark / ROUTER_MARK_MASK
SCOPE_MARK = "0x4000000/0xffff0000"     # the default address scope: mark id 1024 << 16
CONNMARK_MASKS = "--nfmask 0xffff0000 --ctmask 0xffff0000"
KNOWN = "Direct packets associated with a known session to the RETURN chain."
INVALID = ("Drop packets that appear related to an existing connection (e.g. TCP ACK/FIN) "
           "but do not have an entry in conntrack.")
FALLBACK = "Send unmatched traffic to the fallback chain."


def _chain(direction: str, port: Port) -> str:
    """iptables_manager.get_chain_name: the wrapped name is cut to 28 characters."""
    return f"{WRAP}-{direction}{port.tap[3:]}"[:28]


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"'


def _rule_lines(rule: Rule, ctl: Controller) -> list[str]:
    """One security group rule as the RETURN rules of a port chain (one per remote member)."""
    match = []
    if rule.protocol is not None:
        match.append(f"-p {rule.protocol}")
        if rule.protocol in ("tcp", "udp") and rule.port_min is not None:
            ports = str(rule.port_min) if rule.port_min == rule.port_max else f"{rule.port_min}:{rule.port_max}"
            match.append(f"-m {rule.protocol} --dport {ports}")
        elif rule.protocol == "icmp" and rule.port_min is not None:
            code = f"/{rule.port_max}" if rule.port_max is not None else ""
            match.append(f"-m icmp --icmp-type {rule.port_min}{code}")
    side = "-s" if rule.direction == "ingress" else "-d"
    if rule.remote_group_id is not None:
        members = sorted({str(p.ip) for p in ctl.ports.values() if rule.remote_group_id in p.security_groups},
                         key=lambda a: tuple(int(x) for x in a.split(".")))
        return [" ".join([f"{side} {ip}/32", *match, "-j RETURN"]) for ip in members]
    prefix = [] if rule.remote_ip_prefix in (None, "0.0.0.0/0") else [f"{side} {rule.remote_ip_prefix}"]
    return [" ".join([*prefix, *match, "-j RETURN"])]


def _firewall(ports: list[Port], ctl: Controller) -> list[str]:
    out = [f"iptables -N {c}" for c in ("neutron-filter-top", f"{WRAP}-INPUT", f"{WRAP}-FORWARD",
                                         f"{WRAP}-OUTPUT", f"{WRAP}-local", f"{WRAP}-sg-chain", f"{WRAP}-sg-fallback")]
    out += [f"iptables -A INPUT -j {WRAP}-INPUT",
            "iptables -A FORWARD -j neutron-filter-top", f"iptables -A FORWARD -j {WRAP}-FORWARD",
            "iptables -A OUTPUT -j neutron-filter-top", f"iptables -A OUTPUT -j {WRAP}-OUTPUT",
            f"iptables -A neutron-filter-top -j {WRAP}-local"]
    for port in ports:
        i, o, s = _chain("i", port), _chain("o", port), _chain("s", port)
        out += [f"iptables -N {i}", f"iptables -N {o}", f"iptables -N {s}"]
        to_sg = _comment("Direct traffic from the VM interface to the security group chain.")
        out += [f"iptables -A {WRAP}-FORWARD -m physdev --physdev-out {port.tap} --physdev-is-bridged {to_sg} -j {WRAP}-sg-chain",
                f"iptables -A {WRAP}-FORWARD -m physdev --physdev-in {port.tap} --physdev-is-bridged {to_sg} -j {WRAP}-sg-chain",
                f"iptables -A {WRAP}-INPUT -m physdev --physdev-in {port.tap} --physdev-is-bridged "
                f"{_comment('Direct incoming traffic from VM to the security group chain.')} -j {o}",
                f"iptables -A {WRAP}-sg-chain -m physdev --physdev-out {port.tap} --physdev-is-bridged "
                f"{_comment('Jump to the VM specific chain.')} -j {i}",
                f"iptables -A {WRAP}-sg-chain -m physdev --physdev-in {port.tap} --physdev-is-bridged "
                f"{_comment('Jump to the VM specific chain.')} -j {o}"]
        rules = [r for g in port.security_groups for r in ctl.groups[g].rules if r.ethertype == "IPv4"]
        # ingress: known sessions, DHCP replies, the group's rules, invalid dropped, the rest to fallback
        out += [f"iptables -A {i} -m state --state RELATED,ESTABLISHED {_comment(KNOWN)} -j RETURN",
                f"iptables -A {i} -d {port.ip}/32 -p udp -m udp --sport 67 --dport 68 -j RETURN",
                f"iptables -A {i} -d 255.255.255.255/32 -p udp -m udp --sport 67 --dport 68 -j RETURN"]
        out += [f"iptables -A {i} {line}" for r in rules if r.direction == "ingress" for line in _rule_lines(r, ctl)]
        out += [f"iptables -A {i} -m state --state INVALID {_comment(INVALID)} -j DROP",
                f"iptables -A {i} {_comment(FALLBACK)} -j {WRAP}-sg-fallback"]
        # egress: DHCP requests, anti-spoofing, no DHCP server in a VM, the group's rules
        dhcp = _comment("Allow DHCP client traffic.")
        out += [f"iptables -A {o} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 {dhcp} -j RETURN",
                f"iptables -A {o} -j {s}",
                f"iptables -A {o} -p udp -m udp --sport 68 --dport 67 {dhcp} -j RETURN",
                f"iptables -A {o} -p udp -m udp --sport 67 --dport 68 {_comment('Prevent DHCP Spoofing by VM.')} -j DROP",
                f"iptables -A {o} -m state --state RELATED,ESTABLISHED {_comment(KNOWN)} -j RETURN"]
        out += [f"iptables -A {o} {line}" for r in rules if r.direction == "egress" for line in _rule_lines(r, ctl)]
        out += [f"iptables -A {o} -m state --state INVALID {_comment(INVALID)} -j DROP",
                f"iptables -A {o} {_comment(FALLBACK)} -j {WRAP}-sg-fallback",
                f"iptables -A {s} -s {port.ip}/32 -m mac --mac-source {port.mac.upper()} "
                f"{_comment('Allow traffic from defined IP/MAC pairs.')} -j RETURN",
                f"iptables -A {s} {_comment('Drop traffic without an IP/MAC allow rule.')} -j DROP"]
    out += [f"iptables -A {WRAP}-sg-chain -j ACCEPT",
            f"iptables -A {WRAP}-sg-fallback {_comment('Default drop rule for unmatched traffic.')} -j DROP"]
    return out


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


def _dhcp_lines(ctl: Controller, port: Port) -> list[str]:
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
            *_veth(port, ns, port.device("ns-"), ctl.subnets[port.subnet_id].cidr.prefixlen),
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
    return rules


def _router_lines(ctl: Controller, r: Router) -> list[str]:
    ns = r.namespace
    out = [f"ip netns add {ns}", f"ip -n {ns} link set lo up", f"ip netns exec {ns} sysctl -q -w net.ipv4.ip_forward=1"]
    for pid in r.interfaces:
        p = ctl.ports[pid]
        out += _veth(p, ns, p.device("qr-"), ctl.subnets[p.subnet_id].cidr.prefixlen)
    if r.gateway_port is not None:
        gw = ctl.ports[r.gateway_port]
        sub, qg = ctl.subnets[gw.subnet_id], gw.device("qg-")
        out += _veth(gw, ns, qg, sub.cidr.prefixlen)
        out += [f"ip -n {ns} addr add {f.address}/32 dev {qg}" for f in ctl.floating_ips.values()
                if f.router_id == r.id and f.fixed_port_id is not None]
        if sub.gateway_ip is not None:
            out.append(f"ip -n {ns} route add default via {sub.gateway_ip} dev {qg}")
    return out + [f"ip netns exec {ns} iptables -t {table} {rule}" for table, rule in l3_rules(ctl, r)]


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
    for server in dict.fromkeys(ctl.servers[p.device_id].name for p in vms):
        out += [f"ip netns add {server}", f"ip -n {server} link set lo up"]
    boot = []
    for p in vms:
        server = ctl.servers[p.device_id]
        nic = f"eth{server.ports.index(p.id)}"
        sub = ctl.subnets[p.subnet_id]
        if sub.enable_dhcp and ctl.dhcp_port(p.network_id) is not None:
            out += _veth(p, server.name, nic, None)
            run = f"/run/dhclient-{server.name}-{nic}"
            boot.append(f"ip netns exec {server.name} dhclient -lf {run}.leases -pf {run}.pid {nic}")
            continue
        out += _veth(p, server.name, nic, sub.cidr.prefixlen)   # no DHCP: configured as config-drive would
        if sub.gateway_ip is not None and nic == "eth0":
            out.append(f"ip -n {server.name} route add default via {sub.gateway_ip}")
    for r in ctl.routers.values():
        if r.host == host:
            out += _router_lines(ctl, r)
    for p in ports:
        if p.device_owner == "network:dhcp":
            out += _dhcp_lines(ctl, p)
    return out + _firewall(vms, ctl), boot
