"""The `cloud-host` node kind: a Linux host the cloud places VMs on (a compute host).

Its key `local_ip:` is the address its VXLAN tunnels start from (the linuxbridge agent's
`[vxlan] local_ip`), `physical_interface_mappings:` the interface of each physical network
(for VLAN and flat networks), `agents:` the network agents it runs besides the linuxbridge
agent (`l3`: routers' qrouter- namespaces are scheduled to it; `dhcp`: networks' qdhcp-
namespaces with dnsmasq; when no host names an agent, every host runs it); the scenario's top-level `cloud:` names the hosts and the `openstack`
commands (netplex.cloud.scenario compiles them). With `mechanism: openvswitch` the
interface of a physical network is put in an OVS bridge, `bridge_mappings:` naming it.
"""
from __future__ import annotations

from ipaddress import IPv4Address
from typing import Literal

from netplex.network import Node, NodeParams, node_kind

__all__ = ["CloudHost", "CloudHostParams"]


class CloudHostParams(NodeParams):
    local_ip: IPv4Address
    # [linux_bridge] physical_interface_mappings: physical network -> the host's interface
    physical_interface_mappings: dict[str, str] = {}
    agents: list[Literal["l3", "dhcp"]] = []
    # [ovs] bridge_mappings (a cloud with `mechanism: openvswitch`): physical network -> the OVS
    # bridge holding its interface; `br-<physnet>` when not named
    bridge_mappings: dict[str, str] = {}


@node_kind("cloud-host")
class CloudHost(Node):
    """A compute host: a Linux host whose configuration the cloud's agents write."""

    params_model = CloudHostParams
