"""The controller's state in SQLite (the standard library's sqlite3), in tables shaped like
Neutron's (neutron/db/models, neutron/db/models_v2.py, keystone's `project`, Nova's
`instances`), so a scenario can stop a cloud and a later run resume it
(`netplex run FILE --cloud-state DB`, docs/cloud.md "Stopping and resuming a cloud").

`save` writes the whole controller into a new file beside DB and renames it over DB (a run
that stops half way leaves the old state); `load` checks the file is this schema's
(`alembic_version`, as Neutron's own migrations mark a database) and rebuilds the controller:
the same ids, MACs, addresses and the id generator's state, so what a resumed run creates is
as deterministic as a fresh run. Rows keep their creation order in `standard_attr_id`
(Neutron's standardattributes key), which is the order `openstack ... list` prints.
`dump`/`from_dump` carry the same database as SQL text (sqlite3's iterdump), which is how a
cloud host's `openstack` client (shellcmd.py) gets it.
"""
from __future__ import annotations

import ipaddress
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from netplex.cloud.controller import (
    BandwidthLimitRule,
    CloudError,
    Controller,
    DscpMarkingRule,
    FloatingIP,
    Network,
    Port,
    Project,
    QosPolicy,
    Router,
    Rule,
    SecurityGroup,
    Server,
    Subnet,
)

__all__ = ["CloudStateError", "SCHEMA_REVISION", "dump", "from_dump", "load", "save"]

SCHEMA_REVISION = "netplex_cloud_1"   # alembic_version.version_num of this layout

