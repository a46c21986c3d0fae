"""The cloud's controller: what Neutron's server and Nova's API keep (networks, subnets,
ports, security groups and their rules, servers), as the `openstack` client shows it.

State is plain data; the agents (`netplex.cloud.agent`) compile it into each host's Linux
configuration. Identifiers are UUIDs and MACs `fa:16:3e:..` as Neutron makes them
(neutron/common/utils.py get_random_mac with base_mac fa:16:3e:00:00:00), drawn from a
seeded generator so a scenario builds the same cloud every run.
"""
from __future__ import annotations

import ipaddress
import random
import uuid
from dataclasses import dataclass, field

from netplex.errors import NetplexError

__all__ = ["CloudError", "Controller", "Network", "Port", "Rule", "SecurityGroup", "Server", "Subnet"]

PROJECT_ID = "0c4e939acacf4376bdcd1129f1a054ad"
VNI_RANGE = (1001, 2000)   # ml2_type_vxlan vni_ranges


class CloudError(NetplexError):
    """A request the API refuses (status 1) or the client's usage error (status 2)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message, 0, status)


@dataclass
class Network:
    id: str
    name: str
    network_type: str                 # vxlan | vlan | flat
    segmentation_id: int | None       # the VNI or VLAN id; None on a flat network
    physical_network: str | None = None
    subnets: list[str] = field(default_factory=list)


@dataclass
class Subnet:
    id: str
    name: str
    network_id: str
    cidr: ipaddress.IPv4Network
    gateway_ip: ipaddress.IPv4Address | None
    pools: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]
    enable_dhcp: bool


@dataclass
class Rule:
    id: str
    security_group_id: str
    direction: str                  # ingress | egress
    ethertype: str                  # IPv4 | IPv6
    protocol: str | None            # tcp | udp | icmp | None (any)
    port_min: int | None
    port_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None


@dataclass
class SecurityGroup:
    id: str
    name: str
    description: str
    rules: list[Rule] = field(default_factory=list)


@dataclass
class Port:
    id: str
    network_id: str
    subnet_id: str
    mac: str
    ip: ipaddress.IPv4Address
    security_groups: list[str]
    host: str
    device_id: str

    @property
    def tap(self) -> str:
        """The VM's device on its host: tap + the port id's first 11 characters."""
        return "tap" + self.id[:11]


@dataclass
class Server:
    id: str
    name: str
    host: str
    ports: list[str]


class Controller:
    """The cloud's API state; every method is one `openstack` request."""

    def __init__(self, hosts: list[str], seed: int = 0, mappings: dict[str, dict[str, str]] | None = None) -> None:
        self.hosts = list(hosts)
        # each host's physical_interface_mappings: physical network -> interface
        self.mappings = {h: dict((mappings or {}).get(h, {})) for h in hosts}
        self.physnets = {pn for m in self.mappings.values() for pn in m}
        self.rng = random.Random(f"cloud:{seed}")
        self.networks: dict[str, Network] = {}
        self.subnets: dict[str, Subnet] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self.ports: dict[str, Port] = {}
        self.servers: dict[str, Server] = {}
        self.create_security_group("default", "Default security group")

    # -- identifiers ---------------------------------------------------------------------
    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_mac(self) -> str:
        used = {p.mac for p in self.ports.values()}
        while True:
            mac = "fa:16:3e:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3))
            if mac not in used:
                return mac

    # -- lookups as the client resolves NAME_OR_ID ---------------------------------------
    @staticmethod
    def _find(table: dict, what: str, key: str) -> object:
        if key in table:
            return table[key]
        found = [o for o in table.values() if o.name == key]
        if not found:
            raise CloudError(f"No {what} found for {key}")
        if len(found) > 1:
            raise CloudError(f"More than one {what} exists with the name '{key}'.")
        return found[0]

    def network(self, key: str) -> Network:
        n = self._find(self.networks, "Network", key)
        assert isinstance(n, Network)
        return n

    def subnet(self, key: str) -> Subnet:
        s = self._find(self.subnets, "Subnet", key)
        assert isinstance(s, Subnet)
        return s

    def group(self, key: str) -> SecurityGroup:
        g = self._find(self.groups, "SecurityGroup", key)
        assert isinstance(g, SecurityGroup)
        return g

    def server(self, key: str) -> Server:
        s = self._find(self.servers, "server", key)
        assert isinstance(s, Server)
        return s

    def rule(self, key: str) -> Rule:
        for g in self.groups.values():
            for r in g.rules:
                if r.id == key:
                    return r
        raise CloudError(f"No SecurityGroupRule found for {key}")

    # -- networks and subnets ------------------------------------------------------------
    def create_network(self, name: str, network_type: str = "vxlan", segment: int | None = None,
                       physnet: str | None = None) -> Network:
        if network_type == "vxlan":
            if physnet is not None:
                raise CloudError("Invalid input for operation: provider:physical_network specified for vxlan network.")
            segment = self._vni(segment)
        else:
            if physnet is None:
                raise CloudError(f"Invalid input for operation: provider:physical_network required for {network_type} provider network.")
            if physnet not in self.physnets:
                raise CloudError(f"Invalid input for operation: physical_network '{physnet}' unknown for {network_type} provider network.")
            same = [n for n in self.networks.values() if n.physical_network == physnet and n.network_type == network_type]
            if network_type == "flat":
                if segment is not None:
                    raise CloudError("Invalid input for operation: segmentation_id specified for flat network.")
                if same:
                    raise CloudError(f"Unable to create the flat network. Physical network {physnet} is in use.", 1)
            else:
                if segment is None:
                    raise CloudError("Unable to create the network. No tenant network is available for allocation.")
                if not 1 <= segment <= 4094:
                    raise CloudError("Invalid input for operation: segmentation_id out of range (1 through 4094).")
                if any(n.segmentation_id == segment for n in same):
                    raise CloudError(f"Unable to create the network. The VLAN {segment} on physical network {physnet} is in use.", 1)
        net = Network(self.new_id(), name, network_type, segment, physnet)
        self.networks[net.id] = net
        return net

    def _vni(self, segment: int | None) -> int:
        used = {n.segmentation_id for n in self.networks.values() if n.network_type == "vxlan"}
        if segment is None:
            free = [v for v in range(VNI_RANGE[0], VNI_RANGE[1] + 1) if v not in used]
            if not free:
                raise CloudError("Unable to create the network. No tenant network is available for allocation.")
            return free[0]
        if segment in used:
            raise CloudError(f"Unable to create the network. The VXLAN ID {segment} is in use.", 1)
        if not 1 <= segment <= 2**24 - 1:
            raise CloudError(f"Invalid input for operation: segmentation_id {segment} out of range (1 through 16777215).")
        return segment

    def delete_network(self, key: str) -> None:
        net = self.network(key)
        if any(p.network_id == net.id for p in self.ports.values()):
            raise CloudError(f"Unable to complete operation on network {net.id}. There are one or more ports still in use on the network.")
        for sid in net.subnets:
            del self.subnets[sid]
        del self.networks[net.id]

    def create_subnet(self, name: str, network: str, cidr: str, gateway: str | None = "auto",
                      pools: list[tuple[str, str]] | None = None, enable_dhcp: bool = True) -> Subnet:
        net = self.network(network)
        try:
            prefix = ipaddress.ip_network(cidr)
        except ValueError:
            raise CloudError(f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet.") from None
        if not isinstance(prefix, ipaddress.IPv4Network):
            raise CloudError(f"netplex: openstack subnet create: IPv6 subnet {cidr} is not supported", 2)
        if prefix.prefixlen > 30:
            raise CloudError(f"Invalid input for operation: {cidr} is too small.")
        for sid in net.subnets:
            if self.subnets[sid].cidr.overlaps(prefix):
                raise CloudError(f"Invalid input for operation: Requested subnet with cidr: {cidr} for network: "
                                 f"{net.id} overlaps with another subnet.")
        gw: ipaddress.IPv4Address | None
        if gateway == "auto":
            gw = prefix.network_address + 1
        elif gateway is None:
            gw = None
        else:
            try:
                gw = ipaddress.IPv4Address(gateway)
            except ValueError:
                raise CloudError(f"Invalid input for gateway_ip. Reason: '{gateway}' is not a valid IP address.") from None
            if gw not in prefix:
                raise CloudError(f"Invalid input for operation: Gateway IP {gw} conflicts with subnet {cidr}.")
        first, last = prefix.network_address + 1, prefix.broadcast_address - 1
        ranges: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]] = []
        if pools:
            for s, e in pools:
                try:
                    a, b = ipaddress.IPv4Address(s), ipaddress.IPv4Address(e)
                except ValueError:
                    raise CloudError(f"Invalid input for allocation_pools. Reason: '{s}-{e}' is not a valid IP range.") from None
                if not (first <= a <= b <= last):
                    raise CloudError(f"The allocation pool {a}-{b} spans beyond the subnet cidr {cidr}.")
                if gw is not None and a <= gw <= b:
                    raise CloudError(f"Gateway ip {gw} conflicts with allocation pool {a}-{b}")
                ranges.append((a, b))
        elif gw is None or not first <= gw <= last:
            ranges = [(first, last)]
        else:   # the pool is the subnet less the gateway
            if gw > first:
                ranges.append((first, gw - 1))
            if gw < last:
                ranges.append((gw + 1, last))
        sub = Subnet(self.new_id(), name, net.id, prefix, gw, ranges, enable_dhcp)
        self.subnets[sub.id] = sub
        net.subnets.append(sub.id)
        return sub

    def delete_subnet(self, key: str) -> None:
        sub = self.subnet(key)
        if any(p.subnet_id == sub.id for p in self.ports.values()):
            raise CloudError(f"Unable to complete operation on subnet {sub.id}: One or more ports have an IP allocation from this subnet.")
        self.networks[sub.network_id].subnets.remove(sub.id)
        del self.subnets[sub.id]

    # -- security groups -----------------------------------------------------------------
    def create_security_group(self, name: str, description: str = "") -> SecurityGroup:
        g = SecurityGroup(self.new_id(), name, description or name)
        self.groups[g.id] = g
        for ethertype in ("IPv4", "IPv6"):   # a new group lets everything out
            g.rules.append(Rule(self.new_id(), g.id, "egress", ethertype, None, None, None, None, None))
        if name == "default":   # and the default group lets its members in
            for ethertype in ("IPv4", "IPv6"):
                g.rules.append(Rule(self.new_id(), g.id, "ingress", ethertype, None, None, None, None, g.id))
        return g

    def delete_security_group(self, key: str) -> None:
        g = self.group(key)
        if g.name == "default":
            raise CloudError("Removing default security group not allowed.", 1)
        if any(g.id in p.security_groups for p in self.ports.values()):
            raise CloudError(f"Security Group {g.id} in use.")
        del self.groups[g.id]

    def create_rule(self, group: str, direction: str, ethertype: str, protocol: str | None,
                    ports: tuple[int, int] | None, remote_ip: str | None, remote_group: str | None) -> Rule:
        g = self.group(group)
        rg = self.group(remote_group).id if remote_group is not None else None
        if remote_ip is not None:
            try:
                remote_ip = str(ipaddress.ip_network(remote_ip, strict=False))
            except ValueError:
                raise CloudError(f"Invalid input for remote_ip_prefix. Reason: '{remote_ip}' is not a valid IP subnet.") from None
        r = Rule(self.new_id(), g.id, direction, ethertype, protocol,
                 ports[0] if ports else None, ports[1] if ports else None, remote_ip, rg)
        for o in g.rules:
            if (o.direction, o.ethertype, o.protocol, o.port_min, o.port_max, o.remote_ip_prefix, o.remote_group_id) == \
               (r.direction, r.ethertype, r.protocol, r.port_min, r.port_max, r.remote_ip_prefix, r.remote_group_id):
                raise CloudError(f"Security group rule already exists. Rule id is {o.id}.", 1)
        g.rules.append(r)
        return r

    def delete_rule(self, key: str) -> None:
        r = self.rule(key)
        self.groups[r.security_group_id].rules.remove(r)

    # -- servers -------------------------------------------------------------------------
    def schedule(self, zone: str | None, nets: list[Network]) -> str:
        """The compute host: `--availability-zone nova:HOST`, else the host with fewest
        servers, the first listed on a tie (nova's RAMWeigher on equal hosts, made stable),
        among the hosts whose agent can bind every network (maps its physical network)."""
        able = [h for h in self.hosts
                if all(n.physical_network is None or n.physical_network in self.mappings[h] for n in nets)]
        if zone is not None:
            az, _, host = zone.partition(":")
            if az != "nova" or host not in self.hosts:
                raise CloudError(f"No valid host was found. The availability zone {zone} names no compute host")
            able = [host] if host in able else []
        if not able:
            raise CloudError("No valid host was found. There are not enough hosts available.")
        load = {h: 0 for h in self.hosts}
        for s in self.servers.values():
            load[s.host] += 1
        return min(able, key=lambda h: load[h])

    def allocate_ip(self, sub: Subnet) -> ipaddress.IPv4Address:
        used = {p.ip for p in self.ports.values() if p.subnet_id == sub.id}
        for a, b in sub.pools:
            ip = a
            while ip <= b:
                if ip not in used:
                    return ip
                ip += 1
        raise CloudError(f"No more IP addresses available on network {sub.network_id}.")

    def create_server(self, name: str, networks: list[str], groups: list[str], zone: str | None) -> Server:
        nets = [self.network(n) for n in networks]
        sgs = [self.group(g).id for g in (groups or ["default"])]
        host = self.schedule(zone, nets)
        server = Server(self.new_id(), name, host, [])
        for net in nets:
            if not net.subnets:
                raise CloudError(f"Network {net.id} requires a subnet in order to boot instances on.")
            sub = self.subnets[net.subnets[0]]
            port = Port(self.new_id(), net.id, sub.id, self.new_mac(), self.allocate_ip(sub), sgs, host, server.id)
            self.ports[port.id] = port
            server.ports.append(port.id)
        self.servers[server.id] = server
        return server

    def delete_server(self, key: str) -> None:
        s = self.server(key)
        for pid in s.ports:
            del self.ports[pid]
        del self.servers[s.id]
