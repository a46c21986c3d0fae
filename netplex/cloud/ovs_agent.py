"""The Open vSwitch mechanism: what neutron-openvswitch-agent (native OpenFlow driver, no
l2population, firewall_driver = iptables_hybrid) and the L3/DHCP agents with the OVS interface
driver write on each cloud host, as shell lines (`ovs-vsctl`, `ovs-ofctl`, `ip`, `iptables`).

Bridges (neutron/plugins/ml2/drivers/openvswitch/agent/ovs_neutron_agent.py setup_integration_br,
setup_tunnel_br, setup_physical_bridges; openflow/native/br_int.py, br_tun.py, br_phys.py; the
table numbers of neutron_lib/plugins/ml2/ovs_constants.py):

- `br-int` in secure fail mode: table 0 drops the dead VLAN 4095 and sends the rest through
  59 (packet rate limit) to 60 (TRANSIENT_TABLE, NORMAL); 23 (canary) and 24 (ARP spoofing)
  drop; 30 and 31 (local IP) go to 59; 62 (transient egress) is NORMAL. A VM port's ARP must
  come from its address (table 0 priority 10 to 24, 24 to 25) and its frames from its MAC
  (table 0 priority 9 to 25, 25 to 30).
- `br-tun`, joined to br-int by the patch ports `patch-tun`/`patch-int`, with a VXLAN port
  `vxlan-<remote ip in hex>` to every other host (in_key/out_key=flow): table 0 sends what comes
  from br-int to 2 and what comes from a tunnel to 4; 2 sends unicast to 20 and multicast to
  22; 4 maps a VNI to the network's local VLAN (push_vlan, set_field) and goes to 10, which
  learns the source MAC into 20 (learn: VLAN, MAC, back into the tunnel it came from) and
  outputs to patch-int; 20 falls back to 22; 22 pops the local VLAN, sets the VNI and floods to
  every tunnel; 3 and 6 (GRE, Geneve) drop.
- per physical network a bridge (`bridge_mappings`, `br-<physnet>` by default) holding the
  mapped interface, joined to br-int by `int-br-*`/`phy-br-*` patch ports, each side dropping
  what the other has not translated (priority 2); a flat or VLAN network's local VLAN is
  translated on the way in (br-int table 0 priority 3) and out (the physical bridge's table 0
  priority 4).

Ports: a VM is plugged the hybrid way (os-vif's ovs hybrid plug): `tap<id>` (the VM's NIC's
peer) on the Linux bridge `qbr<id>`, the veth `qvb<id>`/`qvo<id>`, `qvo<id>` on br-int with
the interface's external_ids (iface-id, iface-status, attached-mac, vm-uuid); a router's
`qr-`/`qg-` and a DHCP server's `tap` are br-int internal ports moved into their namespace
(OVSInterfaceDriver). The agent tags each port with its network's local VLAN (1, 2, ... per host
in the order the host's ports' networks appear) and records the network in the Port's
other_config. The firewall is IptablesFirewallDriver's text (netplex.cloud.firewall) through
OVSHybridIptablesFirewallDriver: chain prefix `neutron-openvswi`, the physdev matches on the
tap in `qbr`, a conntrack zone per port matched on `qvb<id>`.

The actions are written as OpenFlow 1.0 `ovs-ofctl` spells them (`mod_vlan_vid`, `strip_vlan`,
`set_tunnel`), as the agent's former ovs-ofctl driver did, for the native driver's
push_vlan/set_field/pop_vlan (the same packets; netplex's switch has no set_field to vlan_vid).
Flows carry one cookie per bridge (the agent draws a random one; here one derived from the host
and bridge names so a scenario dumps the same flows every run).
"""
from __future__ import annotations

import hashlib
from ipaddress import IPv4Address

from netplex.cloud.agent import DEFAULT_BURST_RATE, Plug, _dhcp_lines, _firewall, _router_lines, _vm_lines
from netplex.cloud.controller import BandwidthLimitRule, Controller, Network, Port

__all__ = ["MECHANISMS", "OVS_MECHANISM", "bridge_name", "ovs_host_lines", "tunnel_port_name", "unsupported"]

OVS_MECHANISM = "openvswitch"
MECHANISMS = ("linuxbridge", OVS_MECHANISM)      # ml2 mechanism_drivers a cloud picks from