SCHEMA = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
CREATE TABLE netplex_controller (key VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE project (id VARCHAR(64) PRIMARY KEY, name VARCHAR(64) NOT NULL, description TEXT,
    enabled BOOLEAN, domain_id VARCHAR(64) NOT NULL, standard_attr_id INTEGER NOT NULL);
CREATE TABLE networks (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY, name VARCHAR(255),
    status VARCHAR(16), admin_state_up BOOLEAN, mtu INTEGER, standard_attr_id INTEGER NOT NULL);
CREATE TABLE networksegments (id VARCHAR(36) PRIMARY KEY, network_id VARCHAR(36) NOT NULL
    REFERENCES networks(id) ON DELETE CASCADE, network_type VARCHAR(32) NOT NULL, physical_network VARCHAR(64),
    segmentation_id INTEGER, is_dynamic BOOLEAN NOT NULL, segment_index INTEGER NOT NULL);
CREATE TABLE externalnetworks (network_id VARCHAR(36) PRIMARY KEY REFERENCES networks(id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL);
CREATE TABLE ml2_vxlan_allocations (vxlan_vni INTEGER PRIMARY KEY, allocated BOOLEAN NOT NULL);
CREATE TABLE ml2_vlan_allocations (physical_network VARCHAR(64) NOT NULL, vlan_id INTEGER NOT NULL,
    allocated BOOLEAN NOT NULL, PRIMARY KEY (physical_network, vlan_id));
CREATE TABLE subnets (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY, name VARCHAR(255),
    network_id VARCHAR(36) REFERENCES networks(id), ip_version INTEGER NOT NULL, cidr VARCHAR(64) NOT NULL,
    gateway_ip VARCHAR(64), enable_dhcp BOOLEAN, standard_attr_id INTEGER NOT NULL);
CREATE TABLE ipallocationpools (id VARCHAR(36) PRIMARY KEY, subnet_id VARCHAR(36) REFERENCES subnets(id)
    ON DELETE CASCADE, first_ip VARCHAR(64) NOT NULL, last_ip VARCHAR(64) NOT NULL);
CREATE TABLE securitygroups (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY, name VARCHAR(255),
    description VARCHAR(255), standard_attr_id INTEGER NOT NULL);
CREATE TABLE securitygrouprules (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY,
    security_group_id VARCHAR(36) NOT NULL REFERENCES securitygroups(id) ON DELETE CASCADE,
    remote_group_id VARCHAR(36), direction VARCHAR(7), ethertype VARCHAR(40), protocol VARCHAR(40),
    port_range_min INTEGER, port_range_max INTEGER, remote_ip_prefix VARCHAR(255),
    standard_attr_id INTEGER NOT NULL);
CREATE TABLE qos_policies (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255), project_id VARCHAR(255),
    description VARCHAR(255), standard_attr_id INTEGER NOT NULL);
CREATE TABLE qos_bandwidth_limit_rules (id VARCHAR(36) PRIMARY KEY, qos_policy_id VARCHAR(36) NOT NULL
    REFERENCES qos_policies(id) ON DELETE CASCADE, max_kbps INTEGER, max_burst_kbps INTEGER,
    direction VARCHAR(7) NOT NULL, standard_attr_id INTEGER NOT NULL);
CREATE TABLE qos_dscp_marking_rules (id VARCHAR(36) PRIMARY KEY, qos_policy_id VARCHAR(36) NOT NULL
    REFERENCES qos_policies(id) ON DELETE CASCADE, dscp_mark INTEGER, standard_attr_id INTEGER NOT NULL);
CREATE TABLE qos_network_policy_bindings (policy_id VARCHAR(36) NOT NULL REFERENCES qos_policies(id),
    network_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES networks(id) ON DELETE CASCADE);
CREATE TABLE ports (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY, name VARCHAR(255),
    network_id VARCHAR(36) NOT NULL REFERENCES networks(id), mac_address VARCHAR(32) NOT NULL,
    admin_state_up BOOLEAN NOT NULL, status VARCHAR(16) NOT NULL, device_id VARCHAR(255) NOT NULL,
    device_owner VARCHAR(255) NOT NULL, standard_attr_id INTEGER NOT NULL);
CREATE TABLE ipallocations (port_id VARCHAR(36) REFERENCES ports(id) ON DELETE CASCADE,
    ip_address VARCHAR(64) NOT NULL, subnet_id VARCHAR(36) NOT NULL REFERENCES subnets(id),
    network_id VARCHAR(36) NOT NULL, PRIMARY KEY (ip_address, subnet_id, network_id));
CREATE TABLE ml2_port_bindings (port_id VARCHAR(36) NOT NULL REFERENCES ports(id) ON DELETE CASCADE,
    host VARCHAR(255) NOT NULL, vif_type VARCHAR(64) NOT NULL, vnic_type VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL, PRIMARY KEY (port_id, host));
CREATE TABLE securitygroupportbindings (port_id VARCHAR(36) NOT NULL REFERENCES ports(id) ON DELETE CASCADE,
    security_group_id VARCHAR(36) NOT NULL REFERENCES securitygroups(id), position INTEGER NOT NULL,
    PRIMARY KEY (port_id, security_group_id));
CREATE TABLE qos_port_policy_bindings (policy_id VARCHAR(36) NOT NULL REFERENCES qos_policies(id),
    port_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES ports(id) ON DELETE CASCADE);
CREATE TABLE routers (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY, name VARCHAR(255),
    status VARCHAR(16), admin_state_up BOOLEAN, gw_port_id VARCHAR(36) REFERENCES ports(id),
    enable_snat BOOLEAN NOT NULL, standard_attr_id INTEGER NOT NULL);
CREATE TABLE routerl3agentbindings (router_id VARCHAR(36) NOT NULL REFERENCES routers(id) ON DELETE CASCADE,
    l3_agent_host VARCHAR(255) NOT NULL, binding_index INTEGER NOT NULL, PRIMARY KEY (router_id, l3_agent_host));
CREATE TABLE routerports (router_id VARCHAR(36) NOT NULL REFERENCES routers(id) ON DELETE CASCADE,
    port_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES ports(id) ON DELETE CASCADE, port_type VARCHAR(255),
    position INTEGER NOT NULL);
CREATE TABLE floatingips (project_id VARCHAR(255), id VARCHAR(36) PRIMARY KEY,
    floating_ip_address VARCHAR(64) NOT NULL, floating_network_id VARCHAR(36) NOT NULL,
    floating_port_id VARCHAR(36) NOT NULL REFERENCES ports(id) ON DELETE CASCADE,
    fixed_port_id VARCHAR(36) REFERENCES ports(id), fixed_ip_address VARCHAR(64),
    router_id VARCHAR(36) REFERENCES routers(id), standard_attr_id INTEGER NOT NULL);
CREATE TABLE instances (id INTEGER PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, display_name VARCHAR(255),
    host VARCHAR(255), project_id VARCHAR(255), flavor VARCHAR(255), standard_attr_id INTEGER NOT NULL);
"""


class CloudStateError(CloudError):
    """A state file netplex cannot resume: not SQLite, another layout, or a cloud the scenario cannot hold."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def _write(ctl: Controller, db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)
    seq = iter(range(1, 1 << 62))

    def put(table: str, rows: Iterable[tuple[Any, ...]]) -> None:
        for row in rows:
            db.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)

    put("alembic_version", [(SCHEMA_REVISION,)])
    put("netplex_controller", [
        ("rng", json.dumps(ctl.rng.getstate())), ("request_rng", json.dumps(ctl.request_rng.getstate())),
        ("instances_made", str(ctl.instances_made))])
    put("project", [(p.id, p.name, p.description, p.enabled, "default", next(seq)) for p in ctl.projects.values()])
    for n in ctl.networks.values():
        put("networks", [(n.project_id, n.id, n.name, "ACTIVE", True, 1450 if n.network_type == "vxlan" else 1500,
                          next(seq))])
        put("networksegments", [(f"segment-{n.id}", n.id, n.network_type, n.physical_network, n.segmentation_id,
                                 False, 0)])
        if n.external:
            put("externalnetworks", [(n.id, False)])
        if n.qos_policy_id is not None:
            put("qos_network_policy_bindings", [(n.qos_policy_id, n.id)])
        if n.network_type == "vxlan":
            put("ml2_vxlan_allocations", [(n.segmentation_id, True)])
        elif n.network_type == "vlan":
            put("ml2_vlan_allocations", [(n.physical_network, n.segmentation_id, True)])
    for s in ctl.subnets.values():
        put("subnets", [(s.project_id, s.id, s.name, s.network_id, 4, str(s.cidr),
                         str(s.gateway_ip) if s.gateway_ip is not None else None, s.enable_dhcp, next(seq))])
        put("ipallocationpools", [(f"{s.id}-pool{i}", s.id, str(a), str(b)) for i, (a, b) in enumerate(s.pools)])
    for g in ctl.groups.values():
        put("securitygroups", [(g.project_id, g.id, g.name, g.description, next(seq))])
        put("securitygrouprules", [(g.project_id, r.id, g.id, r.remote_group_id, r.direction, r.ethertype, r.protocol,
                                    r.port_min, r.port_max, r.remote_ip_prefix, next(seq)) for r in g.rules])
    for q in ctl.qos_policies.values():
        put("qos_policies", [(q.id, q.name, q.project_id, q.description, next(seq))])
        for rule in q.rules:
            if isinstance(rule, BandwidthLimitRule):
                put("qos_bandwidth_limit_rules", [(rule.id, q.id, rule.max_kbps, rule.max_burst_kbps, rule.direction,
                                                   next(seq))])
            else:
                put("qos_dscp_marking_rules", [(rule.id, q.id, rule.dscp_mark, next(seq))])
    for p in ctl.ports.values():
        put("ports", [(p.project_id, p.id, "", p.network_id, p.mac, True, "ACTIVE", p.device_id, p.device_owner,
                       next(seq))])
        put("ipallocations", [(p.id, str(p.ip), p.subnet_id, p.network_id)])
        put("ml2_port_bindings", [(p.id, p.host, "bridge" if p.host else "unbound", "normal",
                                   "ACTIVE" if p.host else "INACTIVE")])
        put("securitygroupportbindings", [(p.id, g, i) for i, g in enumerate(p.security_groups)])
        if p.qos_policy_id is not None:
            put("qos_port_policy_bindings", [(p.qos_policy_id, p.id)])
    for r in ctl.routers.values():
        put("routers", [(r.project_id, r.id, r.name, "ACTIVE", True, r.gateway_port, r.enable_snat, next(seq))])
        put("routerl3agentbindings", [(r.id, r.host, 1)])
        put("routerports", [(r.id, pid, "network:router_interface", i) for i, pid in enumerate(r.interfaces)])
        if r.gateway_port is not None:
            put("routerports", [(r.id, r.gateway_port, "network:router_gateway", -1)])
    for f in ctl.floating_ips.values():
        fixed = str(ctl.ports[f.fixed_port_id].ip) if f.fixed_port_id is not None else None
        put("floatingips", [(f.project_id, f.id, str(f.address), f.network_id, f.port_id, f.fixed_port_id, fixed,
                             f.router_id, next(seq))])
    for sv in ctl.servers.values():
        put("instances", [(sv.db_id, sv.id, sv.name, sv.host, sv.project_id, sv.flavor, next(seq))])


