"""The shell a simulated node runs: every command module registered, files and sleep wired.

Importing this module registers all commands (text tools, ip, nsenter, bridge, brctl,
sysctl, ping) in the one table of `netplex.shell.registry`.
"""
from __future__ import annotations

from typing import Any

from netplex.frr import service as frr_service
from netplex.frr import vtysh as frr_vtysh
from netplex.ovs import appctl as ovs_appctl
from netplex.ovs import controller as ovs_controller
from netplex.ovs import ofctl as ovs_ofctl
from netplex.ovs import osken as ovs_osken
from netplex.ovs import testcontroller as ovs_testcontroller
from netplex.ovs import vsctl as ovs_vsctl

# Each module registers its commands in `netplex.shell.registry` when imported;
# this list is the table of command families a node's shell has.
from netplex.shell import (
    arp,
    arping,
    brctl,
    bridge,
    conntrack,
    coreutils,
    curl,
    dhcp,
    docker_proxy,
    ebtables,
    getent,
    ifconfig,
    ip,
    ipset,
    iptables,
    labeld,
    mlagd,
    modprobe,
    nc,
    netstat,
    nfacct,
    nsenter,
    nstat,
    ping,
    pki,
    procps,
    route,
    smcroute,
    ss,
    swanctl,
    sysctl,
    sysfs,
    tc,
    tcpdump,
    vconfig,
)
from netplex.shell.interp import Shell

COMMAND_MODULES = (coreutils, ip, bridge, brctl, sysctl, ping, iptables, conntrack, docker_proxy, tc, vconfig, smcroute,
                   procps, ipset, nfacct, arp, arping, route, netstat, nstat, ss, nsenter,
                   tcpdump, nc, curl, ovs_vsctl, ovs_ofctl, ovs_appctl,
                   ovs_testcontroller, ovs_osken, ovs_controller, swanctl, pki, modprobe, frr_service, frr_vtysh, dhcp,
                   ifconfig, ebtables, mlagd, getent, labeld)


def read_file(ns: Any, path: str) -> str | None:
    return sysfs.read_file(ns, path)


def make_shell(node: Any) -> Shell:
    """A shell bound to `node` (a netplex Node): its namespace, files and clock."""
    ns = node.ns
    return Shell(node=ns, read_file=lambda p: read_file(ns, p), sleep=node.net.run_for,
                 list_dir=lambda p: sysfs.list_dir(ns, p),
                 machine=node.machine)