INT_BR, TUN_BR = "br-int", "br-tun"
PATCH_INT, PATCH_TUN = "patch-int", "patch-tun"        # [ovs] int_peer_patch_port / tun_peer_patch_port
# ovs_constants: OpenFlow tables of br-int ...
LOCAL_SWITCHING, CANARY_TABLE, ARP_SPOOF_TABLE, MAC_SPOOF_TABLE = 0, 23, 24, 25
LOCAL_EGRESS_TABLE, LOCAL_IP_TABLE, PACKET_RATE_LIMIT = 30, 31, 59
TRANSIENT_TABLE, TRANSIENT_EGRESS_TABLE = 60, 62
DEAD_VLAN_TAG = 4095
OPENFLOW_MAX_PRIORITY = 65535
# ... and of br-tun
PATCH_LV_TO_TUN, GRE_TUN_TO_LV, VXLAN_TUN_TO_LV, GENEVE_TUN_TO_LV = 2, 3, 4, 6
LEARN_FROM_TUN, UCAST_TO_TUN, FLOOD_TO_TUN = 10, 20, 22
LEARN_HARD_TIMEOUT = 300


def tunnel_port_name(remote_ip: str, network_type: str = "vxlan") -> str:
    """get_tunnel_name_full: the type, `-`, and the remote address as 8 hex digits."""
    return f"{network_type}-{int(IPv4Address(remote_ip)):08x}"


def bridge_name(physnet: str, mappings: dict[str, str]) -> str:
    """The OVS bridge of a physical network: its `bridge_mappings` entry, else `br-<physnet>`."""
    return mappings.get(physnet, f"br-{physnet}")


def _cookie(host: str, bridge: str) -> str:
    return "0x" + hashlib.sha256(f"{host}/{bridge}".encode()).hexdigest()[:16]


def unsupported(ctl: Controller) -> str | None:
    """What the OVS mechanism does not model in this cloud (refused, not ignored), or None: of
    the QoS driver, the bandwidth limits are modelled."""
    for p in ctl.ports.values():
        policy = ctl.port_qos(p) if p.device_owner.startswith("compute:") else None
        for r in policy.rules if policy is not None else []:
            if not isinstance(r, BandwidthLimitRule):
                return "netplex: QoS dscp-marking rules on an openvswitch cloud are not supported"
    return None


OVS_MAX_RATE = 2 ** 35 - 1       # ovs_lib: a QoS row's max-rate when only its queue limits


def _qos_lines(ctl: Controller, p: Port) -> list[str]:
    """The OVS QoS driver's bandwidth limits (qos_meter_bandwidth off) on the VM's qvo. Egress
    (what the VM sends): qvo polices what it takes in (ovs_lib _set_egress_bw_limit_for_port:
    ingress_policing_rate in kbit/s, ingress_policing_burst in kbit, max_burst_kbps or 80 % of
    the rate). Ingress (what it receives): a linux-htb QoS on the Port with queue 0 limited
    (_update_ingress_bw_limit_for_port: the Queue's max-rate and burst in bit/s and bits, the
    rows' external_ids as _update_queue and _update_qos write them)."""
    policy = ctl.port_qos(p)
    qvo = p.device("qvo")
    out = []
    for r in policy.rules if policy is not None else []:
        if isinstance(r, BandwidthLimitRule) and r.direction == "egress":
            burst = r.max_burst_kbps or int(r.max_kbps * DEFAULT_BURST_RATE)
            out.append(f"ovs-vsctl set Interface {qvo} ingress_policing_rate={r.max_kbps} "
                       f"ingress_policing_burst={burst}")
        elif isinstance(r, BandwidthLimitRule):
            out.append(f"ovs-vsctl -- set Port {qvo} qos=@qos -- --id=@qos create QoS type=linux-htb "
                       f"other_config:max-rate={OVS_MAX_RATE} external_ids:id={qvo} "
                       f"external_ids:_type=bandwidth_limit queues:0=@queue -- --id=@queue create Queue "
                       f"other_config:max-rate={r.max_kbps * 1000} other_config:burst={r.max_burst_kbps * 1000} "
                       f"external_ids:port={qvo} external_ids:type=bandwidth_limit external_ids:queue-num=0 >/dev/null")
    return out


class _Flows:
    """`ovs-ofctl add-flow` lines for one bridge, each with the bridge's cookie."""

    def __init__(self, host: str, bridge: str) -> None:
        self.bridge, self.cookie = bridge, _cookie(host, bridge)
        self.lines: list[str] = []

    def add(self, table: int, priority: int, match: str, actions: str) -> None:
        fields = ",".join(f for f in (f"cookie={self.cookie}", f"table={table}", f"priority={priority}", match) if f)
        self.lines.append(f'ovs-ofctl add-flow {self.bridge} "{fields},actions={actions}"')