def _rows(db: sqlite3.Connection, table: str, order: str = "standard_attr_id") -> list[sqlite3.Row]:
    return list(db.execute(f"SELECT * FROM {table} ORDER BY {order}"))


def _read(db: sqlite3.Connection, ctl: Controller) -> None:
    """Fill `ctl` (made with the scenario's hosts and settings) with the database's resources."""
    db.row_factory = sqlite3.Row
    meta = {r["key"]: r["value"] for r in _rows(db, "netplex_controller", "key")}
    ctl.rng.setstate(_state(meta["rng"]))
    ctl.request_rng.setstate(_state(meta["request_rng"]))
    ctl.instances_made = int(meta["instances_made"])
    ctl.projects = {r["id"]: Project(r["id"], r["name"], r["description"] or "", bool(r["enabled"]))
                    for r in _rows(db, "project")}
    segments = {r["network_id"]: r for r in _rows(db, "networksegments", "id")}
    external = {r["network_id"] for r in _rows(db, "externalnetworks", "network_id")}
    net_qos = {r["network_id"]: r["policy_id"] for r in _rows(db, "qos_network_policy_bindings", "network_id")}
    ctl.networks = {}
    for r in _rows(db, "networks"):
        seg = segments[r["id"]]
        ctl.networks[r["id"]] = Network(r["id"], r["name"], seg["network_type"], seg["segmentation_id"],
                                        seg["physical_network"], external=r["id"] in external,
                                        qos_policy_id=net_qos.get(r["id"]), project_id=r["project_id"])
    pools: dict[str, list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]] = {}
    for r in _rows(db, "ipallocationpools", "rowid"):
        pools.setdefault(r["subnet_id"], []).append((ipaddress.IPv4Address(r["first_ip"]),
                                                     ipaddress.IPv4Address(r["last_ip"])))
    ctl.subnets = {}
    for r in _rows(db, "subnets"):
        gw = ipaddress.IPv4Address(r["gateway_ip"]) if r["gateway_ip"] is not None else None
        ctl.subnets[r["id"]] = Subnet(r["id"], r["name"], r["network_id"], ipaddress.IPv4Network(r["cidr"]), gw,
                                      pools.get(r["id"], []), bool(r["enable_dhcp"]), project_id=r["project_id"])
        ctl.networks[r["network_id"]].subnets.append(r["id"])
    ctl.groups = {r["id"]: SecurityGroup(r["id"], r["name"], r["description"] or "", project_id=r["project_id"])
                  for r in _rows(db, "securitygroups")}
    for r in _rows(db, "securitygrouprules"):
        ctl.groups[r["security_group_id"]].rules.append(Rule(
            r["id"], r["security_group_id"], r["direction"], r["ethertype"], r["protocol"], r["port_range_min"],
            r["port_range_max"], r["remote_ip_prefix"], r["remote_group_id"]))
    ctl.qos_policies = {r["id"]: QosPolicy(r["id"], r["name"], r["description"] or "", project_id=r["project_id"])
                        for r in _rows(db, "qos_policies")}
    rules: list[tuple[int, str, BandwidthLimitRule | DscpMarkingRule]] = [
        (r["standard_attr_id"], r["qos_policy_id"], BandwidthLimitRule(r["id"], r["max_kbps"], r["max_burst_kbps"],
                                                                      r["direction"]))
        for r in _rows(db, "qos_bandwidth_limit_rules")]
    rules += [(r["standard_attr_id"], r["qos_policy_id"], DscpMarkingRule(r["id"], r["dscp_mark"]))
              for r in _rows(db, "qos_dscp_marking_rules")]
    for _, qid, rule in sorted(rules, key=lambda t: t[0]):
        ctl.qos_policies[qid].rules.append(rule)
    fixed = {r["port_id"]: r for r in _rows(db, "ipallocations", "rowid")}
    hosts = {r["port_id"]: r["host"] for r in _rows(db, "ml2_port_bindings", "rowid")}
    groups: dict[str, list[str]] = {}
    for r in _rows(db, "securitygroupportbindings", "port_id, position"):
        groups.setdefault(r["port_id"], []).append(r["security_group_id"])
    port_qos = {r["port_id"]: r["policy_id"] for r in _rows(db, "qos_port_policy_bindings", "port_id")}
    ctl.ports = {}
    for r in _rows(db, "ports"):
        ip = fixed[r["id"]]
        ctl.ports[r["id"]] = Port(r["id"], r["network_id"], ip["subnet_id"], r["mac_address"],
                                  ipaddress.IPv4Address(ip["ip_address"]), groups.get(r["id"], []), hosts.get(r["id"], ""),
                                  r["device_id"], r["device_owner"], port_qos.get(r["id"]), r["project_id"])
    agents = {r["router_id"]: r["l3_agent_host"] for r in _rows(db, "routerl3agentbindings", "rowid")}
    ctl.routers = {r["id"]: Router(r["id"], r["name"], agents[r["id"]], [], r["gw_port_id"], bool(r["enable_snat"]),
                                   r["project_id"]) for r in _rows(db, "routers")}
    for r in _rows(db, "routerports", "router_id, position"):
        if r["port_type"] == "network:router_interface":
            ctl.routers[r["router_id"]].interfaces.append(r["port_id"])
    ctl.floating_ips = {r["id"]: FloatingIP(r["id"], ipaddress.IPv4Address(r["floating_ip_address"]),
                                            r["floating_network_id"], r["floating_port_id"], r["fixed_port_id"],
                                            r["router_id"], r["project_id"]) for r in _rows(db, "floatingips")}
    ctl.servers = {}
    for r in _rows(db, "instances"):
        ports = [p.id for p in ctl.ports.values() if p.device_id == r["uuid"] and p.device_owner.startswith("compute:")]
        ctl.servers[r["uuid"]] = Server(r["uuid"], r["display_name"], r["host"], ports, r["project_id"], r["id"],
                                        r["flavor"])


