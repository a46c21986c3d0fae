"""A scenario's top-level `cloud:`: its `openstack` commands run against a controller in
order (the first refused one stops them, as `set -e` would), then the agents' lines for
every compute host, which the backend runs (netplex.scenario.runner SECTIONS seam).
"""
from __future__ import annotations

import os
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

from netplex.cloud.agent import host_lines
from netplex.cloud.controller import Controller
from netplex.cloud.node import CloudHostParams
from netplex.cloud.openstack import openstack
from netplex.cloud.ovs_agent import OVS_MECHANISM, ovs_host_lines, unsupported
from netplex.cloud.shellcmd import STATE_PATH, state_json
from netplex.cloud.state import CloudStateError, dump, from_dump, load, save
from netplex.scenario.model import ENDPOINTS, Endpoint, Scenario
from netplex.scenario.runner import SECTIONS, SectionLines

__all__ = ["build_controller", "compile_cloud", "controller_config", "local_ips", "new_controller", "resume_cloud", "save_cloud",
           "server_endpoints"]


def _inputs(scenario: Scenario) -> tuple[dict[str, dict[str, str]], list[str], list[str]]:
    """The hosts' physical_interface_mappings, the L3 agents' hosts, the DHCP agents' hosts."""
    assert scenario.cloud is not None
    params = {host: scenario.nodes[host].params for host in scenario.cloud.hosts}
    hosts = {h: p for h, p in params.items() if isinstance(p, CloudHostParams)}
    assert len(hosts) == len(params)
    return ({h: dict(p.physical_interface_mappings) for h, p in hosts.items()},
            [h for h, p in hosts.items() if "l3" in p.agents], [h for h, p in hosts.items() if "dhcp" in p.agents])


def build_controller(scenario: Scenario) -> tuple[Controller, dict[str, Any] | None]:
    """The controller after the scenario's `openstack` commands, and the first refused one (or None)."""
    ctl, failure, _ = _replay(scenario)
    return ctl, failure


def controller_config(scenario: Scenario) -> dict[str, Any]:
    """The Controller's arguments the scenario gives (hosts, agents, ml2's settings), as JSON-able values."""
    spec = scenario.cloud
    assert spec is not None
    mappings, l3, dhcp = _inputs(scenario)
    return {"hosts": spec.hosts, "seed": scenario.seed, "mappings": mappings, "l3_hosts": l3, "dhcp_hosts": dhcp,
            "vlan_ranges": spec.vlan_ranges(), "tenant_network_types": spec.tenant_network_types}


def new_controller(scenario: Scenario) -> Controller:
    """The controller the commands start from: empty, or the saved cloud `--cloud-state` resumes."""
    spec = scenario.cloud
    assert spec is not None
    ctl = Controller(**controller_config(scenario))
    if spec.resumed is not None:
        from_dump(spec.resumed, ctl)
    return ctl


def _replay(scenario: Scenario) -> tuple[Controller, dict[str, Any] | None, list[str]]:
    spec = scenario.cloud
    assert spec is not None
    ctl = new_controller(scenario)
    failure = None
    done = []
    for n, (file_line, command) in enumerate(spec.command_lines(), 1):
        status, _, err = openstack(ctl, command)
        if status != 0:
            failure = {"node": "cloud", "line": n, "file_line": file_line, "command": command,
                       "message": err.removesuffix("\n")}
            break
        done.append(command)
    return ctl, failure, done


def resume_cloud(scenario: Scenario, path: Path) -> None:
    """`netplex run FILE --cloud-state DB`: the scenario's cloud starts from DB when it exists (its
    commands apply on top); refused (CloudStateError, status 2) when DB is no state netplex reads,
    holds resources on hosts the scenario lacks, or cannot be written at the end."""
    spec = scenario.cloud
    if spec is None:
        raise CloudStateError(f"--cloud-state {path}: the scenario has no cloud: section")
    if not path.parent.is_dir():
        raise CloudStateError(f"--cloud-state {path}: {path.parent}: No such directory")
    if path.is_dir():
        raise CloudStateError(f"--cloud-state {path}: Is a directory")
    if not os.access(path.parent, os.W_OK | os.X_OK) or path.exists() and not os.access(path, os.W_OK):
        raise CloudStateError(f"--cloud-state {path}: Permission denied")
    if path.exists():
        spec.resume(dump(load(path, Controller(list(spec.hosts)))))


def save_cloud(scenario: Scenario, path: Path) -> None:
    """The cloud after the run's commands, into DB (atomically)."""
    ctl, failure = build_controller(scenario)
    assert failure is None
    save(ctl, path)


def _bridge_mappings(scenario: Scenario, host: str) -> dict[str, str]:
    params = scenario.nodes[host].params
    assert isinstance(params, CloudHostParams)
    return dict(params.bridge_mappings)


def local_ips(scenario: Scenario) -> dict[str, str]:
    """Each cloud host's VXLAN tunnel address (its `local_ip:`)."""
    assert scenario.cloud is not None
    out = {}
    for host in scenario.cloud.hosts:
        params = scenario.nodes[host].params
        assert isinstance(params, CloudHostParams)
        out[host] = str(params.local_ip)
    return out


def compile_cloud(scenario: Scenario) -> tuple[SectionLines, dict[str, Any] | None]:
    """The hosts' shell lines for the cloud the commands build, and the first failure (or None)."""
    spec = scenario.cloud
    assert spec is not None
    ctl, failure, done = _replay(scenario)
    tunnels = local_ips(scenario)
    # every host's agents first (bridges, tunnels, routers, DHCP servers), then the VMs boot (dhclient)
    if spec.mechanism == OVS_MECHANISM:
        refused = unsupported(ctl)
        if refused is not None and failure is None:
            failure = {"node": "cloud", "line": 0, "file_line": 0, "command": "mechanism: openvswitch",
                       "message": refused}
        compiled = {host: ovs_host_lines(ctl, host, tunnels, _bridge_mappings(scenario, host)) for host in spec.hosts}
    else:
        compiled = {host: host_lines(ctl, host, tunnels) for host in spec.hosts}
    # the state `openstack` typed on a host answers from (netplex.cloud.shellcmd)
    state = state_json(controller_config(scenario), spec.resumed, done)
    keep = f"mkdir -p {STATE_PATH.rsplit('/', 1)[0]} && printf '%s\\n' {shlex.quote(state)} > {STATE_PATH}"
    lines: SectionLines = [(host, keep, 0, "cloud state") for host in spec.hosts]
    lines += [(host, line, 0, "cloud agent") for host in spec.hosts for line in compiled[host][0]]
    lines += [(host, line, 0, "cloud VM boot") for host in spec.hosts for line in compiled[host][1]]
    return lines, failure


def server_endpoints(scenario: Scenario) -> dict[str, Endpoint]:
    """Each server a probe can name (`ping: {from: vm1, to: vm2}`): its namespace on its compute
    host, the fixed IP of its first port, the listeners `cloud: services:` gives it. A name two
    servers share names neither (the client refuses it too: "More than one server exists")."""
    assert scenario.cloud is not None
    ctl, _ = build_controller(scenario)
    names = Counter(s.name for s in ctl.servers.values())
    out = {}
    for server in ctl.servers.values():
        if names[server.name] == 1:
            address = str(ctl.ports[server.ports[0]].ip) if server.ports else None
            out[server.name] = Endpoint(server.host, server.name, address,
                                        tuple(scenario.cloud.services.get(server.name, ())))
    return out


SECTIONS["cloud"] = compile_cloud
ENDPOINTS["cloud"] = server_endpoints