def _add_bridge(name: str) -> list[str]:
    """OVSAgentBridge.create + set_secure_mode, and the flows a restarting agent clears."""
    return [f"ovs-vsctl --may-exist add-br {name}", f"ovs-vsctl set-fail-mode {name} secure",
            f"ovs-ofctl del-flows {name}"]


def _patch(bridge: str, port: str, peer: str) -> str:
    return f"ovs-vsctl --may-exist add-port {bridge} {port} -- set Interface {port} type=patch options:peer={peer}"


def _int_br(flows: _Flows) -> None:
    """OVSIntegrationBridge.setup_default_table (no OpenFlow DHCP, no DNS forwarder)."""
    flows.add(CANARY_TABLE, 0, "", "drop")
    flows.add(LOCAL_SWITCHING, 0, "", f"goto_table:{PACKET_RATE_LIMIT}")
    flows.add(PACKET_RATE_LIMIT, 0, "", f"goto_table:{TRANSIENT_TABLE}")
    flows.add(TRANSIENT_TABLE, 1, "", "NORMAL")
    flows.add(ARP_SPOOF_TABLE, 0, "", "drop")
    flows.add(LOCAL_SWITCHING, OPENFLOW_MAX_PRIORITY, f"dl_vlan={DEAD_VLAN_TAG}", "drop")
    flows.add(TRANSIENT_EGRESS_TABLE, 3, "", "NORMAL")
    flows.add(LOCAL_EGRESS_TABLE, 0, "", f"goto_table:{PACKET_RATE_LIMIT}")
    flows.add(LOCAL_IP_TABLE, 0, "", f"goto_table:{PACKET_RATE_LIMIT}")


