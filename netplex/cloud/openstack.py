"""The `openstack` command as python-openstackclient prints it: one request to the
controller, answered with a cliff table (`-f table`, the default), `-f value` or `-f json`,
the client's error text and exit status (1 for an API refusal, 2 for a usage error).

Modelled: network, subnet, security group, security group rule, server, router, floating ip,
port and project (keystone), each with create/list/show/delete (port: list/show),
`router add|remove subnet`, `router set|unset --external-gateway`, `floating ip set|unset
--port`, `server add|remove floating ip`, and the options listed in OPTIONS; the global
`--os-project-name|--os-project-id P` makes the request a member of project P's (what it
sees and owns), else it is the admin's. Any other subcommand or option is refused in
netplex's words, never ignored.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from netplex.cloud.controller import (
    PROJECT_ID,
    BandwidthLimitRule,
    CloudError,
    Controller,
    DscpMarkingRule,
    FloatingIP,
    IdentityError,
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

__all__ = ["openstack"]

# (resource, action) -> {option: takes a value}; "-f"/"--format" and "-c" are everyone's.
_FMT = {"-f": True, "--format": True}
IPV6_ICMP_NAMES = ("ipv6-icmp", "icmpv6")      # the ICMPv6 protocol names a rule may carry (icmpv6: the legacy one)
OPTIONS: dict[tuple[str, str], dict[str, bool]] = {
    ("network", "create"): {"--provider-network-type": True, "--provider-segment": True,
                            "--provider-physical-network": True, "--external": False, "--internal": False,
                            "--qos-policy": True},
    ("subnet", "create"): {"--network": True, "--subnet-range": True, "--gateway": True,
                           "--allocation-pool": True, "--dhcp": False, "--no-dhcp": False},
    ("security group", "create"): {"--description": True},
    ("security group rule", "create"): {"--protocol": True, "--dst-port": True, "--remote-ip": True,
                                        "--remote-group": True, "--ingress": False, "--egress": False,
                                        "--ethertype": True},
    ("security group rule", "list"): {},
    ("server", "create"): {"--network": True, "--security-group": True, "--availability-zone": True,
                           "--image": True, "--flavor": True},
    ("router", "set"): {"--external-gateway": True, "--enable-snat": False, "--disable-snat": False},
    ("router", "unset"): {"--external-gateway": False},
    ("floating ip", "create"): {"--floating-ip-address": True, "--port": True, "--fixed-ip-address": True},
    ("floating ip", "set"): {"--port": True, "--fixed-ip-address": True},
    ("floating ip", "unset"): {"--port": False},
    ("port", "list"): {"--server": True, "--network": True, "--device-owner": True},
    ("network qos policy", "create"): {"--description": True},
    ("project", "create"): {"--description": True, "--domain": True},
    ("server", "list"): {"--all-projects": False},
    ("network qos rule", "create"): {"--type": True, "--max-kbps": True, "--max-burst-kbits": True, "--egress": False,
                                     "--ingress": False, "--dscp-mark": True},
    ("network qos rule", "list"): {},
    ("network", "set"): {"--qos-policy": True, "--no-qos-policy": False},
    ("port", "set"): {"--qos-policy": True, "--no-qos-policy": False},
}
RESOURCES = ("security group rule", "security group", "network qos policy", "network qos rule", "floating ip", "network",
             "subnet", "server", "router", "port", "project")
ACTIONS = ("create", "list", "show", "delete", "set", "unset", "add", "remove")
# which actions each resource has beyond create/list/show/delete (port: list and show only)
EXTRA = {"router": ("set", "unset", "add", "remove"), "floating ip": ("set", "unset"), "server": ("add", "remove"),
         "network": ("set",), "port": ("set",)}


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A cliff/prettytable table: left-aligned cells, one space of padding."""
    widths = [max([len(h)] + [max((len(x) for x in str(r[i]).split("\n")), default=0) for r in rows])
              for i, h in enumerate(headers)]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [sep, "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |", sep]
    for r in rows:
        cells = [str(c).split("\n") for c in r]
        for k in range(max(len(c) for c in cells)):
            out.append("| " + " | ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths)) + " |")
    if rows:
        out.append(sep)
    return "\n".join(out) + "\n"


def _show(fields: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(fields, indent=2) + "\n"
    if fmt == "value":
        return "".join(f"{_text(v)}\n" for v in fields.values())
    return table(["Field", "Value"], [[k, _text(v)] for k, v in fields.items()])


def _list(headers: list[str], rows: list[list[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(headers, r)) for r in rows], indent=2) + "\n"
    if fmt == "value":
        return "".join(" ".join(_text(v) for v in r) + "\n" for r in rows)
    return table(headers, [[_text(v) for v in r] for r in rows])


def _text(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


class _Refused(Exception):
    pass


def _parse(words: list[str], spec: dict[str, bool], what: str) -> tuple[dict[str, list[str]], list[str]]:
    opts: dict[str, list[str]] = {}
    pos: list[str] = []
    allowed = {**spec, **_FMT}
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("-") and len(w) > 1:
            name, eq, val = w.partition("=")
            if name not in allowed:
                raise _Refused(f"netplex: openstack {what} {name} is not supported")
            if allowed[name]:
                if not eq:
                    if i + 1 >= len(words):
                        raise CloudError(f"openstack {what}: error: argument {name}: expected one argument", 2)
                    i += 1
                    val = words[i]
                opts.setdefault("--format" if name == "-f" else name, []).append(val)
            else:
                opts.setdefault(name, []).append("")
        else:
            pos.append(w)
        i += 1
    return opts, pos


def _one(opts: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    v = opts.get(name)
    return v[-1] if v else default


def _net_fields(n: Network, ctl: Controller) -> dict[str, Any]:
    return {"admin_state_up": "UP", "id": n.id, "mtu": 1450 if n.network_type == "vxlan" else 1500, "name": n.name, "project_id": n.project_id,
            "provider:network_type": n.network_type, "provider:physical_network": n.physical_network,
            "provider:segmentation_id": n.segmentation_id, "qos_policy_id": n.qos_policy_id,
            "router:external": "External" if n.external else "Internal", "shared": False,
            "status": "ACTIVE", "subnets": list(n.subnets)}


def _sub_fields(s: Subnet, ctl: Controller) -> dict[str, Any]:
    return {"allocation_pools": [f"{a}-{b}" for a, b in s.pools], "cidr": str(s.cidr), "enable_dhcp": s.enable_dhcp,
            "gateway_ip": str(s.gateway_ip) if s.gateway_ip else None, "id": s.id, "ip_version": 4, "name": s.name,
            "network_id": s.network_id}


def _port_range(r: Rule) -> str:
    if r.port_min is None:
        return ""
    return f"{r.port_min}:{r.port_max}"


def _rule_fields(r: Rule, ctl: Controller) -> dict[str, Any]:
    return {"direction": r.direction, "ethertype": r.ethertype, "id": r.id,
            "port_range_max": r.port_max, "port_range_min": r.port_min, "protocol": r.protocol,
            "remote_group_id": r.remote_group_id, "remote_ip_prefix": r.remote_ip_prefix,
            "security_group_id": r.security_group_id}


def _sg_fields(g: SecurityGroup, ctl: Controller) -> dict[str, Any]:
    return {"description": g.description, "id": g.id, "name": g.name,
            "rules": [", ".join(f"{k}='{v}'" for k, v in _rule_fields(r, ctl).items() if v is not None and k != "security_group_id")
                      for r in g.rules]}


def _server_networks(s: Server, ctl: Controller) -> str:
    by_net: dict[str, list[str]] = {}
    for pid in s.ports:
        p = ctl.ports[pid]
        by_net.setdefault(ctl.networks[p.network_id].name, []).append(str(p.ip))
    return "; ".join(f"{n}={', '.join(ips)}" for n, ips in by_net.items())


def _server_fields(s: Server, ctl: Controller) -> dict[str, Any]:
    groups = dict.fromkeys(g for pid in s.ports for g in ctl.ports[pid].security_groups)
    return {"OS-EXT-SRV-ATTR:host": s.host, "addresses": _server_networks(s, ctl), "id": s.id, "name": s.name,
            "security_groups": [f"name='{ctl.groups[g].name}'" for g in groups], "status": "ACTIVE"}


def _fixed_ips(p: Port) -> str:
    return f"ip_address='{p.ip}', subnet_id='{p.subnet_id}'"


def _gateway_info(r: Router, ctl: Controller) -> dict[str, Any] | None:
    if r.gateway_port is None:
        return None
    gw = ctl.ports[r.gateway_port]
    return {"network_id": gw.network_id, "external_fixed_ips": [{"subnet_id": gw.subnet_id, "ip_address": str(gw.ip)}],
            "enable_snat": r.enable_snat}


def _router_fields(r: Router, ctl: Controller) -> dict[str, Any]:
    info = _gateway_info(r, ctl)
    return {"admin_state_up": "UP", "external_gateway_info": json.dumps(info) if info is not None else None,
            "id": r.id, "interfaces_info": json.dumps([{"port_id": pid, "ip_address": str(ctl.ports[pid].ip),
                                                        "subnet_id": ctl.ports[pid].subnet_id} for pid in r.interfaces]),
            "name": r.name, "project_id": r.project_id, "routes": "", "status": "ACTIVE"}


def _fip_fields(f: FloatingIP, ctl: Controller) -> dict[str, Any]:
    fixed = ctl.ports[f.fixed_port_id] if f.fixed_port_id is not None else None
    return {"fixed_ip_address": str(fixed.ip) if fixed is not None else None, "floating_ip_address": str(f.address),
            "floating_network_id": f.network_id, "id": f.id, "name": str(f.address), "port_id": f.fixed_port_id,
            "project_id": f.project_id, "router_id": f.router_id, "status": "ACTIVE" if fixed is not None else "DOWN"}


def _port_fields(p: Port, ctl: Controller) -> dict[str, Any]:
    return {"admin_state_up": "UP", "binding_host_id": p.host, "device_id": p.device_id, "device_owner": p.device_owner,
            "fixed_ips": _fixed_ips(p), "id": p.id, "mac_address": p.mac, "name": "", "network_id": p.network_id,
            "project_id": p.project_id, "security_group_ids": list(p.security_groups),
            "status": "ACTIVE" if p.host else "DOWN"}


def _project_fields(p: Project, ctl: Controller) -> dict[str, Any]:
    return {"description": p.description, "domain_id": "default", "enabled": p.enabled, "id": p.id, "is_domain": False,
            "name": p.name, "options": {}, "parent_id": "default", "tags": []}


def _qos_rule_fields(r: BandwidthLimitRule | DscpMarkingRule, ctl: Controller) -> dict[str, Any]:
    policy = next(q.id for q in ctl.qos_policies.values() if r in q.rules)
    if isinstance(r, DscpMarkingRule):
        return {"dscp_mark": r.dscp_mark, "id": r.id, "qos_policy_id": policy, "type": "dscp_marking"}
    return {"direction": r.direction, "id": r.id, "max_burst_kbps": r.max_burst_kbps, "max_kbps": r.max_kbps,
            "qos_policy_id": policy, "type": "bandwidth_limit"}


def _qos_fields(q: QosPolicy, ctl: Controller) -> dict[str, Any]:
    return {"description": q.description, "id": q.id, "is_default": False, "name": q.name, "project_id": q.project_id,
            "rules": [_qos_rule_fields(r, ctl) for r in q.rules], "shared": False}


def _dst_port(v: str) -> tuple[int, int]:
    lo, _, hi = v.partition(":")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise CloudError(f"openstack security group rule create: error: argument --dst-port: invalid range value: '{v}'", 2) from None
    if not (0 <= a <= b <= 65535):
        raise CloudError(f"Invalid input for operation: Invalid port range {a}:{b}.")
    return a, b


def _create(ctl: Controller, res: str, opts: dict[str, list[str]], pos: list[str]) -> dict[str, Any]:
    what = f"{res} create"
    if res == "security group rule":
        if len(pos) != 1:
            raise CloudError(f"openstack {what}: error: the following arguments are required: <group>", 2)
    elif len(pos) != 1:
        arg = {"floating ip": "<network>", "network qos rule": "<qos-policy>"}.get(res, "<name>")
        raise CloudError(f"openstack {what}: error: the following arguments are required: {arg}" if not pos
                         else f"openstack: error: unrecognized arguments: {' '.join(pos[1:])}", 2)
    name = pos[0]
    if res == "network":
        ntype = _one(opts, "--provider-network-type")
        if ntype not in (None, "vxlan", "vlan", "flat"):
            raise _Refused(f"netplex: openstack network create --provider-network-type {ntype} is not supported (vxlan, vlan, flat)")
        seg = _one(opts, "--provider-segment")
        if seg is not None and not seg.isdigit():
            raise CloudError(f"Invalid input for operation: segmentation_id {seg} is not an integer.")
        if "--external" in opts and "--internal" in opts:
            raise CloudError("openstack network create: error: argument --internal: not allowed with argument --external", 2)
        policy = _one(opts, "--qos-policy")
        qos = ctl.qos_policy(policy).id if policy is not None else None
        net = ctl.create_network(name, ntype, int(seg) if seg is not None else None,
                                 _one(opts, "--provider-physical-network"), "--external" in opts)
        net.qos_policy_id = qos
        return _net_fields(net, ctl)
    if res == "subnet":
        net, rng = _one(opts, "--network"), _one(opts, "--subnet-range")
        if net is None:
            raise CloudError("openstack subnet create: error: the following arguments are required: --network", 2)
        if rng is None:
            raise CloudError("netplex: openstack subnet create without --subnet-range (subnet pools) is not supported", 2)
        gw = _one(opts, "--gateway", "auto")
        pools = []
        for p in opts.get("--allocation-pool", []):
            kv = dict(x.partition("=")[::2] for x in p.split(","))
            if set(kv) != {"start", "end"}:
                raise CloudError(f"openstack subnet create: error: argument --allocation-pool: "
                                 f"Invalid keys {', '.join(sorted(set(kv) - {'start', 'end'})) or ''} specified.\n"
                                 "Valid keys are: end, start", 2)
            pools.append((kv["start"], kv["end"]))
        return _sub_fields(ctl.create_subnet(name, net, rng, None if gw == "none" else gw, pools,
                                             "--no-dhcp" not in opts), ctl)
    if res == "security group":
        return _sg_fields(ctl.create_security_group(name, _one(opts, "--description", "") or ""), ctl)
    if res == "router":
        return _router_fields(ctl.create_router(name), ctl)
    if res == "project":
        domain = _one(opts, "--domain", "default")
        if domain != "default":
            raise _Refused(f"netplex: openstack project create --domain {domain} is not supported (default)")
        return _project_fields(ctl.create_project(name, _one(opts, "--description", "") or ""), ctl)
    if res == "network qos policy":
        return _qos_fields(ctl.create_qos_policy(name, _one(opts, "--description", "") or ""), ctl)
    if res == "network qos rule":   # the positional is the policy
        kind = _one(opts, "--type")
        if kind is None:
            raise CloudError("openstack network qos rule create: error: the following arguments are required: --type", 2)
        if kind == "dscp-marking":
            for opt in ("--max-kbps", "--max-burst-kbits", "--egress", "--ingress"):
                if opt in opts:
                    raise _Refused(f"netplex: openstack network qos rule create --type dscp-marking {opt} is not supported")
            mark = _one(opts, "--dscp-mark")
            if mark is None:
                raise CloudError('"Create" rule command for type "dscp-marking" requires arguments: dscp_mark')
            if not mark.isdigit():
                raise CloudError(f"openstack network qos rule create: error: argument --dscp-mark: invalid int value: "
                                 f"'{mark}'", 2)
            return _qos_rule_fields(ctl.create_dscp_marking_rule(name, int(mark)), ctl)
        if kind != "bandwidth-limit":
            raise _Refused(f"netplex: openstack network qos rule create --type {kind} is not supported "
                           "(bandwidth-limit, dscp-marking)")
        if "--dscp-mark" in opts:
            raise _Refused("netplex: openstack network qos rule create --type bandwidth-limit --dscp-mark is not supported")
        if "--egress" in opts and "--ingress" in opts:
            raise CloudError("openstack network qos rule create: error: argument --ingress: not allowed with argument "
                             "--egress", 2)
        kbps, burst = _one(opts, "--max-kbps"), _one(opts, "--max-burst-kbits", "0") or "0"
        if kbps is None:
            raise CloudError('"Create" rule command for type "bandwidth-limit" requires arguments: max_kbps')
        for opt, v in (("--max-kbps", kbps), ("--max-burst-kbits", burst)):
            if not v.isdigit():
                raise CloudError(f"openstack network qos rule create: error: argument {opt}: invalid int value: '{v}'", 2)
        r = ctl.create_bandwidth_limit_rule(name, int(kbps), int(burst), "ingress" if "--ingress" in opts else "egress")
        return _qos_rule_fields(r, ctl)
    if res == "floating ip":   # the positional is the external network
        return _fip_fields(ctl.create_floating_ip(name, _one(opts, "--floating-ip-address"), _one(opts, "--port"),
                                                  _one(opts, "--fixed-ip-address")), ctl)
    if res == "security group rule":
        if "--ingress" in opts and "--egress" in opts:
            raise CloudError("openstack security group rule create: error: argument --egress: not allowed with argument --ingress", 2)
        proto = _one(opts, "--protocol")
        proto = None if proto in (None, "any") else proto
        if proto not in (None, "tcp", "udp", "icmp", *IPV6_ICMP_NAMES):
            raise _Refused(f"netplex: openstack security group rule create --protocol {proto} is not supported "
                           "(tcp, udp, icmp, ipv6-icmp, any)")
        eth = _one(opts, "--ethertype")
        eth = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(eth.lower(), eth) if eth is not None else None   # _convert_ipvx_case
        if eth is not None and eth not in ("IPv4", "IPv6"):
            raise CloudError("openstack security group rule create: error: argument --ethertype: invalid choice: "
                             f"'{eth}' (choose from 'IPv4', 'IPv6')", 2)
        # the client's _get_ethertype: an IPv6 protocol means IPv6 unless told
        eth = eth or ("IPv6" if proto in IPV6_ICMP_NAMES else "IPv4")
        dport = _one(opts, "--dst-port")
        if dport is not None and proto not in ("tcp", "udp"):
            raise _Refused("netplex: openstack security group rule create --dst-port without --protocol tcp|udp is not supported")
        if "--remote-ip" in opts and "--remote-group" in opts:
            raise CloudError("openstack security group rule create: error: argument --remote-group: not allowed with argument --remote-ip", 2)
        rule = ctl.create_rule(name, "egress" if "--egress" in opts else "ingress", eth, proto,
                               _dst_port(dport) if dport is not None else None,
                               _one(opts, "--remote-ip"), _one(opts, "--remote-group"))
        return _rule_fields(rule, ctl)
    nets = opts.get("--network", [])
    if not nets:
        raise _Refused("netplex: openstack server create without --network is not supported")
    return _server_fields(ctl.create_server(name, nets, opts.get("--security-group", []), _one(opts, "--availability-zone"),
                                            _one(opts, "--flavor")), ctl)


def _list_rows(ctl: Controller, res: str, pos: list[str], opts: dict[str, list[str]]) -> tuple[list[str], list[list[Any]]]:
    """The rows of what the request's project sees (the admin: every project's)."""
    ports = [p for p in ctl.ports.values() if ctl.visible(p)]
    if (server := _one(opts, "--server")) is not None:
        ports = [p for p in ports if p.device_id == ctl.server(server).id]
    if (net := _one(opts, "--network")) is not None:
        ports = [p for p in ports if p.network_id == ctl.network(net).id]
    if (owner := _one(opts, "--device-owner")) is not None:
        ports = [p for p in ports if p.device_owner == owner]
    if res == "network":
        return ["ID", "Name", "Subnets"], [[n.id, n.name, list(n.subnets)] for n in ctl.networks.values()
                                           if ctl.visible(n)]
    if res == "subnet":
        return ["ID", "Name", "Network", "Subnet"], [[s.id, s.name, s.network_id, str(s.cidr)] for s in ctl.subnets.values()
                                                     if ctl.visible(s)]
    if res == "security group":
        ctl.default_group()
        return ["ID", "Name", "Description", "Project"], [[g.id, g.name, g.description, g.project_id]
                                                          for g in ctl.groups.values() if ctl.visible(g)]
    if res == "project":
        return ["ID", "Name"], [[p.id, p.name] for p in ctl.list_projects()]
    if res == "security group rule":
        groups = [ctl.group(pos[0])] if pos else [g for g in ctl.groups.values() if ctl.visible(g)]
        return (["ID", "IP Protocol", "Ethertype", "IP Range", "Port Range", "Direction", "Remote Security Group"],
                [[r.id, r.protocol, r.ethertype, r.remote_ip_prefix, _port_range(r), r.direction, r.remote_group_id]
                 for g in groups for r in g.rules])
    if res == "router":
        return (["ID", "Name", "Status", "State", "Project"],
                [[r.id, r.name, "ACTIVE", "UP", r.project_id] for r in ctl.routers.values() if ctl.visible(r)])
    if res == "floating ip":
        return (["ID", "Floating IP Address", "Fixed IP Address", "Port", "Floating Network", "Project"],
                [[f.id, str(f.address), _fip_fields(f, ctl)["fixed_ip_address"], f.fixed_port_id, f.network_id, f.project_id]
                 for f in ctl.floating_ips.values() if ctl.visible(f)])
    if res == "network qos policy":
        return (["ID", "Name", "Shared", "Default", "Project"],
                [[q.id, q.name, False, False, q.project_id] for q in ctl.qos_policies.values() if ctl.visible(q)])
    if res == "network qos rule":
        if not pos:
            raise CloudError("openstack network qos rule list: error: the following arguments are required: <qos-policy>", 2)
        q = ctl.qos_policy(pos[0])
        return (["ID", "QoS Policy ID", "Type", "Max Kbps", "Max Burst Kbits", "Min Kbps", "DSCP mark", "Direction"],
                [[r.id, q.id, "dscp_marking", "", "", "", r.dscp_mark, ""] if isinstance(r, DscpMarkingRule)
                 else [r.id, q.id, "bandwidth_limit", r.max_kbps, r.max_burst_kbps, "", "", r.direction] for r in q.rules])
    if res == "port":
        return (["ID", "Name", "MAC Address", "Fixed IP Addresses", "Status"],
                [[p.id, "", p.mac, _fixed_ips(p), "ACTIVE" if p.host else "DOWN"] for p in ports])
    if "--all-projects" in opts and not ctl.admin:   # nova's policy
        raise ctl.http_error("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.", 403)
    return (["ID", "Name", "Status", "Networks", "Image", "Flavor"],
            [[s.id, s.name, "ACTIVE", _server_networks(s, ctl), "", ""] for s in ctl.servers.values()
             if s.project_id == ctl.project or "--all-projects" in opts])


def _lookup(ctl: Controller, res: str) -> Callable[[str], Any]:
    return {"network": ctl.network, "subnet": ctl.subnet, "security group": ctl.group,
            "security group rule": ctl.rule, "server": ctl.server, "router": ctl.router,
            "floating ip": ctl.floating_ip, "port": ctl.port, "network qos policy": ctl.qos_policy,
            "network qos rule": ctl.qos_rule, "project": ctl.find_project}[res]


_FIELDS: dict[str, Callable[[Any, Controller], dict[str, Any]]] = {
    "network": _net_fields, "subnet": _sub_fields, "security group": _sg_fields,
    "security group rule": _rule_fields, "server": _server_fields, "router": _router_fields,
    "floating ip": _fip_fields, "port": _port_fields, "network qos policy": _qos_fields,
    "network qos rule": _qos_rule_fields, "project": _project_fields}


def _deleter(ctl: Controller, res: str) -> Callable[[str], None]:
    return {"network": ctl.delete_network, "subnet": ctl.delete_subnet, "security group": ctl.delete_security_group,
            "security group rule": ctl.delete_rule, "server": ctl.delete_server, "router": ctl.delete_router,
            "floating ip": ctl.delete_floating_ip, "network qos policy": ctl.delete_qos_policy,
            "network qos rule": ctl.delete_qos_rule, "project": ctl.delete_project}[res]


def _change(ctl: Controller, res: str, action: str, opts: dict[str, list[str]], pos: list[str]) -> tuple[int, str, str]:
    """The verbs that print nothing on success: set/unset and add/remove."""
    what = f"{res} {action}"
    need = {"router add subnet": ["<router>", "<subnet>"], "router remove subnet": ["<router>", "<subnet>"],
            "server add floating ip": ["<server>", "<ip-address>"], "server remove floating ip": ["<server>", "<ip-address>"]
            }.get(what, [f"<{res.split()[-1]}>" if res != "floating ip" else "<floating-ip>"])
    if len(pos) < len(need):
        return 2, "", f"openstack {what}: error: the following arguments are required: {', '.join(need[len(pos):])}\n"
    if len(pos) > len(need):
        return 2, "", f"openstack: error: unrecognized arguments: {' '.join(pos[len(need):])}\n"
    if what == "router add subnet":
        ctl.add_router_subnet(pos[0], pos[1])
    elif what == "router remove subnet":
        ctl.remove_router_subnet(pos[0], pos[1])
    elif what in ("network set", "port set"):
        if "--qos-policy" in opts and "--no-qos-policy" in opts:
            return 2, "", f"openstack {what}: error: argument --no-qos-policy: not allowed with argument --qos-policy\n"
        if "--qos-policy" in opts or "--no-qos-policy" in opts:
            ctl.set_qos_policy(res, pos[0], _one(opts, "--qos-policy"))
        else:
            (ctl.network if res == "network" else ctl.port)(pos[0])
    elif what == "router set":
        if "--enable-snat" in opts and "--disable-snat" in opts:
            return 2, "", "openstack router set: error: argument --disable-snat: not allowed with argument --enable-snat\n"
        snat = False if "--disable-snat" in opts else True if "--enable-snat" in opts else None
        gw = _one(opts, "--external-gateway")
        if gw is None:
            if snat is not None:
                raise CloudError("You must specify '--external-gateway' in order to update the SNAT or fixed-ip values")
            ctl.router(pos[0])
        else:
            ctl.set_router_gateway(pos[0], gw, snat)
    elif what == "router unset":
        r = ctl.router(pos[0])
        if "--external-gateway" in opts:
            ctl.unset_router_gateway(r.id)
    elif what == "floating ip set":
        port = _one(opts, "--port")
        if port is None:
            ctl.floating_ip(pos[0])
        else:
            ctl.associate_floating_ip(pos[0], port, _one(opts, "--fixed-ip-address"))
    elif what == "floating ip unset":
        f = ctl.floating_ip(pos[0])
        if "--port" in opts:
            ctl.disassociate_floating_ip(f.id)
    else:   # server add/remove floating ip: the server's first port
        server, fip = ctl.server(pos[0]), ctl.floating_ip(pos[1])
        if action == "add floating ip":
            ctl.associate_floating_ip(fip.id, server.ports[0])
        else:
            if fip.fixed_port_id not in server.ports:
                raise CloudError(f"Floating IP {fip.address} is not associated with server {server.id}")
            ctl.disassociate_floating_ip(fip.id)
    return 0, "", ""


def openstack(ctl: Controller, line: str, read_only: bool = False) -> tuple[int, str, str]:
    """Run one `openstack ...` line against the controller: (status, output, error). With
    `read_only` (a node's shell) only list and show are served; any other action is refused."""
    try:
        words = shlex.split(line)
    except ValueError as e:
        return 2, "", f"netplex: openstack: {e}\n"
    if not words or words[0] != "openstack":
        return 2, "", "netplex: the cloud's commands are openstack commands\n"
    project = None
    while len(words) > 1 and words[1].startswith("--os-"):   # global options: the request's project
        name, eq, val = words[1].partition("=")
        if name not in ("--os-project-name", "--os-project-id"):
            return 2, "", f"netplex: openstack {name} is not supported\n"
        if not eq:
            if len(words) < 3:
                return 2, "", f"openstack: error: argument {name}: expected one argument\n"
            val = words.pop(2)
        project = val
        del words[1]
    before = ctl.project
    try:
        if project is not None:
            try:
                ctl.scope(project)
            except IdentityError as e:
                return 1, "", f"{e.message}\n"
        return _request(ctl, words, read_only)
    finally:
        ctl.project = before


def _request(ctl: Controller, words: list[str], read_only: bool) -> tuple[int, str, str]:
    rest = " ".join(words[1:3])
    res = next((r for r in RESOURCES if (" ".join(words[1:1 + len(r.split())])) == r), None)
    if res is None:
        return 2, "", f"netplex: openstack {rest or ''} is not supported".rstrip() + "\n"
    n = len(res.split())
    action = words[1 + n] if len(words) > 1 + n else ""
    if action not in ACTIONS or (action in ("set", "unset", "add", "remove") and action not in EXTRA.get(res, ())) \
            or (res == "port" and action not in ("list", "show", "set")):
        return 2, "", f"netplex: openstack {res} {action} is not supported".rstrip() + "\n"
    args = words[2 + n:]
    if action in ("add", "remove"):   # router add subnet, server add floating ip
        obj = {"router": ["subnet"], "server": ["floating", "ip"]}[res]
        if args[:len(obj)] != obj:
            return 2, "", f"netplex: openstack {res} {action} {' '.join(args[:len(obj)])} is not supported\n"
        args = args[len(obj):]
        action = f"{action} {' '.join(obj)}"
    what = f"{res} {action}"
    if read_only and action not in ("list", "show"):
        return 2, "", (f"netplex: openstack {what} in a node's shell is not supported (the cloud changes only "
                       "through the scenario's cloud: commands)\n")
    try:
        opts, pos = _parse(args, OPTIONS.get((res, action), {}), what)
        if action in ("set", "unset") or " " in action:
            return _change(ctl, res, action, opts, pos)
        fmt = _one(opts, "--format", "table")
        if fmt not in ("table", "value", "json"):
            if fmt in ("csv", "yaml", "shell"):
                raise _Refused(f"netplex: openstack -f {fmt} is not supported")
            raise CloudError(f"openstack {what}: error: argument -f/--format: invalid choice: '{fmt}' "
                             "(choose from 'json', 'shell', 'table', 'value', 'yaml')", 2)
        assert fmt is not None
        if action == "create":
            return 0, _show(_create(ctl, res, opts, pos), fmt), ""
        if action == "list":
            if pos and res not in ("security group rule", "network qos rule"):
                return 2, "", f"openstack: error: unrecognized arguments: {' '.join(pos)}\n"
            return 0, _list(*_list_rows(ctl, res, pos, opts), fmt), ""
        if not pos:
            return 2, "", f"openstack {what}: error: the following arguments are required: <{res.split()[-1]}>\n"
        if action == "show":
            return 0, _show(_FIELDS[res](_lookup(ctl, res)(pos[0]), ctl), fmt), ""
        if res == "project" and any(k in (PROJECT_ID, "admin") for k in pos):
            raise _Refused("netplex: openstack project delete of the admin project is not supported")
        failed = 0
        errors = []
        for key in pos:   # delete takes several; the client reports each failure and a count
            try:
                _deleter(ctl, res)(key)
            except CloudError as e:
                failed += 1
                if res == "network qos policy":
                    errors.append(f"Failed to delete QoS policy name or ID '{key}': {e.message}")
                else:
                    errors.append(f"Failed to delete {res.split()[-1] if res != 'security group rule' else 'SG rule'} "
                                  f"with name or ID '{key}': {e.message}")
        if failed:
            plural = {"network qos policy": "QoS policies", "network qos rule": "QoS rules"}.get(res, f"{res}s")
            errors.append(f"{failed} of {len(pos)} {plural} failed to delete.")
            return 1, "", "\n".join(errors) + "\n"
        return 0, "", ""
    except _Refused as e:
        return 2, "", f"{e}\n"
    except IdentityError as e:
        return 1, "", f"{e.message}\n"
    except CloudError as e:
        if e.status == 2:
            return 2, "", f"{e.message}\n"
        return 1, "", f"Error while executing command: {e.message}\n"
