"""A scenario's top-level `cloud:`: its `openstack` commands run against a controller in
order (the first refused one stops them, as `set -e` would), then the agents' lines for
every compute host, which the backend runs (netplex.scenario.runner SECTIONS seam).
"""
from __future__ import annotations

from typing import Any

from netplex.cloud.agent import host_lines
from netplex.cloud.controller import Controller
from netplex.cloud.node import CloudHostParams
from netplex.cloud.openstack import openstack
from netplex.scenario.model import Scenario
from netplex.scenario.runner import SECTIONS, SectionLines

__all__ = ["build_controller", "compile_cloud", "local_ips"]


def build_controller(scenario: Scenario) -> tuple[Controller, dict[str, Any] | None]:
    """The controller after the scenario's `openstack` commands, and the first refused one (or None)."""
    spec = scenario.cloud
    assert spec is not None
    params = {host: scenario.nodes[host].params for host in spec.hosts}
    assert all(isinstance(p, CloudHostParams) for p in params.values())
    ctl = Controller(spec.hosts, scenario.seed,
                     {h: p.physical_interface_mappings for h, p in params.items() if isinstance(p, CloudHostParams)},
                     [h for h, p in params.items() if isinstance(p, CloudHostParams) and "l3" in p.agents],
                     [h for h, p in params.items() if isinstance(p, CloudHostParams) and "dhcp" in p.agents])
    failure = None
    for n, (file_line, command) in enumerate(spec.command_lines(), 1):
        status, _, err = openstack(ctl, command)
        if status != 0:
            failure = {"node": "cloud", "line": n, "file_line": file_line, "command": command,
                       "message": err.removesuffix("\n")}
            break
    return ctl, failure


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
    ctl, failure = build_controller(scenario)
    tunnels = local_ips(scenario)
    # every host's agents first (bridges, tunnels, routers, DHCP servers), then the VMs boot (dhclient)
    compiled = {host: host_lines(ctl, host, tunnels) for host in spec.hosts}
    lines: SectionLines = [(host, line, 0, "cloud agent") for host in spec.hosts for line in compiled[host][0]]
    lines += [(host, line, 0, "cloud VM boot") for host in spec.hosts for line in compiled[host][1]]
    return lines, failure


SECTIONS["cloud"] = compile_cloud