def _tun_br(flows: _Flows) -> None:
    """OVSTunnelBridge.setup_default_table (no ARP responder, no DVR)."""
    flows.add(LOCAL_SWITCHING, 1, f"in_port={PATCH_INT}", f"goto_table:{PATCH_LV_TO_TUN}")
    flows.add(LOCAL_SWITCHING, 0, "", "drop")
    flows.add(PATCH_LV_TO_TUN, 0, "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00", f"goto_table:{UCAST_TO_TUN}")
    flows.add(PATCH_LV_TO_TUN, 0, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", f"goto_table:{FLOOD_TO_TUN}")
    for table in (GRE_TUN_TO_LV, VXLAN_TUN_TO_LV, GENEVE_TUN_TO_LV):
        flows.add(table, 0, "", "drop")
    learn = (f"learn(table={UCAST_TO_TUN},hard_timeout={LEARN_HARD_TIMEOUT},priority=1,cookie={flows.cookie},"
             "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],"
             f"load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:NXM_OF_IN_PORT[]),output:{PATCH_INT}")
    # _setup_learn_flows: broadcast ARP first (priority 2; the IPv6 RA/NA ones need ICMPv6
    # matching, which netplex's switch has not), then everything else
    flows.add(LEARN_FROM_TUN, 2, "arp,arp_tha=ff:ff:ff:ff:ff:ff", learn)
    flows.add(LEARN_FROM_TUN, 1, "", learn)
    flows.add(UCAST_TO_TUN, 0, "", f"goto_table:{FLOOD_TO_TUN}")
    flows.add(FLOOD_TO_TUN, 0, "", "drop")


def _hybrid_plug(lvid: dict[str, int], ctl: Controller) -> Plug:
    """os-vif's OVS hybrid plug of a VM's NIC, then the agent's tag on qvo<id>."""
    def plug(p: Port, ns: str, dev: str, prefixlen: int | None) -> list[str]:
        qbr, qvb, qvo = p.device("qbr"), p.device("qvb"), p.device("qvo")
        addr = [f"ip -n {ns} addr add {p.ip}/{prefixlen} dev {dev}"] if prefixlen is not None else []
        server = ctl.servers[p.device_id]
        return [f"ip link add {qbr} type bridge", f"ip link set {qbr} up",
                f"ip link add {qvb} type veth peer name {qvo}",
                f"ip link set {qvb} master {qbr}", f"ip link set {qvb} up", f"ip link set {qvo} up",
                f"ovs-vsctl --may-exist add-port {INT_BR} {qvo} -- set Interface {qvo} "
                f"external_ids:iface-id={p.id} external_ids:iface-status=active "
                f"external_ids:attached-mac={p.mac} external_ids:vm-uuid={server.id}",
                # the NIC libvirt would give the guest: the tap on qbr
                f"ip link add {p.tap} type veth peer name {dev} netns {ns}",
                f"ip link set {p.tap} master {qbr}", f"ip link set {p.tap} up",
                f"ip -n {ns} link set {dev} address {p.mac}", *addr, f"ip -n {ns} link set {dev} up",
                *_tag(ctl, p, qvo, lvid)]
    return plug


def _internal_plug(lvid: dict[str, int], ctl: Controller) -> Plug:
    """OVSInterfaceDriver.plug_new: an internal port of br-int moved into the namespace."""
    def plug(p: Port, ns: str, dev: str, prefixlen: int | None) -> list[str]:
        addr = [f"ip -n {ns} addr add {p.ip}/{prefixlen} dev {dev}"] if prefixlen is not None else []
        return [f"ovs-vsctl --may-exist add-port {INT_BR} {dev} -- set Interface {dev} type=internal "
                f"external_ids:iface-id={p.id} external_ids:iface-status=active external_ids:attached-mac={p.mac}",
                f"ip link set {dev} address {p.mac}", f"ip link set {dev} netns {ns}",
                *addr, f"ip -n {ns} link set {dev} up", *_tag(ctl, p, dev, lvid)]
    return plug


def _tag(ctl: Controller, p: Port, port: str, lvid: dict[str, int]) -> list[str]:
    """port_bound: the Port's local VLAN tag and other_config (net_uuid, network_type,
    physical_network, segmentation_id, tag)."""
    net = ctl.networks[p.network_id]
    other = [f"other_config:net_uuid={net.id}", f"other_config:network_type={net.network_type}"]
    if net.physical_network is not None:
        other.append(f"other_config:physical_network={net.physical_network}")
    if net.segmentation_id is not None:
        other.append(f"other_config:segmentation_id={net.segmentation_id}")
    other.append(f"other_config:tag={lvid[net.id]}")
    return [f"ovs-vsctl set Port {port} tag={lvid[net.id]} {' '.join(other)}"]


def _spoofing(flows: _Flows, p: Port, qvo: str) -> None:
    """setup_arp_spoofing_protection of a VM port (port security on): its ARP must come from
    its address (install_arp_spoofing_protection), its frames from its MAC
    (set_allowed_macs_for_port); the IPv6 NA rules are left out (no IPv6 here)."""
    flows.add(ARP_SPOOF_TABLE, 2, f"arp,in_port={qvo},arp_spa={p.ip}", f"goto_table:{MAC_SPOOF_TABLE}")
    flows.add(LOCAL_SWITCHING, 10, f"arp,in_port={qvo}", f"goto_table:{ARP_SPOOF_TABLE}")
    flows.add(MAC_SPOOF_TABLE, 2, f"in_port={qvo},dl_src={p.mac}", f"goto_table:{LOCAL_EGRESS_TABLE}")
    flows.add(LOCAL_SWITCHING, 9, f"in_port={qvo}", f"goto_table:{MAC_SPOOF_TABLE}")


def _provision(net: Network, lvid: int, int_flows: _Flows, tun_flows: _Flows, phys_flows: dict[str, _Flows],
               tunnels: list[str], bridges: dict[str, str]) -> None:
    """provision_local_vlan: VNI <-> local VLAN on br-tun, or the physical bridge's VLAN
    translation both ways (a flat network: untagged outside)."""
    if net.network_type == "vxlan":
        tun_flows.add(VXLAN_TUN_TO_LV, 1, f"tun_id={net.segmentation_id:#x}",
                      f"mod_vlan_vid:{lvid},goto_table:{LEARN_FROM_TUN}")
        if tunnels:
            tun_flows.add(FLOOD_TO_TUN, 1, f"dl_vlan={lvid}",
                          f"strip_vlan,set_tunnel:{net.segmentation_id:#x}," + ",".join(f"output:{t}" for t in tunnels))
        return
    assert net.physical_network is not None
    br = bridges[net.physical_network]
    int_port, phy_port = f"int-{br}", f"phy-{br}"
    if net.segmentation_id is None:    # flat
        int_flows.add(LOCAL_SWITCHING, 3, f"in_port={int_port},vlan_tci=0x0000/0x1fff",
                      f"mod_vlan_vid:{lvid},goto_table:{PACKET_RATE_LIMIT}")
        phys_flows[br].add(LOCAL_SWITCHING, 4, f"in_port={phy_port},dl_vlan={lvid}", "strip_vlan,NORMAL")
    else:
        int_flows.add(LOCAL_SWITCHING, 3, f"in_port={int_port},dl_vlan={net.segmentation_id}",
                      f"mod_vlan_vid:{lvid},goto_table:{PACKET_RATE_LIMIT}")
        phys_flows[br].add(LOCAL_SWITCHING, 4, f"in_port={phy_port},dl_vlan={lvid}",
                           f"mod_vlan_vid:{net.segmentation_id},NORMAL")


def ovs_host_lines(ctl: Controller, host: str, local_ips: dict[str, str],
                   bridge_mappings: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The shell lines that give `host` what the OVS, L3 and DHCP agents write for the
    controller's state, and the lines its VMs boot with (as netplex.cloud.agent.host_lines)."""
    mappings = bridge_mappings or {}
    interfaces = ctl.mappings.get(host, {})
    bridges = {physnet: bridge_name(physnet, mappings) for physnet in interfaces}
    out = ["sysctl -q -w net.bridge.bridge-nf-call-iptables=1", *_add_bridge(INT_BR)]
    int_flows, tun_flows = _Flows(host, INT_BR), _Flows(host, TUN_BR)
    _int_br(int_flows)
    # setup_physical_bridges: each mapped bridge with its interface, patched to br-int
    phys_flows: dict[str, _Flows] = {}
    for physnet, br in bridges.items():
        int_port, phy_port = f"int-{br}", f"phy-{br}"
        out += [*_add_bridge(br), f"ovs-vsctl --may-exist add-port {br} {interfaces[physnet]}",
                _patch(INT_BR, int_port, phy_port), _patch(br, phy_port, int_port)]
        phys_flows[br] = _Flows(host, br)
        phys_flows[br].add(LOCAL_SWITCHING, 0, "", "NORMAL")
        int_flows.add(LOCAL_SWITCHING, 2, f"in_port={int_port}", "drop")
        phys_flows[br].add(LOCAL_SWITCHING, 2, f"in_port={phy_port}", "drop")
    # setup_tunnel_br and tunnel_sync: br-tun, its patch to br-int, a VXLAN port to every other host
    out += [*_add_bridge(TUN_BR), _patch(INT_BR, PATCH_TUN, PATCH_INT), _patch(TUN_BR, PATCH_INT, PATCH_TUN)]
    _tun_br(tun_flows)
    tunnels = []
    for other, ip in local_ips.items():
        if other == host:
            continue
        name = tunnel_port_name(ip)
        tunnels.append(name)
        out.append(f"ovs-vsctl --may-exist add-port {TUN_BR} {name} -- set Interface {name} type=vxlan "
                   f"options:df_default=true options:egress_pkt_mark=0 options:in_key=flow "
                   f"options:local_ip={local_ips[host]} options:out_key=flow options:remote_ip={ip}")
        tun_flows.add(LOCAL_SWITCHING, 1, f"in_port={name}", f"goto_table:{VXLAN_TUN_TO_LV}")
    ports = [p for p in ctl.ports.values() if p.host == host]
    lvid: dict[str, int] = {}
    for net_id in dict.fromkeys(p.network_id for p in ports):
        lvid[net_id] = len(lvid) + 1
        _provision(ctl.networks[net_id], lvid[net_id], int_flows, tun_flows, phys_flows, tunnels, bridges)
    vms = [p for p in ports if p.device_owner.startswith("compute:")]
    vm_out, boot = _vm_lines(ctl, vms, _hybrid_plug(lvid, ctl))
    flows = int_flows.lines + tun_flows.lines + [ln for f in phys_flows.values() for ln in f.lines]
    int_flows.lines = []      # what treat_devices_added_or_updated adds once the VMs' ports exist
    for p in vms:
        _spoofing(int_flows, p, p.device("qvo"))
    vm_out += int_flows.lines
    for p in vms:
        vm_out += _qos_lines(ctl, p)
    internal = _internal_plug(lvid, ctl)
    for r in ctl.routers.values():
        if r.host == host:
            vm_out += _router_lines(ctl, r, internal)
    for p in ports:
        if p.device_owner == "network:dhcp":
            vm_out += _dhcp_lines(ctl, p, internal, prefix="tap")
    trusted = [p for p in ports if p.device_owner.startswith("network:")]
    return out + flows + vm_out + _firewall(vms, trusted, ctl, hybrid=True), boot