def _state(text: str) -> tuple[Any, ...]:
    """A random.Random state from its JSON (lists back to the tuples getstate gives)."""
    version, internal, gauss = json.loads(text)
    return version, tuple(internal), gauss


def _check_hosts(ctl: Controller, where: str) -> None:
    """Every bound port, router and server on a host the scenario's `cloud: hosts` lists."""
    bound = [(f"port {p.id}", p.host) for p in ctl.ports.values() if p.host] + \
        [(f"router {r.id}", r.host) for r in ctl.routers.values()] + \
        [(f"server {s.name} ({s.id})", s.host) for s in ctl.servers.values()]
    for what, host in bound:
        if host not in ctl.hosts:
            raise CloudStateError(f"{where}: {what} is on host {host}, which the scenario's cloud: hosts do not list")


def _open_checked(db: sqlite3.Connection, where: str) -> None:
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            raise CloudStateError(f"{where}: not a netplex cloud state (no alembic_version table)")
        found = [r[0] for r in db.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.DatabaseError as e:
        raise CloudStateError(f"{where}: {e}") from None
    if found != [SCHEMA_REVISION]:
        raise CloudStateError(f"{where}: database revision {', '.join(found) or 'none'} is not {SCHEMA_REVISION}, "
                              "the one this netplex reads")


def _fill(db: sqlite3.Connection, ctl: Controller, where: str) -> Controller:
    _open_checked(db, where)
    try:
        _read(db, ctl)
    except (sqlite3.DatabaseError, KeyError, IndexError, TypeError, ValueError) as e:
        raise CloudStateError(f"{where}: inconsistent cloud state ({type(e).__name__}: {e})") from None
    _check_hosts(ctl, where)
    return ctl


def load(path: Path, ctl: Controller) -> Controller:
    """The controller `ctl` (new, with the scenario's hosts and settings) holding the state in `path`."""
    where = str(path)
    if not path.is_file():
        raise CloudStateError(f"{where}: No such file")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise CloudStateError(f"{where}: {e}") from None
    try:
        return _fill(db, ctl, where)
    finally:
        db.close()


def save(ctl: Controller, path: Path) -> None:
    """Write the controller to `path`, atomically (a new file renamed over the old one)."""
    tmp = path.with_name(f".{path.name}.netplex-tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        with db:
            _write(ctl, db)
    finally:
        db.close()
    os.replace(tmp, path)


def dump(ctl: Controller) -> str:
    """The controller's database as SQL text (what `from_dump` reads)."""
    db = sqlite3.connect(":memory:")
    try:
        with db:
            _write(ctl, db)
        return "\n".join(db.iterdump())
    finally:
        db.close()


def from_dump(text: str, ctl: Controller, where: str = "cloud state") -> Controller:
    """`ctl` holding the state of a `dump`."""
    db = sqlite3.connect(":memory:")
    try:
        try:
            db.executescript(text)
        except sqlite3.Error as e:
            raise CloudStateError(f"{where}: {e}") from None
        return _fill(db, ctl, where)
    finally:
        db.close()
