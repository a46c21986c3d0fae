"""The `openstack` command as python-openstackclient prints it: one request to the
controller, answered with a cliff table (`-f table`, the default), `-f value` or `-f json`,
the client's error text and exit status (1 for an API refusal, 2 for a usage error).

Modelled: network, subnet, security group, security group rule and server, each with
create/list/show/delete, and the options listed in OPTIONS. Any other subcommand or option
is refused in netplex's words, never ignored.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from netplex.cloud.controller import CloudError, Controller, Network, Rule, SecurityGroup, Server, Subnet

__all__ = ["openstack"]

# (resource, action) -> {option: takes a value}; "-f"/"--format" and "-c" are everyone's.
_FMT = {"-f": True, "--format": True}
OPTIONS: dict[tuple[str, str], dict[str, bool]] = {
    ("network", "create"): {"--provider-network-type": True, "--provider-segment": True,
                            "--provider-physical-network": True},
    ("subnet", "create"): {"--network": True, "--subnet-range": True, "--gateway": True,
                           "--allocation-pool": True, "--dhcp": False, "--no-dhcp": False},
    ("security group", "create"): {"--description": True},
    ("security group rule", "create"): {"--protocol": True, "--dst-port": True, "--remote-ip": True,
                                        "--remote-group": True, "--ingress": False, "--egress": False,
                                        "--ethertype": True},
    ("security group rule", "list"): {},
    ("server", "create"): {"--network": True, "--security-group": True, "--availability-zone": True,
                           "--image": True, "--flavor": True},
}
RESOURCES = ("security group rule", "security group", "network", "subnet", "server")
ACTIONS = ("create", "list", "show", "delete")


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
    return {"admin_state_up": "UP", "id": n.id, "mtu": 1450 if n.network_type == "vxlan" else 1500, "name": n.name, "project_id": "0c4e939acacf4376bdcd1129f1a054ad",
            "provider:network_type": n.network_type, "provider:physical_network": n.physical_network,
            "provider:segmentation_id": n.segmentation_id, "router:external": "Internal", "shared": False,
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
        raise CloudError(f"openstack {what}: error: the following arguments are required: <name>" if not pos
                         else f"openstack: error: unrecognized arguments: {' '.join(pos[1:])}", 2)
    name = pos[0]
    if res == "network":
        ntype = _one(opts, "--provider-network-type", "vxlan")
        if ntype not in ("vxlan", "vlan", "flat"):
            raise _Refused(f"netplex: openstack network create --provider-network-type {ntype} is not supported (vxlan, vlan, flat)")
        seg = _one(opts, "--provider-segment")
        if seg is not None and not seg.isdigit():
            raise CloudError(f"Invalid input for operation: segmentation_id {seg} is not an integer.")
        return _net_fields(ctl.create_network(name, ntype or "vxlan", int(seg) if seg is not None else None,
                                              _one(opts, "--provider-physical-network")), ctl)
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
    if res == "security group rule":
        if "--ingress" in opts and "--egress" in opts:
            raise CloudError("openstack security group rule create: error: argument --egress: not allowed with argument --ingress", 2)
        proto = _one(opts, "--protocol")
        proto = None if proto in (None, "any") else proto
        if proto not in (None, "tcp", "udp", "icmp"):
            raise _Refused(f"netplex: openstack security group rule create --protocol {proto} is not supported (tcp, udp, icmp, any)")
        eth = _one(opts, "--ethertype", "IPv4")
        if eth != "IPv4":
            raise _Refused(f"netplex: openstack security group rule create --ethertype {eth} is not supported")
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
    return _server_fields(ctl.create_server(name, nets, opts.get("--security-group", []), _one(opts, "--availability-zone")), ctl)


def _list_rows(ctl: Controller, res: str, pos: list[str]) -> tuple[list[str], list[list[Any]]]:
    if res == "network":
        return ["ID", "Name", "Subnets"], [[n.id, n.name, list(n.subnets)] for n in ctl.networks.values()]
    if res == "subnet":
        return ["ID", "Name", "Network", "Subnet"], [[s.id, s.name, s.network_id, str(s.cidr)] for s in ctl.subnets.values()]
    if res == "security group":
        return ["ID", "Name", "Description", "Project"], [[g.id, g.name, g.description, "0c4e939acacf4376bdcd1129f1a054ad"]
                                                          for g in ctl.groups.values()]
    if res == "security group rule":
        groups = [ctl.group(pos[0])] if pos else list(ctl.groups.values())
        return (["ID", "IP Protocol", "Ethertype", "IP Range", "Port Range", "Direction", "Remote Security Group"],
                [[r.id, r.protocol, r.ethertype, r.remote_ip_prefix, _port_range(r), r.direction, r.remote_group_id]
                 for g in groups for r in g.rules])
    return (["ID", "Name", "Status", "Networks", "Image", "Flavor"],
            [[s.id, s.name, "ACTIVE", _server_networks(s, ctl), "", ""] for s in ctl.servers.values()])


def _lookup(ctl: Controller, res: str) -> Callable[[str], Any]:
    return {"network": ctl.network, "subnet": ctl.subnet, "security group": ctl.group,
            "security group rule": ctl.rule, "server": ctl.server}[res]


_FIELDS: dict[str, Callable[[Any, Controller], dict[str, Any]]] = {
    "network": _net_fields, "subnet": _sub_fields, "security group": _sg_fields,
    "security group rule": _rule_fields, "server": _server_fields}


def _deleter(ctl: Controller, res: str) -> Callable[[str], None]:
    return {"network": ctl.delete_network, "subnet": ctl.delete_subnet, "security group": ctl.delete_security_group,
            "security group rule": ctl.delete_rule, "server": ctl.delete_server}[res]


def openstack(ctl: Controller, line: str) -> tuple[int, str, str]:
    """Run one `openstack ...` line against the controller: (status, output, error)."""
    try:
        words = shlex.split(line)
    except ValueError as e:
        return 2, "", f"netplex: openstack: {e}\n"
    if not words or words[0] != "openstack":
        return 2, "", "netplex: the cloud's commands are openstack commands\n"
    rest = " ".join(words[1:3])
    res = next((r for r in RESOURCES if (" ".join(words[1:1 + len(r.split())])) == r), None)
    if res is None:
        return 2, "", f"netplex: openstack {rest or ''} is not supported".rstrip() + "\n"
    n = len(res.split())
    action = words[1 + n] if len(words) > 1 + n else ""
    if action not in ACTIONS:
        return 2, "", f"netplex: openstack {res} {action} is not supported".rstrip() + "\n"
    what = f"{res} {action}"
    try:
        opts, pos = _parse(words[2 + n:], OPTIONS.get((res, action), {}), what)
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
            if pos and res != "security group rule":
                return 2, "", f"openstack: error: unrecognized arguments: {' '.join(pos)}\n"
            return 0, _list(*_list_rows(ctl, res, pos), fmt), ""
        if not pos:
            return 2, "", f"openstack {what}: error: the following arguments are required: <{res.split()[-1]}>\n"
        if action == "show":
            return 0, _show(_FIELDS[res](_lookup(ctl, res)(pos[0]), ctl), fmt), ""
        failed = 0
        errors = []
        for key in pos:   # delete takes several; the client reports each failure and a count
            try:
                _deleter(ctl, res)(key)
            except CloudError as e:
                failed += 1
                errors.append(f"Failed to delete {res.split()[-1] if res != 'security group rule' else 'SG rule'} "
                              f"with name or ID '{key}': {e.message}")
        if failed:
            errors.append(f"{failed} of {len(pos)} {res}s failed to delete.")
            return 1, "", "\n".join(errors) + "\n"
        return 0, "", ""
    except _Refused as e:
        return 2, "", f"{e}\n"
    except CloudError as e:
        if e.status == 2:
            return 2, "", f"{e.message}\n"
        return 1, "", f"Error while executing command: {e.message}\n"
