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
from typing import TypeVar

from netplex.errors import NetplexError

__all__ = ["BandwidthLimitRule", "CloudError", "Controller", "DscpMarkingRule", "VALID_DSCP_MARKS", "FloatingIP", "IdentityError", "Network", "Port",
           "Project", "QosPolicy", "Router", "Rule", "SecurityGroup", "Server", "Subnet"]

PROJECT_ID = "0c4e939acacf4376bdcd1129f1a054ad"   # the admin project (keystone-manage bootstrap)
VNI_RANGE = (1001, 2000)   # ml2_type_vxlan vni_ranges


class CloudError(NetplexError):
    """A request the API refuses (status 1) or the client's usage error (status 2)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message, 0, status)


class IdentityError(CloudError):
    """A refusal as keystoneclient and novaclient print it: the message alone, `(HTTP n) (Request-ID: ...)`."""


@dataclass
class Project:
    id: str                 # keystone's uuid4().hex
    name: str
    description: str = ""
    enabled: bool = True


@dataclass
class Network:
    id: str
    name: str
    network_type: str                 # vxlan | vlan | flat
    segmentation_id: int | None       # the VNI or VLAN id; None on a flat network
    physical_network: str | None = None
    subnets: list[str] = field(default_factory=list)
    external: bool = False            # router:external: routers' gateways and floating IPs come from it
    qos_policy_id: str | None = None  # applies to the network's compute ports without their own
    project_id: str = PROJECT_ID       # the owning project (keystone)


@dataclass
class Subnet:
    id: str
    name: str
    network_id: str
    cidr: ipaddress.IPv4Network
    gateway_ip: ipaddress.IPv4Address | None
    pools: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]
    enable_dhcp: bool
    project_id: str = PROJECT_ID       # the owning project (keystone)


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
    project_id: str = PROJECT_ID       # the owning project (keystone)


@dataclass
class Port:
    id: str
    network_id: str
    subnet_id: str
    mac: str
    ip: ipaddress.IPv4Address
    security_groups: list[str]
    host: str                       # "" while unbound (a floating IP's port)
    device_id: str
    device_owner: str = "compute:nova"   # network:router_interface, network:router_gateway, network:floatingip
    qos_policy_id: str | None = None
    project_id: str = PROJECT_ID

    @property
    def tap(self) -> str:
        """The port's device on its host: tap + the port id's first 11 characters."""
        return "tap" + self.id[:11]

    def device(self, prefix: str) -> str:
        """The name inside a namespace (BridgeInterfaceDriver: qr-, qg-, ns- + id[:11])."""
        return prefix + self.id[:11]


@dataclass
class BandwidthLimitRule:
    id: str
    max_kbps: int
    max_burst_kbps: int
    direction: str                    # egress (from the VM) | ingress (to the VM)


# neutron_lib.constants.VALID_DSCP_MARKS: the DiffServ code points a dscp_marking rule may set
VALID_DSCP_MARKS = [0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56]


@dataclass
class DscpMarkingRule:
    id: str
    dscp_mark: int                    # set on what the VM sends


@dataclass
class QosPolicy:
    id: str
    name: str
    description: str = ""
    rules: list[BandwidthLimitRule | DscpMarkingRule] = field(default_factory=list)
    project_id: str = PROJECT_ID       # the owning project (keystone)


@dataclass
class Router:
    id: str
    name: str
    host: str                            # the L3 agent's host, where qrouter-<id> lives
    interfaces: list[str] = field(default_factory=list)   # network:router_interface port ids
    gateway_port: str | None = None      # the network:router_gateway port
    enable_snat: bool = True
    project_id: str = PROJECT_ID       # the owning project (keystone)

    @property
    def namespace(self) -> str:
        return f"qrouter-{self.id}"


@dataclass
class FloatingIP:
    id: str
    address: ipaddress.IPv4Address
    network_id: str
    port_id: str                         # its own network:floatingip port (holds the address)
    fixed_port_id: str | None = None     # the associated port
    router_id: str | None = None
    project_id: str = PROJECT_ID       # the owning project (keystone)


@dataclass
class Server:
    id: str
    name: str
    host: str
    ports: list[str]
    project_id: str = PROJECT_ID       # the owning project (keystone)
    db_id: int = 0                     # Nova's instances.id (EC2's i-%08x), never reused
    flavor: str = "m1.small"           # `--flavor` (only named: netplex gives VMs no resources)


_Named = TypeVar("_Named", Network, Subnet, SecurityGroup, Server, Router)


class Controller:
    """The cloud's API state; every method is one `openstack` request."""

    def __init__(self, hosts: list[str], seed: int = 0, mappings: dict[str, dict[str, str]] | None = None,
                 l3_hosts: list[str] | None = None, dhcp_hosts: list[str] | None = None,
                 vlan_ranges: dict[str, list[tuple[int, int]]] | None = None,
                 tenant_network_types: list[str] | None = None) -> None:
        self.hosts = list(hosts)
        # ml2: [ml2_type_vlan] network_vlan_ranges (None: the mapped physical networks, no ranges)
        # and [ml2] tenant_network_types, the types a network without provider attributes gets
        self.vlan_ranges = {pn: list(r) for pn, r in vlan_ranges.items()} if vlan_ranges is not None else None
        self.tenant_network_types = list(tenant_network_types or ["vxlan"])
        self.dhcp_hosts = list(dhcp_hosts) if dhcp_hosts else list(hosts)
        # the hosts running neutron-l3-agent (all of them unless the scenario names some)
        self.l3_hosts = list(l3_hosts) if l3_hosts else list(hosts)
        # each host's physical_interface_mappings: physical network -> interface
        self.mappings = {h: dict((mappings or {}).get(h, {})) for h in hosts}
        self.physnets = {pn for m in self.mappings.values() for pn in m}
        self.rng = random.Random(f"cloud:{seed}")
        self.networks: dict[str, Network] = {}
        self.subnets: dict[str, Subnet] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self.ports: dict[str, Port] = {}
        self.servers: dict[str, Server] = {}
        self.routers: dict[str, Router] = {}
        self.floating_ips: dict[str, FloatingIP] = {}
        self.qos_policies: dict[str, QosPolicy] = {}
        self.projects = {PROJECT_ID: Project(PROJECT_ID, "admin", "Bootstrap project for initializing the cloud.")}
        # the request's project, its token's scope (`openstack --os-project-name P`); the admin's by default
        self.project = PROJECT_ID
        self.request_rng = random.Random(f"cloud-request:{seed}")   # keystone's Request-IDs (errors only)
        self.instances_made = 0   # Nova's instances table's autoincrement
        self.default_group()

    # -- projects (keystone) and what a request's project sees -------------------------------
    @property
    def admin(self) -> bool:
        """The request is the admin's (scoped to the admin project): every project's resources are its."""
        return self.project == PROJECT_ID

    def http_error(self, message: str, code: int) -> IdentityError:
        rid = uuid.UUID(int=self.request_rng.getrandbits(128), version=4)
        return IdentityError(f"{message} (HTTP {code}) (Request-ID: req-{rid})")

    def scope(self, key: str) -> None:
        """`--os-project-name|--os-project-id KEY`: the project the request acts in, as its member."""
        for p in self.projects.values():
            if key in (p.id, p.name):
                self.project = p.id
                return
        raise self.http_error("The request you have made requires authentication.", 401)

    def find_project(self, key: str, action: str = "get_project") -> Project:
        """By id or name, as the client's find_resource; a member sees only its own project."""
        if not self.admin and action != "get_project":
            raise self.http_error(f"You are not authorized to perform the requested action: identity:{action}.", 403)
        for p in self.projects.values():
            if key in (p.id, p.name) and (self.admin or p.id == self.project):
                return p
        raise IdentityError(f"No project with a name or ID of '{key}' exists.")

    def list_projects(self) -> list[Project]:
        if not self.admin:
            raise self.http_error("You are not authorized to perform the requested action: identity:list_projects.", 403)
        return list(self.projects.values())

    def create_project(self, name: str, description: str = "") -> Project:
        if not self.admin:
            raise self.http_error("You are not authorized to perform the requested action: identity:create_project.", 403)
        if any(p.name == name for p in self.projects.values()):
            raise self.http_error("Conflict occurred attempting to store project - Duplicate entry found with "
                                       f"name {name} at domain ID default.", 409)
        p = Project(uuid.UUID(int=self.rng.getrandbits(128), version=4).hex, name, description)
        self.projects[p.id] = p
        return p

    def delete_project(self, key: str) -> None:
        """Keystone forgets the project; its Neutron and Nova resources stay (as they do on a real cloud)."""
        p = self.find_project(key, "delete_project")
        del self.projects[p.id]

    def visible(self, o: Network | Subnet | SecurityGroup | Port | Router | FloatingIP | Server | QosPolicy) -> bool:
        """What the request's project may see (neutron's policy): the admin everything; a member its
        own project's resources and the external networks (with their subnets)."""
        if self.admin or o.project_id == self.project:
            return True
        if isinstance(o, Network):
            return o.external
        if isinstance(o, Subnet):
            return self.networks[o.network_id].external
        return False

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
    def _find(self, table: dict[str, _Named], what: str, key: str, own: bool = False) -> _Named:
        """By id, else by name, among what the request sees (`own`: its project's only, as Nova finds
        servers and their security groups by name)."""
        if key in table and self.visible(table[key]):
            return table[key]
        found = [o for o in table.values() if o.name == key and self.visible(o)
                 and (not own or o.project_id == self.project)]
        if not found:
            raise CloudError(f"No {what} found for {key}")
        if len(found) > 1:
            raise CloudError(f"More than one {what} exists with the name '{key}'.")
        return found[0]

    def network(self, key: str) -> Network:
        return self._find(self.networks, "Network", key)

    def subnet(self, key: str) -> Subnet:
        return self._find(self.subnets, "Subnet", key)

    def group(self, key: str) -> SecurityGroup:
        return self._find(self.groups, "SecurityGroup", key)

    def server(self, key: str) -> Server:
        return self._find(self.servers, "server", key, own=True)

    def rule(self, key: str) -> Rule:
        for g in self.groups.values():
            for r in g.rules:
                if r.id == key and self.visible(g):
                    return r
        raise CloudError(f"No SecurityGroupRule found for {key}")

    # -- networks and subnets ------------------------------------------------------------
    def port(self, key: str) -> Port:
        if key not in self.ports or not self.visible(self.ports[key]):
            raise CloudError(f"No Port found for {key}")
        return self.ports[key]

    def router(self, key: str) -> Router:
        return self._find(self.routers, "Router", key)

    def floating_ip(self, key: str) -> FloatingIP:
        """By id or address, as the client's find_ip does."""
        for f in self.floating_ips.values():
            if key in (f.id, str(f.address)) and self.visible(f):
                return f
        raise CloudError(f"No FloatingIP found for {key}")

    def create_network(self, name: str, network_type: str | None = "vxlan", segment: int | None = None,
                       physnet: str | None = None, external: bool = False) -> Network:
        """`network_type` None: a tenant network, its segment from the first of tenant_network_types
        with one free (ml2's TypeManager._allocate_tenant_net_segment)."""
        if network_type is None:
            if segment is not None or physnet is not None:
                raise CloudError("Invalid input for operation: network_type required.")
            network_type, segment, physnet = self._tenant_segment()
        elif network_type == "vlan":
            segment, physnet = self._vlan(segment, physnet)
        elif network_type == "vxlan":
            if physnet is not None:
                raise CloudError("Invalid input for operation: provider:physical_network specified for vxlan network.")
            segment = self._vni(segment)
        else:
            if physnet is None:
                raise CloudError(f"Invalid input for operation: provider:physical_network required for {network_type} provider network.")
            if physnet not in self.physnets:
                raise CloudError(f"Invalid input for operation: physical_network '{physnet}' unknown for {network_type} provider network.")
            if segment is not None:
                raise CloudError("Invalid input for operation: segmentation_id specified for flat network.")
            if any(n.physical_network == physnet and n.network_type == "flat" for n in self.networks.values()):
                raise CloudError(f"Unable to create the flat network. Physical network {physnet} is in use.", 1)
        net = Network(self.new_id(), name, network_type, segment, physnet, external=external, project_id=self.project)
        self.networks[net.id] = net
        return net

    def _tenant_segment(self) -> tuple[str, int, str | None]:
        for network_type in self.tenant_network_types:
            try:
                if network_type == "vlan":
                    return ("vlan", *self._vlan(None, None))
                return "vxlan", self._vni(None), None
            except CloudError:
                continue
        raise CloudError("Unable to create the network. No tenant network is available for allocation.")

    def _vlan(self, segment: int | None, physnet: str | None) -> tuple[int, str]:
        """type_vlan's validate_provider_segment and reserve_provider_segment: a VLAN given is taken
        (outside the ranges too, as the admin may), none given is the lowest free one of the ranges
        (of `physnet`, else of every physical network in the configured order; Neutron picks at
        random among the first 100 free rows, netplex the first so a run is readable)."""
        ranges = self.vlan_ranges if self.vlan_ranges is not None else {pn: [] for pn in sorted(self.physnets)}
        if physnet is None:
            if segment is not None:
                raise CloudError("Invalid input for operation: segmentation_id requires physical_network for VLAN "
                                 "provider network.")
        else:
            if physnet not in ranges:
                raise CloudError(f"Invalid input for operation: physical_network '{physnet}' unknown for VLAN provider "
                                 "network.")
            if segment is not None and not 1 <= segment <= 4094:
                raise CloudError("Invalid input for operation: segmentation_id out of range (1 through 4094).")
        used = {(n.physical_network, n.segmentation_id) for n in self.networks.values() if n.network_type == "vlan"}
        if segment is not None:
            assert physnet is not None
            if (physnet, segment) in used:
                raise CloudError(f"Unable to create the network. The VLAN {segment} on physical network {physnet} is "
                                 "in use.")
            return segment, physnet
        for pn in [physnet] if physnet is not None else list(ranges):
            for lo, hi in ranges[pn]:
                for vlan in range(lo, hi + 1):
                    if (pn, vlan) not in used:
                        return vlan, pn
        raise CloudError("Unable to create the network. No tenant network is available for allocation.")

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
        if any(p.network_id == net.id and p.device_owner != "network:dhcp" for p in self.ports.values()):
            raise CloudError(f"Unable to complete operation on network {net.id}. There are one or more ports still in use on the network.")
        for pid in [p.id for p in self.ports.values() if p.network_id == net.id]:
            del self.ports[pid]     # the DHCP port goes with its network
        for sid in net.subnets:
            del self.subnets[sid]
        del self.networks[net.id]

    def create_subnet(self, name: str, network: str, cidr: str, gateway: str | None = "auto",
                      pools: list[tuple[str, str]] | None = None, enable_dhcp: bool = True) -> Subnet:
        net = self.network(network)
        if net.project_id != self.project and not self.admin:
            raise CloudError("netplex: openstack subnet create on another project's network is not supported", 2)
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
        sub = Subnet(self.new_id(), name, net.id, prefix, gw, ranges, enable_dhcp, project_id=net.project_id)
        self.subnets[sub.id] = sub
        net.subnets.append(sub.id)
        if enable_dhcp:
            self._schedule_dhcp(net, sub)
        return sub

    def _schedule_dhcp(self, net: Network, sub: Subnet) -> None:
        """The DHCP agent's port on the network (its first free address of the subnet), on the
        agent with the fewest networks that can bind it (WeightScheduler); one per network."""
        if any(p.network_id == net.id and p.device_owner == "network:dhcp" for p in self.ports.values()):
            return
        able = [h for h in self.dhcp_hosts if net.physical_network is None or net.physical_network in self.mappings[h]]
        if not able:
            return     # no agent can host it: the network has no DHCP server (as with no DHCP agent up)
        load = {h: 0 for h in able}
        for p in self.ports.values():
            if p.device_owner == "network:dhcp" and p.host in load:
                load[p.host] += 1
        host = min(able, key=lambda h: load[h])
        self.new_port(sub, "network:dhcp", host, f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{net.id}").project_id = \
            net.project_id

    def dhcp_port(self, network_id: str) -> Port | None:
        return next((p for p in self.ports.values() if p.network_id == network_id and p.device_owner == "network:dhcp"),
                    None)

    def delete_subnet(self, key: str) -> None:
        sub = self.subnet(key)
        if any(p.subnet_id == sub.id and p.device_owner != "network:dhcp" for p in self.ports.values()):
            raise CloudError(f"Unable to complete operation on subnet {sub.id}: One or more ports have an IP allocation from this subnet.")
        for pid in [p.id for p in self.ports.values() if p.subnet_id == sub.id]:
            del self.ports[pid]
        self.networks[sub.network_id].subnets.remove(sub.id)
        del self.subnets[sub.id]

    # -- security groups -----------------------------------------------------------------
    def default_group(self) -> SecurityGroup:
        """The request project's `default` group, made on its first use (_ensure_default_security_group)."""
        for g in self.groups.values():
            if g.name == "default" and g.project_id == self.project:
                return g
        return self._new_group("default", "Default security group")

    def create_security_group(self, name: str, description: str = "") -> SecurityGroup:
        if name.lower() == "default":   # the API's validation, before the plugin makes the project's default
            raise CloudError("Default security group already exists.")
        self.default_group()
        return self._new_group(name, description)

    def _new_group(self, name: str, description: str) -> SecurityGroup:
        g = SecurityGroup(self.new_id(), name, description or name, project_id=self.project)
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
        self.default_group()
        g = self.group(group)
        rg = self.group(remote_group).id if remote_group is not None else None
        if remote_ip is not None:
            try:
                prefix = ipaddress.ip_network(remote_ip, strict=False)
            except ValueError:
                raise CloudError(f"Invalid input for remote_ip_prefix. Reason: '{remote_ip}' is not a valid IP subnet.") from None
            if ethertype != f"IPv{prefix.version}":      # _validate_ip_prefix
                raise CloudError(f"Conflicting value ethertype {ethertype} for CIDR {remote_ip}")
            remote_ip = str(prefix)
        if protocol in ("ipv6-icmp", "icmpv6", "58") and ethertype == "IPv4":    # _validate_ethertype_and_protocol
            raise CloudError(f"Invalid ethertype {ethertype} for protocol {protocol}.")
        if ethertype == "IPv6" and protocol in ("icmp", "icmpv6"):   # _make_canonical_ipv6_icmp_protocol
            protocol = "ipv6-icmp"
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

    def new_port(self, sub: Subnet, owner: str, host: str, device_id: str, groups: list[str] | None = None,
                 ip: ipaddress.IPv4Address | None = None) -> Port:
        """A port on the subnet's network with a fixed IP (the next free one of the pools unless given)."""
        if ip is not None and any(p.ip == ip and p.subnet_id == sub.id for p in self.ports.values()):
            raise CloudError(f"IP address {ip} already allocated in subnet {sub.id}")
        port = Port(self.new_id(), sub.network_id, sub.id, self.new_mac(), ip or self.allocate_ip(sub),
                    list(groups or []), host, device_id, owner, project_id=self.project)
        self.ports[port.id] = port
        return port

    def allocate_ip(self, sub: Subnet) -> ipaddress.IPv4Address:
        used = {p.ip for p in self.ports.values() if p.subnet_id == sub.id}
        for a, b in sub.pools:
            ip = a
            while ip <= b:
                if ip not in used:
                    return ip
                ip += 1
        raise CloudError(f"No more IP addresses available on network {sub.network_id}.")

    def create_server(self, name: str, networks: list[str], groups: list[str], zone: str | None,
                      flavor: str | None = None) -> Server:
        nets = [self.network(n) for n in networks]
        default = self.default_group()
        sgs = [self._find(self.groups, "SecurityGroup", g, own=True).id for g in groups] if groups else [default.id]
        host = self.schedule(zone, nets)
        if any(s.name == name and s.host == host for s in self.servers.values()):
            raise CloudError(f"netplex: openstack server create: {host} already has a server named {name} (a "
                             "server's namespace on its host is named after it)", 2)
        server = Server(self.new_id(), name, host, [], project_id=self.project, db_id=self.instances_made + 1,
                        flavor=flavor or "m1.small")
        for net in nets:
            if not net.subnets:
                raise CloudError(f"Network {net.id} requires a subnet in order to boot instances on.")
            sub = self.subnets[net.subnets[0]]
            server.ports.append(self.new_port(sub, "compute:nova", host, server.id, sgs).id)
        self.servers[server.id] = server
        self.instances_made += 1
        return server

    def delete_server(self, key: str) -> None:
        s = self.server(key)
        for f in self.floating_ips.values():   # deleting a port disassociates its floating IP
            if f.fixed_port_id in s.ports:
                f.fixed_port_id = f.router_id = None
        for pid in s.ports:
            del self.ports[pid]
        del self.servers[s.id]

    # -- routers (neutron/db/l3_db.py) ---------------------------------------------------
    def create_router(self, name: str) -> Router:
        """Scheduled to the L3 agent with the fewest routers (LeastRoutersScheduler), listed order on a tie."""
        load = {h: 0 for h in self.l3_hosts}
        for r in self.routers.values():
            load[r.host] += 1
        router = Router(self.new_id(), name, min(self.l3_hosts, key=lambda h: load[h]), project_id=self.project)
        self.routers[router.id] = router
        return router

    def add_router_subnet(self, router: str, subnet: str) -> Port:
        r, sub = self.router(router), self.subnet(subnet)
        if sub.gateway_ip is None:
            raise CloudError("Bad router request: Subnet for router interface must have a gateway IP.")
        for pid in r.interfaces:
            other = self.subnets[self.ports[pid].subnet_id]
            if other.id == sub.id:
                raise CloudError(f"Bad router request: Router already has a port on subnet {sub.id}.")
            if other.cidr.overlaps(sub.cidr):
                raise CloudError(f"Bad router request: Cidr {sub.cidr} of subnet {sub.id} overlaps with cidr "
                                 f"{other.cidr} of subnet {other.id}.")
        self._bindable(r.host, self.networks[sub.network_id])
        port = self.new_port(sub, "network:router_interface", r.host, r.id, ip=sub.gateway_ip)
        r.interfaces.append(port.id)
        return port

    def remove_router_subnet(self, router: str, subnet: str) -> None:
        r, sub = self.router(router), self.subnet(subnet)
        found = [pid for pid in r.interfaces if self.ports[pid].subnet_id == sub.id]
        if not found:
            raise CloudError(f"Router {r.id} has no interface on subnet {sub.id}")
        if any(f.router_id == r.id and f.fixed_port_id is not None and self.ports[f.fixed_port_id].subnet_id == sub.id
               for f in self.floating_ips.values()):
            raise CloudError(f"Router interface for subnet {sub.id} on router {r.id} cannot be deleted, "
                             "as it is required by one or more floating IPs.")
        r.interfaces.remove(found[0])
        del self.ports[found[0]]

    def _bindable(self, host: str, net: Network) -> None:
        """The agent on `host` can plug a port into `net` (maps its physical network)."""
        if net.physical_network is not None and net.physical_network not in self.mappings[host]:
            raise CloudError(f"netplex: the agent on {host} has no physical_interface_mappings entry for "
                             f"{net.physical_network}, so it cannot bind a port on network {net.id}")

    def set_router_gateway(self, router: str, network: str, enable_snat: bool | None = None) -> None:
        r, net = self.router(router), self.network(network)
        if not net.external:
            raise CloudError(f"Bad router request: Network {net.id} is not an external network.")
        if enable_snat is not None:
            r.enable_snat = enable_snat
        if r.gateway_port is not None and self.ports[r.gateway_port].network_id == net.id:
            return
        if r.gateway_port is not None:
            self.unset_router_gateway(r.id)
        if not net.subnets:
            raise CloudError(f"Bad router request: No IPs available for external network {net.id}.")
        self._bindable(r.host, net)
        r.gateway_port = self.new_port(self.subnets[net.subnets[0]], "network:router_gateway", r.host, r.id).id

    def unset_router_gateway(self, router: str) -> None:
        r = self.router(router)
        if r.gateway_port is None:
            return
        net_id = self.ports[r.gateway_port].network_id
        if any(f.router_id == r.id for f in self.floating_ips.values()):
            raise CloudError(f"Gateway cannot be updated for router {r.id}, since a gateway to external network "
                             f"{net_id} is required by one or more floating IPs.")
        del self.ports[r.gateway_port]
        r.gateway_port = None

    def delete_router(self, key: str) -> None:
        r = self.router(key)
        if r.interfaces:
            raise CloudError(f"Router {r.id} still has ports")
        self.unset_router_gateway(r.id)
        del self.routers[r.id]

    # -- floating IPs ----------------------------------------------------------------------
    def create_floating_ip(self, network: str, address: str | None = None, port: str | None = None,
                           fixed_ip: str | None = None) -> FloatingIP:
        net = self.network(network)
        if not net.external:
            raise CloudError(f"Bad floatingip request: Network {net.id} is not a valid external network.")
        if not net.subnets:
            raise CloudError(f"No more IP addresses available on network {net.id}.")
        sub = self.subnets[net.subnets[0]]
        ip = None
        if address is not None:
            try:
                ip = ipaddress.IPv4Address(address)
            except ValueError:
                raise CloudError(f"Invalid input for floating_ip_address. Reason: '{address}' is not a valid IP "
                                 "address.") from None
            subs = [self.subnets[s] for s in net.subnets if ip in self.subnets[s].cidr]
            if not subs:
                raise CloudError(f"IP address {ip} is not a valid IP for any of the subnets on the specified network.")
            sub = subs[0]
        if port is not None:
            self.port(port)
        fip_id = self.new_id()
        own = self.new_port(sub, "network:floatingip", "", fip_id, ip=ip)
        fip = FloatingIP(fip_id, own.ip, net.id, own.id, project_id=self.project)
        self.floating_ips[fip.id] = fip
        if port is not None:
            try:
                self.associate_floating_ip(fip.id, port, fixed_ip)
            except CloudError:
                del self.floating_ips[fip.id], self.ports[own.id]
                raise
        return fip

    def associate_floating_ip(self, key: str, port_key: str, fixed_ip: str | None = None) -> None:
        """Find the router that joins the port's subnet to the floating IP's network (get_router_for_floatingip)."""
        fip, port = self.floating_ip(key), self.port(port_key)
        if fixed_ip is not None and fixed_ip != str(port.ip):
            raise CloudError(f"Bad floatingip request: Port {port.id} does not have fixed ip {fixed_ip}.")
        if port.device_owner.startswith("network:"):
            raise CloudError(f"Port {port.id} has owner {port.device_owner} and therefore cannot be assigned to a "
                             "floating IP.")
        for other in self.floating_ips.values():
            if other.id != fip.id and other.fixed_port_id == port.id and other.network_id == fip.network_id:
                raise CloudError(f"Cannot associate floating IP {fip.address} ({fip.id}) with port {port.id} using "
                                 f"fixed IP {port.ip}, as that fixed IP already has a floating IP on external "
                                 f"network {fip.network_id}.")
        for r in self.routers.values():
            gw = self.ports.get(r.gateway_port or "")
            if gw is not None and gw.network_id == fip.network_id and \
                    any(self.ports[pid].subnet_id == port.subnet_id for pid in r.interfaces):
                fip.fixed_port_id, fip.router_id = port.id, r.id
                return
        raise CloudError(f"External network {fip.network_id} is not reachable from subnet {port.subnet_id}.  "
                         f"Therefore, cannot associate Port {port.id} with a Floating IP.")

    def disassociate_floating_ip(self, key: str) -> None:
        fip = self.floating_ip(key)
        fip.fixed_port_id = fip.router_id = None

    def delete_floating_ip(self, key: str) -> None:
        fip = self.floating_ip(key)
        del self.ports[fip.port_id], self.floating_ips[fip.id]

    # -- QoS (neutron/services/qos) ----------------------------------------------------------
    def qos_policy(self, key: str) -> QosPolicy:
        return self._find(self.qos_policies, "QosPolicy", key)

    def create_qos_policy(self, name: str, description: str = "") -> QosPolicy:
        q = QosPolicy(self.new_id(), name, description, project_id=self.project)
        self.qos_policies[q.id] = q
        return q

    def delete_qos_policy(self, key: str) -> None:
        q = self.qos_policy(key)
        users = [n.id for n in self.networks.values() if n.qos_policy_id == q.id] + \
                [p.id for p in self.ports.values() if p.qos_policy_id == q.id]
        if users:
            raise CloudError(f"QoS Policy {q.id} is used by network {users[0]}.")
        del self.qos_policies[q.id]

    def qos_rule(self, key: str) -> BandwidthLimitRule | DscpMarkingRule:
        for q in self.qos_policies.values():
            for r in q.rules:
                if r.id == key and self.visible(q):
                    return r
        raise CloudError(f"No QoSRule found for {key}")

    def delete_qos_rule(self, key: str) -> None:
        r = self.qos_rule(key)
        for q in self.qos_policies.values():
            if r in q.rules:
                q.rules.remove(r)

    def create_bandwidth_limit_rule(self, policy: str, max_kbps: int, max_burst_kbps: int,
                                    direction: str) -> BandwidthLimitRule:
        q = self.qos_policy(policy)
        if any(isinstance(r, BandwidthLimitRule) and r.direction == direction for r in q.rules):
            raise CloudError(f"Rule bandwidth_limit already exists in QoS Policy {q.id}.")
        r = BandwidthLimitRule(self.new_id(), max_kbps, max_burst_kbps, direction)
        q.rules.append(r)
        return r

    def create_dscp_marking_rule(self, policy: str, mark: int) -> DscpMarkingRule:
        q = self.qos_policy(policy)
        if mark not in VALID_DSCP_MARKS:
            raise CloudError(f"Invalid input for dscp_mark. Reason: {mark} is not in valid_values {VALID_DSCP_MARKS}.")
        if any(isinstance(r, DscpMarkingRule) for r in q.rules):
            raise CloudError(f"Rule dscp_marking already exists in QoS Policy {q.id}.")
        r = DscpMarkingRule(self.new_id(), mark)
        q.rules.append(r)
        return r

    def set_qos_policy(self, kind: str, key: str, policy: str | None) -> None:
        """`openstack network|port set --qos-policy P` (None: --no-qos-policy)."""
        qid = self.qos_policy(policy).id if policy is not None else None
        target = self.network(key) if kind == "network" else self.port(key)
        target.qos_policy_id = qid

    def port_qos(self, port: Port) -> QosPolicy | None:
        """The port's policy, else its network's for a compute port (QosCoreResourceExtension)."""
        qid = port.qos_policy_id
        if qid is None and port.device_owner.startswith("compute:"):
            qid = self.networks[port.network_id].qos_policy_id
        return self.qos_policies.get(qid) if qid is not None else None
